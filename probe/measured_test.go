package probe

import (
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestUnmeasured: a run is "could not test" (CONTRACT.md, exit 3: "nothing was measured") only
// when every check was skipped; the reason is the first skip that says one. And a run without
// credentials is noticed from its skipped authenticated checks.
func TestUnmeasured(t *testing.T) {
	svc := func(name string, cs ...report.CheckReport) report.ServiceReport {
		return report.ServiceReport{Service: name, Checks: cs}
	}
	skip := func(detail string) report.CheckReport {
		return report.CheckReport{Name: "auth", Status: checks.Skip, Detail: detail}
	}
	pass := report.CheckReport{Name: "dns", Status: checks.Pass}
	fail := report.CheckReport{Name: "tcp", Status: checks.Fail}
	tests := []struct {
		name      string
		services  []report.ServiceReport
		want      string
		noCredsOK bool
	}{
		{"nothing probed", nil, "no service was probed", false},
		{"all skipped", []report.ServiceReport{svc("ecr.dkr", skip(""), skip("registry account unknown: pass --account"))}, "ecr.dkr: registry account unknown: pass --account", false},
		{"one measured", []report.ServiceReport{svc("s3", pass, skip(NoCredentials))}, "", true},
		{"a failure is a measure", []report.ServiceReport{svc("logs", fail)}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &report.Report{Services: tt.services}
			if got := Unmeasured(rep); got != tt.want {
				t.Errorf("Unmeasured = %q; want %q", got, tt.want)
			}
			if got := WithoutCredentials(rep); got != tt.noCredsOK {
				t.Errorf("WithoutCredentials = %t; want %t", got, tt.noCredsOK)
			}
		})
	}
}
