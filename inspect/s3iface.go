package inspect

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// inboundOnly reports whether an interface endpoint's private DNS serves only queries that come
// through an inbound Resolver endpoint (DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint):
// names asked inside the VPC then resolve as if the endpoint had no private DNS (for S3, to the
// gateway endpoint's public addresses).
func inboundOnly(e ec2types.VpcEndpoint) bool {
	return e.DnsOptions != nil && aws.ToBool(e.DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint)
}

// s3Interface checks the VPC's S3 interface endpoints eps beside its gateways gws. With private
// DNS on and PrivateDnsOnlyForInboundResolverEndpoint off, names asked inside the VPC (the layer
// bucket's among them) resolve to the interface endpoint, not to the gateway: its security
// group and its subnets' ACLs decide the connection, and "the interface endpoints for Amazon S3
// can't be used with Amazon ECR" (ECS developer guide, VPC endpoints), so image layers fail.
// With the option on (it needs a gateway), or private DNS off, the gateway carries them and the
// interface endpoint serves only on-premises clients: nothing to say here.
func (c *check) s3Interface(s catalogue.Service, eps, gws []ec2types.VpcEndpoint) {
	i := -1
	for j, e := range eps {
		if aws.ToBool(e.PrivateDnsEnabled) && !inboundOnly(e) {
			i = j
			break
		}
	}
	if i < 0 {
		if len(gws) == 0 && len(eps) > 0 {
			c.iface(s, eps) // no gateway: the interface endpoint is the only private path there is
		}
		return
	}
	e := eps[i]
	id := aws.ToString(e.VpcEndpointId)
	c.iface(s, eps[i:i+1])
	f := Finding{Service: s.Key, Severity: Fail, Code: CodeS3InterfaceLayers, Resources: []string{id},
		Diagnosis: fmt.Sprintf("S3 interface endpoint %s has private DNS for resolvers inside the VPC (PrivateDnsOnlyForInboundResolverEndpoint off), so %s resolves to it, not to a gateway: its security groups and its subnets' network ACLs decide the connection, and ECR cannot use an S3 interface endpoint for image layers",
			id, catalogue.LayerBucket(c.v.region)+".s3."+c.v.region+"."+catalogue.PartitionOf(c.v.region).DNSSuffix)}
	if len(gws) > 0 {
		f.Resources = append(f.Resources, aws.ToString(gws[0].VpcEndpointId))
		f.Remediation = fmt.Sprintf("turn on PrivateDnsOnlyForInboundResolverEndpoint on %s, so that the VPC's own queries go to gateway endpoint %s and only on-premises clients use the interface endpoint", id, aws.ToString(gws[0].VpcEndpointId))
		f.Command = fmt.Sprintf("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --dns-options PrivateDnsOnlyForInboundResolverEndpoint=true", c.v.region, id)
	} else {
		f.Remediation = fmt.Sprintf("create the S3 gateway endpoint (free) on the subnet's route table, then turn on PrivateDnsOnlyForInboundResolverEndpoint on %s (it needs the gateway), or turn off its private DNS", id)
	}
	c.add(f)
}
