package probe

import (
	"net/netip"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

func TestIsPrivate(t *testing.T) {
	own := []netip.Prefix{netip.MustParsePrefix("198.18.0.0/24"), // a subnet outside RFC 1918
		netip.MustParsePrefix("2001:db8:10:1::/64")} // its IPv6 CIDR: global, as every VPC's is
	tests := []struct {
		addr string
		want bool
	}{
		{"10.0.1.51", true},
		{"172.16.0.1", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"100.64.1.1", true},
		{"100.128.0.1", false},
		{"198.18.0.9", true}, // inside the task's own subnet
		{"198.18.1.9", false},
		{"127.0.0.1", true},
		{"fd00:ec2::253", true},
		{"::ffff:10.0.0.2", true},
		{"52.95.110.1", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"2600:1f18::1", false},
		// IPv6 is private inside the VPC's own prefixes only (AWS-NOTES "VPC IPv6 addresses are
		// global"): unique local space outside them is not.
		{"2001:db8:10:1::51", true},
		{"2001:db8:ff::11", false},
		{"fd12:3456::1", false},
		{"fd00:ec2::254", true},
		{"64:ff9b::c633:640b", false}, // DNS64: an IPv4-only name through a NAT gateway
	}
	for _, tt := range tests {
		if got := IsPrivate(netip.MustParseAddr(tt.addr), own); got != tt.want {
			t.Errorf("IsPrivate(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestRouteOf(t *testing.T) {
	a := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, x := range s {
			out = append(out, netip.MustParseAddr(x))
		}
		return out
	}
	tests := []struct {
		name  string
		addrs []netip.Addr
		want  string
	}{
		{"none", nil, report.RouteNone},
		{"private", a("10.0.1.51", "10.0.2.51"), report.RoutePrivate},
		{"public", a("52.95.110.1"), report.RoutePublic},
		{"mixed is public", a("10.0.1.51", "52.95.110.1"), report.RoutePublic},
	}
	for _, tt := range tests {
		if got := RouteOf(tt.addrs, nil); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestSecondOpinionAgreement: two answers agree when they lead to the same place, never by their
// sets (issue 10, item 1): S3's rotating public subsets and an endpoint's ENIs listed in another
// order or subset are healthy; private against public, or the task's subnet against a hub, are not.
func TestSecondOpinionAgreement(t *testing.T) {
	own := []netip.Prefix{netip.MustParsePrefix("10.0.1.0/24")}
	tests := []struct {
		name               string
		configured, amazon []string
		own                []netip.Prefix
		agrees             bool
	}{
		{"s3 rotating public subsets", []string{"52.218.1.10", "52.218.7.22"}, []string{"3.5.64.9", "52.92.17.3", "52.218.1.10"}, own, true},
		{"endpoint ENIs, other subset", []string{"10.0.1.51", "10.0.2.51"}, []string{"10.0.1.51"}, own, true},
		{"endpoint ENIs, subnet unknown", []string{"10.0.1.51"}, []string{"10.0.2.51", "10.0.3.51"}, nil, true},
		{"custom DNS misses the private zone", []string{"52.95.110.1"}, []string{"10.0.1.51", "10.0.2.51"}, own, false},
		{"hub endpoint against a local one", []string{"10.200.0.9"}, []string{"10.0.1.51"}, own, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conf, amz []netip.Addr
			for _, s := range tt.configured {
				conf = append(conf, netip.MustParseAddr(s))
			}
			for _, s := range tt.amazon {
				amz = append(amz, netip.MustParseAddr(s))
			}
			s := secondOpinion(checks.Result{Name: "dns", Status: checks.Pass, Addrs: amz}, conf, tt.own)
			if s.Agrees == nil || *s.Agrees != tt.agrees {
				t.Fatalf("agrees %v, want %v", s.Agrees, tt.agrees)
			}
		})
	}
}
