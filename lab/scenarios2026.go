package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/probe"
)

// The VPC of 2026 in the lab (issue 19): DNS Firewall answers, Block Public Access closing the
// NAT, endpoints in a hub VPC behind a transit gateway, and a firewall's domain allow list behind
// the NAT. None of them is in what moto's EC2 API holds: Describe lists each in Unexplained, and
// inspect's side is tested against in-memory DNS Firewall, Block Public Access and Network
// Firewall APIs (inspect/vpc2026_test.go).

const (
	// HubCIDR is the hub VPC's block: outside VPCCIDR, so its addresses are private but beyond.
	HubCIDR = "10.100.0.0/16"
	// OverrideDomain is the CNAME a DNS Firewall BLOCK OVERRIDE answers, and OverrideAddr its
	// address: a walled garden this subnet has no route to.
	OverrideDomain = "walled-garden.example.com"
	OverrideAddr   = "203.0.113.250"
)

// OtherRegion is the region of the cross-region scenario's --other-region services.
const OtherRegion = "us-west-2"

// CrossENI returns the address of key's cross-region interface endpoint (for OtherRegion's
// service) in the task's subnet: 10.0.1.81 for ecr.api.
func CrossENI(key string) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 0, 1, byte(81 + index(key))})
}

// otherPublic is OtherRegion's public front end address for key: nothing routes it without a
// NAT, so a connection times out, as to any public address from an isolated subnet.
func otherPublic(key string) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 51, 100, byte(111 + index(key))})
}

// otherRegionNames are OtherRegion's host names, in the lab certificate.
func otherRegionNames() []string {
	var out []string
	for _, s := range catalogue.All() {
		out = append(out, s.Host(OtherRegion, Account))
	}
	return out
}

// HubENI returns the address of key's endpoint in the hub VPC: 10.100.1.51 for ecr.api, as ENIs
// numbers them.
func HubENI(key string) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 100, 1, byte(51 + index(key))})
}

// hubAndFirewall writes into the VPC resolver's zone the hub's answers (a private hosted zone
// associated from the hub) and DNS Firewall's: the Amazon-provided resolver is the same server,
// so it answers the same.
func hubAndFirewall(n Network, vpc *fakedns.Zone) {
	for _, s := range catalogue.All() { // OtherRegion's names: a cross-region endpoint's, else public
		if slices.Contains(n.CrossRegion, s.Key) {
			vpc.Set(s.Host(OtherRegion, Account), CrossENI(s.Key))
		} else {
			vpc.Set(s.Host(OtherRegion, Account), otherPublic(s.Key))
		}
	}
	for _, k := range n.Hub {
		vpc.Set(Host(k), HubENI(k))
	}
	for k, a := range n.DNSFirewall {
		switch a {
		case FirewallNXDomain:
			vpc.Fail(Host(k), dns.RcodeNameError)
		case FirewallNoData:
			vpc.Set(Host(k))
		case FirewallServFail:
			vpc.Fail(Host(k), dns.RcodeServerFailure)
		case FirewallOverride:
			vpc.Alias(Host(k), OverrideDomain)
			vpc.Set(OverrideDomain, netip.MustParseAddr(OverrideAddr))
		}
	}
}

// egressDrops are the router's rules of a firewall behind the NAT that drops TLS to the names of
// n.EgressDrop once it sees them in the ClientHello's SNI, as a Network Firewall domain allow
// list without them does: the TCP handshake completes, the TLS handshake never does.
func egressDrops(n Network) string {
	if !n.NAT {
		return ""
	}
	var b strings.Builder
	for _, k := range sortedByCatalogue(n.EgressDrop) {
		fmt.Fprintf(&b, "-A FORWARD -i t0 -o up0 -p tcp --dport 443 -m string --string %s --algo bm -j DROP\n", Host(k))
	}
	return b.String()
}

// unexplained2026 lists what of n's 2026 shapes the EC2 configuration does not show.
func unexplained2026(n Network) []string {
	var out []string
	for _, k := range sortedByCatalogue(keysOf(n.DNSFirewall)) {
		what := map[FirewallAnswer]string{FirewallNXDomain: "NXDOMAIN", FirewallNoData: "NODATA", FirewallServFail: "SERVFAIL (fail-open off)", FirewallOverride: "a CNAME to " + OverrideDomain}[n.DNSFirewall[k]]
		out = append(out, "dns: Route 53 Resolver DNS Firewall answers "+what+" for "+Host(k)+" (moto has no DNS Firewall API)")
	}
	if n.NAT && n.Egress == EgressBlocked {
		out = append(out, "egress: VPC Block Public Access (block-bidirectional) closes the NAT gateway's internet gateway (moto has no Block Public Access API)")
	}
	for _, k := range sortedByCatalogue(n.EgressDrop) {
		out = append(out, "egress: a Network Firewall domain allow list behind the NAT drops TLS to "+Host(k)+" (moto has no firewall policies or rule groups)")
	}
	for _, k := range sortedByCatalogue(n.Hub) {
		out = append(out, fmt.Sprintf("%s: the endpoint lives in a hub VPC (%s, %s) through a transit gateway, its zone shared through Route 53", k, HubCIDR, HubENI(k)))
	}
	for _, k := range sortedByCatalogue(n.CrossRegion) {
		out = append(out, k+": a cross-region interface endpoint for "+OtherRegion+" (moto's endpoints carry no service region; Describe does not create it)")
	}
	if n.HubDown && len(n.Hub) > 0 {
		out = append(out, "hub: the hub's endpoints drop TCP 443 from this VPC (their security group lacks "+VPCCIDR+")")
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// scenarios2026 join the table (scenarios.go).
var scenarios2026 = []Scenario{
	{
		Name:    "dns-firewall",
		Summary: "DNS Firewall blocks logs (NXDOMAIN), ecr.api (NODATA), ecr.dkr (SERVFAIL, fail-open off) and s3 (a CNAME override); the Amazon resolver agrees",
		Net: withNet(allEndpoints(), func(n *Network) {
			n.DNSFirewall = map[string]FirewallAnswer{"logs": FirewallNXDomain, "ecr.api": FirewallNoData, "ecr.dkr": FirewallServFail, "s3": FirewallOverride}
		}),
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: services{
				"logs":    second(fail(none, "dns", checks.NXDomain), none),
				"ecr.api": second(fail(none, "dns", checks.NoAnswer), none),
				"ecr.dkr": second(fail(none, "dns", checks.ServFail), none),
				// The override's address is not reachable from the subnet.
				"s3": second(fail(public, "tcp", checks.Timeout), public),
			}},
	},
	{
		Name:    "bpa-blocks-nat",
		Summary: "no endpoint, a NAT gateway, and VPC Block Public Access (bidirectional) closing its internet gateway: every public address times out",
		Net:     Network{NAT: true, Egress: EgressBlocked},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: each(defaultKeys, fail(public, "tcp", checks.Timeout))},
	},
	{
		Name:    "inspection-firewall",
		Summary: "no endpoint; the NAT path crosses a firewall whose domain allow list lacks the layer bucket: its TLS never completes",
		Net:     Network{NAT: true, EgressDrop: []string{"s3"}},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: each(defaultKeys, warn(public, "", probe.PublicRoute)).with("s3", fail(public, "tls", checks.TLSHandshake))},
	},
	{
		Name:    "hub-endpoints",
		Summary: "ecr.api, ecr.dkr and logs served by a hub VPC's endpoints through a transit gateway (private answers outside the VPC), the S3 gateway here",
		Net:     Network{Hub: []string{"ecr.api", "ecr.dkr", "logs"}, S3Gateway: true},
		Expect:  Expect{Exit: 0, Verdict: checks.Pass, Services: healthy(defaultKeys), Within: quick},
	},
	{
		Name:    "hub-unreachable",
		Summary: "as hub-endpoints, but the hub's endpoints drop TCP 443 from this VPC (their group, or no route back)",
		Net:     Network{Hub: []string{"ecr.api", "ecr.dkr", "logs"}, S3Gateway: true, HubDown: true},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: healthy(defaultKeys).with("ecr.api", fail(private, "tcp", checks.Timeout)).
				with("ecr.dkr", fail(private, "tcp", checks.Timeout)).with("logs", fail(private, "tcp", checks.Timeout))},
	},
}

// crossRegionScenario: the task also needs us-west-2's ECR (served here by cross-region interface
// endpoints), its logs (which cross-region PrivateLink does not serve) and its layer bucket (never
// private from another region).
var crossRegionScenario = Scenario{
	Name:    "cross-region",
	Summary: "every endpoint here, cross-region endpoints for us-west-2's ecr.api and ecr.dkr; us-west-2's logs and layer bucket only public: they time out",
	Net:     withNet(allEndpoints(), func(n *Network) { n.CrossRegion = []string{"ecr.api", "ecr.dkr"} }),
	Args:    []string{"--other-region", OtherRegion + ":ecr.api+ecr.dkr+logs+s3"},
	Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
		Services: healthy(defaultKeys).
			with("ecr.api@"+OtherRegion, pass(private)).with("ecr.dkr@"+OtherRegion, pass(private)).
			with("logs@"+OtherRegion, fail(public, "tcp", checks.Timeout)).with("s3@"+OtherRegion, fail(public, "tcp", checks.Timeout))},
}

func init() { scenarios = append(scenarios, append(scenarios2026, crossRegionScenario)...) }
