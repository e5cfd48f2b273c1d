package lab

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/probe"
)

// TestLambdaReturnPorts: behind a network ACL that lets TCP answers back only to 32768-65535
// (AWS's example ACL), a Linux task passes (TestScenarios/acl-return-ports) while a Lambda
// function, whose source ports span 1024-65535 (Amazon VPC user guide, network ACLs, ephemeral
// ports), loses about half its connections that cross the subnet's edge. Its report must not
// fail the subnet for it: every service passes or warns lambda-port-range, saying it is the
// function's port range, and the launch exits 0. Issue 17, item 4.
func TestLambdaReturnPorts(t *testing.T) {
	sc, err := Lookup("acl-return-ports")
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
	if r.Report == nil || len(r.Report.Subnets) != 1 || r.Report.Subnets[0].Report == nil {
		t.Fatalf("no report: exit %d\n%s\n%s", r.Exit, r.Stdout, r.Stderr)
	}
	rep := r.Report.Subnets[0].Report
	warned := 0
	for _, s := range rep.Services {
		switch {
		case s.Verdict == checks.Pass:
		case s.Verdict == checks.Warn && s.Error == probe.LambdaPortRange:
			warned++
			if !strings.Contains(s.Diagnosis, "1024-65535") || !strings.Contains(s.Diagnosis, "32768-60999") {
				t.Errorf("%s: the diagnosis does not name both ranges: %s", s.Service, s.Diagnosis)
			}
		default:
			t.Errorf("%s: %s %s, want pass or warn %s: %s", s.Service, s.Verdict, s.Error, probe.LambdaPortRange, s.Diagnosis)
		}
	}
	// Every interface service's TCP check dials the ENI in the second zone, and S3 crosses the
	// edge on every connection: with half the ports dropped, some service always shows it.
	if warned == 0 {
		t.Errorf("no service warned %s:\n%s", probe.LambdaPortRange, rep.Text(false))
	}
	if r.Exit != 0 {
		t.Errorf("launcher exit %d, want 0", r.Exit)
	}
}
