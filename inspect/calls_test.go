package inspect

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	"github.com/aws/smithy-go/middleware"
)

// recorder is SDK middleware that records every operation a client calls, as IAM names it
// ("ec2:DescribeSubnets").
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) apply(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("vpcprobe-record", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := strings.ToLower(strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", "")) + ":" + awsmiddleware.GetOperationName(ctx)
			r.mu.Lock()
			if !slices.Contains(r.ops, op) {
				r.ops = append(r.ops, op)
			}
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
}

// TestPolicyAllowsEveryCall inspects, in moto_server, a VPC that makes inspect read every kind
// (endpoints, a prefix list a rule names, an associated Resolver rule, a running task's network
// interface), records each operation its clients really send through SDK middleware, and checks
// that taskdef/iam/inspect-readonly.json allows each one.
func TestPolicyAllowsEveryCall(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w := build(t, e, options{noIngress: true})
	pl := w.prefixList("10.0.1.0/24")
	w.ingress(w.epSG, ec2IngressFromList(pl))
	w.forwardRule(".")
	n, err := e.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(w.task), Groups: []string{w.taskSG}})
	if err != nil {
		t.Fatal(err)
	}

	rec := &recorder{}
	cfg := e.srv.Config(nil)
	rec.apply(&cfg)
	c := Clients{EC2: ec2.NewFromConfig(cfg), Resolver: route53resolver.NewFromConfig(cfg), Region: region}
	target, err := ENI(ctx, c.EC2, aws.ToString(n.NetworkInterface.NetworkInterfaceId))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Subnets(ctx, c, []Target{target}, defaultServices(t))
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rep[0].Findings, func(f Finding) bool { return f.Code == CodePermission || f.Code == CodeReadFailed }) {
		t.Fatalf("a kind was not read:\n%s", rep[0].Text())
	}

	allowed := policyActions(t, "../taskdef/iam/inspect-readonly.json")
	for _, op := range rec.ops {
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, op) }) {
			t.Errorf("inspect calls %s, which taskdef/iam/inspect-readonly.json does not allow", op)
		}
	}
	for _, want := range []string{"ec2:GetManagedPrefixListEntries", "route53resolver:GetResolverRule", "ec2:DescribeNetworkInterfaces"} {
		if !slices.Contains(rec.ops, want) {
			t.Errorf("the world did not make inspect call %s (recorded: %v)", want, rec.ops)
		}
	}
	t.Logf("operations: %v", rec.ops)
}

// policyActions returns the actions an IAM policy document allows.
func policyActions(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Effect string
			Action strings1
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range doc.Statement {
		if s.Effect == "Allow" {
			out = append(out, s.Action...)
		}
	}
	return out
}
