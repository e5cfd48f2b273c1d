package stopped

import (
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// SameCluster reports whether cluster, a cluster's name or ARN
// (arn:aws:ecs:r:a:cluster/NAME), is the cluster name a task ARN gives (ClusterOfTaskARN).
func SameCluster(cluster, name string) bool {
	if _, _, _, _, res, ok := catalogue.ParseARN(cluster); ok {
		cluster = strings.TrimPrefix(res, "cluster/")
	}
	return cluster == name
}
