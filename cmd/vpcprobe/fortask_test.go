package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// authTimeout is how Fargate stops a task that cannot reach ecr.api.
const authTimeout = `ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. Check your task network configuration. operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post "https://api.ecr.eu-west-1.amazonaws.com/": dial tcp 10.0.9.9:443: i/o timeout`

// appTask registers the application's task definition, runs one of its tasks (in group, with
// ECS Exec as exec says) that stops without running, and returns the stopped task's ARN.
func appTask(t *testing.T, fake *fakeaws.Server, srv *awstest.Server, subnet, group string, exec bool) string {
	t.Helper()
	// The describe-task-definition output of the file, registered as the family's revision 1.
	var doc struct {
		TaskDefinition json.RawMessage `json:"taskDefinition"`
	}
	if err := json.Unmarshal(must(os.ReadFile("testdata/app-taskdef.json")), &doc); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.RegisterTaskDefinition(doc.TaskDefinition); err != nil {
		t.Fatal(err)
	}
	client := ecs.NewFromConfig(srv.SDKConfig(3), func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	in := &ecs.RunTaskInput{Cluster: aws.String("shop"), TaskDefinition: aws.String("app"), EnableExecuteCommand: exec,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{subnet}, SecurityGroups: []string{"sg-0aaaaaaa"}}}}
	if group != "" {
		in.Group = aws.String(group)
	}
	run, err := client.RunTask(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	for range 5 { // let it stop
		out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("shop"), Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Tasks[0].LastStatus) == "STOPPED" {
			return arn
		}
	}
	t.Fatalf("the application task did not stop")
	return ""
}

// TestLaunchForTask: from a stopped service task, "vpcprobe launch --for-task" starts the probe
// in the task's subnet with its service's security groups and cluster, passes it the services,
// image, secrets and parameters of the task's definition (ECS Exec from the task), and shows the
// translated stopped reason beside the live result.
func TestLaunchForTask(t *testing.T) {
	fake, srv, w := fakeAWS(t)
	fake.AddService(fakeaws.ECSService{Cluster: "shop", Name: "web", Subnets: []string{"subnet-0000000a", "subnet-0000000b"},
		SecurityGroups: []string{"sg-0e1e1e1e", "sg-0f2f2f2f"}, AssignPublicIP: "DISABLED"})
	fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		if task.TaskDefinition == "app" {
			return fakeaws.TaskScript{Pending: 1, NeverRuns: true, StoppedReason: authTimeout}
		}
		return probeTask(fake, 0, "")
	})
	arn := appTask(t, fake, srv, "subnet-0000000b", "service:web", true)

	code, out, errs := launchCmd(t, w, env(), "launch", "--task-definition", "vpcprobe:3", "--for-task", arn,
		"--services", "sts", "--probe-env", "PARAMETER=/extra", "--launch-id", "L2", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	var probes []fakeaws.ECSTask
	for _, task := range fake.ECSTasks() {
		if task.TaskDefinition == "vpcprobe:3" {
			probes = append(probes, task)
		}
	}
	if len(probes) != 1 {
		t.Fatalf("%d probe tasks: %+v", len(probes), probes)
	}
	p := probes[0]
	if p.Cluster != "shop" || !slices.Equal(p.Subnets, []string{"subnet-0000000b"}) || !slices.Equal(p.SecurityGroups, []string{"sg-0e1e1e1e", "sg-0f2f2f2f"}) || p.AssignPublicIP != "DISABLED" {
		t.Errorf("probe started in cluster %s subnets %v groups %v public ip %s", p.Cluster, p.Subnets, p.SecurityGroups, p.AssignPublicIP)
	}
	for name, want := range map[string]string{
		"VPCPROBE_SERVICES":  "sts,ecr.api,ecr.dkr,s3,logs,secretsmanager,ssm,ssmmessages",
		"VPCPROBE_IMAGE":     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2.3.0",
		"VPCPROBE_SECRET":    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf:password::",
		"VPCPROBE_PARAMETER": "/extra,/app/api-key",
		"VPCPROBE_RUN_ID":    "L2-subnet-0000000b",
	} {
		if got := p.Env("vpcprobe", name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// for_task and needs match the shipped schema (the subnets' reports are this test's
	// stand-ins for the probe's, not real ones: they are left out).
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, out)
	}
	doc["subnets"] = []any{}
	schematest.Check(t, must(json.Marshal(doc)))
	var rep launch.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, out)
	}
	o := rep.ForTask
	if o == nil || o.TaskARN != arn || o.Service != "web" || o.Subnet != "subnet-0000000b" || !o.ExecuteCommand || o.StoppedReason == "" {
		t.Fatalf("for_task %+v", o)
	}
	if len(o.Diagnoses) == 0 || o.Diagnoses[0].Service != "ecr.api" || o.Diagnoses[0].Error != checks.Timeout || o.Diagnoses[0].Cause != stopped.CauseRegistryAuth {
		t.Errorf("the stopped reason was not translated: %+v", o.Diagnoses)
	}
	if rep.Needs == nil || !slices.Contains(rep.Needs.Codes(), needs.NoteInternetRegistry) || rep.Cluster != "shop" {
		t.Errorf("needs %+v cluster %s", rep.Needs, rep.Cluster)
	}
	if len(rep.Subnets) != 1 || rep.Subnets[0].Verdict != checks.Pass {
		t.Errorf("live result %+v", rep.Subnets)
	}

	// The same in text: the stopped reason's translation beside the table.
	code, out, errs = launchCmd(t, w, env(), "launch", "--task-definition", "vpcprobe:3", "--for-task", arn, "--output", "text")
	if code != exitOK || !strings.Contains(out, "FOR TASK "+arn) || !strings.Contains(out, "ecr.api timeout") || !strings.Contains(out, "note internet-registry") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}

// TestLaunchForTaskUsage: a task without a service needs --security-groups; a task ECS does not
// know is a usage error; an ECS API the launcher may not call is "could not test".
func TestLaunchForTaskUsage(t *testing.T) {
	fake, srv, w := fakeAWS(t)
	fake.ScriptTasks(func(task fakeaws.ECSTask) fakeaws.TaskScript {
		if task.TaskDefinition == "app" {
			return fakeaws.TaskScript{Pending: 1, NeverRuns: true, StoppedReason: authTimeout}
		}
		return probeTask(fake, 0, "")
	})
	arn := appTask(t, fake, srv, "subnet-0000000c", "", false)

	code, _, errs := launchCmd(t, w, env(), "launch", "--task-definition", "vpcprobe:3", "--for-task", arn)
	if code != exitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "--security-groups") {
		t.Errorf("no service, no --security-groups: exit %d stderr %q", code, errs)
	}
	code, _, errs = launchCmd(t, w, env(), "launch", "--task-definition", "vpcprobe:3", "--for-task", arn, "--security-groups", "sg-0d4e5f6a", "--output", "json")
	if code != exitOK {
		t.Errorf("with --security-groups: exit %d stderr %q", code, errs)
	}
	last := fake.ECSTasks()[len(fake.ECSTasks())-1]
	if !slices.Equal(last.SecurityGroups, []string{"sg-0d4e5f6a"}) || !slices.Equal(last.Subnets, []string{"subnet-0000000c"}) || last.Env("vpcprobe", "VPCPROBE_SERVICES") != "ecr.api,ecr.dkr,s3,logs,secretsmanager,ssm" {
		t.Errorf("probe task %+v services %q", last, last.Env("vpcprobe", "VPCPROBE_SERVICES"))
	}

	code, _, errs = launchCmd(t, w, env(), "launch", "--task-definition", "vpcprobe:3", "--for-task", "arn:aws:ecs:eu-west-1:123456789012:task/shop/0123456789abcdef0123456789abcdef")
	if code != exitUsage || !strings.Contains(errs, "--for-task") {
		t.Errorf("unknown task: exit %d stderr %q", code, errs)
	}
	code, _, errs = launchCmd(t, w, env(), "launch", "--task-definition", "vpcprobe:3", "--for-task", arn, "--for-task-definition", "app")
	if code != exitUsage || !strings.Contains(errs, "--for-task-definition") {
		t.Errorf("both: exit %d stderr %q", code, errs)
	}
	fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"ecs:DescribeTaskDefinition": true} })
	code, _, errs = launchCmd(t, w, env(), "launch", "--task-definition", "vpcprobe:3", "--for-task", arn, "--security-groups", "sg-0d4e5f6a")
	if code != exitUntested || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "DescribeTaskDefinition") {
		t.Errorf("denied: exit %d stderr %q", code, errs)
	}
}

// TestLaunchForTaskDefinition: the launcher reads the task definition from outside and passes
// the derived settings to every probe it starts.
func TestLaunchForTaskDefinition(t *testing.T) {
	fake, _, w := fakeAWS(t)
	fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript { return probeTask(fake, 0, "") })
	code, _, errs := launchCmd(t, w, env(), "launch", "--cluster", "prod", "--task-definition", "vpcprobe:3", "--subnets", "subnet-0000000a,subnet-0000000b",
		"--security-groups", "sg-0d4e5f6a", "--for-task-definition", "file://testdata/app-taskdef.json", "--enable-execute-command", "--image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mine:1", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	tasks := fake.ECSTasks()
	if len(tasks) != 2 {
		t.Fatalf("%d tasks", len(tasks))
	}
	for _, task := range tasks {
		if got := task.Env("vpcprobe", "VPCPROBE_SERVICES"); got != "ecr.api,ecr.dkr,s3,logs,secretsmanager,ssm,ssmmessages" {
			t.Errorf("%s: VPCPROBE_SERVICES %q", task.Subnets[0], got)
		}
		if got := task.Env("vpcprobe", "VPCPROBE_IMAGE"); got != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mine:1" {
			t.Errorf("the given --image did not win: %q", got)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
