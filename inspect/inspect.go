// Package inspect reads a VPC's configuration through the EC2 and Route 53 Resolver APIs and
// says what in it breaks or bypasses each service's path from a subnet: missing or unusable
// endpoints, DNS settings and resolver rules that hide them, security groups, route tables and
// network ACLs that drop the traffic, and endpoint policies. Each finding names the resources
// and, when one command fixes it, carries that AWS CLI command with the real ids; the fixes are
// also data (Fix) for one CloudFormation or Terraform snippet.
//
// It reads each VPC once, one call per kind, whatever the number of subnets inspected in it.
package inspect

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Target is one place a task runs: its subnet, its security groups (empty: the VPC's default
// group, as ECS uses), when known its private address, and what runs there.
type Target struct {
	SubnetID       string
	SecurityGroups []string
	Address        netip.Addr
	// Workload is what runs there, for the ephemeral ports network ACLs must let back in;
	// empty is a Linux task.
	Workload Workload
	// FIPS: the application calls AWS with FIPS endpoints (AWS_USE_FIPS_ENDPOINT), so its own
	// services (not the platform's: Fargate and the agent ignore the task's settings) need the
	// endpoint service of the FIPS host, where one exists (fips.go).
	FIPS bool
	// OtherRegions are the services the task needs in regions other than the VPC's (a task
	// definition's needs.OtherRegions), matched to cross-region endpoints (crossregion.go).
	OtherRegions map[string][]catalogue.Service
}

// Subnet inspects one subnet for a task with security groups sgIDs (empty: the VPC's default
// group). The error, wrapping ErrUnreadable, means nothing could be read; a kind that could not
// be read is a finding instead.
func Subnet(ctx context.Context, c Clients, subnetID string, sgIDs []string, services []catalogue.Service) (*Report, error) {
	reps, err := Subnets(ctx, c, []Target{{SubnetID: subnetID, SecurityGroups: sgIDs}}, services)
	if err != nil {
		return nil, err
	}
	return reps[0], nil
}

// Subnets inspects every target, reading each VPC involved once: one DescribeSubnets call to
// find the VPCs, then one call per kind per VPC. Reports come in the order of targets.
func Subnets(ctx context.Context, c Clients, targets []Target, services []catalogue.Service) ([]*Report, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("inspect: no subnet given")
	}
	var ids []string
	for _, t := range targets {
		if !slices.Contains(ids, t.SubnetID) {
			ids = append(ids, t.SubnetID)
		}
	}
	_, vpcOf, err := locate(ctx, c.EC2, ids)
	if err != nil {
		return nil, err
	}
	vpcs := map[string]*vpc{}
	var reps []*Report
	for _, t := range targets {
		id := vpcOf[t.SubnetID]
		v, ok := vpcs[id]
		if !ok {
			if v, err = readVPC(ctx, c, id); err != nil {
				return nil, err
			}
			vpcs[id] = v
		}
		reps = append(reps, v.inspect(t, services))
	}
	return reps, nil
}

// ENI returns the target of a running task's network interface: its subnet, groups and address.
func ENI(ctx context.Context, c EC2API, eniID string) (Target, error) {
	out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
	if err != nil {
		return Target{}, unreadable(classify("network interface "+eniID, "ec2:DescribeNetworkInterfaces", err))
	}
	if len(out.NetworkInterfaces) != 1 {
		return Target{}, fmt.Errorf("%w: network interface %s not found", ErrUnreadable, eniID)
	}
	n := out.NetworkInterfaces[0]
	t := Target{SubnetID: aws.ToString(n.SubnetId)}
	for _, g := range n.Groups {
		t.SecurityGroups = append(t.SecurityGroups, aws.ToString(g.GroupId))
	}
	t.Address, _ = netip.ParseAddr(aws.ToString(n.PrivateIpAddress))
	return t, nil
}

// check is one inspection of one target in a read VPC: the rules append findings to it.
type check struct {
	v        *vpc
	sub      subnet
	groups   []string // the task's security groups
	addr     netip.Addr
	workload Workload
	fips     bool
	services []catalogue.Service
	out      exit // how traffic without an endpoint leaves the subnet
	other    map[string][]catalogue.Service
	findings []Finding
}

func (c *check) add(f Finding) {
	if f.Resources == nil {
		f.Resources = []string{}
	}
	if f.Fix != nil && f.Command == "" {
		f.Command = f.Fix.Command(c.v.region)
	}
	c.findings = append(c.findings, f)
}

// inspect runs every rule for target t.
func (v *vpc) inspect(t Target, services []catalogue.Service) *Report {
	c := &check{v: v, sub: v.subnets[t.SubnetID], groups: t.SecurityGroups, addr: t.Address, workload: t.Workload, fips: t.FIPS, services: services, other: t.OtherRegions}
	if len(c.groups) == 0 && v.groups != nil {
		if g := v.defaultGroup(); g != "" {
			c.groups = []string{g}
		}
	}
	c.unreadFindings()
	c.addresses()
	c.out = c.routes()
	for _, s := range services {
		if s.Gateway {
			c.gateway(s)
		} else {
			c.iface(s, c.interfaceEndpoints(s))
		}
	}
	c.dns()
	c.addressFamilies() // families.go
	c.check2026()
	slices.SortStableFunc(c.findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(codeRank(a.Code), codeRank(b.Code)), cmp.Compare(serviceRank(services, a.Service), serviceRank(services, b.Service)))
	})
	r := &Report{Schema: Schema, Region: v.region, VPCID: v.id, SubnetID: c.sub.id, AZ: c.sub.az,
		SecurityGroups: append([]string{}, c.groups...), Findings: c.findings}
	if c.sub.cidr.IsValid() {
		r.SubnetCIDR = c.sub.cidr.String()
	}
	if len(c.sub.v6) > 0 {
		r.SubnetIPv6CIDR = c.sub.v6[0].String()
	}
	for _, s := range services {
		r.Services = append(r.Services, s.Key)
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

func serviceRank(services []catalogue.Service, key string) int {
	return slices.IndexFunc(services, func(s catalogue.Service) bool { return s.Key == key })
}

// keys returns the keys of services, or of those that pass keep.
func keys(services []catalogue.Service, keep func(catalogue.Service) bool) []string {
	var out []string
	for _, s := range services {
		if keep == nil || keep(s) {
			out = append(out, s.Key)
		}
	}
	return out
}

// unreadFindings reports each kind that could not be read, naming the IAM action.
func (c *check) unreadFindings() {
	for _, u := range c.v.unread {
		f := Finding{Services: keys(c.services, nil), Severity: Warn, Resources: []string{c.v.id}}
		if u.denied {
			f.Code = CodePermission
			f.Diagnosis = fmt.Sprintf("could not read %s: the identity lacks %s, so what depends on it was not checked", u.kind, u.action)
			f.Remediation = fmt.Sprintf("allow %s (taskdef/iam/inspect-readonly.json lists every action inspect needs)", u.action)
		} else {
			f.Code = CodeReadFailed
			f.Diagnosis = fmt.Sprintf("could not read %s (%s): %v", u.kind, u.action, u.err)
			f.Remediation = "run inspect again; what depends on it was not checked"
		}
		c.add(f)
	}
}
