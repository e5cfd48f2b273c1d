package probe

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// Address families. A task has IPv4, IPv6 or both (task metadata v4's Networks[].IPv4Addresses
// and IPv6Addresses; on an instance, IMDS's local-ipv4 and ipv6s). Each service is tested on
// every family the task would use, and the report says per family (report.Families):
//
//   - An IPv4-only task: IPv4 addresses only.
//   - A dual-stack task starts over IPv4: the platform's launch dependencies (ECR, awslogs,
//     Secrets Manager, SSM) take IPv4 (ECS developer guide, "Fargate task networking";
//     aws/containers-roadmap#2792: GetAuthorizationToken still goes to the IPv4 api.ecr host),
//     so the checks of record (tcp, tls, http, the authenticated calls) run on IPv4, and TCP
//     and TLS run on the IPv6 addresses beside them.
//   - An IPv6-only task has no IPv4 route at all: every check runs on IPv6. IPv4-only names are
//     reached through DNS64 (answers in 64:ff9b::/96) and NAT64 (a route for that prefix to a
//     NAT gateway); ECR is called on its dual-stack names (<acct>.dkr-ecr.<r>.on.aws and
//     ecr.<r>.api.aws: "use a dual-stack endpoint from an IPv6 network", ECR User Guide,
//     "Making requests to Amazon ECR registries"), which PrivateLink does not carry.
//
// With the families unknown (a host, a Lambda function not told), every address is tested
// together as before and the families are read from the tcp check's per-address outcomes.

// Service-level reason codes of address families (extensions of CONTRACT.md's codes).
const (
	// NoIPv6Address: an IPv6-only task, and the name has no AAAA record (DNS64 is off).
	NoIPv6Address checks.Code = "no-ipv6-address"
	// NAT64NoRoute: an IPv6-only task, DNS64 answered 64:ff9b::/96, and TCP to it fails.
	NAT64NoRoute checks.Code = "nat64-no-route"
	// IPv6PathFailed: a dual-stack task reaches the service over IPv4, and not over IPv6.
	IPv6PathFailed checks.Code = "ipv6-path-failed"
	// IPv6OnlyNotPrivate: an IPv6-only task pulls from ECR's dual-stack endpoints, which no
	// interface endpoint serves: the pull is public whatever the VPC has.
	IPv6OnlyNotPrivate checks.Code = "ipv6-only-not-private"
)

// families returns the task's address families as known before any check: --address-families,
// else task metadata; nil when neither says (instance metadata arrives during the run, and
// only the report's context learns from it).
func (p *Prober) families() []string {
	if len(p.AddressFamilies) > 0 {
		return p.AddressFamilies
	}
	var fs []string
	if p.Metadata.PrivateIP != "" {
		fs = append(fs, report.IPv4)
	}
	if p.Metadata.PrivateIPv6 != "" {
		fs = append(fs, report.IPv6)
	}
	return fs
}

// ParseFamilies reads --address-families: "ipv4", "ipv6", "ipv4,ipv6" (or "dualstack").
func ParseFamilies(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var fs []string
	for _, f := range strings.Split(s, ",") {
		switch f = strings.ToLower(strings.TrimSpace(f)); f {
		case report.IPv4, report.IPv6:
			if !slices.Contains(fs, f) {
				fs = append(fs, f)
			}
		case "dualstack", "dual-stack":
			fs = []string{report.IPv4, report.IPv6}
		default:
			return nil, fmt.Errorf("--address-families: %q is not ipv4, ipv6 or dualstack", f)
		}
	}
	slices.Sort(fs) // "ipv4" before "ipv6"
	return fs, nil
}

func ipv6Only(fs []string) bool    { return len(fs) == 1 && fs[0] == report.IPv6 }
func dualStacked(fs []string) bool { return len(fs) == 2 }

// instanceFamilies are the families instance metadata shows on the primary interface.
func instanceFamilies(in Instance) []string {
	var fs []string
	if in.PrivateIP != "" {
		fs = append(fs, report.IPv4)
	}
	if in.IPv6 != "" {
		fs = append(fs, report.IPv6)
	}
	return fs
}

// familyHost returns the host an IPv6-only task calls for svc instead of the IPv4 one: ECR's
// dual-stack names; "" for every other case.
func (p *Prober) familyHost(svc catalogue.Service, account string) string {
	if !ipv6Only(p.families()) || (svc.Key != "ecr.api" && svc.Key != "ecr.dkr") {
		return ""
	}
	// The platform, not the task, pulls: its clients take no FIPS setting of the task's (platform.go).
	return svc.HostFor(p.Region, account, catalogue.Variant{DualStack: true})
}

// chainAddrs splits a service's addresses into those its checks of record connect to and those
// tested beside them (a dual-stack task's IPv6 addresses). missing is set for an IPv6-only task
// and a name without an IPv6 address: nothing can be connected to.
func (p *Prober) chainAddrs(addrs []netip.Addr) (main, other []netip.Addr, missing bool) {
	fs := p.families()
	v4, v6 := checks.Split(addrs)
	switch {
	case len(fs) == 0:
		return addrs, nil, false
	case ipv6Only(fs):
		return v6, nil, len(v6) == 0
	case dualStacked(fs) && len(v4) > 0:
		return v4, v6, false
	case len(v4) > 0:
		return v4, nil, false
	}
	return addrs, nil, false
}

// noIPv6 is the tcp result of an IPv6-only task for a name without an IPv6 address.
func noIPv6(host string, addrs []netip.Addr) checks.Result {
	return checks.Result{Name: "tcp", Status: checks.Fail, Code: NoIPv6Address,
		Detail: checks.Bound(fmt.Sprintf("an IPv6-only task cannot reach %s: it resolved to IPv4 only (%s), with no AAAA record", host, list(addrs)))}
}

// familyChain runs TCP and TLS on a dual-stack task's IPv6 addresses, each bounded by one
// --timeout, as the checks of record do on IPv4.
func (p *Prober) familyChain(ctx context.Context, host string, addrs []netip.Addr) []checks.Result {
	sctx, cancel := context.WithTimeout(ctx, p.Timeout)
	tcp := checks.TCP(sctx, p.Dialer, addrs, p.Port)
	cancel()
	if len(tcp.Addrs) == 0 {
		return []checks.Result{tcp, checks.Skipped("tls", "tcp failed")}
	}
	sctx, cancel = context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	return []checks.Result{tcp, checks.TLS(sctx, p.Dialer, netip.AddrPortFrom(tcp.Addrs[0], p.Port), host, p.Roots)}
}

// familyOf names the family of an address.
func familyOf(a netip.Addr) string {
	if a.Unmap().Is4() {
		return report.IPv4
	}
	return report.IPv6
}

// familyReports builds services[].families from a service's results: results are the checks of
// record (dns first), other the IPv6 checks of a dual-stack task. With the families known, each
// of them has an entry; unknown, each family the name resolved to, read from tcp's peers.
func (p *Prober) familyReports(results, other []checks.Result, own []netip.Prefix) *report.Families {
	if len(results) == 0 || results[0].Name != "dns" {
		return nil
	}
	dns := results[0]
	v4, v6 := checks.Split(dns.Addrs)
	byFamily := map[string][]netip.Addr{report.IPv4: v4, report.IPv6: v6}
	fs := p.families()
	known := len(fs) > 0
	if !known {
		for _, f := range []string{report.IPv4, report.IPv6} {
			if len(byFamily[f]) > 0 {
				fs = append(fs, f)
			}
		}
	}
	if len(fs) == 0 {
		return nil
	}
	mainFamily := ""
	if len(results) > 1 && results[1].Name == "tcp" && len(results[1].Peers) > 0 {
		mainFamily = familyOf(results[1].Peers[0].Addr)
	}
	out := &report.Families{}
	for _, f := range fs {
		addrs := byFamily[f]
		var rs []checks.Result
		switch {
		case dns.Status != checks.Pass:
			rs = results[:1] // the name did not resolve: every family fails (or skips) at dns
		case known && f == mainFamily, known && ipv6Only(fs):
			rs = results
		case known && len(other) > 0 && f == report.IPv6:
			rs = append([]checks.Result{dns}, other...)
		case !known:
			rs = fromPeers(results, f)
		}
		fr := familyReport(f, addrs, rs, own)
		if f == report.IPv4 {
			out.IPv4 = fr
		} else {
			out.IPv6 = fr
		}
	}
	return out
}

// fromPeers reads one family's outcome out of checks run on every address together: dns, a tcp
// result made of that family's peers, and the later checks when they ran on that family.
func fromPeers(results []checks.Result, f string) []checks.Result {
	out := []checks.Result{results[0]}
	if len(results) < 2 || results[1].Name != "tcp" {
		return out
	}
	tcp := results[1]
	var mine []checks.Peer
	for _, pe := range tcp.Peers {
		if familyOf(pe.Addr) == f {
			mine = append(mine, pe)
		}
	}
	if len(mine) == 0 {
		return out
	}
	r := checks.Result{Name: "tcp", Status: checks.Pass, Peers: mine}
	var failed []string
	for _, pe := range mine {
		if pe.Code == "" {
			r.Addrs = append(r.Addrs, pe.Addr)
			continue
		}
		if r.Code == "" {
			r.Code = pe.Code
		}
		failed = append(failed, pe.Addr.String()+" "+string(pe.Code))
	}
	switch {
	case len(failed) == len(mine):
		r.Status = checks.Fail
	case len(failed) > 0:
		r.Status = checks.Warn
	}
	r.Detail = strings.Join(failed, ", ")
	out = append(out, r)
	if len(tcp.Addrs) > 0 && familyOf(tcp.Addrs[0]) == f {
		out = append(out, results[2:]...) // tls and later connected to tcp's first answering address
	}
	return out
}

// familyReport is one family's entry: its addresses, their route, and the first check that
// failed on them (else the first that warned).
func familyReport(f string, addrs []netip.Addr, rs []checks.Result, own []netip.Prefix) *report.FamilyReport {
	fr := &report.FamilyReport{Status: checks.Skip, Addresses: []string{}, Route: RouteOf(addrs, own)}
	for _, a := range addrs {
		fr.Addresses = append(fr.Addresses, a.String())
	}
	fr.NAT64 = allNAT64(addrs)
	if len(addrs) == 0 && len(rs) > 0 && rs[0].Status == checks.Pass && (len(rs) < 2 || rs[1].Code != NoIPv6Address) {
		rr := "A"
		if f == report.IPv6 {
			rr = "AAAA"
		}
		fr.Detail = "no " + rr + " record: not reached over " + f
		return fr
	}
	for _, st := range []checks.Status{checks.Fail, checks.Warn} {
		if r, ok := first(rs, st); ok {
			fr.Status, fr.Check, fr.Error, fr.Detail = st, r.Name, r.Code, checks.Bound(r.Detail)
			return fr
		}
	}
	if _, ok := first(rs, checks.Pass); ok && len(rs) > 1 {
		fr.Status = checks.Pass
	}
	return fr
}

// familyView is what the family verdicts need of one service.
type familyView struct {
	families []string
	fams     *report.Families
	addrs    []netip.Addr // the addresses of the checks of record
	subnetV6 string       // the task subnet's IPv6 CIDR, when known
}

// judgeFamilies layers the address families on a service's judgement: what an IPv6-only task
// needs (an AAAA record, NAT64, ECR's public dual-stack names), what a dual-stack task's IPv6
// path does while IPv4 works, and that a dual-stack task still starts over IPv4.
func (f finding) judgeFamilies(j judgement, v familyView) judgement {
	switch {
	case ipv6Only(v.families):
		return f.judgeIPv6Only(j, v)
	case dualStacked(v.families):
		return f.judgeDualStack(j, v)
	}
	return j
}

func (f finding) judgeIPv6Only(j judgement, v familyView) judgement {
	ecr := strings.HasPrefix(f.svc.Key, "ecr.")
	notPrivate := fmt.Sprintf("PrivateLink does not carry ECR's dual-stack endpoints (ECR User Guide, \"Making requests to Amazon ECR registries\"), and an IPv6-only task must use them: no interface endpoint can make %s private.", f.host)
	instead := "To pull privately, give the subnet an IPv4 CIDR (dual-stack): the task then pulls over IPv4 through the interface endpoints " +
		f.svc.EndpointService(f.region) + " (and its ecr sibling) and the S3 gateway endpoint. IPv6-only, the pull goes public: a route ::/0 to an egress-only internet gateway, with outbound TCP 443 to ::/0 in the task's security group."
	switch {
	case j.code == NoIPv6Address:
		v4, _ := checks.Split(f.addrs)
		j.diagnosis = fmt.Sprintf("%s resolves to IPv4 only (%s) and the resolver gave no AAAA record: an IPv6-only task has no IPv4 route, so it cannot reach it. Route 53 Resolver synthesises 64:ff9b::/96 answers for IPv4-only names only when DNS64 is on for the subnet.", f.host, list(v4))
		j.remediation = fmt.Sprintf("Turn on DNS64 for this subnet (aws ec2 modify-subnet-attribute --enable-dns64 --subnet-id subnet-…) and add the route 64:ff9b::/96 to a NAT gateway in its route table; or create the interface endpoint %s with IpAddressType dualstack or ipv6 and DnsRecordIpType answering AAAA, so its private DNS gives IPv6 addresses in this subnet.", f.svc.EndpointService(f.region))
	case j.verdict == checks.Fail && allNAT64(v.addrs) && (j.code == checks.Timeout || j.code == checks.Unreachable):
		j.code = NAT64NoRoute
		emb := make([]netip.Addr, 0, len(v.addrs))
		for _, a := range v.addrs {
			emb = append(emb, checks.Embedded(a))
		}
		j.diagnosis = fmt.Sprintf("%s has no IPv6 address of its own: DNS64 answered %s (64:ff9b::/96, carrying %s), and TCP 443 to it failed (%s): the subnet's route table sends 64:ff9b::/96 to no NAT gateway, or the NAT gateway has no way out.", f.host, list(v.addrs), list(emb), j.code)
		j.remediation = fmt.Sprintf("Add the route 64:ff9b::/96 to a NAT gateway (in a public subnet) to this subnet's route table and allow outbound TCP 443 to 64:ff9b::/96 in the task's security group; or, for a private path, create the interface endpoint %s with IpAddressType dualstack or ipv6, whose private DNS answers AAAA records in this subnet.", f.svc.EndpointService(f.region))
		if ecr {
			j.diagnosis += " " + notPrivate
			j.remediation = instead
		}
	case ecr && (j.verdict == checks.Pass || j.code == PublicRoute) && f.route == report.RoutePublic:
		j = judgement{verdict: checks.Warn, code: IPv6OnlyNotPrivate,
			diagnosis:   fmt.Sprintf("%s is reached over public addresses (%s), as every IPv6-only pull from ECR is: %s", f.host, list(v.addrs), notPrivate),
			remediation: instead}
		if f.requirePrivate {
			j.verdict = checks.Fail
			j.diagnosis += " --require-private makes that a failure."
		}
	case ecr && j.verdict == checks.Fail && (j.code == checks.Timeout || j.code == checks.Unreachable):
		j.diagnosis = fmt.Sprintf("TCP 443 to %s (%s) failed (%s): an IPv6-only task reaches ECR only on its public dual-stack names, and this subnet has no IPv6 way out. %s", f.host, list(v.addrs), j.code, notPrivate)
		j.remediation = instead
	case j.code == PublicRoute && allNAT64(v.addrs):
		j.diagnosis += " The addresses are DNS64's (64:ff9b::/96): the traffic goes through NAT64 on a NAT gateway."
	}
	return j
}

func (f finding) judgeDualStack(j judgement, v familyView) judgement {
	v6 := v.fams.Family(report.IPv6)
	v6Broken := v6 != nil && (v6.Status == checks.Fail || v6.Status == checks.Warn)
	switch {
	case j.verdict == checks.Fail && f.svc.Platform:
		j.diagnosis += " A dual-stack task still starts over IPv4: image pulls, awslogs and secrets take IPv4 whatever the IPv6 path does, so IPv4 needs this endpoint or a NAT route."
	case v6Broken && (j.verdict == checks.Pass || j.verdict == checks.Warn):
		why := fmt.Sprintf("Over IPv4 %s works; over IPv6 (%s, %s) the %s check failed: %s (%s). The task has an IPv6 address, so a client that prefers IPv6 tries it first and waits or fails where it does not fall back to IPv4.",
			f.host, strings.Join(v6.Addresses, ", "), v6.Route, v6.Check, v6.Error, v6.Detail)
		fix := "Route ::/0 to an egress-only internet gateway in this subnet's route table (64:ff9b::/96 to a NAT gateway for DNS64 answers), allow outbound TCP 443 to ::/0 in the task's security group and in the network ACLs' IPv6 entries; if the task needs no IPv6 out, clients that fall back to IPv4 keep working."
		if v6.Route == report.RoutePrivate {
			from := "the subnet's IPv6 CIDR"
			if v.subnetV6 != "" {
				from += " " + v.subnetV6
			}
			fix = fmt.Sprintf("Allow inbound TCP 443 from %s in the security group of the endpoint %s (an IPv4 rule does not cover IPv6), outbound TCP 443 to it in the task's group, and check the network ACLs' IPv6 entries; or set the endpoint's DnsRecordIpType to ipv4, so that its private DNS answers no AAAA.", from, f.svc.EndpointService(f.region))
		}
		if j.verdict == checks.Warn {
			j.diagnosis += " " + why
			j.remediation += " " + fix
			return j
		}
		return judgement{verdict: checks.Warn, code: IPv6PathFailed, diagnosis: why, remediation: fix}
	}
	return j
}

// allNAT64 reports whether every address is a DNS64 answer (and there is one).
func allNAT64(addrs []netip.Addr) bool {
	return len(addrs) > 0 && !slices.ContainsFunc(addrs, func(a netip.Addr) bool { return !checks.NAT64(a) })
}

// vpcV6Bits is the size of an Amazon-provided VPC IPv6 CIDR block: always a /56, whose subnets
// are /64s (VPC User Guide, "IPv6 VPC CIDR blocks"). Task metadata names only the task's subnet,
// while a dual-stack endpoint has ENIs in the subnets of other zones: with the VPC's blocks
// unknown, the /56 around the subnet stands for the VPC. (An IPAM pool can give a VPC a /60,
// where this counts a neighbour's addresses private; instance metadata's vpc-ipv6-cidr-blocks,
// when read, is exact.)
const vpcV6Bits = 56

// ownV6 returns the IPv6 prefixes that count as inside the VPC: the task subnet's (task
// metadata) and the /56 around it, and on an instance its subnet's and its VPC's (instance
// metadata).
func (p *Prober) ownV6(inst Instance) []netip.Prefix {
	var out []netip.Prefix
	if pfx, err := netip.ParsePrefix(p.Metadata.IPv6SubnetCIDR); err == nil && pfx.Addr().Is6() {
		out = append(out, pfx.Masked())
		if pfx.Bits() > vpcV6Bits && strings.TrimSpace(inst.VPCIPv6CIDRs) == "" {
			vpc, _ := pfx.Addr().Prefix(vpcV6Bits)
			out = append(out, vpc)
		}
	}
	for _, l := range strings.Fields(inst.SubnetIPv6CIDRs + "\n" + inst.VPCIPv6CIDRs) {
		if pfx, err := netip.ParsePrefix(l); err == nil && pfx.Addr().Is6() {
			out = append(out, pfx.Masked())
		}
	}
	return out
}

// familyContext fills the report's context with the task's families, and for an IPv6-only
// task whether DNS64 answers were seen.
func (p *Prober) familyContext(c *report.Context, inst Instance, services []report.ServiceReport) {
	fs := p.families()
	if len(fs) == 0 {
		fs = instanceFamilies(inst)
	}
	c.AddressFamilies = fs
	c.PrivateIPv6 = p.Metadata.PrivateIPv6
	if c.PrivateIPv6 == "" {
		c.PrivateIPv6, _, _ = strings.Cut(strings.TrimSpace(inst.IPv6), "\n")
	}
	c.IPv6SubnetCIDR = p.Metadata.IPv6SubnetCIDR
	if c.IPv6SubnetCIDR == "" {
		c.IPv6SubnetCIDR, _, _ = strings.Cut(strings.TrimSpace(inst.SubnetIPv6CIDRs), "\n")
	}
	if ipv6Only(fs) {
		seen := false
		for _, s := range services {
			if v6 := s.Families.Family(report.IPv6); v6 != nil && v6.NAT64 {
				seen = true
			}
		}
		c.NAT64Seen = &seen
	}
}

// chainOf returns the addresses the tcp check of record connected to, in order.
func chainOf(results []checks.Result) []netip.Addr {
	var chain []netip.Addr
	if len(results) > 1 && results[1].Name == "tcp" {
		for _, pe := range results[1].Peers {
			chain = append(chain, pe.Addr)
		}
	}
	return chain
}

// Route 53 Resolver's addresses on every Nitro instance: link-local IPv4, and the IPv6 one an
// IPv6-only task reaches it at (EC2 User Guide, "Amazon DNS server": fd00:ec2::253).
const (
	amazonDNSv4 = "169.254.169.253:53"
	amazonDNSv6 = "[fd00:ec2::253]:53"
)

// secondResolver is the Amazon-provided resolver asked for the second opinion: --amazon-dns,
// except that an IPv6-only task, which has no IPv4 route, asks the default at its IPv6 address.
func (p *Prober) secondResolver() string {
	if ipv6Only(p.families()) && p.AmazonDNS == amazonDNSv4 {
		return amazonDNSv6
	}
	return p.AmazonDNS
}
