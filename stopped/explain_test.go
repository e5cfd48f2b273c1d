package stopped

import (
	"errors"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
)

// describeTasksJSON is `aws ecs describe-tasks --output json` as the CLI prints it (fields the
// translation does not read included, timestamps in the CLI's default ISO form and, as
// cli_timestamp_format=none prints them, epoch seconds): a task in China that never ran, one
// that ran and exited 0, and one in GovCloud whose container exited 137.
const describeTasksJSON = `{
  "tasks": [
    {
      "attachments": [{"id": "a1", "type": "ElasticNetworkInterface", "status": "DELETED",
        "details": [{"name": "subnetId", "value": "subnet-0a1b2c3d"}, {"name": "privateIPv4Address", "value": "10.0.1.20"}]}],
      "availabilityZone": "cn-north-1a",
      "clusterArn": "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod",
      "containers": [{"containerArn": "arn:aws-cn:ecs:cn-north-1:123456789012:container/prod/0123/abcd",
        "name": "app", "image": "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1", "lastStatus": "STOPPED",
        "reason": "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://api.ecr.cn-north-1.amazonaws.com.cn/\": dial tcp 54.222.1.2:443: i/o timeout"}],
      "createdAt": "2026-11-21T10:00:00.123000+08:00",
      "desiredStatus": "STOPPED",
      "lastStatus": "STOPPED",
      "launchType": "FARGATE",
      "stopCode": "TaskFailedToStart",
      "stoppedAt": 1763690460.5,
      "stoppedReason": "Task failed to start",
      "taskArn": "arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
    },
    {
      "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/batch",
      "containers": [{"name": "job", "lastStatus": "STOPPED", "exitCode": 0}],
      "lastStatus": "STOPPED",
      "stopCode": "EssentialContainerExited",
      "stoppedReason": "Essential container in task exited",
      "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/batch/1111111111111111"
    },
    {
      "clusterArn": "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/prod",
      "containers": [{"name": "app", "lastStatus": "STOPPED", "exitCode": 137}],
      "lastStatus": "STOPPED",
      "stopCode": "EssentialContainerExited",
      "stoppedReason": "Essential container in task exited",
      "taskArn": "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task/prod/2222222222222222"
    }
  ],
  "failures": []
}`

// TestExplainDocument explains the tasks of a describe-tasks document offline: each task's ARN
// gives its partition, region and account, the verdicts are those of explain-stopped --task.
func TestExplainDocument(t *testing.T) {
	es, err := ExplainDocument([]byte(describeTasksJSON), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("%d explanations", len(es))
	}
	never := es[0]
	if never.Verdict != checks.Fail || never.Cluster != "prod" || len(never.Diagnoses) != 1 {
		t.Fatalf("task that never ran: %+v", never)
	}
	if d := never.Diagnoses[0]; d.Service != "ecr.api" || d.Cause != CauseRegistryAuth || d.Error != checks.Timeout ||
		d.EndpointService != "cn.com.amazonaws.cn-north-1.ecr.api" || d.Source != "container:app" || len(d.Next) != 3 ||
		d.Next[0].EndpointService != "cn.com.amazonaws.cn-north-1.ecr.dkr" {
		t.Errorf("diagnosis %+v", d)
	}
	if es[1].Verdict != checks.Pass || len(es[1].Diagnoses) != 0 || es[1].Cluster != "batch" {
		t.Errorf("task that exited 0: %+v", es[1])
	}
	if es[2].Verdict != checks.Fail || len(es[2].Diagnoses) != 1 || es[2].Diagnoses[0].Error != ExitCode {
		t.Errorf("task that exited 137: %+v", es[2])
	}
}

// TestExplainDocumentRefused: a document with no task, or not JSON, is an error, the former
// ErrNoTask naming ECS's failures.
func TestExplainDocumentRefused(t *testing.T) {
	_, err := ExplainDocument([]byte(`{"tasks": [], "failures": [{"arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/0000", "reason": "MISSING"}]}`), "")
	if !errors.Is(err, ErrNoTask) {
		t.Errorf("failures only: %v", err)
	}
	if _, err := ExplainDocument([]byte(`Task failed to start`), ""); err == nil || errors.Is(err, ErrNoTask) {
		t.Errorf("not JSON: %v", err)
	}
}

// TestExplainReason explains a reason given as text: the region given names the endpoints
// where the reason names none; a reason that only says a container exited measures nothing.
func TestExplainReason(t *testing.T) {
	e := ExplainReason(`unable to retrieve secrets from ssm: RequestCanceled: request context canceled caused by: context deadline exceeded`, "us-gov-west-1")
	if e.Verdict != checks.Fail || len(e.Diagnoses) != 1 || e.Diagnoses[0].Service != "ssm" || e.Diagnoses[0].EndpointService != "com.amazonaws.us-gov-west-1.ssm" {
		t.Errorf("ssm timeout: %+v", e)
	}
	// Without an exit code, an exit is "not the network" and says where to read the code; it is
	// no failure either way (skip).
	if e := ExplainReason("Essential container in task exited", ""); e.Verdict != checks.Skip || len(e.Diagnoses) != 1 ||
		e.Diagnoses[0].Cause != CauseNotNetwork || e.Diagnoses[0].Service != "" || e.Diagnoses[0].Command == "" {
		t.Errorf("exit without a code: %+v", e)
	}
}

// TestExplainTextCommand: the text view gives a not-network answer's next command.
func TestExplainTextCommand(t *testing.T) {
	e := ExplainReason("Task failed ELB health checks in (elb elb-name)", "") // the ECS developer guide's example
	if text := string(e.Text()); !strings.Contains(text, "$ aws elbv2 describe-target-health") {
		t.Errorf("text %q", text)
	}
}
