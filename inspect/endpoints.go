package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// interfaceEndpoints returns the VPC's interface endpoints for s, the usable ones first.
func (c *check) interfaceEndpoints(s catalogue.Service) []ec2types.VpcEndpoint {
	var eps []ec2types.VpcEndpoint
	name, ok := c.endpointName(s)
	if !ok {
		return nil // no endpoint service serves the host the client calls
	}
	for _, e := range c.v.endpoints {
		if aws.ToString(e.ServiceName) == name && strings.EqualFold(string(e.VpcEndpointType), "interface") {
			eps = append(eps, e)
		}
	}
	score := func(e ec2types.VpcEndpoint) int {
		n := 0
		if strings.EqualFold(string(e.State), "available") {
			n += 2
		}
		if aws.ToBool(e.PrivateDnsEnabled) {
			n++
		}
		return -n
	}
	slices.SortStableFunc(eps, func(a, b ec2types.VpcEndpoint) int { return score(a) - score(b) })
	return eps
}

// endpointGroups returns an endpoint's security groups; an endpoint created without any has the
// VPC's default group, as AWS gives it.
func (c *check) endpointGroups(e ec2types.VpcEndpoint) []string {
	var gs []string
	for _, g := range e.Groups {
		gs = append(gs, aws.ToString(g.GroupId))
	}
	if len(gs) == 0 {
		if d := c.v.defaultGroup(); d != "" {
			gs = []string{d}
		}
	}
	return gs
}

// plannedGroup is the security group a new interface endpoint should get: the group the VPC's
// other interface endpoints use, else the task's first group.
func (c *check) plannedGroup() string {
	for _, e := range c.v.endpoints {
		if strings.EqualFold(string(e.VpcEndpointType), "interface") && len(e.Groups) > 0 {
			return aws.ToString(e.Groups[0].GroupId)
		}
	}
	if len(c.groups) > 0 {
		return c.groups[0]
	}
	return ""
}

// plannedSubnets are where a new interface endpoint should go: the subnets the VPC's other
// interface endpoints use (one per zone, as AWS allows), and the task's subnet when none of them
// is in its zone, so that the endpoint answers in the task's zone.
func (c *check) plannedSubnets() []subnet {
	var subs []subnet
	seen := map[string]bool{}
	for _, e := range c.v.endpoints {
		if !strings.EqualFold(string(e.VpcEndpointType), "interface") {
			continue
		}
		for _, id := range e.SubnetIds {
			if sub, ok := c.v.subnets[id]; ok && !seen[sub.az] {
				seen[sub.az] = true
				subs = append(subs, sub)
			}
		}
	}
	if !seen[c.sub.az] {
		subs = append(subs, c.sub)
	}
	return subs
}

// iface checks the path to interface endpoint service s through eps (its endpoints here).
func (c *check) iface(s catalogue.Service, eps []ec2types.VpcEndpoint) {
	if !c.v.endpointsRead {
		return
	}
	name, ok := c.endpointName(s)
	if !ok {
		c.noFIPSEndpoint(s)
		return
	}
	if len(eps) == 0 {
		c.missing(s, name)
		return
	}
	e := eps[0]
	id := aws.ToString(e.VpcEndpointId)
	if !strings.EqualFold(string(e.State), "available") {
		c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeEndpointNotAvailable, Resources: []string{id},
			Diagnosis:   fmt.Sprintf("interface endpoint %s for %s is %s, not available: it carries no traffic", id, name, e.State),
			Remediation: fmt.Sprintf("wait for it to become available, or delete and re-create it if it is failed or rejected (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids %s)", id)})
	}
	if !aws.ToBool(e.PrivateDnsEnabled) {
		c.add(Finding{Service: s.Key, Severity: Fail, Code: CodePrivateDNSOff, Resources: []string{id},
			Diagnosis:   fmt.Sprintf("interface endpoint %s has private DNS off: %s still resolves to public addresses, so %s never reaches the endpoint", id, s.Host(c.v.region, c.account()), s.Key),
			Remediation: fmt.Sprintf("enable private DNS on %s (the VPC needs enableDnsSupport and enableDnsHostnames)", id),
			Command:     fmt.Sprintf("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --private-dns-enabled", c.v.region, id)})
	}
	var subs []subnet
	inZone := false
	for _, sid := range e.SubnetIds {
		if sub, ok := c.v.subnets[sid]; ok {
			subs = append(subs, sub)
			inZone = inZone || sub.az == c.sub.az
		}
	}
	if len(subs) > 0 && !inZone {
		c.add(Finding{Service: s.Key, Severity: Warn, Code: CodeEndpointOtherAZ, Resources: append([]string{id}, e.SubnetIds...),
			Diagnosis:   fmt.Sprintf("interface endpoint %s has no network interface in %s, the task's zone: traffic crosses zones (paid per GB) and fails with the other zone", id, c.sub.az),
			Remediation: fmt.Sprintf("add a subnet of %s to %s", c.sub.az, id),
			Command:     fmt.Sprintf("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --add-subnet-ids %s", c.v.region, id, c.sub.id)})
	}
	groups := c.endpointGroups(e)
	c.endpointIngress(s, id, groups, Fail)
	c.taskEgress(s, id, groups, subs, Fail)
	for _, sub := range subs {
		c.acls(s, id, sub)
	}
	c.policy(s, e)
}

// missing reports interface service s without an endpoint here: how its traffic leaves instead,
// or that it cannot.
func (c *check) missing(s catalogue.Service, name string) {
	group, subs := c.plannedGroup(), c.plannedSubnets()
	fix := &Fix{Kind: FixEndpoint, VPCID: c.v.id, Service: s.Key, ServiceName: name, EndpointType: "Interface", Groups: nonEmpty(group)}
	for _, sub := range subs {
		fix.Subnets, fix.AZs = append(fix.Subnets, sub.id), append(fix.AZs, sub.az)
	}
	host := s.Host(c.v.region, c.account())
	switch c.out.kind {
	case exitUnknown:
		c.add(Finding{Service: s.Key, Severity: Warn, Code: CodeEndpointMissing, Resources: []string{c.v.id}, Fix: fix,
			Diagnosis:   fmt.Sprintf("no interface endpoint for %s in %s, and the route tables could not be read to tell whether a NAT carries it", name, c.v.id),
			Remediation: fmt.Sprintf("create an interface endpoint for %s with private DNS, or check the subnet's route to a NAT gateway", name)})
	case exitNAT:
		c.add(Finding{Service: s.Key, Severity: Warn, Code: CodeEndpointViaNAT, Resources: []string{c.out.via, c.out.table}, Fix: fix,
			Diagnosis:   fmt.Sprintf("no interface endpoint for %s: traffic to %s leaves through %s, paid per GB", name, host, c.out.via),
			Remediation: fmt.Sprintf("create an interface endpoint for %s with private DNS to keep %s off the NAT", name, s.Key)})
	case exitIGW:
		c.add(Finding{Service: s.Key, Severity: Warn, Code: CodeEndpointViaIGW, Resources: []string{c.out.via, c.out.table}, Fix: fix,
			Diagnosis:   fmt.Sprintf("no interface endpoint for %s: %s is reached through internet gateway %s only by a task with a public IP", name, host, c.out.via),
			Remediation: fmt.Sprintf("give the task a public IP, or create an interface endpoint for %s with private DNS", name)})
	case exitCentral:
		res := []string{c.out.via, c.out.table}
		for _, r := range c.v.rules {
			if r.ruleType == "FORWARD" && covers(r.domain, host) {
				res = append(res, r.id)
			}
		}
		if c.v.dnsServers != nil && customDNS(c.v.dnsServers) {
			res = append(res, c.v.dhcpID)
		}
		c.add(Finding{Service: s.Key, Severity: Warn, Code: CodeEndpointCentral, Resources: res,
			Diagnosis: fmt.Sprintf("no interface endpoint for %s in %s, but %s routes through %s: the endpoint may live in a hub VPC", name, c.v.id, c.out.table, c.out.via),
			Remediation: fmt.Sprintf("if endpoints are centralised, do not create one here: check that the hub's endpoint for %s has its private hosted zone associated with %s (or a resolver rule answers %s privately), "+
				"that the hub endpoint's security group allows TCP 443 from %s, and that %s routes the hub's CIDR through %s and back; otherwise create the endpoint here", name, c.v.id, host, c.sub.cidr, c.out.table, c.out.via)})
	default:
		c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeEndpointMissing, Resources: nonEmpty(c.v.id, c.sub.id, group), Fix: fix,
			Diagnosis:   fmt.Sprintf("no interface endpoint for %s in %s and no route out of %s: %s is unreachable, which breaks %s", name, c.v.id, c.sub.id, host, s.NeededBy),
			Remediation: fmt.Sprintf("create an interface endpoint for %s in %s with private DNS and security group %s", name, strings.Join(fix.Subnets, ", "), cmpOr(group, "one that allows TCP 443 from "+c.sub.cidr.String()))})
	}
	// The endpoint to be created must also be reachable: check the group it will get (a
	// warning while a NAT or internet gateway still carries the traffic).
	if group != "" && c.out.kind != exitCentral {
		sev := Warn
		if c.out.kind == exitNone {
			sev = Fail
		}
		c.endpointIngress(s, "", []string{group}, sev)
		c.taskEgress(s, "", []string{group}, subs, sev)
	}
}

// account is the account of the registry host names: the VPC's owner.
func (c *check) account() string { return cmpOr(c.v.owner, "<account>") }
