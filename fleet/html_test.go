package fleet

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
)

// mapReport is a fleet of two accounts: a subnet whose ecr.api name does not resolve live
// (NXDOMAIN) and whose configuration lacks the endpoint, a subnet its probe stands for, a
// passing subnet, one judged by its configuration only, and an untested region. An account
// name carries markup, which must arrive as text.
func mapReport() *Report {
	live := func(v checks.Status, code checks.Code) []report.ServiceReport {
		dns := report.CheckReport{Name: "dns", Status: v, Error: code}
		cs := []report.CheckReport{dns}
		if v == checks.Pass {
			cs = append(cs, report.CheckReport{Name: "tcp", Status: checks.Pass}, report.CheckReport{Name: "tls", Status: checks.Pass}, report.CheckReport{Name: "http", Status: checks.Pass})
		} else {
			cs = append(cs, report.CheckReport{Name: "tcp", Status: checks.Skip}, report.CheckReport{Name: "tls", Status: checks.Skip}, report.CheckReport{Name: "http", Status: checks.Skip})
		}
		route, addrs := report.RoutePrivate, []string{"10.0.1.51"}
		if v != checks.Pass {
			route, addrs = report.RouteNone, []string{}
		}
		return []report.ServiceReport{{Service: "ecr.api", Verdict: v, Error: code, Route: route, Addresses: addrs, Checks: cs,
			Diagnosis: "api.ecr.eu-west-1.amazonaws.com does not resolve", Remediation: "create the ecr.api interface endpoint with private DNS"}}
	}
	missing := inspect.Finding{Service: "ecr.api", Severity: inspect.Fail, Code: inspect.CodeEndpointMissing, Resources: []string{"vpc-0a1b2c3d"},
		Diagnosis: "no interface endpoint for com.amazonaws.eu-west-1.ecr.api", Remediation: "create an interface endpoint for com.amazonaws.eu-west-1.ecr.api",
		Command: "aws ec2 create-vpc-endpoint --vpc-id vpc-0a1b2c3d --service-name com.amazonaws.eu-west-1.ecr.api"}
	sub := func(id, by string, v checks.Status, svcs []report.ServiceReport, fs ...inspect.Finding) Subnet {
		return Subnet{SubnetID: id, Zone: "eu-west-1a", Verdict: v, MeasuredBy: by, SecurityGroups: []string{"sg-0d4e5f6a"}, GroupsFrom: GroupsVPCDefault,
			Services: svcs, Findings: append([]inspect.Finding{}, fs...)}
	}
	r := &Report{Schema: Schema, Mode: ModeLaunch, LaunchID: "map-1", Services: []string{"ecr.api"}, Probes: 2,
		Accounts: []Account{
			{Account: "111111111111", Name: `<b>"payments"</b>`, Regions: []Region{{Region: "eu-west-1", VPCs: []VPC{{VPCID: "vpc-0a1b2c3d", Subnets: []Subnet{
				sub("subnet-0000000a", "subnet-0000000a", checks.Fail, live(checks.Fail, checks.NXDomain), missing),
				sub("subnet-0000000b", "subnet-0000000a", checks.Fail, live(checks.Fail, checks.NXDomain), missing),
			}}}}}},
			{Account: "222222222222", Regions: []Region{{Region: "eu-west-1", VPCs: []VPC{{VPCID: "vpc-0b2c3d4e", Subnets: []Subnet{
				sub("subnet-0000000c", "subnet-0000000c", checks.Pass, live(checks.Pass, "")),
				sub("subnet-0000000d", "", checks.Fail, nil, missing),
			}}}}}},
		},
		Untested: []Untested{{Account: "222222222222", Region: "eu-central-1", Action: "ec2:DescribeVpcs", Error: "UnauthorizedOperation: You are not authorized to perform this operation."}},
	}
	r.finish()
	return r
}

// chromiumInstall is the command that provides the browser the map is tested in.
const chromiumInstall = "apt-get update && apt-get install -y chromium"

// proxy is a listener that records the requests a browser sends through it: every request a
// page makes (http, https as CONNECT, websockets) goes through --proxy-server, and none but the
// browser's own must arrive.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string // request lines: "GET http://host/path HTTP/1.1", "CONNECT host:443 HTTP/1.1"
}

// browserOwn are the hosts Chromium itself calls whatever the page (network time, component
// updates, sign-in), seen through this proxy with --disable-background-networking and
// --disable-component-update set: not the page's requests.
var browserOwn = []string{"clients2.google.com", "update.googleapis.com", "accounts.google.com", "redirector.gvt1.com", "optimizationguide-pa.googleapis.com"}

// pageRequests are the recorded requests that are not the browser's own.
func (p *proxy) pageRequests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		host := strings.TrimPrefix(strings.TrimPrefix(f[1], "http://"), "https://")
		host, _, _ = strings.Cut(host, "/")
		host, _, _ = strings.Cut(host, ":")
		if !slices.Contains(browserOwn, host) {
			out = append(out, l)
		}
	}
	return out
}

func newProxy(t *testing.T) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(2 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				p.mu.Lock()
				p.lines = append(p.lines, strings.TrimSpace(line))
				p.mu.Unlock()
			}()
		}
	}()
	return p
}

// chromium runs headless Chromium on file with args, every request sent to the proxy and every
// host name unresolvable, and returns its stdout.
func chromium(t *testing.T, p *proxy, file string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found: %s", chromiumInstall)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
		"--user-data-dir=" + t.TempDir(), "--proxy-server=http://" + p.ln.Addr().String(), "--proxy-bypass-list=<-loopback>",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--virtual-time-budget=2000"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+file)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr)
	}
	return string(out)
}

// TestHealthMapInChromium: the page renders in a real headless Chromium (a screenshot is taken
// and printed to PDF), its DOM holds every subnet with its verdict, the failing hop and the
// fix, markup in names stays text, and the page makes no request at all: a control page with
// one image proves the proxy would have seen it.
func TestHealthMapInChromium(t *testing.T) {
	rep := mapReport()
	dir := t.TempDir()
	page := filepath.Join(dir, "map.html")
	if err := os.WriteFile(page, HTML(rep), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newProxy(t)

	dom := chromium(t, p, page, "--dump-dom")
	rep.Subnets(func(_ *Account, _ *Region, _ *VPC, s *Subnet) {
		row := regexp.MustCompile(`<tr class="subnet" data-subnet="` + s.SubnetID + `" data-verdict="` + string(s.Verdict) + `">`)
		if !row.MatchString(dom) {
			t.Errorf("DOM lacks %s with verdict %s", s.SubnetID, s.Verdict)
		}
	})
	// subnet-0000000a's ecr.api: DNS answered NXDOMAIN, so the resolver hop fails, and the
	// endpoint the configuration lacks is the fix beside it.
	cellRE := regexp.MustCompile(`(?s)data-subnet="subnet-0000000a".*?<td class="cell v-fail" data-verdict="fail">(.*?)</td>`)
	m := cellRE.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no failing ecr.api cell for subnet-0000000a in the DOM")
	}
	if !strings.Contains(m[1], `class="hop t-fail failing" data-hop="resolver"`) || !strings.Contains(m[1], "create-vpc-endpoint") {
		t.Errorf("cell: failing hop or fix missing:\n%s", m[1])
	}
	if !strings.Contains(dom, "&lt;b&gt;\"payments\"&lt;/b&gt;") {
		t.Errorf("the account name's markup is not text in the DOM")
	}
	if !strings.Contains(dom, "eu-central-1: untested: ec2:DescribeVpcs") {
		t.Errorf("the untested region is not on the page")
	}
	if regexp.MustCompile(`(?i)<(script|link|img|iframe|object|embed)\b|(src|href|action)\s*=\s*"?(https?:)?//`).MatchString(dom) {
		t.Errorf("the DOM holds an element or attribute that fetches")
	}
	if !strings.Contains(dom, `http-equiv="Content-Security-Policy" content="default-src 'none'`) {
		t.Errorf("no Content-Security-Policy default-src 'none'")
	}

	shot := filepath.Join(dir, "map.png")
	chromium(t, p, page, "--screenshot="+shot, "--window-size=1280,800", "--hide-scrollbars")
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot: %v (%v bytes)", err, st)
	}
	pdf := filepath.Join(dir, "map.pdf")
	chromium(t, p, page, "--print-to-pdf="+pdf, "--no-pdf-header-footer")
	if st, err := os.Stat(pdf); err != nil || st.Size() < 1_000 {
		t.Fatalf("print to PDF: %v", err)
	}
	if out := os.Getenv("VPCPROBE_MAP_SHOT"); out != "" { // to look at it: VPCPROBE_MAP_SHOT=/tmp/map.png
		b, _ := os.ReadFile(shot)
		os.WriteFile(out, b, 0o644)
		os.WriteFile(strings.TrimSuffix(out, ".png")+".pdf", must(os.ReadFile(pdf)), 0o644)
	}
	if reqs := p.pageRequests(); len(reqs) != 0 {
		t.Errorf("the page made requests: %q", reqs)
	}

	// Control: a page that does fetch is seen by the proxy, so the zero above means something.
	control := filepath.Join(dir, "control.html")
	os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><img src="http://fetch.example/x.png"></body></html>`), 0o644)
	chromium(t, p, control, "--dump-dom")
	if reqs := p.pageRequests(); len(reqs) == 0 || !strings.Contains(reqs[0], "fetch.example") {
		t.Errorf("the control page's image request never reached the proxy: the check above proves nothing")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
