package probe

import (
	"net/netip"

	"github.com/vpcprobe/vpcprobe/report"
)

// sharedSpace is 100.64.0.0/10 (RFC 6598), used inside VPCs that add carrier-grade NAT space.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// IsPrivate reports whether a is an address a VPC endpoint interface could have: RFC 1918,
// RFC 6598 shared space, IPv6 unique local, loopback and link-local, or inside one of the
// task's own prefixes (its subnet, learned from task metadata).
func IsPrivate(a netip.Addr, own []netip.Prefix) bool {
	a = a.Unmap()
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || sharedSpace.Contains(a) {
		return true
	}
	for _, p := range own {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RouteOf classifies a resolved address set: none when empty, private when every address is
// private, public otherwise (one public address is enough for traffic to leave the VPC).
func RouteOf(addrs []netip.Addr, own []netip.Prefix) string {
	if len(addrs) == 0 {
		return report.RouteNone
	}
	for _, a := range addrs {
		if !IsPrivate(a, own) {
			return report.RoutePublic
		}
	}
	return report.RoutePrivate
}
