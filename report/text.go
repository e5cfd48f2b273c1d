package report

import (
	"bytes"
	"fmt"
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
	for _, s := range r.Services {
		fmt.Fprintf(tw, "%s\t%s", s.Service, s.Route)
		for _, name := range tableChecks {
			fmt.Fprintf(tw, "\t%s", cell(s.Checks, name))
		}
		fmt.Fprintf(tw, "\t%s\n", paint(s.Verdict, strings.ToUpper(string(s.Verdict)), color))
	}
	tw.Flush()

	for _, s := range r.Services {
		if s.Verdict == checks.Pass {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s (%s)\n", paint(s.Verdict, strings.ToUpper(string(s.Verdict)), color), s.Service, s.Host)
		for _, ch := range s.Checks {
			if ch.Status == checks.Fail || ch.Status == checks.Warn {
				fmt.Fprintf(&b, "  %s %s: %s\n", ch.Name, ch.Error, ch.Detail)
			}
		}
		if s.Diagnosis != "" {
			fmt.Fprintf(&b, "  why: %s\n", s.Diagnosis)
		}
		if s.Remediation != "" {
			fmt.Fprintf(&b, "  fix: %s\n", s.Remediation)
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
