package inspect

import "fmt"

// fewAddresses is the free-address count below which a subnet warns. Every awsvpc task (and
// every Lambda function's Hyperplane interface, and an interface endpoint's network interface)
// takes one of the subnet's addresses, and a service's rolling deployment runs the old and the
// new tasks side by side: fewer than this cannot start a deployment of two tasks plus a probe.
const fewAddresses = 5

// addresses reports a task subnet that is out of free addresses (RunTask and Lambda fail with
// SubnetOutOfIPAddresses: a fail) or has fewer than a few tasks need (a warning).
func (c *check) addresses() {
	if c.sub.free == nil || *c.sub.free >= fewAddresses {
		return
	}
	n := *c.sub.free
	f := Finding{Services: keys(c.services, nil), Severity: Warn, Code: CodeSubnetFewAddresses, Resources: []string{c.sub.id},
		Diagnosis:   fmt.Sprintf("subnet %s (%s) has %d free addresses: each task takes one (and a rolling deployment runs old and new tasks side by side), so a few more tasks fail to start with SubnetOutOfIPAddresses", c.sub.id, c.sub.cidr, n),
		Remediation: fmt.Sprintf("run the tasks in a larger subnet, or add one in %s to the service's subnets; delete unused network interfaces in %s (aws ec2 describe-network-interfaces --filters Name=subnet-id,Values=%s Name=status,Values=available)", c.sub.az, c.sub.id, c.sub.id)}
	if n == 0 {
		f.Severity = Fail
		f.Diagnosis = fmt.Sprintf("subnet %s (%s) has no free address: no task (and no Lambda function) can start there (SubnetOutOfIPAddresses)", c.sub.id, c.sub.cidr)
	}
	c.add(f)
}
