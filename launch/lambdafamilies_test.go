package launch

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestLambdaFamilies: a dual-stack task's function gets Ipv6AllowedForDualStack (without it a
// function in a VPC sends no IPv6: Lambda API Reference, VpcConfig) and its probe is told the
// families; an IPv4 task's function does not; an IPv6-only task gets no function at all, since
// "Lambda doesn't support outbound IPv6 connections for IPv6-only subnets in a VPC" (Lambda
// Developer Guide, IPv6 support).
func TestLambdaFamilies(t *testing.T) {
	for _, tc := range []struct {
		name     string
		families []string
		ipv6     bool   // Ipv6AllowedForDualStack on the function
		event    string // address-families in the probe's event
		created  bool
	}{
		{"dual-stack", []string{"ipv4", "ipv6"}, true, "ipv4,ipv6", true},
		{"IPv4", []string{"ipv4"}, false, "ipv4", true},
		{"unknown", nil, false, "", true},
		{"IPv6-only", []string{"ipv6"}, false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, _, l := lambdaWorld(t)
			var mu sync.Mutex
			var seen []fakeaws.Function
			var events []map[string]any
			fake.RunFunctions(func(ctx context.Context, fn fakeaws.Function, payload []byte) (fakeaws.InvokeResult, error) {
				var ev map[string]any
				json.Unmarshal(payload, &ev)
				mu.Lock()
				seen, events = append(seen, fn), append(events, ev)
				mu.Unlock()
				rep := &report.Report{Schema: report.Schema, RunID: ev["run-id"].(string), Verdict: checks.Pass}
				return fakeaws.InvokeResult{Payload: rep.JSON()}, nil
			})
			c := lambdaConfig("subnet-0000000a")
			c.Families = tc.families
			rep, _ := l.RunLambda(context.Background(), c)
			if created := len(fake.FunctionsCreated()) > 0; created != tc.created {
				t.Fatalf("function created %v, want %v", created, tc.created)
			}
			if !tc.created {
				d := rep.Subnets[0].Diagnoses
				if len(d) != 1 || d[0].Error != LambdaIPv6Only || d[0].Cause != CauseLambda {
					t.Errorf("diagnoses %+v, want one %s", d, LambdaIPv6Only)
				}
				return
			}
			if len(seen) != 1 {
				t.Fatalf("%d invocations", len(seen))
			}
			if seen[0].IPv6ForDualStack != tc.ipv6 {
				t.Errorf("Ipv6AllowedForDualStack %v, want %v", seen[0].IPv6ForDualStack, tc.ipv6)
			}
			if got, _ := events[0]["address-families"].(string); got != tc.event {
				t.Errorf("event address-families %q, want %q", got, tc.event)
			}
		})
	}
}
