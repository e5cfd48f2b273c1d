package needs

import (
	"slices"
	"testing"
)

// TestOtherRegionFlags: what a task definition needs in other regions is the --other-region
// values launch passes to every probe (VPCPROBE_OTHER_REGION joins them with commas); a region
// with nothing to probe is left out.
func TestOtherRegionFlags(t *testing.T) {
	n := &Needs{Region: "eu-west-1", OtherRegions: []RegionNeeds{
		{Region: "us-east-1", Services: []string{"logs"}}, {Region: "us-west-2", Services: []string{"ecr.api", "ecr.dkr", "s3"}}, {Region: "ap-south-1"}}}
	if got := n.OtherRegionFlags(); !slices.Equal(got, []string{"us-east-1:logs", "us-west-2:ecr.api+ecr.dkr+s3"}) {
		t.Errorf("OtherRegionFlags = %v", got)
	}
}
