package inspect

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// inboundOnly reports whether an interface endpoint's private DNS serves only queries that come
// through an inbound Resolver endpoint (DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint):
// names asked inside the VPC then resolve as if the endpoint had no private DNS (for S3, to the
// gateway endpoint's public addresses).
func inboundOnly(e ec2types.VpcEndpoint) bool {
	return e.DnsOptions != nil && aws.ToBool(e.DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint)
}
