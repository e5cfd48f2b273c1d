package inspect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// anyIPv4 is the destination of a rule open to everything.
var anyIPv4 = netip.MustParsePrefix("0.0.0.0/0")

// covers reports whether p contains all of q.
func coversPrefix(p, q netip.Prefix) bool {
	return p.IsValid() && q.IsValid() && p.Bits() <= q.Bits() && p.Contains(q.Addr())
}

// endpointIngress checks that one of the endpoint's groups lets TCP 443 in from the task: from
// one of its groups, its address, or a CIDR (or a prefix list's entry) covering its subnet. id is empty for an endpoint
// still to be created.
// sev is Fail for an endpoint the path needs, Warn for one recommended (the NAT carries it now).
func (c *check) endpointIngress(s catalogue.Service, id string, epGroups []string, sev Severity) {
	if c.v.groups == nil || len(epGroups) == 0 {
		return
	}
	for _, gid := range epGroups {
		for _, p := range c.v.groups[gid].ingress {
			if !p.allows443() {
				continue
			}
			if slices.ContainsFunc(p.groups, func(g string) bool { return slices.Contains(c.groups, g) }) {
				return
			}
			if c.v.peerCovers(p, c.sub.cidr, c.addr) {
				return
			}
		}
	}
	what := "interface endpoint " + id
	if id == "" {
		what = "the endpoint to create"
	}
	c.add(Finding{Service: s.Key, Severity: sev, Code: CodeSGEndpointIngress, Resources: nonEmpty(append([]string{id}, epGroups...)...),
		Diagnosis:   fmt.Sprintf("security group %s of %s does not allow inbound TCP 443 from the task (subnet %s, groups %s): connections to %s time out", strings.Join(epGroups, ", "), what, c.sub.cidr, strings.Join(c.groups, ", "), s.Key),
		Remediation: fmt.Sprintf("allow inbound TCP 443 from %s on %s", c.sub.cidr, epGroups[0]),
		Fix:         &Fix{Kind: FixIngress, VPCID: c.v.id, GroupID: epGroups[0], CIDR: c.sub.cidr.String()}})
}

// taskEgress checks that the task's groups let TCP 443 out to every subnet of the endpoint (or
// to one of its groups); a prefix list counts by its entries.
func (c *check) taskEgress(s catalogue.Service, id string, epGroups []string, subs []subnet, sev Severity) {
	if c.v.groups == nil || len(c.groups) == 0 {
		return
	}
	var blocked []string
	for _, sub := range subs {
		if !c.egressAllows(func(p perm) bool {
			return slices.ContainsFunc(p.groups, func(g string) bool { return slices.Contains(epGroups, g) }) ||
				c.v.peerCovers(p, sub.cidr, netip.Addr{})
		}) {
			blocked = append(blocked, sub.cidr.String())
		}
	}
	if len(blocked) == 0 {
		return
	}
	fix := &Fix{Kind: FixEgress, VPCID: c.v.id, GroupID: c.groups[0]}
	peer := ""
	if len(epGroups) > 0 {
		fix.PeerGroup, peer = epGroups[0], "security group "+epGroups[0]
	} else {
		fix.CIDR, peer = blocked[0], blocked[0]
	}
	what := "interface endpoint " + id
	if id == "" {
		what = "the endpoint to create"
	}
	c.add(Finding{Service: s.Key, Severity: sev, Code: CodeSGTaskEgress, Resources: nonEmpty(append(slices.Clone(c.groups), id)...),
		Diagnosis:   fmt.Sprintf("the task's security groups %s do not allow outbound TCP 443 to %s (%s): connections to %s time out", strings.Join(c.groups, ", "), what, strings.Join(blocked, ", "), s.Key),
		Remediation: fmt.Sprintf("allow outbound TCP 443 to %s on %s", peer, c.groups[0]),
		Fix:         fix})
}

// egressAllows reports whether one of the task's groups has an outbound rule letting TCP 443
// through to a peer that match accepts.
func (c *check) egressAllows(match func(perm) bool) bool {
	for _, gid := range c.groups {
		for _, p := range c.v.groups[gid].egress {
			if p.allows443() && match(p) {
				return true
			}
		}
	}
	return false
}

// s3Egress checks that the task's groups let TCP 443 out to the S3 prefix list (or anywhere).
func (c *check) s3Egress(s catalogue.Service) {
	if c.v.groups == nil || len(c.groups) == 0 || c.v.s3List == "" {
		return
	}
	if c.egressAllows(func(p perm) bool {
		return slices.Contains(p.lists, c.v.s3List) || slices.Contains(p.cidrs, anyIPv4)
	}) {
		return
	}
	c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeSGTaskEgressS3, Resources: append(slices.Clone(c.groups), c.v.s3List),
		Diagnosis:   fmt.Sprintf("image layer downloads from %s time out: the task's security groups %s do not allow outbound TCP 443 to the S3 prefix list %s", catalogue.LayerBucket(c.v.region), strings.Join(c.groups, ", "), c.v.s3List),
		Remediation: fmt.Sprintf("allow outbound TCP 443 to prefix list %s on %s", c.v.s3List, c.groups[0]),
		Fix:         &Fix{Kind: FixEgress, VPCID: c.v.id, GroupID: c.groups[0], PrefixList: c.v.s3List}})
}
