package responder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
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
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/report"
)

// world is the responder's AWS in a test: moto for ECS, EC2, DynamoDB, EventBridge and Logs (the
// real emulator, speaking each API's own protocol), and the project's fake Lambda API for the
// probe functions (moto's Invoke needs Docker), whose invocations answer a probe report.
type world struct {
	t       *testing.T
	moto    *moto.Server
	cfg     aws.Config
	ecs     *ecs.Client
	ec2     *ec2.Client
	ddb     *dynamodb.Client
	fake    *fakeaws.Server
	lambda  *lambda.Client
	vpc     string
	subnets []string
	group   string

	mu      sync.Mutex
	invoked []string // the subnet of every invocation, in order
}

const (
	testTable    = "vpcprobe-responder"
	testLogGroup = "/vpcprobe/responder"
	testCluster  = "prod"
	testFamily   = "shop"
)

// newWorld starts the servers, a VPC with n isolated subnets, the claims table, the log group,
// a cluster and the application's task definition.
func newWorld(t *testing.T, n int) *world {
	t.Helper()
	awstest.IsolateSDK(t)
	w := &world{t: t, moto: moto.Start(t)}
	w.cfg = w.moto.Config(nil)
	w.ecs = ecs.NewFromConfig(w.moto.Config(&http.Client{Transport: motoECSTasks{http.DefaultTransport}}))
	w.ec2, w.ddb = ec2.NewFromConfig(w.cfg), dynamodb.NewFromConfig(w.cfg)
	ctx := context.Background()
	w.vpc, w.subnets, w.group = moto.IsolatedVPC(t, w.ec2, n)
	// Interface endpoints' private DNS needs it, and moto's RunTask names the task's ENI by it.
	if _, err := w.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(w.vpc), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(testTable),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(KeyAttribute), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(KeyAttribute), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := cloudwatchlogs.NewFromConfig(w.cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(testLogGroup)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(testCluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(testFamily), NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ExecutionRoleArn: aws.String("arn:aws:iam::" + moto.Account + ":role/ecsTaskExecutionRole"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("shop"), Image: aws.String(moto.Account + ".dkr.ecr." + moto.Region + ".amazonaws.com/shop:1.4.2"), Essential: aws.Bool(true),
			Memory: aws.Int32(512), Cpu: 256,
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/shop", "awslogs-region": moto.Region, "awslogs-stream-prefix": "shop"}},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	w.fake = fakeaws.New(fakeaws.DefaultConfig())
	srv := awstest.Front(t, w.fake)
	w.lambda = lambda.NewFromConfig(srv.SDKConfig(3), func(o *lambda.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	w.fake.RunFunctions(w.invoke)
	return w
}

// invoke is every probe function: the report of an isolated subnet (ECR's API times out on its
// public address), under the event's run id.
func (w *world) invoke(ctx context.Context, fn fakeaws.Function, payload []byte) (fakeaws.InvokeResult, error) {
	var ev map[string]any
	json.Unmarshal(payload, &ev)
	w.mu.Lock()
	w.invoked = append(w.invoked, fmt.Sprint(ev["subnet-id"]))
	w.mu.Unlock()
	rep := &report.Report{Schema: report.Schema, RunID: fmt.Sprint(ev["run-id"]), Verdict: checks.Fail, StartedAt: "2026-11-30T09:22:00.000Z",
		Context: report.Context{Region: moto.Region, Resolvers: []string{"10.0.0.2:53"}}, Delivery: report.Delivery{CloudWatch: report.Disabled}}
	svc, _ := catalogue.Lookup("ecr.api")
	rep.Services = []report.ServiceReport{{Service: "ecr.api", Host: svc.Host(moto.Region, moto.Account), EndpointService: svc.EndpointService(moto.Region),
		EndpointType: svc.EndpointType(), Verdict: checks.Fail, Error: checks.Timeout, Route: report.RoutePublic, Addresses: []string{"198.51.100.11"},
		Checks:    []report.CheckReport{{Name: "dns", Status: checks.Pass}, {Name: "tcp", Status: checks.Fail, Error: checks.Timeout}},
		Diagnosis: "api.ecr resolves to a public address and TCP 443 timed out.", Remediation: "Create the interface endpoint com.amazonaws." + moto.Region + ".ecr.api."}}
	return fakeaws.InvokeResult{Payload: rep.JSON()}, nil
}

// service creates a service in subnet with the world's group, and starts one of its tasks: the
// task whose failed start the events report.
func (w *world) service(name, subnet string) string {
	w.t.Helper()
	ctx := context.Background()
	net := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{subnet}, SecurityGroups: []string{w.group}}}
	if _, err := w.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(testCluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String(testFamily), DesiredCount: aws.Int32(0), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: net}); err != nil {
		w.t.Fatal(err)
	}
	out, err := w.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(testCluster), TaskDefinition: aws.String(testFamily),
		LaunchType: ecstypes.LaunchTypeFargate, Group: aws.String("service:" + name), NetworkConfiguration: net})
	if err != nil || len(out.Tasks) != 1 {
		w.t.Fatalf("RunTask: %v %+v", err, out)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// event is the documented sample event (testdata) for task taskARN of service in subnet.
func (w *world) event(id, taskARN, service, subnet string) []byte {
	w.t.Helper()
	b, err := os.ReadFile("testdata/task-failed-to-start.json")
	if err != nil {
		w.t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		w.t.Fatal(err)
	}
	ev["id"], ev["account"], ev["region"], ev["resources"] = id, moto.Account, moto.Region, []string{taskARN}
	d := ev["detail"].(map[string]any)
	d["taskArn"], d["group"] = taskARN, "service:"+service
	d["clusterArn"] = "arn:aws:ecs:" + moto.Region + ":" + moto.Account + ":cluster/" + testCluster
	d["stoppedReason"] = strings.ReplaceAll(d["stoppedReason"].(string), "eu-west-1", moto.Region)
	att := d["attachments"].([]any)[0].(map[string]any)
	att["details"].([]any)[0].(map[string]any)["value"] = subnet
	out, _ := json.Marshal(ev)
	return out
}

// responder is the responder of this world, with millisecond polls.
func (w *world) responder() *Responder {
	code, err := lambdafn.ZipBootstrap(fakeELF())
	if err != nil {
		w.t.Fatal(err)
	}
	return &Responder{
		Config: Config{Table: testTable, Role: "arn:aws:iam::" + moto.Account + ":role/vpcprobe-lambda", Code: code,
			Architecture: lambdafn.ArchX86, LogGroup: testLogGroup, Region: moto.Region, Account: moto.Account, ProbeDeadline: 5 * time.Second},
		ECS: w.ecs, DynamoDB: w.ddb, Lambda: w.lambda, Logs: cloudwatchlogs.NewFromConfig(w.cfg), Events: eventbridge.NewFromConfig(w.cfg),
		Shared: launch.Shared{Inspect: &inspect.Clients{EC2: w.ec2, Region: moto.Region}, PollFirst: time.Millisecond, PollMax: 5 * time.Millisecond, StopTimeout: 5 * time.Second},
	}
}

// fakeELF is the header of a Linux x86_64 executable: what the runner checks of a bootstrap.
func fakeELF() []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6], h[7] = 2, 1, 1, 0
	h[18] = 62
	return h
}

// logged returns the messages of stream in the responder's log group, joined.
func (w *world) logged(t *testing.T, stream string) string {
	t.Helper()
	out, err := cloudwatchlogs.NewFromConfig(w.cfg).GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(testLogGroup), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range out.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	return strings.Join(msgs, "\n")
}

// motoECSTasks mends one wire bug of moto 5.2's ECS: a task's containers carry cpu and memory as
// JSON numbers where the API (and so the SDK's deserializer) has strings. It rewrites them in
// RunTask and DescribeTasks answers, and touches nothing else.
type motoECSTasks struct{ next http.RoundTripper }

func (m motoECSTasks) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := m.next.RoundTrip(r)
	target := r.Header.Get("X-Amz-Target")
	if err != nil || !(strings.HasSuffix(target, ".RunTask") || strings.HasSuffix(target, ".DescribeTasks")) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		tasks, _ := doc["tasks"].([]any)
		for _, t := range tasks {
			tm, _ := t.(map[string]any)
			cs, _ := tm["containers"].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				for _, k := range []string{"cpu", "memory"} {
					if n, ok := cm[k].(float64); ok {
						cm[k] = strconv.FormatFloat(n, 'f', -1, 64)
					}
				}
			}
		}
		body, _ = json.Marshal(doc)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}
