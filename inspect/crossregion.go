package inspect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Finding codes of services a task needs in another region.
const (
	CodeCrossRegionEndpoint    = "cross-region-endpoint"
	CodeCrossRegionMissing     = "cross-region-endpoint-missing"
	CodeCrossRegionUnsupported = "cross-region-not-private"
	CodeCrossRegionLayers      = "cross-region-layers-public"
)

// CrossRegionPrivate reports whether an interface endpoint in one region can serve service key of
// another (cross-region PrivateLink; the list and its source are catalogue.Service.CrossRegion's).
func CrossRegionPrivate(key string) bool {
	s, ok := catalogue.Lookup(key)
	return ok && s.CrossRegion()
}

// crossRegionEndpoint returns the VPC's interface endpoint for s in region: its service name
// names that region and its ServiceRegion (when the API gives it) is that region.
func (c *check) crossRegionEndpoint(s catalogue.Service, region string) (ec2types.VpcEndpoint, bool) {
	name := s.EndpointService(region)
	for _, e := range c.v.endpoints {
		if aws.ToString(e.ServiceName) != name || !strings.EqualFold(string(e.VpcEndpointType), "interface") || strings.EqualFold(string(e.State), "deleted") {
			continue
		}
		if sr := aws.ToString(e.ServiceRegion); sr != "" && sr != region {
			continue
		}
		return e, true
	}
	return ec2types.VpcEndpoint{}, false
}

// crossRegion judges each service the task needs in another region: served by a cross-region
// interface endpoint here, missing one, or not servable privately at all (not cross-region
// enabled). An image pulled from another region's registry downloads its layers from that
// region's layer bucket, which no gateway endpoint serves (gateway endpoints serve their own
// region) and ECR cannot take through an S3 interface endpoint: that part of the pull is never
// private.
func (c *check) crossRegion() {
	if len(c.other) == 0 || !c.v.endpointsRead {
		return
	}
	regions := make([]string, 0, len(c.other))
	for r := range c.other {
		if r != c.v.region {
			regions = append(regions, r)
		}
	}
	sort.Strings(regions)
	sev := Warn // a NAT or internet gateway still carries it, over public addresses
	how := "over public addresses through " + cmpOr(c.out.via, "the subnet's way out")
	if c.out.kind == exitNone {
		sev, how = Fail, "not at all: the subnet has no way out"
	}
	for _, region := range regions {
		pulls := false
		for _, s := range c.other[region] {
			host := s.Host(region, c.account())
			if s.Key == "ecr.dkr" || s.Key == "s3" {
				pulls = true
			}
			if s.Gateway {
				continue // the layer bucket: judged once per region below
			}
			if !CrossRegionPrivate(s.Key) {
				c.add(Finding{Service: s.Key, Severity: sev, Code: CodeCrossRegionUnsupported, Resources: []string{region, c.v.id},
					Diagnosis: fmt.Sprintf("the task needs %s in %s, which cross-region PrivateLink does not serve (%s is not cross-region enabled): from %s it is reached %s",
						host, region, s.EndpointService(region), c.v.region, how),
					Remediation: fmt.Sprintf("keep a NAT path for %s, or use %s in %s instead (move the resource, or replicate it: a secret's replica, a parameter copy, a log group here)", host, s.Key, c.v.region)})
				continue
			}
			if e, ok := c.crossRegionEndpoint(s, region); ok {
				id := aws.ToString(e.VpcEndpointId)
				dns := "with private DNS"
				if !aws.ToBool(e.PrivateDnsEnabled) {
					dns = "WITHOUT private DNS: the name still resolves to public addresses"
				}
				f := Finding{Service: s.Key, Severity: Info, Code: CodeCrossRegionEndpoint, Resources: []string{id, region},
					Diagnosis:   fmt.Sprintf("%s in %s is served by cross-region interface endpoint %s (service region %s), %s", host, region, id, cmpOr(aws.ToString(e.ServiceRegion), region), dns),
					Remediation: "nothing to change"}
				if !aws.ToBool(e.PrivateDnsEnabled) {
					f.Severity = sev
					f.Remediation = fmt.Sprintf("enable private DNS on %s", id)
					f.Command = fmt.Sprintf("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --private-dns-enabled", c.v.region, id)
				}
				c.add(f)
				continue
			}
			group, subs := c.plannedGroup(), c.plannedSubnets()
			var ids []string
			for _, sub := range subs {
				ids = append(ids, sub.id)
			}
			c.add(Finding{Service: s.Key, Severity: sev, Code: CodeCrossRegionMissing, Resources: []string{region, c.v.id},
				Diagnosis: fmt.Sprintf("the task needs %s in %s and %s has no cross-region interface endpoint for %s: it is reached %s",
					host, region, c.v.id, s.EndpointService(region), how),
				Remediation: fmt.Sprintf("create an interface endpoint for %s with service region %s in %s", s.EndpointService(region), region, c.v.id),
				Command: fmt.Sprintf("aws ec2 create-vpc-endpoint --region %s --vpc-id %s --vpc-endpoint-type Interface --service-name %s --service-region %s --subnet-ids %s%s --private-dns-enabled",
					c.v.region, c.v.id, s.EndpointService(region), region, strings.Join(ids, " "), groupFlag(group))})
		}
		if pulls {
			c.add(Finding{Service: "s3", Severity: sev, Code: CodeCrossRegionLayers, Resources: []string{region, c.v.id},
				Diagnosis: fmt.Sprintf("an image from %s's registry downloads its layers from %s (%s): no gateway endpoint serves another region's bucket and ECR cannot use an S3 interface endpoint, so that part of the pull is never private: from %s it goes %s",
					region, catalogue.LayerBucket(region), layerHost(region), c.v.id, how),
				Remediation: fmt.Sprintf("replicate the image into %s's registry (ECR cross-region replication) and pull it from there, or keep a NAT path for %s", c.v.region, catalogue.LayerBucket(region))})
		}
	}
}

// layerHost is the host an image layer download from region's layer bucket connects to.
func layerHost(region string) string {
	s, _ := catalogue.Lookup("s3")
	return s.Host(region, "")
}

func groupFlag(g string) string {
	if g == "" {
		return ""
	}
	return " --security-group-ids " + g
}
