package inspect

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// TestFamiliesOf: which families an endpoint serves on its service's own name, from its
// IpAddressType and DnsRecordIpType as the EC2 API states them (DnsOptions: ipv4 | dualstack |
// ipv6 | service-defined; service-defined gives the private DNS name A records only, AAAA
// being for the Regional and zonal names: CDK's VpcEndpointDnsRecordIpType).
func TestFamiliesOf(t *testing.T) {
	for _, tc := range []struct {
		ip     ec2types.IpAddressType
		dns    ec2types.DnsRecordIpType
		serves []string
	}{
		{"", "", []string{"ipv4"}}, // an endpoint from before IPv6 endpoints: IPv4
		{ec2types.IpAddressTypeIpv4, ec2types.DnsRecordIpTypeIpv4, []string{"ipv4"}},
		{ec2types.IpAddressTypeDualstack, ec2types.DnsRecordIpTypeDualstack, []string{"ipv4", "ipv6"}},
		{ec2types.IpAddressTypeDualstack, ec2types.DnsRecordIpTypeIpv4, []string{"ipv4"}},
		{ec2types.IpAddressTypeDualstack, ec2types.DnsRecordIpTypeServiceDefined, []string{"ipv4"}},
		{ec2types.IpAddressTypeDualstack, ec2types.DnsRecordIpTypeIpv6, []string{"ipv6"}},
		{ec2types.IpAddressTypeIpv6, ec2types.DnsRecordIpTypeIpv6, []string{"ipv6"}},
		{ec2types.IpAddressTypeIpv6, "", []string{"ipv6"}},
	} {
		e := ec2types.VpcEndpoint{IpAddressType: tc.ip}
		if tc.dns != "" {
			e.DnsOptions = &ec2types.DnsOptions{DnsRecordIpType: tc.dns}
		}
		if got := FamiliesOf(e).Serves(); !slices.Equal(got, tc.serves) {
			t.Errorf("%q/%q serves %v, want %v", tc.ip, tc.dns, got, tc.serves)
		}
	}
}

// TestAddressFamilyFindings inspects subnets with IPv6 built in memory from the SDK's own types:
// moto 5.2 models neither an endpoint's IpAddressType nor its DnsOptions (its EC2 VPC endpoint
// model has no such members), nor IPv6-only subnets.
func TestAddressFamilyFindings(t *testing.T) {
	v6Subnet := ec2types.Subnet{SubnetId: aws.String("subnet-0v6"), AvailabilityZone: aws.String("eu-west-1a"), Ipv6Native: aws.Bool(true),
		Ipv6CidrBlockAssociationSet: []ec2types.SubnetIpv6CidrBlockAssociation{{Ipv6CidrBlock: aws.String("2001:db8:10:1::/64"),
			Ipv6CidrBlockState: &ec2types.SubnetCidrBlockState{State: ec2types.SubnetCidrBlockStateCodeAssociated}}}}
	dualSubnet := ec2types.Subnet{SubnetId: aws.String("subnet-0ds"), AvailabilityZone: aws.String("eu-west-1a"), CidrBlock: aws.String("10.0.1.0/24"),
		Ipv6CidrBlockAssociationSet: v6Subnet.Ipv6CidrBlockAssociationSet}
	v4Rule := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.0.0.0/16")}}}
	v6Rule := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("2001:db8:10::/56")}}}
	endpoint := func(ip ec2types.IpAddressType, dns ec2types.DnsRecordIpType) ec2types.VpcEndpoint {
		e := ec2types.VpcEndpoint{VpcEndpointId: aws.String("vpce-0logs"), VpcEndpointType: "Interface", ServiceName: aws.String("com.amazonaws.eu-west-1.logs"),
			State: "available", PrivateDnsEnabled: aws.Bool(true), IpAddressType: ip, Groups: []ec2types.SecurityGroupIdentifier{{GroupId: aws.String("sg-0ep")}}}
		if dns != "" {
			e.DnsOptions = &ec2types.DnsOptions{DnsRecordIpType: dns}
		}
		return e
	}
	for _, tc := range []struct {
		name   string
		sub    ec2types.Subnet
		ep     ec2types.VpcEndpoint
		rules  []ec2types.IpPermission
		want   map[string]Severity // code to severity; every family code not named must be absent
		naming string              // a resource the first wanted finding names
	}{
		{"IPv6-only, IPv4 endpoint", v6Subnet, endpoint("", ""), []ec2types.IpPermission{v4Rule},
			map[string]Severity{CodeEndpointNoIPv6: Fail, CodeECRIPv6OnlyPublic: Warn}, "vpce-0logs"},
		{"IPv6-only, IPv6 endpoint, IPv4 rule only", v6Subnet, endpoint(ec2types.IpAddressTypeIpv6, ec2types.DnsRecordIpTypeIpv6), []ec2types.IpPermission{v4Rule},
			map[string]Severity{CodeSGEndpointNoIPv6: Fail, CodeECRIPv6OnlyPublic: Warn}, "sg-0ep"},
		{"IPv6-only, IPv6 endpoint, IPv6 rule", v6Subnet, endpoint(ec2types.IpAddressTypeIpv6, ec2types.DnsRecordIpTypeIpv6), []ec2types.IpPermission{v6Rule},
			map[string]Severity{CodeECRIPv6OnlyPublic: Warn}, ""},
		{"dual-stack, dualstack endpoint, IPv4 rule only", dualSubnet, endpoint(ec2types.IpAddressTypeDualstack, ec2types.DnsRecordIpTypeDualstack), []ec2types.IpPermission{v4Rule},
			map[string]Severity{CodeSGEndpointNoIPv6: Warn}, "vpce-0logs"},
		{"dual-stack, service-defined records", dualSubnet, endpoint(ec2types.IpAddressTypeDualstack, ec2types.DnsRecordIpTypeServiceDefined), []ec2types.IpPermission{v4Rule},
			map[string]Severity{}, ""},
		{"dual-stack, IPv4 endpoint", dualSubnet, endpoint("", ""), []ec2types.IpPermission{v4Rule}, map[string]Severity{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := toSubnet(tc.sub)
			v := &vpc{region: "eu-west-1", id: "vpc-0a", subnets: map[string]subnet{sub.id: sub}, endpointsRead: true,
				endpoints: []ec2types.VpcEndpoint{tc.ep},
				groups:    map[string]group{"sg-0ep": {id: "sg-0ep", ingress: perms(tc.rules)}, "sg-0task": {id: "sg-0task"}}}
			svcs, _ := catalogue.ParseServices("ecr.api,logs")
			rep := v.inspect(Target{SubnetID: sub.id, SecurityGroups: []string{"sg-0task"}}, svcs)
			for _, code := range []string{CodeEndpointNoIPv6, CodeSGEndpointNoIPv6, CodeECRIPv6OnlyPublic} {
				i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == code })
				sev, wanted := tc.want[code]
				switch {
				case wanted && i < 0:
					t.Errorf("no %s:\n%s", code, rep.Text())
				case !wanted && i >= 0:
					t.Errorf("unexpected %s: %s", code, rep.Findings[i].Diagnosis)
				case wanted && rep.Findings[i].Severity != sev:
					t.Errorf("%s is %s, want %s", code, rep.Findings[i].Severity, sev)
				case wanted && code != CodeECRIPv6OnlyPublic && tc.naming != "" && !slices.Contains(rep.Findings[i].Resources, tc.naming):
					t.Errorf("%s names %v, not %s", code, rep.Findings[i].Resources, tc.naming)
				}
			}
		})
	}
}
