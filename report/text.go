package report

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/vpcprobe/vpcprobe/checks"
)

// tableChecks are the columns of the text table, after service and route.
var tableChecks = []string{"dns", "tcp", "tls", "http", "auth"}

// Text renders the report for a person: a context line, an aligned table, then for every
// service that did not pass its failing check, diagnosis and remediation. color adds ANSI colour
// to verdicts; callers pass it only for a terminal without NO_COLOR.
func (r *Report) Text(color bool) []byte {
	var b bytes.Buffer
	c := r.Context
	fmt.Fprintf(&b, "vpcprobe %s  region %s", r.RunID, orUnknown(c.Region))
	if c.Account != "" {
		fmt.Fprintf(&b, "  account %s", c.Account)
	}
	if c.AvailabilityZone != "" {
		fmt.Fprintf(&b, "  zone %s", c.AvailabilityZone)
	}
	if c.SubnetCIDR != "" {
		fmt.Fprintf(&b, "  subnet %s", c.SubnetCIDR)
	}
	fmt.Fprintf(&b, "  resolvers %s\n", orUnknown(strings.Join(c.Resolvers, ",")))
	if c.InstanceID != "" {
		fmt.Fprintf(&b, "instance %s  vpc %s  subnet %s  cluster %s\n", c.InstanceID, orUnknown(c.VPCID), orUnknown(c.SubnetID), orUnknown(c.Cluster))
	}
	if im := c.InstanceMetadata; im != nil && im.Status != checks.Pass {
		fmt.Fprintf(&b, "%s instance metadata: %s: %s\n", paint(im.Status, strings.ToUpper(string(im.Status)), color), im.Error, im.Detail)
		if im.Diagnosis != "" {
			fmt.Fprintf(&b, "  why: %s\n", im.Diagnosis)
		}
		if im.Remediation != "" {
			fmt.Fprintf(&b, "  fix: %s\n", im.Remediation)
		}
	}
	b.WriteByte('\n')

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tROUTE\tDNS\tTCP\tTLS\tHTTP\tAUTH\tVERDICT")
	disagree := false
	for _, s := range r.Services {
		name := s.Service
		if s.Region != "" { // another region's service (--other-region)
			name += "@" + s.Region
		}
		fmt.Fprintf(tw, "%s\t%s", name, s.Route)
		for _, name := range tableChecks {
			v := cell(s.Checks, name)
			if name == "dns" && s.AmazonDNS != nil && s.AmazonDNS.Agrees != nil && !*s.AmazonDNS.Agrees {
				v += disagreeMark
				disagree = true
			}
			fmt.Fprintf(tw, "\t%s", v)
		}
		fmt.Fprintf(tw, "\t%s\n", paint(s.Verdict, strings.ToUpper(string(s.Verdict)), color))
	}
	tw.Flush()
	if disagree {
		fmt.Fprintf(&b, "%s the Amazon-provided resolver (%s) answers otherwise: it leads somewhere else\n", disagreeMark, orUnknown(c.AmazonDNS))
	}

	for _, g := range groups(r.Services) {
		first := g[0]
		names := make([]string, len(g))
		for i, s := range g {
			names[i] = s.Service
		}
		head := paint(first.Verdict, strings.ToUpper(string(first.Verdict)), color)
		if len(g) == 1 {
			fmt.Fprintf(&b, "\n%s %s (%s)\n", head, first.Service, first.Host)
		} else {
			fmt.Fprintf(&b, "\n%s %s: one cause\n", head, strings.Join(names, ", "))
		}
		lines := make([][]string, len(g))
		same := true
		for i, s := range g {
			for _, ch := range s.Checks {
				if ch.Status != checks.Fail && ch.Status != checks.Warn {
					continue
				}
				line := ch.Name + " " + string(ch.Error)
				// The diagnosis often quotes the check's detail: say it once, in the why.
				if ch.Detail != "" && !strings.Contains(s.Diagnosis, ch.Detail) {
					line += ": " + ch.Detail
				}
				lines[i] = append(lines[i], line)
			}
			same = same && slices.Equal(lines[i], lines[0])
		}
		switch {
		case len(g) > 1 && same:
			for _, l := range lines[0] {
				fmt.Fprintf(&b, "  %s\n", l)
			}
			hosts := make([]string, len(g))
			for i, s := range g {
				hosts[i] = s.Host
			}
			fmt.Fprintf(&b, "  hosts: %s\n", strings.Join(hosts, ", "))
		default:
			for i, s := range g {
				for _, l := range lines[i] {
					if len(g) > 1 {
						l = s.Service + " (" + s.Host + ") " + l
					}
					fmt.Fprintf(&b, "  %s\n", l)
				}
			}
		}
		if why := forGroup(g, func(s ServiceReport) string { return s.Diagnosis }); why != "" {
			fmt.Fprintf(&b, "  why: %s\n", why)
		}
		if first.Remediation != "" {
			fmt.Fprintf(&b, "  fix: %s\n", forGroup(g, func(s ServiceReport) string { return s.Remediation }))
		}
	}

	n := r.Counts
	fmt.Fprintf(&b, "\nverdict %s: %d pass, %d warn, %d fail, %d skip in %dms; cloudwatch %s",
		paint(r.Verdict, string(r.Verdict), color), n.Pass, n.Warn, n.Fail, n.Skip, r.DurationMS, r.Delivery.CloudWatch)
	if r.Delivery.Error != "" {
		fmt.Fprintf(&b, " (%s)", r.Delivery.Error)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// disagreeMark follows the DNS cell of a service whose configured resolver and Amazon-provided
// resolver lead to different places (the check alone would read "pass").
const disagreeMark = "≠"

// groups returns the services that did not pass, in report order, with the services that share
// a verdict, a reason code and a fix in one group: many services failing for one cause (a dead
// resolver, an isolated subnet) read as one paragraph with one fix. Fixes that differ only by
// each service's own name, host and endpoint service ("create the endpoint com.amazonaws.…")
// are the same fix.
func groups(services []ServiceReport) [][]ServiceReport {
	var out [][]ServiceReport
	at := map[string]int{}
	for _, s := range services {
		if s.Verdict == checks.Pass {
			continue
		}
		key := string(s.Verdict) + "\x00" + string(s.Error) + "\x00" + generic(s, s.Remediation)
		if i, ok := at[key]; ok && s.Remediation != "" {
			out[i] = append(out[i], s)
			continue
		}
		at[key] = len(out)
		out = append(out, []ServiceReport{s})
	}
	return out
}

// Placeholders generic puts where a sentence names its own service.
const (
	phHost     = "\x00host\x00"
	phEndpoint = "\x00endpoint\x00"
	phService  = "\x00service\x00"
)

// generic returns text with s's own host, endpoint service and key replaced by placeholders, and
// without the addresses only s was given.
func generic(s ServiceReport, text string) string {
	if s.Host != "" {
		text = strings.ReplaceAll(text, s.Host, phHost)
	}
	if s.EndpointService != "" {
		text = strings.ReplaceAll(text, s.EndpointService, phEndpoint)
	}
	text = regexp.MustCompile(`(^|[ (])`+regexp.QuoteMeta(s.Service)+`([ ,.:;)]|$)`).ReplaceAllString(text, "${1}"+phService+"${2}")
	return addrList.ReplaceAllString(text, "")
}

// addrList is a parenthesised list of addresses in a diagnosis: one service's answer.
var addrList = regexp.MustCompile(` \((?:[a-z]+ addresses )?[0-9a-f]*[.:][0-9a-f.:]+(?:(?:, | and )[0-9a-f]*[.:][0-9a-f.:]+)*\)`)

// forGroup writes a group's one sentence from its first service's: the same text when every
// service says the same, else the generic text with each placeholder naming them all.
func forGroup(g []ServiceReport, text func(ServiceReport) string) string {
	first := text(g[0])
	same := true
	for _, s := range g[1:] {
		same = same && text(s) == first
	}
	if same {
		return first
	}
	var keys, endpoints []string
	for _, s := range g {
		keys, endpoints = append(keys, s.Service), append(endpoints, s.EndpointService)
	}
	out := generic(g[0], first)
	// "the interface VPC endpoint X" names one endpoint; a group's sentence names several.
	out = strings.ReplaceAll(out, "endpoint "+phEndpoint, "endpoints "+phEndpoint)
	out = strings.ReplaceAll(out, "the existing one", "the existing ones")
	out = strings.ReplaceAll(out, phHost, "each host above")
	out = strings.ReplaceAll(out, phEndpoint, and(endpoints))
	out = strings.ReplaceAll(out, phService, and(keys))
	if r, n := utf8.DecodeRuneInString(out); unicode.IsLower(r) { // "each host above …" starts it
		out = string(unicode.ToUpper(r)) + out[n:]
	}
	return out
}

// and writes items as "a, b and c".
func and(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// cell is a check's table cell: its status, or its reason code when it did not pass.
func cell(cs []CheckReport, name string) string {
	for _, c := range cs {
		if c.Name != name {
			continue
		}
		if c.Error != "" {
			return string(c.Error)
		}
		return string(c.Status)
	}
	return "-"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// paint colours a verdict word for a terminal.
func paint(st checks.Status, s string, color bool) string {
	if !color {
		return s
	}
	code := map[checks.Status]string{checks.Pass: "32", checks.Warn: "33", checks.Fail: "31", checks.Skip: "90"}[st]
	if code == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
