package lab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/respondertest"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/join"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/responder"
)

// TestResponderInLab runs the responder end to end as it will run: the vpcprobe binary as the
// responder's Lambda function (its zip, its environment, the Runtime API) outside the subnet,
// moto for ECS, EC2 (the lab's VPC described), DynamoDB, Logs and EventBridge, and the lab's
// Lambda API running the probe function it creates inside the isolated subnet. A failed start's
// event goes in; out come the joined report (the live timeouts explained by the missing
// endpoints) and a "vpcprobe Diagnosis" event, which a rule delivers to a queue.
func TestResponderInLab(t *testing.T) {
	sc, err := Lookup("isolated")
	if err != nil {
		t.Fatal(err)
	}
	mo := sharedMoto(t)
	l := startLab(t, sc, WithEC2(mo.URL))
	ids := l.VPCIDs()
	env, err := l.LaunchEnv() // serves the lab's Lambda API
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The application: a service in the lab's subnet with its group, and its task that failed.
	cfg := mo.Config(nil)
	ecsc := ecs.NewFromConfig(mo.Config(&http.Client{Transport: moto.FixECS(http.DefaultTransport)}))
	if _, err := ec2.NewFromConfig(cfg).ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(ids.VPC), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	cluster := "lab-" + l.ID
	if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("shop"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("shop"), Essential: aws.Bool(true), Memory: aws.Int32(512),
			Image: aws.String(Account + ".dkr.ecr." + Region + ".amazonaws.com/shop:1")}}}); err != nil {
		t.Fatal(err)
	}
	net := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{ids.TaskSubnet}, SecurityGroups: []string{ids.TaskGroup}}}
	if _, err := ecsc.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("shop-web"), TaskDefinition: aws.String("shop"),
		DesiredCount: aws.Int32(0), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	run, err := ecsc.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("shop"), LaunchType: ecstypes.LaunchTypeFargate,
		Group: aws.String("service:shop-web"), NetworkConfiguration: net})
	if err != nil {
		t.Fatal(err)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)

	// The responder's deployment: its table, its log group, and a rule routing its events to a queue.
	table, group := "responder-"+l.ID, "/vpcprobe/responder-"+l.ID
	if _, err := dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(responder.KeyAttribute), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(responder.KeyAttribute), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	logs := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("diagnoses-" + l.ID)})
	if err != nil {
		t.Fatal(err)
	}
	qa, _ := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	eb := eventbridge.NewFromConfig(cfg)
	rule := "diagnoses-" + l.ID
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventPattern: aws.String(`{"source":["vpcprobe"],"detail-type":["vpcprobe Diagnosis"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(qa.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}

	// The responder's function, outside the subnet: moto behind a proxy that mends its ECS
	// tasks' numeric cpu and memory, the lab's Lambda API for the probe functions.
	target, _ := url.Parse(mo.URL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }, Transport: moto.FixECS(http.DefaultTransport)})
	defer proxy.Close()
	code, _, err := lambdafn.SelfCode(probeBin)
	if err != nil {
		t.Fatal(err)
	}
	fnEnv := map[string]string{
		"AWS_ENDPOINT_URL": proxy.URL, "AWS_ENDPOINT_URL_LAMBDA": l.apiURL, "AWS_CA_BUNDLE": l.apiCAFile(),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "HOME": l.Dir,
		responder.EnvTable: table, responder.EnvLogGroup: group, responder.EnvProbeRole: LambdaRole, responder.EnvProbeDeadline: DefaultDeadline.String(),
	}
	secret := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS_SECRET_ACCESS_KEY="); ok {
			secret = v
		}
	}
	box := &fakeaws.Sandbox{Command: func(ctx context.Context, path string, env []string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, path)
		cmd.Env = slices.DeleteFunc(env, func(kv string) bool { return kv == "AWS_SESSION_TOKEN=" })
		return cmd
	}}
	defer box.Close()
	fn := fakeaws.Function{Name: "vpcprobe-responder", ARN: "arn:aws:lambda:" + Region + ":" + Account + ":function:vpcprobe-responder",
		Runtime: "provided.al2023", Handler: "bootstrap", MemorySize: 256, Timeout: 300, Code: code, Region: Region,
		AccessKey: AccessKey, SecretKey: secret, Environment: fnEnv}

	b, err := os.ReadFile(respondertest.SampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	json.Unmarshal(b, &ev)
	d := ev["detail"].(map[string]any)
	d["taskArn"], d["clusterArn"] = task, "arn:aws:ecs:"+Region+":"+Account+":cluster/"+cluster
	d["attachments"].([]any)[0].(map[string]any)["details"].([]any)[0].(map[string]any)["value"] = ids.TaskSubnet
	payload, _ := json.Marshal(ev)

	res, err := box.Invoke(ctx, fn, payload)
	if err != nil {
		t.Fatal(err)
	}
	if res.FunctionError != "" {
		t.Fatalf("function error: %s\n%s", res.Payload, res.Log)
	}
	schematest.Check(t, res.Payload)
	var diag responder.Diagnosis
	if err := json.Unmarshal(res.Payload, &diag); err != nil {
		t.Fatal(err)
	}
	if diag.Probe == nil || !diag.Probe.Ran || diag.Launch == nil || len(diag.Launch.Subnets) != 1 || diag.Launch.Subnets[0].Report == nil {
		t.Fatalf("no live probe: %+v\n%s", diag.Probe, res.Log)
	}
	s := diag.Launch.Subnets[0]
	if s.Report.Context.SubnetID != ids.TaskSubnet || !slices.Equal(s.Report.Context.SecurityGroups, []string{ids.TaskGroup}) {
		t.Errorf("probed from %s with %v, want the task's %s with %s", s.Report.Context.SubnetID, s.Report.Context.SecurityGroups, ids.TaskSubnet, ids.TaskGroup)
	}
	var ecrAPI *checks.Status
	for _, sr := range s.Report.Services {
		if sr.Service == "ecr.api" {
			ecrAPI = &sr.Verdict
		}
	}
	if ecrAPI == nil || *ecrAPI != checks.Fail {
		t.Errorf("ecr.api live verdict %v, want fail in an isolated subnet", ecrAPI)
	}
	if s.Inspection == nil || !slices.ContainsFunc(s.Inspection.Services, func(j join.JoinedService) bool {
		return j.Service == "ecr.api" && slices.ContainsFunc(j.Findings, func(f inspect.Finding) bool { return f.Code == inspect.CodeEndpointMissing })
	}) {
		t.Errorf("ecr.api not explained by the missing endpoint: %+v", s.Inspection)
	}
	var got *responder.Diagnosis
	for range 10 {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var e struct {
				DetailType string              `json:"detail-type"`
				Detail     responder.Diagnosis `json:"detail"`
			}
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &e) == nil && e.DetailType == responder.DetailTypeDiagnosis {
				got = &e.Detail
			}
		}
		if got != nil {
			break
		}
	}
	if got == nil || got.TaskARN != task || got.Probe == nil || got.Probe.RunID != diag.Probe.RunID || got.LogStream == "" {
		t.Errorf("the vpcprobe Diagnosis event: %+v", got)
	}
}
