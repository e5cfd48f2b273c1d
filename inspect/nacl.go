package inspect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Ports a connection to an endpoint uses: 443 there, and an ephemeral port back. Network ACLs are
// stateless, so the answer needs its own rule. Which ephemeral port depends on the workload
// (workload.go); a fix allows 1024-65535, which covers every workload, as AWS recommends.
const (
	httpsPort    = 443
	ephemeralLo  = 1024
	ephemeralHi  = 65535
	implicitRule = 32767 // the "*" rule every ACL ends with: deny all
)

// portRange is an inclusive range of ports.
type portRange struct{ lo, hi int32 }

func (r portRange) String() string {
	if r.lo == r.hi {
		return fmt.Sprint(r.lo)
	}
	return fmt.Sprintf("%d-%d", r.lo, r.hi)
}

// subtract returns rs without x.
func subtract(rs []portRange, x portRange) []portRange {
	var out []portRange
	for _, r := range rs {
		if x.hi < r.lo || x.lo > r.hi {
			out = append(out, r)
			continue
		}
		if r.lo < x.lo {
			out = append(out, portRange{r.lo, x.lo - 1})
		}
		if r.hi > x.hi {
			out = append(out, portRange{x.hi + 1, r.hi})
		}
	}
	return out
}

// intersect returns the parts of rs inside x.
func intersect(rs []portRange, x portRange) []portRange {
	var out []portRange
	for _, r := range rs {
		lo, hi := max(r.lo, x.lo), min(r.hi, x.hi)
		if lo <= hi {
			out = append(out, portRange{lo, hi})
		}
	}
	return out
}

// aclVerdict is what an ACL does to TCP ports want in one direction for a peer: the ports it
// denies and the rule number that denies first (implicitRule for the final "*").
type aclVerdict struct {
	denied []portRange
	rule   int32
}

// evalACL evaluates the entries of one direction in rule-number order, first match wins, for TCP
// to or from peer on ports want. A rule whose CIDR covers peer decides; a rule whose CIDR only
// overlaps it decides only when it denies (some of peer's addresses are dropped).
func evalACL(entries []ec2types.NetworkAclEntry, egress bool, peer netip.Prefix, want portRange) aclVerdict {
	es := slices.Clone(entries)
	slices.SortFunc(es, func(a, b ec2types.NetworkAclEntry) int {
		return int(aws.ToInt32(a.RuleNumber) - aws.ToInt32(b.RuleNumber))
	})
	left := []portRange{want}
	var v aclVerdict
	for _, e := range es {
		if aws.ToBool(e.Egress) != egress || len(left) == 0 {
			continue
		}
		proto := strings.ToLower(aws.ToString(e.Protocol))
		if proto != "-1" && proto != "6" && proto != "tcp" {
			continue
		}
		cidr, err := netip.ParsePrefix(aws.ToString(e.CidrBlock))
		if err != nil || !cidr.Overlaps(peer) || (peer.Bits() == 0 && private(cidr)) {
			continue // a rule for private addresses says nothing of the public ones of S3
		}
		full := coversPrefix(cidr, peer)
		ports := portRange{0, 65535}
		if proto != "-1" && e.PortRange != nil {
			ports = portRange{aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To)}
		}
		hit := intersect(left, ports)
		if len(hit) == 0 {
			continue
		}
		deny := e.RuleAction == ec2types.RuleActionDeny
		switch {
		case deny:
			if v.rule == 0 {
				v.rule = aws.ToInt32(e.RuleNumber)
			}
			v.denied = append(v.denied, hit...)
			left = subtract(left, ports)
		case full:
			left = subtract(left, ports)
		}
	}
	if len(left) > 0 {
		v.denied = append(v.denied, left...)
		if v.rule == 0 {
			v.rule = implicitRule
		}
	}
	return v
}

// privateRanges hold no public AWS address (RFC 1918, shared address space).
var privateRanges = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("100.64.0.0/10")}

func private(p netip.Prefix) bool {
	return slices.ContainsFunc(privateRanges, func(r netip.Prefix) bool { return coversPrefix(r, p) })
}

// freeRule returns a rule number for an allow that must come before rule deny in one direction
// of acl: the highest unused number below it (or 100 below the implicit rule's range), 0 if none.
// taken are the numbers of the rules already planned in that direction of acl.
func freeRule(acl ec2types.NetworkAcl, egress bool, deny int32, taken []int32) int32 {
	used := map[int32]bool{}
	for _, e := range acl.Entries {
		if aws.ToBool(e.Egress) == egress {
			used[aws.ToInt32(e.RuleNumber)] = true
		}
	}
	for _, n := range taken {
		used[n] = true
	}
	start := deny - 1
	if deny == implicitRule {
		start = 32000
	}
	for n := start; n >= 1; n-- {
		if !used[n] {
			return n
		}
	}
	return 0
}

// aclRule is one direction to check: which subnet's ACL, the peer, the ports, and the code.
// For the answers (eph), ports are the workload's ephemeral range and the fix allows 1024-65535.
type aclRule struct {
	sub    subnet
	egress bool
	peer   netip.Prefix
	ports  portRange
	code   string
	what   string
	eph    bool
}

// answers returns the rule for the answers of a connection: the workload's ephemeral range.
func (c *check) answers(sub subnet, egress bool, peer netip.Prefix, code, what string) aclRule {
	r, name := c.workload.ephemeral()
	return aclRule{sub, egress, peer, r, code, fmt.Sprintf(what, "TCP "+name), true}
}

// acls checks both subnets' network ACLs for the connection from the task to the endpoint's
// interface in sub: 443 out and the answers in on the task's side, 443 in and the answers out on
// the endpoint's. Traffic inside one subnet crosses no ACL.
func (c *check) acls(s catalogue.Service, id string, sub subnet) {
	if sub.id == c.sub.id {
		return
	}
	c.evalRules(s, id, []aclRule{
		{c.sub, true, sub.cidr, portRange{httpsPort, httpsPort}, CodeACLTaskOut, "outbound TCP 443 to " + sub.cidr.String(), false},
		c.answers(c.sub, false, sub.cidr, CodeACLTaskIn, "the answers from "+sub.cidr.String()+" (inbound %s)"),
		{sub, false, c.sub.cidr, portRange{httpsPort, httpsPort}, CodeACLEndpointIn, "inbound TCP 443 from " + c.sub.cidr.String(), false},
		c.answers(sub, true, c.sub.cidr, CodeACLEndpointOut, "the answers to "+c.sub.cidr.String()+" (outbound %s)"),
	})
}

// internetACL checks the task subnet's ACL for a service reached at public addresses (S3 through
// the gateway): network ACLs cannot name prefix lists, so only rules for 0.0.0.0/0 count as
// letting S3's addresses through; a narrower rule that denies is reported.
func (c *check) internetACL(s catalogue.Service) {
	c.evalRules(s, "", []aclRule{
		{c.sub, true, anyIPv4, portRange{httpsPort, httpsPort}, CodeACLTaskOut, "outbound TCP 443 to S3 (0.0.0.0/0)", false},
		c.answers(c.sub, false, anyIPv4, CodeACLTaskIn, "the answers from S3 (inbound %s, from 0.0.0.0/0)"),
	})
}

func (c *check) evalRules(s catalogue.Service, id string, rules []aclRule) {
	if !c.v.aclsRead {
		return
	}
	for _, r := range rules {
		acl, ok := c.v.aclOf(r.sub.id)
		if !ok || !r.peer.IsValid() {
			continue
		}
		v := evalACL(acl.Entries, r.egress, r.peer, r.ports)
		fixPorts := r.ports
		if r.eph {
			fixPorts = portRange{ephemeralLo, ephemeralHi}
		}
		if len(v.denied) == 0 {
			if r.eph {
				c.narrowACL(s, id, r, acl)
			}
			continue
		}
		aclID := aws.ToString(acl.NetworkAclId)
		var ports []string
		for _, p := range v.denied {
			ports = append(ports, p.String())
		}
		rule := fmt.Sprint(v.rule)
		if v.rule == implicitRule {
			rule = "* (no rule allows it)"
		}
		f := Finding{Service: s.Key, Severity: Fail, Code: r.code, Resources: nonEmpty(aclID, r.sub.id, id),
			Diagnosis: fmt.Sprintf("network ACL %s of %s blocks %s (ports %s, rule %s): ACLs are stateless, so connections to %s time out",
				aclID, r.sub.id, r.what, strings.Join(ports, ", "), rule, s.Key),
			Remediation: fmt.Sprintf("allow %s in %s before rule %s", r.what, aclID, rule)}
		if r.eph {
			f.Remediation = fmt.Sprintf("allow %s in %s before rule %s (TCP %s covers every workload, as AWS recommends)", r.what, aclID, rule, fixPorts)
		}
		if n := freeRule(acl, r.egress, v.rule, c.planned(aclID, r.egress)); n > 0 {
			fix := &Fix{Kind: FixACL, VPCID: c.v.id, ACLID: aclID, Egress: r.egress, RuleNumber: n, DenyRule: v.rule,
				FromPort: fixPorts.lo, ToPort: fixPorts.hi, CIDR: r.peer.String(), acl: acl}
			if prev := c.plannedFix(fix); prev != nil {
				fix = prev // the same entry, found for another service
			}
			f.Fix = fix
		}
		c.add(f)
	}
}

// planned returns the rule numbers this check already gave to new entries in one direction of acl.
func (c *check) planned(aclID string, egress bool) []int32 {
	var ns []int32
	for _, finding := range c.findings {
		if f := fixOf(finding); f != nil && f.Kind == FixACL && f.ACLID == aclID && f.Egress == egress {
			ns = append(ns, f.RuleNumber)
		}
	}
	return ns
}

// plannedFix returns the fix already planned that creates the same entry as x (whatever its number).
func (c *check) plannedFix(x *Fix) *Fix {
	for _, finding := range c.findings {
		if f := fixOf(finding); f != nil && f.Kind == FixACL && f.key() == x.key() {
			return f
		}
	}
	return nil
}

// narrowACL notes an ACL that lets the workload's answers through but not all of 1024-65535:
// the workload is fine, but a Lambda function (or traffic through a NAT gateway) in the subnet
// answers on ports the ACL drops, so a Lambda probe there fails where the task would not.
func (c *check) narrowACL(s catalogue.Service, id string, r aclRule, acl ec2types.NetworkAcl) {
	all := portRange{ephemeralLo, ephemeralHi}
	if r.ports == all {
		return
	}
	v := evalACL(acl.Entries, r.egress, r.peer, all)
	if len(v.denied) == 0 {
		return
	}
	var ports []string
	for _, p := range v.denied {
		ports = append(ports, p.String())
	}
	aclID := aws.ToString(acl.NetworkAclId)
	c.add(Finding{Service: s.Key, Severity: Info, Code: CodeACLEphemeralNarrow, Resources: nonEmpty(aclID, r.sub.id, id),
		Diagnosis: fmt.Sprintf("network ACL %s of %s lets %s through, but drops ports %s of 1024-65535: a Lambda function or NAT-returned traffic in this subnet (ephemeral ports 1024-65535) would time out, so a Lambda probe here can fail where the task does not",
			aclID, r.sub.id, r.what, strings.Join(ports, ", ")),
		Remediation: fmt.Sprintf("nothing for this workload; to run Lambda functions here (vpcprobe launch --runner lambda among them), allow TCP 1024-65535 in %s", aclID)})
}
