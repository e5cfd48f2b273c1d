package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// fakeAWS serves the fake behind TLS and points the SDK's standard environment at it: endpoint,
// CA bundle, static credentials, region. The launcher polls every millisecond.
func fakeAWS(t *testing.T) (*fakeaws.Server, *awstest.Server, world) {
	t.Helper()
	awstest.StaticCredentials(t)
	fake := fakeaws.New(fakeaws.DefaultConfig())
	srv := awstest.Front(t, fake)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_CA_BUNDLE", srv.CAFile)
	t.Setenv("AWS_REGION", "eu-west-1")
	w := world{reportWait: 200 * time.Millisecond, tuneLauncher: func(l *launch.Shared) {
		l.PollFirst, l.PollMax = time.Millisecond, 5*time.Millisecond
	}}
	return fake, srv, w
}

// probeTask is a task that runs once polled and writes the probe's events under its run id.
func probeTask(fake *fakeaws.Server, exit int, failed string) fakeaws.TaskScript {
	return fakeaws.TaskScript{ExitCode: exit, OnRunning: func(task fakeaws.ECSTask) {
		// A whole report, as a real probe writes it: the launch report that carries it is
		// validated against the JSON Schema.
		rep := &report.Report{Schema: report.Schema, RunID: task.Env("vpcprobe", "VPCPROBE_RUN_ID"), Verdict: checks.Pass,
			StartedAt: "2026-11-21T10:00:00.000Z", Delivery: report.Delivery{CloudWatch: report.Delivered},
			Context: report.Context{Region: "eu-west-1", Partition: "aws", Resolvers: []string{"10.0.0.2:53"}}}
		for _, key := range []string{"ecr.api", "ecr.dkr", "s3"} {
			svc, _ := catalogue.Lookup(key)
			sr := report.ServiceReport{Service: key, Host: svc.Host("eu-west-1", "123456789012"),
				EndpointService: svc.EndpointService("eu-west-1"), EndpointType: svc.EndpointType(),
				Verdict: checks.Pass, Route: report.RoutePrivate, Addresses: []string{"10.0.1.5"},
				Checks: []report.CheckReport{{Name: "dns", Status: checks.Pass}}}
			if key == failed {
				sr.Verdict, sr.Error, rep.Verdict = checks.Fail, checks.Timeout, checks.Fail
				sr.Checks = append(sr.Checks, report.CheckReport{Name: "tcp", Status: checks.Fail, Error: checks.Timeout})
				sr.Diagnosis, sr.Remediation = "TCP 443 to the endpoint timed out.", "Allow TCP 443 from the task subnet."
			}
			rep.Services = append(rep.Services, sr)
		}
		var msgs []string
		for _, e := range rep.Events(time.Now()) {
			msgs = append(msgs, string(e))
		}
		fake.WriteLogEvents(task.Env("vpcprobe", "VPCPROBE_LOG_GROUP"), "probe", msgs...)
	}}
}

func launchCmd(t testing.TB, w world, getenv func(string) (string, bool), args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := w.run(args, getenv, &out, &errb)
	checkDocuments(t, out.Bytes())
	return code, out.String(), errb.String()
}

// TestLaunchUsage: every mistake is exit 2, one line on stderr naming the flag, nothing on stdout,
// and no AWS call.
func TestLaunchUsage(t *testing.T) {
	awstest.IsolateSDK(t)
	base := []string{"launch", "--cluster", "prod", "--task-definition", "vpcprobe", "--subnets", "subnet-0a1b2c3d"}
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no cluster", nil, []string{"launch", "--task-definition", "vpcprobe", "--subnets", "subnet-0a1b2c3d"}, "--cluster"},
		{"no task definition", nil, []string{"launch", "--cluster", "prod", "--subnets", "subnet-0a1b2c3d"}, "--task-definition"},
		{"no subnets", nil, []string{"launch", "--cluster", "prod", "--task-definition", "vpcprobe"}, "--subnets"},
		{"bad subnet", nil, append(base, "--subnets", "subnet-xyz"), "--subnets"},
		{"bad subnet env", []string{"VPCPROBE_LAUNCH_SUBNETS", "subnet-0a1b2c3d,sg-0a1b2c3d"}, []string{"launch", "--cluster", "prod", "--task-definition", "vpcprobe"}, "VPCPROBE_LAUNCH_SUBNETS=subnet-0a1b2c3d,sg-0a1b2c3d:"},
		{"bad security group", nil, append(base, "--security-groups", "default"), "--security-groups"},
		{"six security groups", nil, append(base, "--security-groups", "sg-0000000a,sg-0000000b,sg-0000000c,sg-0000000d,sg-0000000e,sg-0000000f"), "--security-groups"},
		{"bad launch type", nil, append(base, "--launch-type", "LAMBDA"), "--launch-type"},
		{"launch type and capacity provider", nil, append(base, "--launch-type", "EC2", "--capacity-provider", "FARGATE_SPOT"), "--capacity-provider"},
		{"bad output", nil, append(base, "--output", "yaml"), "--output"},
		{"bad services", nil, append(base, "--services", "ecr,sts"), "--services"},
		{"bad services env", []string{"VPCPROBE_LAUNCH_SERVICES", "dynamo"}, base, "VPCPROBE_LAUNCH_SERVICES=dynamo:"},
		{"zero timeout", nil, append(base, "--timeout", "0s"), "--timeout"},
		{"probe deadline under timeout", nil, append(base, "--timeout", "10s", "--probe-deadline", "5s"), "--probe-deadline"},
		{"bad deadline env", []string{"VPCPROBE_LAUNCH_DEADLINE", "soon"}, base, "VPCPROBE_LAUNCH_DEADLINE=soon:"},
		{"zero timeout env", []string{"VPCPROBE_LAUNCH_TIMEOUT", "0s"}, base, "VPCPROBE_LAUNCH_TIMEOUT=0s:"},
		{"bad bool flag", nil, append(base, "--assign-public-ip=maybe"), "--assign-public-ip"},
		{"negative deadline", nil, append(base, "--deadline", "-1m"), "--deadline"},
		{"bad account", nil, append(base, "--account", "123"), "--account"},
		{"bad probe env", nil, append(base, "--probe-env", "no-equals"), "--probe-env"},
		{"probe env run id", nil, append(base, "--probe-env", "RUN_ID=x"), "--probe-env"},
		{"bad launch id", nil, append(base, "--launch-id", `a"b`), "--launch-id"},
		{"unknown flag", nil, append(base, "--subnet", "subnet-0a1b2c3d"), "subnet"},
		{"positional argument", nil, append(base, "now"), "now"},
		{"no region", nil, base, "--region"},
		{"bad region", nil, append(base, "--region", "Ireland"), "--region"},
		{"explain: no cluster", nil, []string{"explain-stopped", "--task", "abc"}, "--cluster"},
		{"explain: no task", nil, []string{"explain-stopped", "--cluster", "prod"}, "--task"},
		{"explain: bad output", nil, []string{"explain-stopped", "--cluster", "prod", "--task", "abc", "--output", "xml"}, "--output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.env) > 0 && tt.env[0] == "AWS_REGION" {
				t.Setenv("AWS_REGION", tt.env[1]) // the SDK reads the process environment
			}
			code, out, errs := launchCmd(t, world{}, env(tt.env...), tt.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errs)
			}
			if out != "" {
				t.Errorf("a usage error printed %q", out)
			}
			if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q: want one line naming %q", errs, tt.want)
			}
			if goInternals.MatchString(errs) {
				t.Errorf("stderr %q speaks Go, not plain words", errs)
			}
		})
	}
}

// TestLaunchOwnEnvironment: launch reads VPCPROBE_LAUNCH_<FLAG>, never the probe's own
// VPCPROBE_<FLAG> (which may be set for a probe on the same host).
func TestLaunchOwnEnvironment(t *testing.T) {
	t.Parallel()
	o := &launchOptions{}
	fs := newLaunchFlags(o, io.Discard)
	err := parseFlags(fs, nil, env("VPCPROBE_DEADLINE", "soon", "VPCPROBE_TIMEOUT", "1s", "VPCPROBE_CLUSTER", "other",
		"VPCPROBE_LAUNCH_DEADLINE", "2m", "VPCPROBE_LAUNCH_CLUSTER", "prod"))
	if err != nil {
		t.Fatal(err)
	}
	if o.deadline != 2*time.Minute || o.timeout != 5*time.Second || o.cluster != "prod" {
		t.Errorf("deadline %s timeout %s cluster %q: want 2m, the default 5s, prod", o.deadline, o.timeout, o.cluster)
	}
	var help bytes.Buffer
	newLaunchFlags(&launchOptions{}, &help).Usage()
	if !strings.Contains(help.String(), "$VPCPROBE_LAUNCH_DEADLINE") || strings.Contains(help.String(), "$VPCPROBE_DEADLINE") {
		t.Errorf("launch --help does not document VPCPROBE_LAUNCH_DEADLINE alone:\n%s", help.String())
	}
}

func TestLaunchHelp(t *testing.T) {
	t.Parallel()
	w := world{}
	for _, sub := range []string{"launch", "explain-stopped"} {
		code, out, _ := launchCmd(t, w, env(), sub, "--help")
		if code != exitOK || !strings.Contains(out, "Usage: vpcprobe "+sub) || !strings.Contains(out, "$"+envName(sub)+"_CLUSTER") {
			t.Errorf("%s --help: exit %d\n%s", sub, code, out)
		}
	}
}

// TestLaunchCommand runs "vpcprobe launch" against the fake through the SDK's standard
// environment: a subnet that passes, one whose probe fails and one whose task never ran.
func TestLaunchCommand(t *testing.T) {
	fake, _, w := fakeAWS(t)
	fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		switch task.Subnets[0] {
		case "subnet-0000000b":
			return probeTask(fake, 1, "ecr.dkr")
		case "subnet-0000000c":
			reason := `ResourceInitializationError: failed to validate logger args: The task cannot find the Amazon CloudWatch log group defined in the task definition. There is a connection issue between the task and Amazon CloudWatch. Check your network configuration. signal: killed`
			return fakeaws.TaskScript{NeverRuns: true, StoppedReason: reason}
		}
		return probeTask(fake, 0, "")
	})
	code, out, errs := launchCmd(t, w, env("VPCPROBE_LAUNCH_SECURITY_GROUPS", "sg-0d4e5f6a"),
		"launch", "--cluster", "prod", "--task-definition", "vpcprobe:3", "--subnets", "subnet-0000000a,subnet-0000000b,subnet-0000000c",
		"--services", "ecr.api,ecr.dkr,s3", "--require-private", "--launch-id", "build-42", "--output", "json")
	if code != exitFail {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errs)
	}
	var rep launch.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, out)
	}
	want := map[string]checks.Status{"subnet-0000000a": checks.Pass, "subnet-0000000b": checks.Fail, "subnet-0000000c": checks.Fail}
	for _, s := range rep.Subnets {
		if s.Verdict != want[s.Subnet] {
			t.Errorf("%s: verdict %s, want %s (%+v)", s.Subnet, s.Verdict, want[s.Subnet], s.Diagnoses)
		}
		if s.Subnet == "subnet-0000000c" && (len(s.Diagnoses) != 1 || s.Diagnoses[0].Service != "logs" || s.Diagnoses[0].Error != checks.Timeout) {
			t.Errorf("never-ran subnet: %+v", s.Diagnoses)
		}
	}
	if rep.Schema != "vpcprobe-launch/v1" || rep.LaunchID != "build-42" || len(rep.Subnets) != 3 {
		t.Errorf("report head %+v", rep)
	}
	for _, task := range fake.ECSTasks() {
		for name, value := range map[string]string{
			"VPCPROBE_SERVICES": "ecr.api,ecr.dkr,s3", "VPCPROBE_REQUIRE_PRIVATE": "true", "VPCPROBE_LOG_GROUP": "/vpcprobe",
			"VPCPROBE_RUN_ID": "build-42-" + task.Subnets[0],
		} {
			if got := task.Env("vpcprobe", name); got != value {
				t.Errorf("%s = %q, want %q", name, got, value)
			}
		}
		if got := task.Env("vpcprobe", "VPCPROBE_TIMEOUT"); got != "" {
			t.Errorf("a probe setting not given was passed: VPCPROBE_TIMEOUT=%q", got)
		}
		if task.SecurityGroups[0] != "sg-0d4e5f6a" || task.LaunchType != "FARGATE" {
			t.Errorf("task %+v", task)
		}
	}
	if !strings.Contains(errs, "started") {
		t.Errorf("no progress on stderr: %q", errs)
	}

	// The same launch where every subnet passes exits 0.
	code, out, errs = launchCmd(t, w, env(), "launch", "--cluster", "prod", "--task-definition", "vpcprobe:3",
		"--subnets", "subnet-0000000a", "--output", "text")
	if code != exitOK || !strings.Contains(out, "subnet-0000000a") || !strings.Contains(out, "VERDICT") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}

// TestLaunchInterruptSignal sends the process a real SIGINT while the launch waits for tasks
// that never leave PENDING: the tasks are stopped and the partial report is printed, exit 1.
func TestLaunchInterruptSignal(t *testing.T) {
	fake, _, w := fakeAWS(t)
	var once sync.Once
	fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		if task.Subnets[0] == "subnet-0000000b" { // the last task started: interrupt the wait
			once.Do(func() {
				go func() {
					time.Sleep(20 * time.Millisecond)
					syscall.Kill(os.Getpid(), syscall.SIGINT)
				}()
			})
		}
		return fakeaws.TaskScript{Pending: fakeaws.Forever}
	})
	done := make(chan struct{})
	var code int
	var out, errs string
	go func() {
		defer close(done)
		code, out, errs = launchCmd(t, w, env(), "launch", "--cluster", "prod", "--task-definition", "vpcprobe",
			"--subnets", "subnet-0000000a,subnet-0000000b", "--output", "json")
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the launch did not end after SIGINT")
	}
	if code != exitFail || !strings.Contains(errs, "interrupted") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	var rep launch.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Interrupted {
		t.Fatalf("partial report: %v %+v", err, rep)
	}
	tasks := fake.ECSTasks()
	if len(tasks) != 2 {
		t.Fatalf("%d tasks", len(tasks))
	}
	for _, task := range tasks {
		if !task.StopCalled || !strings.Contains(task.StopReason, "interrupted") {
			t.Errorf("%s not stopped (reason %q)", task.ARN, task.StopReason)
		}
	}
}

// TestExplainStopped explains a stopped task of the fake, and refuses an unknown one with exit 2.
func TestExplainStopped(t *testing.T) {
	fake, srv, w := fakeAWS(t)
	reason := `CannotPullContainerError: API error (500): Get https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`
	fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript {
		return fakeaws.TaskScript{NeverRuns: true, StoppedReason: reason}
	})
	client := ecs.NewFromConfig(srv.SDKConfig(3), func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	run, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("app"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-0000000a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	for range 3 { // let it stop
		if _, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{arn}}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := launchCmd(t, w, env(), "explain-stopped", "--cluster", "prod", "--task", arn, "--output", "json")
	if code != exitFail {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var e stopped.Explanation
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Diagnoses) != 1 || e.Diagnoses[0].Service != "ecr.dkr" || e.Diagnoses[0].Error != checks.Timeout || e.StoppedReason != reason {
		t.Errorf("explanation %+v", e)
	}
	code, _, errs = launchCmd(t, w, env(), "explain-stopped", "--cluster", "prod", "--task", "0123456789abcdef")
	if code != exitUsage || !strings.Contains(errs, "--task") {
		t.Errorf("unknown task: exit %d, stderr %q", code, errs)
	}
}

// TestCouldNotTest: when nothing was measured (no credentials, a permission denied, an ECS call
// failing for every subnet, every service skipped) the exit is 3 with one line naming the cause;
// a launch where some subnet was measured exits by what was measured.
func TestCouldNotTest(t *testing.T) {
	launchArgs := []string{"launch", "--cluster", "prod", "--task-definition", "vpcprobe", "--output", "json"}
	tests := []struct {
		name    string
		deny    string // an IAM action the fake denies
		reject  string // a subnet whose RunTask the fake rejects
		creds   bool   // credentials for the SDK
		args    []string
		code    int
		want    string // in the one stderr line, when code is 3
		verdict checks.Status
	}{
		{"launch without credentials", "", "", false, append(launchArgs, "--subnets", "subnet-0000000a"), exitUntested, "credentials", ""},
		{"lambda launch without credentials", "", "", false, []string{"launch", "--runner", "lambda", "--subnets", "subnet-0000000a",
			"--security-groups", "sg-0000000a", "--lambda-role", "arn:aws:iam::123456789012:role/vpcprobe-lambda"}, exitUntested, "credentials", ""},
		{"launch without iam:PassRole", "iam:PassRole", "", true, append(launchArgs, "--subnets", "subnet-0000000a,subnet-0000000b"), exitUntested, "iam:PassRole", checks.Skip},
		{"launch without ecs:RunTask", "ecs:RunTask", "", true, append(launchArgs, "--subnets", "subnet-0000000a"), exitUntested, "ecs:RunTask", checks.Skip},
		{"launch partly measured", "", "subnet-0000000b", true, append(launchArgs, "--subnets", "subnet-0000000a,subnet-0000000b"), exitOK, "", checks.Pass},
		{"explain without credentials", "", "", false, []string{"explain-stopped", "--cluster", "prod", "--task", "abc"}, exitUntested, "credentials", ""},
		{"explain without ecs:DescribeTasks", "ecs:DescribeTasks", "", true, []string{"explain-stopped", "--cluster", "prod", "--task", "abc"}, exitUntested, "ecs:DescribeTasks", ""},
		{"inspect without credentials", "", "", false, []string{"inspect", "--subnet", "subnet-0a1b2c3d"}, exitUntested, "credentials", ""},
		{"probe with every service skipped", "", "", false, []string{"--amazon-dns", "", "--resolver", "127.0.0.1:1", "--services", "ecr.dkr", "--timeout", "1s"}, exitUntested, "registry account unknown", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, _, w := fakeAWS(t)
			if !tt.creds {
				awstest.IsolateSDK(t)
				t.Setenv("AWS_REGION", "eu-west-1")
			}
			fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{tt.deny: true} })
			fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
				if task.Subnets[0] == tt.reject {
					return fakeaws.TaskScript{Reject: "The subnet ID '" + tt.reject + "' does not exist"}
				}
				return probeTask(fake, 0, "")
			})
			code, out, errs := launchCmd(t, w, env("AWS_REGION", "eu-west-1"), tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errs)
			}
			if tt.code == exitUntested {
				last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
				if !strings.Contains(last, "could not test") || !strings.Contains(last, tt.want) {
					t.Errorf("last stderr line %q: want could not test naming %q", last, tt.want)
				}
			}
			if tt.verdict == checks.Skip { // the fake's probe reports are sketches: only these are whole
				schematest.Check(t, []byte(out))
			}
			if tt.verdict != "" {
				var rep launch.Report
				if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Verdict != tt.verdict {
					t.Errorf("report verdict %s (%v), want %s", rep.Verdict, err, tt.verdict)
				}
			}
		})
	}
}

// TestExplainStoppedTaskARN: a full task ARN names its cluster and region, so --task alone
// describes it (with no AWS_REGION set); a --cluster the ARN contradicts is bad usage; a reason
// no rule knows is exit 3 with the reason quoted.
func TestExplainStoppedTaskARN(t *testing.T) {
	fake, srv, w := fakeAWS(t)
	reasons := map[string]string{"known": `CannotPullContainerError: API error (500): Get https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`,
		"unknown": `DockerTimeoutError: Could not tranisition to started; timed out after waiting 8m0s`}
	fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		return fakeaws.TaskScript{NeverRuns: true, StoppedReason: reasons[task.StartedBy]}
	})
	client := ecs.NewFromConfig(srv.SDKConfig(3), func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	arns := map[string]string{}
	for kind := range reasons {
		run, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("app"), StartedBy: aws.String(kind),
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-0000000a"}}}})
		if err != nil {
			t.Fatal(err)
		}
		arns[kind] = aws.ToString(run.Tasks[0].TaskArn)
		for range 3 { // let it stop
			if _, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{arns[kind]}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	code, out, errs := launchCmd(t, w, env(), "explain-stopped", "--task", arns["known"], "--output", "json")
	if code != exitFail {
		t.Fatalf("--task ARN without --cluster: exit %d, stderr %q", code, errs)
	}
	var e stopped.Explanation
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	if e.Cluster != "prod" || len(e.Diagnoses) != 1 || e.Diagnoses[0].Service != "ecr.dkr" || e.Diagnoses[0].EndpointService != "com.amazonaws.eu-west-1.ecr.dkr" {
		t.Errorf("explanation %+v", e)
	}
	code, out, errs = launchCmd(t, w, env(), "explain-stopped", "--task", arns["unknown"], "--output", "json")
	if code != exitUntested || !strings.Contains(out, `"raw":"`+reasons["unknown"]+`"`) || strings.Count(errs, "\n") != 1 {
		t.Errorf("unknown reason: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, errs = launchCmd(t, w, env(), "explain-stopped", "--cluster", "staging", "--task", arns["known"])
	if code != exitUsage || out != "" || !strings.Contains(errs, "--cluster") {
		t.Errorf("contradicting --cluster: exit %d, stderr %q", code, errs)
	}
}

// TestLaunchManagedInstances: a launch onto ECS Managed Instances (the launch type, or a
// capacity provider of type MANAGED_INSTANCES) runs the probe as a task there and says on stderr
// which runner reaches those instances, the instance mode having no shell to run in (AWS-NOTES,
// "ECS Managed Instances": no SSH or Session Manager); a Fargate launch says nothing of it.
func TestLaunchManagedInstances(t *testing.T) {
	fake, _, w := fakeAWS(t)
	fake.SetCapacityProviders(map[string]string{"mi-private": "MANAGED_INSTANCES"})
	fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript { return probeTask(fake, 0, "") })
	for _, tc := range []struct {
		name string
		args []string
		note bool
	}{
		{"capacity provider", []string{"--capacity-provider", "mi-private"}, true},
		{"launch type", []string{"--launch-type", "MANAGED_INSTANCES"}, true},
		{"Fargate", []string{"--launch-type", "FARGATE"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"launch", "--cluster", "prod", "--task-definition", "vpcprobe:3", "--subnets", "subnet-0000000a",
				"--security-groups", "sg-0d4e5f6a", "--output", "json"}, tc.args...)
			code, _, errs := launchCmd(t, w, env(), args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, errs)
			}
			said := strings.Contains(errs, "instance mode") && strings.Contains(errs, "--runner lambda")
			if said != tc.note {
				t.Errorf("runner note %v, want %v; stderr:\n%s", said, tc.note, errs)
			}
		})
	}
}
