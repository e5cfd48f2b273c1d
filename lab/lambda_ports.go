package lab

import (
	"fmt"
	"strings"

	"github.com/vpcprobe/vpcprobe/checks"
)

// Return ports (issue 17, item 4). A network ACL is stateless: the answers to a client's
// connections come back to its source port, and an ACL that allows only part of the ephemeral
// ports drops the rest. Linux tasks draw their ports from 32768-60999, a Lambda function's
// Hyperplane ENI from 1024-65535, NAT gateways too (Amazon VPC user guide, "Network ACLs",
// "Ephemeral ports"); AWS's example ACL lets 32768-65535 back in. The lab's task namespace keeps
// Linux's default range for a task's probe and takes Lambda's for the functions it runs
// (lambda.go), and ReturnACL drops the answers to the other ports at the task subnet's edge.

// lambdaPortRange is net.ipv4.ip_local_port_range for the functions the lab runs: Lambda's.
const lambdaPortRange = "1024 65535"

// returnACL returns the router's rules of n.ReturnACL: TCP answers from port 443 to the task's
// ports below 32768 are dropped when they cross the task subnet's edge, that is from addresses
// outside the subnet (an ACL does not apply inside its subnet): the second zone's ENIs, which the
// router itself holds (OUTPUT), and what it forwards from the S3 gateway route or the NAT
// (FORWARD).
func returnACL(n Network) string {
	if !n.ReturnACL {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-A OUTPUT -o t0 -d %s/32 ! -s %s -p tcp --sport 443 --dport 1024:32767 -j DROP\n", TaskIP, TaskSubnet)
	fmt.Fprintf(&b, "-A FORWARD -o t0 -d %s/32 -p tcp --sport 443 --dport 1024:32767 -j DROP\n", TaskIP)
	return b.String()
}

// returnACLScenarios: the same subnet passes for a Linux task; its Lambda run is
// lambda_ports_test.go's.
var returnACLScenarios = []Scenario{
	{
		Name:    "acl-return-ports",
		Summary: "a network ACL letting TCP answers back only to ports 32768-65535 (AWS's example ACL): a Linux task (32768-60999) passes; a Lambda probe (1024-65535) warns lambda-port-range",
		Net:     withNet(allEndpoints(), func(n *Network) { n.ReturnACL = true }),
		Expect:  Expect{Exit: 0, Verdict: checks.Pass, Services: healthy(defaultKeys), Within: quick},
	},
}

func init() { scenarios = append(scenarios, returnACLScenarios...) }
