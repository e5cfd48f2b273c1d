package responder

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// TestPublish puts a diagnosis through moto's EventBridge to an SQS queue that a rule matching
// the documented source and detail-type targets, as a user routes it to a ticket or a chat: the
// event arrives with the diagnosis as its detail. A diagnosis too large for one entry arrives
// trimmed, naming its log stream.
func TestPublish(t *testing.T) {
	awstest.IsolateSDK(t)
	cfg := moto.Start(t).Config(nil)
	ctx := context.Background()
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("diagnoses")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("vpcprobe-diagnoses"),
		EventPattern: aws.String(`{"source":["vpcprobe"],"detail-type":["vpcprobe Diagnosis"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("vpcprobe-diagnoses"),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}

	small := &Diagnosis{Schema: Schema, EventID: "e-1", Verdict: checks.Fail, TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/1",
		LogStream: "responder/2026/11/30/1", Explanation: []stopped.Diagnosis{{Service: "ecr.api", Verdict: checks.Fail, Error: checks.Timeout}}}
	huge := *small
	huge.EventID = "e-2"
	huge.Launch = &launch.Report{Schema: launch.Schema, Verdict: checks.Fail, Subnets: []launch.SubnetReport{{Subnet: "subnet-1",
		Report: &report.Report{Services: []report.ServiceReport{{Service: "logs", Diagnosis: strings.Repeat("a long diagnosis ", 20000)}}}}}}
	for _, d := range []*Diagnosis{small, &huge} {
		if err := Publish(ctx, eb, "default", d, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]Diagnosis{}
	for range 5 {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var ev struct {
				Source     string    `json:"source"`
				DetailType string    `json:"detail-type"`
				Detail     Diagnosis `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("%v: %.200s", err, aws.ToString(m.Body))
			}
			if ev.Source != SourceVpcprobe || ev.DetailType != DetailTypeDiagnosis {
				t.Errorf("source %q detail-type %q", ev.Source, ev.DetailType)
			}
			got[ev.Detail.EventID] = ev.Detail
		}
		if len(got) == 2 {
			break
		}
	}
	if d, ok := got["e-1"]; !ok || d.Trimmed || len(d.Explanation) != 1 {
		t.Errorf("small diagnosis arrived as %+v", d)
	}
	if d, ok := got["e-2"]; !ok || !d.Trimmed || d.LogStream == "" || d.Launch == nil || d.Launch.Subnets[0].Report != nil {
		t.Errorf("huge diagnosis arrived as %+v", d)
	}
}

// TestFit: a detail that fits is whole; one that does not loses the live reports first, then the
// launch, and is never over the limit.
func TestFit(t *testing.T) {
	d := &Diagnosis{Schema: Schema, LogStream: "s", Launch: &launch.Report{Subnets: []launch.SubnetReport{{Subnet: "subnet-1",
		Report: &report.Report{Services: []report.ServiceReport{{Diagnosis: strings.Repeat("x", 5000)}}}}}}}
	whole, _ := json.Marshal(d)
	for _, limit := range []int{len(whole), len(whole) - 1, 400, 190} {
		b, err := d.fit(limit)
		if err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		if len(b) > limit {
			t.Errorf("limit %d: %d bytes", limit, len(b))
		}
		var back Diagnosis
		json.Unmarshal(b, &back)
		if back.Trimmed != (limit < len(whole)) || back.LogStream != "s" {
			t.Errorf("limit %d: trimmed %v, log stream %q", limit, back.Trimmed, back.LogStream)
		}
	}
	if _, err := d.fit(20); err == nil {
		t.Error("a detail that cannot fit fitted")
	}
}
