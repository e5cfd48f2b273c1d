package fakeaws_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

func (e *env) ecs() *ecs.Client {
	return ecs.NewFromConfig(e.aws, func(o *ecs.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
}

// runTask starts one task in subnet with the environment variable VPCPROBE_RUN_ID=runID.
func (e *env) runTask(t *testing.T, subnet, runID string) *ecs.RunTaskOutput {
	t.Helper()
	out, err := e.ecs().RunTask(context.Background(), &ecs.RunTaskInput{
		Cluster: aws.String("prod"), TaskDefinition: aws.String("vpcprobe:3"), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{subnet}, SecurityGroups: []string{"sg-1"},
		}},
		Overrides: &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{
			Name:        aws.String("vpcprobe"),
			Environment: []ecstypes.KeyValuePair{{Name: aws.String("VPCPROBE_RUN_ID"), Value: aws.String(runID)}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) describe(t *testing.T, arn string) ecstypes.Task {
	t.Helper()
	out, err := e.ecs().DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 1 {
		t.Fatalf("DescribeTasks: %d tasks, failures %v", len(out.Tasks), out.Failures)
	}
	return out.Tasks[0]
}

// TestECSLifecycle follows a task through its scripted statuses; the hook sees the run id the
// overrides gave it and writes a report the Logs API then finds.
func TestECSLifecycle(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	var hooks atomic.Int32
	e.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		return fakeaws.TaskScript{Provisioning: 1, Pending: 2, Running: 1, ExitCode: 1, AvailabilityZone: "eu-west-1b",
			OnRunning: func(task fakeaws.ECSTask) {
				hooks.Add(1)
				run := task.Env("vpcprobe", "VPCPROBE_RUN_ID")
				e.fake.WriteLogEvents("/vpcprobe", "task/1", `{"schema":"vpcprobe/v1","run_id":"`+run+`","type":"summary"}`)
			}}
	})
	out := e.runTask(t, "subnet-aaa", "L-subnet-aaa")
	if len(out.Tasks) != 1 || aws.ToString(out.Tasks[0].LastStatus) != "PROVISIONING" {
		t.Fatalf("RunTask = %+v", out)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	var seen []string
	for range 6 {
		task := e.describe(t, arn)
		seen = append(seen, aws.ToString(task.LastStatus))
		if aws.ToString(task.LastStatus) == "STOPPED" {
			if task.StopCode != ecstypes.TaskStopCodeEssentialContainerExited || aws.ToString(task.StoppedReason) != "Essential container in task exited" {
				t.Errorf("stop = %s %q", task.StopCode, aws.ToString(task.StoppedReason))
			}
			if len(task.Containers) != 1 || task.Containers[0].ExitCode == nil || *task.Containers[0].ExitCode != 1 {
				t.Errorf("containers = %+v", task.Containers)
			}
			if aws.ToString(task.AvailabilityZone) != "eu-west-1b" || task.StartedAt == nil || task.StoppedAt == nil {
				t.Errorf("zone %q startedAt %v stoppedAt %v", aws.ToString(task.AvailabilityZone), task.StartedAt, task.StoppedAt)
			}
			break
		}
	}
	want := []string{"PROVISIONING", "PENDING", "PENDING", "RUNNING", "STOPPED"}
	if len(seen) != len(want) {
		t.Fatalf("statuses %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("statuses %v, want %v", seen, want)
		}
	}
	if hooks.Load() != 1 {
		t.Errorf("OnRunning called %d times", hooks.Load())
	}
	logs, err := e.logs().FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String("/vpcprobe"), FilterPattern: aws.String(`{ $.run_id = "L-subnet-aaa" }`),
	})
	if err != nil || len(logs.Events) != 1 {
		t.Fatalf("FilterLogEvents = %v, %v", logs, err)
	}
	if got := e.fake.ECSTasks(); len(got) != 1 || got[0].Subnets[0] != "subnet-aaa" || got[0].LastStatus != "STOPPED" {
		t.Errorf("ECSTasks = %+v", got)
	}
}

func TestECSNeverRuns(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	reason := "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref"
	e.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript {
		return fakeaws.TaskScript{NeverRuns: true, StoppedReason: reason,
			Containers: []fakeaws.ContainerScript{{Name: "vpcprobe", Reason: reason}},
			OnRunning:  func(fakeaws.ECSTask) { t.Error("a task that never runs ran") }}
	})
	arn := aws.ToString(e.runTask(t, "subnet-aaa", "r").Tasks[0].TaskArn)
	var task ecstypes.Task
	for range 4 {
		if task = e.describe(t, arn); aws.ToString(task.LastStatus) == "STOPPED" {
			break
		}
	}
	if task.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || aws.ToString(task.StoppedReason) != reason {
		t.Errorf("stop = %s %q", task.StopCode, aws.ToString(task.StoppedReason))
	}
	if c := task.Containers[0]; c.ExitCode != nil || aws.ToString(c.Reason) != reason || task.StartedAt != nil {
		t.Errorf("container %+v, startedAt %v", c, task.StartedAt)
	}
}

func TestECSStopTask(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	e.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		if task.Subnets[0] == "subnet-run" {
			return fakeaws.TaskScript{Running: fakeaws.Forever}
		}
		return fakeaws.TaskScript{Pending: fakeaws.Forever}
	})
	for _, tt := range []struct {
		subnet string
		exit   *int32
	}{{"subnet-pending", nil}, {"subnet-run", aws.Int32(143)}} {
		t.Run(tt.subnet, func(t *testing.T) {
			arn := aws.ToString(e.runTask(t, tt.subnet, "r").Tasks[0].TaskArn)
			for range 3 {
				e.describe(t, arn)
			}
			out, err := e.ecs().StopTask(context.Background(), &ecs.StopTaskInput{Cluster: aws.String("prod"), Task: aws.String(arn), Reason: aws.String("enough")})
			if err != nil {
				t.Fatal(err)
			}
			task := e.describe(t, arn)
			if aws.ToString(task.LastStatus) != "STOPPED" || task.StopCode != ecstypes.TaskStopCodeUserInitiated || aws.ToString(task.StoppedReason) != "enough" {
				t.Errorf("after StopTask: %s %s %q", aws.ToString(task.LastStatus), task.StopCode, aws.ToString(task.StoppedReason))
			}
			if got := task.Containers[0].ExitCode; (got == nil) != (tt.exit == nil) || (got != nil && *got != *tt.exit) {
				t.Errorf("exit code %v, want %v", got, tt.exit)
			}
			if out.Task == nil || aws.ToString(out.Task.TaskArn) != arn {
				t.Errorf("StopTask answered %+v", out.Task)
			}
		})
	}
	stopped := 0
	for _, task := range e.fake.ECSTasks() {
		if task.StopCalled && task.StopReason == "enough" {
			stopped++
		}
	}
	if stopped != 2 {
		t.Errorf("ECSTasks shows %d tasks stopped with the reason", stopped)
	}
}

func TestECSErrors(t *testing.T) {
	deny := fakeaws.DefaultConfig()
	deny.Deny = map[string]bool{"iam:PassRole": true}
	throttle := fakeaws.DefaultConfig()
	throttle.Throttle = map[string]int{"ecs:DescribeTasks": 10}
	ctx := context.Background()

	t.Run("PassRole denied", func(t *testing.T) {
		e := newEnv(t, deny)
		_, err := e.ecs().RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("vpcprobe"),
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}})
		if got := errorCode(t, err); got != "AccessDeniedException" {
			t.Errorf("code = %q (%v)", got, err)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		e := newEnv(t, throttle)
		_, err := e.ecs().DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{"x"}})
		if got := errorCode(t, err); got != "ThrottlingException" {
			t.Errorf("code = %q (%v)", got, err)
		}
	})
	e := newEnv(t, fakeaws.DefaultConfig())
	t.Run("missing", func(t *testing.T) {
		out, err := e.ecs().DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{"arn:aws:ecs:eu-west-1:123456789012:task/prod/0000"}})
		if err != nil || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
			t.Errorf("DescribeTasks = %+v, %v", out, err)
		}
	})
	t.Run("too many tasks", func(t *testing.T) {
		_, err := e.ecs().DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: make([]string, 101)})
		if got := errorCode(t, err); got != "InvalidParameterException" {
			t.Errorf("code = %q (%v)", got, err)
		}
	})
	t.Run("failure and reject", func(t *testing.T) {
		e.fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
			if task.Subnets[0] == "subnet-full" {
				return fakeaws.TaskScript{Failure: "Capacity is unavailable at this time. Please try again later or in a different availability zone"}
			}
			return fakeaws.TaskScript{Reject: "Override for container named vpcprobe is not a container in the TaskDefinition."}
		})
		if out := e.runTask(t, "subnet-full", "r"); len(out.Tasks) != 0 || len(out.Failures) != 1 {
			t.Errorf("RunTask = %+v", out)
		}
		_, err := e.ecs().RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("vpcprobe"),
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}})
		if got := errorCode(t, err); got != "InvalidParameterException" {
			t.Errorf("code = %q (%v)", got, err)
		}
	})
}
