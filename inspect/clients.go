package inspect

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/networkfirewall"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
)

// EC2API is what inspect calls of EC2; *ec2.Client satisfies it. Every method is a Describe*:
// inspect only reads (taskdef/iam/inspect-readonly.json lists the actions).
type EC2API interface {
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeVpcAttribute(context.Context, *ec2.DescribeVpcAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeVpcAttributeOutput, error)
	DescribeDhcpOptions(context.Context, *ec2.DescribeDhcpOptionsInput, ...func(*ec2.Options)) (*ec2.DescribeDhcpOptionsOutput, error)
	DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	DescribeNetworkAcls(context.Context, *ec2.DescribeNetworkAclsInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	DescribeNetworkInterfaces(context.Context, *ec2.DescribeNetworkInterfacesInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	GetManagedPrefixListEntries(context.Context, *ec2.GetManagedPrefixListEntriesInput, ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
}

// ResolverAPI is what inspect calls of Route 53 Resolver; *route53resolver.Client satisfies it.
type ResolverAPI interface {
	ListResolverRuleAssociations(context.Context, *route53resolver.ListResolverRuleAssociationsInput, ...func(*route53resolver.Options)) (*route53resolver.ListResolverRuleAssociationsOutput, error)
	GetResolverRule(context.Context, *route53resolver.GetResolverRuleInput, ...func(*route53resolver.Options)) (*route53resolver.GetResolverRuleOutput, error)
}

// Clients are the AWS clients of one region and that region's name (service names and host
// names are derived from it). Resolver may be nil: resolver rules are then not read, and a
// finding says so.
type Clients struct {
	EC2      EC2API
	Resolver ResolverAPI
	Region   string

	// The readers of the VPC of 2026 (vpc2026.go); each may be nil: that kind is not read.
	DNSFirewall     DNSFirewallAPI     // Route 53 Resolver DNS Firewall
	Egress          EgressAPI          // NAT gateways' subnets, VPC Block Public Access (EC2)
	Route53         Route53API         // private hosted zones associated with the VPC
	NetworkFirewall NetworkFirewallAPI // AWS Network Firewall on the way out
}

// NewClients returns the clients inspect reads with, from cfg: one place that knows every API
// inspect calls.
func NewClients(cfg aws.Config) *Clients {
	e, r := ec2.NewFromConfig(cfg), route53resolver.NewFromConfig(cfg)
	return &Clients{EC2: e, Resolver: r, Region: cfg.Region,
		DNSFirewall: r, Egress: e, Route53: route53.NewFromConfig(cfg), NetworkFirewall: networkfirewall.NewFromConfig(cfg)}
}

var (
	_ EC2API      = (*ec2.Client)(nil)
	_ ResolverAPI = (*route53resolver.Client)(nil)
)

// Actions are the IAM actions inspect needs, one per method of its client interfaces; the
// read-only policy taskdef/iam/inspect-readonly.json allows exactly these (a test of each
// package holds it so).
var Actions = []string{
	"ec2:DescribeDhcpOptions",
	"ec2:DescribeManagedPrefixLists",
	"ec2:DescribeNatGateways",
	"ec2:DescribeNetworkAcls",
	"ec2:DescribeNetworkInterfaces",
	"ec2:DescribeRouteTables",
	"ec2:DescribeSecurityGroups",
	"ec2:DescribeSubnets",
	"ec2:DescribeVpcAttribute",
	"ec2:DescribeVpcBlockPublicAccessExclusions",
	"ec2:DescribeVpcBlockPublicAccessOptions",
	"ec2:DescribeVpcEndpoints",
	"ec2:DescribeVpcs",
	"ec2:GetManagedPrefixListEntries",
	"network-firewall:DescribeFirewall",
	"network-firewall:DescribeFirewallPolicy",
	"network-firewall:DescribeRuleGroup",
	"network-firewall:ListFirewalls",
	"route53:ListHostedZonesByVPC",
	"route53resolver:GetFirewallConfig",
	"route53resolver:GetResolverRule",
	"route53resolver:ListFirewallDomains",
	"route53resolver:ListFirewallRuleGroupAssociations",
	"route53resolver:ListFirewallRules",
	"route53resolver:ListResolverRuleAssociations",
}
