package checks

import "net/netip"

// nat64 is the well-known prefix of RFC 6052, the one Route 53 Resolver's DNS64 synthesises
// answers in and a VPC routes to a NAT gateway for NAT64 (Amazon VPC User Guide, "DNS64 and
// NAT64").
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// NAT64 reports whether a is a DNS64 answer: an IPv4 address embedded in 64:ff9b::/96, reached
// only through a NAT gateway doing NAT64.
func NAT64(a netip.Addr) bool { return a.Is6() && !a.Is4In6() && nat64.Contains(a) }

// Embedded returns the IPv4 address inside a DNS64 answer (64:ff9b::c633:640b is 198.51.100.11),
// or the zero Addr when a is not one.
func Embedded(a netip.Addr) netip.Addr {
	if !NAT64(a) {
		return netip.Addr{}
	}
	b := a.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
}

// Split divides addresses by family, keeping their order: IPv4 (and IPv4-mapped IPv6, which
// travel as IPv4) in v4, every other IPv6 address, DNS64's included, in v6.
func Split(addrs []netip.Addr) (v4, v6 []netip.Addr) {
	for _, a := range addrs {
		if a.Unmap().Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return v4, v6
}
