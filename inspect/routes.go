package inspect

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// exitKind is how traffic to a public AWS address leaves the subnet when no endpoint takes it.
type exitKind int

const (
	exitNone    exitKind = iota // no route out: without an endpoint the service is unreachable
	exitNAT                     // 0.0.0.0/0 to a NAT gateway (or a NAT instance / appliance)
	exitIGW                     // 0.0.0.0/0 to an internet gateway: only with a public IP
	exitCentral                 // a transit gateway or peering route: a hub may carry it
	exitUnknown                 // the route tables could not be read
)

// exit is the subnet's way out and the resources that make it.
type exit struct {
	kind  exitKind
	via   string // nat-…, igw-…, tgw-…, pcx-…, eni-…, i-…
	table string // rtb-…
}

// target returns the id a route sends its traffic to.
func target(r ec2types.Route) string {
	for _, s := range []*string{r.NatGatewayId, r.TransitGatewayId, r.VpcPeeringConnectionId, r.NetworkInterfaceId, r.InstanceId, r.GatewayId, r.EgressOnlyInternetGatewayId, r.LocalGatewayId, r.CarrierGatewayId} {
		if aws.ToString(s) != "" {
			return aws.ToString(s)
		}
	}
	return ""
}

// destination returns what a route covers: a CIDR or a prefix list id.
func destination(r ec2types.Route) string {
	return cmpOr(aws.ToString(r.DestinationCidrBlock), aws.ToString(r.DestinationPrefixListId), aws.ToString(r.DestinationIpv6CidrBlock))
}

func cmpOr(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// routes checks the subnet's route table (blackholes, NAT, internet gateway) and returns how
// traffic without an endpoint leaves it.
func (c *check) routes() exit {
	if !c.v.tablesRead {
		return exit{kind: exitUnknown}
	}
	t, ok := c.v.tableOf(c.sub.id)
	if !ok {
		return exit{kind: exitNone}
	}
	rtb := aws.ToString(t.RouteTableId)
	out := exit{kind: exitNone, table: rtb}
	all := keys(c.services, nil)
	for _, r := range t.Routes {
		dst, via := destination(r), target(r)
		if r.State == ec2types.RouteStateBlackhole {
			sev := Warn
			if dst == "0.0.0.0/0" || (dst == c.v.s3List && dst != "") {
				sev = Fail
			}
			flag := "--destination-cidr-block " + dst
			if aws.ToString(r.DestinationPrefixListId) != "" {
				flag = "--destination-prefix-list-id " + dst
			} else if aws.ToString(r.DestinationIpv6CidrBlock) != "" {
				flag = "--destination-ipv6-cidr-block " + dst
			}
			c.add(Finding{Services: all, Severity: sev, Code: CodeRouteBlackhole, Resources: nonEmpty(rtb, via),
				Diagnosis:   fmt.Sprintf("route table %s sends %s to %s, which no longer exists (state blackhole): that traffic is dropped", rtb, dst, cmpOr(via, "a deleted target")),
				Remediation: fmt.Sprintf("delete the route (or replace it with one to a live NAT gateway, transit gateway or endpoint) in %s", rtb),
				Command:     fmt.Sprintf("aws ec2 delete-route --region %s --route-table-id %s %s", c.v.region, rtb, flag)})
			continue
		}
		switch {
		case dst == "0.0.0.0/0" && (strings.HasPrefix(via, "nat-") || strings.HasPrefix(via, "eni-") || strings.HasPrefix(via, "i-")):
			out = exit{kind: exitNAT, via: via, table: rtb}
			c.add(Finding{Services: all, Severity: Warn, Code: CodeRouteNAT, Resources: []string{via, rtb},
				Diagnosis:   fmt.Sprintf("0.0.0.0/0 in %s goes through %s: every AWS call without an endpoint pays NAT processing per GB (about $0.045/GB plus $0.045/hour in us-east-1), and a crash-looping service re-pulls its image on every restart", rtb, via),
				Remediation: "create the interface endpoints the findings below name, and the free S3 gateway endpoint, so that image pulls and logs stay off the NAT"})
		case dst == "0.0.0.0/0" && strings.HasPrefix(via, "igw-"):
			out = exit{kind: exitIGW, via: via, table: rtb}
			c.add(Finding{Services: all, Severity: Warn, Code: CodeRouteIGW, Resources: []string{via, rtb},
				Diagnosis:   fmt.Sprintf("0.0.0.0/0 in %s goes to internet gateway %s: a task reaches AWS only with a public IP (assignPublicIp), and a Lambda function in this subnet never does", rtb, via),
				Remediation: "give the tasks public IPs, or create the endpoints the findings below name"})
		case dst == "0.0.0.0/0" && strings.HasPrefix(via, "vpce-"):
			// A firewall endpoint (AWS Network Firewall or a Gateway Load Balancer appliance):
			// the traffic goes on beyond it, to a NAT gateway as a rule (netfirewall.go).
			out = exit{kind: exitNAT, via: via, table: rtb}
		case dst == "0.0.0.0/0" && (strings.HasPrefix(via, "tgw-") || strings.HasPrefix(via, "pcx-")):
			out = exit{kind: exitCentral, via: via, table: rtb}
		case out.kind == exitNone && (strings.HasPrefix(via, "tgw-") || strings.HasPrefix(via, "pcx-")):
			out = exit{kind: exitCentral, via: via, table: rtb}
		}
	}
	return out
}

// hasRoute reports whether table routes the prefix list pl (or to gateway endpoint vpce).
func hasRoute(t ec2types.RouteTable, pl, vpce string) bool {
	for _, r := range t.Routes {
		if r.State == ec2types.RouteStateBlackhole {
			continue
		}
		if (pl != "" && aws.ToString(r.DestinationPrefixListId) == pl) || (vpce != "" && aws.ToString(r.GatewayId) == vpce) {
			return true
		}
	}
	return false
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}
