package probe

import (
	"fmt"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// The answers of a Route 53 Resolver DNS Firewall block, as the rule's action documents them
// (Route 53 API reference, FirewallRule.BlockResponse; developer guide, "DNS Firewall rule
// actions"): NODATA (NOERROR without records), NXDOMAIN, or OVERRIDE with a CNAME to a domain of
// the owner's choosing; a firewall that fails closed answers SERVFAIL when it cannot evaluate a
// query. The Amazon-provided resolver (169.254.169.253) is behind the same firewall, so the
// second opinion agrees. An AWS service name of the region otherwise always has addresses, so one
// of these answers for it, with the second opinion agreeing, names DNS Firewall as the likely
// cause.

// awsSuffixes are the DNS suffixes of AWS's own service names in region: the partition's, and
// the dual-stack ones.
func awsSuffixes(region string) []string {
	return []string{"." + catalogue.PartitionOf(region).DNSSuffix, ".api.aws", ".on.aws"}
}

// awsName reports whether name is one of AWS's service names (not a custom endpoint URL's host).
func awsName(name, region string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, s := range awsSuffixes(region) {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// overrideTarget returns the first name of a CNAME chain that is not AWS's: the domain a DNS
// Firewall OVERRIDE answers instead (or a hand-made record's target); "" when the chain stays
// within AWS's names.
func overrideTarget(cnames []string, region string) string {
	for _, c := range cnames {
		if !awsName(c, region) {
			return c
		}
	}
	return ""
}

// secondAgrees reports whether the Amazon-provided resolver gave the same answer: the same
// failure code, or (for a CNAME override) addresses it agrees with; true when it was not asked.
func (f finding) secondAgrees(code checks.Code) bool {
	if f.second == nil {
		return true
	}
	if code == "" {
		return f.second.Agrees != nil && *f.second.Agrees
	}
	return f.second.Status == checks.Fail && f.second.Error == code
}

// dnsFirewallShape names DNS Firewall as the likely cause of a failure whose DNS answer has the
// shape of a DNS Firewall block for an AWS name, the Amazon-provided resolver agreeing: NXDOMAIN,
// NODATA or SERVFAIL from the DNS check, or a CNAME leaving AWS's names (an OVERRIDE).
func (f finding) dnsFirewallShape(j judgement) judgement {
	if j.verdict != checks.Fail && j.verdict != checks.Warn || !awsName(f.host, f.region) || len(f.results) == 0 || f.results[0].Name != "dns" {
		return j
	}
	d := f.results[0]
	by := "the configured resolver"
	if d.Resolver != "" {
		by = d.Resolver
	}
	also := "the Amazon-provided resolver answers the same, as it sits behind the same firewall"
	if f.second == nil {
		also = "the Amazon-provided resolver, which sits behind the same firewall, was not asked"
	}
	// The host's own sentence, then one every blocked service shares: the text view says the
	// shared one once.
	fix := fmt.Sprintf("Allow %s in this VPC's DNS Firewall. In the rule group whose domain list blocks a name (vpcprobe inspect names the rule: dns-firewall-blocks), add an ALLOW rule with a lower priority number, or take the name off the block list.", f.host)
	if d.Status == checks.Fail && f.secondAgrees(d.Code) {
		var shape string
		switch d.Code {
		case checks.NXDomain:
			shape = "NXDOMAIN, the answer of a DNS Firewall rule that blocks with NXDOMAIN"
		case checks.NoAnswer:
			shape = "NOERROR without an address (NODATA), the answer of a DNS Firewall rule that blocks with NODATA"
		case checks.ServFail:
			shape = "SERVFAIL, the answer of a DNS Firewall that fails closed (fail-open off) when it cannot evaluate a query"
			fix = "Check the VPC's DNS Firewall: with fail-open off it answers SERVFAIL when it cannot evaluate a query (aws route53resolver get-firewall-config --resource-id <vpc-id>); " + fix
		default:
			return j
		}
		j.diagnosis = fmt.Sprintf("%s answers %s for %s, an AWS service name that always has addresses, and %s: Route 53 Resolver DNS Firewall is the likely cause (otherwise a private hosted zone or Resolver rule covering the name). %s",
			by, shape, f.host, also, j.diagnosis)
		j.remediation = fix + " " + j.remediation
		return j
	}
	if t := overrideTarget(d.CNAMEs, f.region); t != "" && d.Status == checks.Pass && f.secondAgrees("") {
		j.diagnosis = fmt.Sprintf("%s is a CNAME to %s, outside AWS's names, and %s: the answer of a DNS Firewall rule that blocks with an OVERRIDE (or a hand-made record), so traffic goes to %s instead of %s. %s",
			f.host, t, also, t, f.svc.Key, j.diagnosis)
		j.remediation = fix + " " + j.remediation
	}
	return j
}
