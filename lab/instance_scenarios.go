package lab

import (
	"slices"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// The ECS container instance that never registers: the probe runs as on the instance (no task
// metadata, instance metadata, ecs.config) with --services ec2-instance.

// instanceKeys are the keys of --services ec2-instance.
var instanceKeys = func() []string {
	keys, _ := catalogue.Group("ec2-instance")
	return keys
}()

// instanceArgs are the probe flags of every instance scenario.
var instanceArgs = []string{"--services", "ec2-instance"}

// skip is the expectation of a service none of whose checks could run.
func skip() ServiceExpect { return ServiceExpect{Verdict: checks.Skip, Route: none} }

// agentUnknown expects ecs-agent and ecs-telemetry skipped: their hosts come from ecs.
func (s services) agentUnknown() services {
	return s.with("ecs-agent", skip()).with("ecs-telemetry", skip())
}

var instanceScenarios = []Scenario{
	{
		Name:     "instance-healthy",
		Summary:  "an ECS container instance with the ecs, ecs-agent, ecs-telemetry, ECR and logs endpoints and the S3 gateway: it registers",
		Instance: true,
		Net:      allEndpoints(),
		Args:     instanceArgs,
		Expect: Expect{Exit: 0, Verdict: checks.Pass, Within: quick, InstanceMetadata: "pass",
			Services: healthy(instanceKeys)},
	},
	{
		Name:     "instance-no-ecs-endpoint",
		Summary:  "a container instance with no ecs endpoint and no NAT: the agent cannot reach ECS and never registers",
		Instance: true,
		Net:      withNet(allEndpoints(), func(n *Network) { n.Endpoints = except(interfaceKeys(), "ecs") }),
		Args:     instanceArgs,
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole, InstanceMetadata: "pass",
			Services: healthy(instanceKeys).with("ecs", fail(public, "tcp", checks.Timeout)).agentUnknown()},
	},
	{
		Name:     "instance-no-agent-endpoint",
		Summary:  "a container instance with the ecs endpoint but none for ecs-agent, and no NAT: it registers but its control channel cannot connect",
		Instance: true,
		Net:      withNet(allEndpoints(), func(n *Network) { n.Endpoints = except(interfaceKeys(), "ecs-agent") }),
		Args:     instanceArgs,
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole, InstanceMetadata: "pass",
			Services: healthy(instanceKeys).with("ecs-agent", fail(public, "tcp", checks.Timeout))},
	},
	{
		Name:     "instance-dpe-denied",
		Summary:  "every path open, but the instance role may not call ecs:DiscoverPollEndpoint (no AmazonEC2ContainerServiceforEC2Role)",
		Instance: true,
		Net:      allEndpoints(),
		AWS:      deny("ecs:DiscoverPollEndpoint"),
		Args:     instanceArgs,
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: quick, InstanceMetadata: "pass",
			Services: healthy(instanceKeys).with("ecs", fail(private, "auth", checks.AccessDenied)).agentUnknown()},
	},
	{
		Name:     "instance-cluster-missing",
		Summary:  "every path open, but ECS_CLUSTER in /etc/ecs/ecs.config names a cluster that does not exist",
		Instance: true,
		Net:      allEndpoints(),
		AWS: func(c *fakeaws.Config) {
			c.MissingClusters = append(c.MissingClusters, Cluster)
		},
		Args: instanceArgs,
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: quick, InstanceMetadata: "pass",
			Services: healthy(instanceKeys).with("ecs", fail(private, "auth", checks.NotFound))},
	},
	{
		Name:     "instance-imds-hop-limit",
		Summary:  "the probe in a bridge-mode container on an instance whose metadata hop limit is 1: the token PUT never answers",
		Instance: true,
		Net:      withNet(allEndpoints(), func(n *Network) { n.IMDSHopLimit = true }),
		// Instance metadata cannot name the region from here: the user passes it.
		Args: append(slices.Clone(instanceArgs), "--region", Region),
		Expect: Expect{Exit: 0, Verdict: checks.Warn, Within: quick, InstanceMetadata: "warn timeout",
			Services: healthy(instanceKeys)},
	},
}
