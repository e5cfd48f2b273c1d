package lambdafn

import (
	"fmt"

	"github.com/vpcprobe/vpcprobe/launch"
)

// MaxSecurityGroups is Lambda's limit on a function's VPC security groups (VpcConfig
// SecurityGroupIds: "Maximum number of 5 items", Lambda API reference, VpcConfig);
// launch.MaxRunID is the probe's limit on its run id.
const MaxSecurityGroups = 5

// CheckTargets reports what in c's subnets, security groups and launch id a function cannot
// take, naming the flag to fix; nil when the launch can start. It runs once --for-task has had
// its say (the task's subnet and groups).
func (c Config) CheckTargets() error {
	switch {
	case len(c.Subnets) == 0:
		return fmt.Errorf("--subnets: required: the subnets to probe, comma-separated (example: subnet-0a1b2c3d,subnet-0b2c3d4e)")
	case len(c.SecurityGroups) == 0 && c.FunctionName == "":
		return fmt.Errorf("--security-groups: required with --runner lambda: a function in a VPC needs at least one; give the task's groups")
	case len(c.SecurityGroups) > MaxSecurityGroups:
		return fmt.Errorf("--security-groups: %d given, a function takes at most %d", len(c.SecurityGroups), MaxSecurityGroups)
	case len(c.RunID(c.Subnets[0])) > launch.MaxRunID:
		return fmt.Errorf("--launch-id %q: too long for the run ids <launch-id>-<subnet>", c.LaunchID)
	}
	return nil
}
