package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// offlineDoc is a describe-tasks document of two tasks: one in China that never ran (registry
// login timed out), one that exited 0.
const offlineDoc = `{"tasks": [
 {"taskArn": "arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/0123456789abcdef", "clusterArn": "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod",
  "lastStatus": "STOPPED", "stopCode": "TaskFailedToStart", "stoppedAt": 1763690460.5,
  "stoppedReason": "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://api.ecr.cn-north-1.amazonaws.com.cn/\": dial tcp 10.0.1.5:443: i/o timeout",
  "containers": [{"name": "app", "lastStatus": "STOPPED"}]},
 {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/batch/1111", "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
  "stoppedReason": "Essential container in task exited", "containers": [{"name": "job", "lastStatus": "STOPPED", "exitCode": 0}]}
], "failures": []}`

// withStdin makes explain-stopped read s as its standard input.
func withStdin(t *testing.T, s string) {
	t.Helper()
	old := explainStdin
	explainStdin = strings.NewReader(s)
	t.Cleanup(func() { explainStdin = old })
}

// explanations decodes explain-stopped's JSON lines.
func explanations(t *testing.T, out string) []stopped.Explanation {
	t.Helper()
	var es []stopped.Explanation
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e stopped.Explanation
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		es = append(es, e)
	}
	return es
}

// TestExplainStoppedOffline: --reason, --file and stdin explain with no AWS call (no
// credentials, no endpoint: a call would be exit 2), in the task's partition or --region's, and
// with no endpoint name when no region is known.
func TestExplainStoppedOffline(t *testing.T) {
	awstest.IsolateSDK(t)
	file := filepath.Join(t.TempDir(), "tasks.json")
	if err := os.WriteFile(file, []byte(offlineDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded.`
	tests := []struct {
		name     string
		args     []string
		stdin    string
		exit     int
		verdicts []checks.Status
		endpoint string // the first diagnosis's endpoint service
		service  string
	}{
		{"reason, region given", []string{"--reason", secrets, "--region", "cn-north-1"}, "", exitFail, []checks.Status{checks.Fail}, "com.amazonaws.cn-north-1.ssm", "ssm"},
		{"reason, region from the env var", []string{"--reason", secrets}, "", exitFail, []checks.Status{checks.Fail}, "", "ssm"},
		{"reason, no region", []string{"--reason", secrets}, "", exitFail, []checks.Status{checks.Fail}, "", "ssm"},
		{"reason, only an exit", []string{"--reason", "Essential container in task exited"}, "", exitOK, []checks.Status{checks.Skip}, "", ""},
		{"file", []string{"--file", file}, "", exitFail, []checks.Status{checks.Fail, checks.Pass}, "cn.com.amazonaws.cn-north-1.ecr.api", "ecr.api"},
		{"stdin as -", []string{"-"}, offlineDoc, exitFail, []checks.Status{checks.Fail, checks.Pass}, "cn.com.amazonaws.cn-north-1.ecr.api", "ecr.api"},
		{"stdin as --file -", []string{"--file", "-", "--region", "us-gov-west-1"}, offlineDoc, exitFail, []checks.Status{checks.Fail, checks.Pass}, "cn.com.amazonaws.cn-north-1.ecr.api", "ecr.api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withStdin(t, tt.stdin)
			getenv := env()
			if strings.Contains(tt.name, "env var") {
				getenv = env("VPCPROBE_EXPLAIN_STOPPED_REGION", "cn-north-1") // explain-stopped's own, not the probe's VPCPROBE_REGION
				tt.endpoint = "com.amazonaws.cn-north-1.ssm"
			}
			code, out, errs := launchCmd(t, world{}, getenv, append([]string{"explain-stopped", "--output", "json"}, tt.args...)...)
			if code != tt.exit {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.exit, errs)
			}
			es := explanations(t, out)
			if len(es) != len(tt.verdicts) {
				t.Fatalf("%d explanations, want %d", len(es), len(tt.verdicts))
			}
			for i, e := range es {
				if e.Verdict != tt.verdicts[i] {
					t.Errorf("explanation %d: verdict %s, want %s", i, e.Verdict, tt.verdicts[i])
				}
			}
			if tt.service == "" {
				return
			}
			if d := es[0].Diagnoses[0]; d.Service != tt.service || d.EndpointService != tt.endpoint {
				t.Errorf("service %q endpoint %q, want %q %q", d.Service, d.EndpointService, tt.service, tt.endpoint)
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		code, out, _ := launchCmd(t, world{}, env(), "explain-stopped", "--output", "text", "--reason", secrets, "--region", "eu-west-1")
		if code != exitFail || !strings.Contains(out, "com.amazonaws.eu-west-1.ssm") {
			t.Errorf("exit %d, text %q", code, out)
		}
	})
}

// TestExplainStoppedOfflineUsage: every offline mistake is exit 2 with one line naming the flag
// or the input, and nothing on stdout.
func TestExplainStoppedOfflineUsage(t *testing.T) {
	awstest.IsolateSDK(t)
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"nothing to explain", []string{"--region", "eu-west-1"}, "", "--reason"},
		{"two modes", []string{"--reason", "x", "--task", "abc"}, "", "exclude"},
		{"cluster offline", []string{"--reason", "x", "--cluster", "prod"}, "", "--cluster"},
		{"ISO region", []string{"--reason", "x", "--region", "us-iso-east-1"}, "", "aws-iso"},
		{"not a region", []string{"--reason", "x", "--region", "europe"}, "", "--region"},
		{"missing file", []string{"--file", "/nonexistent/tasks.json"}, "", "--file"},
		{"stdin not JSON", []string{"-"}, "Task failed to start", "stdin"},
		{"no task", []string{"-"}, `{"tasks": [], "failures": [{"arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/0", "reason": "MISSING"}]}`, "MISSING"},
		{"document twice", []string{"-", "--file", "x.json"}, "", "once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withStdin(t, tt.stdin)
			code, out, errs := launchCmd(t, world{}, env(), append([]string{"explain-stopped"}, tt.args...)...)
			if code != exitUsage || out != "" || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit 2 naming %q", code, out, errs, tt.want)
			}
		})
	}
}

// TestExplainStoppedExitCodes: explain-stopped's exit status says what the reasons allow
// (CONTRACT.md, explain-stopped): 0 for a normal stop, 1 for an explained failure whether or
// not it is the network, 3 when nothing could be explained, the reason quoted and nothing
// invented. The reasons are the corpus's (stopped/testdata/corpus.json, sources there).
func TestExplainStoppedExitCodes(t *testing.T) {
	awstest.IsolateSDK(t)
	unknown := `DockerTimeoutError: Could not tranisition to started; timed out after waiting 8m0s` // aws-actions/amazon-ecs-deploy-task-definition#232
	mixed := `{"tasks": [
 {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/1111", "lastStatus": "STOPPED", "stopCode": "TaskFailedToStart",
  "stoppedReason": "` + unknown + `", "containers": [{"name": "app", "lastStatus": "STOPPED"}]},
 {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/2222", "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
  "stoppedReason": "OutOfMemoryError: Container killed due to memory usage", "containers": [{"name": "app", "lastStatus": "STOPPED", "exitCode": 137}]}
]}`
	unknownAndDone := `{"tasks": [
 {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/1111", "lastStatus": "STOPPED", "stopCode": "TaskFailedToStart",
  "stoppedReason": "` + unknown + `", "containers": [{"name": "app", "lastStatus": "STOPPED"}]},
 {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/batch/2222", "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
  "stoppedReason": "Essential container in task exited", "containers": [{"name": "job", "lastStatus": "STOPPED", "exitCode": 0}]}
]}`
	tests := []struct {
		name   string
		args   []string
		stdin  string
		exit   int
		cause  string // the first diagnosis's
		quoted string // a raw reason the document must quote
	}{
		{"scale-in is a normal stop", []string{"--reason", "Scaling activity initiated by (deployment ecs-svc/8646900195280463695)"}, "", exitOK, stopped.CauseStopped, ""},
		{"out of memory: explained, not the network", []string{"--reason", "OutOfMemoryError: Container killed due to memory usage"}, "", exitFail, stopped.CauseMemory, ""},
		{"ELB health checks: explained, not the network", []string{"--reason", "Task failed ELB health checks in (elb elb-name)"}, "", exitFail, stopped.CauseNotNetwork, ""},
		{"docker hub rate limit: explained", []string{"--reason", "ERROR: toomanyrequests: Too Many Requests."}, "", exitFail, stopped.CauseImagePull, ""},
		{"unknown reason: nothing explained", []string{"--reason", unknown}, "", exitUntested, stopped.CauseUnknown, unknown},
		{"task failed to start, nothing more", []string{"--reason", "Task failed to start"}, "", exitUntested, stopped.CauseFailedToStart, "Task failed to start"},
		{"an unknown and an explained task", []string{"-"}, mixed, exitFail, stopped.CauseFailedToStart, unknown},
		{"an unknown and a task that exited 0", []string{"-"}, unknownAndDone, exitUntested, stopped.CauseFailedToStart, unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withStdin(t, tt.stdin)
			code, out, errs := launchCmd(t, world{}, env(), append([]string{"explain-stopped", "--output", "json"}, tt.args...)...)
			if code != tt.exit {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.exit, errs)
			}
			if (code == exitUntested) != (strings.Count(errs, "\n") == 1) {
				t.Errorf("stderr %q: one line exactly when nothing could be explained", errs)
			}
			es := explanations(t, out)
			if len(es[0].Diagnoses) == 0 || es[0].Diagnoses[0].Cause != tt.cause {
				t.Fatalf("diagnoses %+v, want cause %s", es[0].Diagnoses, tt.cause)
			}
			if tt.quoted != "" && es[0].Diagnoses[0].Raw != tt.quoted {
				t.Errorf("raw %q, want the reason quoted: %q", es[0].Diagnoses[0].Raw, tt.quoted)
			}
			if tt.exit == exitUntested && es[0].Diagnoses[0].Service != "" {
				t.Errorf("an unknown reason blames %s", es[0].Diagnoses[0].Service)
			}
		})
	}
}
