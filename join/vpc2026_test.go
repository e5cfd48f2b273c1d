package join

import (
	"slices"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestJoin2026: which findings of the VPC of 2026 explain which live failure. Before these
// rules, each of these failures was "not explained by the configuration" (or explained by the
// fallback of any fail finding, never by an info one).
func TestJoin2026(t *testing.T) {
	tests := []struct {
		name      string
		live      report.ServiceReport
		findings  []inspect.Finding
		explained []string
	}{
		{"NXDOMAIN from both resolvers: a DNS Firewall block",
			liveService("logs", checks.Fail, "dns", report.RouteNone, checks.NXDomain),
			[]inspect.Finding{finding(inspect.CodeDNSFirewallBlocks, "logs", inspect.Fail)},
			[]string{inspect.CodeDNSFirewallBlocks}},
		{"SERVFAIL: a firewall failing closed (an info finding explains it)",
			liveService("sts", checks.Fail, "dns", report.RouteNone, checks.ServFail),
			[]inspect.Finding{finding(inspect.CodeDNSFirewallFailClosed, "", inspect.Info, "sts", "logs")},
			[]string{inspect.CodeDNSFirewallFailClosed}},
		{"a CNAME override to a certificate of another name",
			liveService("ecr.api", checks.Fail, "tls", report.RoutePublic, checks.TLSHostname),
			[]inspect.Finding{finding(inspect.CodeDNSFirewallBlocks, "ecr.api", inspect.Fail)},
			[]string{inspect.CodeDNSFirewallBlocks}},
		{"timeout through a NAT that Block Public Access closes",
			liveService("logs", checks.Fail, "tcp", report.RoutePublic, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeEndpointViaNAT, "logs", inspect.Fail), finding(inspect.CodeBPABlocksNAT, "", inspect.Fail, "logs", "s3"),
				finding(inspect.CodeRouteNAT, "", inspect.Warn, "logs", "s3")},
			[]string{inspect.CodeEndpointViaNAT, inspect.CodeBPABlocksNAT}},
		{"TLS dropped by a firewall's allow list on the way out",
			liveService("ecr.dkr", checks.Fail, "tls", report.RoutePublic, checks.TLSHandshake),
			[]inspect.Finding{finding(inspect.CodeNFWBlocks, "ecr.dkr", inspect.Fail)},
			[]string{inspect.CodeNFWBlocks}},
		{"a layer download through a firewall that could not be read",
			liveService("ecr.dkr", checks.Fail, "layer", report.RoutePublic, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeNFWUnseen, "", inspect.Warn, "s3", "ecr.dkr")},
			[]string{inspect.CodeNFWUnseen}},
		{"a hub's private address that times out: its endpoint's group",
			liveService("ecr.api", checks.Fail, "tcp", report.RoutePrivate, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeHubSGIngress, "ecr.api", inspect.Fail), finding(inspect.CodeEndpointCentral, "ecr.api", inspect.Warn)},
			[]string{inspect.CodeHubSGIngress}},
		{"a hub's private address without a route",
			liveService("ecr.api", checks.Fail, "tcp", report.RoutePrivate, checks.Unreachable),
			[]inspect.Finding{finding(inspect.CodeHubNoRoute, "ecr.api", inspect.Fail)},
			[]string{inspect.CodeHubNoRoute}},
		{"public timeout: the hub's zone is not associated",
			liveService("logs", checks.Fail, "tcp", report.RoutePublic, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeHubNoZone, "logs", inspect.Warn)},
			[]string{inspect.CodeHubNoZone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Join(&report.Report{Services: []report.ServiceReport{tt.live}}, nil, &inspect.Report{VPCID: "vpc-1",
				Services: []string{"ecr.api", "ecr.dkr", "s3", "logs", "sts"}, Findings: tt.findings})
			if len(in.Services) != 1 {
				t.Fatalf("joined %d services, want 1", len(in.Services))
			}
			j := in.Services[0]
			if got := codesOf(j.Findings); !slices.Equal(got, tt.explained) {
				t.Errorf("explained by %v, want %v", got, tt.explained)
			}
			if j.NotExplained != nil {
				t.Errorf("not explained: %+v", j.NotExplained)
			}
		})
	}
}
