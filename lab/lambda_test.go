package lab

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestLambdaScenarios runs scenarios through `vpcprobe launch --runner lambda` end to end: the
// launcher zips its own binary, the lab's Lambda API creates a function per subnet and runs it in
// the task namespace, and each subnet's report — read from the invocation's response — must meet
// the scenario's expectations as the task's does. An isolated subnet gives the whole diagnosis,
// every missing endpoint, in one run; the report says the function ran (no public IP, its role),
// and no function is left behind.
func TestLambdaScenarios(t *testing.T) {
	tests := []struct {
		scenario string
		subnets  int
		check    func(t *testing.T, rep *report.Report)
	}{
		{"healthy", 1, nil},
		{"isolated", 3, func(t *testing.T, rep *report.Report) {
			for _, s := range rep.Services {
				if !strings.Contains(s.Diagnosis, "never has a public IP") {
					t.Errorf("%s: the diagnosis does not say a function has no public IP: %q", s.Service, s.Diagnosis)
				}
			}
		}},
		{"isolated-all", 1, nil},
		{"no-s3-gateway", 1, nil},
		{"iam-denied", 1, func(t *testing.T, rep *report.Report) {
			for _, s := range rep.Services {
				if s.Service == "ecr.api" && !strings.Contains(s.Diagnosis, "execution role") {
					t.Errorf("ecr.api: the denial is not said to be the function's role's: %q", s.Diagnosis)
				}
			}
		}},
		{"logs-unreachable", 1, nil}, // delivery fails; the response still carries the report
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			sc, err := Lookup(tt.scenario)
			if err != nil {
				t.Fatal(err)
			}
			l := startLab(t, sc)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			subnets := Subnets(tt.subnets)
			r, err := l.LaunchLambda(ctx, probeBin, subnets)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if t.Failed() {
					t.Logf("vpcprobe %s\nexit %d\nstdout: %s\nstderr: %s", strings.Join(r.Args, " "), r.Exit, r.Stdout, r.Stderr)
				}
			}()
			if r.Report == nil || len(r.Report.Subnets) != len(subnets) {
				t.Fatalf("no launch report for %d subnets", len(subnets))
			}
			readsOnce(t, "launch text", r.Report.TextWidth(report.DefaultWidth), report.DefaultWidth)
			wantExit := 0
			if sc.Expect.Exit != 0 {
				wantExit = 1
			}
			if r.Exit != wantExit {
				t.Errorf("launcher exit %d, want %d", r.Exit, wantExit)
			}
			for _, s := range r.Report.Subnets {
				if s.Report == nil {
					t.Errorf("%s: no report: %+v", s.Subnet, s.Diagnoses)
					continue
				}
				probeExit := 0
				if s.Report.Failed() {
					probeExit = 1
				}
				for _, o := range sc.Judge(Run{Exit: probeExit, Report: s.Report}, l.Events()) {
					// The time bound is the probe process's; a launch adds the function's creation.
					if !o.OK && o.What != "time" {
						t.Errorf("%s %s: want %s, got %s", s.Subnet, o.What, o.Want, o.Got)
					}
				}
				c := s.Report.Context
				if c.Runner != report.RunnerLambda || c.SubnetID != s.Subnet || c.FunctionName != s.FunctionName {
					t.Errorf("%s: context %+v", s.Subnet, c)
				}
				// IAM is the function's role: its calls were signed with the role's session.
				if c.CallerARN != "" && !strings.Contains(c.CallerARN, ":assumed-role/vpcprobe-lambda/") {
					t.Errorf("%s: caller %s, want the function's execution role", s.Subnet, c.CallerARN)
				}
				if tt.check != nil {
					tt.check(t, s.Report)
				}
			}
			if len(l.AWS.FunctionsCreated()) != len(subnets) {
				t.Errorf("functions created: %v, want one per subnet", l.AWS.FunctionsCreated())
			}
			if left := l.AWS.Functions(); len(left) != 0 {
				t.Errorf("functions left behind: %d", len(left))
			}
		})
	}
}

// TestLambdaIsolatedWholeDiagnosis: the headline case in one run — an isolated subnet's one
// launch names every endpoint a task needs, where a task would have died at the first.
func TestLambdaIsolatedWholeDiagnosis(t *testing.T) {
	sc, err := Lookup("isolated")
	if err != nil {
		t.Fatal(err)
	}
	l := startLab(t, sc)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := l.LaunchLambda(ctx, probeBin, Subnets(1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Report == nil || r.Report.Subnets[0].Report == nil {
		t.Fatalf("no report: %s %s", r.Stdout, r.Stderr)
	}
	named := map[string]bool{}
	for _, d := range r.Report.Subnets[0].Diagnoses {
		if d.Error == checks.Timeout && strings.Contains(d.Remediation, d.EndpointService) {
			named[d.Service] = true
		}
	}
	for _, key := range defaultKeys {
		if !named[key] {
			t.Errorf("%s: no timeout diagnosis whose remediation names its endpoint (%v)", key, r.Report.Subnets[0].Diagnoses)
		}
	}
}
