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
		inspect.CodeACLEndpointIn, inspect.CodeACLEndpointOut, inspect.CodeEndpointNotAvailable, inspect.CodeRouteBlackhole}
	// missingCodes send a name to a public address nothing carries the subnet to.
	missingCodes = []string{inspect.CodeEndpointMissing, inspect.CodeEndpointViaNAT, inspect.CodeEndpointViaIGW, inspect.CodeEndpointCentral,
		inspect.CodePrivateDNSOff, inspect.CodeS3GatewayMissing, inspect.CodeS3RouteMissing, inspect.CodeSGTaskEgressS3,
		inspect.CodeRouteBlackhole, inspect.CodeACLTaskOut, inspect.CodeACLTaskIn}
	// dnsCodes make a name resolve elsewhere than the endpoint, or not at all.
	dnsCodes = []string{inspect.CodePrivateDNSOff, inspect.CodeDNSSupportOff, inspect.CodeDNSHostnamesOff, inspect.CodeDHCPCustomDNS,
		inspect.CodeResolverForward}
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
func joinService(l live, rep *inspect.Report) JoinedService {
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
			Diagnosis: "Nothing in the VPC's configuration (endpoints, DNS settings, security groups, route tables, network ACLs, policies) explains this failure: the cause is outside what the EC2 API shows."}
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
	in := &Inspection{VPCID: rep.VPCID, SecurityGroups: rep.SecurityGroups, Services: []JoinedService{}, ConfigOnly: []inspect.Finding{}}
	for _, l := range liveFailures(live, diagnoses) {
		if !slices.Contains(rep.Services, l.service) {
			continue // probed but not inspected (the task definition's own --services): nothing to join
		}
		in.Services = append(in.Services, joinService(l, rep))
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
			l := live{service: sr.Service, verdict: sr.Verdict, err: sr.Error, route: sr.Route,
				dnsDiffer: sr.AmazonDNS != nil && sr.AmazonDNS.Agrees != nil && !*sr.AmazonDNS.Agrees}
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

// Write renders the joined view under a subnet's diagnoses: each failing service with the
// findings that explain it and their commands, then the live failures the configuration does
// not explain, then the configuration problems the live run did not hit.
func (in *Inspection) Write(b *bytes.Buffer) {
	if in == nil {
		return
	}
	fmt.Fprintf(b, "  configuration of %s (security groups %s):\n", in.VPCID, stopped.OrDash(strings.Join(in.SecurityGroups, ",")))
	var unexplained []JoinedService
	for _, j := range in.Services {
		if j.NotExplained != nil {
			unexplained = append(unexplained, j)
			continue
		}
		fmt.Fprintf(b, "    %s %s: explained by\n", j.Service, liveWhat(j))
		for _, f := range j.Findings {
			writeFinding(b, "      ", f)
		}
		for _, f := range j.Related {
			writeFinding(b, "      related ", f)
		}
	}
	for _, j := range unexplained {
		fmt.Fprintf(b, "    %s %s: NOT EXPLAINED by the configuration (%s): could be %s\n",
			j.Service, liveWhat(j), j.NotExplained.Code, strings.Join(j.NotExplained.CouldBe, "; "))
		for _, f := range j.Related {
			writeFinding(b, "      related ", f)
		}
	}
	if len(in.Services) == 0 {
		b.WriteString("    no live failure to explain\n")
	}
	if len(in.ConfigOnly) > 0 {
		b.WriteString("  configuration problems the live run did not hit:\n")
		for _, f := range in.ConfigOnly {
			writeFinding(b, "    ", f)
		}
	}
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

// writeFinding renders one finding: severity, code, resources and diagnosis, then its command
// (or remediation) on a line of its own.
func writeFinding(b *bytes.Buffer, indent string, f inspect.Finding) {
	what := f.Code
	if len(f.Resources) > 0 {
		what += " " + strings.Join(f.Resources, ",")
	}
	fmt.Fprintf(b, "%s%s %s: %s\n", indent, strings.ToUpper(string(f.Severity)), what, f.Diagnosis)
	pad := strings.Repeat(" ", len(indent)-len(strings.TrimLeft(indent, " ")))
	switch {
	case f.Command != "":
		fmt.Fprintf(b, "%s  fix: %s\n", pad, f.Command)
	case f.Remediation != "":
		fmt.Fprintf(b, "%s  fix: %s\n", pad, f.Remediation)
	}
}
