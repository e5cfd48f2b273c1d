package ecstask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// world is the fake ECS and CloudWatch Logs behind a TLS test server, the real SDK clients
// aimed at it, and a launcher with millisecond polls.
type world struct {
	fake *fakeaws.Server
	l    *Runner
	ecs  *ecs.Client
}

func newWorld(t *testing.T, cfg fakeaws.Config) *world {
	t.Helper()
	awstest.IsolateSDK(t)
	fake := fakeaws.New(cfg)
	srv := awstest.Front(t, fake)
	awsCfg := srv.SDKConfig(3)
	ecsClient := ecs.NewFromConfig(awsCfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	logsClient := cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	return &world{fake: fake, ecs: ecsClient, l: &Runner{
		ECS: ecsClient, Logs: logsClient, ReportWait: 300 * time.Millisecond,
		Shared: launch.Shared{PollFirst: time.Millisecond, PollMax: 5 * time.Millisecond, StopTimeout: 5 * time.Second},
	}}
}

// config is a launch of the probe's task definition in subnets.
func config(subnets ...string) Config {
	return Config{
		LaunchID: "L1", Cluster: "prod", TaskDefinition: "vpcprobe:3", Subnets: subnets,
		SecurityGroups: []string{"sg-0d4e5f"}, LaunchType: "FARGATE", Container: "vpcprobe",
		Env:      []EnvVar{{"VPCPROBE_SERVICES", "ecr.api,ecr.dkr,s3,logs,sts"}, {"VPCPROBE_LOG_GROUP", "/vpcprobe"}},
		LogGroup: "/vpcprobe", Deadline: 20 * time.Second,
	}
}

// probeReport is the report a probe would write: every service passes except those in failed,
// which fail with a timeout.
func probeReport(runID string, failed ...string) *report.Report {
	rep := &report.Report{Schema: report.Schema, RunID: runID, Verdict: checks.Pass, StartedAt: "2026-11-21T10:00:00.000Z",
		Context: report.Context{Region: "eu-west-1", Resolvers: []string{"10.0.0.2:53"}}, Delivery: report.Delivery{CloudWatch: report.Delivered}}
	for _, key := range []string{"ecr.api", "ecr.dkr", "s3", "logs", "sts"} {
		svc, _ := catalogue.Lookup(key)
		sr := report.ServiceReport{Service: key, Host: svc.Host("eu-west-1", "123456789012"), EndpointService: svc.EndpointService("eu-west-1"),
			EndpointType: svc.EndpointType(), Verdict: checks.Pass, Route: report.RoutePrivate, Addresses: []string{"10.0.1.5"},
			Checks: []report.CheckReport{}}
		for _, f := range failed {
			if f == key {
				sr.Verdict, sr.Error = checks.Fail, checks.Timeout
				sr.Diagnosis, sr.Remediation = "TCP 443 timed out.", "Allow TCP 443."
				rep.Verdict = checks.Fail
			}
		}
		rep.Services = append(rep.Services, sr)
	}
	return rep
}

// probeTask is a task that runs and, as the probe does, writes its report's events to
// /vpcprobe under the run id its overrides gave it, and exits with exit.
func (w *world) probeTask(exit int, failed ...string) fakeaws.TaskScript {
	return fakeaws.TaskScript{Provisioning: 1, Pending: 1, Running: 1, ExitCode: exit, OnRunning: func(task fakeaws.ECSTask) {
		runID := task.Env("vpcprobe", "VPCPROBE_RUN_ID")
		var msgs []string
		for _, e := range probeReport(runID, failed...).Events(time.Now()) {
			msgs = append(msgs, string(e))
		}
		w.fake.WriteLogEvents(task.Env("vpcprobe", "VPCPROBE_LOG_GROUP"), taskID(task.ARN)+"/2026-11-21T10-00-00Z", msgs...)
	}}
}

func exitCode(n int) *int { return &n }

func find(t *testing.T, rep *launch.Report, subnet string) launch.SubnetReport {
	t.Helper()
	for _, s := range rep.Subnets {
		if s.Subnet == subnet {
			return s
		}
	}
	t.Fatalf("no subnet %s in %+v", subnet, rep.Subnets)
	return launch.SubnetReport{}
}

func hasDiagnosis(s launch.SubnetReport, service string, code checks.Code, cause string) bool {
	for _, d := range s.Diagnoses {
		if d.Service == service && d.Error == code && d.Cause == cause {
			return true
		}
	}
	return false
}

// TestLaunch runs one launch across subnets that each end differently, as subnets in different
// zones do, and checks each subnet's verdict and diagnosis.
func TestLaunch(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	pull := `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/vpcprobe:latest: failed to do request: Head "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/vpcprobe/manifests/latest": dial tcp 10.0.2.51:443: i/o timeout`
	secrets := `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded. Please check your task network configuration.`
	logger := `ResourceInitializationError: failed to validate logger args: The task cannot find the Amazon CloudWatch log group defined in the task definition. There is a connection issue between the task and Amazon CloudWatch. Check your network configuration. signal: killed`
	auth := `ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. Check your task network configuration. operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post "https://api.ecr.eu-west-1.amazonaws.com/": dial tcp 35.180.244.40:443: i/o timeout.`
	neverRuns := func(reason string) fakeaws.TaskScript {
		return fakeaws.TaskScript{Pending: 2, NeverRuns: true, StoppedReason: reason,
			Containers: []fakeaws.ContainerScript{{Name: "vpcprobe", Reason: reason}}}
	}
	w.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		switch task.Subnets[0] {
		case "subnet-pass":
			return w.probeTask(0)
		case "subnet-fail":
			return w.probeTask(1, "ecr.dkr")
		case "subnet-pull":
			return neverRuns(pull)
		case "subnet-auth":
			return neverRuns(auth)
		case "subnet-secrets":
			return neverRuns(secrets)
		case "subnet-logger":
			return neverRuns(logger)
		case "subnet-oom":
			return fakeaws.TaskScript{Running: 1, StoppedReason: "Essential container in task exited",
				Containers: []fakeaws.ContainerScript{{Name: "vpcprobe", Reason: "OutOfMemoryError: Container killed due to memory", ExitCode: exitCode(137)}}}
		case "subnet-full":
			return fakeaws.TaskScript{Failure: "Capacity is unavailable at this time. Please try again later or in a different availability zone"}
		case "subnet-eni":
			return fakeaws.TaskScript{Provisioning: 2, NeverRuns: true, StoppedReason: "Timeout waiting for network interface provisioning to complete."}
		case "subnet-bad":
			return fakeaws.TaskScript{Reject: "Error retrieving subnet information for [subnet-bad]: The subnet ID 'subnet-bad' does not exist (ECS)"}
		}
		t.Errorf("unexpected subnet %v", task.Subnets)
		return fakeaws.TaskScript{}
	})
	subnets := []string{"subnet-pass", "subnet-fail", "subnet-pull", "subnet-auth", "subnet-secrets", "subnet-logger", "subnet-oom", "subnet-full", "subnet-eni", "subnet-bad"}
	rep := w.l.Run(context.Background(), config(subnets...))

	tests := []struct {
		subnet  string
		verdict checks.Status
		service string
		code    checks.Code
		cause   string
	}{
		{"subnet-pass", checks.Pass, "", "", ""},
		{"subnet-fail", checks.Fail, "ecr.dkr", checks.Timeout, stopped.CauseProbe},
		{"subnet-pull", checks.Fail, "ecr.dkr", checks.Timeout, stopped.CauseImagePull},
		{"subnet-auth", checks.Fail, "ecr.api", checks.Timeout, stopped.CauseRegistryAuth},
		{"subnet-secrets", checks.Fail, "ssm", checks.Timeout, stopped.CauseSecrets},
		{"subnet-logger", checks.Fail, "logs", checks.Timeout, stopped.CauseLogger},
		{"subnet-oom", checks.Fail, "", stopped.OutOfMemory, stopped.CauseMemory},
		{"subnet-full", checks.Fail, "", stopped.Capacity, stopped.CauseCapacity},
		{"subnet-eni", checks.Fail, "", stopped.NetworkInterface, stopped.CauseENI},
		{"subnet-bad", checks.Skip, "", stopped.TaskConfig, stopped.CauseRunTask}, // RunTask refused: not measured
	}
	for _, tt := range tests {
		t.Run(tt.subnet, func(t *testing.T) {
			s := find(t, rep, tt.subnet)
			if s.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s; diagnoses %+v", s.Verdict, tt.verdict, s.Diagnoses)
			}
			if tt.cause == "" {
				if len(s.Diagnoses) != 0 || s.Report == nil || s.ExitCode == nil || *s.ExitCode != 0 {
					t.Errorf("a passing subnet: report %v exit %v diagnoses %+v", s.Report != nil, s.ExitCode, s.Diagnoses)
				}
				return
			}
			if !hasDiagnosis(s, tt.service, tt.code, tt.cause) {
				t.Errorf("no %s %s %s diagnosis in %+v", tt.service, tt.code, tt.cause, s.Diagnoses)
			}
		})
	}
	if rep.Verdict != checks.Fail || !rep.Failed() || rep.Interrupted {
		t.Errorf("launch verdict %s, interrupted %v", rep.Verdict, rep.Interrupted)
	}
	if s := find(t, rep, "subnet-auth"); len(s.Diagnoses) == 0 || len(s.Diagnoses[0].Next) != 3 {
		t.Errorf("the registry-login diagnosis names no next hops: %+v", s.Diagnoses)
	}
	schematest.Check(t, rep.JSON()) // route, address and next hops included
	if s := find(t, rep, "subnet-pull"); s.StoppedReason == "" || s.ExitCode != nil || s.LastStatus != "STOPPED" || s.TaskARN == "" {
		t.Errorf("never-ran subnet: %+v", s)
	}
	if s := find(t, rep, "subnet-fail"); s.Report == nil || s.Report.RunID != "L1-subnet-fail" {
		t.Errorf("the failing subnet's report was not read back: %+v", s.Report)
	}

	// What RunTask was given: one subnet each, the probe's settings and its run id.
	for _, task := range w.fake.ECSTasks() {
		if len(task.Subnets) != 1 || task.LaunchType != "FARGATE" || task.AssignPublicIP != "DISABLED" || task.SecurityGroups[0] != "sg-0d4e5f" {
			t.Errorf("task started with %+v", task)
		}
		if got := task.Env("vpcprobe", "VPCPROBE_RUN_ID"); got != "L1-"+task.Subnets[0] {
			t.Errorf("VPCPROBE_RUN_ID = %q", got)
		}
		if got := task.Env("vpcprobe", "VPCPROBE_SERVICES"); got != "ecr.api,ecr.dkr,s3,logs,sts" {
			t.Errorf("VPCPROBE_SERVICES = %q", got)
		}
		if task.StopCalled {
			t.Errorf("a task that stopped on its own was stopped: %s", task.ARN)
		}
	}
}

// TestLaunchNoReport covers probes that ran but whose report is not in CloudWatch Logs: the
// verdict falls back to the exit code, and the diagnosis says so. Exit 0 with no report is warn
// "no report", never pass: nothing was measured (issue 10, item 8).
func TestLaunchNoReport(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	w.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		code := map[string]int{"subnet-0": 0, "subnet-1": 1, "subnet-2": 2, "subnet-139": 139}[task.Subnets[0]]
		return fakeaws.TaskScript{Running: 1, ExitCode: code} // runs, writes nothing
	})
	start := time.Now()
	rep := w.l.Run(context.Background(), config("subnet-0", "subnet-1", "subnet-2", "subnet-139"))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("reading missing reports took %s", d)
	}
	tests := []struct {
		subnet  string
		verdict checks.Status
		service string
		code    checks.Code
	}{
		{"subnet-0", checks.Warn, "", stopped.NoReport},
		{"subnet-1", checks.Fail, "logs", stopped.NoReport},
		{"subnet-2", checks.Fail, "", stopped.TaskConfig},
		{"subnet-139", checks.Fail, "", stopped.ExitCode},
	}
	for _, tt := range tests {
		t.Run(tt.subnet, func(t *testing.T) {
			s := find(t, rep, tt.subnet)
			if s.Verdict != tt.verdict || s.Report != nil || len(s.Diagnoses) != 1 {
				t.Fatalf("verdict %s report %v diagnoses %+v", s.Verdict, s.Report != nil, s.Diagnoses)
			}
			if d := s.Diagnoses[0]; d.Service != tt.service || d.Error != tt.code || d.Source != "exit_code" {
				t.Errorf("diagnosis %+v", d)
			}
		})
	}
	if rep.Verdict != checks.Fail {
		t.Errorf("verdict %s", rep.Verdict)
	}
}

// TestLaunchExitZeroNoReportWarns: a probe that exited 0 and left no report measured nothing the
// launcher can see: the subnet and the launch warn with "no report", whether the group was
// searched or --log-group was empty, and the diagnosis names the run id and the group.
func TestLaunchExitZeroNoReportWarns(t *testing.T) {
	for _, group := range []string{"/vpcprobe", ""} {
		t.Run("log-group="+group, func(t *testing.T) {
			w := newWorld(t, fakeaws.DefaultConfig())
			w.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript {
				return fakeaws.TaskScript{Running: 1, ExitCode: 0} // runs, writes nothing
			})
			c := config("subnet-0")
			c.LogGroup = group
			rep := w.l.Run(context.Background(), c)
			s := find(t, rep, "subnet-0")
			if s.Verdict != checks.Warn || rep.Verdict != checks.Warn || rep.Failed() {
				t.Fatalf("subnet verdict %s, launch verdict %s: want warn", s.Verdict, rep.Verdict)
			}
			if len(s.Diagnoses) != 1 || s.Diagnoses[0].Error != stopped.NoReport || s.Diagnoses[0].Verdict != checks.Warn {
				t.Fatalf("diagnoses %+v", s.Diagnoses)
			}
			if d := s.Diagnoses[0]; !strings.Contains(d.Diagnosis+d.Remediation, s.RunID) {
				t.Errorf("the diagnosis does not name run id %s: %+v", s.RunID, d)
			}
		})
	}
}

// TestLaunchPendingForever: a task that never leaves PENDING is stopped when --deadline falls,
// with a reason saying so, and diagnosed with the deadline code; the other subnet's report is
// still read.
func TestLaunchPendingForever(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	w.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		if task.Subnets[0] == "subnet-stuck" {
			return fakeaws.TaskScript{Pending: fakeaws.Forever}
		}
		return w.probeTask(0)
	})
	c := config("subnet-stuck", "subnet-ok")
	c.Deadline = 300 * time.Millisecond
	start := time.Now()
	rep := w.l.Run(context.Background(), c)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the launch took %s with a 300ms deadline", d)
	}
	s := find(t, rep, "subnet-stuck")
	if s.Verdict != checks.Fail || !hasDiagnosis(s, "", checks.Deadline, stopped.CausePending) {
		t.Errorf("stuck subnet: %s %+v", s.Verdict, s.Diagnoses)
	}
	if find(t, rep, "subnet-ok").Verdict != checks.Pass {
		t.Errorf("the healthy subnet did not pass: %+v", find(t, rep, "subnet-ok"))
	}
	for _, task := range w.fake.ECSTasks() {
		stuck := task.Subnets[0] == "subnet-stuck"
		if task.StopCalled != stuck {
			t.Errorf("%s: StopTask called %v", task.Subnets[0], task.StopCalled)
		}
		if stuck && (!strings.Contains(task.StopReason, "--deadline") || !strings.Contains(task.StopReason, "PENDING")) {
			t.Errorf("stop reason %q", task.StopReason)
		}
	}
}

// TestLaunchInterrupt: an interrupt mid-wait stops every task the launch started and not yet
// stopped, and the partial report says so.
func TestLaunchInterrupt(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	w.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		if task.Subnets[0] == "subnet-done" {
			return fakeaws.TaskScript{NeverRuns: true, StoppedReason: "Timeout waiting for network interface provisioning to complete."}
		}
		return fakeaws.TaskScript{Pending: fakeaws.Forever}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the "Ctrl-C": once every task has been seen by a poll or two
		for ctx.Err() == nil {
			tasks := w.fake.ECSTasks()
			pending := 0
			for _, task := range tasks {
				if task.LastStatus == "PENDING" {
					pending++
				}
			}
			if len(tasks) == 3 && pending == 2 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	rep := w.l.Run(ctx, config("subnet-a", "subnet-b", "subnet-done"))
	if !rep.Interrupted || rep.Verdict != checks.Fail {
		t.Errorf("interrupted %v verdict %s", rep.Interrupted, rep.Verdict)
	}
	for _, subnet := range []string{"subnet-a", "subnet-b"} {
		if s := find(t, rep, subnet); !hasDiagnosis(s, "", stopped.Interrupted, stopped.CauseInterrupted) {
			t.Errorf("%s: %+v", subnet, s.Diagnoses)
		}
	}
	if s := find(t, rep, "subnet-done"); !hasDiagnosis(s, "", stopped.NetworkInterface, stopped.CauseENI) {
		t.Errorf("the task that had stopped lost its diagnosis: %+v", s.Diagnoses)
	}
	for _, task := range w.fake.ECSTasks() {
		// The task that stopped on its own may or may not get a redundant StopTask: that
		// depends on whether a poll saw it stop before the interrupt, and StopTask on a
		// stopped task is harmless. The promise is about the tasks still running.
		if task.Subnets[0] == "subnet-done" {
			continue
		}
		if !task.StopCalled || !strings.Contains(task.StopReason, "interrupted") {
			t.Errorf("%s: StopTask called %v reason %q", task.Subnets[0], task.StopCalled, task.StopReason)
		}
	}
}

// TestLaunchThrottled: DescribeTasks throttled past the SDK's own retries only slows the wait.
func TestLaunchThrottled(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.Throttle = map[string]int{"ecs:DescribeTasks": 7, "ecs:RunTask": 2}
	w := newWorld(t, cfg)
	w.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript { return w.probeTask(0) })
	rep := w.l.Run(context.Background(), config("subnet-a"))
	if rep.Verdict != checks.Pass {
		t.Errorf("verdict %s: %+v", rep.Verdict, rep.Subnets)
	}
}

// TestLaunchDescribeDenied: when the launcher may not call DescribeTasks, the wait ends after a
// few attempts; the subnet was not measured (skip, naming the permission's code) and the launch
// could not test, naming ecs:DescribeTasks.
func TestLaunchDescribeDenied(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.Deny = map[string]bool{"ecs:DescribeTasks": true}
	w := newWorld(t, cfg)
	rep := w.l.Run(context.Background(), config("subnet-a"))
	if s := find(t, rep, "subnet-a"); s.Verdict != checks.Skip || !hasDiagnosis(s, "", checks.AccessDenied, stopped.CauseDescribe) {
		t.Errorf("%s %+v", s.Verdict, s.Diagnoses)
	}
	wantUntested(t, rep, "ecs:DescribeTasks")
}

// TestLaunchRunTaskDenied: a launcher without iam:PassRole measured nothing: every subnet is
// skip with the diagnosis, the report is not "failed", and its Err names iam:PassRole.
func TestLaunchRunTaskDenied(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.Deny = map[string]bool{"iam:PassRole": true}
	w := newWorld(t, cfg)
	rep := w.l.Run(context.Background(), config("subnet-a", "subnet-b"))
	for _, name := range []string{"subnet-a", "subnet-b"} {
		s := find(t, rep, name)
		if s.Verdict != checks.Skip || s.TaskARN != "" || !hasDiagnosis(s, "", checks.AccessDenied, stopped.CauseRunTask) {
			t.Errorf("%+v", s)
		}
	}
	wantUntested(t, rep, "iam:PassRole")
}

// wantUntested asserts that rep measured nothing, and that its Err says so naming action.
func wantUntested(t *testing.T, rep *launch.Report, action string) {
	t.Helper()
	err := rep.Err()
	var ue *couldnottest.Error
	if rep.Verdict != checks.Skip || rep.Failed() || !errors.Is(err, couldnottest.Err) || !errors.As(err, &ue) || ue.Action != action {
		t.Errorf("verdict %s failed %v err %v: want could not test naming %s", rep.Verdict, rep.Failed(), err, action)
	}
}

// TestLaunchPartlyUntested: a subnet whose task RunTask refused is skip, not measured; the
// launch's verdict comes from the subnets that were measured, and it did test.
func TestLaunchPartlyUntested(t *testing.T) {
	for _, tt := range []struct {
		name    string
		exit    int
		verdict checks.Status
	}{
		{"rest passes", 0, checks.Pass},
		{"rest fails", 1, checks.Fail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, fakeaws.DefaultConfig())
			w.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
				if task.Subnets[0] == "subnet-b" {
					return fakeaws.TaskScript{Reject: "The subnet ID 'subnet-b' does not exist"}
				}
				if tt.exit != 0 {
					return w.probeTask(tt.exit, "ecr.dkr")
				}
				return w.probeTask(0)
			})
			rep := w.l.Run(context.Background(), config("subnet-a", "subnet-b"))
			if s := find(t, rep, "subnet-b"); s.Verdict != checks.Skip || !hasDiagnosis(s, "", stopped.TaskConfig, stopped.CauseRunTask) {
				t.Errorf("rejected subnet: %s %+v", s.Verdict, s.Diagnoses)
			}
			if rep.Verdict != tt.verdict || rep.Err() != nil || rep.Failed() != (tt.verdict == checks.Fail) {
				t.Errorf("verdict %s err %v failed %v, want %s", rep.Verdict, rep.Err(), rep.Failed(), tt.verdict)
			}
		})
	}
}

// TestLaunchAwslogsFallback: when FilterLogEvents is denied, the report the probe printed on
// stdout is read from its awslogs stream with GetLogEvents.
func TestLaunchAwslogsFallback(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.Deny = map[string]bool{"logs:FilterLogEvents": true}
	w := newWorld(t, cfg)
	w.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript {
		return fakeaws.TaskScript{Running: 1, ExitCode: 1, OnRunning: func(task fakeaws.ECSTask) {
			rep := probeReport(task.Env("vpcprobe", "VPCPROBE_RUN_ID"), "s3")
			w.fake.WriteLogEvents("/vpcprobe", "stdout/vpcprobe/"+taskID(task.ARN), "starting", strings.TrimSpace(string(rep.JSON())))
		}}
	})
	c := config("subnet-a")
	c.AwslogsPrefix = "stdout"
	rep := w.l.Run(context.Background(), c)
	s := find(t, rep, "subnet-a")
	if s.Report == nil || !hasDiagnosis(s, "s3", checks.Timeout, stopped.CauseProbe) {
		t.Errorf("report %v diagnoses %+v", s.Report != nil, s.Diagnoses)
	}
}

// TestLaunchManySubnets: DescribeTasks takes at most 100 tasks; more subnets are polled in
// batches (the fake rejects a larger call).
func TestLaunchManySubnets(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	w.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript { return fakeaws.TaskScript{Running: 1} })
	var subnets []string
	for i := range 105 {
		subnets = append(subnets, fmt.Sprintf("subnet-%03d", i))
	}
	c := config(subnets...)
	c.LogGroup = "" // exit codes only: each subnet warns "no report" (nothing measured is not a pass)
	rep := w.l.Run(context.Background(), c)
	if len(rep.Subnets) != 105 || rep.Verdict != checks.Warn {
		t.Errorf("%d subnets, verdict %s", len(rep.Subnets), rep.Verdict)
	}
	for _, s := range rep.Subnets {
		if s.ExitCode == nil || *s.ExitCode != 0 {
			t.Errorf("%s: exit %v %+v", s.Subnet, s.ExitCode, s.Diagnoses)
		}
	}
}

// TestReportViews checks the JSON document's shape and the text table's layout.
func TestReportViews(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	w.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		if task.Subnets[0] == "subnet-b" {
			return fakeaws.TaskScript{NeverRuns: true, StoppedReason: `CannotPullContainerError: API error (500): Get https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`}
		}
		return w.probeTask(0)
	})
	rep := w.l.Run(context.Background(), config("subnet-a", "subnet-b"))

	var doc map[string]any
	if err := json.Unmarshal(rep.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != "vpcprobe-launch/v1" || doc["launch_id"] != "L1" || doc["verdict"] != "fail" {
		t.Errorf("document head: %v %v %v", doc["schema"], doc["launch_id"], doc["verdict"])
	}
	subnets := doc["subnets"].([]any)
	for _, key := range []string{"subnet", "task_arn", "stopped_reason", "exit_code", "report", "diagnoses"} {
		for i, s := range subnets {
			if _, ok := s.(map[string]any)[key]; !ok {
				t.Errorf("subnets[%d] has no %q", i, key)
			}
		}
	}
	b := subnets[1].(map[string]any)
	if b["report"] != nil || b["exit_code"] != nil {
		t.Errorf("a task that never ran has report %v exit_code %v", b["report"], b["exit_code"])
	}
	if subnets[0].(map[string]any)["report"].(map[string]any)["schema"] != "vpcprobe/v1" {
		t.Errorf("the probe's report is not embedded")
	}

	text := string(rep.Text())
	lines := strings.Split(text, "\n")
	var header, dkr string
	for _, l := range lines {
		if strings.HasPrefix(l, "SUBNET") {
			header = l
		}
		if strings.HasPrefix(l, "ecr.dkr") {
			dkr = l
		}
	}
	if !strings.Contains(header, "subnet-a") || !strings.Contains(header, "subnet-b") {
		t.Errorf("header %q", header)
	}
	if f := strings.Fields(dkr); len(f) != 3 || f[1] != "pass" || f[2] != "timeout" {
		t.Errorf("ecr.dkr row %q", dkr)
	}
	if !strings.Contains(text, "never ran") || !strings.Contains(text, "fix: ") || !strings.Contains(text, "raw: ") {
		t.Errorf("text:\n%s", text)
	}
}

// TestExplain describes stopped tasks of an application, as explain-stopped does.
func TestExplain(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	reason := `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch secret arn:aws:secretsmanager:eu-west-1:463621272105:secret:rds-db-credentials/wordpress-ecs-b2fPcF from secrets manager: RequestCanceled: request context canceled caused by: context deadline exceeded. Please check your task network configuration`
	var n atomic.Int32
	w.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript {
		switch n.Add(1) {
		case 1:
			return fakeaws.TaskScript{NeverRuns: true, StoppedReason: reason}
		case 2:
			return fakeaws.TaskScript{Running: 1, ExitCode: 3}
		case 3:
			return fakeaws.TaskScript{Running: 1}
		}
		return fakeaws.TaskScript{Pending: fakeaws.Forever}
	})
	tests := []struct {
		verdict checks.Status
		code    checks.Code
		service string
	}{
		{checks.Fail, checks.Timeout, "secretsmanager"},
		{checks.Fail, stopped.ExitCode, ""},
		{checks.Pass, "", ""},
		{checks.Skip, "", ""},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(tt.verdict, tt.code), func(t *testing.T) {
			out, err := w.ecs.RunTask(context.Background(), &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("app"),
				NetworkConfiguration: config().networkConfiguration("subnet-a")})
			if err != nil {
				t.Fatal(err)
			}
			arn := aws.ToString(out.Tasks[0].TaskArn)
			var e *stopped.Explanation
			for range 5 {
				if e, err = stopped.Explain(context.Background(), w.ecs, "prod", arn); err != nil {
					t.Fatal(err)
				}
			}
			if e.Verdict != tt.verdict {
				t.Errorf("case %d: verdict %s, want %s: %+v", i, e.Verdict, tt.verdict, e)
			}
			if tt.code != "" && (len(e.Diagnoses) != 1 || e.Diagnoses[0].Error != tt.code || e.Diagnoses[0].Service != tt.service) {
				t.Errorf("diagnoses %+v", e.Diagnoses)
			}
			if len(e.Text()) == 0 || !json.Valid(e.JSON()) {
				t.Errorf("views")
			}
		})
	}
	if _, err := stopped.Explain(context.Background(), w.ecs, "prod", "0000"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown task: %v", err)
	}
}

// TestLaunchInterruptedBeforeStart: subnets whose task was never started still fail, saying why.
func TestLaunchInterruptedBeforeStart(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := w.l.Run(ctx, config("subnet-a", "subnet-b"))
	for _, s := range rep.Subnets {
		if s.Verdict != checks.Fail || s.LastStatus != "NOT_STARTED" || !hasDiagnosis(s, "", stopped.Interrupted, stopped.CauseInterrupted) {
			t.Errorf("%+v", s)
		}
	}
	if n := len(w.fake.ECSTasks()); n != 0 {
		t.Errorf("%d tasks started after the interrupt", n)
	}
}

// TestLaunchLateReport: CloudWatch Logs makes events searchable a little after they are
// written; the launcher keeps looking for a while.
func TestLaunchLateReport(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	w.fake.WriteLogEvents("/vpcprobe", "other", `{"type":"summary","run_id":"someone-else"}`)
	w.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript {
		script := w.probeTask(1, "logs")
		write := script.OnRunning
		script.OnRunning = func(task fakeaws.ECSTask) {
			go func() {
				time.Sleep(50 * time.Millisecond)
				write(task)
			}()
		}
		return script
	})
	rep := w.l.Run(context.Background(), config("subnet-a"))
	if s := find(t, rep, "subnet-a"); s.Report == nil || !hasDiagnosis(s, "logs", checks.Timeout, stopped.CauseProbe) {
		t.Errorf("late report not read: %+v", s.Diagnoses)
	}
}
