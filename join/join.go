// Package join puts a subnet's live result beside its VPC's configuration: each live failure
// with the inspect findings that explain it, or "not explained by the configuration".
package join

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// The join of a subnet's live result with its VPC's configuration: each service that failed or
// warned live gets the inspect findings that explain it; a live failure nothing in the
// configuration explains says so, with what it could be; a configuration problem the live run
// did not hit is listed apart.

// Inspection is one subnet's configuration joined with its live result.
type Inspection struct {
	VPCID          string   `json:"vpc_id"`
	SecurityGroups []string `json:"security_groups"` // the task's groups the rules were judged for
	// Services are the services that failed or warned live, each with what explains it.
	Services []JoinedService `json:"services"`
	// ConfigOnly are the fail and warn findings no live failure carries: problems the live run
	// did not hit (the service passed, was not probed, or the probe never ran).
	ConfigOnly []inspect.Finding `json:"config_only"`
}

// JoinedService is one service that failed or warned live, joined with the configuration.
type JoinedService struct {
	Service string        `json:"service"`
	Verdict checks.Status `json:"verdict"` // the live verdict
	Error   checks.Code   `json:"error,omitempty"`
	Check   string        `json:"check,omitempty"` // the live check that failed: dns, tcp, tls, …
	Route   string        `json:"route,omitempty"`
	// Findings are the fail and warn findings that explain the live failure; Related the other
	// findings bearing on the service (they do not explain this failure, and are not hidden).
	Findings []inspect.Finding `json:"findings"`
	Related  []inspect.Finding `json:"related,omitempty"`
	// NotExplained is set when no finding explains the live failure.
	NotExplained *NotExplained `json:"not_explained,omitempty"`
}

// NotExplained says that the configuration the API shows does not explain a live failure, and
// what outside it could.
type NotExplained struct {
	Code      string   `json:"code"` // CodeNotExplained
	Diagnosis string   `json:"diagnosis"`
	CouldBe   []string `json:"could_be"`
	// Reachability are the AWS CLI commands that run VPC Reachability Analyzer on the failing
	// hop (from the task's interface to the address it could not reach), with the real ids;
	// absent when no address was measured.
	Reachability []string `json:"reachability,omitempty"`
}

// CodeNotExplained marks a live failure the VPC's configuration does not explain.
const CodeNotExplained = "not-explained-by-configuration"

// live is one failed or warned service as the live run saw it.
type live struct {
	service   string
	verdict   checks.Status
	err       checks.Code
	check     string // the failing check's name
	route     string
	dnsDiffer bool // the Amazon-provided resolver answered otherwise than the task's
	host      string
	addr      string // the first address the name resolved to
	private   bool   // addr is an endpoint's (the private route)
}

// joinRule says which finding codes explain a kind of live failure. Empty fields match
// anything; a live failure takes the codes of every rule it matches.
type joinRule struct {
	check  string        // the failing check
	route  string        // the service's route
	errs   []checks.Code // its error code
	differ bool          // only when the Amazon resolver disagreed with the task's
	codes  []string
}

// Groups of codes the rules share.
var (
	// pathCodes drop or never answer a connection to an endpoint's private address.
	pathCodes = []string{inspect.CodeSGEndpointIngress, inspect.CodeSGTaskEgress, inspect.CodeACLTaskOut, inspect.CodeACLTaskIn,
		inspect.CodeACLEndpointIn, inspect.CodeACLEndpointOut, inspect.CodeEndpointNotAvailable, inspect.CodeRouteBlackhole,
		inspect.CodeS3InterfaceLayers}
	// missingCodes send a name to a public address nothing carries the subnet to.
	missingCodes = []string{inspect.CodeEndpointMissing, inspect.CodeEndpointViaNAT, inspect.CodeEndpointViaIGW, inspect.CodeEndpointCentral,
		inspect.CodePrivateDNSOff, inspect.CodeS3GatewayMissing, inspect.CodeS3RouteMissing, inspect.CodeSGTaskEgressS3,
		inspect.CodeRouteBlackhole, inspect.CodeACLTaskOut, inspect.CodeACLTaskIn}
	// dnsCodes make a name resolve elsewhere than the endpoint, or not at all.
	dnsCodes = []string{inspect.CodePrivateDNSOff, inspect.CodeDNSSupportOff, inspect.CodeDNSHostnamesOff, inspect.CodeDHCPCustomDNS,
		inspect.CodeResolverForward, inspect.CodeResolverForwardPublic}
	connectErrs = []checks.Code{checks.Timeout, checks.Unreachable, checks.Refused}
	dnsErrs     = []checks.Code{checks.NXDomain, checks.ServFail, checks.DNSTimeout, checks.NoAnswer}
)

// joinRules is the table: which configuration findings explain which live failure.
var joinRules = []joinRule{
	// A connection to an endpoint's private address that is dropped: a security group, a network
	// ACL, an endpoint not available (or only in another zone), a blackhole route.
	{check: "tcp", route: report.RoutePrivate, errs: connectErrs, codes: append(slices.Clone(pathCodes), inspect.CodeEndpointOtherAZ)},
	// A public address that times out: no endpoint (or the name does not point at it), no S3
	// gateway or route, and no NAT.
	{check: "tcp", route: report.RoutePublic, errs: connectErrs, codes: append(slices.Clone(missingCodes), dnsCodes...)},
	// The name did not resolve: the VPC's DNS settings, custom servers, forwarding rules.
	{check: "dns", errs: dnsErrs, codes: dnsCodes},
	// The task's resolver and the Amazon-provided one disagree: private DNS off, custom DNS,
	// a forwarding rule.
	{differ: true, codes: dnsCodes},
	// Reached, but over public addresses (probe's public-route warning): no endpoint (or its
	// private DNS off) and a NAT or internet gateway carrying the traffic.
	{errs: []checks.Code{probe.PublicRoute}, codes: append([]string{inspect.CodeEndpointViaNAT, inspect.CodeEndpointViaIGW,
		inspect.CodeEndpointMissing, inspect.CodeEndpointCentral, inspect.CodeRouteNAT, inspect.CodeRouteIGW,
		inspect.CodeS3GatewayMissing, inspect.CodeS3RouteMissing}, dnsCodes...)},
	// The task's resolver answers otherwise than the Amazon-provided one (probe's
	// resolver-mismatch).
	{errs: []checks.Code{probe.ResolverMismatch}, codes: dnsCodes},
	// Denied by a policy: an endpoint policy that is not the default.
	{errs: []checks.Code{checks.AccessDenied}, codes: []string{inspect.CodeS3PolicyDenies, inspect.CodePolicyCustom}},
}

// couldBe is what may explain a live failure the configuration does not, by the failing check.
var couldBe = map[string][]string{
	"dns": {"a custom DNS server that does not answer or does not forward AWS names", "a private hosted zone (Route 53) shadowing the name", "a DNS firewall rule"},
	"tcp": {"a firewall appliance on the path", "AWS Network Firewall", "a route outside the model (transit gateway, peering, on-premises)", "an endpoint whose network interfaces accept but never answer"},
	"tls": {"a proxy or firewall intercepting TLS", "an endpoint whose network interfaces accept but never answer", "AWS Network Firewall"},
	"":    {"a firewall appliance or proxy on the path", "AWS Network Firewall", "a route outside the model", "an IAM or service control policy outside the VPC"},
}

// explains returns the codes that explain l, from every rule it matches.
func explains(l live) []string {
	var codes []string
	for _, r := range joinRules {
		if (r.check != "" && r.check != l.check) || (r.route != "" && r.route != l.route) ||
			(r.errs != nil && !slices.Contains(r.errs, l.err)) || (r.differ && !l.dnsDiffer) {
			continue
		}
		for _, c := range r.codes {
			if !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	return codes
}

// joinService attaches to one live failure the findings of rep that explain it. A fail finding
// that bears on the service explains it too when no rule matched (the table is not the whole
// of what can break a path: nothing relevant is hidden); the other findings bearing on it are
// Related.
func joinService(l live, rep *inspect.Report, src Source) JoinedService {
	j := JoinedService{Service: l.service, Verdict: l.verdict, Error: l.err, Check: l.check, Route: l.route, Findings: []inspect.Finding{}}
	codes := explains(l)
	mine := rep.For(l.service)
	for _, f := range mine {
		if slices.Contains(codes, f.Code) {
			j.Findings = append(j.Findings, f)
		}
	}
	if len(j.Findings) == 0 {
		for _, f := range mine {
			if f.Severity == inspect.Fail {
				j.Findings = append(j.Findings, f)
			}
		}
	}
	for _, f := range mine {
		if !slices.ContainsFunc(j.Findings, func(g inspect.Finding) bool { return sameFinding(f, g) }) {
			j.Related = append(j.Related, f)
		}
	}
	if len(j.Findings) == 0 {
		could, ok := couldBe[l.check]
		if !ok {
			could = couldBe[""]
		}
		j.NotExplained = &NotExplained{Code: CodeNotExplained, CouldBe: could,
			Diagnosis:    "Nothing in the VPC's configuration (endpoints, DNS settings, security groups, route tables, network ACLs, policies) explains this failure: the cause is outside what the EC2 API shows.",
			Reachability: reachability(rep, src, l.addr, l.private)}
	}
	return j
}

func sameFinding(a, b inspect.Finding) bool {
	return a.Code == b.Code && a.Service == b.Service && slices.Equal(a.Resources, b.Resources)
}

// Join joins a subnet's live result with its inspection: the failed and warned services of the
// probe's report live (or, when the probe never reported, the diagnoses naming a service), each
// with its findings, and the fail and warn findings no live failure carries.
func Join(live *report.Report, diagnoses []stopped.Diagnosis, rep *inspect.Report) *Inspection {
	return JoinFrom(live, diagnoses, rep, Source{})
}

// JoinFrom is Join for a task whose network interface is known (src): the Reachability Analyzer
// commands of a failure nothing explains start from it.
func JoinFrom(live *report.Report, diagnoses []stopped.Diagnosis, rep *inspect.Report, src Source) *Inspection {
	rep = agentHosts(live, rep)
	in := &Inspection{VPCID: rep.VPCID, SecurityGroups: rep.SecurityGroups, Services: []JoinedService{}, ConfigOnly: []inspect.Finding{}}
	for _, l := range liveFailures(live, diagnoses) {
		if !slices.Contains(rep.Services, l.service) {
			continue // probed but not inspected (the task definition's own --services): nothing to join
		}
		in.Services = append(in.Services, joinService(l, rep, src))
	}
	for _, f := range rep.Findings {
		if f.Severity == inspect.Info {
			continue
		}
		carried := slices.ContainsFunc(in.Services, func(j JoinedService) bool {
			return slices.ContainsFunc(j.Findings, func(g inspect.Finding) bool { return sameFinding(f, g) }) ||
				slices.ContainsFunc(j.Related, func(g inspect.Finding) bool { return sameFinding(f, g) })
		})
		if !carried {
			in.ConfigOnly = append(in.ConfigOnly, f)
		}
	}
	return in
}

// liveFailures are the services that failed or warned in the subnet's live run.
func liveFailures(rep *report.Report, diagnoses []stopped.Diagnosis) []live {
	var out []live
	if rep != nil {
		for _, sr := range rep.Services {
			if (sr.Verdict != checks.Fail && sr.Verdict != checks.Warn) || sr.Region != "" {
				continue // another region's service: inspect's cross-region findings stand apart
			}
			l := live{service: sr.Service, verdict: sr.Verdict, err: sr.Error, route: sr.Route, host: sr.Host,
				dnsDiffer: sr.AmazonDNS != nil && sr.AmazonDNS.Agrees != nil && !*sr.AmazonDNS.Agrees}
			l.addr, l.private = firstAddress(sr)
			for _, c := range sr.Checks {
				if c.Status == sr.Verdict {
					l.check = c.Name
					break
				}
			}
			out = append(out, l)
		}
		return out
	}
	for _, d := range diagnoses { // the probe never reported: what ECS said of the task
		if d.Service == "" || (d.Verdict != checks.Fail && d.Verdict != checks.Warn) ||
			slices.ContainsFunc(out, func(l live) bool { return l.service == d.Service }) {
			continue
		}
		l := live{service: d.Service, verdict: d.Verdict, err: d.Error, route: d.Route}
		switch {
		case slices.Contains(dnsErrs, d.Error):
			l.check = "dns"
		case slices.Contains(connectErrs, d.Error):
			l.check = "tcp"
		case d.Error == checks.TLSHandshake || d.Error == checks.TLSUntrusted || d.Error == checks.TLSHostname:
			l.check = "tls"
		}
		out = append(out, l)
	}
	return out
}

// Write renders the joined view at report.DefaultWidth (see WriteText).
func (in *Inspection) Write(b *bytes.Buffer) {
	in.WriteText(report.NewWriter(b, report.DefaultWidth), "  ")
}

// WriteText renders the joined view under a subnet's diagnoses, after indent: the failing
// services that fail alike and are explained alike as one paragraph with their findings merged
// (one finding naming every service, each command once), then the live failures the
// configuration does not explain, then the configuration problems the live run did not hit.
func (in *Inspection) WriteText(w *report.Writer, indent string) {
	if in == nil {
		return
	}
	w.Line(indent, fmt.Sprintf("configuration of %s (security groups %s):", in.VPCID, stopped.OrDash(strings.Join(in.SecurityGroups, ","))))
	sub, subsub := indent+"  ", indent+"    "
	for _, g := range joinGroups(in.Services) {
		first := g[0]
		var keys []string
		var findings, related []inspect.Finding
		for _, j := range g {
			keys = append(keys, j.Service)
			findings, related = append(findings, j.Findings...), append(related, j.Related...)
		}
		if first.NotExplained != nil {
			w.Wrap(sub, subsub, fmt.Sprintf("%s %s: NOT EXPLAINED by the configuration (%s)", strings.Join(keys, ", "), liveWhat(first), first.NotExplained.Code))
			w.Prose(subsub, "could be: ", strings.Join(first.NotExplained.CouldBe, "; "))
			for _, j := range g {
				if len(j.NotExplained.Reachability) > 0 {
					w.Line(subsub, "next for "+j.Service+": VPC Reachability Analyzer on this hop:")
					for _, c := range j.NotExplained.Reachability {
						w.Command(subsub+"  ", "$ ", c)
					}
				}
			}
		} else {
			w.Wrap(sub, subsub, fmt.Sprintf("%s %s: explained by", strings.Join(keys, ", "), liveWhat(first)))
		}
		for _, f := range report.Merge(findings, codeWhat) {
			w.WriteFinding(subsub, f)
		}
		for _, f := range report.Merge(related, codeWhat) {
			f.Label = "related "
			w.WriteFinding(subsub, f)
		}
	}
	if len(in.Services) == 0 {
		w.Line(sub, "no live failure to explain")
	}
	if len(in.ConfigOnly) > 0 {
		w.Line(indent, "configuration problems the live run did not hit:")
		for _, f := range report.Merge(in.ConfigOnly, codeWhat) {
			w.WriteFinding(sub, f)
		}
	}
}

// joinGroups puts together, in order, the joined services that failed alike (verdict, check,
// error, route) and are explained alike (the same finding codes, explained or not): an isolated
// subnet's ecr.api, ecr.dkr and logs read as one paragraph. Services explained by nothing come
// last.
func joinGroups(services []JoinedService) [][]JoinedService {
	var out [][]JoinedService
	var keys []string
	key := func(j JoinedService) string {
		k := fmt.Sprint(j.NotExplained != nil, "\x00", liveWhat(j))
		for _, f := range j.Findings {
			k += "\x00" + f.Code
		}
		k += "\x00related"
		for _, f := range j.Related {
			k += "\x00" + f.Code
		}
		return k
	}
	for _, pass := range []bool{false, true} {
		for _, j := range services {
			if (j.NotExplained != nil) != pass {
				continue
			}
			k := key(j)
			if i := slices.Index(keys, k); i >= 0 {
				out[i] = append(out[i], j)
				continue
			}
			keys, out = append(keys, k), append(out, []JoinedService{j})
		}
	}
	return out
}

// codeWhat is a finding code's own description (inspect.Codes): what a merged finding says when
// its members' diagnoses differ in more than their services.
func codeWhat(code string) string {
	for _, c := range inspect.Codes {
		if c.Code == code {
			return c.What
		}
	}
	return ""
}

// liveWhat is how the live run failed: "warn tcp timeout (private route)".
func liveWhat(j JoinedService) string {
	s := string(j.Verdict)
	for _, part := range []string{j.Check, string(j.Error)} {
		if part != "" {
			s += " " + part
		}
	}
	if j.Route != "" {
		s += " (" + j.Route + " route)"
	}
	return s
}
