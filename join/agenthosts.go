package join

import (
	"slices"

	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
)

// agentHosts returns rep with the resolver findings of the ECS agent's channels rebuilt for the
// hosts the probe measured (ecs-a-4.<r>…, which ecs:DiscoverPollEndpoint handed out): inspect
// alone does not know them, and a SYSTEM rule must match the names the agent really calls.
// rep itself is not changed.
func agentHosts(live *report.Report, rep *inspect.Report) *inspect.Report {
	if live == nil {
		return rep
	}
	hosts := map[string][]string{}
	for _, sr := range live.Services {
		if (sr.Service == "ecs-agent" || sr.Service == "ecs-telemetry") && sr.Host != "" && !slices.Contains(hosts[sr.Service], sr.Host) {
			hosts[sr.Service] = append(hosts[sr.Service], sr.Host)
		}
	}
	if len(hosts) == 0 {
		return rep
	}
	out := *rep
	out.Findings = slices.Clone(rep.Findings)
	for i, f := range out.Findings {
		if g, ok := inspect.AgentHostsFix(f, rep.Region, rep.VPCID, hosts[f.Service]); ok {
			out.Findings[i] = g
		}
	}
	return &out
}
