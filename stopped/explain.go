package stopped

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/report"
)

// ExplainSchema names the shape of Explain's report.
const ExplainSchema = "vpcprobe-explain/v1"

// ErrTaskNotFound is Explain's error for a task DescribeTasks does not know in the cluster.
var ErrTaskNotFound = errors.New("task not found")

// Explanation is what Explain found of one task: ECS's own fields, and their translation.
// Verdict is fail when the task never ran or a container failed, pass when every container
// that ran exited 0, skip while the task has not stopped.
type Explanation struct {
	Schema        string           `json:"schema"`
	Cluster       string           `json:"cluster"`
	TaskARN       string           `json:"task_arn"`
	LastStatus    string           `json:"last_status"`
	StopCode      string           `json:"stop_code,omitempty"`
	StoppedReason string           `json:"stopped_reason"`
	Containers    []ContainerState `json:"containers"`
	Verdict       checks.Status    `json:"verdict"`
	Diagnoses     []Diagnosis      `json:"diagnoses"`
}

// ContainerState is one container of an explained task.
type ContainerState struct {
	Name       string `json:"name"`
	LastStatus string `json:"last_status"`
	ExitCode   *int32 `json:"exit_code"`
	Reason     string `json:"reason,omitempty"`
}

// Explain describes an existing task (any task, not only the probe's) and translates why it
// stopped. It fails only when the task cannot be described: ErrTaskNotFound when ECS does not
// know it, an *couldnottest.Error when DescribeTasks was denied or failed.
func Explain(ctx context.Context, client DescribeTasksAPI, cluster, task string) (*Explanation, error) {
	out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{task}})
	if err != nil {
		return nil, couldnottest.Call("ecs:DescribeTasks", err)
	}
	if len(out.Tasks) == 0 {
		reason := "MISSING"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].Reason)
		}
		return nil, fmt.Errorf("%s in cluster %s (%s): %w", task, cluster, reason, ErrTaskNotFound)
	}
	t := TaskFacts(&out.Tasks[0])
	statuses := make([]string, len(out.Tasks[0].Containers))
	for i, c := range out.Tasks[0].Containers {
		statuses[i] = aws.ToString(c.LastStatus)
	}
	return explainTask(cluster, t, statuses), nil
}

// explainTask translates one task as ECS described it; statuses are its containers' last
// statuses, in order.
func explainTask(cluster string, t Task, statuses []string) *Explanation {
	e := &Explanation{Schema: ExplainSchema, Cluster: cluster, TaskARN: t.ARN, LastStatus: t.LastStatus,
		StopCode: t.StopCode, StoppedReason: Redact(t.StoppedReason), Containers: []ContainerState{},
		Diagnoses: []Diagnosis{}}
	for i, c := range t.Containers {
		e.Containers = append(e.Containers, ContainerState{Name: c.Name, LastStatus: statuses[i],
			ExitCode: c.ExitCode, Reason: Redact(c.Reason)})
	}
	if t.LastStatus != "STOPPED" {
		// Still starting: container reasons (a pull being retried) may already say why.
		e.Diagnoses = append(e.Diagnoses, Translate(Task{ARN: t.ARN, Region: t.Region, Containers: t.Containers})...)
		e.Verdict = checks.Skip
		if len(e.Diagnoses) > 0 {
			e.Verdict = checks.Fail
		}
		return e
	}
	e.Diagnoses = append(e.Diagnoses, Translate(t)...)
	exits := false
	if len(e.Diagnoses) == 0 {
		for _, c := range t.Containers {
			exits = exits || c.ExitCode != nil
			if c.ExitCode != nil && *c.ExitCode != 0 {
				e.Diagnoses = append(e.Diagnoses, containerExit(c))
			}
		}
	}
	switch {
	case len(e.Diagnoses) > 0:
		e.Verdict = worst(e.Diagnoses)
	case !exits:
		// Nothing measured is not a pass: a reason that only says a container exited, with no
		// exit code to read (explain-stopped --reason), tells nothing either way.
		e.Verdict = checks.Skip
	default:
		e.Verdict = checks.Pass
	}
	return e
}

// worst returns the worst verdict of ds: fail, warn, skip, pass in that order.
func worst(ds []Diagnosis) checks.Status {
	order := []checks.Status{checks.Fail, checks.Warn, checks.Skip, checks.Pass}
	best := len(order) - 1
	for _, d := range ds {
		if i := slices.Index(order, d.Verdict); i >= 0 && i < best {
			best = i
		}
	}
	return order[best]
}

// Explained reports whether the explanation says why the task failed: false when it failed and
// every failing diagnosis is a reason no row of the table knows (quoted in raw, nothing
// invented), true otherwise, including for a task that did not fail.
func (e *Explanation) Explained() bool {
	failed := false
	for _, d := range e.Diagnoses {
		if d.Verdict != checks.Fail {
			continue
		}
		failed = true
		if !(d.Error == Unknown && (d.Cause == CauseUnknown || d.Cause == CauseFailedToStart)) {
			return true
		}
	}
	return !failed
}

// ExplainReason translates one stopped or container reason given as text, offline: region,
// when known, names the endpoints in its partition where the reason names no host of its own.
func ExplainReason(reason, region string) *Explanation {
	return explainTask("", Task{LastStatus: "STOPPED", StoppedReason: reason, Region: region}, nil)
}

// ErrNoTask is ExplainDocument's error for a document that describes no task.
var ErrNoTask = errors.New("no task in the document")

// describeTasksDocument is the part of `aws ecs describe-tasks` output (the DescribeTasks
// response as JSON) the translation reads. A small struct rather than the SDK's types: those
// are not made for JSON (their time.Time fields reject the epoch seconds the CLI prints under
// cli_timestamp_format=none), and the translation needs six fields.
type describeTasksDocument struct {
	Tasks []struct {
		TaskArn       string `json:"taskArn"`
		ClusterArn    string `json:"clusterArn"`
		LastStatus    string `json:"lastStatus"`
		StopCode      string `json:"stopCode"`
		StoppedReason string `json:"stoppedReason"`
		Containers    []struct {
			Name       string `json:"name"`
			LastStatus string `json:"lastStatus"`
			Reason     string `json:"reason"`
			ExitCode   *int32 `json:"exitCode"`
		} `json:"containers"`
	} `json:"tasks"`
	Failures []struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	} `json:"failures"`
}

// ExplainDocument translates every task of a describe-tasks JSON document, offline, in the
// document's order. Each task's ARN gives its region and account; region stands in for a task
// whose ARN is missing. A document with no task is ErrNoTask, naming its failures.
func ExplainDocument(doc []byte, region string) ([]*Explanation, error) {
	var d describeTasksDocument
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("read describe-tasks JSON: %w", err)
	}
	if len(d.Tasks) == 0 {
		var failures []string
		for _, f := range d.Failures {
			failures = append(failures, f.Arn+": "+f.Reason)
		}
		return nil, fmt.Errorf("%w (failures: %s)", ErrNoTask, orNone(strings.Join(failures, "; ")))
	}
	var out []*Explanation
	for _, dt := range d.Tasks {
		t := Task{ARN: dt.TaskArn, LastStatus: dt.LastStatus, StopCode: dt.StopCode, StoppedReason: dt.StoppedReason, Region: region}
		var statuses []string
		for _, c := range dt.Containers {
			t.Containers = append(t.Containers, Container{Name: c.Name, Reason: c.Reason, ExitCode: c.ExitCode})
			statuses = append(statuses, c.LastStatus)
		}
		cluster := dt.ClusterArn
		if _, _, _, _, res, ok := catalogue.ParseARN(cluster); ok {
			cluster = strings.TrimPrefix(res, "cluster/")
		}
		out = append(out, explainTask(cluster, t, statuses))
	}
	return out, nil
}

// containerExit explains a container that ran and exited non-zero: the platform started it, so
// the path for image, secrets and logs worked; its own logs say the rest.
func containerExit(c Container) Diagnosis {
	why := "its own logs say why"
	switch *c.ExitCode {
	case 137:
		why = "137 is SIGKILL: out of memory, or not stopped within the stop timeout"
	case 139:
		why = "139 is SIGSEGV: the program crashed"
	case 143:
		why = "143 is SIGTERM: it was stopped"
	}
	return Diagnosis{Verdict: checks.Fail, Error: ExitCode, Cause: CauseExit, Source: "container:" + c.Name,
		Diagnosis:   fmt.Sprintf("Container %s ran and exited with code %d (%s); the platform started it, so its image pull, secrets and log driver worked.", c.Name, *c.ExitCode, why),
		Remediation: "Read the container's logs; if it exits because it cannot reach an AWS service at run time, run vpcprobe in the same subnet with that service.",
	}
}

// JSON returns the explanation as one JSON document followed by a newline.
func (e *Explanation) JSON() []byte {
	b, err := json.Marshal(e)
	if err != nil { // plain values only; cannot fail
		panic("launch: marshal explanation: " + err.Error())
	}
	return append(b, '\n')
}

// Text renders the explanation for a person at report.DefaultWidth (see TextWidth).
func (e *Explanation) Text() []byte { return e.TextWidth(report.DefaultWidth) }

// TextWidth renders the explanation for a person, prose wrapped at width, each sentence once.
func (e *Explanation) TextWidth(width int) []byte {
	var b bytes.Buffer
	w := report.NewWriter(&b, width)
	head := "reason given on the command line"
	if e.TaskARN != "" {
		head = "task " + e.TaskARN + "  " + e.LastStatus
	}
	if e.StopCode != "" {
		head += " (" + e.StopCode + ")"
	}
	w.Wrap("", "  ", head)
	if e.StoppedReason != "" {
		w.Prose("", "stopped reason: ", e.StoppedReason)
	}
	for _, c := range e.Containers {
		line := fmt.Sprintf("container %s: %s", c.Name, OrDash(c.LastStatus))
		if c.ExitCode != nil {
			line += fmt.Sprintf(", exit %d", *c.ExitCode)
		}
		if c.Reason != "" {
			line += ": " + c.Reason
		}
		w.Wrap("", "  ", line)
	}
	for _, d := range e.Diagnoses {
		endpoint := ""
		if d.Host != "" || d.EndpointService != "" {
			endpoint = fmt.Sprintf("host: %s  endpoint: %s (%s)", OrDash(d.Host), OrDash(d.EndpointService), OrDash(d.EndpointType))
		}
		b.WriteByte('\n')
		writeDiagnosis(w, "", d, endpoint)
	}
	switch e.Verdict {
	case checks.Skip:
		if e.LastStatus == "STOPPED" {
			fmt.Fprintf(&b, "\nverdict skip: the reason only says a container exited; its exit code tells the rest\n")
		} else {
			fmt.Fprintf(&b, "\nverdict skip: the task is %s; nothing to explain until it stops\n", e.LastStatus)
		}
	default:
		fmt.Fprintf(&b, "\nverdict %s\n", e.Verdict)
	}
	return b.Bytes()
}

// DescribeTasksAPI is the part of the ECS client Explain calls; *ecs.Client implements it.
type DescribeTasksAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// TaskFacts returns the facts of an ECS task that the translation reads.
func TaskFacts(t *types.Task) Task {
	if t == nil {
		return Task{}
	}
	out := Task{ARN: aws.ToString(t.TaskArn), LastStatus: aws.ToString(t.LastStatus), StopCode: string(t.StopCode),
		StoppedReason: aws.ToString(t.StoppedReason)}
	for _, c := range t.Containers {
		cs := Container{Name: aws.ToString(c.Name), Reason: aws.ToString(c.Reason)}
		if c.ExitCode != nil {
			v := *c.ExitCode
			cs.ExitCode = &v
		}
		out.Containers = append(out.Containers, cs)
	}
	return out
}

// WriteDiagnosis writes d as text at report.DefaultWidth: its verdict, service and error, the
// diagnosis, the fix and any notes.
func WriteDiagnosis(b *bytes.Buffer, indent string, d Diagnosis, notes ...string) {
	writeDiagnosis(report.NewWriter(b, report.DefaultWidth), indent, d, notes...)
}

// writeDiagnosis writes d on w as every text view writes a finding (report's WriteFinding): its
// verdict, service and error, then why, the fix and each note.
func writeDiagnosis(w *report.Writer, indent string, d Diagnosis, notes ...string) {
	title := string(d.Error)
	if d.Service != "" {
		title = d.Service + " " + title
	}
	w.WriteFinding(indent, report.Shown{Finding: report.Finding{Service: d.Service, Severity: report.Severity(d.Verdict),
		Code: string(d.Error), Diagnosis: d.Diagnosis, Remediation: d.Remediation, Command: d.Command}, Title: title, Notes: notes})
}

// OrDash returns s, or "-" when it is empty, for a table cell.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
