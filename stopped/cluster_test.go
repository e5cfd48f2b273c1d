package stopped

import "testing"

// TestSameCluster: a cluster given by name or by ARN (ECS API reference, Cluster.clusterArn:
// arn:aws:ecs:region:012345678910:cluster/test) matches the name a task ARN gives.
func TestSameCluster(t *testing.T) {
	tests := []struct {
		cluster, name string
		want          bool
	}{
		{"prod", "prod", true},
		{"arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "prod", true},
		{"arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod", "prod", true},
		{"arn:aws:ecs:eu-west-1:123456789012:cluster/staging", "prod", false},
		{"staging", "prod", false},
	}
	for _, tt := range tests {
		if got := SameCluster(tt.cluster, tt.name); got != tt.want {
			t.Errorf("SameCluster(%q, %q) = %t; want %t", tt.cluster, tt.name, got, tt.want)
		}
	}
}
