package probe

import (
	"net/netip"

	"github.com/vpcprobe/vpcprobe/report"
)

// sharedSpace is 100.64.0.0/10 (RFC 6598), used inside VPCs that add carrier-grade NAT space.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// nitroV6 holds the IPv6 addresses of the services every Nitro instance reaches inside AWS:
// Route 53 Resolver fd00:ec2::253, instance metadata fd00:ec2::254, time sync fd00:ec2::123
// (EC2 User Guide, "Instance metadata service" and "Amazon Time Sync Service").
var nitroV6 = netip.MustParsePrefix("fd00:ec2::/32")

// IsPrivate reports whether a is an address a VPC endpoint interface could have: RFC 1918,
// RFC 6598 shared space, loopback and link-local, AWS's own fd00:ec2:: service addresses, or
// inside one of the task's own prefixes (its subnet's IPv4 and IPv6 CIDRs, learned from task
// metadata, and the VPC's IPv6 CIDRs from instance metadata). A VPC's IPv6 addresses are global
// (Amazon-provided or BYOIP): an IPv6 address is private only inside those prefixes, never for
// being unique local.
func IsPrivate(a netip.Addr, own []netip.Prefix) bool {
	a = a.Unmap()
	if (a.Is4() && a.IsPrivate()) || a.IsLoopback() || a.IsLinkLocalUnicast() || sharedSpace.Contains(a) || nitroV6.Contains(a) {
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

// Where an answer leads, for comparing two resolvers' answers (STYLE.md habit 14).
const (
	placeNone      = "none"            // no address
	placePublic    = "public"          // out of the VPC: NAT, internet gateway, S3 gateway route
	placeHere      = "private, here"   // an endpoint with an address in the task's own subnet
	placeElsewhere = "private, beyond" // private, none of it in the task's subnet: another subnet, or a hub VPC
	placePrivate   = "private"         // private, and the task's subnet is unknown
)

// placeOf says where an answer leads: what it means, not its bytes. Answers rotate (S3 hands out
// a different subset on almost every query, and base + 2 and 169.254.169.253 are the same Route
// 53 Resolver), so two answers agree when they lead to the same place, never by their sets.
func placeOf(addrs []netip.Addr, own []netip.Prefix) string {
	switch RouteOf(addrs, own) {
	case report.RouteNone:
		return placeNone
	case report.RoutePublic:
		return placePublic
	}
	if len(own) == 0 {
		return placePrivate
	}
	for _, a := range addrs {
		for _, p := range own {
			if p.Contains(a.Unmap()) {
				return placeHere
			}
		}
	}
	return placeElsewhere
}
