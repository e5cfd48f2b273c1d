package inspect

import (
	"fmt"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// endpointName returns the interface endpoint service that serves the host a client of s calls
// here: the FIPS one (kms-fips) when the application uses FIPS endpoints and s is its own
// service, else the standard one. ok is false when no endpoint service serves the FIPS host
// (catalogue.EndpointServiceOf).
func (c *check) endpointName(s catalogue.Service) (string, bool) {
	if c.fips && !s.Platform {
		return s.EndpointServiceOf(c.v.region, "interface", catalogue.Variant{FIPS: true})
	}
	return s.InterfaceEndpointService(c.v.region), true
}

// noFIPSEndpoint reports a service whose FIPS host no VPC endpoint service serves: it is
// reached only at public addresses, through a NAT or an internet gateway.
func (c *check) noFIPSEndpoint(s catalogue.Service) {
	host := s.HostFor(c.v.region, c.account(), catalogue.Variant{FIPS: true})
	sev := Warn
	how := "it is reached at its public addresses through " + cmpOr(c.out.via, "the subnet's way out")
	if c.out.kind == exitNone {
		sev, how = Fail, "and "+c.sub.id+" has no route out, so it is unreachable"
	}
	c.add(Finding{Service: s.Key, Severity: sev, Code: CodeNoFIPSEndpoint, Resources: nonEmpty(c.v.id, c.out.via),
		Diagnosis: fmt.Sprintf("the application uses FIPS endpoints, so it calls %s, and AWS has no FIPS VPC endpoint service for %s (only %s, whose private DNS does not cover the FIPS name): %s",
			host, s.Key, s.InterfaceEndpointService(c.v.region), how),
		Remediation: fmt.Sprintf("keep a NAT route for %s, or turn FIPS off for %s (AWS_USE_FIPS_ENDPOINT=false, or a per-service endpoint) and create %s", host, s.Key, s.InterfaceEndpointService(c.v.region))})
}
