package launch

import (
	"slices"
	"testing"

	"github.com/vpcprobe/vpcprobe/needs"
)

// TestOtherRegions: what a task definition needs in other regions reaches inspect's targets as
// catalogue services by region (matched there to cross-region endpoints); unknown keys are
// dropped, no needs is none.
func TestOtherRegions(t *testing.T) {
	if otherRegions(nil) != nil || otherRegions(&needs.Needs{}) != nil {
		t.Errorf("no needs gave other regions")
	}
	got := otherRegions(&needs.Needs{Region: "eu-west-1", OtherRegions: []needs.RegionNeeds{
		{Region: "us-west-2", Services: []string{"ecr.api", "ecr.dkr", "s3", "no-such"}}, {Region: "eu-central-1", Services: []string{"secretsmanager"}}}})
	var keys []string
	for _, s := range got["us-west-2"] {
		keys = append(keys, s.Key)
	}
	if !slices.Equal(keys, []string{"ecr.api", "ecr.dkr", "s3"}) || len(got["eu-central-1"]) != 1 || got["eu-central-1"][0].Key != "secretsmanager" {
		t.Errorf("other regions %v", got)
	}
}
