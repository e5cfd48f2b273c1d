package inspect

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
		return fmt.Sprintf("the task's security group %s lacks outbound TCP 443 to the S3 prefix list %s", r.resource, r.peer)
	},
	CodeEndpointViaNAT: func(r rollup) string {
		return fmt.Sprintf("traffic leaves through %s (paid per GB)", r.resource)
	},
	CodePrivateDNSOff: func(r rollup) string { return "private DNS is off on their endpoints" },
}

// Text returns the report for a terminal: a roll-up of what the VPC lacks, the commands that fix
// it, then one line per finding.
func (r *Report) Text() []byte {
	var b strings.Builder
	fails, warns := 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case Fail:
			fails++
		case Warn:
			warns++
		}
	}
	fmt.Fprintf(&b, "vpcprobe inspect: %s, subnet %s (%s, %s), security groups %s, region %s\n",
		r.VPCID, r.SubnetID, r.AZ, r.SubnetCIDR, cmpOr(strings.Join(r.SecurityGroups, ", "), "unknown"), r.Region)
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "nothing in the configuration breaks the path to %s\n", strings.Join(r.Services, ", "))
		return []byte(b.String())
	}
	for _, line := range r.rollupLines() {
		b.WriteString("  " + line + "\n")
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
				b.WriteString("  " + c + "\n")
			}
		}
	}
	b.WriteString("\nFindings:\n")
	for _, f := range r.Findings {
		who := cmpOr(f.Service, "vpc")
		fmt.Fprintf(&b, "  %-4s %-8s %s [%s]\n       %s\n       -> %s\n", f.Severity, who, f.Code, strings.Join(f.Resources, " "), f.Diagnosis, f.Remediation)
	}
	return []byte(b.String())
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
