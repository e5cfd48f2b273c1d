package report

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

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
		fmt.Fprintf(tw, "%s\t%s", s.Service, s.Route)
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
		if why := groupWhy(g); why != "" {
			fmt.Fprintf(&b, "  why: %s\n", why)
		}
		if first.Remediation != "" {
			fmt.Fprintf(&b, "  fix: %s\n", first.Remediation)
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
// resolver, a subnet's missing route) read as one paragraph with one fix.
func groups(services []ServiceReport) [][]ServiceReport {
	var out [][]ServiceReport
	at := map[string]int{}
	for _, s := range services {
		if s.Verdict == checks.Pass {
			continue
		}
		key := string(s.Verdict) + "\x00" + string(s.Error) + "\x00" + s.Remediation
		if i, ok := at[key]; ok && s.Remediation != "" {
			out[i] = append(out[i], s)
			continue
		}
		at[key] = len(out)
		out = append(out, []ServiceReport{s})
	}
	return out
}

// addrList is a parenthesised list of addresses in a diagnosis: one service's answer.
var addrList = regexp.MustCompile(` \((?:[a-z]+ addresses )?[0-9a-f]*[.:][0-9a-f.:]+(?:(?:, | and )[0-9a-f]*[.:][0-9a-f.:]+)*\)`)

// groupWhy is a group's one diagnosis: the diagnosis when all say the same, else the first's
// with its host named as every host of the group and without the addresses only it was given.
func groupWhy(g []ServiceReport) string {
	why := g[0].Diagnosis
	for _, s := range g[1:] {
		if s.Diagnosis != why {
			return addrList.ReplaceAllString(strings.ReplaceAll(why, g[0].Host, "each host above"), "")
		}
	}
	return why
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
