package report

import "slices"

// Severity of a finding: fail (this breaks the path), warn (it works but costs, bypasses the
// endpoint or could not be checked), info (worth knowing).
type Severity string

// Severities, as CONTRACT.md spells them.
const (
	SeverityFail Severity = "fail"
	SeverityWarn Severity = "warn"
	SeverityInfo Severity = "info"
)

// Finding is one thing that breaks or bypasses a service's path, whoever found it: a rule of
// inspect over the VPC's configuration, the join of a live result with it, or a group of the
// probe's failed services with one cause. One value, so one writer (WriteFinding) prints it and
// one schema ($defs/finding of inspect.schema.json) describes it.
type Finding struct {
	// Service is the service key the finding is about; empty for a finding about the whole VPC,
	// whose Services lists the services it affects.
	Service  string   `json:"service"`
	Services []string `json:"services,omitempty"`
	Severity Severity `json:"severity"`
	// Code is stable: scripts and the live report's join key on it.
	Code      string   `json:"code"`
	Resources []string `json:"resources"`
	Diagnosis string   `json:"diagnosis"`
	// Remediation says what to change; Command, when one command fixes it, is the AWS CLI
	// command with the real ids, ready to paste.
	Remediation string `json:"remediation"`
	Command     string `json:"command,omitempty"`
	// Fix is the change as data, for the finder's own views (inspect's CloudFormation and
	// Terraform snippets: an *inspect.Fix); nil when the fix is not a resource to create. It is
	// an interface, not inspect's type, because the arrows go down: report cannot import
	// inspect, and a side table keyed by finding would need an identity findings do not have
	// (they are copied, sorted and merged by value). It is not part of any JSON document.
	Fix Change `json:"-"`
}

// Change is a fix as data: whatever the finder records to build its own views of the change.
// Command is the AWS CLI command that makes it in region.
type Change interface {
	Command(region string) string
}

// Affects reports whether the finding bears on service key.
func (f Finding) Affects(key string) bool {
	return f.Service == key || slices.Contains(f.Services, key)
}

// Keys returns the services the finding bears on: Service, then Services, each once.
func (f Finding) Keys() []string {
	var out []string
	for _, k := range append([]string{f.Service}, f.Services...) {
		if k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
