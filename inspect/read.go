package inspect

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	rrtypes "github.com/aws/aws-sdk-go-v2/service/route53resolver/types"
	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/couldnottest"
)

// ErrUnreadable wraps the reason nothing could be inspected: the subnets could not be read. It
// matches (errors.Is) couldnottest.Err, the one sentinel of "could not test" (exit 3)
// every runner returns.
var ErrUnreadable error = errUnreadable{}

type errUnreadable struct{}

func (errUnreadable) Error() string { return "cannot read the VPC" }

// Is makes ErrUnreadable a case of couldnottest.Err.
func (errUnreadable) Is(target error) bool { return target == couldnottest.Err }

// subnet is what inspect keeps of a subnet.
type subnet struct {
	id, az string
	cidr   netip.Prefix
	v6     []netip.Prefix // its associated IPv6 CIDR blocks (families.go)
	v6Only bool           // Ipv6Native: an IPv6-only subnet
	free   *int32         // AvailableIpAddressCount; nil when EC2 did not say
}

// perm is one security group rule, flattened: a protocol and port range and the peers it names.
type perm struct {
	proto    string // "-1" (all), "tcp", "6", …
	from, to int32
	cidrs    []netip.Prefix
	groups   []string
	lists    []string // prefix list ids
}

// group is a security group with its rules.
type group struct {
	id, name        string
	ingress, egress []perm
}

// resolverRule is a Route 53 Resolver rule associated with the VPC.
type resolverRule struct {
	id, name, domain, ruleType string
	targets                    []string
}

// unread is a kind of configuration that could not be read, and why.
type unread struct {
	kind, action string
	denied       bool // a missing permission, not a failure of the call
	err          error
}

// vpc is one VPC's configuration as read once, for every subnet inspected in it. A nil map or
// pointer means "not read" (see unread), never "empty".
type vpc struct {
	region, id, owner string
	cidrs             []netip.Prefix
	subnets           map[string]subnet
	dnsSupport        *bool
	dnsHostnames      *bool
	dhcpID            string
	dnsServers        []string // nil: not read
	endpoints         []ec2types.VpcEndpoint
	endpointsRead     bool
	groups            map[string]group
	tables            []ec2types.RouteTable
	tablesRead        bool
	acls              []ec2types.NetworkAcl
	aclsRead          bool
	s3List            string                    // pl-… of com.amazonaws.<r>.s3; empty when unknown
	prefixLists       map[string][]netip.Prefix // entries of the lists security group rules name
	rules             []resolverRule
	rulesRead         bool
	unread            []unread
	x                 extra // the readers of the VPC of 2026 (vpc2026.go)
}

// apiErrorCodes that mean "this identity may not make the call": the kind is reported as a
// missing permission naming the IAM action.
var deniedCodes = []string{"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "UnauthorizedAccess", "Client.UnauthorizedOperation"}

// classify turns a failed read of kind into an unread entry; the one place errors are sorted.
func classify(kind, action string, err error) unread {
	var ae smithy.APIError
	denied := errors.As(err, &ae) && slices.Contains(deniedCodes, ae.ErrorCode())
	return unread{kind: kind, action: action, denied: denied, err: err}
}

// maxFilterValues is EC2's limit on the values of one filter: more subnets take more calls.
const maxFilterValues = 200

// locate reads the given subnets (one DescribeSubnets call) and returns them with their VPCs.
func locate(ctx context.Context, c EC2API, ids []string) (map[string]subnet, map[string]string, error) {
	subs := map[string]subnet{}
	vpcOf := map[string]string{}
	for chunk := range slices.Chunk(ids, maxFilterValues) {
		p := ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: chunk}}})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, unreadable(classify("subnets", "ec2:DescribeSubnets", err))
			}
			for _, s := range out.Subnets {
				subs[aws.ToString(s.SubnetId)] = toSubnet(s)
				vpcOf[aws.ToString(s.SubnetId)] = aws.ToString(s.VpcId)
			}
		}
	}
	for _, id := range ids {
		if _, ok := subs[id]; !ok {
			return nil, nil, fmt.Errorf("%w: subnet %s not found in this region and account", ErrUnreadable, id)
		}
	}
	return subs, vpcOf, nil
}

// unreadable is the error of a read without which nothing can be inspected.
func unreadable(u unread) error {
	if u.denied {
		return fmt.Errorf("%w: %s denied: the identity lacks %s (taskdef/iam/inspect-readonly.json): %w", ErrUnreadable, u.kind, u.action, u.err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnreadable, u.action, u.err)
}

func toSubnet(s ec2types.Subnet) subnet {
	p, _ := netip.ParsePrefix(aws.ToString(s.CidrBlock))
	return subnet{id: aws.ToString(s.SubnetId), az: aws.ToString(s.AvailabilityZone), cidr: p,
		v6: subnetIPv6(s), v6Only: aws.ToBool(s.Ipv6Native), free: s.AvailableIpAddressCount}
}

func vpcFilter(id string) []ec2types.Filter {
	return []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{id}}}
}

// readVPC reads every kind of configuration of VPC id, one call per kind (paginated), so that
// inspecting fifty subnets of a VPC costs what inspecting one does. Only the subnets are
// required; any other kind that fails is recorded in unread and its checks are skipped.
func readVPC(ctx context.Context, c Clients, id string) (*vpc, error) {
	v := &vpc{region: c.Region, id: id, subnets: map[string]subnet{}}
	sp := ec2.NewDescribeSubnetsPaginator(c.EC2, &ec2.DescribeSubnetsInput{Filters: vpcFilter(id)})
	for sp.HasMorePages() {
		out, err := sp.NextPage(ctx)
		if err != nil {
			return nil, unreadable(classify("subnets", "ec2:DescribeSubnets", err))
		}
		for _, s := range out.Subnets {
			v.subnets[aws.ToString(s.SubnetId)] = toSubnet(s)
		}
	}
	fail := func(kind, action string, err error) { v.unread = append(v.unread, classify(kind, action, err)) }

	if out, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}}); err != nil {
		fail("the VPC", "ec2:DescribeVpcs", err)
	} else if len(out.Vpcs) == 1 {
		x := out.Vpcs[0]
		v.owner, v.dhcpID = aws.ToString(x.OwnerId), aws.ToString(x.DhcpOptionsId)
		for _, a := range x.CidrBlockAssociationSet {
			if p, err := netip.ParsePrefix(aws.ToString(a.CidrBlock)); err == nil {
				v.cidrs = append(v.cidrs, p)
			}
		}
		if p, err := netip.ParsePrefix(aws.ToString(x.CidrBlock)); err == nil && !slices.Contains(v.cidrs, p) {
			v.cidrs = append(v.cidrs, p)
		}
	}
	for _, attr := range []ec2types.VpcAttributeName{ec2types.VpcAttributeNameEnableDnsSupport, ec2types.VpcAttributeNameEnableDnsHostnames} {
		out, err := c.EC2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(id), Attribute: attr})
		if err != nil {
			fail("the VPC's "+string(attr), "ec2:DescribeVpcAttribute", err)
			continue
		}
		if attr == ec2types.VpcAttributeNameEnableDnsSupport && out.EnableDnsSupport != nil {
			v.dnsSupport = aws.Bool(aws.ToBool(out.EnableDnsSupport.Value))
		}
		if attr == ec2types.VpcAttributeNameEnableDnsHostnames && out.EnableDnsHostnames != nil {
			v.dnsHostnames = aws.Bool(aws.ToBool(out.EnableDnsHostnames.Value))
		}
	}
	if v.dhcpID != "" && v.dhcpID != "default" {
		if out, err := c.EC2.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{v.dhcpID}}); err != nil {
			fail("DHCP options", "ec2:DescribeDhcpOptions", err)
		} else {
			v.dnsServers = []string{}
			for _, o := range out.DhcpOptions {
				for _, conf := range o.DhcpConfigurations {
					if aws.ToString(conf.Key) != "domain-name-servers" {
						continue
					}
					for _, val := range conf.Values {
						v.dnsServers = append(v.dnsServers, aws.ToString(val.Value))
					}
				}
			}
		}
	}

	ep := ec2.NewDescribeVpcEndpointsPaginator(c.EC2, &ec2.DescribeVpcEndpointsInput{Filters: vpcFilter(id)})
	v.endpointsRead = true
	for ep.HasMorePages() {
		out, err := ep.NextPage(ctx)
		if err != nil {
			fail("VPC endpoints", "ec2:DescribeVpcEndpoints", err)
			v.endpoints, v.endpointsRead = nil, false
			break
		}
		v.endpoints = append(v.endpoints, out.VpcEndpoints...)
	}

	gp := ec2.NewDescribeSecurityGroupsPaginator(c.EC2, &ec2.DescribeSecurityGroupsInput{Filters: vpcFilter(id)})
	v.groups = map[string]group{}
	for gp.HasMorePages() {
		out, err := gp.NextPage(ctx)
		if err != nil {
			fail("security groups", "ec2:DescribeSecurityGroups", err)
			v.groups = nil
			break
		}
		for _, g := range out.SecurityGroups {
			v.groups[aws.ToString(g.GroupId)] = group{id: aws.ToString(g.GroupId), name: aws.ToString(g.GroupName),
				ingress: perms(g.IpPermissions), egress: perms(g.IpPermissionsEgress)}
		}
	}

	rp := ec2.NewDescribeRouteTablesPaginator(c.EC2, &ec2.DescribeRouteTablesInput{Filters: vpcFilter(id)})
	v.tablesRead = true
	for rp.HasMorePages() {
		out, err := rp.NextPage(ctx)
		if err != nil {
			fail("route tables", "ec2:DescribeRouteTables", err)
			v.tables, v.tablesRead = nil, false
			break
		}
		v.tables = append(v.tables, out.RouteTables...)
	}

	ap := ec2.NewDescribeNetworkAclsPaginator(c.EC2, &ec2.DescribeNetworkAclsInput{Filters: vpcFilter(id)})
	v.aclsRead = true
	for ap.HasMorePages() {
		out, err := ap.NextPage(ctx)
		if err != nil {
			fail("network ACLs", "ec2:DescribeNetworkAcls", err)
			v.acls, v.aclsRead = nil, false
			break
		}
		v.acls = append(v.acls, out.NetworkAcls...)
	}

	s3Name := "com.amazonaws." + c.Region + ".s3"
	pp := ec2.NewDescribeManagedPrefixListsPaginator(c.EC2, &ec2.DescribeManagedPrefixListsInput{
		Filters: []ec2types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{s3Name, "cn." + s3Name}}}})
	for pp.HasMorePages() {
		out, err := pp.NextPage(ctx)
		if err != nil {
			fail("managed prefix lists", "ec2:DescribeManagedPrefixLists", err)
			break
		}
		for _, l := range out.PrefixLists {
			v.s3List = aws.ToString(l.PrefixListId)
		}
	}

	v.readPrefixLists(ctx, c.EC2)

	if c.Resolver != nil {
		v.readRules(ctx, c.Resolver)
	}
	v.read2026(ctx, c)
	return v, nil
}

// readRules reads the Resolver rules associated with the VPC: one paginated list, then one
// GetResolverRule per associated rule (the association does not carry the domain name).
func (v *vpc) readRules(ctx context.Context, r ResolverAPI) {
	p := route53resolver.NewListResolverRuleAssociationsPaginator(r, &route53resolver.ListResolverRuleAssociationsInput{
		Filters: []rrtypes.Filter{{Name: aws.String("VPCId"), Values: []string{v.id}}}})
	var ids []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			v.unread = append(v.unread, classify("Route 53 Resolver rule associations", "route53resolver:ListResolverRuleAssociations", err))
			return
		}
		for _, a := range out.ResolverRuleAssociations {
			if aws.ToString(a.VPCId) == v.id && !slices.Contains(ids, aws.ToString(a.ResolverRuleId)) {
				ids = append(ids, aws.ToString(a.ResolverRuleId))
			}
		}
	}
	for _, id := range ids {
		out, err := r.GetResolverRule(ctx, &route53resolver.GetResolverRuleInput{ResolverRuleId: aws.String(id)})
		if err != nil {
			v.unread = append(v.unread, classify("Route 53 Resolver rule "+id, "route53resolver:GetResolverRule", err))
			return
		}
		x := out.ResolverRule
		rr := resolverRule{id: id, name: aws.ToString(x.Name), ruleType: string(x.RuleType),
			domain: ruleDomain(aws.ToString(x.DomainName))}
		for _, t := range x.TargetIps {
			rr.targets = append(rr.targets, aws.ToString(t.Ip))
		}
		v.rules = append(v.rules, rr)
	}
	v.rulesRead = true
}

// perms flattens the SDK's nested permissions.
func perms(ps []ec2types.IpPermission) []perm {
	var out []perm
	for _, p := range ps {
		x := perm{proto: strings.ToLower(aws.ToString(p.IpProtocol)), from: aws.ToInt32(p.FromPort), to: aws.ToInt32(p.ToPort)}
		for _, r := range p.IpRanges {
			if c, err := netip.ParsePrefix(aws.ToString(r.CidrIp)); err == nil {
				x.cidrs = append(x.cidrs, c)
			}
		}
		for _, r := range p.Ipv6Ranges { // IPv6 rules: they never cover an IPv4 subnet (families.go)
			if c, err := netip.ParsePrefix(aws.ToString(r.CidrIpv6)); err == nil {
				x.cidrs = append(x.cidrs, c)
			}
		}
		for _, g := range p.UserIdGroupPairs {
			x.groups = append(x.groups, aws.ToString(g.GroupId))
		}
		for _, l := range p.PrefixListIds {
			x.lists = append(x.lists, aws.ToString(l.PrefixListId))
		}
		out = append(out, x)
	}
	return out
}

// allows443 reports whether the rule's protocol and ports let TCP 443 through.
func (p perm) allows443() bool {
	switch p.proto {
	case "-1", "all":
		return true
	case "tcp", "6":
		return p.from <= 443 && 443 <= p.to
	}
	return false
}

// tableOf returns the route table of subnet: its explicit association, else the VPC's main table.
func (v *vpc) tableOf(subnetID string) (ec2types.RouteTable, bool) {
	var main *ec2types.RouteTable
	for i, t := range v.tables {
		for _, a := range t.Associations {
			if aws.ToString(a.SubnetId) == subnetID {
				return t, true
			}
			if aws.ToBool(a.Main) {
				main = &v.tables[i]
			}
		}
	}
	if main == nil {
		return ec2types.RouteTable{}, false
	}
	return *main, true
}

// aclOf returns the network ACL of subnet: its association, else the VPC's default ACL.
func (v *vpc) aclOf(subnetID string) (ec2types.NetworkAcl, bool) {
	var def *ec2types.NetworkAcl
	for i, a := range v.acls {
		for _, as := range a.Associations {
			if aws.ToString(as.SubnetId) == subnetID {
				return a, true
			}
		}
		if aws.ToBool(a.IsDefault) {
			def = &v.acls[i]
		}
	}
	if def == nil {
		return ec2types.NetworkAcl{}, false
	}
	return *def, true
}

// defaultGroup returns the id of the VPC's default security group, the group of a task given none.
func (v *vpc) defaultGroup() string {
	for _, g := range v.groups {
		if g.name == "default" {
			return g.id
		}
	}
	return ""
}
