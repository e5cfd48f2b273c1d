package probe

import (
	"fmt"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// A container instance whose /etc/ecs/ecs.config does not set ECS_CLUSTER. The agent then
// registers into "default" and, when that cluster does not exist, creates it first
// (amazon-ecs-agent, ecs-agent/api/ecs/client/ecs_client.go, RegisterContainerInstance: "If our
// clusterRef is empty, we should try to create the default"; on a ClusterNotFound answer it
// calls CreateCluster and registers again). AmazonEC2ContainerServiceforEC2Role allows
// ecs:CreateCluster. So a missing default cluster does not keep the instance from
// registering: it lands in a cluster nobody meant, which is worth a warning, not a failure.

// defaultClusterResult turns ecs's auth check that found no cluster "default" into a warning
// when ECS_CLUSTER is unset: the agent will create it.
func (a *awsRun) defaultClusterResult(r checks.Result) checks.Result {
	if !a.p.ECSClusterDefaulted || r.Name != "auth" {
		return r
	}
	switch r.Status {
	case checks.Fail:
		if r.Code != checks.NotFound {
			return r
		}
		r.Status = checks.Warn
		r.Detail = checks.Bound(fmt.Sprintf("ECS_CLUSTER is not set, so the agent registers into %s, which does not exist: it will create it with ecs:CreateCluster (%s)", DefaultCluster, r.Detail))
	case checks.Pass:
		r.Detail = checks.Bound(r.Detail + "; ECS_CLUSTER is not set, so the agent registers into " + DefaultCluster)
	}
	return r
}

// defaultCluster explains the warning: where the instance lands, what that needs, and how to
// name the cluster meant.
func (f finding) defaultCluster(r checks.Result) (string, string) {
	policy := "arn:" + catalogue.PartitionOf(f.region).ID + ":iam::aws:policy/service-role/" + agentPolicy
	return fmt.Sprintf("/etc/ecs/ecs.config does not set ECS_CLUSTER, so the ECS agent registers this instance into the cluster %[1]s, and since %[1]s does not exist in %[2]s it first creates it (ecs:CreateCluster, which %[3]s allows): the instance will run, but in %[1]s, where no service of another cluster places tasks.", DefaultCluster, f.region, agentPolicy),
		fmt.Sprintf("If the instance belongs to a cluster, set ECS_CLUSTER=<cluster> in /etc/ecs/ecs.config (the instance's user data or launch template usually writes it) and restart the agent (sudo systemctl restart ecs). If %[1]s is meant, keep ecs:CreateCluster in the instance role (%[2]s grants it) or create it once: aws ecs create-cluster --cluster-name %[1]s --region %[3]s.", DefaultCluster, policy, f.region)
}
