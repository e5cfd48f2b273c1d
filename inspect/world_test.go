package inspect

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	rrtypes "github.com/aws/aws-sdk-go-v2/service/route53resolver/types"

	"github.com/vpcprobe/vpcprobe/internal/moto"
)

const region = moto.Region

// counter is an http.RoundTripper that counts the requests the SDK sends.
type counter struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// env is one moto_server and clients for it: ec2 builds worlds, reader is the client inspect
// reads with, whose calls count counts.
type env struct {
	srv    *moto.Server
	ec2    *ec2.Client
	reader *ec2.Client
	rr     *route53resolver.Client
	count  *counter
	// rrEndpoint is the outbound Resolver endpoint every forward rule uses: moto allows few per
	// account.
	rrEndpoint *string
}

func newEnv(t *testing.T) *env {
	srv := moto.Start(t)
	cnt := &counter{next: http.DefaultTransport}
	// The builder's calls are not idempotent: a retry of a CreateSecurityGroup that moto did
	// carry out answers InvalidGroup.Duplicate and hides the first error. No retries.
	build := srv.Config(nil)
	build.RetryMaxAttempts = 1
	return &env{srv: srv, count: cnt,
		ec2:    ec2.NewFromConfig(build),
		reader: ec2.NewFromConfig(srv.Config(&http.Client{Transport: cnt})),
		rr:     route53resolver.NewFromConfig(srv.Config(nil))}
}

func (e *env) clients() Clients { return Clients{EC2: e.reader, Resolver: e.rr, Region: region} }

// world is a VPC built through the EC2 API: a task subnet (10.0.1.0/24, zone a) on its own route
// table, an endpoint subnet (10.0.2.0/24, zone a), the task's group and the endpoints' group.
type world struct {
	t                         *testing.T
	e                         *env
	ctx                       context.Context
	vpc, task, epSub, otherAZ string
	taskSG, epSG, rtb, s3List string
	endpoints                 map[string]string // service key → vpce-…
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// options shape the world before its endpoints exist.
type options struct {
	skip        []string        // services without an endpoint
	privateDNS  map[string]bool // service → PrivateDnsEnabled (default true)
	s3Policy    string          // the gateway endpoint's policy; empty: the default
	s3Table     bool            // put the gateway on a second route table, not the task's
	endpointSub string          // "other-az": interface endpoints only in zone b
	noIngress   bool            // the endpoints' group allows nothing in
	mainTable   bool            // the task subnet has no table of its own: the main table, with the gateway on it
}

// build makes the healthy VPC AWS documents for Fargate image pulls and logs (ecr.api, ecr.dkr,
// logs interface endpoints with private DNS, the S3 gateway on the task's table), edited by o.
func build(t *testing.T, e *env, o options) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, e: e, ctx: ctx, endpoints: map[string]string{}}
	c := e.ec2
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	w.must(err)
	w.vpc = aws.ToString(v.Vpc.VpcId)
	for _, attr := range []*ec2.ModifyVpcAttributeInput{
		{VpcId: v.Vpc.VpcId, EnableDnsSupport: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}},
		{VpcId: v.Vpc.VpcId, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}},
	} {
		_, err := c.ModifyVpcAttribute(ctx, attr)
		w.must(err)
	}
	w.task = w.subnet("10.0.1.0/24", region+"a")
	w.epSub = w.subnet("10.0.2.0/24", region+"a")
	w.otherAZ = w.subnet("10.0.3.0/24", region+"b")
	w.taskSG = w.group("task")
	w.epSG = w.group("endpoints")
	if !o.noIngress {
		_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(w.epSG),
			IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
				UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(w.taskSG)}}}}})
		w.must(err)
	}
	if o.mainTable {
		main, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{w.vpc}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
		w.must(err)
		w.rtb = aws.ToString(main.RouteTables[0].RouteTableId)
	} else {
		rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(w.vpc)})
		w.must(err)
		w.rtb = aws.ToString(rt.RouteTable.RouteTableId)
		_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(w.rtb), SubnetId: aws.String(w.task)})
		w.must(err)
	}
	pl, err := c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{Filters: []ec2types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{"com.amazonaws." + region + ".s3"}}}})
	w.must(err)
	w.s3List = aws.ToString(pl.PrefixLists[0].PrefixListId)

	epSub := w.epSub
	if o.endpointSub == "other-az" {
		epSub = w.otherAZ
	}
	for _, key := range []string{"ecr.api", "ecr.dkr", "logs"} {
		if contains(o.skip, key) {
			continue
		}
		dns := true
		if v, ok := o.privateDNS[key]; ok {
			dns = v
		}
		w.endpoints[key] = w.endpoint(&ec2.CreateVpcEndpointInput{VpcId: aws.String(w.vpc), ServiceName: aws.String("com.amazonaws." + region + "." + key),
			VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{epSub}, SecurityGroupIds: []string{w.epSG}, PrivateDnsEnabled: aws.Bool(dns)})
	}
	if !contains(o.skip, "s3") {
		table := w.rtb
		if o.s3Table {
			other, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(w.vpc)})
			w.must(err)
			table = aws.ToString(other.RouteTable.RouteTableId)
		}
		in := &ec2.CreateVpcEndpointInput{VpcId: aws.String(w.vpc), ServiceName: aws.String("com.amazonaws." + region + ".s3"),
			VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{table}}
		if o.s3Policy != "" {
			in.PolicyDocument = aws.String(o.s3Policy)
		}
		w.endpoints["s3"] = w.endpoint(in)
	}
	return w
}

func (w *world) subnet(cidr, az string) string {
	w.t.Helper()
	s, err := w.e.ec2.CreateSubnet(w.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(w.vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})
	w.must(err)
	return aws.ToString(s.Subnet.SubnetId)
}

func (w *world) group(name string) string {
	w.t.Helper()
	g, err := w.e.ec2.CreateSecurityGroup(w.ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(w.vpc), GroupName: aws.String(name), Description: aws.String(name)})
	w.must(err)
	return aws.ToString(g.GroupId)
}

func (w *world) endpoint(in *ec2.CreateVpcEndpointInput) string {
	w.t.Helper()
	out, err := w.e.ec2.CreateVpcEndpoint(w.ctx, in)
	w.must(err)
	return aws.ToString(out.VpcEndpoint.VpcEndpointId)
}

// igwRoute sends 0.0.0.0/0 of the task's table to a new internet gateway and returns its id.
func (w *world) igwRoute() string {
	c := w.e.ec2
	igw, err := c.CreateInternetGateway(w.ctx, &ec2.CreateInternetGatewayInput{})
	w.must(err)
	_, err = c.AttachInternetGateway(w.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(w.vpc)})
	w.must(err)
	_, err = c.CreateRoute(w.ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(w.rtb), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	w.must(err)
	return aws.ToString(igw.InternetGateway.InternetGatewayId)
}

// natRoute sends 0.0.0.0/0 of the task's table through a new NAT gateway and returns its id.
func (w *world) natRoute() string {
	c := w.e.ec2
	igw, err := c.CreateInternetGateway(w.ctx, &ec2.CreateInternetGatewayInput{})
	w.must(err)
	_, err = c.AttachInternetGateway(w.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(w.vpc)})
	w.must(err)
	eip, err := c.AllocateAddress(w.ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	w.must(err)
	nat, err := c.CreateNatGateway(w.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(w.otherAZ), AllocationId: eip.AllocationId})
	w.must(err)
	_, err = c.CreateRoute(w.ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(w.rtb), DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGateway.NatGatewayId})
	w.must(err)
	return aws.ToString(nat.NatGateway.NatGatewayId)
}

// taskACL gives the task subnet a new network ACL with entries and returns its id.
func (w *world) taskACL(entries ...*ec2.CreateNetworkAclEntryInput) string {
	return w.subnetACL(w.task, entries...)
}

// subnetACL gives subnet sub a new network ACL with entries and returns its id.
func (w *world) subnetACL(sub string, entries ...*ec2.CreateNetworkAclEntryInput) string {
	c := w.e.ec2
	acl, err := c.CreateNetworkAcl(w.ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(w.vpc)})
	w.must(err)
	id := acl.NetworkAcl.NetworkAclId
	for _, e := range entries {
		e.NetworkAclId = id
		_, err := c.CreateNetworkAclEntry(w.ctx, e)
		w.must(err)
	}
	acls, err := c.DescribeNetworkAcls(w.ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{sub}}}})
	w.must(err)
	for _, a := range acls.NetworkAcls {
		for _, as := range a.Associations {
			if aws.ToString(as.SubnetId) == sub {
				_, err := c.ReplaceNetworkAclAssociation(w.ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: as.NetworkAclAssociationId, NetworkAclId: id})
				w.must(err)
			}
		}
	}
	return aws.ToString(id)
}

func aclEntry(n int32, egress bool, action ec2types.RuleAction, cidr string, from, to int32) *ec2.CreateNetworkAclEntryInput {
	return &ec2.CreateNetworkAclEntryInput{RuleNumber: aws.Int32(n), Egress: aws.Bool(egress), RuleAction: action, CidrBlock: aws.String(cidr),
		Protocol: aws.String("6"), PortRange: &ec2types.PortRange{From: aws.Int32(from), To: aws.Int32(to)}}
}

// forwardRule associates a FORWARD rule for domain with the VPC, through an outbound resolver
// endpoint, and returns the rule's id.
func (w *world) forwardRule(domain string) string {
	if w.e.rrEndpoint == nil {
		ep, err := w.e.rr.CreateResolverEndpoint(w.ctx, &route53resolver.CreateResolverEndpointInput{CreatorRequestId: aws.String("ep-" + w.vpc),
			Direction: rrtypes.ResolverEndpointDirectionOutbound, SecurityGroupIds: []string{w.epSG},
			IpAddresses: []rrtypes.IpAddressRequest{{SubnetId: aws.String(w.epSub)}, {SubnetId: aws.String(w.otherAZ)}}})
		w.must(err)
		w.e.rrEndpoint = ep.ResolverEndpoint.Id
	}
	rule, err := w.e.rr.CreateResolverRule(w.ctx, &route53resolver.CreateResolverRuleInput{CreatorRequestId: aws.String("rule-" + w.vpc + domain),
		RuleType: rrtypes.RuleTypeOptionForward, DomainName: aws.String(domain), ResolverEndpointId: w.e.rrEndpoint,
		TargetIps: []rrtypes.TargetAddress{{Ip: aws.String("10.9.9.9"), Port: aws.Int32(53)}}})
	w.must(err)
	// A name: moto 5.2 sorts associations by name and fails (500) on two without one.
	_, err = w.e.rr.AssociateResolverRule(w.ctx, &route53resolver.AssociateResolverRuleInput{ResolverRuleId: rule.ResolverRule.Id, VPCId: aws.String(w.vpc),
		Name: aws.String("assoc-" + w.vpc)})
	w.must(err)
	return aws.ToString(rule.ResolverRule.Id)
}

// prefixList creates a customer-managed prefix list of cidrs and returns its id.
func (w *world) prefixList(cidrs ...string) string {
	var entries []ec2types.AddPrefixListEntry
	for _, c := range cidrs {
		entries = append(entries, ec2types.AddPrefixListEntry{Cidr: aws.String(c)})
	}
	pl, err := w.e.ec2.CreateManagedPrefixList(w.ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("tasks-" + w.vpc + cidrs[0]),
		AddressFamily: aws.String("IPv4"), MaxEntries: aws.Int32(10), Entries: entries})
	w.must(err)
	return aws.ToString(pl.PrefixList.PrefixListId)
}

// ingress adds an ingress rule to group.
func (w *world) ingress(group string, p ec2types.IpPermission) {
	_, err := w.e.ec2.AuthorizeSecurityGroupIngress(w.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group), IpPermissions: []ec2types.IpPermission{p}})
	w.must(err)
}

// ec2IngressFromList is a TCP 443 ingress permission from prefix list pl.
func ec2IngressFromList(pl string) ec2types.IpPermission {
	return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		PrefixListIds: []ec2types.PrefixListId{{PrefixListId: aws.String(pl)}}}
}
