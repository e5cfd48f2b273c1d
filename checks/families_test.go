package checks

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestDNSFamilies resolves the shapes an IPv6-only or dual-stack task meets, against a real
// miekg/dns server on loopback: DNS64 synthesis for an IPv4-only name (RFC 6147; the /96
// embedding of RFC 6052 section 2.2: 198.51.100.11 is 64:ff9b::c633:640b), a dual-stack name,
// an IPv6-only name, an IPv4-only name without DNS64, and DNS64 behind a CNAME.
func TestDNSFamilies(t *testing.T) {
	server := serve(t, zone(t, map[string]reply{
		// Route 53 Resolver with DNS64 on: the A record, and an AAAA synthesised from it.
		"v4only.test. A":    {answer: []string{"v4only.test. 60 IN A 198.51.100.11"}},
		"v4only.test. AAAA": {answer: []string{"v4only.test. 60 IN AAAA 64:ff9b::c633:640b"}},
		// A dual-stack name has its own AAAA: DNS64 never synthesises over a real one.
		"dual.test. A":      {answer: []string{"dual.test. 60 IN A 198.51.100.12"}},
		"dual.test. AAAA":   {answer: []string{"dual.test. 60 IN AAAA 2001:db8:ff::12"}},
		"v6only.test. A":    {},
		"v6only.test. AAAA": {answer: []string{"v6only.test. 60 IN AAAA 2001:db8:ff::13"}},
		// DNS64 off: an IPv4-only name answers AAAA with NOERROR and no data.
		"nodns64.test. A":    {answer: []string{"nodns64.test. 60 IN A 198.51.100.14"}},
		"nodns64.test. AAAA": {},
		"alias.test. A":      {answer: []string{"alias.test. 60 IN CNAME v4only.test.", "v4only.test. 60 IN A 198.51.100.11"}},
		"alias.test. AAAA":   {answer: []string{"alias.test. 60 IN CNAME v4only.test.", "v4only.test. 60 IN AAAA 64:ff9b::c633:640b"}},
	}), nil)
	for _, tc := range []struct {
		host     string
		v4, v6   []netip.Addr
		nat64    bool
		embedded netip.Addr // what the DNS64 answer carries
	}{
		{host: "v4only.test", v4: addrs("198.51.100.11"), v6: addrs("64:ff9b::c633:640b"), nat64: true, embedded: netip.MustParseAddr("198.51.100.11")},
		{host: "dual.test", v4: addrs("198.51.100.12"), v6: addrs("2001:db8:ff::12")},
		{host: "v6only.test", v6: addrs("2001:db8:ff::13")},
		{host: "nodns64.test", v4: addrs("198.51.100.14")},
		{host: "alias.test", v4: addrs("198.51.100.11"), v6: addrs("64:ff9b::c633:640b"), nat64: true, embedded: netip.MustParseAddr("198.51.100.11")},
	} {
		t.Run(tc.host, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := DNS(ctx, Resolver{Servers: []string{server}, Timeout: 2 * time.Second}, tc.host)
			if r.Status != Pass {
				t.Fatalf("status %s %s (%s), want pass", r.Status, r.Code, r.Detail)
			}
			v4, v6 := Split(r.Addrs)
			if !slices.Equal(v4, tc.v4) || !slices.Equal(v6, tc.v6) {
				t.Errorf("families v4 %v v6 %v, want %v and %v", v4, v6, tc.v4, tc.v6)
			}
			for _, a := range v6 {
				if NAT64(a) != tc.nat64 {
					t.Errorf("NAT64(%s) = %v, want %v", a, NAT64(a), tc.nat64)
				}
				if got := Embedded(a); got != tc.embedded {
					t.Errorf("Embedded(%s) = %v, want %v", a, got, tc.embedded)
				}
			}
			for _, a := range v4 {
				if NAT64(a) {
					t.Errorf("NAT64(%s) is true for an IPv4 address", a)
				}
			}
		})
	}
}

// TestNAT64Prefix: only the well-known prefix 64:ff9b::/96 is DNS64's; the local-use prefix
// 64:ff9b:1::/48 (RFC 8215) is not what Route 53 Resolver answers, and an IPv4-mapped address
// travels as IPv4.
func TestNAT64Prefix(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"64:ff9b::a00:1", true},
		{"64:ff9b::ffff:ffff", true},
		{"64:ff9b:1::a00:1", false},
		{"2001:db8::a00:1", false},
		{"::ffff:10.0.0.1", false},
		{"10.0.0.1", false},
	} {
		if got := NAT64(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("NAT64(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
