package lab

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/report"
)

// IPv6 in the lab. A VPC's IPv6 CIDR is global (Amazon-provided or BYOIP); the lab uses the
// documentation prefix 2001:db8::/32 for the VPC and the "public" side alike, so that only the
// subnet's CIDR, as task metadata gives it, tells a private address from a public one:
//
//	task (2001:db8:10:1::17/64) ── eth0 ═ t0 ── vpc router ── up0 ═ eth0 ── inet (2001:db8:ff::/64,
//	                                                                          64:ff9b::/96)
//
// Endpoint ENIs get 2001:db8:10:1::5x (the task's subnet) and 2001:db8:10:2::5x (the second AZ)
// beside their IPv4 addresses; the resolver answers at 2001:db8:10::2 too (AWS's own is
// fd00:ec2::253, which a lab does not use: IPv6 inside the lab is 2001:db8::/32, and DNS64's
// 64:ff9b::/96 carrying 198.51.100.0/24). With DNS64 on, the resolver answers an IPv4-only name
// with 64:ff9b::<its IPv4 address> as Route 53 Resolver does; the inet namespace holds those
// addresses, standing for NAT64 on a NAT gateway and the IPv4 internet behind it, reached only
// when the route table sends 64:ff9b::/96 there (Network.NAT64).
const (
	VPCIPv6CIDR    = "2001:db8:10::/56"
	TaskIPv6Subnet = "2001:db8:10:1::/64"
	TaskIPv6       = "2001:db8:10:1::17"
	GatewayIPv6    = "2001:db8:10:1::1"
	ResolverIPv6   = "2001:db8:10::2"
	MetadataIPv6   = "2001:db8:10:ff::2"

	uplinkRouterV6 = "2001:db8:ffff::2"
	uplinkInetV6   = "2001:db8:ffff::1"
)

// IPv6Mode is the task's address families.
type IPv6Mode int

// IPv6Mode values.
const (
	IPv4Only  IPv6Mode = iota // no IPv6 anywhere: the lab of before
	DualStack                 // the task and the endpoints have IPv4 and IPv6 addresses
	IPv6Only                  // the task has only IPv6; endpoints answer IPv6 (IpAddressType ipv6)
)

var nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")

// ENIsV6 returns the IPv6 addresses of key's interface endpoint, numbered as ENIs.
func ENIsV6(key string) [2]netip.Addr {
	i := byte(0x51 + index(key))
	return [2]netip.Addr{
		netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 1, 15: i}),
		netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 2, 15: i}),
	}
}

// PublicAddrV6 returns the IPv6 address of key's public dual-stack front end (ECR's *.api.aws
// and *.on.aws names): 2001:db8:ff::11 for ecr.api, as PublicAddr numbers 198.51.100.11.
func PublicAddrV6(key string) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0xff, 15: byte(0x11 + index(key))})
}

// NAT64Addr is DNS64's answer for key's IPv4-only public name: 64:ff9b:: and its IPv4 address.
func NAT64Addr(key string) netip.Addr {
	b := nat64Prefix.Addr().As16()
	v4 := PublicAddr(key).As4()
	copy(b[12:], v4[:])
	return netip.AddrFrom16(b)
}

// dualStackKeys are the services whose dual-stack names the lab answers: ECR's, the names an
// IPv6-only task must use (the others reach IPv6 through DNS64 or an endpoint).
var dualStackKeys = []string{"ecr.api", "ecr.dkr"}

// dualStackHost is key's dual-stack name.
func dualStackHost(key string) string {
	s, _ := catalogue.Lookup(key)
	return s.HostFor(Region, Account, catalogue.Variant{DualStack: true})
}

// ipv6Lines are the ip commands of IPv6 in each namespace, nil without IPv6.
func (l *Lab) ipv6Lines() (task, vpc, inet []string) {
	n := l.Scenario.Net
	if n.IPv6 == IPv4Only {
		return nil, nil, nil
	}
	// nodad: the addresses are usable at once, not "tentative" for a second of duplicate
	// address detection on links where nothing else could hold them.
	task = []string{
		"addr add " + TaskIPv6 + "/64 dev eth0 nodad",
		"route add ::/0 via " + GatewayIPv6,
	}
	vpc = []string{
		"addr add " + GatewayIPv6 + "/64 dev t0 nodad",
		"addr add " + uplinkRouterV6 + "/64 dev up0 nodad",
		"addr add " + ResolverIPv6 + "/128 dev lo",
		"addr add " + MetadataIPv6 + "/128 dev lo",
		"route add ::/0 via " + uplinkInetV6,
	}
	for _, k := range n.Endpoints {
		v6 := ENIsV6(k)
		vpc = append(vpc, "addr add "+v6[0].String()+"/64 dev t0 nodad", "addr add "+v6[1].String()+"/128 dev lo")
	}
	inet = []string{
		"addr add " + uplinkInetV6 + "/64 dev eth0 nodad",
		"route add " + VPCIPv6CIDR + " via " + uplinkRouterV6,
	}
	for _, k := range serviceKeys() {
		inet = append(inet, "addr add "+PublicAddrV6(k).String()+"/128 dev lo", "addr add "+NAT64Addr(k).String()+"/128 dev lo")
	}
	return task, vpc, inet
}

// ipv6Settle is how long a lab waits for its IPv6 addresses to leave the tentative state:
// link-local addresses of new veths go through duplicate address detection (about a second),
// and until they do the router cannot forward, so a probe started at once would see every
// forwarded IPv6 path black-holed.
const ipv6Settle = 5 * time.Second

// waitIPv6 waits until no address of the lab's namespaces is tentative, at most ipv6Settle.
func (l *Lab) waitIPv6(ctx context.Context) error {
	if l.Scenario.Net.IPv6 == IPv4Only {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ipv6Settle)
	defer cancel()
	for _, ns := range []string{l.TaskNS, l.VPCNS, l.InetNS} {
		for {
			out, err := netns.Run(ctx, ns, "ip", "-6", "addr", "show", "tentative")
			if err != nil {
				return fmt.Errorf("lab: IPv6 addresses in %s: %w", ns, err)
			}
			if len(bytes.TrimSpace(out)) == 0 {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("lab: IPv6 addresses in %s still tentative after %s: %s", ns, ipv6Settle, bytes.TrimSpace(out))
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// filterIPv6 loads the router's IPv6 packet filter, as filter does IPv4's: nothing leaves the
// VPC but what the route table allows (64:ff9b::/96 to the NAT gateway with NAT64, ::/0 to an
// egress-only internet gateway with EgressOnlyIGW), the endpoints' security groups apply to
// their IPv6 addresses too, and IPv6BlackHole drops every IPv6 packet the task sends out of its
// own link, and TCP 443 to the endpoints' IPv6 addresses.
func (l *Lab) filterIPv6(ctx context.Context) error {
	n := l.Scenario.Net
	if n.IPv6 == IPv4Only {
		return nil
	}
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	b.WriteString("-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n")
	if n.IPv6BlackHole {
		b.WriteString("-A INPUT -i t0 -p tcp --dport 443 -j DROP\n")
	} else {
		if n.NAT64 {
			fmt.Fprintf(&b, "-A FORWARD -i t0 -o up0 -d %s -j ACCEPT\n", nat64Prefix)
		}
		if n.EgressOnlyIGW {
			b.WriteString("-A FORWARD -i t0 -o up0 -j ACCEPT\n")
		}
		for _, k := range n.SGNo443 {
			for _, a := range ENIsV6(k) {
				fmt.Fprintf(&b, "-A INPUT -i t0 -d %s/128 -p tcp --dport 443 -j DROP\n", a)
			}
		}
	}
	b.WriteString("COMMIT\n")
	cmd := netns.Command(ctx, l.VPCNS, "ip6tables-restore", "-w", "10")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdin = strings.NewReader(b.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lab: ip6tables-restore in %s: %w: %s", l.VPCNS, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// ipv6Records adds the IPv6 side of the VPC resolver's zone: the endpoints' AAAA records (only
// AAAA for an IPv6-only VPC, whose endpoints answer DnsRecordIpType ipv6), DNS64's answers for
// IPv4-only names, and ECR's dual-stack names with their own AAAA.
func (l *Lab) ipv6Records(vpc *fakedns.Zone) {
	n := l.Scenario.Net
	if n.IPv6 == IPv4Only {
		return
	}
	for _, k := range serviceKeys() {
		names := append([]string{zoneName(k)}, agentNames(k)...)
		endpoint := slices.Contains(n.Endpoints, k) && !slices.Contains(n.PrivateDNSOff, k)
		for _, name := range names {
			switch {
			case endpoint && n.IPv6 == IPv6Only:
				v6 := ENIsV6(k)
				vpc.Set(name, v6[0], v6[1])
			case endpoint:
				v4, v6 := ENIs(k), ENIsV6(k)
				vpc.Set(name, v4[0], v4[1], v6[0], v6[1])
			case n.DNS64:
				vpc.Set(name, PublicAddr(k), NAT64Addr(k))
			}
		}
	}
	for _, k := range dualStackKeys {
		name := dualStackHost(k)
		if k == "ecr.dkr" {
			name = "*.dkr-ecr." + Region + ".on.aws"
		}
		vpc.Set(name, PublicAddr(k), PublicAddrV6(k))
	}
}

// ipv6Fronts are the addresses where the IPv6 side of the lab serves TLS: the endpoints' IPv6
// ENIs (in the VPC namespace) and the public dual-stack and NAT64 addresses (in inet).
func (l *Lab) ipv6Fronts() (enis map[string][]netip.Addr, public []netip.Addr) {
	n := l.Scenario.Net
	if n.IPv6 == IPv4Only {
		return nil, nil
	}
	enis = map[string][]netip.Addr{}
	for _, k := range n.Endpoints {
		v6 := ENIsV6(k)
		enis[k] = v6[:]
	}
	for _, k := range serviceKeys() {
		public = append(public, PublicAddrV6(k), NAT64Addr(k))
	}
	return enis, public
}

// ipv6Metadata adds the IPv6 members of task metadata's network, named as the ECS agent writes
// them (amazon-ecs-agent, ecs-agent/tmds/handlers/v4/state: IPv6Addresses, IPv6SubnetCIDRBlock).
// An IPv6-only task has no IPv4 members, and its resolver is the IPv6 one.
func (l *Lab) ipv6Metadata(network map[string]any) {
	switch l.Scenario.Net.IPv6 {
	case IPv4Only:
		return
	case IPv6Only:
		delete(network, "IPv4Addresses")
		delete(network, "IPv4SubnetCIDRBlock")
		delete(network, "SubnetGatewayIpv4Address")
		network["DomainNameServers"] = []string{ResolverIPv6}
	}
	network["IPv6Addresses"] = []string{TaskIPv6}
	network["IPv6SubnetCIDRBlock"] = TaskIPv6Subnet
}

// taskResolver is the resolver in the task's resolv.conf: IPv6's for an IPv6-only task.
func (l *Lab) taskResolver(v4 string) string {
	if l.Scenario.Net.IPv6 == IPv6Only && l.Scenario.Net.DNS == DNSVPC {
		return ResolverIPv6
	}
	return v4
}

// listenNet is the network of a listener on addr: tcp4/udp4 or tcp6/udp6.
func listenNet(proto string, addr netip.Addr) string {
	if addr.Is6() && !addr.Is4In6() {
		return proto + "6"
	}
	return proto + "4"
}

// familiesWant renders a Families expectation, in family order.
func familiesWant(fs map[string]string) string {
	var b strings.Builder
	for _, f := range []string{"ipv4", "ipv6"} {
		v, ok := fs[f]
		if !ok {
			v = "absent"
		}
		b.WriteString(", " + f + " " + v)
	}
	return b.String()
}

// familiesGot renders a report entry's families as familiesWant does.
func familiesGot(s report.ServiceReport) string {
	got := map[string]string{}
	for _, f := range []string{report.IPv4, report.IPv6} {
		fr := s.Families.Family(f)
		if fr == nil {
			continue
		}
		v := string(fr.Status)
		if fr.Check != "" {
			v += " " + fr.Check + " " + string(fr.Error)
		}
		got[f] = v
	}
	return familiesWant(got)
}
