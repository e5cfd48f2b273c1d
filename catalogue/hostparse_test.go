package catalogue

import (
	"testing"
)

// TestParseHost reads every host form AWS publishes for the services of the catalogue. Sources:
// AWS General Reference, "Amazon ECR endpoints and quotas" (the us-east-2 row lists
// ecr.us-east-2.amazonaws.com, ecr-fips.us-east-2.api.aws, dkr-ecr.us-east-2.on.aws,
// dkr.ecr.us-east-2.amazonaws.com, ecr.us-east-2.api.aws, dkr-ecr-fips.us-east-2.on.aws,
// ecr-fips.us-east-2.amazonaws.com, api.ecr.us-east-2.amazonaws.com,
// dkr.ecr-fips.us-east-2.amazonaws.com; a registry is <account>. before the dkr names, ECR user
// guide "Private registry concepts"); "Amazon S3 endpoints and quotas" (s3, s3-fips,
// s3.dualstack, s3-fips.dualstack, and the legacy s3-<region> and global s3.amazonaws.com of the
// S3 user guide's "Virtual hosting of buckets"); "Amazon CloudWatch Logs endpoints and quotas"
// (logs, logs-fips, logs.<r>.api.aws); "AWS STS endpoints" (sts, sts-fips, global
// sts.amazonaws.com); the China pages (amazonaws.com.cn, api.amazonwebservices.com.cn); the
// PrivateLink guide's endpoint-specific DNS names (vpce-….<service>.<r>.vpce.amazonaws.com);
// the ECS agent's numbered hosts from DiscoverPollEndpoint (ecs-a-4.<r>.amazonaws.com, issue 17).
func TestParseHost(t *testing.T) {
	const a = "123456789012"
	none, fips, ds, both := Variant{}, Variant{FIPS: true}, Variant{DualStack: true}, Variant{FIPS: true, DualStack: true}
	tests := []struct {
		host                                string
		service, region, partition, account string
		variant                             Variant
		bucket                              string
	}{
		// ECR API
		{"api.ecr.us-east-2.amazonaws.com", "ecr.api", "us-east-2", "aws", "", none, ""},
		{"ecr.us-east-2.amazonaws.com", "ecr.api", "us-east-2", "aws", "", none, ""},
		{"ecr-fips.us-east-2.amazonaws.com", "ecr.api", "us-east-2", "aws", "", fips, ""},
		{"api.ecr-fips.us-east-2.amazonaws.com", "ecr.api", "us-east-2", "aws", "", fips, ""},
		{"ecr.us-east-2.api.aws", "ecr.api", "us-east-2", "aws", "", ds, ""},
		{"ecr-fips.us-east-2.api.aws", "ecr.api", "us-east-2", "aws", "", both, ""},
		{"api.ecr.cn-north-1.amazonaws.com.cn", "ecr.api", "cn-north-1", "aws-cn", "", none, ""},
		{"ecr.cn-north-1.api.amazonwebservices.com.cn", "ecr.api", "cn-north-1", "aws-cn", "", ds, ""},
		{"ecr-fips.us-gov-west-1.amazonaws.com", "ecr.api", "us-gov-west-1", "aws-us-gov", "", fips, ""},
		// ECR registries
		{a + ".dkr.ecr.us-east-2.amazonaws.com", "ecr.dkr", "us-east-2", "aws", a, none, ""},
		{a + ".dkr.ecr-fips.us-east-2.amazonaws.com", "ecr.dkr", "us-east-2", "aws", a, fips, ""},
		{a + ".dkr-ecr.us-east-2.on.aws", "ecr.dkr", "us-east-2", "aws", a, ds, ""},
		{a + ".dkr-ecr-fips.us-east-2.on.aws", "ecr.dkr", "us-east-2", "aws", a, both, ""},
		{a + ".dkr.ecr.cn-northwest-1.amazonaws.com.cn", "ecr.dkr", "cn-northwest-1", "aws-cn", a, none, ""},
		{a + ".dkr.ecr-fips.us-gov-east-1.amazonaws.com", "ecr.dkr", "us-gov-east-1", "aws-us-gov", a, fips, ""},
		{"dkr.ecr.eu-west-1.amazonaws.com", "ecr.dkr", "eu-west-1", "aws", "", none, ""}, // the private DNS zone
		{"123456789012.DKR.ECR.EU-WEST-1.AMAZONAWS.COM.", "ecr.dkr", "eu-west-1", "aws", a, none, ""},
		// A registry whose account a quoted error redacted (a Fargate 1.3 stopped reason:
		// "Get https://XXX.dkr.ecr.us-east-1.amazonaws.com/v2/", stopped/translate_test.go) is
		// still the registry; 12345 is no account.
		{"xxx.dkr.ecr.us-east-1.amazonaws.com", "ecr.dkr", "us-east-1", "aws", "", none, ""},
		{"12345.dkr.ecr.eu-west-1.amazonaws.com", "ecr.dkr", "eu-west-1", "aws", "", none, ""},
		// S3
		{"s3.us-east-2.amazonaws.com", "s3", "us-east-2", "aws", "", none, ""},
		{"s3-fips.us-east-2.amazonaws.com", "s3", "us-east-2", "aws", "", fips, ""},
		{"s3.dualstack.us-east-2.amazonaws.com", "s3", "us-east-2", "aws", "", ds, ""},
		{"s3-fips.dualstack.us-east-2.amazonaws.com", "s3", "us-east-2", "aws", "", both, ""},
		{"prod-us-east-2-starport-layer-bucket.s3.us-east-2.amazonaws.com", "s3", "us-east-2", "aws", "", none, "prod-us-east-2-starport-layer-bucket"},
		{"prod-us-east-2-starport-layer-bucket.s3.dualstack.us-east-2.amazonaws.com", "s3", "us-east-2", "aws", "", ds, "prod-us-east-2-starport-layer-bucket"},
		{"my.dotted.bucket.s3-fips.us-east-2.amazonaws.com", "s3", "us-east-2", "aws", "", fips, "my.dotted.bucket"},
		{"s3-us-west-2.amazonaws.com", "s3", "us-west-2", "aws", "", none, ""},
		{"s3.amazonaws.com", "s3", "", "aws", "", none, ""},
		{"prod-cn-north-1-starport-layer-bucket.s3.cn-north-1.amazonaws.com.cn", "s3", "cn-north-1", "aws-cn", "", none, "prod-cn-north-1-starport-layer-bucket"},
		{"s3.dualstack.cn-north-1.amazonaws.com.cn", "s3", "cn-north-1", "aws-cn", "", ds, ""},
		// CloudWatch Logs, STS, the rest
		{"logs.us-east-2.amazonaws.com", "logs", "us-east-2", "aws", "", none, ""},
		{"logs-fips.us-east-2.amazonaws.com", "logs", "us-east-2", "aws", "", fips, ""},
		{"logs.us-east-2.api.aws", "logs", "us-east-2", "aws", "", ds, ""},
		{"sts.eu-west-1.amazonaws.com", "sts", "eu-west-1", "aws", "", none, ""},
		{"sts-fips.us-east-1.amazonaws.com", "sts", "us-east-1", "aws", "", fips, ""},
		{"sts.amazonaws.com", "sts", "", "aws", "", none, ""},
		{"secretsmanager.eu-west-1.amazonaws.com", "secretsmanager", "eu-west-1", "aws", "", none, ""},
		{"kms-fips.us-gov-west-1.amazonaws.com", "kms", "us-gov-west-1", "aws-us-gov", "", fips, ""},
		{"ecs.eu-west-1.amazonaws.com", "ecs", "eu-west-1", "aws", "", none, ""},
		{"ecs-a-4.eu-west-1.amazonaws.com", "ecs-agent", "eu-west-1", "aws", "", none, ""},
		{"ecs-a.eu-west-1.amazonaws.com", "ecs-agent", "eu-west-1", "aws", "", none, ""},
		{"ecs-t-12.eu-west-1.amazonaws.com", "ecs-telemetry", "eu-west-1", "aws", "", none, ""},
		{"dynamodb.eu-west-1.amazonaws.com", "dynamodb", "eu-west-1", "aws", "", none, ""},
		// An interface endpoint's own names
		{"vpce-0a1b2c3d4e5f67890-abcd1234.api.ecr.eu-west-1.vpce.amazonaws.com", "ecr.api", "eu-west-1", "aws", "", none, ""},
		{"vpce-0a1b2c3d4e5f67890-abcd1234-eu-west-1a.logs.eu-west-1.vpce.amazonaws.com", "logs", "eu-west-1", "aws", "", none, ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h, ok := ParseHost(tt.host)
			if !ok {
				t.Fatal("not read as an AWS host")
			}
			if h.Service != tt.service || h.Region != tt.region || h.Partition != tt.partition || h.Account != tt.account || h.Variant != tt.variant || h.Bucket != tt.bucket {
				t.Errorf("%+v, want %s %s %s account %q %+v bucket %q", h, tt.service, tt.region, tt.partition, tt.account, tt.variant, tt.bucket)
			}
		})
	}
	for _, host := range []string{
		"", "public.ecr.aws", "docker.io", "registry-1.docker.io", "ghcr.io", "example.com",
		a + ".dkr.ecr.cn-north-1.amazonaws.com",            // China's region with the aws domain
		a + ".dkr.ecr.eu-west-1.amazonaws.com.cn",          // and the other way round
		a + ".dkr.ecr.eu-west-1.amazonaws.com.example.com", // a look-alike
		"api.ecr.eu-west-1.api.aws",                        // not a published dual-stack name
		"amazonaws.com", "eu-west-1.amazonaws.com",
	} {
		if h, ok := ParseHost(host); ok {
			t.Errorf("%q read as %+v", host, h)
		}
	}
}

// TestParseHostInvertsHostFor: every name the catalogue builds (HostFor, itself compared with
// the SDK's endpoint resolvers in TestHostVariantsMatchSDK) reads back as its key, region and
// account, and the variant the name carries.
func TestParseHostInvertsHostFor(t *testing.T) {
	const a = "123456789012"
	for _, region := range []string{"eu-west-1", "cn-north-1", "us-gov-west-1"} {
		for _, v := range []Variant{{}, {FIPS: true}, {DualStack: true}, {FIPS: true, DualStack: true}} {
			for _, s := range All() {
				host := s.HostFor(region, a, v)
				if host == "" {
					continue
				}
				h, ok := ParseHost(host)
				if !ok || h.Service != s.Key || h.Region != region || (s.Key == "ecr.dkr") != (h.Account == a) {
					t.Errorf("%s %s %+v: %s read as %+v %v", s.Key, region, v, host, h, ok)
				}
			}
		}
	}
}
