package inspect

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Finding codes of endpoints that live elsewhere: a hub VPC reached through a transit gateway or
// peering, private hosted zones associated across accounts, shared (RAM) subnets.
const (
	CodeHubZone      = "hub-zone-associated"
	CodeHubNoZone    = "hub-zone-missing"
	CodeHubNoRoute   = "hub-no-route"
	CodeHubSGIngress = "hub-endpoint-sg-no-ingress"
	CodeHubGateway   = "hub-gateway-not-shared"
	CodeSharedVPC    = "shared-vpc-partial-view"
)

// hostedZone is a private hosted zone associated with the VPC.
type hostedZone struct {
	id, name, owner string // owner: the owning account, or the owning service
}

// hub is what this account can read of endpoints in its other VPCs of the region: the hub's.
type hub struct {
	endpoints []ec2types.VpcEndpoint
	cidrs     map[string][]netip.Prefix // hub VPC id → its CIDRs
	groups    map[string]group
}

// readZones reads the private hosted zones associated with the VPC, whichever account owns them
// (ListHostedZonesByVPC; the Route 53 API is global, the VPC named by id and region).
func (v *vpc) readZones(ctx context.Context, api Route53API) {
	in := &route53.ListHostedZonesByVPCInput{VPCId: aws.String(v.id), VPCRegion: r53types.VPCRegion(v.region)}
	for {
		out, err := api.ListHostedZonesByVPC(ctx, in)
		if err != nil {
			v.unread = append(v.unread, classify("private hosted zones associated with the VPC", "route53:ListHostedZonesByVPC", err))
			return
		}
		for _, z := range out.HostedZoneSummaries {
			hz := hostedZone{id: strings.TrimPrefix(aws.ToString(z.HostedZoneId), "/hostedzone/"), name: strings.TrimSuffix(strings.ToLower(aws.ToString(z.Name)), ".")}
			if z.Owner != nil {
				hz.owner = cmpOr(aws.ToString(z.Owner.OwningAccount), aws.ToString(z.Owner.OwningService))
			}
			v.x.zones = append(v.x.zones, hz)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	v.x.zonesRead = true
}

// needsHub reports whether a route of the VPC leaves it through a transit gateway or peering: the
// shape of centralised endpoints, worth reading the account's other VPCs' endpoints for.
func (v *vpc) needsHub() bool {
	for _, t := range v.tables {
		for _, r := range t.Routes {
			if via := target(r); strings.HasPrefix(via, "tgw-") || strings.HasPrefix(via, "pcx-") {
				return true
			}
		}
	}
	return false
}

// readHub reads the endpoints of every catalogue service in this account's other VPCs of the
// region (DescribeVpcEndpoints by service name), their VPCs' CIDRs and their security groups: what
// a hub in the same account shows. A hub in another account is not readable, and nothing is
// recorded for it (the findings say so).
func readHub(ctx context.Context, api EC2API, v *vpc) *hub {
	var names []string
	for _, s := range catalogue.All() {
		names = append(names, s.EndpointService(v.region))
	}
	h := &hub{cidrs: map[string][]netip.Prefix{}, groups: map[string]group{}}
	p := ec2.NewDescribeVpcEndpointsPaginator(api, &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{{Name: aws.String("service-name"), Values: names}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			v.unread = append(v.unread, classify("endpoints of the account's other VPCs", "ec2:DescribeVpcEndpoints", err))
			return nil
		}
		for _, e := range out.VpcEndpoints {
			if aws.ToString(e.VpcId) != v.id && !strings.EqualFold(string(e.State), "deleted") {
				h.endpoints = append(h.endpoints, e)
			}
		}
	}
	var vpcs, gids []string
	for _, e := range h.endpoints {
		if id := aws.ToString(e.VpcId); !slices.Contains(vpcs, id) {
			vpcs = append(vpcs, id)
		}
		for _, g := range e.Groups {
			if id := aws.ToString(g.GroupId); !slices.Contains(gids, id) {
				gids = append(gids, id)
			}
		}
	}
	if len(vpcs) > 0 {
		out, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: vpcs})
		if err == nil {
			for _, x := range out.Vpcs {
				for _, a := range x.CidrBlockAssociationSet {
					if p, err := netip.ParsePrefix(aws.ToString(a.CidrBlock)); err == nil {
						h.cidrs[aws.ToString(x.VpcId)] = append(h.cidrs[aws.ToString(x.VpcId)], p)
					}
				}
				if p, err := netip.ParsePrefix(aws.ToString(x.CidrBlock)); err == nil && !slices.Contains(h.cidrs[aws.ToString(x.VpcId)], p) {
					h.cidrs[aws.ToString(x.VpcId)] = append(h.cidrs[aws.ToString(x.VpcId)], p)
				}
			}
		}
	}
	for chunk := range slices.Chunk(gids, maxFilterValues) {
		gp := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: chunk}}})
		for gp.HasMorePages() {
			out, err := gp.NextPage(ctx)
			if err != nil {
				break // the hub's groups unread: its ingress is not judged
			}
			for _, g := range out.SecurityGroups {
				h.groups[aws.ToString(g.GroupId)] = group{id: aws.ToString(g.GroupId), name: aws.ToString(g.GroupName),
					ingress: perms(g.IpPermissions), egress: perms(g.IpPermissionsEgress)}
			}
		}
	}
	return h
}

// zoneFor returns the associated private hosted zone that answers host: the most specific one
// whose name is host or a parent of it.
func (c *check) zoneFor(host string) (hostedZone, bool) {
	var best hostedZone
	for _, z := range c.v.x.zones {
		if covers(z.name, host) && len(z.name) > len(best.name) {
			best = z
		}
	}
	return best, best.name != ""
}

// hubRoute returns the route of the task's table that carries traffic to any of cidrs through a
// transit gateway or peering connection (its target), or "".
func (c *check) hubRoute(cidrs []netip.Prefix) string {
	t, ok := c.v.tableOf(c.sub.id)
	if !ok {
		return ""
	}
	for _, r := range t.Routes {
		via := target(r)
		if r.State == ec2types.RouteStateBlackhole || !(strings.HasPrefix(via, "tgw-") || strings.HasPrefix(via, "pcx-")) {
			continue
		}
		dst, err := netip.ParsePrefix(aws.ToString(r.DestinationCidrBlock))
		if err != nil {
			continue
		}
		for _, p := range cidrs {
			if coversPrefix(dst, p) || coversPrefix(dst, netip.PrefixFrom(p.Addr(), p.Addr().BitLen())) {
				return via
			}
		}
	}
	return ""
}

// hubEndpoints explains services without an endpoint here that a hub VPC may serve: the private
// hosted zone that answers their name (or its absence), the route toward the hub, the hub
// endpoint's security group, and S3, whose gateway endpoint never serves another VPC. It also says
// what a participant of a shared VPC could not read.
func (c *check) hubEndpoints() {
	c.sharedView()
	if !c.v.endpointsRead {
		return
	}
	h := c.v.x.hub
	for _, s := range c.services {
		if s.Gateway {
			c.hubGateway(s, h)
			continue
		}
		if len(c.interfaceEndpoints(s)) > 0 {
			continue
		}
		host := s.Host(c.v.region, c.account())
		var hubEps []ec2types.VpcEndpoint
		if h != nil {
			for _, e := range h.endpoints {
				if aws.ToString(e.ServiceName) == s.EndpointService(c.v.region) && strings.EqualFold(string(e.VpcEndpointType), "interface") {
					hubEps = append(hubEps, e)
				}
			}
		}
		z, zoned := c.zoneFor(host)
		forwarded := slices.ContainsFunc(c.v.rules, func(r resolverRule) bool { return r.ruleType == "FORWARD" && covers(r.domain, host) })
		switch {
		case zoned:
			c.hubZoned(s, host, z, hubEps)
		case forwarded:
			// resolver-forward-rule says where the name is answered; the hub is beyond it.
		case c.v.x.zonesRead && len(hubEps) > 0:
			e := hubEps[0]
			c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeHubNoZone, Resources: []string{aws.ToString(e.VpcEndpointId), aws.ToString(e.VpcId), c.v.id},
				Diagnosis: fmt.Sprintf("interface endpoint %s for %s lives in %s, but no private hosted zone for %s is associated with %s (and no Resolver rule forwards it): the name resolves to public addresses here, never to the hub's endpoint",
					aws.ToString(e.VpcEndpointId), s.EndpointService(c.v.region), aws.ToString(e.VpcId), host, c.v.id),
				Remediation: fmt.Sprintf("associate the hub's private hosted zone for %s with %s (from another account: create-vpc-association-authorization by the zone's owner, then associate-vpc-with-hosted-zone), or create an endpoint here", host, c.v.id)})
		case c.v.x.zonesRead && c.out.kind == exitCentral:
			c.add(Finding{Service: s.Key, Severity: Warn, Code: CodeHubNoZone, Resources: []string{c.v.id, c.out.via},
				Diagnosis: fmt.Sprintf("no private hosted zone associated with %s answers %s (ListHostedZonesByVPC lists zones of every account), no Resolver rule forwards it and this account has no hub endpoint for it: the name resolves to public addresses, reachable only if %s leads to a NAT",
					c.v.id, host, c.out.via),
				Remediation: fmt.Sprintf("if the endpoint for %s is centralised, associate the hub's private hosted zone %s with %s; otherwise create the endpoint here", s.EndpointService(c.v.region), privateZone(s, c.v.region), c.v.id)})
		}
	}
}

// hubZoned checks the shape of a name answered by an associated private hosted zone while this
// VPC has no endpoint of its own: the route toward the hub and the hub endpoint's security group.
func (c *check) hubZoned(s catalogue.Service, host string, z hostedZone, hubEps []ec2types.VpcEndpoint) {
	zone := z.id + " (" + z.name
	if z.owner != "" {
		zone += ", owner " + z.owner
	}
	zone += ")"
	h := c.v.x.hub
	if len(hubEps) == 0 || h == nil {
		via := ""
		if t, ok := c.v.tableOf(c.sub.id); ok {
			for _, r := range t.Routes {
				if v := target(r); strings.HasPrefix(v, "tgw-") || strings.HasPrefix(v, "pcx-") {
					via = v
					break
				}
			}
		}
		if via == "" && c.v.tablesRead {
			c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeHubNoRoute, Resources: nonEmpty(z.id, c.out.table),
				Diagnosis:   fmt.Sprintf("private hosted zone %s answers %s with an endpoint outside %s, but the subnet's route table %s has no route through a transit gateway or peering connection: connections to it go nowhere", zone, host, c.v.id, c.out.table),
				Remediation: fmt.Sprintf("add a route to the hub VPC's CIDR through the transit gateway or peering connection on %s (and the hub's route back)", c.out.table)})
			return
		}
		c.add(Finding{Service: s.Key, Severity: Info, Code: CodeHubZone, Resources: nonEmpty(z.id, via),
			Diagnosis: fmt.Sprintf("%s is answered by private hosted zone %s associated with %s, and %s leads out through %s: the endpoint lives in a hub this account cannot read, so its security group was not checked",
				host, zone, c.v.id, c.out.table, cmpOr(via, "?")),
			Remediation: fmt.Sprintf("check that the hub endpoint's security group allows TCP 443 from %s (or %s) and that the hub routes %s back through %s", c.vpcCIDR(), c.sub.cidr, c.vpcCIDR(), cmpOr(via, "the transit gateway"))})
		return
	}
	// Of several hubs' endpoints, the one this subnet routes to is the one the zone can mean.
	e := hubEps[0]
	for _, x := range hubEps {
		if c.hubRoute(h.cidrs[aws.ToString(x.VpcId)]) != "" {
			e = x
			break
		}
	}
	id, hubVPC := aws.ToString(e.VpcEndpointId), aws.ToString(e.VpcId)
	via := c.hubRoute(h.cidrs[hubVPC])
	if via == "" {
		c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeHubNoRoute, Resources: nonEmpty(id, hubVPC, c.out.table),
			Diagnosis: fmt.Sprintf("private hosted zone %s answers %s with endpoint %s in %s (%s), but route table %s has no route to %s through a transit gateway or peering connection: connections time out",
				zone, host, id, hubVPC, prefixes(h.cidrs[hubVPC]), c.out.table, prefixes(h.cidrs[hubVPC])),
			Remediation: fmt.Sprintf("add a route to %s through the transit gateway or peering connection on %s (and one back to %s in the hub)", prefixes(h.cidrs[hubVPC]), c.out.table, c.vpcCIDR())})
		return
	}
	gids := []string{}
	for _, g := range e.Groups {
		gids = append(gids, aws.ToString(g.GroupId))
	}
	allowed, read := false, false
	for _, gid := range gids {
		g, ok := h.groups[gid]
		read = read || ok
		for _, p := range g.ingress {
			if p.allows443() && (slices.ContainsFunc(p.cidrs, func(cidr netip.Prefix) bool { return coversPrefix(cidr, c.sub.cidr) }) ||
				slices.ContainsFunc(p.groups, func(g string) bool { return slices.Contains(c.groups, g) })) {
				allowed = true
			}
		}
	}
	if read && !allowed {
		c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeHubSGIngress, Resources: append([]string{id}, gids...),
			Diagnosis: fmt.Sprintf("hub endpoint %s in %s answers %s (zone %s, route through %s), but its security groups %s do not allow inbound TCP 443 from %s: connections time out",
				id, hubVPC, host, zone, via, strings.Join(gids, ", "), c.sub.cidr),
			Remediation: fmt.Sprintf("allow inbound TCP 443 from %s on %s", c.vpcCIDR(), gids[0]),
			Command:     fmt.Sprintf("aws ec2 authorize-security-group-ingress --region %s --group-id %s --protocol tcp --port 443 --cidr %s", c.v.region, gids[0], c.vpcCIDR())})
		return
	}
	c.add(Finding{Service: s.Key, Severity: Info, Code: CodeHubZone, Resources: nonEmpty(z.id, id, via),
		Diagnosis: fmt.Sprintf("%s is served by hub endpoint %s in %s: private hosted zone %s is associated with %s, %s routes %s through %s and the endpoint's security group allows TCP 443 from %s",
			host, id, hubVPC, zone, c.v.id, c.out.table, prefixes(h.cidrs[hubVPC]), via, c.sub.cidr),
		Remediation: "nothing to change: a live failure on this path is beyond what the configuration shows (the hub's network ACLs or routes back)"})
}

// hubGateway says that a hub's S3 gateway endpoint does not serve this VPC: gateway endpoints
// are not reachable through a transit gateway or peering (PrivateLink guide, gateway endpoints),
// so image layers need a gateway endpoint here.
func (c *check) hubGateway(s catalogue.Service, h *hub) {
	if h == nil {
		return
	}
	name := s.EndpointService(c.v.region)
	if slices.ContainsFunc(c.v.endpoints, func(e ec2types.VpcEndpoint) bool {
		return aws.ToString(e.ServiceName) == name && strings.EqualFold(string(e.VpcEndpointType), "gateway")
	}) {
		return
	}
	for _, e := range h.endpoints {
		if aws.ToString(e.ServiceName) != name {
			continue
		}
		sev := Fail
		if c.out.kind == exitNAT || c.out.kind == exitIGW {
			sev = Warn
		}
		kind := "gateway endpoint"
		why := "gateway endpoints do not carry traffic from another VPC through a transit gateway or peering"
		if strings.EqualFold(string(e.VpcEndpointType), "interface") {
			kind = "S3 interface endpoint"
			why = "ECR cannot use an S3 interface endpoint for image layers (ECS developer guide, VPC endpoints)"
		}
		c.add(Finding{Service: s.Key, Severity: sev, Code: CodeHubGateway, Resources: []string{aws.ToString(e.VpcEndpointId), aws.ToString(e.VpcId), c.v.id},
			Diagnosis:   fmt.Sprintf("the %s %s in %s does not serve %s: %s, so image layers from %s need an S3 gateway endpoint in this VPC", kind, aws.ToString(e.VpcEndpointId), aws.ToString(e.VpcId), c.v.id, why, catalogue.LayerBucket(c.v.region)),
			Remediation: fmt.Sprintf("create the S3 gateway endpoint (free) in %s on route table %s", c.v.id, cmpOr(c.out.table, "of the subnet")),
			Command:     fmt.Sprintf("aws ec2 create-vpc-endpoint --region %s --vpc-id %s --vpc-endpoint-type Gateway --service-name %s --route-table-ids %s", c.v.region, c.v.id, name, cmpOr(c.out.table, "<rtb>"))})
		return
	}
}

// sharedView says what a participant of a shared (RAM) VPC could not read: the owner's security
// groups on endpoints (so their ingress is not judged: a missing group is not a closed one).
func (c *check) sharedView() {
	if c.v.groups == nil {
		return
	}
	var missing []string
	for _, e := range c.v.endpoints {
		for _, g := range e.Groups {
			if id := aws.ToString(g.GroupId); !slices.Contains(missing, id) {
				if _, ok := c.v.groups[id]; !ok {
					missing = append(missing, id)
				}
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	for i := range c.findings {
		f := &c.findings[i]
		if f.Code != CodeSGEndpointIngress {
			continue
		}
		unseen := true
		for _, r := range f.Resources {
			if strings.HasPrefix(r, "sg-") && !slices.Contains(missing, r) {
				unseen = false
			}
		}
		if unseen && f.Severity == Fail {
			f.Severity = Warn
			f.Diagnosis += " — but this account cannot read those groups (a shared VPC's owner's), so their rules were not judged"
			f.Fix, f.Command = nil, ""
		}
	}
	owner := ""
	if c.v.owner != "" {
		owner = " (owner " + c.v.owner + ")"
	}
	c.add(Finding{Services: keys(c.services, nil), Severity: Warn, Code: CodeSharedVPC, Resources: append([]string{c.v.id}, missing...),
		Diagnosis:   fmt.Sprintf("security groups %s of endpoints in %s%s are not readable from this account: a participant of a shared VPC sees the owner's subnets, route tables and endpoints but not the owner's security groups, so the endpoints' ingress was not judged", strings.Join(missing, ", "), c.v.id, owner),
		Remediation: fmt.Sprintf("run inspect with the VPC owner's credentials to judge %s, or check that they allow TCP 443 from %s", strings.Join(missing, ", "), c.sub.cidr)})
}

// vpcCIDR is the VPC's first CIDR for sentences and commands, else the subnet's.
func (c *check) vpcCIDR() string {
	if len(c.v.cidrs) > 0 {
		return c.v.cidrs[0].String()
	}
	return c.sub.cidr.String()
}

func prefixes(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return cmpOr(strings.Join(s, ", "), "its CIDR (not read)")
}
