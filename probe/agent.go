package probe

import (
	"cmp"
	"context"
	"fmt"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// The ECS agent's own path. Its first call is ecs:DiscoverPollEndpoint, which names the hosts of
// its control channel and telemetry; ecs's auth check makes that call, and ecs-agent and
// ecs-telemetry wait for its answer (as the layer check waits for the manifest) and probe the
// hosts it names. When ecs ends without making the call, its Done releases them with the reason.

// agentAnswer is what ecs's auth check leaves for ecs-agent and ecs-telemetry: the hosts, or
// why there are none.
type agentAnswer struct {
	res   checks.Result
	hosts checks.AgentHosts
	why   string // why the hosts are unknown; empty when hosts are known
}

// cluster is the cluster the agent would join: ECS_CLUSTER, else ECS's own default.
func (a *awsRun) cluster() string { return cmp.Or(a.p.ECSCluster, "default") }

// callAgent is the run's one DiscoverPollEndpoint (and DescribeClusters), bounded by one step.
func (a *awsRun) callAgent(ctx context.Context) agentAnswer {
	r, hosts := signed(ctx, a, "ecs:DiscoverPollEndpoint", func(c context.Context) (checks.Result, checks.AgentHosts) {
		return checks.AgentEndpoints(c, a.ecs, a.cluster())
	})
	r = a.defaultClusterResult(r)
	v := agentAnswer{res: r, hosts: hosts}
	if r.Code == checks.AccessDenied && a.p.Metadata.TaskARN != "" {
		// In a task the caller is the task role, which has no business calling the agent's
		// API: the instance role does. A denial there says nothing about registration.
		v.res = checks.Skipped("auth", "ecs:DiscoverPollEndpoint is denied to this task's role, as it should be: only a container instance's role needs it (run the probe on the instance: taskdef/instance)")
		v.why = "agent hosts unknown: only ecs:DiscoverPollEndpoint names them, and this task's role may not call it"
		return v
	}
	if hosts.Agent == "" {
		v.why = fmt.Sprintf("agent hosts unknown: ecs failed (its auth check, ecs:DiscoverPollEndpoint: %s)", r.Code)
	}
	return v
}

// ecsAuth is ecs's authenticated check: DiscoverPollEndpoint, as the agent calls it.
func (a *awsRun) ecsAuth(ctx context.Context, _ Target) checks.Result {
	a.agent.start(ctx, a.callAgent)
	v, ok := a.agent.wait(ctx)
	if !ok {
		return cutShort("auth")
	}
	return v.res
}

// ecsDone releases ecs-agent and ecs-telemetry when ecs ended without calling
// DiscoverPollEndpoint (a failed network check, or no auth check): their hosts stay unknown.
func (a *awsRun) ecsDone(results []checks.Result) {
	why := "agent hosts unknown: ecs did not get to ecs:DiscoverPollEndpoint"
	for _, r := range results {
		if r.Status == checks.Fail {
			why = fmt.Sprintf("agent hosts unknown: ecs failed (its %s check: %s)", r.Name, r.Code)
			break
		}
	}
	a.agent.set(agentAnswer{why: why})
}

// learnHost is the Prober's LearnHost: the host DiscoverPollEndpoint named for ecs-agent or
// ecs-telemetry, waiting for ecs's auth check until ctx ends.
func (a *awsRun) learnHost(ctx context.Context, svc catalogue.Service) (string, string) {
	if !a.p.probes("ecs") {
		return "", "agent hosts unknown: ecs is not probed, and only its ecs:DiscoverPollEndpoint names them (add ecs to --services, or use --services ec2-instance)"
	}
	v, ok := a.agent.wait(ctx)
	switch {
	case !ok:
		return "", "agent hosts unknown: the run's deadline fell before ecs:DiscoverPollEndpoint answered"
	case v.why != "":
		return "", v.why
	case svc.Key == "ecs-telemetry":
		return v.hosts.Telemetry, ""
	}
	return v.hosts.Agent, ""
}
