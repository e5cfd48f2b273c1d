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

// Text renders the report for a person at report.DefaultWidth (see TextWidth).
func (r *Report) Text() []byte { return r.TextWidth(report.DefaultWidth) }

// TextWidth renders the report for a person: a table with a column per subnet and a row per
// service (each cell the service's verdict, or its error code when it did not pass), then each
// subnet's diagnoses grouped by cause, with their remediations and ECS's raw reasons, and the
// configuration joined to them; each sentence once, prose wrapped at width.
func (r *Report) TextWidth(width int) []byte {
	var b bytes.Buffer
	w := report.NewWriter(&b, width)
	head := []string{"vpcprobe launch " + r.LaunchID}
	if r.Runner == RunnerLambda {
		head = append(head, "runner lambda (one function per subnet)")
	} else {
		head = append(head, "cluster "+r.Cluster, "task definition "+r.TaskDefinition)
	}
	if r.Interrupted {
		head = append(head, "INTERRUPTED")
	}
	w.Fields("", head...)
	b.WriteByte('\n')

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
	r.writeOrigin(w)

	var bodies []string // each subnet's section below its title, to say a repeated one once
	for i, s := range r.Subnets {
		bodies = append(bodies, "")
		if len(s.Diagnoses) == 0 && s.Inspection == nil {
			continue
		}
		b.WriteByte('\n')
		title := strings.ToUpper(string(s.Verdict)) + " " + s.Subnet
		if s.AvailabilityZone != "" {
			title += " (" + s.AvailabilityZone + ")"
		}
		fields := []string{title}
		if s.TaskARN != "" {
			fields = append(fields, "task "+s.TaskARN)
		}
		if s.FunctionName != "" {
			fields = append(fields, "function "+s.FunctionName)
		}
		w.Fields("", fields...)
		// Each subnet's section is its own (a Writer of its own: what one subnet said does not
		// silence another's); a section the same as an earlier subnet's is said once.
		var body bytes.Buffer
		sw := report.NewWriter(&body, w.Width)
		writeDiagnoses(sw, "  ", s.Diagnoses)
		if s.Inspection != nil {
			body.WriteByte('\n')
			s.Inspection.WriteText(sw, "  ")
		}
		bodies[i] = body.String()
		if j := slices.Index(bodies[:i], bodies[i]); j >= 0 {
			w.Line("  ", "as "+r.Subnets[j].Subnet+" above")
			continue
		}
		b.Write(body.Bytes())
	}
	if r.InspectError != "" {
		b.WriteByte('\n')
		w.Prose("", "configuration not inspected: ", r.InspectError)
	}
	fmt.Fprintf(&b, "\nverdict %s: %d subnet(s) in %dms\n", r.Verdict, len(r.Subnets), r.DurationMS)
	return b.Bytes()
}

// writeDiagnoses writes diagnoses grouped by cause as the probe's report groups its services
// ("ecr.api, ecr.dkr, logs: one cause"), each group with one why and one fix, then ECS's raw
// reasons of its members: each sentence once.
func writeDiagnoses(w *report.Writer, indent string, ds []stopped.Diagnosis) {
	services := make([]report.ServiceReport, len(ds))
	for i, d := range ds {
		services[i] = report.ServiceReport{Service: d.Service, Host: d.Host, EndpointService: d.EndpointService,
			EndpointType: d.EndpointType, Verdict: d.Verdict, Error: d.Error, Route: d.Route,
			Diagnosis: d.Diagnosis, Remediation: d.Remediation}
		if d.Verdict == checks.Pass { // groups leaves passes out; a diagnosis is never one, but say it
			services[i].Verdict = checks.Warn
		}
	}
	for _, g := range report.Groups(services) {
		w.WriteGroup(indent, g)
		for _, sr := range g {
			for _, d := range ds {
				if d.Raw != "" && d.Service == sr.Service && d.Error == sr.Error && d.Diagnosis == sr.Diagnosis {
					w.Prose(indent+"  ", "raw: ", d.Raw)
				}
			}
		}
	}
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
