package inspect

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// logicalName turns parts into an identifier: CamelCase for CloudFormation logical ids (letters
// and digits only), snake_case for Terraform resource names.
func logicalName(camel bool, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		for _, word := range strings.FieldsFunc(p, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			switch {
			case camel:
				b.WriteString(strings.ToUpper(word[:1]) + word[1:])
			default:
				if b.Len() > 0 {
					b.WriteByte('_')
				}
				b.WriteString(strings.ToLower(word))
			}
		}
	}
	return b.String()
}

// names returns the CloudFormation or Terraform name of each fix, unique within the snippet.
func names(fixes []*Fix, camel bool) []string {
	seen := map[string]int{}
	out := make([]string, len(fixes))
	for i, f := range fixes {
		var n string
		switch f.Kind {
		case FixEndpoint:
			n = logicalName(camel, "endpoint", f.Service)
		case FixGatewayRoute:
			n = logicalName(camel, "route", f.EndpointID)
		case FixIngress, FixEgress:
			n = logicalName(camel, string(f.Kind), f.GroupID, "443", f.CIDR, f.PeerGroup, f.PrefixList)
		case FixACL:
			dir := "in"
			if f.Egress {
				dir = "out"
			}
			n = logicalName(camel, "acl", f.ACLID, dir, strconv.Itoa(int(f.RuleNumber)))
		}
		seen[n]++
		if seen[n] > 1 {
			n += strconv.Itoa(seen[n])
		}
		out[i] = n
	}
	return out
}

// CloudFormation returns one template creating every fix: the endpoints
// (AWS::EC2::VPCEndpoint), the security group rules (AWS::EC2::SecurityGroupIngress/Egress) and
// the network ACL entries (AWS::EC2::NetworkAclEntry). Adding a route table to an existing
// gateway endpoint has no resource type: those commands are listed in the template's Metadata.
func CloudFormation(fixes []*Fix, region string) []byte {
	resources := map[string]any{}
	var commands []string
	for i, n := range names(fixes, true) {
		f := fixes[i]
		var typ string
		props := map[string]any{}
		switch f.Kind {
		case FixEndpoint:
			typ = "AWS::EC2::VPCEndpoint"
			props["VpcId"], props["ServiceName"], props["VpcEndpointType"] = f.VPCID, f.ServiceName, f.EndpointType
			if f.EndpointType == "Gateway" {
				props["RouteTableIds"] = f.RouteTables
			} else {
				props["SubnetIds"], props["PrivateDnsEnabled"] = f.Subnets, true
				if len(f.Groups) > 0 {
					props["SecurityGroupIds"] = f.Groups
				}
			}
		case FixIngress:
			typ = "AWS::EC2::SecurityGroupIngress"
			props["GroupId"], props["IpProtocol"], props["FromPort"], props["ToPort"] = f.GroupID, "tcp", 443, 443
			props["Description"] = "vpcprobe: HTTPS from the task to the endpoint"
			switch {
			case f.PeerGroup != "":
				props["SourceSecurityGroupId"] = f.PeerGroup
			case f.PrefixList != "":
				props["SourcePrefixListId"] = f.PrefixList
			default:
				props["CidrIp"] = f.CIDR
			}
		case FixEgress:
			typ = "AWS::EC2::SecurityGroupEgress"
			props["GroupId"], props["IpProtocol"], props["FromPort"], props["ToPort"] = f.GroupID, "tcp", 443, 443
			props["Description"] = "vpcprobe: HTTPS from the task to AWS"
			switch {
			case f.PeerGroup != "":
				props["DestinationSecurityGroupId"] = f.PeerGroup
			case f.PrefixList != "":
				props["DestinationPrefixListId"] = f.PrefixList
			default:
				props["CidrIp"] = f.CIDR
			}
		case FixACL:
			typ = "AWS::EC2::NetworkAclEntry"
			props["NetworkAclId"], props["RuleNumber"], props["Protocol"], props["RuleAction"] = f.ACLID, f.RuleNumber, 6, "allow"
			props["Egress"], props["CidrBlock"] = f.Egress, f.CIDR
			props["PortRange"] = map[string]int32{"From": f.FromPort, "To": f.ToPort}
		case FixGatewayRoute:
			commands = append(commands, f.Command(region))
			continue
		}
		resources[n] = map[string]any{"Type": typ, "Properties": props}
	}
	tpl := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "vpcprobe inspect: the endpoints and rules this VPC lacks",
		"Resources":                resources,
	}
	if len(commands) > 0 {
		tpl["Metadata"] = map[string]any{"vpcprobe": map[string]any{"AlsoRun": commands}}
	}
	out, _ := json.MarshalIndent(tpl, "", "  ")
	return append(out, '\n')
}

// hcl writes Terraform blocks as `terraform fmt` lays them out: attributes of a block aligned on
// their '=', one blank line between blocks.
type hcl struct {
	b strings.Builder
}

type attr struct {
	name  string
	value string // already HCL: quoted string, number, bool or list
}

func (h *hcl) block(typ, name string, attrs ...attr) {
	if h.b.Len() > 0 {
		h.b.WriteByte('\n')
	}
	width := 0
	for _, a := range attrs {
		width = max(width, len(a.name))
	}
	fmt.Fprintf(&h.b, "resource %q %q {\n", typ, name)
	for _, a := range attrs {
		fmt.Fprintf(&h.b, "  %-*s = %s\n", width, a.name, a.value)
	}
	h.b.WriteString("}\n")
}

func hstr(s string) string { b, _ := json.Marshal(s); return string(b) }

func hlist(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = hstr(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func hint(n int32) string { return strconv.Itoa(int(n)) }

// Terraform returns the fixes as Terraform resources of the AWS provider: aws_vpc_endpoint,
// aws_vpc_endpoint_route_table_association, aws_vpc_security_group_ingress_rule and
// _egress_rule, aws_network_acl_rule.
func Terraform(fixes []*Fix) []byte {
	var h hcl
	for i, n := range names(fixes, false) {
		f := fixes[i]
		switch f.Kind {
		case FixEndpoint:
			attrs := []attr{{"vpc_id", hstr(f.VPCID)}, {"service_name", hstr(f.ServiceName)}, {"vpc_endpoint_type", hstr(f.EndpointType)}}
			if f.EndpointType == "Gateway" {
				attrs = append(attrs, attr{"route_table_ids", hlist(f.RouteTables)})
			} else {
				attrs = append(attrs, attr{"subnet_ids", hlist(f.Subnets)})
				if len(f.Groups) > 0 {
					attrs = append(attrs, attr{"security_group_ids", hlist(f.Groups)})
				}
				attrs = append(attrs, attr{"private_dns_enabled", "true"})
			}
			h.block("aws_vpc_endpoint", n, attrs...)
		case FixGatewayRoute:
			for _, t := range f.RouteTables {
				h.block("aws_vpc_endpoint_route_table_association", logicalName(false, n, t),
					attr{"vpc_endpoint_id", hstr(f.EndpointID)}, attr{"route_table_id", hstr(t)})
			}
		case FixIngress, FixEgress:
			typ := "aws_vpc_security_group_ingress_rule"
			if f.Kind == FixEgress {
				typ = "aws_vpc_security_group_egress_rule"
			}
			attrs := []attr{{"security_group_id", hstr(f.GroupID)}, {"description", hstr("vpcprobe: HTTPS to the endpoint")},
				{"ip_protocol", hstr("tcp")}, {"from_port", "443"}, {"to_port", "443"}}
			switch {
			case f.PeerGroup != "":
				attrs = append(attrs, attr{"referenced_security_group_id", hstr(f.PeerGroup)})
			case f.PrefixList != "":
				attrs = append(attrs, attr{"prefix_list_id", hstr(f.PrefixList)})
			default:
				attrs = append(attrs, attr{"cidr_ipv4", hstr(f.CIDR)})
			}
			h.block(typ, n, attrs...)
		case FixACL:
			h.block("aws_network_acl_rule", n, attr{"network_acl_id", hstr(f.ACLID)}, attr{"rule_number", hint(f.RuleNumber)},
				attr{"egress", strconv.FormatBool(f.Egress)}, attr{"protocol", hstr("tcp")}, attr{"rule_action", hstr("allow")},
				attr{"cidr_block", hstr(f.CIDR)}, attr{"from_port", hint(f.FromPort)}, attr{"to_port", hint(f.ToPort)})
		}
	}
	return []byte(h.b.String())
}
