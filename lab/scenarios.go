package lab

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
)

// LogGroup is the --log-group of the scenarios that deliver the report.
const LogGroup = "/vpclab/vpcprobe"

// Time bounds of the scenarios, as wall time of the probe process. They leave room for a
// shared 2-core CI machine that stalls now and then, while `vpclab bench` measures the real
// figures. blackHole is one --timeout (DefaultTimeout) for the connects or queries that never
// answer, plus 800 ms: less than a second --timeout, so a probe that waits out one black hole
// before starting another (one service's call before another's checks, say) fails the bound.
const (
	quick     = 3 * time.Second
	blackHole = DefaultTimeout + 800*time.Millisecond
)

// Shorthands for expectations.
func pass(route string) ServiceExpect { return ServiceExpect{Verdict: checks.Pass, Route: route} }
func fail(route, check string, code checks.Code) ServiceExpect {
	return ServiceExpect{Verdict: checks.Fail, Route: route, Check: check, Error: code}
}
func warn(route, check string, code checks.Code) ServiceExpect {
	return ServiceExpect{Verdict: checks.Warn, Route: route, Check: check, Error: code}
}
func second(e ServiceExpect, route string) ServiceExpect { e.AmazonDNS = route; return e }

const (
	private = report.RoutePrivate
	public  = report.RoutePublic
	none    = report.RouteNone
)

// defaultKeys are the probe's default --services.
var defaultKeys = strings.Split(catalogue.DefaultServices, ",")

// services is a scenario's per-service expectations.
type services map[string]ServiceExpect

// each expects e of every key.
func each(keys []string, e ServiceExpect) services {
	s := services{}
	for _, k := range keys {
		s[k] = e
	}
	return s
}

// healthy is what a working subnet reports for keys: interface services private, S3 public
// (through its gateway endpoint).
func healthy(keys []string) services {
	s := each(keys, pass(private))
	if _, ok := s["s3"]; ok {
		s["s3"] = pass(public)
	}
	return s
}

// with returns a copy of s with k expected as e.
func (s services) with(k string, e ServiceExpect) services {
	c := services{}
	for key, v := range s {
		c[key] = v
	}
	c[k] = e
	return c
}

// except returns keys without drop.
func except(keys []string, drop ...string) []string {
	var out []string
	for _, k := range keys {
		if !slices.Contains(drop, k) {
			out = append(out, k)
		}
	}
	return out
}

// allEndpoints is a VPC with every interface endpoint and the S3 gateway: the healthy base
// most scenarios break one thing of.
func allEndpoints() Network {
	return Network{Endpoints: interfaceKeys(), S3Gateway: true}
}

// scenarios is the table. Each entry is one VPC shape a user meets and the report it must give.
var scenarios = []Scenario{
	{
		Name:    "healthy",
		Summary: "every interface endpoint with private DNS, the S3 gateway, no NAT",
		Net:     allEndpoints(),
		Expect:  Expect{Exit: 0, Verdict: checks.Pass, Services: healthy(defaultKeys), Within: quick},
	},
	{
		Name:    "healthy-all",
		Summary: "as healthy, probing every service of the catalogue (--services all)",
		Net:     allEndpoints(),
		Args:    []string{"--services", "all"},
		Expect:  Expect{Exit: 0, Verdict: checks.Pass, Services: healthy(catalogue.Keys()), Within: quick},
	},
	{
		Name:    "report-delivered",
		Summary: "as healthy, with the report delivered to CloudWatch Logs (--log-group)",
		Net:     allEndpoints(),
		Args:    []string{"--log-group", LogGroup},
		Expect: Expect{Exit: 0, Verdict: checks.Pass, Services: healthy(defaultKeys),
			Delivery: report.Delivered, Events: len(defaultKeys) + 1, Within: quick},
	},
	{
		Name:    "isolated",
		Summary: "no endpoint, no S3 gateway, no NAT: every name public, every connect black-holed",
		Net:     Network{},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: each(defaultKeys, fail(public, "tcp", checks.Timeout))},
	},
	{
		Name:    "isolated-all",
		Summary: "as isolated, every service of the catalogue: still one --timeout in all",
		Net:     Network{},
		Args:    []string{"--services", "all"},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			// The agent's hosts come from ecs's DiscoverPollEndpoint, which ecs never reached.
			Services: each(catalogue.Keys(), fail(public, "tcp", checks.Timeout)).
				with("ecs-agent", skip()).with("ecs-telemetry", skip())},
	},
	{
		Name:    "isolated-delivery",
		Summary: "as isolated-all, with --log-group: delivery fails with the probes, still one --timeout in all",
		Net:     Network{},
		Args:    []string{"--services", "all", "--log-group", LogGroup},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole, Delivery: report.Failed,
			Services: each(catalogue.Keys(), fail(public, "tcp", checks.Timeout)).
				with("ecs-agent", skip()).with("ecs-telemetry", skip())},
	},
	{
		Name:    "no-s3-gateway",
		Summary: "every interface endpoint, but no S3 gateway on the route table: layers cannot download",
		Net:     Network{Endpoints: interfaceKeys()},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: healthy(defaultKeys).with("s3", fail(public, "tcp", checks.Timeout))},
	},
	{
		Name:    "endpoint-sg-no-443",
		Summary: "the ecr.dkr endpoint's security group does not allow TCP 443 from the task",
		Net:     withNet(allEndpoints(), func(n *Network) { n.SGNo443 = []string{"ecr.dkr"} }),
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: healthy(defaultKeys).with("ecr.dkr", fail(private, "tcp", checks.Timeout))},
	},
	{
		Name:    "private-dns-off",
		Summary: "the ecr.api endpoint exists but its private DNS is disabled, and there is no NAT",
		Net:     withNet(allEndpoints(), func(n *Network) { n.PrivateDNSOff = []string{"ecr.api"} }),
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: healthy(defaultKeys).with("ecr.api", second(fail(public, "tcp", checks.Timeout), public))},
	},
	{
		Name:    "nat-only",
		Summary: "no endpoint, a NAT gateway: everything works over public addresses (and costs per GB)",
		Net:     Network{NAT: true},
		Expect: Expect{Exit: 0, Verdict: checks.Warn, Within: quick,
			Services: each(defaultKeys, warn(public, "", probe.PublicRoute)).with("s3", pass(public))},
	},
	{
		Name:    "nat-require-private",
		Summary: "as nat-only with --require-private: a public path is a failure",
		Net:     Network{NAT: true},
		Args:    []string{"--require-private"},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: quick,
			Services: each(defaultKeys, fail(public, "", probe.PublicRoute)).with("s3", pass(public))},
	},
	{
		Name:    "custom-dns",
		Summary: "a custom DNS server (DHCP option set) that does not forward to the VPC resolver",
		Net:     withNet(allEndpoints(), func(n *Network) { n.DNS = DNSCustom }),
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: each(defaultKeys, second(fail(public, "tcp", checks.Timeout), private)).
				with("s3", second(pass(public), public))},
	},
	{
		Name:    "iam-denied",
		Summary: "every path open, but the task role may not call ecr:GetAuthorizationToken",
		Net:     allEndpoints(),
		AWS:     deny("ecr:GetAuthorizationToken"),
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: quick,
			Services: healthy(defaultKeys).
				// ecr.dkr passes: its auth is skipped for want of a token, and ecr.api's failure
				// carries the cause.
				with("ecr.api", fail(private, "auth", checks.AccessDenied))},
	},
	{
		Name:    "tls-intercepted",
		Summary: "no endpoint; the NAT path goes through a firewall that re-signs TLS with its own CA",
		Net:     Network{NAT: true, Egress: EgressIntercept},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: quick,
			Services: each(defaultKeys, fail(public, "tls", checks.TLSUntrusted))},
	},
	{
		Name:    "egress-refused",
		Summary: "no endpoint; the NAT path goes through a firewall that rejects HTTPS with a reset",
		Net:     Network{NAT: true, Egress: EgressReject},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: quick,
			Services: each(defaultKeys, fail(public, "tcp", checks.Refused))},
	},
	{
		Name:    "dead-resolver",
		Summary: "resolv.conf names a custom DNS server that is gone; the VPC resolver still answers",
		Net:     withNet(allEndpoints(), func(n *Network) { n.DNS = DNSCustomDead }),
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: each(defaultKeys, second(fail(none, "dns", checks.DNSTimeout), private)).
				with("s3", second(fail(none, "dns", checks.DNSTimeout), public))},
	},
	{
		Name:    "short-deadline",
		Summary: "as dead-resolver with --deadline 1s: every check cut off says deadline, and the process ends in time",
		Net:     withNet(allEndpoints(), func(n *Network) { n.DNS = DNSCustomDead }),
		Timeout: time.Second, Deadline: time.Second,
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: 2 * time.Second, // CONTRACT: --deadline plus one second
			Services: each(defaultKeys, fail(none, "dns", checks.Deadline))},
	},
	{
		Name:    "silent-peer",
		Summary: "the logs endpoint's addresses accept TCP and never speak (a wrong target or a stuck appliance)",
		Net:     withNet(allEndpoints(), func(n *Network) { n.Silent = []string{"logs"} }),
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole,
			Services: healthy(defaultKeys).with("logs", fail(private, "tls", checks.TLSHandshake))},
	},
	{
		Name:    "logs-unreachable",
		Summary: "no logs endpoint and no NAT, with --log-group: the report cannot be delivered, stdout still has it",
		Net:     withNet(allEndpoints(), func(n *Network) { n.Endpoints = except(interfaceKeys(), "logs") }),
		Args:    []string{"--log-group", LogGroup},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Delivery: report.Failed, Events: 0,
			Within:   blackHole, // delivery uses the logs check's own result: no second --timeout
			Services: healthy(defaultKeys).with("logs", fail(public, "tcp", checks.Timeout))},
	},
	{
		Name:    "eni-zone-down",
		Summary: "the ecr.api endpoint's ENI in the other AZ is unreachable (that subnet's network ACL)",
		Net:     withNet(allEndpoints(), func(n *Network) { n.ZoneDown = []string{"ecr.api"} }),
		Expect: Expect{Exit: 0, Verdict: checks.Warn, Within: blackHole,
			Services: healthy(defaultKeys).with("ecr.api", warn(private, "tcp", checks.Timeout))},
	},
	{
		Name:    "hosted-zone-shadow",
		Summary: "a hand-made private hosted zone for sts.eu-west-1.amazonaws.com without A records (sts asked for)",
		Net: withNet(allEndpoints(), func(n *Network) {
			n.Shadow = map[string][]string{Host("sts"): nil}
		}),
		Args: []string{"--services", catalogue.DefaultServices + ",sts"},
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: quick,
			Services: healthy(append(slices.Clone(defaultKeys), "sts")).with("sts", fail(none, "dns", checks.NoAnswer))},
	},
}

// scenarios = append(scenarios, instanceScenarios...) keeps the container-instance table in
// its own file (instance_scenarios.go).
func init() { scenarios = append(scenarios, instanceScenarios...) }

// withNet returns n changed by fn.
func withNet(n Network, fn func(*Network)) Network {
	fn(&n)
	return n
}

// deny returns an AWS change that denies actions in the task role's identity policy.
func deny(actions ...string) func(*fakeaws.Config) {
	return func(c *fakeaws.Config) {
		if c.Deny == nil {
			c.Deny = map[string]bool{}
		}
		for _, a := range actions {
			c.Deny[a] = true
		}
	}
}

// Scenarios returns every scenario, in the order `vpclab list` shows them.
func Scenarios() []Scenario {
	return slices.Clone(scenarios)
}

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, error) {
	for _, sc := range scenarios {
		if sc.Name == name {
			return sc, nil
		}
	}
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.Name
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(names, ", "))
}
