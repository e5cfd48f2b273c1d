package inspect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	rrtypes "github.com/aws/aws-sdk-go-v2/service/route53resolver/types"
)

// Finding codes of Route 53 Resolver DNS Firewall.
const (
	CodeDNSFirewallBlocks     = "dns-firewall-blocks"
	CodeDNSFirewallUnread     = "dns-firewall-unevaluated"
	CodeDNSFirewallFailClosed = "dns-firewall-fail-closed"
)

// dnsFirewall is the DNS Firewall of one VPC: its associated rule groups, in the order DNS
// Firewall evaluates them, and the VPC's fail-open setting.
type dnsFirewall struct {
	groups   []fwGroup
	failOpen rrtypes.FirewallFailOpenStatus // "" when not read
}

// fwGroup is one rule group associated with the VPC.
type fwGroup struct {
	id, association, name string
	priority              int32 // the association's priority: lower is evaluated first
	rules                 []fwRule
	rulesRead             bool
}

// fwRule is one rule of a rule group, with the domains of its domain list when they could be read.
type fwRule struct {
	name        string
	priority    int32
	action      rrtypes.Action
	block       rrtypes.BlockResponse
	override    string // BLOCK OVERRIDE: the CNAME target answered instead
	listID      string
	domains     []string
	domainsRead bool
	threat      string // a DNS Firewall Advanced rule (DGA, DNS_TUNNELING): no domain list
	qtype       string // the query type the rule is limited to; "" for every type
}

// readDNSFirewall reads the rule groups associated with v (ListFirewallRuleGroupAssociations by
// VPC), each group's rules (ListFirewallRules), each domain list once (ListFirewallDomains) and,
// when a group is associated, the VPC's fail-open setting (GetFirewallConfig). nil: the
// associations could not be read (v.unread says why).
func readDNSFirewall(ctx context.Context, api DNSFirewallAPI, v *vpc) *dnsFirewall {
	fail := func(kind, action string, err error) { v.unread = append(v.unread, classify(kind, action, err)) }
	fw := &dnsFirewall{}
	p := route53resolver.NewListFirewallRuleGroupAssociationsPaginator(api, &route53resolver.ListFirewallRuleGroupAssociationsInput{VpcId: aws.String(v.id)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			fail("DNS Firewall rule group associations", "route53resolver:ListFirewallRuleGroupAssociations", err)
			return nil
		}
		for _, a := range out.FirewallRuleGroupAssociations {
			if aws.ToString(a.VpcId) != v.id || a.Status == rrtypes.FirewallRuleGroupAssociationStatusDeleting {
				continue
			}
			fw.groups = append(fw.groups, fwGroup{id: aws.ToString(a.FirewallRuleGroupId), association: aws.ToString(a.Id),
				name: aws.ToString(a.Name), priority: aws.ToInt32(a.Priority)})
		}
	}
	// DNS Firewall evaluates the associated rule groups by priority, lowest first, and the rules
	// of a group likewise (Route 53 developer guide, "DNS Firewall rule groups and rules";
	// FirewallRule.Priority in the API reference).
	slices.SortStableFunc(fw.groups, func(a, b fwGroup) int { return cmp.Compare(a.priority, b.priority) })
	lists := map[string][]string{}
	unreadable := map[string]bool{}
	for i := range fw.groups {
		g := &fw.groups[i]
		rp := route53resolver.NewListFirewallRulesPaginator(api, &route53resolver.ListFirewallRulesInput{FirewallRuleGroupId: aws.String(g.id)})
		g.rulesRead = true
		for rp.HasMorePages() {
			out, err := rp.NextPage(ctx)
			if err != nil {
				fail("DNS Firewall rules of "+g.id, "route53resolver:ListFirewallRules", err)
				g.rules, g.rulesRead = nil, false
				break
			}
			for _, r := range out.FirewallRules {
				g.rules = append(g.rules, fwRule{name: aws.ToString(r.Name), priority: aws.ToInt32(r.Priority), action: r.Action,
					block: r.BlockResponse, override: strings.TrimSuffix(aws.ToString(r.BlockOverrideDomain), "."),
					listID: aws.ToString(r.FirewallDomainListId), threat: string(r.DnsThreatProtection), qtype: aws.ToString(r.Qtype)})
			}
		}
		slices.SortStableFunc(g.rules, func(a, b fwRule) int { return cmp.Compare(a.priority, b.priority) })
		for j := range g.rules {
			r := &g.rules[j]
			if r.listID == "" {
				continue
			}
			if d, ok := lists[r.listID]; ok {
				r.domains, r.domainsRead = d, true
				continue
			}
			if unreadable[r.listID] {
				continue
			}
			d, err := readDomains(ctx, api, r.listID)
			if err != nil {
				// AWS-managed domain lists cannot be listed; a denied read is said as such.
				unreadable[r.listID] = true
				if u := classify("", "", err); u.denied {
					fail("DNS Firewall domain list "+r.listID, "route53resolver:ListFirewallDomains", err)
				}
				continue
			}
			lists[r.listID] = d
			r.domains, r.domainsRead = d, true
		}
	}
	if len(fw.groups) > 0 {
		out, err := api.GetFirewallConfig(ctx, &route53resolver.GetFirewallConfigInput{ResourceId: aws.String(v.id)})
		if err != nil {
			fail("the VPC's DNS Firewall configuration", "route53resolver:GetFirewallConfig", err)
		} else if out.FirewallConfig != nil {
			fw.failOpen = out.FirewallConfig.FirewallFailOpen
		}
	}
	return fw
}

func readDomains(ctx context.Context, api DNSFirewallAPI, listID string) ([]string, error) {
	var out []string
	p := route53resolver.NewListFirewallDomainsPaginator(api, &route53resolver.ListFirewallDomainsInput{FirewallDomainListId: aws.String(listID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Domains...)
	}
	return out, nil
}

// firewallDomainMatches reports whether a DNS Firewall domain list entry matches host. An entry
// "can optionally start with * (asterisk)" (API reference, UpdateFirewallDomains); as in a DNS
// wildcard, "*.example.com" matches every name below example.com and not example.com itself, and
// "*" matches every name; any other entry matches only itself. Case and a final dot do not count.
func firewallDomainMatches(entry, host string) bool {
	entry = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(entry)), ".")
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case entry == "":
		return false
	case entry == "*":
		return true
	case strings.HasPrefix(entry, "*."):
		return strings.HasSuffix(host, entry[1:])
	case strings.HasPrefix(entry, "*"):
		return strings.HasSuffix(host, entry[1:])
	}
	return entry == host
}

// fwVerdict is what DNS Firewall does with a query for one host: the rule that decides it (nil:
// no rule matches, the query resolves), and the first rule before it whose domain list could not
// be read (it might have decided instead).
type fwVerdict struct {
	group   *fwGroup
	rule    *fwRule
	entry   string // the domain list entry that matched
	unknown *fwRule
	ugroup  *fwGroup
}

// verdict evaluates host against fw as DNS Firewall does: groups by priority, rules by priority,
// the first ALLOW or BLOCK that matches decides; ALERT only logs and evaluation goes on. DNS
// Firewall Advanced rules (threat protection, no domain list) are skipped: they look for
// generated and tunnelling names, which AWS's service names are not.
func (fw *dnsFirewall) verdict(host string) fwVerdict {
	var out fwVerdict
	for i := range fw.groups {
		g := &fw.groups[i]
		if !g.rulesRead && out.unknown == nil {
			out.unknown, out.ugroup = &fwRule{name: "(rules not read)"}, g
		}
		for j := range g.rules {
			r := &g.rules[j]
			if r.threat != "" || r.listID == "" {
				continue
			}
			if !r.domainsRead {
				if out.unknown == nil && r.action != rrtypes.ActionAlert {
					out.unknown, out.ugroup = r, g
				}
				continue
			}
			k := slices.IndexFunc(r.domains, func(d string) bool { return firewallDomainMatches(d, host) })
			if k < 0 || r.action == rrtypes.ActionAlert {
				continue
			}
			out.group, out.rule, out.entry = g, r, r.domains[k]
			return out
		}
	}
	return out
}

// blockAnswer says what a resolver behind the rule answers, as DNS Firewall's BlockResponse
// documents it: NODATA (NOERROR without records), NXDOMAIN, or a CNAME to the override domain.
func (r fwRule) blockAnswer() string {
	switch r.block {
	case rrtypes.BlockResponseNxdomain:
		return "NXDOMAIN (the name does not exist)"
	case rrtypes.BlockResponseOverride:
		return "a CNAME to " + cmpOr(r.override, "the override domain") + " instead of the service's addresses"
	}
	return "NODATA (NOERROR without an address)"
}

// dnsFirewall names, for every service whose host a rule of the VPC's DNS Firewall blocks, the
// rule group, rule, domain list entry and action; it warns where a domain list that could not be
// read comes first; and says what a fail-closed firewall answers when it cannot evaluate.
func (c *check) dnsFirewall() {
	fw := c.v.x.fw
	if fw == nil || len(fw.groups) == 0 {
		return
	}
	for _, s := range c.services {
		host := s.Host(c.v.region, c.account())
		vd := fw.verdict(host)
		if vd.unknown != nil && (vd.rule == nil || vd.rule.action != rrtypes.ActionBlock) { // evaluation stops at the deciding rule: what is unknown came before it
			c.add(Finding{Service: s.Key, Severity: Warn, Code: CodeDNSFirewallUnread, Resources: nonEmpty(vd.ugroup.id, vd.unknown.listID),
				Diagnosis: fmt.Sprintf("DNS Firewall rule %s of rule group %s uses domain list %s, which could not be read (an AWS-managed list, or the read was denied): if it lists %s, the resolver answers %s for it, and the Amazon-provided resolver agrees (it is behind the same firewall)",
					vd.unknown.name, vd.ugroup.id, cmpOr(vd.unknown.listID, "?"), host, vd.unknown.blockAnswer()),
				Remediation: fmt.Sprintf("check the DNS Firewall query logs of %s for %s, or allow route53resolver:ListFirewallDomains on %s", c.v.id, host, cmpOr(vd.unknown.listID, "the list"))})
		}
		if vd.rule == nil || vd.rule.action != rrtypes.ActionBlock {
			continue
		}
		r, g := vd.rule, vd.group
		qtype := ""
		if r.qtype != "" {
			qtype = " (" + r.qtype + " queries only)"
		}
		c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeDNSFirewallBlocks, Resources: nonEmpty(g.id, r.listID, g.association),
			Diagnosis: fmt.Sprintf("Route 53 Resolver DNS Firewall blocks %s: rule %s (priority %d) of rule group %s (association priority %d) matches it through entry %q of domain list %s%s, so the VPC resolver answers %s; the Amazon-provided resolver is behind the same firewall, so the second opinion agrees, and %s breaks",
				host, cmpOr(r.name, "(unnamed)"), r.priority, g.id, g.priority, vd.entry, r.listID, qtype, r.blockAnswer(), s.NeededBy),
			Remediation: fmt.Sprintf("add %s to a domain list used by an ALLOW rule with a lower priority number than %d in %s (or in a rule group associated at a lower priority than %d), or remove %q from %s if it should not cover AWS names",
				host, r.priority, g.id, g.priority, vd.entry, r.listID)})
	}
	if fw.failOpen != rrtypes.FirewallFailOpenStatusEnabled {
		state := "fail-open is off"
		if fw.failOpen == "" {
			state = "its fail-open setting could not be read"
		}
		ids := []string{}
		for _, g := range fw.groups {
			ids = append(ids, g.id)
		}
		c.add(Finding{Services: keys(c.services, nil), Severity: Info, Code: CodeDNSFirewallFailClosed, Resources: append([]string{c.v.id}, ids...),
			Diagnosis:   fmt.Sprintf("DNS Firewall rule groups %s are associated with %s and %s: when the firewall cannot evaluate a query it blocks it, and the resolver answers SERVFAIL for every name, AWS's included", strings.Join(ids, ", "), c.v.id, state),
			Remediation: fmt.Sprintf("if availability matters more than filtering, turn fail-open on: aws route53resolver update-firewall-config --region %s --resource-id %s --firewall-fail-open ENABLED", c.v.region, c.v.id)})
	}
}
