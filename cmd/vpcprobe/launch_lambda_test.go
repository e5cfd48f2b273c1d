package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// TestMain lets this test binary be the function the Lambda runner deploys: `launch --runner
// lambda` zips its own executable (this binary) as bootstrap, and the fake's Sandbox starts it
// with AWS_LAMBDA_RUNTIME_API set, where it runs the real Lambda mode.
func TestMain(m *testing.M) {
	if inLambda(envLookup) {
		os.Exit(runLambda(envLookup, os.Stderr))
	}
	os.Exit(m.Run())
}

const testLambdaRole = "arn:aws:iam::123456789012:role/vpcprobe-lambda"

// lambdaSandbox runs the fake's functions as processes on loopback, with the SDK kept off the
// network: no instance metadata, no profile files.
func lambdaSandbox(t *testing.T, fake *fakeaws.Server) *fakeaws.Sandbox {
	t.Helper()
	home := t.TempDir()
	sb := &fakeaws.Sandbox{Dir: t.TempDir(), Command: func(ctx context.Context, path string, env []string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, path)
		cmd.Env = append(env, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+home)
		return cmd
	}}
	fake.RunFunctions(sb.Invoke)
	return sb
}

// lambdaArgs is a Lambda launch of subnets whose probes ask a loopback resolver that knows no
// name, and never the Amazon-provided resolver.
func lambdaArgs(t *testing.T, subnets string, extra ...string) []string {
	nx := awstest.Resolver(t, fakedns.NewZone())
	args := []string{"launch", "--runner", "lambda", "--subnets", subnets, "--security-groups", "sg-0d4e5f6a",
		"--lambda-role", testLambdaRole, "--services", "ecr.api", "--timeout", "1s", "--probe-deadline", "5s",
		"--probe-env", "RESOLVER=" + nx, "--probe-env", "AMAZON_DNS=", "--launch-id", "build-7", "--output", "json"}
	return append(args, extra...)
}

// TestLaunchLambda: one function per subnet, created with this executable as code, attached to
// that subnet alone with the given groups, invoked concurrently; each report read from its
// response says it ran as a Lambda function in its subnet; every function is deleted.
func TestLaunchLambda(t *testing.T) {
	fake, _, w := fakeAWS(t)
	lambdaSandbox(t, fake)
	code, out, errs := launchCmd(t, w, env(), lambdaArgs(t, "subnet-0000000a,subnet-0000000b")...)
	if code != exitFail { // ecr.api does not resolve: measured, and failed
		t.Fatalf("exit %d, want 1; stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	schematest.Check(t, []byte(out))
	var rep launch.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, out)
	}
	if rep.Runner != launch.RunnerLambda || len(rep.Subnets) != 2 {
		t.Fatalf("report head %+v", rep)
	}
	for _, s := range rep.Subnets {
		if s.Report == nil {
			t.Fatalf("%s: no report: %+v", s.Subnet, s.Diagnoses)
		}
		c := s.Report.Context
		if c.Runner != report.RunnerLambda || c.SubnetID != s.Subnet || c.FunctionName != s.FunctionName ||
			len(c.SecurityGroups) != 1 || c.SecurityGroups[0] != "sg-0d4e5f6a" || s.Report.RunID != "build-7-"+s.Subnet {
			t.Errorf("%s: context %+v, run id %s", s.Subnet, c, s.Report.RunID)
		}
		if s.Verdict != checks.Fail || len(s.Diagnoses) == 0 || s.Diagnoses[0].Service != "ecr.api" || s.Diagnoses[0].Error != checks.NXDomain {
			t.Errorf("%s: verdict %s, diagnoses %+v", s.Subnet, s.Verdict, s.Diagnoses)
		}
	}
	created := fake.FunctionsCreated()
	if len(created) != 2 {
		t.Errorf("functions created: %v, want one per subnet", created)
	}
	if left := fake.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}
	// What CreateFunction was given: the subnet alone, the groups, this binary's architecture.
	for _, r := range fake.Requests() {
		if r.Service == "lambda" && r.Status >= 400 {
			t.Errorf("%s answered %d", r.Action, r.Status)
		}
	}

	// A text report names the runner and the functions' states.
	fake2, _, w := fakeAWS(t)
	lambdaSandbox(t, fake2)
	args := lambdaArgs(t, "subnet-0000000c")
	args[len(args)-1] = "text"
	code, out, errs = launchCmd(t, w, env(), args...)
	if code != exitFail || !strings.Contains(out, "runner lambda") || !strings.Contains(out, "lambda invoked") {
		t.Errorf("exit %d, text:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// TestLaunchLambdaCouldNotTest: a launcher refused CreateFunction measured nothing: exit 3, one
// line naming the cause, and nothing created.
func TestLaunchLambdaCouldNotTest(t *testing.T) {
	tests := []struct {
		name string
		deny string
		want checks.Code
	}{
		{"create denied", "lambda:CreateFunction", checks.AccessDenied},
		{"pass role denied", "iam:PassRole", checks.AccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, _, w := fakeAWS(t)
			lambdaSandbox(t, fake)
			fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{tt.deny: true} })
			code, out, errs := launchCmd(t, w, env(), lambdaArgs(t, "subnet-0000000a")...)
			if code != 3 || !strings.Contains(errs, "could not test") {
				t.Fatalf("exit %d, want 3; stderr:\n%s", code, errs)
			}
			var rep launch.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Subnets) != 1 {
				t.Fatalf("report: %v\n%s", err, out)
			}
			if d := rep.Subnets[0].Diagnoses; len(d) != 1 || d[0].Error != tt.want || d[0].Cause != lambdafn.CauseLambda {
				t.Errorf("diagnoses %+v", d)
			}
			// Not measured is not failed: the subnet is skip, as with the ECS runner.
			if rep.Subnets[0].Verdict != checks.Skip || rep.Verdict != checks.Skip {
				t.Errorf("verdicts: subnet %s, launch %s; want skip", rep.Subnets[0].Verdict, rep.Verdict)
			}
			if left := fake.Functions(); len(left) != 0 {
				t.Errorf("functions: %v", left)
			}
		})
	}
}

// TestLaunchLambdaUsage: Lambda runner mistakes are exit 2 naming the flag, before any call.
func TestLaunchLambdaUsage(t *testing.T) {
	awstest.IsolateSDK(t)
	base := []string{"launch", "--runner", "lambda", "--subnets", "subnet-0a1b2c3d"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad runner", []string{"launch", "--runner", "batch", "--subnets", "subnet-0a1b2c3d"}, "--runner"},
		{"no groups", append(base, "--lambda-role", testLambdaRole), "--security-groups"},
		{"no role", append(base, "--security-groups", "sg-0d4e5f6a"), "--lambda-role"},
		{"bad role", append(base, "--security-groups", "sg-0d4e5f6a", "--lambda-role", "vpcprobe-lambda"), "--lambda-role"},
		{"function, two subnets", []string{"launch", "--runner", "lambda", "--subnets", "subnet-0a1b2c3d,subnet-0b2c3d4e", "--function-name", "vpcprobe"}, "--function-name"},
		{"ecs flag", append(base, "--security-groups", "sg-0d4e5f6a", "--lambda-role", testLambdaRole, "--cluster", "prod"), "--cluster"},
		{"not a zip", append(base, "--security-groups", "sg-0d4e5f6a", "--lambda-role", testLambdaRole, "--lambda-zip", "/etc/hostname"), "--lambda-zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := launchCmd(t, world{}, env(), tt.args...)
			if code != exitUsage || out != "" || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 naming %s", code, out, errs, tt.want)
			}
		})
	}
}

// TestLaunchLambdaInterrupt sends the process a real SIGINT while the functions run: the launch
// ends at once, the partial report says interrupted, and no function is left behind.
func TestLaunchLambdaInterrupt(t *testing.T) {
	fake, _, w := fakeAWS(t)
	var once sync.Once
	var mu sync.Mutex
	invoked := 0
	fake.RunFunctions(func(ctx context.Context, fn fakeaws.Function, payload []byte) (fakeaws.InvokeResult, error) {
		mu.Lock()
		invoked++
		if invoked == 2 { // both functions are running: interrupt the launch
			once.Do(func() { syscall.Kill(os.Getpid(), syscall.SIGINT) })
		}
		mu.Unlock()
		<-ctx.Done() // a probe that takes its time; the launcher hangs up
		return fakeaws.InvokeResult{}, ctx.Err()
	})
	done := make(chan struct{})
	var code int
	var out, errs string
	go func() {
		defer close(done)
		code, out, errs = launchCmd(t, w, env(), lambdaArgs(t, "subnet-0000000a,subnet-0000000b")...)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the launch did not end after SIGINT")
	}
	if code != exitFail || !strings.Contains(errs, "interrupted") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	var rep launch.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Interrupted {
		t.Fatalf("partial report: %v %+v", err, rep)
	}
	for _, s := range rep.Subnets {
		if len(s.Diagnoses) == 0 || s.Diagnoses[len(s.Diagnoses)-1].Error != stopped.Interrupted {
			t.Errorf("%s: diagnoses %+v", s.Subnet, s.Diagnoses)
		}
	}
	if n := len(fake.FunctionsCreated()); n != 2 {
		t.Errorf("%d functions created, want 2", n)
	}
	if left := fake.Functions(); len(left) != 0 {
		t.Errorf("functions left behind after the interrupt: %v", left)
	}
}

// TestLaunchLambdaForTask: "my task failed" to a live report from its subnet in one command —
// --for-task gives the function the stopped task's subnet and its service's security groups, and
// the services its task definition needs travel in the event; the stopped reason is shown beside.
func TestLaunchLambdaForTask(t *testing.T) {
	fake, srv, w := fakeAWS(t)
	lambdaSandbox(t, fake)
	fake.AddService(fakeaws.ECSService{Cluster: "shop", Name: "web", Subnets: []string{"subnet-0000000b"},
		SecurityGroups: []string{"sg-0e1e1e1e"}, AssignPublicIP: "ENABLED"})
	fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		return fakeaws.TaskScript{Pending: 1, NeverRuns: true, StoppedReason: authTimeout}
	})
	arn := appTask(t, fake, srv, "subnet-0000000b", "service:web", false)
	nx := awstest.Resolver(t, fakedns.NewZone())
	code, out, errs := launchCmd(t, w, env(), "launch", "--runner", "lambda", "--for-task", arn, "--cluster", "shop",
		"--lambda-role", testLambdaRole, "--timeout", "1s", "--probe-deadline", "5s",
		"--probe-env", "RESOLVER="+nx, "--probe-env", "AMAZON_DNS=", "--output", "json")
	if code != exitFail {
		t.Fatalf("exit %d, want 1; stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	var rep launch.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, out)
	}
	if rep.ForTask == nil || rep.ForTask.TaskARN != arn || rep.Needs == nil || len(rep.Subnets) != 1 {
		t.Fatalf("report: for_task %+v, needs %v, %d subnets", rep.ForTask, rep.Needs != nil, len(rep.Subnets))
	}
	s := rep.Subnets[0]
	if s.Subnet != "subnet-0000000b" || s.Report == nil {
		t.Fatalf("subnet %s, report %v: want the task's subnet with a report", s.Subnet, s.Report != nil)
	}
	if g := s.Report.Context.SecurityGroups; len(g) != 1 || g[0] != "sg-0e1e1e1e" {
		t.Errorf("the function's groups %v, want the service's", g)
	}
	var got []string
	for _, sr := range s.Report.Services {
		got = append(got, sr.Service)
	}
	for _, key := range rep.Needs.Services {
		if !slices.Contains(got, key) {
			t.Errorf("the task definition needs %s; the function probed %v", key, got)
		}
	}
	if left := fake.Functions(); len(left) != 0 {
		t.Errorf("functions left: %v", left)
	}
}
