package inspect

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/networkfirewall"
	nftypes "github.com/aws/aws-sdk-go-v2/service/networkfirewall/types"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	rrtypes "github.com/aws/aws-sdk-go-v2/service/route53resolver/types"
	"github.com/aws/smithy-go"
)

// In-memory fakes of the APIs moto 5.2 does not model: Route 53 Resolver DNS Firewall, VPC Block
// Public Access, and Network Firewall's policies and rule groups. They answer with the SDK's own
// output types, page as the real APIs do (NextToken), and require what the real APIs require of
// the calls inspect makes; what they answer is what each test builds from AWS's documentation.

// fakeDNSFirewall is DNS Firewall for one account: associations, rules by group, domains by list.
type fakeDNSFirewall struct {
	assocs   []rrtypes.FirewallRuleGroupAssociation
	rules    map[string][]rrtypes.FirewallRule
	domains  map[string][]string // a list absent here cannot be listed (as an AWS-managed list)
	failOpen map[string]rrtypes.FirewallFailOpenStatus
}

// pageSize makes every list answer in pages of two, so that inspect must follow NextToken.
const pageSize = 2

func page[T any](items []T, token *string) ([]T, *string) {
	start, _ := strconv.Atoi(aws.ToString(token))
	end := min(start+pageSize, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(strconv.Itoa(end))
	}
	return items[start:end], next
}

var errValidation = &smithy.GenericAPIError{Code: "ValidationException", Message: "1 validation error detected"}

func (f *fakeDNSFirewall) ListFirewallRuleGroupAssociations(_ context.Context, in *route53resolver.ListFirewallRuleGroupAssociationsInput, _ ...func(*route53resolver.Options)) (*route53resolver.ListFirewallRuleGroupAssociationsOutput, error) {
	if in.VpcId == nil { // inspect reads by VPC: without it this fake answers nothing useful
		return nil, fmt.Errorf("fake: ListFirewallRuleGroupAssociations without VpcId")
	}
	var mine []rrtypes.FirewallRuleGroupAssociation
	for _, a := range f.assocs {
		if aws.ToString(a.VpcId) == aws.ToString(in.VpcId) {
			mine = append(mine, a)
		}
	}
	items, next := page(mine, in.NextToken)
	return &route53resolver.ListFirewallRuleGroupAssociationsOutput{FirewallRuleGroupAssociations: items, NextToken: next}, nil
}

func (f *fakeDNSFirewall) ListFirewallRules(_ context.Context, in *route53resolver.ListFirewallRulesInput, _ ...func(*route53resolver.Options)) (*route53resolver.ListFirewallRulesOutput, error) {
	if in.FirewallRuleGroupId == nil {
		return nil, errValidation
	}
	items, next := page(f.rules[*in.FirewallRuleGroupId], in.NextToken)
	return &route53resolver.ListFirewallRulesOutput{FirewallRules: items, NextToken: next}, nil
}

func (f *fakeDNSFirewall) ListFirewallDomains(_ context.Context, in *route53resolver.ListFirewallDomainsInput, _ ...func(*route53resolver.Options)) (*route53resolver.ListFirewallDomainsOutput, error) {
	d, ok := f.domains[aws.ToString(in.FirewallDomainListId)]
	if !ok {
		return nil, errValidation
	}
	items, next := page(d, in.NextToken)
	return &route53resolver.ListFirewallDomainsOutput{Domains: items, NextToken: next}, nil
}

func (f *fakeDNSFirewall) GetFirewallConfig(_ context.Context, in *route53resolver.GetFirewallConfigInput, _ ...func(*route53resolver.Options)) (*route53resolver.GetFirewallConfigOutput, error) {
	// A VPC never configured answers the default: fail-open DISABLED (API reference, FirewallConfig).
	st := f.failOpen[aws.ToString(in.ResourceId)]
	if st == "" {
		st = rrtypes.FirewallFailOpenStatusDisabled
	}
	return &route53resolver.GetFirewallConfigOutput{FirewallConfig: &rrtypes.FirewallConfig{ResourceId: in.ResourceId, FirewallFailOpen: st}}, nil
}

// fwAssoc is an association of group with vpc at priority.
func fwAssoc(vpc, group string, priority int32) rrtypes.FirewallRuleGroupAssociation {
	return rrtypes.FirewallRuleGroupAssociation{Id: aws.String("rslvr-frgassoc-" + group), FirewallRuleGroupId: aws.String(group),
		VpcId: aws.String(vpc), Priority: aws.Int32(priority), Status: rrtypes.FirewallRuleGroupAssociationStatusComplete}
}

// fwRuleOf is a rule of priority on list with action (and, for BLOCK, response).
func fwRuleOf(name string, priority int32, list string, action rrtypes.Action, block rrtypes.BlockResponse) rrtypes.FirewallRule {
	r := rrtypes.FirewallRule{Name: aws.String(name), Priority: aws.Int32(priority), FirewallDomainListId: aws.String(list), Action: action}
	if action == rrtypes.ActionBlock {
		r.BlockResponse = block
	}
	if block == rrtypes.BlockResponseOverride {
		r.BlockOverrideDomain, r.BlockOverrideDnsType, r.BlockOverrideTtl = aws.String("walled-garden.example.com."), rrtypes.BlockOverrideDnsTypeCname, aws.Int32(60)
	}
	return r
}

// fakeEgress is EC2's Block Public Access options and exclusions in memory, with
// DescribeNatGateways from moto (which models NAT gateways, not Block Public Access).
type fakeEgress struct {
	nat        natReader
	options    ec2types.VpcBlockPublicAccessOptions
	exclusions []ec2types.VpcBlockPublicAccessExclusion
}

// natReader is the NAT gateway read of EgressAPI (moto's EC2 client satisfies it).
type natReader interface {
	DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error)
}

func (f *fakeEgress) DescribeNatGateways(ctx context.Context, in *ec2.DescribeNatGatewaysInput, o ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error) {
	return f.nat.DescribeNatGateways(ctx, in, o...)
}

func (f *fakeEgress) DescribeVpcBlockPublicAccessOptions(context.Context, *ec2.DescribeVpcBlockPublicAccessOptionsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcBlockPublicAccessOptionsOutput, error) {
	o := f.options
	return &ec2.DescribeVpcBlockPublicAccessOptionsOutput{VpcBlockPublicAccessOptions: &o}, nil
}

func (f *fakeEgress) DescribeVpcBlockPublicAccessExclusions(_ context.Context, in *ec2.DescribeVpcBlockPublicAccessExclusionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcBlockPublicAccessExclusionsOutput, error) {
	items, next := page(f.exclusions, in.NextToken)
	return &ec2.DescribeVpcBlockPublicAccessExclusionsOutput{VpcBlockPublicAccessExclusions: items, NextToken: next}, nil
}

// exclusion excludes resource (vpc-… or subnet-…) of account in region.
func exclusion(id, account, resource string, state ec2types.VpcBlockPublicAccessExclusionState) ec2types.VpcBlockPublicAccessExclusion {
	kind := "subnet"
	if len(resource) > 4 && resource[:4] == "vpc-" {
		kind = "vpc"
	}
	return ec2types.VpcBlockPublicAccessExclusion{ExclusionId: aws.String(id), InternetGatewayExclusionMode: ec2types.InternetGatewayExclusionModeAllowEgress,
		ResourceArn: aws.String("arn:aws:ec2:" + region + ":" + account + ":" + kind + "/" + resource), State: state}
}

// fakeNetworkFirewall is Network Firewall in memory: firewalls with their endpoints, policies
// and rule groups by ARN.
type fakeNetworkFirewall struct {
	firewalls []nfFake
	policies  map[string]nftypes.FirewallPolicy
	groups    map[string]nftypes.RuleGroup
	denied    bool // every call answers AccessDeniedException
}

type nfFake struct {
	name, policy string
	endpoints    map[string]string // zone → vpce-…
}

func nfARN(kind, name string) string {
	return "arn:aws:network-firewall:" + region + ":123456789012:" + kind + "/" + name
}

var errNFDenied = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}

func (f *fakeNetworkFirewall) ListFirewalls(_ context.Context, in *networkfirewall.ListFirewallsInput, _ ...func(*networkfirewall.Options)) (*networkfirewall.ListFirewallsOutput, error) {
	if f.denied {
		return nil, errNFDenied
	}
	var all []nftypes.FirewallMetadata
	for _, fw := range f.firewalls {
		all = append(all, nftypes.FirewallMetadata{FirewallName: aws.String(fw.name), FirewallArn: aws.String(nfARN("firewall", fw.name))})
	}
	items, next := page(all, in.NextToken)
	return &networkfirewall.ListFirewallsOutput{Firewalls: items, NextToken: next}, nil
}

func (f *fakeNetworkFirewall) DescribeFirewall(_ context.Context, in *networkfirewall.DescribeFirewallInput, _ ...func(*networkfirewall.Options)) (*networkfirewall.DescribeFirewallOutput, error) {
	i := slices.IndexFunc(f.firewalls, func(fw nfFake) bool { return nfARN("firewall", fw.name) == aws.ToString(in.FirewallArn) })
	if i < 0 {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no such firewall"}
	}
	fw := f.firewalls[i]
	st := map[string]nftypes.SyncState{}
	for az, ep := range fw.endpoints {
		st[az] = nftypes.SyncState{Attachment: &nftypes.Attachment{EndpointId: aws.String(ep), Status: nftypes.AttachmentStatusReady}}
	}
	return &networkfirewall.DescribeFirewallOutput{
		Firewall:       &nftypes.Firewall{FirewallName: aws.String(fw.name), FirewallArn: in.FirewallArn, FirewallPolicyArn: aws.String(nfARN("firewall-policy", fw.policy))},
		FirewallStatus: &nftypes.FirewallStatus{Status: nftypes.FirewallStatusValueReady, SyncStates: st}}, nil
}

func (f *fakeNetworkFirewall) DescribeFirewallPolicy(_ context.Context, in *networkfirewall.DescribeFirewallPolicyInput, _ ...func(*networkfirewall.Options)) (*networkfirewall.DescribeFirewallPolicyOutput, error) {
	p, ok := f.policies[aws.ToString(in.FirewallPolicyArn)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no such policy"}
	}
	return &networkfirewall.DescribeFirewallPolicyOutput{FirewallPolicy: &p}, nil
}

func (f *fakeNetworkFirewall) DescribeRuleGroup(_ context.Context, in *networkfirewall.DescribeRuleGroupInput, _ ...func(*networkfirewall.Options)) (*networkfirewall.DescribeRuleGroupOutput, error) {
	g, ok := f.groups[aws.ToString(in.RuleGroupArn)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no such rule group"}
	}
	arn := aws.ToString(in.RuleGroupArn)
	return &networkfirewall.DescribeRuleGroupOutput{RuleGroup: &g,
		RuleGroupResponse: &nftypes.RuleGroupResponse{RuleGroupArn: in.RuleGroupArn, RuleGroupName: aws.String(arn[len(nfARN("stateful-rulegroup", "")):])}}, nil
}

// domainList is a stateful domain list rule group inspecting TLS SNI.
func domainList(kind nftypes.GeneratedRulesType, targets ...string) nftypes.RuleGroup {
	return nftypes.RuleGroup{RulesSource: &nftypes.RulesSource{RulesSourceList: &nftypes.RulesSourceList{
		GeneratedRulesType: kind, TargetTypes: []nftypes.TargetType{nftypes.TargetTypeTlsSni, nftypes.TargetTypeHttpHost}, Targets: targets}}}
}
