package inspect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Address families of interface endpoints. An endpoint's network interfaces have the families of
// its IpAddressType (ipv4, dualstack, ipv6), and its private DNS answers the records of
// DnsOptions.DnsRecordIpType (EC2 API Reference, DnsOptions; CDK's VpcEndpointDnsRecordIpType
// spells out the records):
//
//	ipv4             A records for the private, Regional and zonal names
//	ipv6             AAAA records for all three
//	dualstack        A and AAAA for all three
//	service-defined  A for all three, AAAA for the Regional and zonal names only: the
//	                 service's own name, the one a task resolves, answers IPv4 only
//
// They are read, never assumed (translated ECR pages and the English one disagree on which
// families ECR's endpoints take: AWS-NOTES, "ECR dual-stack and PrivateLink").

// Finding codes of address families.
const (
	CodeEndpointNoIPv6    = "endpoint-no-ipv6"
	CodeSGEndpointNoIPv6  = "sg-endpoint-no-ingress-443-ipv6"
	CodeECRIPv6OnlyPublic = "ecr-ipv6-only-not-private"
)

// The codes join Codes after the others (a file of their own keeps them together).
func init() {
	Codes = append(Codes,
		Code{CodeEndpointNoIPv6, Fail, "an IPv6-only subnet, and the interface endpoint's private DNS answers no AAAA record (IpAddressType or DnsRecordIpType is IPv4)"},
		Code{CodeSGEndpointNoIPv6, Warn, "the endpoint answers AAAA, but its security groups allow TCP 443 only from IPv4: the task's IPv6 connections time out"},
		Code{CodeECRIPv6OnlyPublic, Warn, "an IPv6-only subnet pulls from ECR's dual-stack endpoints, which PrivateLink does not carry: the pull cannot be private"},
	)
}

// Address family names, as the probe's report spells them.
const (
	familyIPv4 = "ipv4"
	familyIPv6 = "ipv6"
)

// EndpointFamilies is which address families an interface endpoint serves.
type EndpointFamilies struct {
	Addresses  []string // the families its network interfaces have (IpAddressType)
	PrivateDNS []string // the families the service's own name answers through private DNS (DnsRecordIpType)
}

// FamiliesOf reads an endpoint's IpAddressType and DnsRecordIpType. An endpoint that states
// neither (created before IPv6 endpoints existed) is IPv4, as AWS creates it by default.
func FamiliesOf(e ec2types.VpcEndpoint) EndpointFamilies {
	var f EndpointFamilies
	switch e.IpAddressType {
	case ec2types.IpAddressTypeIpv6:
		f.Addresses = []string{familyIPv6}
	case ec2types.IpAddressTypeDualstack:
		f.Addresses = []string{familyIPv4, familyIPv6}
	default:
		f.Addresses = []string{familyIPv4}
	}
	rt := ec2types.DnsRecordIpType("")
	if e.DnsOptions != nil {
		rt = e.DnsOptions.DnsRecordIpType
	}
	switch rt {
	case ec2types.DnsRecordIpTypeIpv6:
		f.PrivateDNS = []string{familyIPv6}
	case ec2types.DnsRecordIpTypeDualstack:
		f.PrivateDNS = []string{familyIPv4, familyIPv6}
	case ec2types.DnsRecordIpTypeServiceDefined, ec2types.DnsRecordIpTypeIpv4:
		f.PrivateDNS = []string{familyIPv4}
	default: // not stated: the records follow the addresses
		f.PrivateDNS = slices.Clone(f.Addresses)
	}
	return f
}

// Serves returns the families a task resolving the service's own name can reach the endpoint
// on: those its private DNS answers and its interfaces have.
func (f EndpointFamilies) Serves() []string {
	var out []string
	for _, fam := range f.PrivateDNS {
		if slices.Contains(f.Addresses, fam) {
			out = append(out, fam)
		}
	}
	return out
}

func (f EndpointFamilies) String() string {
	return fmt.Sprintf("addresses %s, private DNS %s", strings.Join(f.Addresses, "+"), strings.Join(f.PrivateDNS, "+"))
}

// subnetIPv6 returns a subnet's associated IPv6 CIDR blocks.
func subnetIPv6(s ec2types.Subnet) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range s.Ipv6CidrBlockAssociationSet {
		// A block being added, removed or that failed is not the subnet's; any other state counts
		// as associated (moto 5.2 answers the Python repr "{'State': 'associated'}" there).
		if st := a.Ipv6CidrBlockState; st != nil && slices.Contains([]ec2types.SubnetCidrBlockStateCode{
			ec2types.SubnetCidrBlockStateCodeAssociating, ec2types.SubnetCidrBlockStateCodeDisassociating,
			ec2types.SubnetCidrBlockStateCodeDisassociated, ec2types.SubnetCidrBlockStateCodeFailing, ec2types.SubnetCidrBlockStateCodeFailed}, st.State) {
			continue
		}
		if p, err := netip.ParsePrefix(aws.ToString(a.Ipv6CidrBlock)); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// addressFamilies judges the endpoints of a subnet with IPv6: an IPv6-only subnet needs each
// endpoint to answer AAAA on its service's name, and cannot reach ECR privately at all; where an
// endpoint answers AAAA, its security groups must let the subnet's IPv6 CIDR in as well.
func (c *check) addressFamilies() {
	if len(c.sub.v6) == 0 {
		return
	}
	v6Only := c.sub.v6Only || !c.sub.cidr.IsValid()
	for _, s := range c.services {
		if s.Gateway {
			continue
		}
		if v6Only && strings.HasPrefix(s.Key, "ecr.") {
			c.add(Finding{Service: s.Key, Severity: Warn, Code: CodeECRIPv6OnlyPublic, Resources: []string{c.sub.id},
				Diagnosis: fmt.Sprintf("subnet %s is IPv6-only: its tasks pull from ECR's dual-stack endpoints (%s), and PrivateLink does not carry ECR's dual-stack endpoints (ECR User Guide, \"Making requests to Amazon ECR registries\"), so no interface endpoint makes the pull private",
					c.sub.id, s.HostFor(c.v.region, "<account>", catalogue.Variant{DualStack: true})),
				Remediation: fmt.Sprintf("to pull privately, give subnet %s an IPv4 CIDR (dual-stack): its tasks then pull over IPv4 through %s and the S3 gateway endpoint; IPv6-only, route ::/0 to an egress-only internet gateway and allow outbound TCP 443 to ::/0", c.sub.id, s.EndpointService(c.v.region))})
		}
		eps := c.interfaceEndpoints(s)
		if len(eps) == 0 {
			continue
		}
		e := eps[0]
		id := aws.ToString(e.VpcEndpointId)
		fams := FamiliesOf(e)
		serves := fams.Serves()
		switch {
		case v6Only && !slices.Contains(serves, familyIPv6):
			c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeEndpointNoIPv6, Resources: []string{id, c.sub.id},
				Diagnosis: fmt.Sprintf("subnet %s is IPv6-only, and interface endpoint %s serves IPv4 only (%s): the task resolves no IPv6 address of it for %s, and goes to DNS64 and NAT64 or nowhere",
					c.sub.id, id, fams, s.Key),
				Remediation: fmt.Sprintf("set the endpoint's IP address type to ipv6 or dualstack and its DNS record IP type to ipv6 or dualstack: aws ec2 modify-vpc-endpoint --vpc-endpoint-id %s --ip-address-type dualstack --dns-options DnsRecordIpType=dualstack (its subnets need IPv6 CIDRs)", id)})
		case slices.Contains(serves, familyIPv6):
			c.endpointIngressV6(s, id, c.endpointGroups(e), v6Only)
		}
	}
}

// endpointIngressV6 checks that one of the endpoint's groups lets TCP 443 in from the task over
// IPv6: from one of the task's groups (a group rule covers both families), or an IPv6 CIDR
// covering the subnet's.
func (c *check) endpointIngressV6(s catalogue.Service, id string, epGroups []string, v6Only bool) {
	if c.v.groups == nil || len(epGroups) == 0 {
		return
	}
	for _, gid := range epGroups {
		for _, p := range c.v.groups[gid].ingress {
			if !p.allows443() {
				continue
			}
			if slices.ContainsFunc(p.groups, func(g string) bool { return slices.Contains(c.groups, g) }) {
				return
			}
			for _, cidr := range p.cidrs {
				if slices.ContainsFunc(c.sub.v6, func(v6 netip.Prefix) bool { return coversPrefix(cidr, v6) }) {
					return
				}
			}
		}
	}
	sev := Warn // dual-stack: the task starts over IPv4, and clients fall back
	if v6Only {
		sev = Fail
	}
	c.add(Finding{Service: s.Key, Severity: sev, Code: CodeSGEndpointNoIPv6, Resources: append([]string{id}, epGroups...),
		Diagnosis: fmt.Sprintf("interface endpoint %s answers AAAA records for %s, but security group %s allows TCP 443 from no IPv6 CIDR covering subnet %s's %s (an IPv4 rule does not cover IPv6): the task's IPv6 connections time out",
			id, s.Key, strings.Join(epGroups, ", "), c.sub.id, c.sub.v6[0]),
		Remediation: fmt.Sprintf("allow inbound TCP 443 from %s on %s: aws ec2 authorize-security-group-ingress --group-id %s --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,Ipv6Ranges=[{CidrIpv6=%s}]'",
			c.sub.v6[0], epGroups[0], epGroups[0], c.sub.v6[0])})
}
