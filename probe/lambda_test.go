package probe

import (
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestRunner: the report says what the probe ran as.
func TestRunner(t *testing.T) {
	tests := []struct {
		name string
		p    *Prober
		want string
	}{
		{"lambda", &Prober{Config: Config{Runner: report.RunnerLambda, FunctionName: "vpcprobe-x"}}, report.RunnerLambda},
		{"ecs task", &Prober{Metadata: Metadata{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/c/abc"}}, report.RunnerECSTask},
		{"host", &Prober{}, report.RunnerHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.context().Runner; got != tt.want {
				t.Errorf("runner = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAsLambda: a Lambda function's report says where the function differs from a task — no
// public IP on a public route that timed out, IAM of the function's role — and nowhere else.
func TestAsLambda(t *testing.T) {
	tests := []struct {
		name string
		sr   report.ServiceReport
		want string // the sentence added; empty: none
	}{
		{"public timeout", report.ServiceReport{Verdict: checks.Fail, Route: report.RoutePublic,
			Checks: []report.CheckReport{{Name: "dns", Status: checks.Pass}, {Name: "tcp", Status: checks.Fail, Error: checks.Timeout}}}, lambdaNoPublicIP},
		{"private timeout", report.ServiceReport{Verdict: checks.Fail, Route: report.RoutePrivate,
			Checks: []report.CheckReport{{Name: "tcp", Status: checks.Fail, Error: checks.Timeout}}}, ""},
		{"denied", report.ServiceReport{Verdict: checks.Fail, Route: report.RoutePrivate,
			Checks: []report.CheckReport{{Name: "auth", Status: checks.Fail, Error: checks.AccessDenied}}}, lambdaRole},
		{"passed", report.ServiceReport{Verdict: checks.Pass, Route: report.RoutePublic,
			Checks: []report.CheckReport{{Name: "tcp", Status: checks.Pass}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sr.Diagnosis = "measured."
			rep := &report.Report{Services: []report.ServiceReport{tt.sr}}
			asLambda(rep)
			got := rep.Services[0].Diagnosis
			if tt.want == "" && got != "measured." || tt.want != "" && !strings.HasSuffix(got, " "+tt.want) {
				t.Errorf("diagnosis = %q, want %q added", got, tt.want)
			}
		})
	}
}
