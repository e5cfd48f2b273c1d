package inspect

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Resolver rules as Route 53 Resolver applies them (Route 53 developer guide, "How Resolver
// determines whether the domain name in a query matches any rules" and "Domain names that VPC
// Resolver creates autodefined system rules for"):
//
//   - a rule matches its domain and every subdomain of it; "." matches every name;
//   - of the rules that match, the most specific domain wins;
//   - every private hosted zone associated with the VPC, an interface endpoint's private DNS
//     among them, has an autodefined rule, so a FORWARD rule for a less specific name ("." or
//     amazonaws.com) leaves the endpoint's names resolving to the endpoint;
//   - "If you want to override an autodefined rule, you can create a conditional forwarding rule
//     for the same domain name": a FORWARD rule for the same name wins over the zone.
//
// The Amazon-provided resolver at 169.254.169.253 is the same Route 53 Resolver and applies the
// same rules, so the live run's second opinion cannot reveal a forwarding rule.

// rootDomain is how inspect keeps the domain of a rule for "." (every name).
const rootDomain = "."

// ruleDomain normalises a rule's DomainName: lower case, no trailing dot, and "." for the root
// (GetResolverRule answers "." or "example.com."; moto answers ".." for ".").
func ruleDomain(d string) string {
	d = strings.ToLower(strings.TrimRight(d, "."))
	if d == "" {
		return rootDomain
	}
	return d
}

// covers reports whether a resolver rule (or private zone) for domain applies to host.
func covers(domain, host string) bool {
	switch domain {
	case "":
		return false
	case rootDomain:
		return true
	}
	if p, ok := strings.CutPrefix(host, agentWildcard); ok {
		// The agent's hosts (ecs-a-N.<r>…): a rule for the parent or above covers them all, a
		// rule for one numbered host covers that one.
		return covers(domain, strings.TrimPrefix(p, ".")) || agentHostRE.MatchString(domain) && strings.HasSuffix(domain, p)
	}
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// labels is how specific a domain is: its number of labels, 0 for ".".
func labels(domain string) int {
	if domain == rootDomain || domain == "" {
		return 0
	}
	return strings.Count(domain, ".") + 1
}

// agentWildcard stands for the numbered host of the ECS agent's channels: the agent connects to
// the hosts ecs:DiscoverPollEndpoint returns (ecs-a-4.<r>.amazonaws.com, ecs-t-2.<r>…), never to
// ecs-a.<r>…, so a rule for ecs-a.<r>… matches nothing the agent calls.
const agentWildcard = "*"

var agentHostRE = regexp.MustCompile(`^ecs-[at]-[0-9]+\.`)

// ruleHost is the name whose resolution decides s's path: the host the client calls, and for
// the agent's channels the numbered hosts DiscoverPollEndpoint gives ("*.<r>.<suffix>" here,
// the measured host in the join).
func (c *check) ruleHost(s catalogue.Service) string {
	switch s.Key {
	case "ecs-agent", "ecs-telemetry":
		return agentWildcard + "." + c.v.region + "." + catalogue.PartitionOf(c.v.region).DNSSuffix
	}
	return s.Host(c.v.region, c.account())
}

// bestRule returns the associated rule that wins for host (the most specific match), or nil.
func (v *vpc) bestRule(host string) *resolverRule {
	var best *resolverRule
	for i, r := range v.rules {
		if covers(r.domain, host) && (best == nil || labels(r.domain) > labels(best.domain)) {
			best = &v.rules[i]
		}
	}
	return best
}

// zoneEndpoint returns the interface endpoint of s whose private hosted zone answers s's names
// inside the VPC, and that zone's name: private DNS on, and not limited to inbound Resolver
// endpoints (PrivateDnsOnlyForInboundResolverEndpoint).
func (c *check) zoneEndpoint(s catalogue.Service) (ec2types.VpcEndpoint, string, bool) {
	for _, e := range c.interfaceEndpoints(s) {
		if aws.ToBool(e.PrivateDnsEnabled) && !inboundOnly(e) {
			return e, privateZone(s, c.v.region), true
		}
	}
	return ec2types.VpcEndpoint{}, "", false
}

// resolverRules reports, for each service, what the Resolver rules associated with the VPC do
// to its name: a FORWARD rule that wins over the endpoint's private zone (same or more specific
// name) is a fail; one that decides who resolves a name no endpoint serves is a warning.
func (c *check) resolverRules() {
	v := c.v
	if !v.rulesRead {
		return
	}
	for _, s := range c.services {
		host := c.ruleHost(s)
		best := v.bestRule(host)
		if best == nil || best.ruleType != "FORWARD" {
			continue // the most specific rule wins; a SYSTEM rule restores the VPC's own resolution
		}
		ep, zone, served := c.zoneEndpoint(s)
		if served && labels(zone) > labels(best.domain) {
			continue // the endpoint's autodefined rule is more specific: its zone answers
		}
		if served {
			c.add(c.shadowFinding(s, host, best, aws.ToString(ep.VpcEndpointId), zone))
		} else {
			c.add(c.forwardFinding(s, host, best))
		}
	}
}

// secondOpinion is said wherever the live run's comparison with 169.254.169.253 might be taken
// as the proof of a rule.
const secondOpinion = "vpcprobe's live comparison with the Amazon-provided resolver (169.254.169.253) cannot reveal this rule: that address is the same Route 53 Resolver and applies the same rules"

func ruleName(r *resolverRule) string {
	if r.name != "" {
		return r.id + " (" + r.name + ")"
	}
	return r.id
}

func displayHost(host string) string {
	if p, ok := strings.CutPrefix(host, agentWildcard); ok {
		return "the agent's hosts (ecs-a-N" + p + ", ecs-t-N" + p + ")"
	}
	return host
}

// shadowFinding is a FORWARD rule for the same or a more specific name than endpoint vpce's
// private zone: it wins, and the name resolves to whatever the targets answer.
func (c *check) shadowFinding(s catalogue.Service, host string, r *resolverRule, vpce, zone string) Finding {
	f := Finding{Service: s.Key, Severity: Fail, Code: CodeResolverForward, Resources: nonEmpty(r.id, vpce),
		Diagnosis: fmt.Sprintf("Route 53 Resolver rule %s forwards %s to %s; it is as specific as or more specific than %s, the private zone of endpoint %s, so it wins and %s resolves to whatever those servers answer, not to the endpoint; %s",
			ruleName(r), r.domain, strings.Join(r.targets, ", "), zone, vpce, displayHost(host), secondOpinion)}
	if host != r.domain && labels(host) > labels(r.domain) && !strings.HasPrefix(host, agentWildcard) {
		// A SYSTEM rule for the host itself is more specific than the forward: it wins.
		f.Remediation = fmt.Sprintf("create a SYSTEM rule for %s and associate it with %s, so that this VPC resolves it to the endpoint (or make %s answer the endpoint's private addresses)", host, c.v.id, strings.Join(r.targets, ", "))
		f.Command = SystemRuleCommand(c.v.region, c.v.id, []string{host})
		return f
	}
	// The rule names the zone (or the host) itself: nothing more specific can win over it.
	f.Remediation = fmt.Sprintf("disassociate rule %s from %s (or make %s answer the endpoint's private addresses): no rule more specific than %s can win over it", r.id, c.v.id, strings.Join(r.targets, ", "), r.domain)
	f.Command = fmt.Sprintf("aws route53resolver disassociate-resolver-rule --region %s --resolver-rule-id %s --vpc-id %s", c.v.region, r.id, c.v.id)
	return f
}

// forwardFinding is a FORWARD rule covering a name no endpoint here serves: the rule's targets,
// not the VPC, decide the answer. For "." (or "com", or amazonaws.com itself) AWS advises a
// SYSTEM rule for amazonaws.com beside it.
func (c *check) forwardFinding(s catalogue.Service, host string, r *resolverRule) Finding {
	suffix := catalogue.PartitionOf(c.v.region).DNSSuffix
	f := Finding{Service: s.Key, Severity: Warn, Code: CodeResolverForwardPublic, Resources: []string{r.id},
		Diagnosis: fmt.Sprintf("Route 53 Resolver rule %s forwards %s to %s and no endpoint here serves %s: those servers decide what it resolves to (a hub VPC's endpoint, public addresses, or nothing); %s",
			ruleName(r), r.domain, strings.Join(r.targets, ", "), displayHost(host), secondOpinion)}
	var system string
	switch {
	case labels(r.domain) < labels(suffix) && covers(r.domain, suffix):
		system = suffix // AWS's own advice beside a forward for "." or "com"
	case r.domain == suffix:
		system = c.v.region + "." + suffix // amazonaws.com itself is taken: the region's names
	}
	if system != "" {
		f.Remediation = fmt.Sprintf("unless %s is meant to answer AWS names (centralised endpoints), create a SYSTEM rule for %s and associate it with %s, as AWS advises beside a forward for %q, so that this VPC resolves AWS names itself",
			strings.Join(r.targets, ", "), system, c.v.id, r.domain)
		f.Command = SystemRuleCommand(c.v.region, c.v.id, []string{system})
	} else {
		f.Remediation = fmt.Sprintf("make sure %s answers %s with a reachable endpoint (a hub VPC's), or create an endpoint for %s here and a SYSTEM rule for %s", strings.Join(r.targets, ", "), displayHost(host), s.Key, displayHost(host))
	}
	return f
}

// SystemRuleCommand returns the AWS CLI commands that create one SYSTEM rule per domain and
// associate it with vpcID: queries for those names (and their subdomains) are then resolved by
// the VPC itself, its private zones and endpoints included.
func SystemRuleCommand(region, vpcID string, domains []string) string {
	var cmds []string
	for _, d := range domains {
		name := "vpcprobe-" + strings.ReplaceAll(strings.TrimSuffix(d, "."), ".", "-")
		cmds = append(cmds, fmt.Sprintf("RULE=$(aws route53resolver create-resolver-rule --region %s --creator-request-id %s-%s --rule-type SYSTEM --domain-name %s --name %s --query ResolverRule.Id --output text) && aws route53resolver associate-resolver-rule --region %s --resolver-rule-id \"$RULE\" --vpc-id %s",
			region, name, vpcID, d, name, region, vpcID))
	}
	return strings.Join(cmds, " && ")
}

// AgentHostsFix returns f with its SYSTEM-rule command rebuilt for the hosts the agent was
// measured calling (ecs-a-4.<r>…), when f is a resolver finding about the agent's channels
// whose fix creates SYSTEM rules; ok is false otherwise. The join uses it: inspect alone does
// not know the numbered hosts ecs:DiscoverPollEndpoint hands out.
func AgentHostsFix(f Finding, region, vpcID string, hosts []string) (Finding, bool) {
	if (f.Service != "ecs-agent" && f.Service != "ecs-telemetry") || len(hosts) == 0 ||
		(f.Code != CodeResolverForward && f.Code != CodeResolverForwardPublic) ||
		!strings.Contains(f.Command, "--rule-type SYSTEM") {
		return f, false
	}
	f.Command = SystemRuleCommand(region, vpcID, hosts)
	f.Remediation = fmt.Sprintf("create a SYSTEM rule for %s (the hosts the agent calls) and associate it with %s, so that this VPC resolves them itself", strings.Join(hosts, ", "), vpcID)
	return f, true
}
