package probe

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/report"
)

// pathDialer stands in for a subnet's routes on loopback: an address in up connects to the
// test front end on 127.0.0.1, one in holes swallows the SYN (a dropped packet: waits for the
// context), anything else has no route. Loopback has no 2001:db8:: or 64:ff9b:: routes, so
// the test injects them, as blackhole does for a dropped IPv4 address.
type pathDialer struct {
	up, holes []netip.Addr
}

func (d pathDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, err
	}
	switch {
	case slices.Contains(d.up, ap.Addr()):
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ap.Port()))))
	case slices.Contains(d.holes, ap.Addr()):
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}
}

func ips(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// familyWorld is a world whose front end also answers for ECR's dual-stack names.
func familyWorld(t *testing.T) *world {
	t.Helper()
	awstest.IsolateSDK(t)
	var hosts []string
	for _, s := range catalogue.All() {
		hosts = append(hosts, s.Host(testRegion, testAccount), s.HostFor(testRegion, testAccount, catalogue.Variant{DualStack: true}))
	}
	zone := awstest.Zone(hosts...)
	return &world{zone: zone, resolver: awstest.Resolver(t, zone), front: awstest.Front(t, http.HandlerFunc(awstest.Unsigned), hosts...)}
}

// The lab's and these tests' VPC: 10.0.1.0/24 and 2001:db8:10:1::/64 (documentation prefixes;
// a real VPC's IPv6 CIDR is a global one just the same).
const (
	v6Subnet = "2001:db8:10:1::/64"
	v4Subnet = "10.0.1.0/24"
)

func dualMeta() Metadata {
	return Metadata{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/c/0123", PrivateIP: "10.0.1.17", SubnetCIDR: v4Subnet,
		PrivateIPv6: "2001:db8:10:1::17", IPv6SubnetCIDR: v6Subnet}
}

func v6Meta() Metadata {
	return Metadata{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/c/0123", PrivateIPv6: "2001:db8:10:1::17", IPv6SubnetCIDR: v6Subnet}
}

// TestFamilies runs a dual-stack and an IPv6-only task against the shapes of issue 19, item 1.
// Expectations: a dual-stack task starts over IPv4 (ECS "Fargate task networking"), so the
// checks of record are IPv4's and an IPv6 failure is a warning; an IPv6-only task reaches an
// IPv4-only name only through DNS64 and a 64:ff9b::/96 route to a NAT gateway (VPC User Guide,
// "DNS64 and NAT64"), calls ECR on its dual-stack names, which PrivateLink does not carry (ECR
// User Guide, "Making requests to Amazon ECR registries").
func TestFamilies(t *testing.T) {
	type fam struct {
		status checks.Status
		route  string
		check  string
		code   checks.Code
		nat64  bool
	}
	tests := []struct {
		name     string
		meta     Metadata
		service  string
		host     string       // the name the zone answers (the service's host for that task)
		addrs    []netip.Addr // what it answers
		up       []netip.Addr
		holes    []netip.Addr
		verdict  checks.Status
		code     checks.Code
		families map[string]fam
		nat64    *bool // context.nat64_seen
	}{
		{name: "dual-stack healthy", meta: dualMeta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("10.0.1.54", "2001:db8:10:1::54"), up: ips("10.0.1.54", "2001:db8:10:1::54"),
			verdict: checks.Pass,
			families: map[string]fam{report.IPv4: {status: checks.Pass, route: report.RoutePrivate},
				report.IPv6: {status: checks.Pass, route: report.RoutePrivate}}},
		// The endpoint's ENI in another zone is in another /64 of the VPC: inside the /56 an
		// Amazon-provided VPC block always is, so private too.
		{name: "dual-stack endpoint in two zones", meta: dualMeta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("10.0.1.54", "10.0.2.54", "2001:db8:10:1::54", "2001:db8:10:2::54"),
			up:    ips("10.0.1.54", "10.0.2.54", "2001:db8:10:1::54", "2001:db8:10:2::54"), verdict: checks.Pass,
			families: map[string]fam{report.IPv4: {status: checks.Pass, route: report.RoutePrivate},
				report.IPv6: {status: checks.Pass, route: report.RoutePrivate}}},
		{name: "dual-stack public IPv6 outside the VPC", meta: dualMeta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("10.0.1.54", "2001:db8:ff::54"), up: ips("10.0.1.54", "2001:db8:ff::54"), verdict: checks.Pass,
			families: map[string]fam{report.IPv4: {status: checks.Pass, route: report.RoutePrivate},
				report.IPv6: {status: checks.Pass, route: report.RoutePublic}}},
		{name: "dual-stack IPv6 black-holed", meta: dualMeta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("10.0.1.54", "2001:db8:10:1::54"), up: ips("10.0.1.54"), holes: ips("2001:db8:10:1::54"),
			verdict: checks.Warn, code: IPv6PathFailed,
			families: map[string]fam{report.IPv4: {status: checks.Pass, route: report.RoutePrivate},
				report.IPv6: {status: checks.Fail, route: report.RoutePrivate, check: "tcp", code: checks.Timeout}}},
		{name: "dual-stack IPv4 down, IPv6 up", meta: dualMeta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("10.0.1.54", "2001:db8:10:1::54"), up: ips("2001:db8:10:1::54"), holes: ips("10.0.1.54"),
			verdict: checks.Fail, code: checks.Timeout,
			families: map[string]fam{report.IPv4: {status: checks.Fail, route: report.RoutePrivate, check: "tcp", code: checks.Timeout},
				report.IPv6: {status: checks.Pass, route: report.RoutePrivate}}},
		{name: "dual-stack name without AAAA", meta: dualMeta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("10.0.1.54"), up: ips("10.0.1.54"), verdict: checks.Pass,
			families: map[string]fam{report.IPv4: {status: checks.Pass, route: report.RoutePrivate},
				report.IPv6: {status: checks.Skip, route: report.RouteNone}}},
		{name: "IPv6-only NAT64 without a route", meta: v6Meta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("198.51.100.14", "64:ff9b::c633:640e"), holes: ips("64:ff9b::c633:640e"),
			verdict: checks.Fail, code: NAT64NoRoute, nat64: new(true),
			families: map[string]fam{report.IPv6: {status: checks.Fail, route: report.RoutePublic, check: "tcp", code: checks.Timeout, nat64: true}}},
		{name: "IPv6-only NAT64 routed", meta: v6Meta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("198.51.100.14", "64:ff9b::c633:640e"), up: ips("64:ff9b::c633:640e"),
			verdict: checks.Warn, code: PublicRoute, nat64: new(true),
			families: map[string]fam{report.IPv6: {status: checks.Pass, route: report.RoutePublic, nat64: true}}},
		{name: "IPv6-only without DNS64", meta: v6Meta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("198.51.100.14"), up: ips("198.51.100.14"),
			verdict: checks.Fail, code: NoIPv6Address, nat64: new(false),
			families: map[string]fam{report.IPv6: {status: checks.Fail, route: report.RouteNone, check: "tcp", code: NoIPv6Address}}},
		{name: "IPv6-only private endpoint", meta: v6Meta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("2001:db8:10:1::54"), up: ips("2001:db8:10:1::54"), verdict: checks.Pass, nat64: new(false),
			families: map[string]fam{report.IPv6: {status: checks.Pass, route: report.RoutePrivate}}},
		{name: "IPv6-only ECR dual-stack name, public", meta: v6Meta(), service: "ecr.api", host: "ecr.eu-west-1.api.aws",
			addrs: ips("198.51.100.11", "2001:db8:ff::11"), up: ips("2001:db8:ff::11"),
			verdict: checks.Warn, code: IPv6OnlyNotPrivate, nat64: new(false),
			families: map[string]fam{report.IPv6: {status: checks.Pass, route: report.RoutePublic}}},
		{name: "IPv6-only ECR registry, no way out", meta: v6Meta(), service: "ecr.dkr", host: "123456789012.dkr-ecr.eu-west-1.on.aws",
			addrs: ips("198.51.100.12", "2001:db8:ff::12"), holes: ips("2001:db8:ff::12"),
			verdict: checks.Fail, code: checks.Timeout, nat64: new(false),
			families: map[string]fam{report.IPv6: {status: checks.Fail, route: report.RoutePublic, check: "tcp", code: checks.Timeout}}},
		// VPC Lattice answers in 169.254.171.0/24 (VPC Lattice User Guide): a timeout there is
		// the service network's, not a missing endpoint of the subnet; and its address is private.
		{name: "VPC Lattice timeout", meta: dualMeta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("169.254.171.7"), holes: ips("169.254.171.7"), verdict: checks.Fail, code: LatticePath,
			families: map[string]fam{report.IPv4: {status: checks.Fail, route: report.RoutePrivate, check: "tcp", code: checks.Timeout},
				report.IPv6: {status: checks.Skip, route: report.RouteNone}}},
		{name: "VPC Lattice healthy", meta: dualMeta(), service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("169.254.171.7"), up: ips("169.254.171.7"), verdict: checks.Pass,
			families: map[string]fam{report.IPv4: {status: checks.Pass, route: report.RoutePrivate},
				report.IPv6: {status: checks.Skip, route: report.RouteNone}}},
		// Families unknown (a host): every address together, as before; the families are read
		// from tcp's peers, and an IPv6 address without a route beside a working IPv4 one is
		// not held against the tcp check. Without the subnet's IPv6 CIDR, a global IPv6
		// address is public: the route says so.
		{name: "families unknown", meta: Metadata{}, service: "logs", host: "logs.eu-west-1.amazonaws.com",
			addrs: ips("10.0.1.54", "2001:db8:10:1::54"), up: ips("10.0.1.54"), verdict: checks.Warn, code: PublicRoute,
			families: map[string]fam{report.IPv4: {status: checks.Pass, route: report.RoutePrivate},
				report.IPv6: {status: checks.Fail, route: report.RoutePublic, check: "tcp", code: checks.Unreachable}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := familyWorld(t)
			w.zone.Set(tt.host, tt.addrs...)
			p := w.prober(tt.service, 300*time.Millisecond, 5*time.Second)
			p.Metadata = tt.meta
			p.Dialer = pathDialer{up: tt.up, holes: tt.holes}
			rep := checkedRun(t, p, time.Now())
			s := serviceOf(t, rep, tt.service)
			if s.Host != tt.host {
				t.Fatalf("host %s, want %s", s.Host, tt.host)
			}
			if s.Verdict != tt.verdict || s.Error != tt.code {
				t.Fatalf("verdict %s %q, want %s %q\n%s\n%s", s.Verdict, s.Error, tt.verdict, tt.code, s.Diagnosis, rep.JSON())
			}
			if s.Verdict != checks.Pass && (s.Diagnosis == "" || s.Remediation == "") {
				t.Errorf("no diagnosis or remediation")
			}
			for _, f := range []string{report.IPv4, report.IPv6} {
				got, want := s.Families.Family(f), tt.families[f]
				_, wanted := tt.families[f]
				switch {
				case got == nil && !wanted:
					continue
				case got == nil || !wanted:
					t.Errorf("%s: got %+v, want %+v (wanted %v)", f, got, want, wanted)
					continue
				}
				if got.Status != want.status || got.Route != want.route || got.Check != want.check || got.Error != want.code || got.NAT64 != want.nat64 {
					t.Errorf("%s: %+v, want %+v", f, *got, want)
				}
			}
			c := rep.Context
			if fs := p.families(); !slices.Equal(c.AddressFamilies, fs) {
				t.Errorf("address_families %v, want %v", c.AddressFamilies, fs)
			}
			if (c.NAT64Seen == nil) != (tt.nat64 == nil) || (c.NAT64Seen != nil && *c.NAT64Seen != *tt.nat64) {
				t.Errorf("nat64_seen %v, want %v", c.NAT64Seen, tt.nat64)
			}
		})
	}
}

// TestParseMetadataIPv6 reads the IPv6 members of task metadata v4's Networks, named as the
// ECS agent writes them (amazon-ecs-agent ecs-agent/tmds/handlers/v4/state: IPv6Addresses,
// IPv6SubnetCIDRBlock).
func TestParseMetadataIPv6(t *testing.T) {
	task := []byte(`{"Cluster":"c","TaskARN":"arn:aws:ecs:eu-west-1:123456789012:task/c/0123","Containers":[{"Networks":[{"NetworkMode":"awsvpc",` +
		`"IPv4Addresses":["10.0.1.17"],"IPv6Addresses":["2001:db8:10:1::17"],"IPv4SubnetCIDRBlock":"10.0.1.0/24","IPv6SubnetCIDRBlock":"2001:db8:10:1::/64"}]}]}`)
	m, err := ParseMetadata(task, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.PrivateIPv6 != "2001:db8:10:1::17" || m.IPv6SubnetCIDR != v6Subnet || m.PrivateIP != "10.0.1.17" {
		t.Fatalf("%+v", m)
	}
	if fs := (&Prober{Metadata: m}).families(); !slices.Equal(fs, []string{report.IPv4, report.IPv6}) {
		t.Errorf("families %v", fs)
	}
	v6only := []byte(`{"TaskARN":"arn:aws:ecs:eu-west-1:123456789012:task/c/0123","Containers":[{"Networks":[{"NetworkMode":"awsvpc","IPv6Addresses":["2001:db8:10:1::17"],"IPv6SubnetCIDRBlock":"2001:db8:10:1::/64"}]}]}`)
	m, err = ParseMetadata(v6only, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fs := (&Prober{Metadata: m}).families(); !slices.Equal(fs, []string{report.IPv6}) {
		t.Errorf("IPv6-only families %v", fs)
	}
}

func TestParseFamilies(t *testing.T) {
	for in, want := range map[string][]string{
		"ipv4": {"ipv4"}, "ipv6": {"ipv6"}, "ipv6,ipv4": {"ipv4", "ipv6"}, "dualstack": {"ipv4", "ipv6"}, "": nil,
	} {
		got, err := ParseFamilies(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseFamilies(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseFamilies("ipv5"); err == nil {
		t.Error("ipv5 accepted")
	}
}

// TestSecondResolver: an IPv6-only task has no IPv4 route to 169.254.169.253, and reaches the
// same Route 53 Resolver at fd00:ec2::253 (EC2 User Guide, "Amazon DNS server"); a resolver set
// by hand is kept. (No query is sent: the address exists only on AWS's Nitro hosts.)
func TestSecondResolver(t *testing.T) {
	for _, tc := range []struct {
		meta       Metadata
		given, got string
	}{
		{v6Meta(), "169.254.169.253:53", "[fd00:ec2::253]:53"},
		{v6Meta(), "[2001:db8:10::2]:53", "[2001:db8:10::2]:53"},
		{dualMeta(), "169.254.169.253:53", "169.254.169.253:53"},
		{Metadata{}, "169.254.169.253:53", "169.254.169.253:53"},
	} {
		p := &Prober{Config: Config{AmazonDNS: tc.given}, Metadata: tc.meta}
		if got := p.secondResolver(); got != tc.got {
			t.Errorf("%v with %s: %s, want %s", p.families(), tc.given, got, tc.got)
		}
	}
}
