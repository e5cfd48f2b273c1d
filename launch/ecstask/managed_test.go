package ecstask

import (
	"context"
	"testing"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestManagedInstances: what identifies ECS Managed Instances is the launch type
// MANAGED_INSTANCES or a capacity provider whose DescribeCapacityProviders type is
// MANAGED_INSTANCES (ECS API Reference, CapacityProvider.type: EC2_AUTOSCALING |
// MANAGED_INSTANCES | FARGATE | FARGATE_SPOT); the fake answers in ECS's wire shape, moto 5.2
// knowing no Managed Instances providers.
func TestManagedInstances(t *testing.T) {
	w := newWorld(t, fakeaws.DefaultConfig())
	w.fake.SetCapacityProviders(map[string]string{"mi-private": "MANAGED_INSTANCES", "asg-web": "EC2_AUTOSCALING"})
	for _, tc := range []struct {
		name string
		c    Config
		want bool
	}{
		{"launch type", Config{LaunchType: LaunchTypeManagedInstances}, true},
		{"Fargate", Config{LaunchType: "FARGATE"}, false},
		{"EC2", Config{LaunchType: "EC2"}, false},
		{"Managed Instances provider", Config{CapacityProvider: "mi-private"}, true},
		{"Auto Scaling provider", Config{CapacityProvider: "asg-web"}, false},
		{"Fargate Spot", Config{CapacityProvider: "FARGATE_SPOT"}, false},
		{"unknown provider", Config{CapacityProvider: "gone"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ManagedInstances(context.Background(), w.ecs, tc.c)
			if err != nil || got != tc.want {
				t.Errorf("ManagedInstances = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
