package fleet

import (
	"bytes"
	"fmt"
	"text/tabwriter"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
)

// FromInspect is the fleet document of one account's inspect reports (inspect --subnet): the
// same map for one subnet as for an organisation. groupsGiven says whether --security-groups
// named the groups judged.
func FromInspect(account string, groupsGiven bool, reps ...*inspect.Report) *Report {
	rep := &Report{Schema: Schema, Mode: ModeInspect, Accounts: []Account{}, Untested: []Untested{}, Services: []string{}}
	from := GroupsVPCDefault
	if groupsGiven {
		from = GroupsGiven
	}
	for _, r := range reps {
		if len(rep.Services) == 0 {
			rep.Services = append(rep.Services, r.Services...)
		}
		s := Subnet{SubnetID: r.SubnetID, Zone: r.AZ, CIDR: r.SubnetCIDR, Verdict: findingsVerdict(r.Findings),
			SecurityGroups: append([]string{}, r.SecurityGroups...), GroupsFrom: from, Services: []report.ServiceReport{}, Findings: r.Findings}
		rep.vpc(account, r.Region, r.VPCID).Subnets = append(rep.vpc(account, r.Region, r.VPCID).Subnets, s)
	}
	rep.finish()
	return rep
}

// FromLaunch is the fleet document of one launch (launch --subnets): each subnet measured by
// itself, its live services and the findings its inspection attached.
func FromLaunch(account, region string, groupsGiven bool, l *launch.Report) *Report {
	rep := &Report{Schema: Schema, Mode: ModeLaunch, LaunchID: l.LaunchID, Accounts: []Account{}, Untested: []Untested{}, Services: []string{}}
	from := GroupsVPCDefault
	if groupsGiven {
		from = GroupsGiven
	}
	for _, sr := range l.Subnets {
		s := Subnet{SubnetID: sr.Subnet, Zone: sr.AvailabilityZone, Verdict: sr.Verdict, MeasuredBy: sr.Subnet, GroupsFrom: from,
			SecurityGroups: []string{}, Services: []report.ServiceReport{}, Findings: []inspect.Finding{}, Diagnoses: sr.Diagnoses}
		vpcID := ""
		if sr.Report != nil {
			s.Services = sr.Report.Services
			s.SecurityGroups = append(s.SecurityGroups, sr.Report.Context.SecurityGroups...)
			s.CIDR = sr.Report.Context.SubnetCIDR
			vpcID = sr.Report.Context.VPCID
			if s.Zone == "" {
				s.Zone = sr.Report.Context.AvailabilityZone
			}
			for _, svc := range sr.Report.Services {
				if !contains(rep.Services, svc.Service) {
					rep.Services = append(rep.Services, svc.Service)
				}
			}
		}
		if in := sr.Inspection; in != nil {
			vpcID = in.VPCID
			if len(in.SecurityGroups) > 0 {
				s.SecurityGroups = append([]string{}, in.SecurityGroups...)
			}
			for _, js := range in.Services {
				s.Findings = append(s.Findings, js.Findings...)
			}
			s.Findings = append(s.Findings, in.ConfigOnly...)
		}
		if vpcID == "" {
			vpcID = "vpc-unknown"
		}
		v := rep.vpc(account, region, vpcID)
		v.Subnets = append(v.Subnets, s)
	}
	rep.Probes = len(l.Subnets)
	rep.finish()
	return rep
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// vpc returns the VPC entry of account, region and id, adding the entries it lacks.
func (r *Report) vpc(account, region, id string) *VPC {
	ai := -1
	for i := range r.Accounts {
		if r.Accounts[i].Account == account {
			ai = i
		}
	}
	if ai < 0 {
		r.Accounts = append(r.Accounts, Account{Account: account, Regions: []Region{}})
		ai = len(r.Accounts) - 1
	}
	a := &r.Accounts[ai]
	ri := -1
	for i := range a.Regions {
		if a.Regions[i].Region == region {
			ri = i
		}
	}
	if ri < 0 {
		a.Regions = append(a.Regions, Region{Region: region, VPCs: []VPC{}})
		ri = len(a.Regions) - 1
	}
	rg := &a.Regions[ri]
	for i := range rg.VPCs {
		if rg.VPCs[i].VPCID == id {
			return &rg.VPCs[i]
		}
	}
	rg.VPCs = append(rg.VPCs, VPC{VPCID: id, Subnets: []Subnet{}})
	return &rg.VPCs[len(rg.VPCs)-1]
}

// Text renders the report for a person: one line per subnet (account, region, VPC, subnet,
// zone, verdict, the subnet measured for it and its worst finding), then what was not read.
func (r *Report) Text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "fleet %s: %s\n", r.Mode, r.Verdict)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\tVPC\tSUBNET\tZONE\tVERDICT\tMEASURED BY\tFIRST FINDING")
	r.Subnets(func(a *Account, rg *Region, v *VPC, s *Subnet) {
		first := "-"
		for _, f := range s.Findings {
			if f.Severity == inspect.Fail || (f.Severity == inspect.Warn && first == "-") {
				first = f.Code
				if f.Severity == inspect.Fail {
					break
				}
			}
		}
		by := s.MeasuredBy
		if by == "" {
			by = "-"
		} else if by == s.SubnetID {
			by = "itself"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Account, rg.Region, v.VPCID, s.SubnetID, s.Zone, s.Verdict, by, first)
	})
	tw.Flush()
	for _, u := range r.Untested {
		where := u.Account
		if u.Region != "" {
			where += " " + u.Region
		}
		if u.VPCID != "" {
			where += " " + u.VPCID
		}
		fmt.Fprintf(&b, "untested: %s: %s: %s\n", where, u.Action, u.Error)
	}
	if r.Verdict == checks.Skip && !r.Read() {
		b.WriteString("nothing could be read\n")
	}
	return b.Bytes()
}
