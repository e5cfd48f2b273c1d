// Package responder answers every task that fails to start: an EventBridge "ECS Task State
// Change" event in, a diagnosis out — the stopped reason translated, the task's network path
// probed from its own subnet (once per cause in a window), the VPC's configuration joined, the
// result written to CloudWatch Logs with metrics and put on EventBridge as "vpcprobe Diagnosis".
package responder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// Schema names the diagnosis document; fields may be added, never renamed or removed.
const Schema = "vpcprobe-diagnosis/v1"

// Diagnosis is the responder's answer to one failed start: what ECS said, translated; the live
// probe that stands for its cause (run by this invocation, or by the one that claimed the cause
// first in the window); and where the whole report was written.
type Diagnosis struct {
	Schema         string        `json:"schema"`
	EventID        string        `json:"event_id"`
	Verdict        checks.Status `json:"verdict"`
	Account        string        `json:"account"`
	Region         string        `json:"region"`
	Cluster        string        `json:"cluster"`
	Service        string        `json:"service,omitempty"`
	TaskARN        string        `json:"task_arn"`
	TaskDefinition string        `json:"task_definition,omitempty"`
	Subnet         string        `json:"subnet,omitempty"`
	SecurityGroups []string      `json:"security_groups,omitempty"`
	StoppedReason  string        `json:"stopped_reason"`
	// Explanation is the offline translation (explain-stopped's), for every event.
	Explanation []stopped.Diagnosis `json:"explanation"`
	// Probe says which live probe answers for this cause, or why there is none.
	Probe *ProbeRef `json:"probe,omitempty"`
	// Launch is the live probe's report joined with the configuration, on the diagnosis of the
	// event whose invocation ran it; the others link to it through Probe.
	Launch    *launch.Report `json:"launch,omitempty"`
	LogGroup  string         `json:"log_group,omitempty"`
	LogStream string         `json:"log_stream,omitempty"`
	// Trimmed is set on the EventBridge copy when it was cut to fit an entry: the whole
	// diagnosis is in LogStream.
	Trimmed bool `json:"trimmed,omitempty"`
}

// ProbeRef is the live probe standing for a diagnosis's cause.
type ProbeRef struct {
	Key   string `json:"key,omitempty"`
	RunID string `json:"run_id,omitempty"`
	// Ran is set when this event's invocation ran the probe; else it links to the one that did.
	Ran       bool   `json:"ran"`
	EventID   string `json:"event_id,omitempty"`
	LogStream string `json:"log_stream,omitempty"`
	Verdict   string `json:"verdict,omitempty"`
	// Skipped says why no live probe stands for the event: the cause is not the network, the
	// task had no subnet, a probe slot could not be had, ...
	Skipped string `json:"skipped,omitempty"`
}

// Config is the responder's deployment: its table, the probe functions' settings, where reports go.
type Config struct {
	Table string // the claims table (pk string key, expires_at TTL)
	// Window is how long one live probe stands for its cause (default DefaultWindow).
	Window time.Duration
	// MaxAlive caps the probe functions alive at once in the account (default DefaultMaxAlive).
	MaxAlive int
	// Role, Code and Architecture are the probe functions' execution role, zip and architecture.
	Role         string
	Code         []byte
	Architecture string
	// ProbeDeadline is each probe's --deadline (default DefaultProbeDeadline).
	ProbeDeadline time.Duration
	LogGroup      string // where diagnoses are written; required
	EventBus      string // where "vpcprobe Diagnosis" events go (default "default")
	Region        string
	Account       string
	Name          string // the responder's function name: the metrics' Responder dimension
}

// Defaults.
const (
	// DefaultWindow: a crash-looping service retries every minute or so; a quarter of an hour
	// lets a fix deployed in between be measured again soon, at 4 probes an hour per cause.
	DefaultWindow = 15 * time.Minute
	// DefaultMaxAlive: each probe function holds a Hyperplane ENI per subnet and security group
	// set, and Lambda's concurrency is shared with the account's own functions.
	DefaultMaxAlive = 10
	// DefaultProbeDeadline is the probe's --deadline in each function: every check of a black-holed
	// path times out within a few --timeout steps.
	DefaultProbeDeadline = 30 * time.Second
	// cleanupReserve is kept between the launch's end and the invocation's deadline: deleting
	// the functions, releasing the slot, writing the log and the event.
	cleanupReserve = 15 * time.Second
	// sweepBudget bounds the sweep of functions crashed runs left, at the start of each event.
	sweepBudget = 5 * time.Second
)

// Responder diagnoses failed starts. ECS, DynamoDB, Lambda, Logs and Events are required.
type Responder struct {
	Config
	ECS      launch.TaskAPI
	DynamoDB DynamoDB
	Lambda   interface {
		lambdafn.Lambda
		lambdafn.Lister
	}
	Logs   Logs
	Events EventBridge
	// Shared is the Lambda runner's (inspection clients, progress, clock, polls).
	Shared launch.Shared
}

// ErrNotFailedStart is Handle's answer to an event that is not a failed start: no work done.
var ErrNotFailedStart = errors.New("not a failed start")

// Handle answers one EventBridge event. An event that is no failed start (another detail-type,
// another stop code) is ErrNotFailedStart with nothing done. A failed start always gets its
// diagnosis written, even when the live probe could not run (Probe.Skipped says why).
func (r *Responder) Handle(ctx context.Context, payload []byte) (*Diagnosis, error) {
	ev, detail, err := ParseEvent(payload)
	if err != nil {
		return nil, err
	}
	if detail == nil || !detail.FailedStart() {
		what := "detail-type " + ev.DetailType
		if detail != nil {
			what = fmt.Sprintf("lastStatus %s, stopCode %s", orNone(detail.LastStatus), orNone(detail.StopCode))
		}
		return nil, fmt.Errorf("%w: %s", ErrNotFailedStart, what)
	}
	now := r.Shared.Clock()
	d := &Diagnosis{Schema: Schema, EventID: ev.ID, Account: orString(ev.Account, r.Account), Region: orString(ev.Region, r.Region),
		Cluster: detail.Cluster(), Service: detail.Service(), TaskARN: detail.TaskARN, TaskDefinition: detail.TaskDefinitionARN,
		Subnet: detail.Subnet(), StoppedReason: stopped.Redact(detail.StoppedReason), LogGroup: r.LogGroup,
		LogStream: "responder/" + now.UTC().Format("2006/01/02") + "/" + taskID(detail.TaskARN)}
	d.Explanation = stopped.Translate(detail.Task())
	d.Verdict = worst(d.Explanation)

	if ctxDone(ctx) {
		return d, context.Cause(ctx)
	}
	r.sweep(ctx, now)
	d.Probe = r.probe(ctx, d, detail, now)
	if d.Launch != nil && d.Launch.Verdict == checks.Fail {
		d.Verdict = checks.Fail
	}

	// The diagnosis is written whatever happened above, under a context that outlives a cut
	// invocation by the little it needs.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupReserve/2)
	defer cancel()
	var errs []error
	if err := Deliver(wctx, r.Logs, r.LogGroup, d.LogStream, r.Name, d, r.Shared.Clock()); err != nil {
		errs = append(errs, err)
	}
	if err := Publish(wctx, r.Events, orString(r.EventBus, "default"), d, r.Shared.Clock()); err != nil {
		errs = append(errs, err)
	}
	return d, errors.Join(errs...)
}

// needsProbe reports whether a diagnosis blames an AWS service's path: only those are the
// network's to reproduce; a memory limit or a bad image is answered offline.
func needsProbe(ds []stopped.Diagnosis) bool {
	return slices.ContainsFunc(ds, func(x stopped.Diagnosis) bool {
		return x.Service != "" && (x.Verdict == checks.Fail || x.Verdict == checks.Warn)
	})
}

// probe claims the cause and, when this event wins it, reproduces the task in its subnet with
// its security groups through the Lambda runner, joined with the VPC's configuration.
func (r *Responder) probe(ctx context.Context, d *Diagnosis, detail *TaskDetail, now time.Time) *ProbeRef {
	if !needsProbe(d.Explanation) {
		return &ProbeRef{Skipped: "the stopped reason names no AWS service path: nothing to probe"}
	}
	origin, n, err := launch.DescribeOrigin(ctx, r.ECS, detail.TaskARN, detail.ClusterARN, needs.Options{Region: d.Region})
	if err != nil {
		return &ProbeRef{Skipped: "the task could not be read to reproduce it: " + err.Error()}
	}
	if origin.Subnet != "" {
		d.Subnet = origin.Subnet
	}
	d.SecurityGroups = origin.SecurityGroups
	switch {
	case d.Subnet == "":
		return &ProbeRef{Skipped: "the task had no network interface (not awsvpc): there is no subnet to probe from"}
	case len(d.SecurityGroups) == 0:
		return &ProbeRef{Skipped: "ECS does not keep a standalone task's security groups and the task has no service to read them from"}
	}
	window := launch.OrDefault(r.Window, DefaultWindow)
	key := CauseKey(d.Subnet, d.SecurityGroups, n)
	claims := Claims{DB: r.DynamoDB, Table: r.Table}
	runID := "resp-" + shortID(d.EventID)
	c, won, err := claims.Claim(ctx, Claim{Key: key, RunID: runID, EventID: d.EventID, LogStream: d.LogStream, Expires: now.Add(window)}, now)
	if err != nil {
		return &ProbeRef{Key: key, Skipped: "the claims table could not be written: " + err.Error()}
	}
	if !won {
		return &ProbeRef{Key: key, RunID: c.RunID, EventID: c.EventID, LogStream: c.LogStream, Verdict: c.Verdict}
	}

	deadline := r.launchDeadline(ctx)
	if deadline <= 0 {
		claims.Release(context.WithoutCancel(ctx), c)
		return &ProbeRef{Key: key, Skipped: "the invocation's deadline leaves no time for a live probe: raise the responder's timeout"}
	}
	slots := Slots{DB: r.DynamoDB, Table: r.Table, Max: max(r.MaxAlive, 0)}
	if r.MaxAlive == 0 {
		slots.Max = DefaultMaxAlive
	}
	slotCtx, cancel := context.WithTimeout(ctx, deadline/2)
	slot, err := slots.Acquire(slotCtx, runID, now.Add(deadline+cleanupReserve), r.Shared.Clock)
	cancel()
	if err != nil {
		claims.Release(context.WithoutCancel(ctx), c)
		return &ProbeRef{Key: key, Skipped: "no live probe: " + err.Error()}
	}
	defer slots.Release(context.WithoutCancel(ctx), slot, runID)

	runner := &lambdafn.Runner{Lambda: r.Lambda, Shared: r.Shared}
	ev := lambdafn.NeedsEvent(n)
	ev["deadline"] = launch.OrDefault(r.ProbeDeadline, DefaultProbeDeadline).String()
	rep, err := runner.Run(ctx, lambdafn.Config{
		LaunchID: runID, Subnets: []string{d.Subnet}, SecurityGroups: d.SecurityGroups,
		Role: r.Role, Code: r.Code, Architecture: r.Architecture, Event: ev,
		ProbeDeadline: launch.OrDefault(r.ProbeDeadline, DefaultProbeDeadline), Deadline: deadline,
		ForTask: origin, Needs: n,
	})
	d.Launch = rep
	ref := &ProbeRef{Key: key, RunID: runID, Ran: true, EventID: d.EventID, LogStream: d.LogStream}
	if err != nil {
		ref.Skipped = "the live probe could not test the subnet: " + err.Error()
	}
	if rep != nil {
		ref.Verdict = string(rep.Verdict)
		claims.Finish(context.WithoutCancel(ctx), c, ref.Verdict)
	}
	return ref
}

// launchDeadline is the time the live probe may take: the invocation's remaining time less what
// cleanup needs, so that Lambda's own timeout never cuts the deletion of a function.
func (r *Responder) launchDeadline(ctx context.Context) time.Duration {
	probe := launch.OrDefault(r.ProbeDeadline, DefaultProbeDeadline)
	// A function's creation and Pending state take up to a minute or two in a new subnet.
	want := probe + 2*time.Minute
	if dl, ok := ctx.Deadline(); ok {
		return min(want, time.Until(dl)-cleanupReserve)
	}
	return want
}

// sweep deletes the probe functions crashed runs left (expired tags), within sweepBudget.
func (r *Responder) sweep(ctx context.Context, now time.Time) {
	sctx, cancel := context.WithTimeout(ctx, sweepBudget)
	defer cancel()
	deleted, err := lambdafn.SweepExpired(sctx, r.Lambda, now)
	if len(deleted) > 0 {
		r.Shared.Progressf("deleted %d expired probe function(s): %s", len(deleted), strings.Join(deleted, ", "))
	}
	if err != nil {
		r.Shared.Progressf("sweeping expired probe functions: %v", err)
	}
}

func worst(ds []stopped.Diagnosis) checks.Status {
	v := checks.Pass
	for _, x := range ds {
		switch x.Verdict {
		case checks.Fail:
			return checks.Fail
		case checks.Warn:
			v = checks.Warn
		}
	}
	return v
}

func taskID(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// shortID keeps a run id within the function name's 64 characters: vpcprobe-<id>-<subnet>.
func shortID(eventID string) string {
	id := strings.ReplaceAll(eventID, "-", "")
	if len(id) > 16 {
		id = id[:16]
	}
	return id
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ctxDone(ctx context.Context) bool { return ctx.Err() != nil }

// Actions are the IAM actions the responder calls, besides inspect's (inspect.Actions): the
// template's and the Terraform module's responder role allow exactly these and inspect's (tests
// of taskdef hold them so), and a test of this package records every call a diagnosis makes.
var Actions = []string{
	"dynamodb:DeleteItem",
	"dynamodb:GetItem",
	"dynamodb:PutItem",
	"dynamodb:UpdateItem",
	"ecs:DescribeServices",
	"ecs:DescribeTaskDefinition",
	"ecs:DescribeTasks",
	"events:PutEvents",
	"iam:PassRole", // CreateFunction passes the probe functions' role
	"lambda:CreateFunction",
	"lambda:DeleteFunction",
	"lambda:GetFunction",
	"lambda:InvokeFunction",
	"lambda:ListFunctions",
	"lambda:ListTags",
	"lambda:TagResource", // CreateFunction with tags
	"logs:CreateLogStream",
	"logs:PutLogEvents",
}
