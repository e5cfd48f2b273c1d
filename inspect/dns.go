package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// customDNS reports whether a DHCP option set's domain-name-servers name anything but the
// Amazon-provided resolver.
func customDNS(servers []string) bool {
	return slices.ContainsFunc(servers, func(s string) bool { return !strings.EqualFold(s, "AmazonProvidedDNS") })
}

// privateZone returns the name an interface endpoint's private hosted zone covers for s: the
// host, except ecr.dkr's wildcard zone, which covers every registry account, and S3's.
func privateZone(s catalogue.Service, region string) string {
	switch s.Key {
	case "ecr.dkr":
		return "dkr.ecr." + region + "." + catalogue.PartitionOf(region).DNSSuffix
	case "s3":
		// An S3 interface endpoint's private DNS: s3.<r>… and *.s3.<r>… (the layer bucket's
		// virtual-hosted name among them).
		return "s3." + region + "." + catalogue.PartitionOf(region).DNSSuffix
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
	c.resolverRules()
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
