package taskdef

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
)

// motoSkips are the template's resource types moto 5.2's CloudFormation does not create ("No Moto
// CloudFormation support for …"), or creates without a physical id (Lambda::Permission); cfn-lint
// (TestTemplateCfnLint) checks their properties instead.
var motoSkips = map[string]bool{"AWS::Scheduler::Schedule": true, "AWS::CloudWatch::Alarm": true, "AWS::Lambda::Permission": true}

// TestTemplateCreatesInMoto creates the stack in moto's CloudFormation with the responder and the
// Lambda variant on: every resource the template declares for those parameters gets a physical id
// (moto skips resource types it does not know with only a warning, so a missing id is how a
// skipped or failed resource shows), and the stack completes.
func TestTemplateCreatesInMoto(t *testing.T) {
	awstest.IsolateSDK(t)
	mo := moto.Start(t)
	cfg := mo.Config(nil)
	ctx := context.Background()
	_, subnets, group := moto.IsolatedVPC(t, ec2.NewFromConfig(cfg), 1)
	code, err := lambdafn.ZipBootstrap(append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 56)...))
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("artifacts"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(moto.Region)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("vpcprobe-arm64.zip"), Body: bytes.NewReader(code)}); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("template.json")
	if err != nil {
		t.Fatal(err)
	}
	// moto creates every resource within CreateStack's own request: more than a call's usual
	// time, and a retry would find the stack already there.
	cf := cloudformation.NewFromConfig(mo.Config(&http.Client{Timeout: 3 * time.Minute}), func(o *cloudformation.Options) { o.RetryMaxAttempts = 1 })
	// CheckImage on: moto cannot create a role whose Policies hold an Fn::If that yields
	// AWS::NoValue (it reads the policy as null), which the template uses without it.
	params := map[string]string{"EnableResponder": "true", "ClusterName": "prod",
		"CheckImage": moto.Account + ".dkr.ecr." + moto.Region + ".amazonaws.com/shop:1", "CheckImageRepository": "shop", "LambdaCodeBucket": "artifacts", "Subnets": subnets[0], "SecurityGroups": group,
		"ProbeImage": moto.Account + ".dkr.ecr." + moto.Region + ".amazonaws.com/vpcprobe:v1"}
	var in []cftypes.Parameter
	for k, v := range params {
		in = append(in, cftypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("vpcprobe"), TemplateBody: aws.String(string(body)),
		Parameters: in, Capabilities: []cftypes.Capability{cftypes.CapabilityCapabilityIam}}); err != nil {
		t.Fatal(err)
	}
	var status cftypes.StackStatus
	for range 50 {
		out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("vpcprobe")})
		if err != nil {
			t.Fatal(err)
		}
		if status = out.Stacks[0].StackStatus; status != cftypes.StackStatusCreateInProgress {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != cftypes.StackStatusCreateComplete {
		t.Fatalf("stack %s", status)
	}
	res, err := cf.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: aws.String("vpcprobe")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res.StackResourceSummaries {
		got[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
	}
	var tpl struct {
		Resources map[string]struct{ Type, Condition string }
	}
	json.Unmarshal(body, &tpl)
	on := map[string]bool{"": true, "HasResponder": true, "HasLambda": true} // the conditions these parameters make true
	var want []string
	for name, r := range tpl.Resources {
		if on[r.Condition] && !motoSkips[r.Type] {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	for _, name := range want {
		if got[name] == "" {
			t.Errorf("resource %s has no physical id in moto (skipped or failed)", name)
		}
	}
	if !slices.Contains(want, "ResponderFunction") || !slices.Contains(want, "ResponderTable") {
		t.Errorf("the responder's resources are not among %v", want)
	}
}
