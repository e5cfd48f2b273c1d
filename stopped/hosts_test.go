package stopped

import "testing"

// TestServiceOfDualStackECR: a stopped reason naming one of ECR's dual-stack hosts is about
// ECR (AWS General Reference, "Amazon ECR endpoints and quotas": ecr.<r>.api.aws,
// ecr-fips.<r>.api.aws, dkr-ecr.<r>.on.aws, dkr-ecr-fips.<r>.on.aws). Issue 17, item 9.
func TestServiceOfDualStackECR(t *testing.T) {
	for host, want := range map[string]string{
		"ecr.us-east-2.api.aws":                             "ecr.api",
		"ecr-fips.us-east-2.api.aws":                        "ecr.api",
		"123456789012.dkr-ecr.us-east-2.on.aws":             "ecr.dkr",
		"123456789012.dkr-ecr-fips.us-east-2.on.aws":        "ecr.dkr",
		"123456789012.dkr.ecr-fips.us-east-2.amazonaws.com": "ecr.dkr",
	} {
		if got := serviceOfHost(host); got != want {
			t.Errorf("serviceOfHost(%s) = %q, want %q", host, got, want)
		}
	}
}
