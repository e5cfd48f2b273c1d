package needs

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestDeriveEveryECRHost: an image from any of ECR's registry hosts is ECR's, needing ecr.api,
// ecr.dkr and S3, never "an internet registry": the standard, FIPS, dual-stack and FIPS
// dual-stack names of AWS General Reference, "Amazon ECR endpoints and quotas"
// (dkr.ecr.<r>.amazonaws.com, dkr.ecr-fips.<r>.amazonaws.com, dkr-ecr.<r>.on.aws,
// dkr-ecr-fips.<r>.on.aws, after the registry's account). Issue 17, item 9.
func TestDeriveEveryECRHost(t *testing.T) {
	tests := []struct {
		image           string
		fips, dualStack bool
	}{
		{"123456789012.dkr.ecr.us-east-2.amazonaws.com/app:1", false, false},
		{"123456789012.dkr.ecr-fips.us-east-2.amazonaws.com/app:1", true, false},
		{"123456789012.dkr-ecr.us-east-2.on.aws/app:1", false, true},
		{"123456789012.dkr-ecr-fips.us-east-2.on.aws/app:1", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			td := &types.TaskDefinition{Family: aws.String("x"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/x"),
				ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(tt.image)}}}
			n := Derive(td, Options{Region: "us-east-2"})
			img := n.Images[0]
			if img.Kind != KindECR || img.Region != "us-east-2" || img.Account != "123456789012" || img.FIPS != tt.fips || img.DualStack != tt.dualStack {
				t.Errorf("%+v", img)
			}
			if !slices.Equal(n.Services, []string{"ecr.api", "ecr.dkr", "s3"}) {
				t.Errorf("services %q", n.Services)
			}
			if slices.Contains(n.Codes(), NoteInternetRegistry) || slices.Contains(n.Codes(), NoteImageInvalid) {
				t.Errorf("codes %q", n.Codes())
			}
		})
	}
}
