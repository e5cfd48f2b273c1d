package inspect

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/networkfirewall"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
)

// The readers of "the VPC of 2026" (issue 19): Route 53 Resolver DNS Firewall, VPC Block Public
// Access, endpoints that live in a hub VPC, cross-region endpoints and AWS Network Firewall. Each
// is optional in Clients: a nil client is a kind not read, and the checks that need it are
// skipped (cmd/vpcprobe sets them all).

// DNSFirewallAPI is what inspect calls of Route 53 Resolver DNS Firewall; *route53resolver.Client
// satisfies it.
type DNSFirewallAPI interface {
	ListFirewallRuleGroupAssociations(context.Context, *route53resolver.ListFirewallRuleGroupAssociationsInput, ...func(*route53resolver.Options)) (*route53resolver.ListFirewallRuleGroupAssociationsOutput, error)
	ListFirewallRules(context.Context, *route53resolver.ListFirewallRulesInput, ...func(*route53resolver.Options)) (*route53resolver.ListFirewallRulesOutput, error)
	ListFirewallDomains(context.Context, *route53resolver.ListFirewallDomainsInput, ...func(*route53resolver.Options)) (*route53resolver.ListFirewallDomainsOutput, error)
	GetFirewallConfig(context.Context, *route53resolver.GetFirewallConfigInput, ...func(*route53resolver.Options)) (*route53resolver.GetFirewallConfigOutput, error)
}

// EgressAPI is what inspect calls of EC2 to follow the way out of a subnet beyond its route
// table: the NAT gateways' subnets and VPC Block Public Access; *ec2.Client satisfies it.
type EgressAPI interface {
	DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error)
	DescribeVpcBlockPublicAccessOptions(context.Context, *ec2.DescribeVpcBlockPublicAccessOptionsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcBlockPublicAccessOptionsOutput, error)
	DescribeVpcBlockPublicAccessExclusions(context.Context, *ec2.DescribeVpcBlockPublicAccessExclusionsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcBlockPublicAccessExclusionsOutput, error)
}

// Route53API is what inspect calls of Route 53: the private hosted zones associated with the VPC
// (a hub's zones shared across accounts among them); *route53.Client satisfies it.
type Route53API interface {
	ListHostedZonesByVPC(context.Context, *route53.ListHostedZonesByVPCInput, ...func(*route53.Options)) (*route53.ListHostedZonesByVPCOutput, error)
}

// NetworkFirewallAPI is what inspect calls of AWS Network Firewall: the firewalls whose endpoints
// the subnet's way out crosses, their policies and stateful domain lists;
// *networkfirewall.Client satisfies it.
type NetworkFirewallAPI interface {
	ListFirewalls(context.Context, *networkfirewall.ListFirewallsInput, ...func(*networkfirewall.Options)) (*networkfirewall.ListFirewallsOutput, error)
	DescribeFirewall(context.Context, *networkfirewall.DescribeFirewallInput, ...func(*networkfirewall.Options)) (*networkfirewall.DescribeFirewallOutput, error)
	DescribeFirewallPolicy(context.Context, *networkfirewall.DescribeFirewallPolicyInput, ...func(*networkfirewall.Options)) (*networkfirewall.DescribeFirewallPolicyOutput, error)
	DescribeRuleGroup(context.Context, *networkfirewall.DescribeRuleGroupInput, ...func(*networkfirewall.Options)) (*networkfirewall.DescribeRuleGroupOutput, error)
}

var (
	_ DNSFirewallAPI     = (*route53resolver.Client)(nil)
	_ EgressAPI          = (*ec2.Client)(nil)
	_ Route53API         = (*route53.Client)(nil)
	_ NetworkFirewallAPI = (*networkfirewall.Client)(nil)
)

// extra is what the 2026 readers keep of a VPC. A nil pointer or false "read" means not read.
type extra struct {
	fw        *dnsFirewall
	egress    *egress
	zones     []hostedZone
	zonesRead bool
	hub       *hub
	nfw       *netFirewalls
}

// read2026 reads what the optional clients of c can read of v, after readVPC's own kinds (it
// needs the route tables and endpoints). A failed kind is recorded in v.unread.
func (v *vpc) read2026(ctx context.Context, c Clients) {
	if c.DNSFirewall != nil {
		v.x.fw = readDNSFirewall(ctx, c.DNSFirewall, v)
	}
	if c.Egress != nil {
		v.x.egress = readEgress(ctx, c.Egress, v)
	}
	if c.Route53 != nil {
		v.readZones(ctx, c.Route53)
	}
	if v.needsHub() {
		v.x.hub = readHub(ctx, c.EC2, v)
	}
	if c.NetworkFirewall != nil {
		v.x.nfw = readNetFirewalls(ctx, c.NetworkFirewall, v)
	}
}

// check2026 runs the 2026 rules for one target, after the others (some of them sharpen the
// severity of what the others found: Block Public Access turns a NAT path into no path).
func (c *check) check2026() {
	c.dnsFirewall()
	c.blockPublicAccess()
	c.hubEndpoints()
	c.crossRegion()
	c.networkFirewall()
}
