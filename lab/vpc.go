package lab

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// The configuration side of the lab's VPC: the subnets a real VPC of the lab's shape has beyond
// the task's (plan.go), for the resources Describe creates through the EC2 API.
const (
	// AZB is the second availability zone: every interface endpoint has its second ENI there.
	AZB = "eu-west-1b"
	// EndpointSubnetB holds the endpoints' ENIs in AZB (10.0.2.5x in the lab's namespaces).
	EndpointSubnetB = "10.0.2.0/24"
	// ZoneDownSubnet, in AZB too, holds the AZB ENI of the endpoints of Network.ZoneDown. The lab
	// drops 443 to those ENIs only, and a network ACL applies to a whole subnet: modelling it on
	// EndpointSubnetB would cut every endpoint's second zone, which the live run never sees.
	ZoneDownSubnet = "10.0.4.0/24"
	// PublicSubnet holds the NAT gateway, with a default route to the internet gateway.
	PublicSubnet = "10.0.0.0/24"
)

// EC2API is the part of the EC2 API Describe calls; *ec2.Client is one.
type EC2API interface {
	CreateVpc(context.Context, *ec2.CreateVpcInput, ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error)
	ModifyVpcAttribute(context.Context, *ec2.ModifyVpcAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyVpcAttributeOutput, error)
	CreateSubnet(context.Context, *ec2.CreateSubnetInput, ...func(*ec2.Options)) (*ec2.CreateSubnetOutput, error)
	CreateRouteTable(context.Context, *ec2.CreateRouteTableInput, ...func(*ec2.Options)) (*ec2.CreateRouteTableOutput, error)
	AssociateRouteTable(context.Context, *ec2.AssociateRouteTableInput, ...func(*ec2.Options)) (*ec2.AssociateRouteTableOutput, error)
	CreateRoute(context.Context, *ec2.CreateRouteInput, ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error)
	CreateSecurityGroup(context.Context, *ec2.CreateSecurityGroupInput, ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	AuthorizeSecurityGroupEgress(context.Context, *ec2.AuthorizeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupEgress(context.Context, *ec2.RevokeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	CreateVpcEndpoint(context.Context, *ec2.CreateVpcEndpointInput, ...func(*ec2.Options)) (*ec2.CreateVpcEndpointOutput, error)
	CreateInternetGateway(context.Context, *ec2.CreateInternetGatewayInput, ...func(*ec2.Options)) (*ec2.CreateInternetGatewayOutput, error)
	AttachInternetGateway(context.Context, *ec2.AttachInternetGatewayInput, ...func(*ec2.Options)) (*ec2.AttachInternetGatewayOutput, error)
	AllocateAddress(context.Context, *ec2.AllocateAddressInput, ...func(*ec2.Options)) (*ec2.AllocateAddressOutput, error)
	CreateNatGateway(context.Context, *ec2.CreateNatGatewayInput, ...func(*ec2.Options)) (*ec2.CreateNatGatewayOutput, error)
	CreateDhcpOptions(context.Context, *ec2.CreateDhcpOptionsInput, ...func(*ec2.Options)) (*ec2.CreateDhcpOptionsOutput, error)
	AssociateDhcpOptions(context.Context, *ec2.AssociateDhcpOptionsInput, ...func(*ec2.Options)) (*ec2.AssociateDhcpOptionsOutput, error)
	CreateNetworkAcl(context.Context, *ec2.CreateNetworkAclInput, ...func(*ec2.Options)) (*ec2.CreateNetworkAclOutput, error)
	CreateNetworkAclEntry(context.Context, *ec2.CreateNetworkAclEntryInput, ...func(*ec2.Options)) (*ec2.CreateNetworkAclEntryOutput, error)
	DescribeNetworkAcls(context.Context, *ec2.DescribeNetworkAclsInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	ReplaceNetworkAclAssociation(context.Context, *ec2.ReplaceNetworkAclAssociationInput, ...func(*ec2.Options)) (*ec2.ReplaceNetworkAclAssociationOutput, error)
}

// VPCIDs are the ids of what Describe created: what inspect is pointed at (the task subnet and
// group) and what its findings must name.
type VPCIDs struct {
	VPC            string `json:"vpc"`
	TaskSubnet     string `json:"task_subnet"`                // TaskSubnet in AZ: the task's subnet, --subnet of inspect and launch
	EndpointSubnet string `json:"endpoint_subnet"`            // EndpointSubnetB in AZB
	ZoneDownSubnet string `json:"zone_down_subnet,omitempty"` // ZoneDownSubnet in AZB; "" when no endpoint has a zone down
	PublicSubnet   string `json:"public_subnet,omitempty"`    // PublicSubnet in AZ, with the NAT gateway; "" without NAT
	TaskGroup      string `json:"task_group"`                 // the task's security group, --security-groups of inspect and launch
	RouteTable     string `json:"route_table"`                // the task subnet's route table (explicitly associated)
	PrefixList     string `json:"prefix_list,omitempty"`      // the S3 prefix list (com.amazonaws.<region>.s3) the gateway route names
	NAT            string `json:"nat,omitempty"`              // the NAT gateway; "" without NAT
	InternetGW     string `json:"internet_gateway,omitempty"` // the internet gateway of the public subnet; "" without NAT
	DHCPOptions    string `json:"dhcp_options,omitempty"`     // the custom DNS option set; "" with the Amazon-provided resolver
	NetworkACL     string `json:"network_acl,omitempty"`      // the zone-down subnet's ACL denying 443; "" without ZoneDown

	// Endpoints are the VPC endpoint ids by catalogue key (s3 for the gateway endpoint), and
	// EndpointGroups the security group of each interface endpoint.
	Endpoints      map[string]string `json:"endpoints"`
	EndpointGroups map[string]string `json:"endpoint_groups"`

	// Unexplained lists what the Network does that is not in the configuration (see Describe):
	// a live failure caused by one of these is one inspect cannot explain, and the join must
	// say so. Empty when the configuration is the whole story.
	Unexplained []string `json:"unexplained,omitempty"`
}

// Describe creates through the EC2 API the resources a real VPC of n's shape has, so that what
// inspect reads from the configuration can be joined with what the probe measures in the lab:
//
//   - the VPC (VPCCIDR) with enableDnsSupport and enableDnsHostnames on;
//   - the task subnet (TaskSubnet, AZ) with a route table of its own (explicit association);
//     the endpoint subnet EndpointSubnetB in AZB, and ZoneDownSubnet in AZB when n.ZoneDown;
//   - the task's security group: outbound TCP 443 to the VPC, to the S3 prefix list with the
//     gateway, to 0.0.0.0/0 with a NAT (the lab forwards everything then), TCP and UDP 53 to the
//     custom DNS server when resolv.conf names it;
//   - per interface endpoint (catalogue order): a security group allowing TCP 443 in from the
//     task subnet, without that rule for n.SGNo443; the endpoint on the task subnet and the AZB
//     subnet (ZoneDownSubnet for n.ZoneDown), PrivateDnsEnabled but for n.PrivateDNSOff;
//   - the S3 gateway endpoint on the task subnet's route table (n.S3Gateway);
//   - an internet gateway, a public subnet with a default route to it, a NAT gateway there and
//     the task route table's 0.0.0.0/0 to it (n.NAT);
//   - a DHCP option set naming CustomDNSIP (DNSCustom, DNSCustomDead);
//   - a network ACL on ZoneDownSubnet denying TCP 443 in from the task subnet (n.ZoneDown),
//     as the lab drops 443 to those ENIs in AZB and nothing else.
//
// Not in the configuration: a live failure here is one inspect cannot explain. Describe lists
// those of n in VPCIDs.Unexplained:
//
//   - Silent endpoints: ENIs that accept TCP and never speak look like healthy endpoints;
//   - Egress: a firewall behind the NAT (rejecting, or intercepting TLS) is an appliance outside
//     the VPC's EC2 configuration; the route to the NAT is all the API shows;
//   - DNSCustomDead: the option set names the server; that it is gone is only seen live;
//   - Shadow: records of a hand-made private hosted zone live in Route 53's API, not EC2's. A
//     Route 53 Resolver forwarding rule would not be faithful (the lab's zone answers NOERROR
//     without records, a forward rule sends the query elsewhere), so Describe leaves it out.
//
// Resources are created in a fixed order and the ids differ run to run only as the API
// assigns them. Describe stops at the first failing call; what it created stays (the caller
// owns the API: a moto server is reset or dropped, not cleaned call by call).
func Describe(ctx context.Context, api EC2API, n Network) (VPCIDs, error) {
	if err := (Scenario{Name: "describe", Net: n}).validate(); err != nil {
		return VPCIDs{}, err
	}
	d := describer{ctx: ctx, api: api, n: n, ids: VPCIDs{
		Endpoints: map[string]string{}, EndpointGroups: map[string]string{}}}
	for _, step := range []func() error{
		d.vpc, d.subnets, d.routeTable, d.prefixList, d.taskGroup, d.interfaceEndpoints,
		d.s3Gateway, d.nat, d.dhcp, d.zoneDown,
	} {
		if err := step(); err != nil {
			return d.ids, fmt.Errorf("lab: describe the VPC: %w", err)
		}
	}
	d.ids.Unexplained = unexplained(n)
	return d.ids, nil
}

// unexplained lists the live behaviours of n that its EC2 configuration does not show.
func unexplained(n Network) []string {
	var out []string
	for _, k := range sortedByCatalogue(n.Silent) {
		out = append(out, k+": the endpoint's ENIs accept TCP and never speak")
	}
	if n.NAT {
		switch n.Egress {
		case EgressReject:
			out = append(out, "egress: a firewall behind the NAT gateway rejects HTTPS")
		case EgressIntercept:
			out = append(out, "egress: a firewall behind the NAT gateway intercepts TLS with its own CA")
		}
	}
	if n.DNS == DNSCustomDead {
		out = append(out, "dns: the custom DNS server "+CustomDNSIP+" the option set names does not answer")
	}
	for _, name := range sortedKeys(n.Shadow) {
		out = append(out, "dns: a private hosted zone shadows "+name)
	}
	return append(out, unexplained2026(n)...)
}

// sortedByCatalogue returns keys in catalogue order, so everything Describe does is in one order
// whatever order the scenario lists them in.
func sortedByCatalogue(keys []string) []string {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b string) int { return index(a) - index(b) })
	return out
}

// describer creates one VPC; each method is one step of Describe.
type describer struct {
	ctx context.Context
	api EC2API
	n   Network
	ids VPCIDs
}

// tags names a new resource the way a person reading the console would.
func tags(kind types.ResourceType, name string) []types.TagSpecification {
	return []types.TagSpecification{{ResourceType: kind, Tags: []types.Tag{
		{Key: aws.String("Name"), Value: aws.String("vpclab " + name)},
	}}}
}

func (d *describer) vpc() error {
	out, err := d.api.CreateVpc(d.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(VPCCIDR),
		TagSpecifications: tags(types.ResourceTypeVpc, "vpc")})
	if err != nil {
		return fmt.Errorf("CreateVpc: %w", err)
	}
	d.ids.VPC = aws.ToString(out.Vpc.VpcId)
	// One attribute per call: the API refuses both in one request.
	on := &types.AttributeBooleanValue{Value: aws.Bool(true)}
	for _, in := range []*ec2.ModifyVpcAttributeInput{
		{VpcId: out.Vpc.VpcId, EnableDnsSupport: on},
		{VpcId: out.Vpc.VpcId, EnableDnsHostnames: on},
	} {
		if _, err := d.api.ModifyVpcAttribute(d.ctx, in); err != nil {
			return fmt.Errorf("ModifyVpcAttribute: %w", err)
		}
	}
	return nil
}

func (d *describer) subnet(cidr, az, name string) (string, error) {
	out, err := d.api.CreateSubnet(d.ctx, &ec2.CreateSubnetInput{
		VpcId: aws.String(d.ids.VPC), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az),
		TagSpecifications: tags(types.ResourceTypeSubnet, name)})
	if err != nil {
		return "", fmt.Errorf("CreateSubnet %s: %w", cidr, err)
	}
	return aws.ToString(out.Subnet.SubnetId), nil
}

func (d *describer) subnets() (err error) {
	if d.ids.TaskSubnet, err = d.subnet(TaskSubnet, AZ, "task"); err != nil {
		return err
	}
	if d.ids.EndpointSubnet, err = d.subnet(EndpointSubnetB, AZB, "endpoints "+AZB); err != nil {
		return err
	}
	if len(d.n.ZoneDown) > 0 {
		d.ids.ZoneDownSubnet, err = d.subnet(ZoneDownSubnet, AZB, "endpoints "+AZB+" (zone down)")
	}
	return err
}

// routeTable gives the task subnet a table of its own, as most private subnets have; the main
// table keeps only the local route.
func (d *describer) routeTable() error {
	id, err := d.table(d.ids.TaskSubnet, "task")
	d.ids.RouteTable = id
	return err
}

func (d *describer) table(subnet, name string) (string, error) {
	out, err := d.api.CreateRouteTable(d.ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(d.ids.VPC),
		TagSpecifications: tags(types.ResourceTypeRouteTable, name)})
	if err != nil {
		return "", fmt.Errorf("CreateRouteTable: %w", err)
	}
	id := out.RouteTable.RouteTableId
	if _, err := d.api.AssociateRouteTable(d.ctx, &ec2.AssociateRouteTableInput{
		RouteTableId: id, SubnetId: aws.String(subnet)}); err != nil {
		return "", fmt.Errorf("AssociateRouteTable: %w", err)
	}
	return aws.ToString(id), nil
}

// prefixList finds S3's AWS-managed prefix list: the task's group names it when the gateway is
// there, as the gateway route does.
func (d *describer) prefixList() error {
	if !d.n.S3Gateway {
		return nil
	}
	s3, _ := catalogue.Lookup("s3")
	name := s3.EndpointService(Region)
	out, err := d.api.DescribeManagedPrefixLists(d.ctx, &ec2.DescribeManagedPrefixListsInput{
		Filters: []types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{name}}}})
	if err != nil {
		return fmt.Errorf("DescribeManagedPrefixLists: %w", err)
	}
	if len(out.PrefixLists) == 0 {
		return fmt.Errorf("DescribeManagedPrefixLists: no prefix list %s", name)
	}
	d.ids.PrefixList = aws.ToString(out.PrefixLists[0].PrefixListId)
	return nil
}

func (d *describer) group(name string) (string, error) {
	out, err := d.api.CreateSecurityGroup(d.ctx, &ec2.CreateSecurityGroupInput{
		VpcId: aws.String(d.ids.VPC), GroupName: aws.String("vpclab-" + name),
		Description:       aws.String("vpclab " + name),
		TagSpecifications: tags(types.ResourceTypeSecurityGroup, name)})
	if err != nil {
		return "", fmt.Errorf("CreateSecurityGroup %s: %w", name, err)
	}
	return aws.ToString(out.GroupId), nil
}

// perm is one permission: proto (tcp, udp) on one port.
func perm(proto string, port int32) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String(proto), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
}

func cidr(p types.IpPermission, c string) types.IpPermission {
	p.IpRanges = []types.IpRange{{CidrIp: aws.String(c)}}
	return p
}

// taskGroup creates the task's group. A new group allows all egress: that rule goes, and the
// task gets only what it needs, so an egress finding would be a real one.
func (d *describer) taskGroup() error {
	id, err := d.group("task")
	if err != nil {
		return err
	}
	d.ids.TaskGroup = id
	if _, err := d.api.RevokeSecurityGroupEgress(d.ctx, &ec2.RevokeSecurityGroupEgressInput{
		GroupId: aws.String(id), IpPermissions: []types.IpPermission{cidr(types.IpPermission{IpProtocol: aws.String("-1")}, "0.0.0.0/0")},
	}); err != nil {
		return fmt.Errorf("RevokeSecurityGroupEgress %s: %w", id, err)
	}
	egress := []types.IpPermission{cidr(perm("tcp", 443), VPCCIDR)}
	if d.n.S3Gateway {
		p := perm("tcp", 443)
		p.PrefixListIds = []types.PrefixListId{{PrefixListId: aws.String(d.ids.PrefixList)}}
		egress = append(egress, p)
	}
	if d.n.NAT {
		egress = append(egress, cidr(perm("tcp", 443), "0.0.0.0/0"))
	}
	if d.n.DNS != DNSVPC {
		// The Amazon-provided resolver is not subject to security groups; a DNS server on an
		// instance is.
		egress = append(egress, cidr(perm("udp", 53), CustomDNSIP+"/32"), cidr(perm("tcp", 53), CustomDNSIP+"/32"))
	}
	if _, err := d.api.AuthorizeSecurityGroupEgress(d.ctx, &ec2.AuthorizeSecurityGroupEgressInput{
		GroupId: aws.String(id), IpPermissions: egress}); err != nil {
		return fmt.Errorf("AuthorizeSecurityGroupEgress %s: %w", id, err)
	}
	return nil
}

func (d *describer) interfaceEndpoints() error {
	for _, k := range sortedByCatalogue(d.n.Endpoints) {
		sg, err := d.group("endpoint " + k)
		if err != nil {
			return err
		}
		d.ids.EndpointGroups[k] = sg
		if !slices.Contains(d.n.SGNo443, k) {
			if _, err := d.api.AuthorizeSecurityGroupIngress(d.ctx, &ec2.AuthorizeSecurityGroupIngressInput{
				GroupId: aws.String(sg), IpPermissions: []types.IpPermission{cidr(perm("tcp", 443), TaskSubnet)}}); err != nil {
				return fmt.Errorf("AuthorizeSecurityGroupIngress %s: %w", sg, err)
			}
		}
		second := d.ids.EndpointSubnet
		if slices.Contains(d.n.ZoneDown, k) {
			second = d.ids.ZoneDownSubnet
		}
		svc, _ := catalogue.Lookup(k)
		out, err := d.api.CreateVpcEndpoint(d.ctx, &ec2.CreateVpcEndpointInput{
			VpcId: aws.String(d.ids.VPC), VpcEndpointType: types.VpcEndpointTypeInterface,
			ServiceName:       aws.String(svc.EndpointService(Region)),
			SubnetIds:         []string{d.ids.TaskSubnet, second},
			SecurityGroupIds:  []string{sg},
			PrivateDnsEnabled: aws.Bool(!slices.Contains(d.n.PrivateDNSOff, k)),
			TagSpecifications: tags(types.ResourceTypeVpcEndpoint, k)})
		if err != nil {
			return fmt.Errorf("CreateVpcEndpoint %s: %w", svc.EndpointService(Region), err)
		}
		d.ids.Endpoints[k] = aws.ToString(out.VpcEndpoint.VpcEndpointId)
	}
	return nil
}

func (d *describer) s3Gateway() error {
	if !d.n.S3Gateway {
		return nil
	}
	s3, _ := catalogue.Lookup("s3")
	out, err := d.api.CreateVpcEndpoint(d.ctx, &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(d.ids.VPC), VpcEndpointType: types.VpcEndpointTypeGateway,
		ServiceName:       aws.String(s3.EndpointService(Region)),
		RouteTableIds:     []string{d.ids.RouteTable},
		TagSpecifications: tags(types.ResourceTypeVpcEndpoint, "s3")})
	if err != nil {
		return fmt.Errorf("CreateVpcEndpoint %s: %w", s3.EndpointService(Region), err)
	}
	d.ids.Endpoints["s3"] = aws.ToString(out.VpcEndpoint.VpcEndpointId)
	return nil
}

func (d *describer) nat() error {
	if !d.n.NAT {
		return nil
	}
	igw, err := d.api.CreateInternetGateway(d.ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: tags(types.ResourceTypeInternetGateway, "igw")})
	if err != nil {
		return fmt.Errorf("CreateInternetGateway: %w", err)
	}
	d.ids.InternetGW = aws.ToString(igw.InternetGateway.InternetGatewayId)
	if _, err := d.api.AttachInternetGateway(d.ctx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: aws.String(d.ids.InternetGW), VpcId: aws.String(d.ids.VPC)}); err != nil {
		return fmt.Errorf("AttachInternetGateway: %w", err)
	}
	if d.ids.PublicSubnet, err = d.subnet(PublicSubnet, AZ, "public"); err != nil {
		return err
	}
	public, err := d.table(d.ids.PublicSubnet, "public")
	if err != nil {
		return err
	}
	if _, err := d.api.CreateRoute(d.ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(public),
		DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(d.ids.InternetGW)}); err != nil {
		return fmt.Errorf("CreateRoute via %s: %w", d.ids.InternetGW, err)
	}
	eip, err := d.api.AllocateAddress(d.ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		return fmt.Errorf("AllocateAddress: %w", err)
	}
	nat, err := d.api.CreateNatGateway(d.ctx, &ec2.CreateNatGatewayInput{
		SubnetId: aws.String(d.ids.PublicSubnet), AllocationId: eip.AllocationId,
		TagSpecifications: tags(types.ResourceTypeNatgateway, "nat")})
	if err != nil {
		return fmt.Errorf("CreateNatGateway: %w", err)
	}
	d.ids.NAT = aws.ToString(nat.NatGateway.NatGatewayId)
	if _, err := d.api.CreateRoute(d.ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(d.ids.RouteTable),
		DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(d.ids.NAT)}); err != nil {
		return fmt.Errorf("CreateRoute via %s: %w", d.ids.NAT, err)
	}
	return nil
}

func (d *describer) dhcp() error {
	if d.n.DNS == DNSVPC {
		return nil
	}
	out, err := d.api.CreateDhcpOptions(d.ctx, &ec2.CreateDhcpOptionsInput{
		DhcpConfigurations: []types.NewDhcpConfiguration{
			{Key: aws.String("domain-name-servers"), Values: []string{CustomDNSIP}},
			{Key: aws.String("domain-name"), Values: []string{Region + ".compute.internal"}},
		},
		TagSpecifications: tags(types.ResourceTypeDhcpOptions, "custom dns")})
	if err != nil {
		return fmt.Errorf("CreateDhcpOptions: %w", err)
	}
	d.ids.DHCPOptions = aws.ToString(out.DhcpOptions.DhcpOptionsId)
	if _, err := d.api.AssociateDhcpOptions(d.ctx, &ec2.AssociateDhcpOptionsInput{
		DhcpOptionsId: aws.String(d.ids.DHCPOptions), VpcId: aws.String(d.ids.VPC)}); err != nil {
		return fmt.Errorf("AssociateDhcpOptions: %w", err)
	}
	return nil
}

// zoneDown puts a network ACL on ZoneDownSubnet that denies TCP 443 in from the task subnet
// and allows everything else, both ways, as the lab's filter does to those ENIs.
func (d *describer) zoneDown() error {
	if len(d.n.ZoneDown) == 0 {
		return nil
	}
	acl, err := d.api.CreateNetworkAcl(d.ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(d.ids.VPC),
		TagSpecifications: tags(types.ResourceTypeNetworkAcl, "zone down")})
	if err != nil {
		return fmt.Errorf("CreateNetworkAcl: %w", err)
	}
	d.ids.NetworkACL = aws.ToString(acl.NetworkAcl.NetworkAclId)
	for _, e := range []ec2.CreateNetworkAclEntryInput{
		{RuleNumber: aws.Int32(90), Egress: aws.Bool(false), Protocol: aws.String("6"), RuleAction: types.RuleActionDeny,
			CidrBlock: aws.String(TaskSubnet), PortRange: &types.PortRange{From: aws.Int32(443), To: aws.Int32(443)}},
		{RuleNumber: aws.Int32(100), Egress: aws.Bool(false), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow,
			CidrBlock: aws.String("0.0.0.0/0")},
		{RuleNumber: aws.Int32(100), Egress: aws.Bool(true), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow,
			CidrBlock: aws.String("0.0.0.0/0")},
	} {
		e.NetworkAclId = aws.String(d.ids.NetworkACL)
		if _, err := d.api.CreateNetworkAclEntry(d.ctx, &e); err != nil {
			return fmt.Errorf("CreateNetworkAclEntry %s %d: %w", d.ids.NetworkACL, aws.ToInt32(e.RuleNumber), err)
		}
	}
	// A subnet is always associated with one ACL (the default at first): replace that association.
	cur, err := d.api.DescribeNetworkAcls(d.ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("association.subnet-id"), Values: []string{d.ids.ZoneDownSubnet}}}})
	if err != nil {
		return fmt.Errorf("DescribeNetworkAcls: %w", err)
	}
	for _, a := range cur.NetworkAcls {
		for _, as := range a.Associations {
			if aws.ToString(as.SubnetId) != d.ids.ZoneDownSubnet {
				continue
			}
			if _, err := d.api.ReplaceNetworkAclAssociation(d.ctx, &ec2.ReplaceNetworkAclAssociationInput{
				AssociationId: as.NetworkAclAssociationId, NetworkAclId: aws.String(d.ids.NetworkACL)}); err != nil {
				return fmt.Errorf("ReplaceNetworkAclAssociation: %w", err)
			}
			return nil
		}
	}
	return fmt.Errorf("DescribeNetworkAcls: subnet %s has no ACL association", d.ids.ZoneDownSubnet)
}
