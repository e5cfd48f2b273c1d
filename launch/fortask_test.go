package launch

import (
	"testing"
)

// TestClusterOfTask reads the cluster from the task ARN formats ECS has used.
func TestClusterOfTask(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:ecs:eu-west-1:123456789012:task/shop/0123456789abcdef0123456789abcdef":    "shop",
		"arn:aws-cn:ecs:cn-north-1:123456789012:task/orders/0123456789abcdef":              "orders",
		"arn:aws:ecs:eu-west-1:123456789012:task/0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c":     "", // old format
		"0123456789abcdef0123456789abcdef":                                                 "",
		"arn:aws:ecs:eu-west-1:123456789012:container-instance/shop/0123456789abcdef01234": "",
	} {
		if got := ClusterOfTask(arn); got != want {
			t.Errorf("%s: %q, want %q", arn, got, want)
		}
	}
}
