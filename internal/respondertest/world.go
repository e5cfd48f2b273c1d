// Package respondertest is the responder's AWS in a test: moto for ECS, EC2, DynamoDB,
// EventBridge and Logs, and the project's fake Lambda API for the probe functions, with a VPC of
// isolated subnets and an application whose tasks fail to start in them.
package respondertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go/middleware"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/report"
)

// world is the responder's AWS in a test: moto for ECS, EC2, DynamoDB, EventBridge and Logs (the
// real emulator, speaking each API's own protocol), and the project's fake Lambda API for the
// probe functions (moto's Invoke needs Docker), whose invocations answer a probe report.
type World struct {
	t        *testing.T
	Moto     *moto.Server
	Cfg      aws.Config // moto's
	ECS      *ecs.Client
	EC2      *ec2.Client
	DynamoDB *dynamodb.Client
	Fake     *fakeaws.Server // the Lambda API
	FakeURL  string
	FakeCA   string // the fake's CA bundle
	Lambda   *lambda.Client
	VPC      string
	Subnets  []string
	Group    string

	mu      sync.Mutex
	invoked []string // the subnet of every invocation, in order
}

// The world's names.
const (
	Table    = "vpcprobe-responder"
	LogGroup = "/vpcprobe/responder"
	Cluster  = "prod"
	Family   = "shop"
)

// New starts the servers, a VPC with n isolated subnets, the claims table, the log group,
// a cluster and the application's task definition.
func New(t *testing.T, n int) *World {
	t.Helper()
	awstest.IsolateSDK(t)
	w := &World{t: t, Moto: moto.Start(t)}
	w.Cfg = w.Moto.Config(nil)
	w.ECS = ecs.NewFromConfig(w.Moto.Config(&http.Client{Transport: moto.FixECS(http.DefaultTransport)}))
	w.EC2, w.DynamoDB = ec2.NewFromConfig(w.Cfg), dynamodb.NewFromConfig(w.Cfg)
	ctx := context.Background()
	w.VPC, w.Subnets, w.Group = moto.IsolatedVPC(t, w.EC2, n)
	// Interface endpoints' private DNS needs it, and moto's RunTask names the task's ENI by it.
	if _, err := w.EC2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(w.VPC), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(Table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := cloudwatchlogs.NewFromConfig(w.Cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(LogGroup)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(Cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(Family), NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
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
	w.Fake = fakeaws.New(fakeaws.DefaultConfig())
	srv := awstest.Front(t, w.Fake)
	w.FakeURL, w.FakeCA = srv.URL, srv.CAFile
	w.Lambda = lambda.NewFromConfig(srv.SDKConfig(3), func(o *lambda.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	w.Fake.RunFunctions(w.invoke)
	return w
}

// invoke is every probe function: the report of an isolated subnet (ECR's API times out on its
// public address), under the event's run id.
func (w *World) invoke(ctx context.Context, fn fakeaws.Function, payload []byte) (fakeaws.InvokeResult, error) {
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

// Service creates a service in subnet with the world's group, and starts one of its tasks: the
// task whose failed start the events report.
func (w *World) Service(name, subnet string) string {
	w.t.Helper()
	ctx := context.Background()
	net := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{subnet}, SecurityGroups: []string{w.Group}}}
	if _, err := w.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(Cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String(Family), DesiredCount: aws.Int32(0), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: net}); err != nil {
		w.t.Fatal(err)
	}
	out, err := w.ECS.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(Cluster), TaskDefinition: aws.String(Family),
		LaunchType: ecstypes.LaunchTypeFargate, Group: aws.String("service:" + name), NetworkConfiguration: net})
	if err != nil || len(out.Tasks) != 1 {
		w.t.Fatalf("RunTask: %v %+v", err, out)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// Event is the documented sample event (testdata) for task taskARN of service in subnet.
func (w *World) Event(id, taskARN, service, subnet string) []byte {
	w.t.Helper()
	b, err := os.ReadFile(SampleEvent())
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
	d["clusterArn"] = "arn:aws:ecs:" + moto.Region + ":" + moto.Account + ":cluster/" + Cluster
	d["stoppedReason"] = strings.ReplaceAll(d["stoppedReason"].(string), "eu-west-1", moto.Region)
	att := d["attachments"].([]any)[0].(map[string]any)
	att["details"].([]any)[0].(map[string]any)["value"] = subnet
	out, _ := json.Marshal(ev)
	return out
}

// Logged returns the messages of stream in the responder's log group, joined.
func (w *World) Logged(stream string) string {
	t := w.t
	t.Helper()
	out, err := cloudwatchlogs.NewFromConfig(w.Cfg).GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(LogGroup), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range out.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	return strings.Join(msgs, "\n")
}

// SampleEvent is the path of the documented event shape (responder/testdata).
func SampleEvent() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "responder", "testdata", "task-failed-to-start.json")
}

// Invoked returns the subnet of every probe invocation so far.
func (w *World) Invoked() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.invoked)
}

// Recording returns moto's configuration with every call's IAM action (service prefix and
// operation, in IAM's spelling) sent to record.
func Recording(cfg aws.Config, record func(action string)) aws.Config {
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("respondertest.record",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				record(iamAction(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)))
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	return cfg
}

// iamAction is the IAM action of an SDK operation: the service's IAM prefix, and the operation's
// name but where IAM names it otherwise (Lambda's Invoke is lambda:InvokeFunction).
func iamAction(serviceID, op string) string {
	prefix := map[string]string{"CloudWatch Logs": "logs", "EventBridge": "events", "Route53Resolver": "route53resolver", "Network Firewall": "network-firewall"}[serviceID]
	if prefix == "" {
		prefix = strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
	}
	if prefix == "lambda" && op == "Invoke" {
		op = "InvokeFunction"
	}
	return prefix + ":" + op
}
