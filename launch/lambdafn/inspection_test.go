package lambdafn

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestRunLambdaInspectsFunctionGroups: with --function-name the inspection judges the rules for
// the function's own groups, read from it; a launch whose inspection cannot read anything says
// so in inspect_error and keeps its verdict.
func TestRunLambdaInspectsFunctionGroups(t *testing.T) {
	mo := moto.Start(t)
	client := ec2.NewFromConfig(mo.Config(nil))
	_, subnets, group := moto.IsolatedVPC(t, client, 1)
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
	c = Config{LaunchID: "t3", Subnets: subnets, FunctionName: "team-probe", Deadline: 20 * time.Second, Event: map[string]any{"services": "logs"}}
	rep, err := l.Run(context.Background(), c)
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
	rep, err = l.Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if rep.InspectError == "" || rep.Subnets[0].Inspection != nil || rep.Verdict != checks.Fail {
		t.Errorf("inspect_error %q, inspection %+v, verdict %s", rep.InspectError, rep.Subnets[0].Inspection, rep.Verdict)
	}
}
