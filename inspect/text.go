package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/report"
)

// JSON returns the report as CONTRACT.md's vpcprobe-inspect/v1 document, with a newline.
func (r *Report) JSON() []byte {
	out, _ := json.MarshalIndent(r, "", "  ")
	return append(out, '\n')
}

// rollup groups findings of one code (and, for rules about one resource, that resource) so
// that the text view says "security group sg-1 lacks … for ecr.api, logs" once.
type rollup struct {
	code     string
	sev      Severity
	resource string
	services []string
	peer     string
}

// phrases are how a roll-up line reads per code; codes not listed read as their Codes text.
var phrases = map[string]func(r rollup) string{
	CodeSGEndpointIngress: func(r rollup) string {
		return fmt.Sprintf("security group %s lacks inbound TCP 443 from the task (%s)", r.resource, r.peer)
	},
	CodeSGTaskEgress: func(r rollup) string {
		return fmt.Sprintf("the task's security group %s lacks outbound TCP 443 to the endpoints (%s)", r.resource, r.peer)
	},
	CodeSGTaskEgressS3: func(r rollup) string {
		return fmt.Sprintf("no outbound TCP 443 to the S3 prefix list %s in the task's security group %s", r.peer, r.resource)
	},
	CodeEndpointViaNAT: func(r rollup) string {
		return fmt.Sprintf("traffic leaves through %s (paid per GB)", r.resource)
	},
	CodePrivateDNSOff: func(r rollup) string { return "private DNS is off on their endpoints" },
}

// Text returns the report for a terminal at report.DefaultWidth (see TextWidth).
func (r *Report) Text() []byte { return r.TextWidth(report.DefaultWidth) }

// TextWidth returns the report for a terminal: a roll-up of what the VPC lacks, the commands
// that fix it, then the findings, those that say the same merged (one naming every service),
// each sentence once, prose wrapped at width and each command on one line.
func (r *Report) TextWidth(width int) []byte {
	var b bytes.Buffer
	w := report.NewWriter(&b, width)
	fails, warns := 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case Fail:
			fails++
		case Warn:
			warns++
		}
	}
	w.Fields("", "vpcprobe inspect: "+r.VPCID, fmt.Sprintf("subnet %s (%s, %s)", r.SubnetID, r.AZ, r.SubnetCIDR),
		"security groups "+cmpOr(strings.Join(r.SecurityGroups, ", "), "unknown"), "region "+r.Region)
	if len(r.Findings) == 0 {
		w.Wrap("", "  ", "nothing in the configuration breaks the path to "+strings.Join(r.Services, ", "))
		return b.Bytes()
	}
	for _, line := range r.rollupLines() {
		w.Wrap("  ", "    ", line)
	}
	fmt.Fprintf(&b, "%d fail, %d warn, %d info\n", fails, warns, len(r.Findings)-fails-warns)
	for _, sec := range []struct {
		sev   Severity
		title string
	}{
		{Fail, "To fix (or --fix-format cloudformation|terraform for one snippet):"},
		{Warn, "Recommended:"},
	} {
		var cmds []string
		for _, f := range r.Findings {
			if f.Command != "" && f.Severity == sec.sev && !slices.Contains(cmds, f.Command) {
				cmds = append(cmds, f.Command)
			}
		}
		if len(cmds) > 0 {
			b.WriteString("\n" + sec.title + "\n")
			for _, c := range cmds {
				w.Command("  ", "$ ", c)
			}
		}
	}
	b.WriteString("\nFindings:\n")
	for _, f := range report.Merge(r.Findings, codeWhat) {
		w.WriteFinding("  ", f)
	}
	return b.Bytes()
}

// codeWhat is a code's description in Codes: what a merged finding says when its members'
// diagnoses differ in more than their services.
func codeWhat(code string) string {
	if i := codeRank(code); i >= 0 {
		return Codes[i].What
	}
	return ""
}

// rollupLines says what the VPC lacks, one line per kind of problem, services named once.
func (r *Report) rollupLines() []string {
	var lines []string
	var missing []string
	gateway := false
	for _, f := range r.Findings {
		switch {
		case f.Code == CodeEndpointMissing && f.Severity == Fail:
			missing = append(missing, f.Service)
		case f.Code == CodeS3GatewayMissing:
			gateway = true
		}
	}
	if len(missing) > 0 || gateway {
		line := "this VPC lacks "
		switch {
		case len(missing) == 1:
			line += "1 endpoint"
		case len(missing) > 1:
			line += fmt.Sprintf("%d endpoints", len(missing))
		}
		if gateway {
			if len(missing) > 0 {
				line += " and "
			}
			line += "the S3 gateway"
		}
		if len(missing) > 0 {
			line += ": " + strings.Join(missing, ", ")
		}
		lines = append(lines, line)
	}
	var groups []*rollup
	for _, f := range r.Findings {
		if (f.Code == CodeEndpointMissing && f.Severity == Fail) || f.Code == CodeS3GatewayMissing {
			continue
		}
		res, peer := "", ""
		switch f.Code {
		case CodeSGEndpointIngress, CodeSGTaskEgress, CodeSGTaskEgressS3:
			if x := fixOf(f); x != nil {
				res, peer = x.GroupID, cmpOr(x.CIDR, x.PeerGroup, x.PrefixList)
			}
		case CodeEndpointViaNAT:
			if len(f.Resources) > 0 {
				res = f.Resources[0]
			}
		}
		i := slices.IndexFunc(groups, func(g *rollup) bool { return g.code == f.Code && g.resource == res && g.sev == f.Severity })
		if i < 0 {
			groups = append(groups, &rollup{code: f.Code, sev: f.Severity, resource: res, peer: peer})
			i = len(groups) - 1
		}
		for _, s := range append([]string{f.Service}, f.Services...) {
			if s != "" && !slices.Contains(groups[i].services, s) {
				groups[i].services = append(groups[i].services, s)
			}
		}
	}
	for _, g := range groups {
		text := ""
		if p, ok := phrases[g.code]; ok {
			text = p(*g)
		} else if i := codeRank(g.code); i >= 0 {
			text = Codes[i].What
		}
		line := fmt.Sprintf("%s: %s", g.sev, text)
		if len(g.services) > 0 {
			line += " — " + strings.Join(g.services, ", ")
		}
		lines = append(lines, line)
	}
	return lines
}
