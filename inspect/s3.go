package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// gateway checks the path to a gateway service (S3): the gateway endpoint, its route on the
// subnet's table, its policy, the task's egress to the prefix list and the network ACL. An S3
// interface endpoint whose private DNS answers inside the VPC is checked too (s3iface.go): it
// then takes the layer downloads, which ECR cannot make through it.
func (c *check) gateway(s catalogue.Service) {
	if !c.v.endpointsRead {
		return
	}
	name := s.EndpointService(c.v.region)
	var gws []ec2types.VpcEndpoint
	for _, e := range c.v.endpoints {
		if aws.ToString(e.ServiceName) == name && strings.EqualFold(string(e.VpcEndpointType), "gateway") && !strings.EqualFold(string(e.State), "deleted") {
			gws = append(gws, e)
		}
	}
	c.s3Interface(s, c.interfaceEndpoints(s), gws)
	t, haveTable := c.v.tableOf(c.sub.id)
	rtb := aws.ToString(t.RouteTableId)
	sev, how := Fail, "image layers cannot be downloaded from "+catalogue.LayerBucket(c.v.region)
	switch c.out.kind {
	case exitNAT:
		sev, how = Warn, "image layers are downloaded through "+c.out.via+", paid per GB"
	case exitIGW:
		sev, how = Warn, "image layers are downloaded through "+c.out.via+" only by a task with a public IP"
	case exitCentral:
		sev, how = Warn, "image layers can only come through "+c.out.via+" (a gateway endpoint serves its own VPC only)"
	case exitUnknown:
		sev = Warn
	}
	if len(gws) == 0 {
		f := Finding{Service: s.Key, Severity: sev, Code: CodeS3GatewayMissing, Resources: nonEmpty(c.v.id, rtb),
			Diagnosis:   fmt.Sprintf("no S3 gateway endpoint in %s: %s", c.v.id, how),
			Remediation: fmt.Sprintf("create the S3 gateway endpoint (free) on route table %s", cmpOr(rtb, "of the subnet"))}
		if haveTable {
			f.Fix = &Fix{Kind: FixEndpoint, VPCID: c.v.id, Service: s.Key, ServiceName: name, EndpointType: "Gateway", RouteTables: []string{rtb}}
		}
		c.add(f)
	} else if haveTable {
		gw := gws[0]
		for _, e := range gws {
			if slices.Contains(e.RouteTableIds, rtb) {
				gw = e
			}
		}
		id := aws.ToString(gw.VpcEndpointId)
		if !hasRoute(t, c.v.s3List, id) {
			c.add(Finding{Service: s.Key, Severity: sev, Code: CodeS3RouteMissing, Resources: []string{id, rtb},
				Diagnosis:   fmt.Sprintf("route table %s of %s has no route to S3 gateway endpoint %s (destination %s): %s", rtb, c.sub.id, id, cmpOr(c.v.s3List, "the S3 prefix list"), how),
				Remediation: fmt.Sprintf("add route table %s to %s", rtb, id),
				Fix:         &Fix{Kind: FixGatewayRoute, VPCID: c.v.id, EndpointID: id, RouteTables: []string{rtb}}})
		}
		c.policy(s, gw)
	}
	c.s3Egress(s)
	c.internetACL(s)
}
