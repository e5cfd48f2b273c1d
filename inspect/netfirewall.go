package inspect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/networkfirewall"
	nftypes "github.com/aws/aws-sdk-go-v2/service/networkfirewall/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Finding codes of AWS Network Firewall (and other firewall appliances) on the way out.
const (
	CodeNFWBlocks      = "network-firewall-blocks-domain"
	CodeNFWUnseen      = "network-firewall-unseen"
	CodeNFWUnevaluated = "network-firewall-rules-unevaluated"
)

// netFirewalls are the firewalls whose endpoints the VPC's default routes lead to.
type netFirewalls struct {
	byEndpoint map[string]*netFirewall // vpce-… → its firewall
	listed     bool                    // ListFirewalls answered: an endpoint not in byEndpoint is not this account's firewall
}

// netFirewall is one firewall and what its policy says of TLS by domain name.
type netFirewall struct {
	name, arn, policyArn string
	policyRead           bool
	strict               bool // STRICT_ORDER: rule groups by priority, then the default actions
	defaultDrop          string
	groups               []nfGroup
	unread               []string // stateful rule groups that could not be read
}

// nfGroup is one stateful rule group of a firewall policy.
type nfGroup struct {
	name, arn string
	priority  int32
	list      *nftypes.RulesSourceList // nil: not a domain list (Suricata or 5-tuple rules)
}

// firewallEndpoints returns the vpce-… targets of the VPC's default routes that are not the
// VPC's own gateway endpoints: firewall endpoints (Network Firewall, Gateway Load Balancer).
func (v *vpc) firewallEndpoints() []string {
	var out []string
	for _, t := range v.tables {
		for _, r := range t.Routes {
			via := target(r)
			if aws.ToString(r.DestinationCidrBlock) != "0.0.0.0/0" || !strings.HasPrefix(via, "vpce-") || slices.Contains(out, via) {
				continue
			}
			if slices.ContainsFunc(v.endpoints, func(e ec2types.VpcEndpoint) bool {
				return aws.ToString(e.VpcEndpointId) == via && strings.EqualFold(string(e.VpcEndpointType), "gateway")
			}) {
				continue
			}
			out = append(out, via)
		}
	}
	return out
}

// readNetFirewalls reads, when a default route of the VPC leads to a firewall endpoint, the
// account's firewalls in the region (ListFirewalls, DescribeFirewall: their endpoints per zone),
// and for those whose endpoint is on a route their policy (DescribeFirewallPolicy) and stateful
// rule groups (DescribeRuleGroup). nil: no route leads to a firewall endpoint.
func readNetFirewalls(ctx context.Context, api NetworkFirewallAPI, v *vpc) *netFirewalls {
	eps := v.firewallEndpoints()
	if len(eps) == 0 {
		return nil
	}
	fail := func(kind, action string, err error) { v.unread = append(v.unread, classify(kind, action, err)) }
	nf := &netFirewalls{byEndpoint: map[string]*netFirewall{}}
	var arns []string
	p := networkfirewall.NewListFirewallsPaginator(api, &networkfirewall.ListFirewallsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			fail("Network Firewall firewalls", "network-firewall:ListFirewalls", err)
			return nf
		}
		for _, f := range out.Firewalls {
			arns = append(arns, aws.ToString(f.FirewallArn))
		}
	}
	nf.listed = true
	for _, arn := range arns {
		out, err := api.DescribeFirewall(ctx, &networkfirewall.DescribeFirewallInput{FirewallArn: aws.String(arn)})
		if err != nil {
			fail("Network Firewall firewall "+arn, "network-firewall:DescribeFirewall", err)
			continue
		}
		if out.Firewall == nil || out.FirewallStatus == nil {
			continue
		}
		fw := &netFirewall{name: aws.ToString(out.Firewall.FirewallName), arn: arn, policyArn: aws.ToString(out.Firewall.FirewallPolicyArn)}
		onPath := false
		for _, st := range out.FirewallStatus.SyncStates {
			if st.Attachment == nil {
				continue
			}
			if id := aws.ToString(st.Attachment.EndpointId); slices.Contains(eps, id) {
				nf.byEndpoint[id] = fw
				onPath = true
			}
		}
		if onPath {
			fw.readPolicy(ctx, api, fail)
		}
	}
	return nf
}

// readPolicy reads the firewall's policy and its stateful rule groups.
func (fw *netFirewall) readPolicy(ctx context.Context, api NetworkFirewallAPI, fail func(kind, action string, err error)) {
	out, err := api.DescribeFirewallPolicy(ctx, &networkfirewall.DescribeFirewallPolicyInput{FirewallPolicyArn: aws.String(fw.policyArn)})
	if err != nil {
		fail("Network Firewall policy "+fw.policyArn, "network-firewall:DescribeFirewallPolicy", err)
		return
	}
	pol := out.FirewallPolicy
	if pol == nil {
		return
	}
	fw.policyRead = true
	fw.strict = pol.StatefulEngineOptions != nil && pol.StatefulEngineOptions.RuleOrder == nftypes.RuleOrderStrictOrder
	for _, a := range pol.StatefulDefaultActions {
		if a == "aws:drop_strict" || a == "aws:drop_established" {
			fw.defaultDrop = a
		}
	}
	for _, ref := range pol.StatefulRuleGroupReferences {
		arn := aws.ToString(ref.ResourceArn)
		g, err := api.DescribeRuleGroup(ctx, &networkfirewall.DescribeRuleGroupInput{RuleGroupArn: aws.String(arn), Type: nftypes.RuleGroupTypeStateful})
		if err != nil {
			fw.unread = append(fw.unread, arn)
			fail("Network Firewall rule group "+arn, "network-firewall:DescribeRuleGroup", err)
			continue
		}
		ng := nfGroup{arn: arn, name: arn[strings.LastIndex(arn, "/")+1:], priority: aws.ToInt32(ref.Priority)}
		if g.RuleGroupResponse != nil {
			ng.name = cmpOr(aws.ToString(g.RuleGroupResponse.RuleGroupName), ng.name)
		}
		if g.RuleGroup != nil && g.RuleGroup.RulesSource != nil {
			ng.list = g.RuleGroup.RulesSource.RulesSourceList
		}
		fw.groups = append(fw.groups, ng)
	}
	slices.SortStableFunc(fw.groups, func(a, b nfGroup) int { return cmp.Compare(a.priority, b.priority) })
}

// nfTargetMatches reports whether a domain list target matches host: "abc.example.com" matches
// only itself; ".example.com" matches example.com and every subdomain (API reference,
// RulesSourceList.Targets).
func nfTargetMatches(target, host string) bool {
	target, host = strings.ToLower(strings.TrimSpace(target)), strings.ToLower(host)
	if strings.HasPrefix(target, ".") {
		return host == target[1:] || strings.HasSuffix(host, target)
	}
	return target == host
}

// sni reports whether the list inspects HTTPS (TLS_SNI): HTTP_HOST lists say nothing of TLS.
func sni(l *nftypes.RulesSourceList) bool {
	return l != nil && slices.Contains(l.TargetTypes, nftypes.TargetTypeTlsSni)
}

// nfVerdict is what the firewall does with TLS to one host.
type nfVerdict struct {
	blocked bool
	by      string // the rule group (or default action) that drops it
	why     string
	unknown []string // rule groups that are not domain lists, before any decision
}

// verdict evaluates TLS to host against the firewall's domain lists. In the default action order
// every pass rule comes before every drop rule, so a host on any allow list passes; otherwise a
// deny or reject list naming it drops it, and an allow list that does not name it drops it (for
// ALLOWLIST "traffic of the specified protocol type that doesn't match the domain specifications is
// denied", Network Firewall developer guide, domain list rule groups). In strict order the groups
// decide by priority, then the policy's default action.
func (fw *netFirewall) verdict(host string) nfVerdict {
	var v nfVerdict
	matches := func(l *nftypes.RulesSourceList) bool {
		return slices.ContainsFunc(l.Targets, func(t string) bool { return nfTargetMatches(t, host) })
	}
	if !fw.strict {
		var firstAllow, deny *nfGroup
		for i := range fw.groups {
			g := &fw.groups[i]
			switch {
			case g.list == nil:
				v.unknown = append(v.unknown, g.name)
			case !sni(g.list):
			case g.list.GeneratedRulesType == nftypes.GeneratedRulesTypeAllowlist:
				if matches(g.list) {
					return nfVerdict{}
				}
				if firstAllow == nil {
					firstAllow = g
				}
			case g.list.GeneratedRulesType == nftypes.GeneratedRulesTypeDenylist || g.list.GeneratedRulesType == nftypes.GeneratedRulesTypeRejectlist:
				if deny == nil && matches(g.list) {
					deny = g
				}
			}
		}
		switch {
		case deny != nil:
			return nfVerdict{blocked: true, by: deny.name, why: fmt.Sprintf("its %s rule group %s lists it", deny.list.GeneratedRulesType, deny.name)}
		case firstAllow != nil:
			return nfVerdict{blocked: true, by: firstAllow.name, why: fmt.Sprintf("its ALLOWLIST rule group %s does not list it (%s), and an allow list drops the TLS it does not name", firstAllow.name, targets(firstAllow.list))}
		}
		return v
	}
	for _, g := range fw.groups {
		switch {
		case g.list == nil:
			v.unknown = append(v.unknown, g.name)
		case !sni(g.list), g.list.GeneratedRulesType == nftypes.GeneratedRulesTypeAlertlist:
		case g.list.GeneratedRulesType == nftypes.GeneratedRulesTypeAllowlist:
			if matches(g.list) {
				return nfVerdict{unknown: v.unknown}
			}
			return nfVerdict{blocked: true, by: g.name, unknown: v.unknown, why: fmt.Sprintf("its ALLOWLIST rule group %s (strict order, priority %d) does not list it (%s)", g.name, g.priority, targets(g.list))}
		default:
			if matches(g.list) {
				return nfVerdict{blocked: true, by: g.name, unknown: v.unknown, why: fmt.Sprintf("its %s rule group %s (strict order, priority %d) lists it", g.list.GeneratedRulesType, g.name, g.priority)}
			}
		}
	}
	if fw.defaultDrop != "" {
		return nfVerdict{blocked: true, by: fw.defaultDrop, unknown: v.unknown, why: fmt.Sprintf("no rule group passes it and the policy's default action is %s", fw.defaultDrop)}
	}
	return v
}

func targets(l *nftypes.RulesSourceList) string {
	t := l.Targets
	if len(t) > 6 {
		return strings.Join(t[:6], ", ") + fmt.Sprintf(" and %d more", len(t)-6)
	}
	return cmpOr(strings.Join(t, ", "), "no targets")
}

// egressHosts are the services whose traffic takes the subnet's way out, not an endpoint of this
// VPC, with the host each connects to: interface services without an endpoint here, S3 without a
// gateway endpoint on the table, and the other regions' hosts no cross-region endpoint serves.
func (c *check) egressHosts() (keys, hosts []string) {
	t, _ := c.v.tableOf(c.sub.id)
	for _, s := range c.services {
		if s.Gateway {
			if hasRoute(t, c.v.s3List, "") || slices.ContainsFunc(c.v.endpoints, func(e ec2types.VpcEndpoint) bool {
				return strings.EqualFold(string(e.VpcEndpointType), "gateway") && slices.Contains(e.RouteTableIds, aws.ToString(t.RouteTableId))
			}) {
				continue
			}
		} else if eps := c.interfaceEndpoints(s); len(eps) > 0 && aws.ToBool(eps[0].PrivateDnsEnabled) {
			continue
		}
		keys, hosts = append(keys, s.Key), append(hosts, s.Host(c.v.region, c.account()))
	}
	var regions []string
	for r := range c.other {
		regions = append(regions, r)
	}
	slices.Sort(regions) // one order whatever the map's
	for _, region := range regions {
		for _, s := range c.other[region] {
			if s.Gateway || s.Key == "ecr.dkr" {
				if !slices.Contains(hosts, layerHost(region)) {
					keys, hosts = append(keys, "s3"), append(hosts, layerHost(region))
				}
			}
			if s.Gateway {
				continue
			}
			if e, ok := c.crossRegionEndpoint(s, region); ok && aws.ToBool(e.PrivateDnsEnabled) {
				continue
			}
			keys, hosts = append(keys, s.Key), append(hosts, s.Host(region, c.account()))
		}
	}
	return keys, hosts
}

// wayOutEndpoint returns the firewall endpoint the subnet's traffic to the internet crosses: its
// own default route's vpce-…, else the default route of the NAT gateway's subnet, and the table
// that holds that route.
func (c *check) wayOutEndpoint() (string, string) {
	if strings.HasPrefix(c.out.via, "vpce-") {
		return c.out.via, c.out.table
	}
	e := c.v.x.egress
	if !strings.HasPrefix(c.out.via, "nat-") || e == nil || e.nats == nil {
		return "", ""
	}
	t, ok := c.v.tableOf(e.nats[c.out.via])
	if !ok {
		return "", ""
	}
	for _, r := range t.Routes {
		if via := target(r); aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" && strings.HasPrefix(via, "vpce-") {
			return via, aws.ToString(t.RouteTableId)
		}
	}
	return "", ""
}

// networkFirewall names, for every host the task reaches through its way out, the Network
// Firewall rule group that drops its TLS; says when the way out crosses a firewall endpoint that
// could not be read; and, for a transit gateway route, that an inspection VPC beyond it is not
// visible from here.
func (c *check) networkFirewall() {
	keys, hosts := c.egressHosts()
	if len(hosts) == 0 {
		return
	}
	if c.out.kind == exitCentral && c.out.via != "" {
		c.add(Finding{Services: uniq(keys), Severity: Info, Code: CodeNFWUnseen, Resources: nonEmpty(c.out.via, c.out.table),
			Diagnosis:   fmt.Sprintf("traffic without an endpoint here (%s) leaves through %s: if it reaches the internet through an inspection VPC, that VPC's firewall is not visible from this account and its domain lists may drop these names", strings.Join(hosts, ", "), c.out.via),
			Remediation: fmt.Sprintf("ask the network team whether the inspection firewall's allow list has %s; the layer bucket %s and the registry host are the names usually missing", strings.Join(hosts, ", "), catalogue.LayerBucket(c.v.region))})
		return
	}
	vpce, rtb := c.wayOutEndpoint()
	if vpce == "" {
		return
	}
	var fw *netFirewall
	if nf := c.v.x.nfw; nf != nil {
		fw = nf.byEndpoint[vpce]
	}
	if fw == nil || !fw.policyRead {
		why := "Network Firewall was not read"
		switch {
		case fw != nil:
			why = "its firewall " + fw.name + "'s policy could not be read"
		case c.v.x.nfw != nil && c.v.x.nfw.listed:
			why = "no firewall of this account has it (another account's firewall, or a Gateway Load Balancer appliance)"
		case c.v.x.nfw != nil:
			why = "the account's firewalls could not be listed"
		}
		c.add(Finding{Services: uniq(keys), Severity: Warn, Code: CodeNFWUnseen, Resources: nonEmpty(vpce, rtb),
			Diagnosis:   fmt.Sprintf("the way out (%s) crosses firewall endpoint %s, whose rules inspect could not see: %s; a domain allow list there without %s breaks what DNS and routes say works", rtb, vpce, why, strings.Join(hosts, ", ")),
			Remediation: fmt.Sprintf("check the firewall behind %s allows TLS (SNI) to %s", vpce, strings.Join(hosts, ", "))})
		return
	}
	var unknown []string
	for i, host := range hosts {
		v := fw.verdict(host)
		for _, u := range v.unknown {
			if !slices.Contains(unknown, u) {
				unknown = append(unknown, u)
			}
		}
		if !v.blocked {
			continue
		}
		c.add(Finding{Service: keys[i], Severity: Fail, Code: CodeNFWBlocks, Resources: nonEmpty(fw.name, v.by, vpce),
			Diagnosis: fmt.Sprintf("AWS Network Firewall %s, whose endpoint %s is on the way out (%s), drops TLS to %s: %s; DNS and routes say it works, and the connection is dropped after the handshake starts",
				fw.name, vpce, rtb, host, v.why),
			Remediation: fmt.Sprintf("add %s to the allow list of rule group %s (a domain list target; %q covers every %s host)", host, v.by, "."+catalogue.PartitionOf(c.v.region).DNSSuffix, catalogue.PartitionOf(c.v.region).DNSSuffix)})
	}
	if len(unknown)+len(fw.unread) > 0 {
		c.add(Finding{Services: uniq(keys), Severity: Warn, Code: CodeNFWUnevaluated, Resources: append([]string{fw.name}, append(unknown, fw.unread...)...),
			Diagnosis:   fmt.Sprintf("firewall %s on the way out has stateful rule groups that are not domain lists (Suricata or 5-tuple rules: %s) or could not be read (%s): they were not evaluated for %s", fw.name, cmpOr(strings.Join(unknown, ", "), "none"), cmpOr(strings.Join(fw.unread, ", "), "none"), strings.Join(hosts, ", ")),
			Remediation: "check those rule groups for rules dropping TLS to these names"})
	}
}

func uniq(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
