package inspect

import (
	"fmt"
	"strings"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// FixKind is what a Fix creates.
type FixKind string

// The kinds of fixes, each a resource of the snippets.
const (
	FixEndpoint     FixKind = "endpoint"      // a VPC endpoint (interface or gateway)
	FixGatewayRoute FixKind = "gateway-route" // an existing gateway endpoint on more route tables
	FixIngress      FixKind = "ingress"       // a security group ingress rule, TCP 443
	FixEgress       FixKind = "egress"        // a security group egress rule, TCP 443
	FixACL          FixKind = "acl"           // a network ACL allow entry
)

// Fix is a change that resolves a finding, as data: the CLI command, the CloudFormation and the
// Terraform snippets are views of it.
type Fix struct {
	Kind  FixKind
	VPCID string

	// FixEndpoint: Service is the catalogue key, ServiceName the endpoint service.
	Service, ServiceName string
	EndpointType         string   // "Interface" or "Gateway"
	Subnets, AZs         []string // interface: one subnet per zone, AZs parallel to Subnets
	Groups               []string // interface: its security groups
	RouteTables          []string // gateway (and FixGatewayRoute): its route tables

	// FixGatewayRoute: the existing gateway endpoint.
	EndpointID string

	// FixIngress, FixEgress: the group and exactly one peer.
	GroupID, CIDR, PeerGroup, PrefixList string

	// FixACL: an allow entry for TCP FromPort-ToPort to or from CIDR.
	ACLID            string
	Egress           bool
	RuleNumber       int32
	DenyRule         int32 // the rule the new entry must come before
	FromPort, ToPort int32

	acl ec2types.NetworkAcl // FixACL: the ACL as read, to renumber when fixes of many subnets meet
}

// Command returns the AWS CLI command that makes the change in region.
func (f *Fix) Command(region string) string {
	switch f.Kind {
	case FixEndpoint:
		if f.EndpointType == "Gateway" {
			return fmt.Sprintf("aws ec2 create-vpc-endpoint --region %s --vpc-id %s --vpc-endpoint-type Gateway --service-name %s --route-table-ids %s",
				region, f.VPCID, f.ServiceName, strings.Join(f.RouteTables, " "))
		}
		cmd := fmt.Sprintf("aws ec2 create-vpc-endpoint --region %s --vpc-id %s --vpc-endpoint-type Interface --service-name %s --subnet-ids %s",
			region, f.VPCID, f.ServiceName, strings.Join(f.Subnets, " "))
		if len(f.Groups) > 0 {
			cmd += " --security-group-ids " + strings.Join(f.Groups, " ")
		}
		return cmd + " --private-dns-enabled"
	case FixGatewayRoute:
		return fmt.Sprintf("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --add-route-table-ids %s", region, f.EndpointID, strings.Join(f.RouteTables, " "))
	case FixIngress, FixEgress:
		verb := "ingress"
		if f.Kind == FixEgress {
			verb = "egress"
		}
		return fmt.Sprintf("aws ec2 authorize-security-group-%s --region %s --group-id %s --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,%s'", verb, region, f.GroupID, f.peerCLI())
	case FixACL:
		dir := "--ingress"
		if f.Egress {
			dir = "--egress"
		}
		return fmt.Sprintf("aws ec2 create-network-acl-entry --region %s --network-acl-id %s %s --rule-number %d --protocol tcp --port-range From=%d,To=%d --cidr-block %s --rule-action allow",
			region, f.ACLID, dir, f.RuleNumber, f.FromPort, f.ToPort, f.CIDR)
	}
	return ""
}

// peerCLI is the peer of a security group rule in the CLI's shorthand syntax.
func (f *Fix) peerCLI() string {
	switch {
	case f.PeerGroup != "":
		return "UserIdGroupPairs=[{GroupId=" + f.PeerGroup + "}]"
	case f.PrefixList != "":
		return "PrefixListIds=[{PrefixListId=" + f.PrefixList + "}]"
	}
	return "IpRanges=[{CidrIp=" + f.CIDR + "}]"
}

// key identifies what a fix creates, so that the same change found for many subnets or services
// is made once.
func (f *Fix) key() string {
	switch f.Kind {
	case FixEndpoint:
		return "endpoint " + f.VPCID + " " + f.ServiceName
	case FixGatewayRoute:
		return "route " + f.EndpointID
	case FixACL:
		return fmt.Sprintf("acl %s %t %d-%d %s", f.ACLID, f.Egress, f.FromPort, f.ToPort, f.CIDR)
	}
	return fmt.Sprintf("%s %s %s%s%s", f.Kind, f.GroupID, f.CIDR, f.PeerGroup, f.PrefixList)
}

// Fixes returns every fix of the reports' findings once, merged: one endpoint per VPC and
// service with one subnet per zone, one route-table addition per gateway endpoint. Warnings'
// fixes are included: they are the endpoints that take the traffic off a NAT gateway.
func Fixes(reports ...*Report) []*Fix {
	var out []*Fix
	byKey := map[string]*Fix{}
	for _, r := range reports {
		for _, finding := range r.Findings {
			f := fixOf(finding)
			if f == nil {
				continue
			}
			k := f.key()
			prev, ok := byKey[k]
			if !ok {
				x := *f
				x.Subnets, x.AZs, x.RouteTables = clone(x.Subnets), clone(x.AZs), clone(x.RouteTables)
				if x.Kind == FixACL {
					// Fixes of other subnets may have given this number to another entry.
					var taken []int32
					for _, o := range out {
						if o.Kind == FixACL && o.ACLID == x.ACLID && o.Egress == x.Egress {
							taken = append(taken, o.RuleNumber)
						}
					}
					if contains32(taken, x.RuleNumber) {
						x.RuleNumber = freeRule(x.acl, x.Egress, x.DenyRule, taken)
					}
				}
				byKey[k] = &x
				out = append(out, &x)
				continue
			}
			for i, az := range f.AZs {
				if !contains(prev.AZs, az) {
					prev.AZs = append(prev.AZs, az)
					prev.Subnets = append(prev.Subnets, f.Subnets[i])
				}
			}
			for _, t := range f.RouteTables {
				if !contains(prev.RouteTables, t) {
					prev.RouteTables = append(prev.RouteTables, t)
				}
			}
		}
	}
	return out
}

func clone(s []string) []string { return append([]string(nil), s...) }

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func contains32(s []int32, x int32) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
