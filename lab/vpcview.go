package lab

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2Reader is the part of the EC2 API ReadVPC calls: the Describe* calls of AWS-NOTES.md's
// "Reading the configuration"; *ec2.Client is one.
type EC2Reader interface {
	ec2.DescribeVpcsAPIClient
	DescribeVpcAttribute(context.Context, *ec2.DescribeVpcAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeVpcAttributeOutput, error)
	ec2.DescribeDhcpOptionsAPIClient
	ec2.DescribeSubnetsAPIClient
	ec2.DescribeVpcEndpointsAPIClient
	ec2.DescribeSecurityGroupsAPIClient
	ec2.DescribeSecurityGroupRulesAPIClient
	ec2.DescribeRouteTablesAPIClient
	ec2.DescribeNetworkAclsAPIClient
	ec2.DescribeNatGatewaysAPIClient
}

// VPCView is one VPC as the EC2 API's Describe calls show it, flattened to what a reader checks:
// each rule, route and ACL entry is one line in a fixed form, so `vpclab describe` prints it and
// tests compare it.
type VPCView struct {
	VPC          string   `json:"vpc"`
	CIDR         string   `json:"cidr"`
	DNSSupport   bool     `json:"enable_dns_support"`
	DNSHostnames bool     `json:"enable_dns_hostnames"`
	DHCPServers  []string `json:"dns_servers,omitempty"` // domain-name-servers of the VPC's option set

	Subnets     []SubnetView     `json:"subnets"`
	Endpoints   []EndpointView   `json:"endpoints"`
	Groups      []GroupView      `json:"security_groups"`
	RouteTables []RouteTableView `json:"route_tables"`
	ACLs        []ACLView        `json:"network_acls"`
	NATs        []string         `json:"nat_gateways,omitempty"` // "nat-… in subnet-… available"
}

// SubnetView is one subnet.
type SubnetView struct {
	ID   string `json:"id"`
	CIDR string `json:"cidr"`
	AZ   string `json:"az"`
	Name string `json:"name"`
}

// EndpointView is one VPC endpoint.
type EndpointView struct {
	ID         string   `json:"id"`
	Service    string   `json:"service"`
	Type       string   `json:"type"`
	State      string   `json:"state"`
	PrivateDNS bool     `json:"private_dns"`
	Subnets    []string `json:"subnets,omitempty"`
	Groups     []string `json:"groups,omitempty"`
	Tables     []string `json:"route_tables,omitempty"`
}

// GroupView is one security group and its rules: "in tcp 443 from 10.0.1.0/24", "out tcp 443
// to pl-…", "out all to 0.0.0.0/0".
type GroupView struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Rules []string `json:"rules"`
}

// RouteTableView is one route table: its subnets, and routes as "0.0.0.0/0 -> nat-… active".
type RouteTableView struct {
	ID      string   `json:"id"`
	Main    bool     `json:"main"`
	Subnets []string `json:"subnets"`
	Routes  []string `json:"routes"`
}

// ACLView is one network ACL: its subnets and entries as "in 90 deny tcp 443-443 10.0.1.0/24".
type ACLView struct {
	ID      string   `json:"id"`
	Default bool     `json:"default"`
	Subnets []string `json:"subnets"`
	Entries []string `json:"entries"`
}

// Endpoint returns the view of the endpoint with id, or false.
func (v VPCView) Endpoint(id string) (EndpointView, bool) {
	for _, e := range v.Endpoints {
		if e.ID == id {
			return e, true
		}
	}
	return EndpointView{}, false
}

// Group returns the view of the group with id, or false.
func (v VPCView) Group(id string) (GroupView, bool) {
	for _, g := range v.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return GroupView{}, false
}

// RouteTable returns the view of the route table with id, or false.
func (v VPCView) RouteTable(id string) (RouteTableView, bool) {
	for _, t := range v.RouteTables {
		if t.ID == id {
			return t, true
		}
	}
	return RouteTableView{}, false
}

// ACL returns the view of the network ACL with id, or false.
func (v VPCView) ACL(id string) (ACLView, bool) {
	for _, a := range v.ACLs {
		if a.ID == id {
			return a, true
		}
	}
	return ACLView{}, false
}

// vpcFilter selects what belongs to one VPC: one call per kind, filtered by VPC id, as inspect
// reads the configuration.
func vpcFilter(vpc string) []types.Filter {
	return []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}
}

// ReadVPC reads the VPC with id vpc back through the EC2 API's Describe calls, the way inspect
// reads a configuration (one call per kind, filtered by VPC id, paginated).
func ReadVPC(ctx context.Context, api EC2Reader, vpc string) (VPCView, error) {
	v := VPCView{VPC: vpc}
	vpcs, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpc}})
	if err != nil {
		return v, fmt.Errorf("lab: DescribeVpcs: %w", err)
	}
	if len(vpcs.Vpcs) != 1 {
		return v, fmt.Errorf("lab: DescribeVpcs %s: %d VPCs", vpc, len(vpcs.Vpcs))
	}
	v.CIDR = aws.ToString(vpcs.Vpcs[0].CidrBlock)
	for _, attr := range []types.VpcAttributeName{types.VpcAttributeNameEnableDnsSupport, types.VpcAttributeNameEnableDnsHostnames} {
		out, err := api.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(vpc), Attribute: attr})
		if err != nil {
			return v, fmt.Errorf("lab: DescribeVpcAttribute %s: %w", attr, err)
		}
		if out.EnableDnsSupport != nil {
			v.DNSSupport = aws.ToBool(out.EnableDnsSupport.Value)
		}
		if out.EnableDnsHostnames != nil {
			v.DNSHostnames = aws.ToBool(out.EnableDnsHostnames.Value)
		}
	}
	if dopt := aws.ToString(vpcs.Vpcs[0].DhcpOptionsId); dopt != "" && dopt != "default" {
		p := ec2.NewDescribeDhcpOptionsPaginator(api, &ec2.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{dopt}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return v, fmt.Errorf("lab: DescribeDhcpOptions: %w", err)
			}
			for _, o := range page.DhcpOptions {
				for _, c := range o.DhcpConfigurations {
					if aws.ToString(c.Key) == "domain-name-servers" {
						for _, av := range c.Values {
							v.DHCPServers = append(v.DHCPServers, aws.ToString(av.Value))
						}
					}
				}
			}
		}
	}
	for _, step := range []func(context.Context, EC2Reader, *VPCView) error{
		readSubnets, readEndpoints, readGroups, readRouteTables, readACLs, readNATs,
	} {
		if err := step(ctx, api, &v); err != nil {
			return v, fmt.Errorf("lab: %w", err)
		}
	}
	return v, nil
}

func nameTag(tags []types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func readSubnets(ctx context.Context, api EC2Reader, v *VPCView) error {
	p := ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{Filters: vpcFilter(v.VPC)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("DescribeSubnets: %w", err)
		}
		for _, s := range page.Subnets {
			v.Subnets = append(v.Subnets, SubnetView{ID: aws.ToString(s.SubnetId), CIDR: aws.ToString(s.CidrBlock),
				AZ: aws.ToString(s.AvailabilityZone), Name: nameTag(s.Tags)})
		}
	}
	slices.SortFunc(v.Subnets, func(a, b SubnetView) int { return strings.Compare(a.CIDR, b.CIDR) })
	return nil
}

func readEndpoints(ctx context.Context, api EC2Reader, v *VPCView) error {
	p := ec2.NewDescribeVpcEndpointsPaginator(api, &ec2.DescribeVpcEndpointsInput{Filters: vpcFilter(v.VPC)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("DescribeVpcEndpoints: %w", err)
		}
		for _, e := range page.VpcEndpoints {
			ev := EndpointView{ID: aws.ToString(e.VpcEndpointId), Service: aws.ToString(e.ServiceName),
				Type: string(e.VpcEndpointType), State: string(e.State), PrivateDNS: aws.ToBool(e.PrivateDnsEnabled),
				Subnets: e.SubnetIds, Tables: e.RouteTableIds}
			for _, g := range e.Groups {
				ev.Groups = append(ev.Groups, aws.ToString(g.GroupId))
			}
			v.Endpoints = append(v.Endpoints, ev)
		}
	}
	slices.SortFunc(v.Endpoints, func(a, b EndpointView) int { return strings.Compare(a.Service, b.Service) })
	return nil
}

func readGroups(ctx context.Context, api EC2Reader, v *VPCView) error {
	index := map[string]int{}
	p := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: vpcFilter(v.VPC)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("DescribeSecurityGroups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			index[aws.ToString(g.GroupId)] = len(v.Groups)
			v.Groups = append(v.Groups, GroupView{ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName)})
		}
	}
	if len(v.Groups) == 0 {
		return nil
	}
	ids := make([]string, 0, len(v.Groups))
	for _, g := range v.Groups {
		ids = append(ids, g.ID)
	}
	rp := ec2.NewDescribeSecurityGroupRulesPaginator(api, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []types.Filter{{Name: aws.String("group-id"), Values: ids}}})
	for rp.HasMorePages() {
		page, err := rp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("DescribeSecurityGroupRules: %w", err)
		}
		for _, r := range page.SecurityGroupRules {
			i, ok := index[aws.ToString(r.GroupId)]
			if !ok {
				continue
			}
			v.Groups[i].Rules = append(v.Groups[i].Rules, ruleLine(r))
		}
	}
	for i := range v.Groups {
		slices.Sort(v.Groups[i].Rules)
	}
	slices.SortFunc(v.Groups, func(a, b GroupView) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// ruleLine renders a security group rule: direction, protocol and ports, peer.
func ruleLine(r types.SecurityGroupRule) string {
	dir, prep := "in", "from"
	if aws.ToBool(r.IsEgress) {
		dir, prep = "out", "to"
	}
	proto := aws.ToString(r.IpProtocol)
	what := proto
	switch {
	case proto == "-1":
		what = "all"
	case aws.ToInt32(r.FromPort) == aws.ToInt32(r.ToPort):
		what = fmt.Sprintf("%s %d", proto, aws.ToInt32(r.FromPort))
	default:
		what = fmt.Sprintf("%s %d-%d", proto, aws.ToInt32(r.FromPort), aws.ToInt32(r.ToPort))
	}
	peer := aws.ToString(r.CidrIpv4)
	switch {
	case r.PrefixListId != nil:
		peer = aws.ToString(r.PrefixListId)
	case r.ReferencedGroupInfo != nil:
		peer = aws.ToString(r.ReferencedGroupInfo.GroupId)
	case r.CidrIpv6 != nil:
		peer = aws.ToString(r.CidrIpv6)
	}
	return dir + " " + what + " " + prep + " " + peer
}

func readRouteTables(ctx context.Context, api EC2Reader, v *VPCView) error {
	p := ec2.NewDescribeRouteTablesPaginator(api, &ec2.DescribeRouteTablesInput{Filters: vpcFilter(v.VPC)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("DescribeRouteTables: %w", err)
		}
		for _, t := range page.RouteTables {
			tv := RouteTableView{ID: aws.ToString(t.RouteTableId)}
			for _, a := range t.Associations {
				if aws.ToBool(a.Main) {
					tv.Main = true
				}
				if a.SubnetId != nil {
					tv.Subnets = append(tv.Subnets, aws.ToString(a.SubnetId))
				}
			}
			for _, r := range t.Routes {
				tv.Routes = append(tv.Routes, routeLine(r))
			}
			slices.Sort(tv.Subnets)
			slices.Sort(tv.Routes)
			v.RouteTables = append(v.RouteTables, tv)
		}
	}
	slices.SortFunc(v.RouteTables, func(a, b RouteTableView) int { return strings.Compare(a.ID, b.ID) })
	return nil
}

// routeLine renders a route: destination (CIDR or prefix list), target, state.
func routeLine(r types.Route) string {
	dst := aws.ToString(r.DestinationCidrBlock)
	if r.DestinationPrefixListId != nil {
		dst = aws.ToString(r.DestinationPrefixListId)
	}
	target := ""
	for _, t := range []*string{r.GatewayId, r.NatGatewayId, r.TransitGatewayId, r.VpcPeeringConnectionId,
		r.NetworkInterfaceId, r.InstanceId} {
		if t != nil {
			target = aws.ToString(t)
			break
		}
	}
	return dst + " -> " + target + " " + string(r.State)
}

func readACLs(ctx context.Context, api EC2Reader, v *VPCView) error {
	p := ec2.NewDescribeNetworkAclsPaginator(api, &ec2.DescribeNetworkAclsInput{Filters: vpcFilter(v.VPC)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("DescribeNetworkAcls: %w", err)
		}
		for _, a := range page.NetworkAcls {
			av := ACLView{ID: aws.ToString(a.NetworkAclId), Default: aws.ToBool(a.IsDefault)}
			for _, as := range a.Associations {
				av.Subnets = append(av.Subnets, aws.ToString(as.SubnetId))
			}
			for _, e := range a.Entries {
				av.Entries = append(av.Entries, aclLine(e))
			}
			slices.Sort(av.Subnets)
			v.ACLs = append(v.ACLs, av)
		}
	}
	slices.SortFunc(v.ACLs, func(a, b ACLView) int { return strings.Compare(a.ID, b.ID) })
	return nil
}

// aclProtocols names the protocol numbers an ACL entry carries.
var aclProtocols = map[string]string{"-1": "all", "6": "tcp", "17": "udp", "1": "icmp"}

// aclLine renders an ACL entry: direction, rule number, action, protocol and ports, CIDR.
func aclLine(e types.NetworkAclEntry) string {
	dir := "in"
	if aws.ToBool(e.Egress) {
		dir = "out"
	}
	proto := aws.ToString(e.Protocol)
	if name, ok := aclProtocols[proto]; ok {
		proto = name
	}
	if e.PortRange != nil {
		proto += fmt.Sprintf(" %d-%d", aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To))
	}
	return fmt.Sprintf("%s %d %s %s %s", dir, aws.ToInt32(e.RuleNumber), e.RuleAction, proto, aws.ToString(e.CidrBlock))
}

func readNATs(ctx context.Context, api EC2Reader, v *VPCView) error {
	p := ec2.NewDescribeNatGatewaysPaginator(api, &ec2.DescribeNatGatewaysInput{Filter: vpcFilter(v.VPC)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("DescribeNatGateways: %w", err)
		}
		for _, n := range page.NatGateways {
			v.NATs = append(v.NATs, fmt.Sprintf("%s in %s %s", aws.ToString(n.NatGatewayId), aws.ToString(n.SubnetId), n.State))
		}
	}
	slices.Sort(v.NATs)
	return nil
}

// Write prints the view for a person: one block per kind, ids first.
func (v VPCView) Write(w io.Writer) {
	servers := "AmazonProvidedDNS"
	if len(v.DHCPServers) > 0 {
		servers = strings.Join(v.DHCPServers, ", ")
	}
	fmt.Fprintf(w, "VPC %s %s  enableDnsSupport=%t enableDnsHostnames=%t  DNS servers: %s\n",
		v.VPC, v.CIDR, v.DNSSupport, v.DNSHostnames, servers)
	fmt.Fprintln(w, "subnets:")
	for _, s := range v.Subnets {
		fmt.Fprintf(w, "  %s  %-12s %s  %s\n", s.ID, s.CIDR, s.AZ, s.Name)
	}
	fmt.Fprintln(w, "endpoints:")
	for _, e := range v.Endpoints {
		fmt.Fprintf(w, "  %s  %-40s %-9s %s  private DNS %t\n", e.ID, e.Service, e.Type, e.State, e.PrivateDNS)
		if len(e.Subnets) > 0 {
			fmt.Fprintf(w, "      subnets %s  groups %s\n", strings.Join(e.Subnets, " "), strings.Join(e.Groups, " "))
		}
		if len(e.Tables) > 0 {
			fmt.Fprintf(w, "      route tables %s\n", strings.Join(e.Tables, " "))
		}
	}
	fmt.Fprintln(w, "security groups:")
	for _, g := range v.Groups {
		fmt.Fprintf(w, "  %s  %s\n", g.ID, g.Name)
		for _, r := range g.Rules {
			fmt.Fprintf(w, "      %s\n", r)
		}
	}
	fmt.Fprintln(w, "route tables:")
	for _, t := range v.RouteTables {
		main := ""
		if t.Main {
			main = " (main)"
		}
		fmt.Fprintf(w, "  %s%s  subnets %s\n", t.ID, main, strings.Join(t.Subnets, " "))
		for _, r := range t.Routes {
			fmt.Fprintf(w, "      %s\n", r)
		}
	}
	fmt.Fprintln(w, "network ACLs:")
	for _, a := range v.ACLs {
		def := ""
		if a.Default {
			def = " (default)"
		}
		fmt.Fprintf(w, "  %s%s  subnets %s\n", a.ID, def, strings.Join(a.Subnets, " "))
		for _, e := range a.Entries {
			fmt.Fprintf(w, "      %s\n", e)
		}
	}
	if len(v.NATs) > 0 {
		fmt.Fprintln(w, "NAT gateways:")
		for _, n := range v.NATs {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
}
