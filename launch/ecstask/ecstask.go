// Package ecstask runs the probe as one ECS task per subnet: RunTask with the probe's settings as
// VPCPROBE_* overrides, DescribeTasks until every task stops, each report read back from
// CloudWatch Logs by run id, and a task that never ran translated (package stopped) into the
// subnet's diagnoses.
package ecstask

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// ECS is the part of the ECS client the launcher calls; *ecs.Client implements it.
type ECS interface {
	RunTask(ctx context.Context, in *ecs.RunTaskInput, opts ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, opts ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// Logs is the part of the CloudWatch Logs client the launcher calls; *cloudwatchlogs.Client
// implements it.
type Logs interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// Budgets and intervals. Fargate takes tens of seconds to start a task and up to several minutes
// to give up on an unreachable registry, so polling is slow and backs off; tests shrink them
// through the Launcher's fields.
const (
	// DefaultReportWait is how long a stopped task's report may take to become searchable:
	// CloudWatch Logs indexes events for FilterLogEvents a few seconds after they are written.
	DefaultReportWait = 30 * time.Second
	// describeAttempts is how many DescribeTasks failures in a row (other than throttling) end
	// the wait: by then the launcher's permissions or network are the problem, not a blip.
	describeAttempts = 5
	// describeBatch is DescribeTasks' limit of tasks per call.
	describeBatch = 100
	// maxLogPages bounds the FilterLogEvents pages read per attempt: a run writes a few events,
	// but a busy group may return many empty pages before them.
	maxLogPages = 50
)

// LaunchTypes are the --launch-type values.
var LaunchTypes = []string{"FARGATE", "EC2", LaunchTypeManagedInstances}

// Config is one launch.
type Config struct {
	LaunchID         string   // names the launch; each task's run id is <LaunchID>-<subnet>
	Cluster          string   // cluster name or ARN
	TaskDefinition   string   // family, family:revision or ARN of the probe's task definition
	Subnets          []string // one task per subnet
	SecurityGroups   []string // the tasks' security groups (the VPC's default when empty)
	AssignPublicIP   bool
	LaunchType       string // FARGATE or EC2; empty with CapacityProvider
	CapacityProvider string // a capacity provider (FARGATE_SPOT, an EC2 provider) instead of a launch type
	PlatformVersion  string // Fargate platform version; empty for LATEST
	Container        string // the probe's container in the task definition
	// Env are the probe's settings as VPCPROBE_* variables, passed in the container's overrides;
	// VPCPROBE_RUN_ID is added per task.
	Env []EnvVar
	// LogGroup is where the probe delivers its report (VPCPROBE_LOG_GROUP) and where it is
	// looked for; empty means no delivery, and every verdict comes from an exit code.
	LogGroup string
	// AwslogsPrefix is the task definition's awslogs-stream-prefix, if the probe's container
	// uses the awslogs driver: its stdout report is then read from the stream
	// <prefix>/<container>/<task id> in AwslogsGroup (default LogGroup) when the probe's own
	// delivery left nothing.
	AwslogsPrefix string
	AwslogsGroup  string
	Deadline      time.Duration // bound on the wait for every task to stop
	// ForTask is the application task the launch reproduces (--for-task), and Needs what the
	// probe was told to test for its task definition (--for-task-definition, --for-task): both
	// shown in the report beside the live result. Nil when not asked.
	ForTask *launch.Origin
	Needs   *needs.Needs
}

// EnvVar is one environment variable of the probe's container.
type EnvVar struct{ Name, Value string }

// RunID returns the run id of the task launched in subnet: what its report is found by.
func (c Config) RunID(subnet string) string { return c.LaunchID + "-" + subnet }

// Runner runs launches of ECS tasks. ECS and Logs are required; zero durations take the
// defaults.
type Runner struct {
	launch.Shared
	ECS  ECS
	Logs Logs

	ReportWait time.Duration
}

// run is one subnet's task as the launch follows it.
type run struct {
	subnet, runID string
	arn           string
	task          *types.Task         // the latest DescribeTasks (or RunTask) view
	startDiag     []stopped.Diagnosis // why RunTask started nothing
	endDiag       []stopped.Diagnosis // what the launcher saw: deadline, interrupt, lost task
	report        *report.Report
	reportNote    string // why no report was read
	// untested is why the launcher measured nothing of this subnet: an ECS call (RunTask,
	// DescribeTasks) that was denied or failed. Nil when the task ran or ECS said why it did not.
	untested error
}

func (r *run) status() string {
	if r.task == nil {
		return ""
	}
	return aws.ToString(r.task.LastStatus)
}

func (r *run) stopped() bool { return r.status() == "STOPPED" }

// Run launches the probe in every subnet of c and returns the combined report. It never fails:
// what goes wrong with a task is that subnet's diagnosis; a subnet whose task could not be
// started or followed (an ECS call denied or failed) is skip, not measured, and when no subnet
// was measured the report's Err says why (couldnottest.Err). When ctx ends (an interrupt), the
// tasks still running are stopped and the report says so; when c.Deadline falls, the tasks not
// yet stopped are stopped and diagnosed.
func (l *Runner) Run(ctx context.Context, c Config) *launch.Report {
	started := l.Clock()
	runs := make([]*run, len(c.Subnets))
	for i, s := range c.Subnets {
		runs[i] = &run{subnet: s, runID: c.RunID(s)}
	}
	deadline := c.Deadline
	if deadline <= 0 {
		deadline = launch.DefaultDeadline
	}
	waitCtx, cancel := context.WithTimeoutCause(ctx, deadline, launch.ErrDeadline)
	defer cancel()

	insp := l.StartInspection(waitCtx, c.Subnets, c.SecurityGroups, probeServices(c.Env), c.Needs)
	for _, r := range runs {
		if waitCtx.Err() != nil {
			break
		}
		l.start(waitCtx, c, r)
	}
	l.wait(waitCtx, c, runs)

	interrupted := ctx.Err() != nil
	for _, r := range runs {
		if r.arn == "" && len(r.startDiag) == 0 { // the launch ended before RunTask answered
			d := stopped.Diagnosis{Verdict: checks.Fail, Error: checks.Deadline, Cause: stopped.CausePending, Source: "launcher",
				Diagnosis:   fmt.Sprintf("The launch's --deadline (%s) fell before the task was started.", deadline),
				Remediation: "Raise --deadline; RunTask itself should take seconds, so check the launcher's path to the ECS API.",
			}
			if interrupted {
				d = stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.Interrupted, Cause: stopped.CauseInterrupted, Source: "launcher",
					Diagnosis:   "The launch was interrupted before the task was started.",
					Remediation: "Run the launch again and let it finish.",
				}
			}
			r.startDiag = []stopped.Diagnosis{d}
		}
	}
	if waitCtx.Err() != nil {
		l.stopUnfinished(ctx, c, runs, interrupted, deadline)
	}
	if interrupted {
		for _, r := range runs {
			if r.arn != "" && r.stopped() {
				r.reportNote = "the launch was interrupted before its report was read"
			}
		}
	} else {
		l.readReports(ctx, c, runs, started)
	}

	rep := &launch.Report{
		Schema: launch.Schema, LaunchID: c.LaunchID, Cluster: c.Cluster, TaskDefinition: c.TaskDefinition,
		LogGroup: c.LogGroup, StartedAt: started.UTC().Format(time.RFC3339),
		Interrupted: ctx.Err() != nil, // also during the reading of reports
		ForTask:     c.ForTask, Needs: c.Needs,
	}
	for _, r := range runs {
		rep.Subnets = append(rep.Subnets, judge(c, r, deadline))
	}
	insp.Join(&l.Shared, rep)
	rep.DurationMS = l.Clock().Sub(started).Milliseconds()
	rep.Finish()
	return rep
}

// start runs the subnet's task. A refusal (failures[] or an API error) is the subnet's diagnosis.
func (l *Runner) start(ctx context.Context, c Config, r *run) {
	env := make([]types.KeyValuePair, 0, len(c.Env)+1)
	for _, e := range c.Env {
		env = append(env, types.KeyValuePair{Name: aws.String(e.Name), Value: aws.String(e.Value)})
	}
	env = append(env, types.KeyValuePair{Name: aws.String("VPCPROBE_RUN_ID"), Value: aws.String(r.runID)})
	in := &ecs.RunTaskInput{
		Cluster:              aws.String(c.Cluster),
		TaskDefinition:       aws.String(c.TaskDefinition),
		Count:                aws.Int32(1),
		StartedBy:            aws.String(startedBy(c.LaunchID)),
		NetworkConfiguration: c.networkConfiguration(r.subnet),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
			Name: aws.String(c.Container), Environment: env,
		}}},
	}
	switch {
	case c.CapacityProvider != "":
		in.CapacityProviderStrategy = []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String(c.CapacityProvider), Weight: 1}}
	case c.LaunchType != "":
		in.LaunchType = types.LaunchType(c.LaunchType)
	}
	if c.PlatformVersion != "" {
		in.PlatformVersion = aws.String(c.PlatformVersion)
	}
	out, err := l.ECS.RunTask(ctx, in)
	if err != nil && ctx.Err() != nil {
		// Cut short by the deadline or an interrupt: Run says so. A task ECS started before the
		// answer was lost ends by itself within the probe's own deadline.
		l.Progressf("%s: RunTask cut short: %v", r.subnet, err)
		return
	}
	if err != nil {
		r.startDiag = []stopped.Diagnosis{runTaskError(err, c)}
		r.untested = couldnottest.Call("ecs:RunTask", err)
		l.Progressf("%s: RunTask failed: %v", r.subnet, err)
		return
	}
	if len(out.Tasks) == 0 {
		for _, f := range out.Failures {
			reason := strings.TrimSpace(aws.ToString(f.Reason) + " " + aws.ToString(f.Detail))
			r.startDiag = append(r.startDiag, runTaskFailure(reason))
		}
		if len(r.startDiag) == 0 {
			r.startDiag = []stopped.Diagnosis{runTaskFailure("RunTask started no task and gave no reason")}
		}
		l.Progressf("%s: RunTask started nothing: %s", r.subnet, r.startDiag[0].Raw)
		return
	}
	r.task = &out.Tasks[0]
	r.arn = aws.ToString(r.task.TaskArn)
	l.Progressf("%s: started %s (run id %s)", r.subnet, r.arn, r.runID)
}

// networkConfiguration is the awsvpc configuration of the task in subnet.
func (c Config) networkConfiguration(subnet string) *types.NetworkConfiguration {
	assign := types.AssignPublicIpDisabled
	if c.AssignPublicIP {
		assign = types.AssignPublicIpEnabled
	}
	return &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
		Subnets: []string{subnet}, SecurityGroups: c.SecurityGroups, AssignPublicIp: assign,
	}}
}

// startedBy is RunTask's startedBy: at most 128 letters, digits, hyphens, underscores and slashes.
func startedBy(launchID string) string {
	var b strings.Builder
	b.WriteString("vpcprobe-launch/")
	for _, ch := range launchID {
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '-', ch == '_', ch == '/':
			b.WriteRune(ch)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

// wait polls DescribeTasks until every started task has stopped, ctx ends, or DescribeTasks
// keeps failing. Throttling only slows it down.
//
// It is not ecs.NewTasksStoppedWaiter, on purpose: that waiter answers once, when every task
// has stopped, while the launcher must print each task's status changes as they happen (a
// person watching a pipeline), keep the latest view of every task so that a deadline or an
// interrupt stops exactly the ones still running and diagnoses them from their last status,
// ride out a few DescribeTasks failures and throttling with its own backoff (the waiter ends at
// the first error the SDK's retries did not absorb), and follow more than the 100 tasks one
// DescribeTasks call takes.
func (l *Runner) wait(ctx context.Context, c Config, runs []*run) {
	interval := l.PollFirstOr()
	failures := 0
	for {
		var pending []*run
		for _, r := range runs {
			if r.arn != "" && !r.stopped() {
				pending = append(pending, r)
			}
		}
		if len(pending) == 0 {
			return
		}
		if !launch.Sleep(ctx, interval) {
			return
		}
		err := l.describe(ctx, c, pending)
		switch {
		case err == nil:
			failures = 0
			interval = min(interval+interval/2, l.PollMaxOr())
		case ctx.Err() != nil:
			return
		case checks.Classify(err) == checks.Throttled:
			// The SDK has already retried; back off further and keep waiting.
			interval = min(2*interval, 4*l.PollMaxOr())
			l.Progressf("DescribeTasks throttled; next poll in %s", interval)
		default:
			failures++
			l.Progressf("DescribeTasks failed (%d/%d): %v", failures, describeAttempts, err)
			if failures >= describeAttempts {
				for _, r := range pending {
					r.endDiag = append(r.endDiag, describeError(err, c))
					r.untested = couldnottest.Call("ecs:DescribeTasks", err)
				}
				return
			}
		}
	}
}

// describe updates the runs' tasks, in batches DescribeTasks accepts.
func (l *Runner) describe(ctx context.Context, c Config, pending []*run) error {
	byARN := map[string]*run{}
	for _, r := range pending {
		byARN[r.arn] = r
	}
	for from := 0; from < len(pending); from += describeBatch {
		batch := pending[from:min(from+describeBatch, len(pending))]
		arns := make([]string, len(batch))
		for i, r := range batch {
			arns[i] = r.arn
		}
		out, err := l.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(c.Cluster), Tasks: arns})
		if err != nil {
			return err
		}
		for i := range out.Tasks {
			t := out.Tasks[i]
			r := byARN[aws.ToString(t.TaskArn)]
			if r == nil {
				continue
			}
			if before := r.status(); before != aws.ToString(t.LastStatus) {
				l.Progressf("%s: %s", r.subnet, statusLine(t))
			}
			r.task = &t
		}
		for _, f := range out.Failures {
			r := byARN[aws.ToString(f.Arn)]
			if r == nil || r.stopped() {
				continue
			}
			// ECS forgets a task an hour or so after it stops; before that, MISSING means
			// the task was never there in this cluster.
			status := "STOPPED"
			r.task.LastStatus = &status
			r.endDiag = append(r.endDiag, stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.Unknown, Cause: stopped.CauseDescribe, Source: "launcher",
				Raw:         aws.ToString(f.Reason) + " " + aws.ToString(f.Detail),
				Diagnosis:   fmt.Sprintf("DescribeTasks no longer knows the task (%s): its outcome is unknown.", aws.ToString(f.Reason)),
				Remediation: "Run the launch again; ECS keeps stopped tasks for about an hour.",
			})
		}
	}
	return nil
}

// statusLine is a progress line for a task's new status.
func statusLine(t types.Task) string {
	s := aws.ToString(t.LastStatus)
	if s != "STOPPED" {
		return s
	}
	if t.StopCode != "" {
		s += " (" + string(t.StopCode) + ")"
	}
	for _, c := range t.Containers {
		if c.ExitCode != nil {
			s += fmt.Sprintf(" %s exit %d", aws.ToString(c.Name), *c.ExitCode)
		}
	}
	if r := aws.ToString(t.StoppedReason); r != "" {
		s += ": " + stopped.Redact(r)
	}
	return s
}

// stopUnfinished stops the tasks that have not stopped when the launch ends early (deadline or
// interrupt), with a reason that says so; the calls get a short budget of their own, because
// the launch's context is over.
func (l *Runner) stopUnfinished(ctx context.Context, c Config, runs []*run, interrupted bool, deadline time.Duration) {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.StopTimeoutOr())
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range runs {
		if r.arn == "" || r.stopped() {
			continue
		}
		status := r.status()
		reason := fmt.Sprintf("vpcprobe launch %s: --deadline %s reached while the task was %s", c.LaunchID, deadline, status)
		d := stopped.Diagnosis{Verdict: checks.Fail, Error: checks.Deadline, Cause: stopped.CausePending, Source: "launcher",
			Diagnosis: fmt.Sprintf("The task was still %s when the launch's --deadline (%s) fell; the launcher stopped it.", status, deadline),
			Remediation: "Fargate retries an unreachable registry or secret store for minutes before it stops a task with the reason: raise --deadline to see that reason, or run vpcprobe explain-stopped on a task left to fail on its own. " +
				"A task that stays PROVISIONING is usually waiting for capacity or a network interface.",
		}
		if status == "RUNNING" {
			d.Diagnosis = fmt.Sprintf("The probe was still RUNNING when the launch's --deadline (%s) fell; the launcher stopped it.", deadline)
			d.Remediation = "Give the launch a --deadline longer than the task's start plus the probe's own deadline (--probe-deadline)."
		}
		if interrupted {
			reason = fmt.Sprintf("vpcprobe launch %s interrupted while the task was %s", c.LaunchID, status)
			d = stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.Interrupted, Cause: stopped.CauseInterrupted, Source: "launcher",
				Diagnosis:   fmt.Sprintf("The launch was interrupted while the task was %s; the launcher stopped it.", status),
				Remediation: "Run the launch again and let it finish.",
			}
		}
		r.endDiag = append(r.endDiag, d)
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := l.ECS.StopTask(stopCtx, &ecs.StopTaskInput{Cluster: aws.String(c.Cluster), Task: aws.String(r.arn), Reason: aws.String(reason)})
			if err != nil {
				l.Progressf("%s: StopTask %s failed: %v", r.subnet, r.arn, err)
				r.endDiag[len(r.endDiag)-1].Remediation += fmt.Sprintf(" Stopping it failed (%v): stop it by hand: aws ecs stop-task --cluster %s --task %s.", err, c.Cluster, r.arn)
				return
			}
			l.Progressf("%s: stopped %s", r.subnet, r.arn)
			if out.Task != nil {
				r.task = out.Task
			}
		}()
	}
	wg.Wait()
}

// readReports reads the report of every task whose probe ran, concurrently, each bounded by
// the report wait.
func (l *Runner) readReports(ctx context.Context, c Config, runs []*run, started time.Time) {
	var wg sync.WaitGroup
	for _, r := range runs {
		if r.task == nil || !r.stopped() || probeExit(c, r.task) == nil {
			continue
		}
		if c.LogGroup == "" && c.AwslogsPrefix == "" {
			r.reportNote = "--log-group is empty: the probe delivered no report"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			readCtx, cancel := context.WithTimeout(ctx, l.reportWait())
			defer cancel()
			r.report, r.reportNote = l.readReport(readCtx, c, r, started)
		}()
	}
	wg.Wait()
}

// probeContainer returns the task's probe container: the one named c.Container, or the only one.
func probeContainer(c Config, t *types.Task) *types.Container {
	for i := range t.Containers {
		if aws.ToString(t.Containers[i].Name) == c.Container {
			return &t.Containers[i]
		}
	}
	if len(t.Containers) == 1 {
		return &t.Containers[0]
	}
	return nil
}

// probeExit returns the probe container's exit code: nil when it never ran.
func probeExit(c Config, t *types.Task) *int32 {
	if pc := probeContainer(c, t); pc != nil {
		return pc.ExitCode
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether the full wait happened.

func (l *Runner) reportWait() time.Duration { return launch.OrDefault(l.ReportWait, DefaultReportWait) }

// UseOrigin sets c up to probe where origin ran: origin's cluster when c names none, its subnet
// first among c's, its service's security groups (else c's, which must then be given) and, unless
// publicIPGiven, its service's public IP setting. The error names the flag that would fix it.
func (c *Config) UseOrigin(origin *launch.Origin, publicIPGiven bool) error {
	c.ForTask = origin
	if c.Cluster == "" {
		c.Cluster = origin.Cluster
	}
	switch {
	case origin.Subnet != "" && !slices.Contains(c.Subnets, origin.Subnet):
		c.Subnets = append([]string{origin.Subnet}, c.Subnets...)
	case origin.Subnet == "" && len(c.Subnets) == 0:
		return fmt.Errorf("--subnets: task %s had no network interface (not awsvpc), so its subnet is unknown: give --subnets", origin.TaskARN)
	}
	switch {
	case len(origin.SecurityGroups) > 0:
		c.SecurityGroups = origin.SecurityGroups
	case len(c.SecurityGroups) == 0 && origin.Service != "":
		return fmt.Errorf("--security-groups: service %s of task %s no longer says its security groups: give the task's --security-groups", origin.Service, origin.TaskARN)
	case len(c.SecurityGroups) == 0:
		return fmt.Errorf("--security-groups: task %s has no service to read its security groups from (ECS does not keep a task's own): give the task's --security-groups", origin.TaskARN)
	}
	if !publicIPGiven && origin.AssignPublicIP != "" {
		c.AssignPublicIP = origin.AssignPublicIP == string(types.AssignPublicIpEnabled)
	}
	return nil
}

// probeServices is the --services the probes were given: VPCPROBE_SERVICES of env, else the
// probe's default.
func probeServices(env []EnvVar) string {
	for _, e := range env {
		if e.Name == "VPCPROBE_SERVICES" && strings.TrimSpace(e.Value) != "" {
			return e.Value
		}
	}
	return catalogue.DefaultServices
}
