package launch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/join"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// Schema names the combined report's shape; fields may be added, never renamed or removed,
// without a new one.
const Schema = "vpcprobe-launch/v1"

// RunnerLambda is Report.Runner for a launch through Lambda functions.
const RunnerLambda = "lambda"

// Report is one launch's findings: a subnet report per subnet, in the order given. The JSON
// document and the text table are views of this one value.
type Report struct {
	Schema         string         `json:"schema"`
	LaunchID       string         `json:"launch_id"`
	Runner         string         `json:"runner,omitempty"` // "lambda" for launch/lambdafn; absent for ECS tasks
	Verdict        checks.Status  `json:"verdict"`
	Cluster        string         `json:"cluster"`
	TaskDefinition string         `json:"task_definition"`
	LogGroup       string         `json:"log_group"`
	StartedAt      string         `json:"started_at"`
	DurationMS     int64          `json:"duration_ms"`
	Interrupted    bool           `json:"interrupted,omitempty"`
	Subnets        []SubnetReport `json:"subnets"`
	// ForTask is the application task the launch reproduces, with its translated stopped
	// reason; Needs is what was derived from its task definition. Omitted when not asked.
	ForTask *Origin      `json:"for_task,omitempty"`
	Needs   *needs.Needs `json:"needs,omitempty"`
	// InspectError says why the subnets' VPC configuration could not be read at all (no
	// subnet has an Inspection then); a kind that could not be read is a finding instead. It
	// never changes the verdict.
	InspectError string `json:"inspect_error,omitempty"`
}

// SubnetReport is one subnet's task and what it found. Report is the probe's own report when it
// was read back; Diagnoses lists every finding, whatever its source (the report's failed and
// warned services, the translated stopped reason, the exit code, the launcher).
type SubnetReport struct {
	Subnet           string              `json:"subnet"`
	RunID            string              `json:"run_id"`
	Verdict          checks.Status       `json:"verdict"`
	TaskARN          string              `json:"task_arn"`
	FunctionName     string              `json:"function_name,omitempty"` // the subnet's Lambda function, with --runner lambda
	AvailabilityZone string              `json:"availability_zone,omitempty"`
	LastStatus       string              `json:"last_status"`
	StopCode         string              `json:"stop_code,omitempty"`
	StoppedReason    string              `json:"stopped_reason"`
	ExitCode         *int32              `json:"exit_code"`
	Report           *report.Report      `json:"report"`
	Diagnoses        []stopped.Diagnosis `json:"diagnoses"`
	// Inspection is the subnet's VPC configuration joined with the live result (join.go); nil
	// with --inspect=false or when it could not be read (Report.InspectError).
	Inspection *join.Inspection `json:"inspection,omitempty"`

	// Untested is why the subnet was not measured (Verdict skip): an *couldnottest.Error.
	Untested error `json:"-"`
}

// Finish sets the launch's verdict: the worst of the measured subnets', skip when none was
// measured.
func (r *Report) Finish() {
	r.Verdict = checks.Skip
	for _, s := range r.Subnets {
		if s.Verdict != checks.Skip && r.Verdict == checks.Skip {
			r.Verdict = checks.Pass
		}
		switch s.Verdict {
		case checks.Fail:
			r.Verdict = checks.Fail
		case checks.Warn:
			if r.Verdict == checks.Pass {
				r.Verdict = checks.Warn
			}
		}
	}
}

// Failed reports whether a measured subnet failed (its task never ran, a service failed, the
// launch was cut short): exit 1.
func (r *Report) Failed() bool {
	return r.Verdict == checks.Fail
}

// Err is nil when at least one subnet was measured; else an error matching
// couldnottest.Err that names the cause (the first subnet's): exit 3.
func (r *Report) Err() error {
	if r.Verdict != checks.Skip {
		return nil
	}
	for _, s := range r.Subnets {
		if s.Untested != nil {
			return s.Untested
		}
	}
	return fmt.Errorf("%w: no subnet was measured", couldnottest.Err)
}

// JSON returns the report as one JSON document followed by a newline.
func (r *Report) JSON() []byte {
	b, err := json.Marshal(r)
	if err != nil { // plain values only; cannot fail
		panic("launch: marshal report: " + err.Error())
	}
	return append(b, '\n')
}

// Text renders the report for a person: a table with a column per subnet and a row per service
// (each cell the service's verdict, or its error code when it did not pass), then each subnet's
// diagnoses with their remediations and ECS's raw reasons.
func (r *Report) Text() []byte {
	var b bytes.Buffer
	if r.Runner == RunnerLambda {
		fmt.Fprintf(&b, "vpcprobe launch %s  runner lambda (one function per subnet)", r.LaunchID)
	} else {
		fmt.Fprintf(&b, "vpcprobe launch %s  cluster %s  task definition %s", r.LaunchID, r.Cluster, r.TaskDefinition)
	}
	if r.Interrupted {
		b.WriteString("  INTERRUPTED")
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(name string, cell func(SubnetReport) string) {
		fmt.Fprint(tw, name)
		for _, s := range r.Subnets {
			fmt.Fprintf(tw, "\t%s", cell(s))
		}
		fmt.Fprintln(tw)
	}
	row("SUBNET", func(s SubnetReport) string { return s.Subnet })
	row("zone", func(s SubnetReport) string { return stopped.OrDash(s.AvailabilityZone) })
	row("task", taskCell)
	for _, key := range r.serviceRows() {
		row(key, func(s SubnetReport) string { return serviceCell(s, key) })
	}
	row("VERDICT", func(s SubnetReport) string { return strings.ToUpper(string(s.Verdict)) })
	tw.Flush()
	r.writeOrigin(&b)

	for _, s := range r.Subnets {
		if len(s.Diagnoses) == 0 && s.Inspection == nil {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s", strings.ToUpper(string(s.Verdict)), s.Subnet)
		if s.AvailabilityZone != "" {
			fmt.Fprintf(&b, " (%s)", s.AvailabilityZone)
		}
		if s.TaskARN != "" {
			fmt.Fprintf(&b, "  task %s", s.TaskARN)
		}
		if s.FunctionName != "" {
			fmt.Fprintf(&b, "  function %s", s.FunctionName)
		}
		b.WriteByte('\n')
		for _, d := range s.Diagnoses {
			raw := ""
			if d.Raw != "" {
				raw = "raw: " + d.Raw
			}
			stopped.WriteDiagnosis(&b, "  ", d, raw)
		}
		s.Inspection.Write(&b)
	}
	if r.InspectError != "" {
		fmt.Fprintf(&b, "\nconfiguration not inspected: %s\n", r.InspectError)
	}
	fmt.Fprintf(&b, "\nverdict %s: %d subnet(s) in %dms\n", r.Verdict, len(r.Subnets), r.DurationMS)
	return b.Bytes()
}

// serviceRows are the table's service rows: every service a report or a diagnosis names, in
// catalogue order.
func (r *Report) serviceRows() []string {
	seen := map[string]bool{}
	for _, s := range r.Subnets {
		if s.Report != nil {
			for _, sr := range s.Report.Services {
				seen[sr.Service] = true
			}
		}
		for _, d := range s.Diagnoses {
			if d.Service != "" {
				seen[d.Service] = true
			}
		}
	}
	var rows []string
	for _, key := range catalogue.Keys() {
		if seen[key] {
			rows = append(rows, key)
		}
	}
	var extra []string
	for key := range seen { // keys the catalogue does not know (a newer probe's)
		if !slices.Contains(rows, key) {
			extra = append(extra, key)
		}
	}
	slices.Sort(extra)
	return append(rows, extra...)
}

// taskCell says how far the subnet's task got.
func taskCell(s SubnetReport) string {
	switch {
	case s.FunctionName != "" || s.LastStatus == "NOT_CREATED":
		return "lambda " + strings.ToLower(strings.ReplaceAll(s.LastStatus, "_", " "))
	case s.TaskARN == "":
		return "not started"
	case s.ExitCode != nil:
		return fmt.Sprintf("exit %d", *s.ExitCode)
	case s.LastStatus == "STOPPED":
		return "never ran"
	}
	return strings.ToLower(stopped.OrDash(s.LastStatus))
}

// serviceCell is one service's cell: the report's verdict or error code, else the error code of
// a diagnosis naming the service, else "-".
func serviceCell(s SubnetReport, key string) string {
	if s.Report != nil {
		for _, sr := range s.Report.Services {
			if sr.Service != key {
				continue
			}
			if sr.Error != "" && sr.Verdict != checks.Pass {
				return string(sr.Error)
			}
			return string(sr.Verdict)
		}
	}
	for _, d := range s.Diagnoses {
		if d.Service == key && d.Error != "" {
			return string(d.Error)
		}
	}
	return "-"
}

// writeDiagnosis renders d for a person, as the launch report and explain-stopped both show it:
// "VERDICT service error: diagnosis" after indent, then the remediation ("fix: …") and each
// non-empty note on lines of their own, two spaces further in.
