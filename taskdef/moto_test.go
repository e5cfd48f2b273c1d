package taskdef

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/vpcprobe/vpcprobe/internal/moto"
)

// TestTemplatesCreateInMoto creates the fleet's member and central templates in moto's
// CloudFormation (template.json is not here: moto 5.2.1 answers its CreateStack with an internal
// error, HTTP 500; cfn-lint and TestTemplateDashboard check it). moto skips a resource type it does not know with
// only a warning, so the stack's completion proves little: every resource the template creates
// under these parameters must be listed with a physical id.
func TestTemplatesCreateInMoto(t *testing.T) {
	srv := moto.Start(t)
	cfg := srv.Config(nil)
	cfg.RetryMaxAttempts = 1 // CreateStack is not idempotent: a retry answers AlreadyExists and hides the first error
	cf := cloudformation.NewFromConfig(cfg)
	stacks := []struct {
		file   string
		params map[string]string
	}{
		{"fleet-member.json", map[string]string{"CentralAccountId": "111111111111"}},
		{"fleet-central.json", map[string]string{"ClusterName": "fleet", "Subnets": "subnet-0a1b2c3d", "SecurityGroups": "sg-0d4e5f6a",
			"ProbeImage": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/vpcprobe:v1", "Regions": "eu-west-1,eu-central-1", "Mode": "launch"}},
	}
	for i, s := range stacks {
		t.Run(s.file, func(t *testing.T) {
			body, err := os.ReadFile(s.file)
			if err != nil {
				t.Fatal(err)
			}
			var tpl struct {
				Resources map[string]struct{ Condition string }
			}
			if err := json.Unmarshal(body, &tpl); err != nil {
				t.Fatal(err)
			}
			var want []string
			for id, r := range tpl.Resources {
				if r.Condition == "" { // the fleet templates have no conditional resource
					want = append(want, id)
				}
			}
			var params []cftypes.Parameter
			for k, v := range s.params {
				params = append(params, cftypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
			}
			ctx := context.Background()
			name := "vpcprobe-" + string(rune('a'+i))
			if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(string(body)),
				Parameters: params, Capabilities: []cftypes.Capability{cftypes.CapabilityCapabilityNamedIam}}); err != nil {
				t.Fatalf("CreateStack: %v", err)
			}
			w := cloudformation.NewStackCreateCompleteWaiter(cf, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
				o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
			})
			if err := w.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)}, time.Minute); err != nil {
				t.Fatalf("stack %s: %v", name, err)
			}
			got := map[string]string{}
			p := cloudformation.NewListStackResourcesPaginator(cf, &cloudformation.ListStackResourcesInput{StackName: aws.String(name)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range out.StackResourceSummaries {
					if r.ResourceStatus == cftypes.ResourceStatusCreateComplete {
						got[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
					}
				}
			}
			slices.Sort(want)
			for _, id := range want {
				if got[id] == "" {
					t.Errorf("%s: resource %s has no physical id (moto skipped it, or it did not complete)", s.file, id)
				}
			}
		})
	}
}
