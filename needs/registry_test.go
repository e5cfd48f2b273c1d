package needs

import "testing"

// TestRegistryRules matches image references as ECS and Docker read them against the registry
// rules: the first path component is a host only with a '.' or ':' (or localhost).
func TestRegistryRules(t *testing.T) {
	tests := []struct {
		image, registry, kind, region, account string
		fips                                   bool
	}{
		{"nginx", "docker.io", KindInternet, "", "", false},
		{"nginx:1.27@sha256:0b9f1e7c6c0e4e2a8f6b3c1d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", "docker.io", KindInternet, "", "", false},
		{"library/nginx", "docker.io", KindInternet, "", "", false},
		{"registry-1.docker.io/library/nginx", "registry-1.docker.io", KindInternet, "", "", false},
		{"ghcr.io/o/r:1", "ghcr.io", KindInternet, "", "", false},
		{"public.ecr.aws/nginx/nginx:stable", "public.ecr.aws", KindInternet, "", "", false},
		{"gcr.io/distroless/static", "gcr.io", KindInternet, "", "", false},
		{"me.azurecr.io/app", "me.azurecr.io", KindInternet, "", "", false},
		{"localhost/app", "localhost", KindInternet, "", "", false},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", KindECR, "eu-west-1", "123456789012", false},
		{"123456789012.DKR.ECR.eu-west-1.amazonaws.com/app:1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", KindECR, "eu-west-1", "123456789012", false},
		{"123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", KindECR, "cn-northwest-1", "123456789012", false},
		{"123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com/app", "123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com", KindECR, "us-gov-east-1", "123456789012", true},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example/app", "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example", KindInternet, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			img, _ := parseImage("c", tt.image)
			if img.Registry != tt.registry || img.Kind != tt.kind || img.Region != tt.region || img.Account != tt.account || img.FIPS != tt.fips {
				t.Errorf("%+v", img)
			}
		})
	}
}
