package checks

import (
	"testing"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// TestParseImageEveryRegistryHost: an image from any of ECR's registry hosts is an ECR image,
// the dual-stack and FIPS ones included (AWS General Reference, "Amazon ECR endpoints and
// quotas": dkr.ecr.<r>.amazonaws.com, dkr.ecr-fips.<r>.amazonaws.com, dkr-ecr.<r>.on.aws,
// dkr-ecr-fips.<r>.on.aws, with the registry's account in front; ECS developer guide, "Fargate
// task networking", for dual-stack image URIs of IPv6-only tasks). Issue 17, item 9.
func TestParseImageEveryRegistryHost(t *testing.T) {
	tests := []struct {
		registry string
		region   string
		variant  catalogue.Variant
	}{
		{"123456789012.dkr.ecr.us-east-2.amazonaws.com", "us-east-2", catalogue.Variant{}},
		{"123456789012.dkr.ecr-fips.us-east-2.amazonaws.com", "us-east-2", catalogue.Variant{FIPS: true}},
		{"123456789012.dkr-ecr.us-east-2.on.aws", "us-east-2", catalogue.Variant{DualStack: true}},
		{"123456789012.dkr-ecr-fips.us-east-2.on.aws", "us-east-2", catalogue.Variant{FIPS: true, DualStack: true}},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", catalogue.Variant{}},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", catalogue.Variant{FIPS: true}},
	}
	for _, tt := range tests {
		t.Run(tt.registry, func(t *testing.T) {
			r, err := ParseImage(tt.registry + "/team/app:1.2")
			if err != nil {
				t.Fatal(err)
			}
			if r.Registry != tt.registry || r.Account != "123456789012" || r.Region != tt.region || r.Variant != tt.variant || r.Repository != "team/app" || r.Tag != "1.2" {
				t.Errorf("%+v", r)
			}
		})
	}
	for _, uri := range []string{
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com./app", "123456789012.DKR.ECR.eu-west-1.amazonaws.com/app",
		"ecr.us-east-2.api.aws/app", "api.ecr.us-east-2.amazonaws.com/app", "dkr.ecr.us-east-2.amazonaws.com/app",
	} {
		if r, err := ParseImage(uri); err == nil {
			t.Errorf("%q parsed: %+v", uri, r)
		}
	}
}
