package lab

import (
	"slices"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/probe"
)

// Scenarios of issue 17 where packets matter: S3 through an interface endpoint (item 2), a
// container instance without ECS_CLUSTER (item 5), and one whose account only instance metadata
// names (item 6). The Lambda port-range scenario (item 4) is lambda_ports.go's.

var issue17Scenarios = []Scenario{
	{
		Name: "s3-interface-endpoint",
		Summary: "an S3 interface endpoint with private DNS for in-VPC names beside the S3 gateway: the layer bucket resolves to its ENIs, " +
			"which ECR cannot use for layers (a warning)",
		Net: withNet(allEndpoints(), func(n *Network) { n.Endpoints = append(n.Endpoints, "s3") }),
		Expect: Expect{Exit: 0, Verdict: checks.Warn, Within: quick,
			Services: healthy(defaultKeys).with("s3", warn(private, "", probe.S3Interface))},
	},
	{
		Name:    "s3-interface-endpoint-sg",
		Summary: "as s3-interface-endpoint, but the interface endpoint's security group drops 443: its group is to blame, not a gateway route",
		Net: withNet(allEndpoints(), func(n *Network) {
			n.Endpoints = append(n.Endpoints, "s3")
			n.SGNo443 = []string{"s3"}
		}),
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: healthy(defaultKeys).with("s3", fail(private, "tcp", checks.Timeout))},
	},
	{
		Name:            "instance-no-ecs-cluster",
		Summary:         "a container instance whose ecs.config sets no ECS_CLUSTER, in an account without a default cluster: the agent creates default and registers there (a warning)",
		Instance:        true,
		ECSClusterUnset: true,
		Net:             allEndpoints(),
		AWS:             func(c *fakeaws.Config) { c.MissingClusters = append(c.MissingClusters, probe.DefaultCluster) },
		Args:            instanceArgs,
		Expect: Expect{Exit: 0, Verdict: checks.Warn, Within: quick, InstanceMetadata: "pass",
			Services: healthy(instanceKeys).with("ecs", warn(private, "auth", checks.NotFound))},
	},
	{
		Name:     "instance-account-from-imds",
		Summary:  "a container instance with no STS endpoint and no NAT: the registry's account comes from the instance identity document, with no STS wait",
		Instance: true,
		Net:      withNet(allEndpoints(), func(n *Network) { n.Endpoints = except(interfaceKeys(), "sts") }),
		Args:     slices.Clone(instanceArgs),
		Expect: Expect{Exit: 0, Verdict: checks.Pass, Within: quick, InstanceMetadata: "pass",
			Services: healthy(instanceKeys)},
	},
}

func init() { scenarios = append(scenarios, issue17Scenarios...) }
