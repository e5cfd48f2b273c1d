package fleet

import (
	"fmt"
	"strings"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/report/htmlmap"
)

// The hops of a service's path, in the order a task's call takes them.
const (
	HopResolver = "resolver"
	HopAnswer   = "answer"
	HopRoute    = "route"
	HopEndpoint = "endpoint or NAT"
	HopTLS      = "TLS"
	HopCall     = "call"
)

// hops is the path's order.
var hops = []string{HopResolver, HopAnswer, HopRoute, HopEndpoint, HopTLS, HopCall}

// hopOfCode places each inspect finding code on the hop it breaks or bypasses: rules as data.
// A code not listed (permission-denied, read-failed) is about what could not be checked and is
// shown as a note of the subnet, not on a hop.
var hopOfCode = map[string]string{
	inspect.CodeDNSSupportOff:        HopResolver,
	inspect.CodeDHCPCustomDNS:        HopResolver,
	inspect.CodeResolverForward:      HopResolver,
	inspect.CodeDNSHostnamesOff:      HopAnswer,
	inspect.CodePrivateDNSOff:        HopAnswer,
	inspect.CodeRouteBlackhole:       HopRoute,
	inspect.CodeRouteNAT:             HopRoute,
	inspect.CodeRouteIGW:             HopRoute,
	inspect.CodeS3RouteMissing:       HopRoute,
	inspect.CodeEndpointMissing:      HopEndpoint,
	inspect.CodeEndpointViaNAT:       HopEndpoint,
	inspect.CodeEndpointViaIGW:       HopEndpoint,
	inspect.CodeEndpointCentral:      HopEndpoint,
	inspect.CodeEndpointNotAvailable: HopEndpoint,
	inspect.CodeEndpointOtherAZ:      HopEndpoint,
	inspect.CodeS3GatewayMissing:     HopEndpoint,
	inspect.CodeSGEndpointIngress:    HopEndpoint,
	inspect.CodeSGTaskEgress:         HopEndpoint,
	inspect.CodeSGTaskEgressS3:       HopEndpoint,
	inspect.CodeACLTaskOut:           HopEndpoint,
	inspect.CodeACLTaskIn:            HopEndpoint,
	inspect.CodeACLEndpointIn:        HopEndpoint,
	inspect.CodeACLEndpointOut:       HopEndpoint,
	inspect.CodeS3PolicyDenies:       HopCall,
	inspect.CodePolicyCustom:         HopCall,
}

// hopOfCheck places each live check on its hop; dns answers both resolver and answer (an
// answer that came back empty is the answer's fault, a resolver that failed is the resolver's).
var hopOfCheck = map[string]string{"dns": HopResolver, "tcp": HopEndpoint, "tls": HopTLS, "http": HopCall, "auth": HopCall}

// HTML returns the health map of the report: one self-contained page.
func HTML(r *Report) []byte { return htmlmap.Write(Page(r)) }

// Page builds the map's model from the report.
func Page(r *Report) htmlmap.Page {
	p := htmlmap.Page{Title: "vpcprobe health map", Verdict: string(r.Verdict), Services: r.Services}
	n, counts := 0, map[checks.Status]int{}
	r.Subnets(func(_ *Account, _ *Region, _ *VPC, s *Subnet) { n++; counts[s.Verdict]++ })
	p.Summary = fmt.Sprintf("%s of %d subnets: %d fail, %d warn, %d pass, %d skip", r.Mode, n,
		counts[checks.Fail], counts[checks.Warn], counts[checks.Pass], counts[checks.Skip])
	if r.Mode == ModeLaunch {
		p.Summary += fmt.Sprintf("; %d live probes", r.Probes)
		if r.LaunchID != "" {
			p.Summary += " (launch " + r.LaunchID + ")"
		}
	}
	for _, u := range r.Untested {
		where := "account " + u.Account
		if u.Region != "" {
			where += " " + u.Region
		}
		if u.VPCID != "" {
			where += " " + u.VPCID
		}
		p.Notes = append(p.Notes, where+": untested: "+u.Action+": "+u.Error)
	}
	for _, a := range r.Accounts {
		pa := htmlmap.Account{ID: a.Account, Name: a.Name}
		for _, rg := range a.Regions {
			pr := htmlmap.Region{Name: rg.Region}
			for _, v := range rg.VPCs {
				pv := htmlmap.VPC{ID: v.VPCID}
				for _, s := range v.Subnets {
					pv.Subnets = append(pv.Subnets, row(r.Services, s))
				}
				pr.VPCs = append(pr.VPCs, pv)
			}
			pa.Regions = append(pa.Regions, pr)
		}
		p.Accounts = append(p.Accounts, pa)
	}
	return p
}

// row is one subnet's line of the map.
func row(services []string, s Subnet) htmlmap.Subnet {
	ps := htmlmap.Subnet{ID: s.SubnetID, Zone: s.Zone, Verdict: string(s.Verdict), MeasuredBy: s.MeasuredBy,
		Groups: strings.Join(s.SecurityGroups, ",") + " (" + s.GroupsFrom + ")"}
	for _, f := range s.Findings {
		if _, ok := hopOfCode[f.Code]; !ok {
			ps.Notes = append(ps.Notes, f.Code+": "+f.Diagnosis)
		}
	}
	for _, d := range s.Diagnoses {
		if d.Service == "" {
			ps.Notes = append(ps.Notes, d.Diagnosis)
		}
	}
	for _, key := range services {
		var live *report.ServiceReport
		for i := range s.Services {
			if s.Services[i].Service == key {
				live = &s.Services[i]
			}
		}
		ps.Cells = append(ps.Cells, cell(key, live, s))
	}
	return ps
}

// cell builds one service's path in one subnet from its live report (when probed) and the
// findings that bear on it: each hop's status is the worse of what the probe measured there
// and what the configuration says, and the first failing hop is marked, with its fix.
func cell(key string, live *report.ServiceReport, s Subnet) htmlmap.Cell {
	status := map[string]checks.Status{}
	detail := map[string][]string{}
	fix := map[string][2]string{}
	set := func(hop string, st checks.Status, d string) {
		if cur, ok := status[hop]; ok {
			status[hop] = worse(cur, st)
		} else {
			status[hop] = st
		}
		if d != "" {
			detail[hop] = append(detail[hop], d)
		}
	}
	c := htmlmap.Cell{Failing: -1}
	if live != nil {
		for _, ch := range live.Checks {
			hop := hopOfCheck[ch.Name]
			if hop == "" {
				continue
			}
			if ch.Name == "dns" && ch.Error == checks.NoAnswer {
				hop = HopAnswer
			}
			d := string(ch.Error)
			if ch.Detail != "" {
				d = strings.TrimSpace(d + " " + ch.Detail)
			}
			set(hop, ch.Status, d)
		}
		if _, ok := status[HopAnswer]; !ok && len(live.Addresses) > 0 {
			set(HopAnswer, checks.Pass, live.Route+": "+strings.Join(live.Addresses, ", "))
		} else if len(live.Addresses) > 0 {
			detail[HopAnswer] = append(detail[HopAnswer], live.Route+": "+strings.Join(live.Addresses, ", "))
		}
		if live.Verdict == checks.Fail || live.Verdict == checks.Warn {
			for _, h := range hops {
				if status[h] == live.Verdict && live.Remediation != "" {
					fix[h] = [2]string{live.Remediation, ""}
					break
				}
			}
		}
		c.Verdict = string(live.Verdict)
	}
	findingsVerdict := checks.Pass
	for _, f := range s.Findings {
		hop, ok := hopOfCode[f.Code]
		if !ok || !f.Affects(key) {
			continue
		}
		st := checks.Pass
		switch f.Severity {
		case inspect.Fail:
			st = checks.Fail
		case inspect.Warn:
			st = checks.Warn
		}
		findingsVerdict = worse(findingsVerdict, st)
		set(hop, st, f.Code+": "+f.Diagnosis)
		if _, has := fix[hop]; !has && st != checks.Pass {
			fix[hop] = [2]string{f.Remediation, f.Command}
		}
	}
	if c.Verdict == "" {
		c.Verdict = string(findingsVerdict)
	}
	for _, h := range hops {
		st, ok := status[h]
		if !ok {
			st = "unknown"
			if live == nil {
				detail[h] = []string{"not measured; the configuration shows nothing here"}
			}
		}
		c.Hops = append(c.Hops, htmlmap.Hop{Name: h, Status: string(st), Detail: strings.Join(detail[h], "; ")})
	}
	for i, h := range c.Hops {
		if h.Status == string(checks.Fail) {
			c.Failing = i
			break
		}
	}
	if c.Failing < 0 { // no failing hop: the first warning's fix, if any
		for _, h := range c.Hops {
			if h.Status == string(checks.Warn) {
				if f, ok := fix[h.Name]; ok {
					c.Fix, c.Command = f[0], f[1]
				}
				break
			}
		}
		return c
	}
	if f, ok := fix[c.Hops[c.Failing].Name]; ok {
		c.Fix, c.Command = f[0], f[1]
	}
	if c.Command == "" { // a live failure: the command of the configuration's fail finding that explains it
		for _, f := range s.Findings {
			if f.Affects(key) && f.Severity == inspect.Fail && f.Command != "" {
				if c.Fix == "" {
					c.Fix = f.Remediation
				}
				c.Command = f.Command
				break
			}
		}
	}
	return c
}
