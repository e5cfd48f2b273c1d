package catalogue

import "slices"

// The names of AWS's VPC endpoint services, per endpoint type, partition and variant, as
// published by DescribeVpcEndpointServices (fixtures in eksctl's pkg/cfn/builder
// vpc_endpoint_test.go, for us-west-2 and cn-north-1) and by the AWS CDK
// (aws-cdk-lib/aws-ec2/lib/vpc-endpoint.ts: GatewayVpcEndpointAwsService always
// "com.amazonaws.<r>.<name>"; InterfaceVpcEndpointAwsService "cn.com.amazonaws" in China for
// the names its VPC_ENDPOINT_SERVICE_EXCEPTIONS list; its *_FIPS members). endpointservices_test.go
// holds those published names and tests this table against them.

// chinaPrefixed lists the services whose interface endpoint service names start with "cn." in
// China (CDK's VPC_ENDPOINT_SERVICE_EXCEPTIONS for cn-north-1 and cn-northwest-1: ecr.api,
// ecr.dkr, s3 and sts among our keys; logs, secretsmanager, ssm, kms, ssmmessages and ecs keep
// com.amazonaws). Gateway endpoint services never take the prefix: China's S3 gateway is
// com.amazonaws.cn-north-1.s3.
var chinaPrefixed = []string{"ecr.api", "ecr.dkr", "s3", "sts"}

// fipsEndpointServices are the services with a FIPS endpoint service of their own, and its
// name (CDK's KMS_FIPS, SSM_FIPS, STS_FIPS; the KMS developer guide names
// com.amazonaws.<r>.kms-fips). None of the others of the catalogue has one: their FIPS hosts
// (api.ecr-fips.<r>…, logs-fips.<r>…) are served by no endpoint, only over public addresses.
var fipsEndpointServices = map[string]string{"kms": "kms-fips", "ssm": "ssm-fips", "sts": "sts-fips"}

// EndpointServiceOf returns the VPC endpoint service of type typ ("gateway" or "interface")
// that serves the host a client with variant v calls for s in region: the FIPS endpoint service
// when the variant's host is a FIPS one and AWS publishes such a service (kms-fips), the
// standard one when the variant keeps the standard host (GovCloud's logs, sts and ssm are FIPS
// by default). ok is false when no endpoint service serves that host: a FIPS host without a
// FIPS endpoint service (ecr.api, logs, …), or a type s does not have. The dual-stack variant is not judged here (ECR PrivateLink does not serve it: the probe
// says so).
func (s Service) EndpointServiceOf(region, typ string, v Variant) (string, bool) {
	if typ == "gateway" && !s.Gateway {
		return "", false
	}
	key := s.Key
	if v.FIPS {
		v.DualStack = false
		if s.HostFor(region, "123456789012", v) != s.Host(region, "123456789012") {
			fips, ok := fipsEndpointServices[s.Key]
			switch {
			case typ == "gateway":
				// A gateway endpoint is a route to the S3 prefix list, not a name: the
				// standard gateway is the only one there is.
			case !ok:
				return "", false
			default:
				key = fips
			}
		}
	}
	name := "com.amazonaws." + region + "." + key
	if typ != "gateway" && PartitionOf(region).ID == "aws-cn" && slices.Contains(chinaPrefixed, key) {
		return "cn." + name, true
	}
	return name, true
}

// InterfaceEndpointService returns the interface endpoint service of s in region (S3's
// interface endpoint, where EndpointService names its gateway).
func (s Service) InterfaceEndpointService(region string) string {
	name, _ := s.EndpointServiceOf(region, "interface", Variant{})
	return name
}
