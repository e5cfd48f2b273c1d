package lab

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/join"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestLambdaJoined runs `launch --runner lambda` end to end in labs that describe their VPC
// through the EC2 API (one shared moto_server): the launcher inspects the subnet it probes while
// the function runs and joins the configuration to the live result. A zone that is down is
// explained by that zone's network ACL, named; a silent endpoint is said to be outside what the
// configuration shows; an isolated subnet's every failure carries the missing endpoint (s3 the
// missing gateway).
func TestLambdaJoined(t *testing.T) {
	tests := []struct {
		scenario string
		check    func(t *testing.T, ids VPCIDs, joined map[string]join.JoinedService)
	}{
		{"eni-zone-down", func(t *testing.T, ids VPCIDs, joined map[string]join.JoinedService) {
			j, ok := joined["ecr.api"]
			if !ok || j.Verdict != checks.Warn {
				t.Fatalf("ecr.api not joined as a live warning: %+v", joined)
			}
			if !slices.ContainsFunc(j.Findings, func(f inspect.Finding) bool { return slices.Contains(f.Resources, ids.NetworkACL) }) {
				t.Errorf("ecr.api: no finding names the zone's network ACL %s: %+v", ids.NetworkACL, j.Findings)
			}
			if j.NotExplained != nil {
				t.Errorf("ecr.api said not explained: %+v", j.NotExplained)
			}
		}},
		{"silent-peer", func(t *testing.T, ids VPCIDs, joined map[string]join.JoinedService) {
			j, ok := joined["logs"]
			if !ok || j.NotExplained == nil || j.NotExplained.Code != join.CodeNotExplained {
				t.Errorf("logs: %+v, want %s", j, join.CodeNotExplained)
			}
			if len(ids.Unexplained) == 0 {
				t.Errorf("the lab does not list the silent endpoint as unexplained")
			}
		}},
		{"nat-only", func(t *testing.T, ids VPCIDs, joined map[string]join.JoinedService) {
			// Reached through the NAT (live warn public-route): explained by the missing
			// endpoint, naming the NAT gateway.
			for key, j := range joined {
				if !slices.ContainsFunc(j.Findings, func(f inspect.Finding) bool {
					return f.Code == inspect.CodeEndpointViaNAT && slices.Contains(f.Resources, ids.NAT)
				}) {
					t.Errorf("%s: %+v, want %s naming %s", key, j, inspect.CodeEndpointViaNAT, ids.NAT)
				}
			}
			if len(joined) == 0 {
				t.Error("no live warning joined")
			}
		}},
		{"isolated", func(t *testing.T, ids VPCIDs, joined map[string]join.JoinedService) {
			for _, key := range defaultKeys {
				want := inspect.CodeEndpointMissing
				if key == "s3" {
					want = inspect.CodeS3GatewayMissing
				}
				j, ok := joined[key]
				if !ok || !slices.ContainsFunc(j.Findings, func(f inspect.Finding) bool { return f.Code == want }) {
					t.Errorf("%s: %+v, want %s", key, j, want)
				}
			}
		}},
	}
	url := sharedMoto(t).URL
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			sc, err := Lookup(tt.scenario)
			if err != nil {
				t.Fatal(err)
			}
			l := startLab(t, sc, WithEC2(url))
			ids := l.VPCIDs()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r, err := l.LaunchLambda(ctx, probeBin, []string{ids.TaskSubnet})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if t.Failed() {
					t.Logf("vpcprobe %s\nexit %d\nstdout: %s\nstderr: %s", strings.Join(r.Args, " "), r.Exit, r.Stdout, r.Stderr)
				}
			}()
			schematest.Check(t, r.Stdout)
			if r.Report == nil || len(r.Report.Subnets) != 1 || r.Report.Subnets[0].Report == nil {
				t.Fatalf("no live report")
			}
			if r.Report.InspectError != "" {
				t.Fatalf("inspect_error: %s", r.Report.InspectError)
			}
			readsOnce(t, "launch text", r.Report.TextWidth(report.DefaultWidth), report.DefaultWidth)
			in := r.Report.Subnets[0].Inspection
			if in == nil || in.VPCID != ids.VPC || !slices.Equal(in.SecurityGroups, []string{ids.TaskGroup}) {
				t.Fatalf("inspection %+v, want VPC %s with group %s", in, ids.VPC, ids.TaskGroup)
			}
			joined := map[string]join.JoinedService{}
			for _, j := range in.Services {
				joined[j.Service] = j
			}
			// Every service that failed or warned live is joined, and no other.
			for _, sr := range r.Report.Subnets[0].Report.Services {
				if _, ok := joined[sr.Service]; ok != (sr.Verdict == checks.Fail || sr.Verdict == checks.Warn) {
					t.Errorf("%s: live %s, joined %v", sr.Service, sr.Verdict, ok)
				}
			}
			tt.check(t, ids, joined)
		})
	}
}
