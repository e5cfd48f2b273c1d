package launch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/report"
)

// countingEC2 counts inspect's calls by method and tells started when the first one comes.
type countingEC2 struct {
	inspect.EC2API
	mu      sync.Mutex
	calls   map[string]int
	once    sync.Once
	started chan struct{}
}

func (c *countingEC2) count(name string) {
	c.once.Do(func() { close(c.started) })
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
}

func (c *countingEC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, o ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	c.count("DescribeSubnets")
	return c.EC2API.DescribeSubnets(ctx, in, o...)
}

func (c *countingEC2) DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, o ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	c.count("DescribeVpcEndpoints")
	return c.EC2API.DescribeVpcEndpoints(ctx, in, o...)
}

func (c *countingEC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, o ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	c.count("DescribeRouteTables")
	return c.EC2API.DescribeRouteTables(ctx, in, o...)
}

// isolatedVPC creates in moto a VPC with n subnets and nothing else (no endpoint, no route out)
// and returns the subnets and the VPC's default group.
func isolatedVPC(t *testing.T, client *ec2.Client, n int) (vpc string, subnets []string, group string) {
	t.Helper()
	ctx := context.Background()
	v, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpc = aws.ToString(v.Vpc.VpcId)
	for i := range n {
		s, err := client.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(fmtCIDR(i)), AvailabilityZone: aws.String("eu-west-1a")})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	g, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(g.SecurityGroups) != 1 {
		t.Fatalf("default group: %v %v", err, g)
	}
	return vpc, subnets, aws.ToString(g.SecurityGroups[0].GroupId)
}

func fmtCIDR(i int) string { return fmt.Sprintf("10.0.%d.0/24", i+1) }

// TestRunInspects: an ECS launch of three subnets of one VPC inspects them while the tasks run
// (each task waits, in its RUNNING hook, for the inspection to have started), reads the VPC
// once (as many DescribeSubnets, DescribeVpcEndpoints and DescribeRouteTables calls as for one),
// and joins each subnet's live timeouts with the missing endpoints; the report validates.
func TestRunInspects(t *testing.T) {
	mo := moto.Start(t)
	client := ec2.NewFromConfig(mo.Config(nil))
	vpc, subnets, group := isolatedVPC(t, client, 3)
	w := newWorld(t, fakeaws.DefaultConfig())
	counted := &countingEC2{EC2API: client, calls: map[string]int{}, started: make(chan struct{})}
	w.l.Inspect = &inspect.Clients{EC2: counted, Region: moto.Region}
	var concurrent atomic.Int32
	w.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript {
		s := w.probeTask(1, "ecr.api")
		ran := s.OnRunning
		s.OnRunning = func(task fakeaws.ECSTask) {
			select { // the inspection does not wait for the probes
			case <-counted.started:
				concurrent.Add(1)
			case <-time.After(10 * time.Second):
			}
			ran(task)
		}
		return s
	})
	c := config(subnets...)
	c.SecurityGroups = []string{group}
	rep := w.l.Run(context.Background(), c)
	schematest.Check(t, rep.JSON())
	if int(concurrent.Load()) != len(subnets) {
		t.Errorf("%d of %d tasks ran while the inspection was under way", concurrent.Load(), len(subnets))
	}
	one := &countingEC2{EC2API: client, calls: map[string]int{}, started: make(chan struct{})}
	if _, err := inspect.Subnet(context.Background(), inspect.Clients{EC2: one, Region: moto.Region}, subnets[0], []string{group}, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"DescribeSubnets", "DescribeVpcEndpoints", "DescribeRouteTables"} {
		if got, want := counted.calls[name], one.calls[name]; got != want || got == 0 {
			t.Errorf("%s called %d times for %d subnets of one VPC, %d for one subnet", name, got, len(subnets), want)
		}
	}
	if rep.InspectError != "" {
		t.Fatalf("inspect_error %s", rep.InspectError)
	}
	for _, s := range rep.Subnets {
		in := s.Inspection
		if in == nil || in.VPCID != vpc || !slices.Equal(in.SecurityGroups, []string{group}) {
			t.Fatalf("%s: inspection %+v", s.Subnet, in)
		}
		if len(in.Services) != 1 || in.Services[0].Service != "ecr.api" ||
			!slices.ContainsFunc(in.Services[0].Findings, func(f inspect.Finding) bool { return f.Code == inspect.CodeEndpointMissing }) {
			// probeReport's timeouts are on a private route: the missing endpoint is attached as
			// the fail finding that bears on the service when no rule matches.
			t.Errorf("%s: joined %+v", s.Subnet, in.Services)
		}
		if !slices.ContainsFunc(in.ConfigOnly, func(f inspect.Finding) bool { return f.Code == inspect.CodeEndpointMissing && f.Service == "sts" }) {
			t.Errorf("%s: config only %+v: want sts's missing endpoint", s.Subnet, in.ConfigOnly)
		}
	}
	if rep.Verdict != checks.Fail {
		t.Errorf("verdict %s", rep.Verdict)
	}
}

// TestRunLambdaInspectsFunctionGroups: with --function-name the inspection judges the rules for
// the function's own groups, read from it; a launch whose inspection cannot read anything says
// so in inspect_error and keeps its verdict.
func TestRunLambdaInspectsFunctionGroups(t *testing.T) {
	mo := moto.Start(t)
	client := ec2.NewFromConfig(mo.Config(nil))
	_, subnets, group := isolatedVPC(t, client, 1)
	fake, lc, l := lambdaWorld(t)
	l.Inspect = &inspect.Clients{EC2: client, Region: moto.Region}
	var cidrs []any // the subnet-cidr of every event: the function's report names its subnet
	fake.RunFunctions(func(ctx context.Context, fn fakeaws.Function, payload []byte) (fakeaws.InvokeResult, error) {
		var ev map[string]any
		json.Unmarshal(payload, &ev)
		cidrs = append(cidrs, ev["subnet-cidr"])
		rep := &report.Report{Schema: report.Schema, RunID: ev["run-id"].(string), Verdict: checks.Fail,
			Services: []report.ServiceReport{{Service: "logs", Verdict: checks.Fail, Error: checks.Timeout, Route: report.RoutePublic,
				Checks: []report.CheckReport{{Name: "dns", Status: checks.Pass}, {Name: "tcp", Status: checks.Fail, Error: checks.Timeout}}}}}
		return fakeaws.InvokeResult{Payload: rep.JSON()}, nil
	})
	c := lambdaConfig()
	if _, err := lc.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("team-probe"), Role: aws.String(c.Role), Runtime: LambdaRuntime, Handler: aws.String(LambdaHandler),
		Code:      &lambdatypes.FunctionCode{ZipFile: c.Code},
		VpcConfig: &lambdatypes.VpcConfig{SubnetIds: subnets, SecurityGroupIds: []string{group}},
	}); err != nil {
		t.Fatal(err)
	}
	c = LambdaConfig{LaunchID: "t3", Subnets: subnets, FunctionName: "team-probe", Deadline: 20 * time.Second, Event: map[string]any{"services": "logs"}}
	rep, err := l.RunLambda(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	in := rep.Subnets[0].Inspection
	if in == nil || !slices.Equal(in.SecurityGroups, []string{group}) {
		t.Fatalf("inspection %+v (inspect_error %q), want the function's group %s", in, rep.InspectError, group)
	}
	if len(in.Services) != 1 || !slices.ContainsFunc(in.Services[0].Findings, func(f inspect.Finding) bool { return f.Code == inspect.CodeEndpointMissing }) {
		t.Errorf("joined %+v", in.Services)
	}
	sub, err := client.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{SubnetIds: subnets})
	if err != nil {
		t.Fatal(err)
	}
	if want := aws.ToString(sub.Subnets[0].CidrBlock); len(cidrs) != 1 || cidrs[0] != want {
		t.Errorf("events' subnet-cidr %v, want %s from the inspection (private addresses, remediations)", cidrs, want)
	}

	// Nothing readable: the subnet does not exist in this EC2.
	c.Subnets, c.FunctionName = []string{"subnet-0000000f"}, "team-probe-2"
	if _, err := lc.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("team-probe-2"), Role: aws.String(lambdaConfig().Role), Runtime: LambdaRuntime, Handler: aws.String(LambdaHandler),
		Code:      &lambdatypes.FunctionCode{ZipFile: lambdaConfig().Code},
		VpcConfig: &lambdatypes.VpcConfig{SubnetIds: c.Subnets, SecurityGroupIds: []string{group}},
	}); err != nil {
		t.Fatal(err)
	}
	rep, err = l.RunLambda(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if rep.InspectError == "" || rep.Subnets[0].Inspection != nil || rep.Verdict != checks.Fail {
		t.Errorf("inspect_error %q, inspection %+v, verdict %s", rep.InspectError, rep.Subnets[0].Inspection, rep.Verdict)
	}
}
