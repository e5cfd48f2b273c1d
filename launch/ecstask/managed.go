package ecstask

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECS Managed Instances. AWS runs these instances: there is no SSH or Session Manager on them
// (AWS-NOTES, "ECS Managed Instances"), so vpcprobe's instance mode — the binary run on the
// container instance itself, --services ec2-instance — cannot run there. What identifies them is
// the capacity provider: DescribeCapacityProviders answers type MANAGED_INSTANCES, with a
// managedInstancesProvider member (ECS API Reference, CapacityProvider), and RunTask takes the
// launch type MANAGED_INSTANCES. The probe reaches them as a task (this runner, awsvpc), or a
// Lambda function in their subnets tests the subnets' paths without them.

// LaunchTypeManagedInstances is the launch type of ECS Managed Instances.
const LaunchTypeManagedInstances = string(types.LaunchTypeManagedInstances)

// CapacityProviders is the part of the ECS client ManagedInstances calls; *ecs.Client is one.
type CapacityProviders interface {
	DescribeCapacityProviders(ctx context.Context, in *ecs.DescribeCapacityProvidersInput, opts ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error)
}

// ManagedInstances reports whether the launch c runs on ECS Managed Instances: its launch type
// says so, or its capacity provider is of type MANAGED_INSTANCES (one DescribeCapacityProviders
// call; FARGATE and FARGATE_SPOT need none).
func ManagedInstances(ctx context.Context, api CapacityProviders, c Config) (bool, error) {
	if c.LaunchType == LaunchTypeManagedInstances {
		return true, nil
	}
	if c.CapacityProvider == "" || c.CapacityProvider == "FARGATE" || c.CapacityProvider == "FARGATE_SPOT" {
		return false, nil
	}
	out, err := api.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{c.CapacityProvider}})
	if err != nil {
		return false, fmt.Errorf("launch: describe capacity provider %s: %w", c.CapacityProvider, err)
	}
	for _, cp := range out.CapacityProviders {
		if cp.Type == types.CapacityProviderTypeManagedInstances || cp.ManagedInstancesProvider != nil {
			return true, nil
		}
	}
	return false, nil
}

// ManagedInstancesNote says which runner reaches ECS Managed Instances, and why not the
// instance mode.
func ManagedInstancesNote(c Config) string {
	on := "ECS Managed Instances"
	if c.CapacityProvider != "" {
		on += " (capacity provider " + c.CapacityProvider + ")"
	}
	return on + " have no shell: no SSH or Session Manager on the instances, so vpcprobe's instance mode (run on the container instance, --services ec2-instance) cannot run there. " +
		"This launch runs the probe as an ECS task on them (--runner ecs; the probe's task definition must be compatible with MANAGED_INSTANCES, network mode awsvpc); to test their subnets' paths without the instances, use --runner lambda."
}
