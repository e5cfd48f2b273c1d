package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// covers reports whether a resolver rule for domain applies to host.
func covers(domain, host string) bool {
	return domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
}

// customDNS reports whether a DHCP option set's domain-name-servers name anything but the
// Amazon-provided resolver.
func customDNS(servers []string) bool {
	return slices.ContainsFunc(servers, func(s string) bool { return !strings.EqualFold(s, "AmazonProvidedDNS") })
}

// privateZone returns the name an interface endpoint's private hosted zone covers for s: the
// host, except ecr.dkr's wildcard zone, which covers every registry account.
func privateZone(s catalogue.Service, region string) string {
	if s.Key == "ecr.dkr" {
		return "dkr.ecr." + region + "." + catalogue.PartitionOf(region).DNSSuffix
	}
	return s.Host(region, "")
}

// dns checks what decides which address a service name resolves to: the VPC's DNS attributes,
// its DHCP option set and the Route 53 Resolver rules associated with it.
func (c *check) dns() {
	v := c.v
	ifaces := keys(c.services, func(s catalogue.Service) bool { return !s.Gateway })
	if v.dnsSupport != nil && !*v.dnsSupport {
		c.add(Finding{Services: keys(c.services, nil), Severity: Fail, Code: CodeDNSSupportOff, Resources: []string{v.id},
			Diagnosis:   fmt.Sprintf("enableDnsSupport is off in %s: the Amazon-provided resolver does not answer, so no AWS name resolves (unless custom DNS servers answer)", v.id),
			Remediation: fmt.Sprintf("turn enableDnsSupport on in %s", v.id),
			Command:     fmt.Sprintf(`aws ec2 modify-vpc-attribute --region %s --vpc-id %s --enable-dns-support '{"Value":true}'`, v.region, v.id)})
	}
	if v.dnsHostnames != nil && !*v.dnsHostnames && len(ifaces) > 0 {
		sev := Warn
		if c.hasPrivateEndpoints() || c.out.kind == exitNone {
			sev = Fail
		}
		c.add(Finding{Services: ifaces, Severity: sev, Code: CodeDNSHostnamesOff, Resources: []string{v.id},
			Diagnosis:   fmt.Sprintf("enableDnsHostnames is off in %s: interface endpoints' private DNS does not apply, so service names resolve to public addresses", v.id),
			Remediation: fmt.Sprintf("turn enableDnsHostnames on in %s", v.id),
			Command:     fmt.Sprintf(`aws ec2 modify-vpc-attribute --region %s --vpc-id %s --enable-dns-hostnames '{"Value":true}'`, v.region, v.id)})
	}
	if v.dnsServers != nil && customDNS(v.dnsServers) {
		base := "the VPC resolver (the VPC CIDR's base + 2)"
		if len(v.cidrs) > 0 {
			a := v.cidrs[0].Addr().Next().Next()
			base = a.String() + " (the VPC resolver)"
		}
		c.add(Finding{Services: keys(c.services, nil), Severity: Warn, Code: CodeDHCPCustomDNS, Resources: []string{v.dhcpID, v.id},
			Diagnosis: fmt.Sprintf("DHCP option set %s of %s gives tasks the DNS servers %s: unless they forward %s names to %s, they never see the endpoints' private zones and answer public addresses",
				v.dhcpID, v.id, strings.Join(v.dnsServers, ", "), catalogue.PartitionOf(v.region).DNSSuffix, base),
			Remediation: fmt.Sprintf("make %s forward %s (or at least the service names) to %s, or use a DHCP option set with AmazonProvidedDNS; vpcprobe's live run compares both answers",
				strings.Join(v.dnsServers, ", "), catalogue.PartitionOf(v.region).DNSSuffix, base)})
	}
	if !v.rulesRead {
		return
	}
	for _, s := range c.services {
		host := s.Host(v.region, c.account())
		var best *resolverRule
		for i, r := range v.rules {
			if covers(r.domain, host) && (best == nil || len(r.domain) > len(best.domain)) {
				best = &v.rules[i]
			}
		}
		if best == nil || best.ruleType != "FORWARD" {
			continue // the most specific rule wins; a SYSTEM rule restores the VPC's own resolution
		}
		sev := Warn
		shadowed := ""
		if !s.Gateway {
			if eps := c.interfaceEndpoints(s); len(eps) > 0 && eps[0].PrivateDnsEnabled != nil && *eps[0].PrivateDnsEnabled {
				sev, shadowed = Fail, *eps[0].VpcEndpointId
			}
		}
		zone := privateZone(s, v.region)
		named := best.id
		if best.name != "" {
			named += " (" + best.name + ")"
		}
		diag := fmt.Sprintf("Route 53 Resolver rule %s forwards %s to %s, and it covers %s: it wins over the private zone of endpoint %s, so %s resolves to whatever those servers answer",
			named, best.domain, strings.Join(best.targets, ", "), host, shadowed, s.Key)
		if shadowed == "" { // worded from the host: the text view tells it from the shadowing rule's at a glance
			diag = fmt.Sprintf("%s is answered by whatever Route 53 Resolver rule %s forwards %s to (%s): an endpoint in a hub VPC, or public addresses",
				host, named, best.domain, strings.Join(best.targets, ", "))
		}
		f := Finding{Service: s.Key, Severity: sev, Code: CodeResolverForward, Resources: nonEmpty(best.id, shadowed),
			Diagnosis:   diag,
			Remediation: fmt.Sprintf("create a SYSTEM rule for %s and associate it with %s, so that this VPC resolves it itself (or make the forward target answer the endpoint's private addresses)", zone, v.id)}
		if sev == Fail {
			f.Command = fmt.Sprintf("RULE=$(aws route53resolver create-resolver-rule --region %s --creator-request-id vpcprobe-%s-%s --rule-type SYSTEM --domain-name %s --name vpcprobe-%s --query ResolverRule.Id --output text) && aws route53resolver associate-resolver-rule --region %s --resolver-rule-id \"$RULE\" --vpc-id %s",
				v.region, strings.ReplaceAll(s.Key, ".", "-"), v.id, zone, strings.ReplaceAll(s.Key, ".", "-"), v.region, v.id)
		}
		c.add(f)
	}
}

// hasPrivateEndpoints reports whether the VPC has an interface endpoint for one of the services.
func (c *check) hasPrivateEndpoints() bool {
	for _, s := range c.services {
		if !s.Gateway && len(c.interfaceEndpoints(s)) > 0 {
			return true
		}
	}
	return false
}
