// Package htmlmap writes the health map: one self-contained HTML page of accounts, regions,
// VPCs and subnets against services, each cell coloured by verdict and opening the path a
// task's call takes (resolver, answer, route, endpoint or NAT, TLS, call) with the failing hop
// marked and the fix beside it. The page fetches nothing (a Content-Security-Policy of
// default-src 'none' says so to the browser), needs no script (cells open with
// <details>), opens from a file and prints (print CSS shows each failing hop and fix inline).
//
// It is a small writer over html.EscapeString, not text/template or html/template: their
// reflection turns off the linker's dead-code elimination for the whole binary.
package htmlmap

import (
	"bytes"
	"html"
	"strconv"
)

// Page is what the map shows. It knows nothing of where the values come from (fleet builds it).
type Page struct {
	Title   string
	Verdict string // pass, warn, fail, skip
	// Summary is one line under the title (mode, counts, launch id).
	Summary  string
	Services []string
	Accounts []Account
	// Notes are lines about what was not read (untested accounts and regions).
	Notes []string
}

// Account is one account's regions.
type Account struct {
	ID, Name string
	Regions  []Region
}

// Region is one region's VPCs.
type Region struct {
	Name string
	VPCs []VPC
}

// VPC is one VPC's subnets.
type VPC struct {
	ID      string
	Subnets []Subnet
}

// Subnet is one row of the map: Cells line up with Page.Services.
type Subnet struct {
	ID, Zone, Verdict string
	MeasuredBy        string // the subnet whose probe stands for this one; empty without probes
	Groups            string // the security groups judged, and where they came from
	Cells             []Cell
	Notes             []string // launcher diagnoses and findings about no one service
}

// Cell is one service in one subnet.
type Cell struct {
	Verdict string
	Hops    []Hop
	// Failing is the index in Hops of the failing hop, -1 for none.
	Failing int
	// Fix is what to change; Command the CLI command that does it (may be empty).
	Fix, Command string
}

// Hop is one step of a service's path.
type Hop struct {
	Name   string // resolver, answer, route, endpoint or NAT, TLS, call
	Status string // pass, warn, fail, skip, unknown
	Detail string
}

// style is the page's CSS: colours by verdict, a sticky header, and print rules that show every
// failing hop and fix inline (a closed <details> prints closed).
const style = `
:root{--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--skip:#6e7781;--bg-pass:#dafbe1;--bg-warn:#fff8c5;--bg-fail:#ffebe9;--bg-skip:#eaeef2}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1f2328}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:1.5rem 0 .3rem}h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;margin:.3rem 0 1rem}th,td{border:1px solid #d0d7de;padding:.25rem .45rem;vertical-align:top;text-align:left}
thead th{background:#f6f8fa;position:sticky;top:0}
tr.vpc th{background:#f6f8fa;font-weight:600}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-weight:600}
.v-pass{background:var(--bg-pass)}.v-warn{background:var(--bg-warn)}.v-fail{background:var(--bg-fail)}.v-skip,.v-unknown{background:var(--bg-skip)}
.t-pass{color:var(--pass)}.t-warn{color:var(--warn)}.t-fail{color:var(--fail)}.t-skip,.t-unknown{color:var(--skip)}
summary{cursor:pointer;font-weight:600}
ol.path{margin:.3rem 0;padding-left:1.2rem}ol.path li.failing{font-weight:700;outline:2px solid var(--fail);outline-offset:1px}
.fix{margin:.3rem 0;max-width:40rem}code{font-size:12px;word-break:break-all;background:#f6f8fa;padding:0 .2rem}
.print{display:none}.muted{color:#57606a}.notes li{margin:.1rem 0}
@media print{
 body{margin:0;font-size:10pt}thead th{position:static}details{display:none}.print{display:block}
 td,th{break-inside:avoid}section.account{break-before:page}section.account:first-of-type{break-before:auto}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
`

// Write returns the page as one HTML document.
func Write(p Page) []byte {
	var b bytes.Buffer
	e := html.EscapeString
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
	// Nothing may be fetched: no script, font, image or connection; inline style only.
	b.WriteString("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + e(p.Title) + "</title>\n<style>" + style + "</style></head>\n<body>\n")
	b.WriteString("<header><h1>" + e(p.Title) + " " + badge(p.Verdict) + "</h1>\n")
	b.WriteString("<p class=\"muted\">" + e(p.Summary) + "</p>\n")
	b.WriteString("<p class=\"legend\">" + badge("pass") + " " + badge("warn") + " " + badge("fail") + " " + badge("skip") +
		" <span class=\"muted\">Open a cell for its path; the failing hop is outlined, the fix beside it.</span></p></header>\n")
	if len(p.Notes) > 0 {
		b.WriteString("<section class=\"untested\"><h2>Not read</h2><ul class=\"notes\">\n")
		for _, n := range p.Notes {
			b.WriteString("<li>" + e(n) + "</li>\n")
		}
		b.WriteString("</ul></section>\n")
	}
	for _, a := range p.Accounts {
		name := a.ID
		if name == "" { // one subnet inspected with the caller's credentials: its id unasked
			name = "of the caller"
		}
		if a.Name != "" {
			name += " (" + a.Name + ")"
		}
		b.WriteString("<section class=\"account\" data-account=\"" + e(a.ID) + "\"><h2>Account " + e(name) + "</h2>\n")
		for _, r := range a.Regions {
			b.WriteString("<h3>" + e(r.Name) + "</h3>\n<table><thead><tr><th>subnet</th><th>zone</th><th>verdict</th><th>measured by</th>")
			for _, s := range p.Services {
				b.WriteString("<th>" + e(s) + "</th>")
			}
			b.WriteString("</tr></thead><tbody>\n")
			for _, v := range r.VPCs {
				b.WriteString("<tr class=\"vpc\" data-vpc=\"" + e(v.ID) + "\"><th colspan=\"" + strconv.Itoa(4+len(p.Services)) + "\">" + e(v.ID) +
					" <span class=\"muted\">" + strconv.Itoa(len(v.Subnets)) + " subnets</span></th></tr>\n")
				for _, s := range v.Subnets {
					writeSubnet(&b, s)
				}
			}
			b.WriteString("</tbody></table>\n")
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

func writeSubnet(b *bytes.Buffer, s Subnet) {
	e := html.EscapeString
	b.WriteString("<tr class=\"subnet\" data-subnet=\"" + e(s.ID) + "\" data-verdict=\"" + e(s.Verdict) + "\">")
	b.WriteString("<th>" + e(s.ID))
	if s.Groups != "" {
		b.WriteString("<br><span class=\"muted\">" + e(s.Groups) + "</span>")
	}
	for _, n := range s.Notes {
		b.WriteString("<br><span class=\"muted\">" + e(n) + "</span>")
	}
	b.WriteString("</th><td>" + e(s.Zone) + "</td><td class=\"v-" + e(s.Verdict) + "\">" + e(s.Verdict) + "</td><td>")
	switch s.MeasuredBy {
	case "":
		b.WriteString("<span class=\"muted\">configuration only</span>")
	case s.ID:
		b.WriteString("itself")
	default:
		b.WriteString(e(s.MeasuredBy))
	}
	b.WriteString("</td>")
	for _, c := range s.Cells {
		writeCell(b, c)
	}
	b.WriteString("</tr>\n")
}

func writeCell(b *bytes.Buffer, c Cell) {
	e := html.EscapeString
	b.WriteString("<td class=\"cell v-" + e(c.Verdict) + "\" data-verdict=\"" + e(c.Verdict) + "\"><details><summary>" + e(c.Verdict) + "</summary><ol class=\"path\">")
	for i, h := range c.Hops {
		cls := "hop t-" + h.Status
		if i == c.Failing {
			cls += " failing"
		}
		b.WriteString("<li class=\"" + e(cls) + "\" data-hop=\"" + e(h.Name) + "\"><b>" + e(h.Name) + "</b> " + e(h.Status))
		if h.Detail != "" {
			b.WriteString(": " + e(h.Detail))
		}
		b.WriteString("</li>")
	}
	b.WriteString("</ol>")
	fix := ""
	if c.Fix != "" {
		fix = "<p class=\"fix\"><b>Fix:</b> " + e(c.Fix)
		if c.Command != "" {
			fix += "<br><code>" + e(c.Command) + "</code>"
		}
		fix += "</p>"
	}
	b.WriteString(fix + "</details>")
	// Print: the verdict, the failing hop and the fix, without opening anything.
	b.WriteString("<div class=\"print\"><b>" + e(c.Verdict) + "</b>")
	if c.Failing >= 0 && c.Failing < len(c.Hops) {
		h := c.Hops[c.Failing]
		b.WriteString(" at " + e(h.Name))
		if h.Detail != "" {
			b.WriteString(": " + e(h.Detail))
		}
	}
	b.WriteString(fix + "</div></td>")
}

func badge(v string) string {
	v = html.EscapeString(v)
	return "<span class=\"badge v-" + v + " t-" + v + "\">" + v + "</span>"
}
