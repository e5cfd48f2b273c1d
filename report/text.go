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

// Text renders the report for a person at DefaultWidth (see TextWidth).
func (r *Report) Text(color bool) []byte { return r.TextWidth(color, DefaultWidth) }

// TextWidth renders the report for a person: a context line, an aligned table, then for every
// group of services that did not pass for one cause its failing checks, diagnosis and
// remediation, each sentence once, prose wrapped at width. color adds ANSI colour to verdicts;
// callers pass it only for a terminal without NO_COLOR.
func (r *Report) TextWidth(color bool, width int) []byte {
	var b bytes.Buffer
	w := NewWriter(&b, width)
	r.WriteText(w, "", color)
	return b.Bytes()
}

// WriteText writes the report's text view on w after indent: what TextWidth returns, and what
// the launch report shows of each subnet's own report.
func (r *Report) WriteText(w *Writer, indent string, color bool) {
	b := w.B
	c := r.Context
	fields := []string{"vpcprobe " + r.RunID, "region " + orUnknown(c.Region)}
	if c.Account != "" {
		fields = append(fields, "account "+c.Account)
	}
	if c.AvailabilityZone != "" {
		fields = append(fields, "zone "+c.AvailabilityZone)
	}
	if c.SubnetCIDR != "" {
		fields = append(fields, "subnet "+c.SubnetCIDR)
	}
	fields = append(fields, "resolvers "+orUnknown(strings.Join(c.Resolvers, ",")))
	w.Fields(indent, fields...)
	if c.InstanceID != "" {
		w.Fields(indent, "instance "+c.InstanceID, "vpc "+orUnknown(c.VPCID), "subnet "+orUnknown(c.SubnetID), "cluster "+orUnknown(c.Cluster))
	}
	if im := c.InstanceMetadata; im != nil && im.Status != checks.Pass {
		w.Wrap(indent, indent+"  ", fmt.Sprintf("%s instance metadata: %s: %s", paint(im.Status, strings.ToUpper(string(im.Status)), color), im.Error, im.Detail))
		w.Prose(indent+"  ", "why: ", im.Diagnosis)
		w.Prose(indent+"  ", "fix: ", im.Remediation)
	}
	b.WriteByte('\n')

	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, indent+"SERVICE\tROUTE\tDNS\tTCP\tTLS\tHTTP\tAUTH\tVERDICT")
	disagree := false
	for _, s := range r.Services {
		name := s.Service
		if s.Region != "" { // another region's service (--other-region)
			name += "@" + s.Region
		}
		fmt.Fprintf(tw, "%s%s\t%s", indent, name, s.Route)
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
		w.Wrap(indent, indent+"  ", fmt.Sprintf("%s the Amazon-provided resolver (%s) answers otherwise: it leads somewhere else", disagreeMark, orUnknown(c.AmazonDNS)))
	}

	for _, g := range groups(r.Services) {
		writeGroup(w, indent, g, color)
	}

	n := r.Counts
	verdict := fmt.Sprintf("verdict %s: %d pass, %d warn, %d fail, %d skip in %dms; cloudwatch %s",
		paint(r.Verdict, string(r.Verdict), color), n.Pass, n.Warn, n.Fail, n.Skip, r.DurationMS, r.Delivery.CloudWatch)
	if r.Delivery.Error != "" {
		verdict += fmt.Sprintf(" (%s)", r.Delivery.Error)
	}
	b.WriteByte('\n')
	w.Wrap(indent, indent+"  ", verdict)
}

// writeGroup writes one group of services that did not pass for one cause, as a finding: its
// head, each failing check (with its detail unless the diagnosis quotes it), then why and fix
// once.
func writeGroup(w *Writer, indent string, g []ServiceReport, color bool) {
	first := g[0]
	sh := Shown{Finding: Finding{Service: first.Service, Severity: Severity(first.Verdict), Code: string(first.Error)}}
	for _, s := range g[1:] {
		sh.Services = append(sh.Services, s.Service)
	}
	sh.Color = color
	// Without check lines (a launch's diagnoses) the head says the reason code itself.
	code := ""
	if len(failing(first)) == 0 && first.Error != "" {
		code = " " + string(first.Error)
	}
	switch {
	case len(g) == 1 && first.Service == "":
		sh.Title = strings.TrimSpace(code)
	case len(g) == 1 && first.Host != "":
		sh.Title = fmt.Sprintf("%s%s (%s)", first.Service, code, first.Host)
	case len(g) == 1:
		sh.Title = first.Service + code
	default:
		sh.Title = strings.Join(sh.Keys(), ", ") + code + ": one cause"
	}
	// Diagnoses that differ in more than each service's own names (the ARN of a secret, the
	// name of a parameter) keep what differs: each check's detail is printed on its own line,
	// and the shared sentence points at them.
	own := false
	for _, s := range g[1:] {
		own = own || generic(s, s.Diagnosis) != generic(first, first.Diagnosis)
	}
	lines := make([][]string, len(g))
	same := true
	for i, s := range g {
		for _, ch := range failing(s) {
			line := ch.Name + " " + string(ch.Error)
			// The diagnosis often quotes the check's detail: say it once, in the why.
			if ch.Detail != "" && (own || !strings.Contains(s.Diagnosis, ch.Detail)) {
				line += ": " + ch.Detail
			}
			lines[i] = append(lines[i], line)
		}
		same = same && slices.Equal(lines[i], lines[0])
	}
	switch {
	case len(g) > 1 && same:
		sh.Lines = append(sh.Lines, lines[0]...)
		hosts := make([]string, len(g))
		for i, s := range g {
			hosts[i] = s.Host
		}
		sh.Lines = append(sh.Lines, "hosts: "+strings.Join(hosts, ", "))
	default:
		for i, s := range g {
			for _, l := range lines[i] {
				if len(g) > 1 {
					l = s.Service + " (" + s.Host + ") " + l
				}
				sh.Lines = append(sh.Lines, l)
			}
		}
	}
	sh.Diagnosis = forGroup(g, func(s ServiceReport) string { return s.Diagnosis })
	if own {
		sh.Diagnosis = forGroup(g, func(s ServiceReport) string { return withoutDetails(s, s.Diagnosis) })
	}
	sh.Remediation = forGroup(g, func(s ServiceReport) string { return s.Remediation })
	w.B.WriteByte('\n')
	w.WriteFinding(indent, sh)
}

// Groups returns the services that did not pass, grouped by cause (see groups).
func Groups(services []ServiceReport) [][]ServiceReport { return groups(services) }

// WriteGroup writes one group of Groups after indent: the services, their failing checks, and
// the group's one why and one fix.
func (w *Writer) WriteGroup(indent string, g []ServiceReport) { writeGroup(w, indent, g, false) }

// failing returns the checks of s that failed or warned.
func failing(s ServiceReport) []CheckReport {
	var out []CheckReport
	for _, ch := range s.Checks {
		if ch.Status == checks.Fail || ch.Status == checks.Warn {
			out = append(out, ch)
		}
	}
	return out
}

// withoutDetails returns text with the details of s's failing checks replaced by a pointer to
// the check lines that carry them.
func withoutDetails(s ServiceReport, text string) string {
	for _, ch := range failing(s) {
		if ch.Detail != "" {
			text = strings.ReplaceAll(text, ch.Detail, "see each check above")
		}
	}
	return text
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
	text = keyWord(s.Service).ReplaceAllString(text, "${1}"+phService+"${2}")
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
