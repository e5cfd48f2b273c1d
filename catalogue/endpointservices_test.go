package catalogue

import "testing"

// published is one VPC endpoint service as a public source names it: its ServiceName, its
// ServiceType, and where the name comes from.
type published struct {
	key, region, typ string
	fips             bool
	name             string // "" : no such endpoint service is published
	source           string
}

// Sources (the names copied as they appear there):
//   - eksctl, pkg/cfn/builder/vpc_endpoint_test.go: DescribeVpcEndpointServices output fixtures
//     serviceDetailsJSON (us-west-2) and serviceDetailsJSONChina (cn-north-1), with ServiceType.
//   - AWS CDK, aws-cdk-lib/aws-ec2/lib/vpc-endpoint.ts: GatewayVpcEndpointAwsService.S3
//     ("com.amazonaws.<r>.s3", no China prefix), InterfaceVpcEndpointAwsService with China's
//     VPC_ENDPOINT_SERVICE_EXCEPTIONS, and the FIPS members KMS_FIPS ("kms-fips"), SSM_FIPS,
//     STS_FIPS; no ECR, logs, Secrets Manager, SSM Messages or ECS FIPS member.
//   - KMS developer guide, "Connecting to AWS KMS through a VPC endpoint": com.amazonaws.<r>.kms-fips.
const (
	eksctl = "eksctl vpc_endpoint_test.go DescribeVpcEndpointServices fixture"
	cdk    = "aws-cdk-lib aws-ec2 vpc-endpoint.ts"
)

var publishedServices = []published{
	{"ecr.api", "us-west-2", "interface", false, "com.amazonaws.us-west-2.ecr.api", eksctl},
	{"ecr.dkr", "us-west-2", "interface", false, "com.amazonaws.us-west-2.ecr.dkr", eksctl},
	{"s3", "us-west-2", "gateway", false, "com.amazonaws.us-west-2.s3", eksctl},
	{"s3", "us-west-2", "interface", false, "com.amazonaws.us-west-2.s3", eksctl},
	{"sts", "us-west-2", "interface", false, "com.amazonaws.us-west-2.sts", eksctl},
	{"ecr.api", "cn-north-1", "interface", false, "cn.com.amazonaws.cn-north-1.ecr.api", eksctl},
	{"ecr.dkr", "cn-north-1", "interface", false, "cn.com.amazonaws.cn-north-1.ecr.dkr", eksctl},
	{"s3", "cn-north-1", "gateway", false, "com.amazonaws.cn-north-1.s3", eksctl},
	{"sts", "cn-north-1", "interface", false, "cn.com.amazonaws.cn-north-1.sts", eksctl},
	{"s3", "cn-northwest-1", "gateway", false, "com.amazonaws.cn-northwest-1.s3", cdk},
	{"s3", "cn-northwest-1", "interface", false, "cn.com.amazonaws.cn-northwest-1.s3", cdk},
	{"logs", "cn-north-1", "interface", false, "com.amazonaws.cn-north-1.logs", cdk},
	{"secretsmanager", "cn-north-1", "interface", false, "com.amazonaws.cn-north-1.secretsmanager", cdk},
	{"ecs", "cn-northwest-1", "interface", false, "com.amazonaws.cn-northwest-1.ecs", cdk},
	{"kms", "us-east-1", "interface", true, "com.amazonaws.us-east-1.kms-fips", cdk + "; KMS developer guide"},
	{"kms", "us-gov-west-1", "interface", true, "com.amazonaws.us-gov-west-1.kms-fips", cdk},
	{"ssm", "us-east-1", "interface", true, "com.amazonaws.us-east-1.ssm-fips", cdk},
	{"sts", "us-east-2", "interface", true, "com.amazonaws.us-east-2.sts-fips", cdk},
	{"ecr.api", "us-east-1", "interface", true, "", cdk + " (no ECR FIPS member)"},
	{"ecr.dkr", "us-east-1", "interface", true, "", cdk + " (no ECR FIPS member)"},
	{"logs", "us-east-1", "interface", true, "", cdk + " (no logs FIPS member)"},
	{"secretsmanager", "us-east-1", "interface", true, "", cdk + " (no Secrets Manager FIPS member)"},
}

// TestEndpointServicesPublished checks the endpoint service names against the published ones.
func TestEndpointServicesPublished(t *testing.T) {
	for _, p := range publishedServices {
		t.Run(p.key+"/"+p.region+"/"+p.typ, func(t *testing.T) {
			svc, ok := Lookup(p.key)
			if !ok {
				t.Fatalf("no %s in the catalogue", p.key)
			}
			got, ok := svc.EndpointServiceOf(p.region, p.typ, Variant{FIPS: p.fips})
			if p.name == "" {
				if ok {
					t.Errorf("FIPS %t: %s, want none (%s)", p.fips, got, p.source)
				}
				return
			}
			if !ok || got != p.name {
				t.Errorf("FIPS %t: %q (%t), want %s (%s)", p.fips, got, ok, p.name, p.source)
			}
		})
	}
	// What users create: S3's gateway, also in China.
	s3, _ := Lookup("s3")
	if got := s3.EndpointService("cn-north-1"); got != "com.amazonaws.cn-north-1.s3" {
		t.Errorf("EndpointService(cn-north-1) for s3 = %s, want the gateway com.amazonaws.cn-north-1.s3 (%s)", got, eksctl)
	}
}
