// Package fleet runs vpcprobe across an organisation: accounts × regions × VPCs. It lists the
// accounts (AWS Organizations, or the ones given), assumes a role in each, reads every VPC of
// every region once with inspect, groups the subnets by shape (route table, network ACL, VPC,
// security groups, zone and findings), and, for a launch, probes one live subnet per shape
// through a LiveRunner with the fan-out bounded per account and region. An account or region
// that cannot be read is untested, named with the denied action; the rest goes on.
//
// The document it builds (Report) is CONTRACT.md's vpcprobe-fleet/v1; its HTML view is the
// health map (report/htmlmap).
package fleet

import (
	"encoding/json"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// Schema names the fleet document's version.
const Schema = "vpcprobe-fleet/v1"

// Report is one fleet run: every subnet read, by account, region and VPC, and what could not be
// read. The JSON document and the HTML map are views of this one value.
type Report struct {
	Schema string `json:"schema"`
	// Verdict is the worst subnet's; skip when no subnet was judged.
	Verdict checks.Status `json:"verdict"`
	// Mode is "inspect" (configuration only) or "launch" (live probes, one per shape).
	Mode     string     `json:"mode"`
	LaunchID string     `json:"launch_id,omitempty"`
	Services []string   `json:"services"`
	Accounts []Account  `json:"accounts"`
	Untested []Untested `json:"untested"`
	// Probes counts the live probes run (one per shape, or one per subnet with --every-subnet).
	Probes int `json:"probes,omitempty"`
}

// Account is one account's regions.
type Account struct {
	Account string   `json:"account"`
	Name    string   `json:"name,omitempty"`
	Regions []Region `json:"regions"`
}

// Region is one region's VPCs in an account.
type Region struct {
	Region string `json:"region"`
	VPCs   []VPC  `json:"vpcs"`
}

// VPC is one VPC's subnets.
type VPC struct {
	VPCID   string   `json:"vpc_id"`
	Subnets []Subnet `json:"subnets"`
}

// Subnet is one subnet's verdict: from its findings (inspect), or from the live probe of the
// subnet that stands for its shape (launch, MeasuredBy).
type Subnet struct {
	SubnetID string        `json:"subnet_id"`
	Zone     string        `json:"zone"`
	CIDR     string        `json:"cidr,omitempty"`
	Verdict  checks.Status `json:"verdict"`
	// MeasuredBy is the subnet whose live probe stands for this one (itself when probed); empty
	// in an inspect-only run.
	MeasuredBy string `json:"measured_by,omitempty"`
	// SecurityGroups are the groups judged; GroupsFrom says where they came from: "given"
	// (--security-groups) or "vpc-default" (the VPC's default group, as ECS uses).
	SecurityGroups []string `json:"security_groups"`
	GroupsFrom     string   `json:"security_groups_from"`
	RouteTable     string   `json:"route_table,omitempty"`
	NetworkACL     string   `json:"network_acl,omitempty"`
	// Services are the live probe's service reports (MeasuredBy's), empty without one.
	Services []report.ServiceReport `json:"services"`
	Findings []inspect.Finding      `json:"findings"`
	// Diagnoses are the launcher's own findings when the live probe could not report (a
	// function that could not be created, a deadline), as launch reports them.
	Diagnoses []stopped.Diagnosis `json:"diagnoses,omitempty"`

	shape string // the shape key (inspect.Placed.Shape)
}

// Untested is an account or region (or one VPC of it) that could not be read: the action that
// was denied or failed, and the error as AWS answered it. Its subnets are not judged.
type Untested struct {
	Account string `json:"account"`
	Region  string `json:"region,omitempty"` // empty: the whole account (its role could not be assumed)
	VPCID   string `json:"vpc_id,omitempty"`
	Action  string `json:"action"`
	Error   string `json:"error"`
}

// Where the judged security groups came from (Subnet.GroupsFrom).
const (
	GroupsGiven      = "given"
	GroupsVPCDefault = "vpc-default"
)

// Modes of Report.Mode.
const (
	ModeInspect = "inspect"
	ModeLaunch  = "launch"
)

// JSON returns the document followed by a newline.
func (r *Report) JSON() []byte {
	b, err := json.Marshal(r)
	if err != nil { // plain values only
		panic("fleet: marshal report: " + err.Error())
	}
	return append(b, '\n')
}

// Read reports whether anything at all was read: a run that read nothing is "could not test"
// (exit 3), whatever its untested entries say.
func (r *Report) Read() bool {
	for _, a := range r.Accounts {
		if len(a.Regions) > 0 {
			return true
		}
	}
	return false
}

// Subnets calls f for every subnet, in document order.
func (r *Report) Subnets(f func(a *Account, rg *Region, v *VPC, s *Subnet)) {
	for i := range r.Accounts {
		a := &r.Accounts[i]
		for j := range a.Regions {
			rg := &a.Regions[j]
			for k := range rg.VPCs {
				v := &rg.VPCs[k]
				for l := range v.Subnets {
					f(a, rg, v, &v.Subnets[l])
				}
			}
		}
	}
}

// finish sets the fleet's verdict: the worst judged subnet's, skip when none was judged.
func (r *Report) finish() {
	r.Verdict = checks.Skip
	r.Subnets(func(_ *Account, _ *Region, _ *VPC, s *Subnet) { r.Verdict = worse(r.Verdict, s.Verdict) })
}

// worse returns the worse of two verdicts; skip is not worse than a measured one.
func worse(a, b checks.Status) checks.Status {
	rank := map[checks.Status]int{checks.Skip: 0, checks.Pass: 1, checks.Warn: 2, checks.Fail: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// findingsVerdict judges a subnet by its configuration alone: fail with a fail finding, warn
// with a warn finding, else pass.
func findingsVerdict(fs []inspect.Finding) checks.Status {
	v := checks.Pass
	for _, f := range fs {
		switch f.Severity {
		case inspect.Fail:
			v = worse(v, checks.Fail)
		case inspect.Warn:
			v = worse(v, checks.Warn)
		}
	}
	return v
}
