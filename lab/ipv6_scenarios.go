package lab

import (
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/probe"
)

// The scenarios of address families (issue 19, item 1; ipv6.go builds their networks). What the
// report must say comes from AWS's documentation: a dual-stack task starts over IPv4 (ECS
// developer guide, "Fargate task networking"), an IPv6-only one reaches IPv4-only names through
// DNS64 and a 64:ff9b::/96 route to a NAT gateway (VPC User Guide, "DNS64 and NAT64") and pulls
// from ECR's dual-stack names, which PrivateLink does not carry (ECR User Guide, "Making
// requests to Amazon ECR registries").

// fams is a Families expectation: ipv4 then ipv6; "" leaves that family out (absent).
func fams(e ServiceExpect, v4, v6 string) ServiceExpect {
	e.Families = map[string]string{}
	if v4 != "" {
		e.Families["ipv4"] = v4
	}
	if v6 != "" {
		e.Families["ipv6"] = v6
	}
	return e
}

// dualStack is allEndpoints in a dual-stack VPC: every endpoint answers A and AAAA.
func dualStack() Network {
	n := allEndpoints()
	n.IPv6 = DualStack
	return n
}

// ipv6OnlyArgs point an IPv6-only probe's second opinion at the lab's IPv6 resolver: by default
// it would ask fd00:ec2::253, AWS's own address, which the lab does not use.
var ipv6OnlyArgs = []string{"--amazon-dns", "[" + ResolverIPv6 + "]:53"}

var ipv6Scenarios = []Scenario{
	{
		Name:    "dualstack-healthy",
		Summary: "a dual-stack task, every endpoint dual-stack (A and AAAA), the S3 gateway: both families pass",
		Net:     dualStack(),
		Expect: Expect{Exit: 0, Verdict: checks.Pass, Within: quick, Services: services{
			"ecr.api": fams(pass(private), "pass", "pass"),
			"ecr.dkr": fams(pass(private), "pass", "pass"),
			"logs":    fams(pass(private), "pass", "pass"),
			// The layer bucket's name has no AAAA record: S3 is reached over IPv4 only.
			"s3": fams(pass(public), "pass", "skip"),
		}},
	},
	{
		Name:    "ipv6-blackholed",
		Summary: "a dual-stack task whose IPv6 packets are dropped (endpoint groups without IPv6 rules), IPv4 working",
		Net:     withNet(dualStack(), func(n *Network) { n.IPv6BlackHole = true }),
		Expect: Expect{Exit: 0, Verdict: checks.Warn, Within: blackHole, Services: services{
			"ecr.api": fams(ServiceExpect{Verdict: checks.Warn, Route: private, Error: probe.IPv6PathFailed}, "pass", "fail tcp timeout"),
			"ecr.dkr": fams(ServiceExpect{Verdict: checks.Warn, Route: private, Error: probe.IPv6PathFailed}, "pass", "fail tcp timeout"),
			"logs":    fams(ServiceExpect{Verdict: checks.Warn, Route: private, Error: probe.IPv6PathFailed}, "pass", "fail tcp timeout"),
			"s3":      fams(pass(public), "pass", "skip"),
		}},
	},
	{
		Name:    "ipv6only-no-nat64-route",
		Summary: "an IPv6-only task, DNS64 on, no route for 64:ff9b::/96 and no egress-only internet gateway",
		Net:     Network{IPv6: IPv6Only, DNS64: true},
		Args:    ipv6OnlyArgs,
		Expect: Expect{Exit: 1, Verdict: checks.Fail, Within: blackHole, Services: services{
			// ECR's dual-stack names have their own AAAA records: public, and no way out.
			"ecr.api": fams(fail(public, "tcp", checks.Timeout), "", "fail tcp timeout"),
			"ecr.dkr": fams(fail(public, "tcp", checks.Timeout), "", "fail tcp timeout"),
			// IPv4-only names: DNS64's 64:ff9b:: answers, and no NAT64 route.
			"s3":   fams(fail(public, "tcp", probe.NAT64NoRoute), "", "fail tcp timeout"),
			"logs": fams(fail(public, "tcp", probe.NAT64NoRoute), "", "fail tcp timeout"),
		}},
	},
	{
		Name:    "ipv6only-nat64",
		Summary: "an IPv6-only task, DNS64 on, 64:ff9b::/96 to a NAT gateway and ::/0 to an egress-only internet gateway",
		Net:     Network{IPv6: IPv6Only, DNS64: true, NAT64: true, EgressOnlyIGW: true},
		Args:    ipv6OnlyArgs,
		Expect: Expect{Exit: 0, Verdict: checks.Warn, Within: quick, Services: services{
			"ecr.api": fams(ServiceExpect{Verdict: checks.Warn, Route: public, Error: probe.IPv6OnlyNotPrivate}, "", "pass"),
			"ecr.dkr": fams(ServiceExpect{Verdict: checks.Warn, Route: public, Error: probe.IPv6OnlyNotPrivate}, "", "pass"),
			"s3":      fams(pass(public), "", "pass"),
			// The second opinion is asked over IPv6 (--amazon-dns at the resolver's IPv6 address).
			"logs": fams(second(ServiceExpect{Verdict: checks.Warn, Route: public, Error: probe.PublicRoute}, public), "", "pass"),
		}},
	},
}

func init() { scenarios = append(scenarios, ipv6Scenarios...) }
