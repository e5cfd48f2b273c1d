package probe

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/testca"
	"github.com/vpcprobe/vpcprobe/report"
)

const (
	testRegion  = "eu-west-1"
	testAccount = "123456789012"
)

// world is a loopback stand-in for a subnet: a resolver, and one TLS front end answering as
// AWS for every service host, all on 127.0.0.1.
type world struct {
	zone     *fakedns.Zone
	resolver string
	front    *awstest.Server
}

// newWorld serves handler (awstest.Unsigned when nil) as every service host of the catalogue.
func newWorld(t *testing.T, handler http.Handler) *world {
	t.Helper()
	awstest.IsolateSDK(t)
	var hosts []string
	for _, s := range catalogue.All() {
		hosts = append(hosts, s.Host(testRegion, testAccount))
	}
	if handler == nil {
		handler = http.HandlerFunc(awstest.Unsigned)
	}
	zone := awstest.Zone(hosts...)
	return &world{zone: zone, resolver: awstest.Resolver(t, zone), front: awstest.Front(t, handler, hosts...)}
}

func (w *world) prober(services string, timeout, deadline time.Duration) *Prober {
	svcs, err := catalogue.ParseServices(services)
	if err != nil {
		panic(err)
	}
	return &Prober{
		Config: Config{Services: svcs, Region: testRegion, Account: testAccount, Timeout: timeout,
			Deadline: deadline, Resolvers: []string{w.resolver}},
		Roots: w.front.CA.Pool(),
		Port:  w.front.Port,
	}
}

// blackhole is a Dialer for addresses that swallow SYNs: it waits for the context, as a
// connect to a dropped address does. Loopback cannot drop packets, so the test injects it.
type blackhole struct{ only netip.Addr }

func (b blackhole) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil && (!b.only.IsValid() || ap.Addr() == b.only) {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func TestRunAllHealthy(t *testing.T) {
	w := newWorld(t, nil)
	p := w.prober("all", 2*time.Second, 10*time.Second)
	rep := checkedRun(t, p, time.Now())
	if rep.Verdict != checks.Pass || rep.Counts.Pass != len(catalogue.All()) {
		t.Fatalf("verdict %s counts %+v\n%s", rep.Verdict, rep.Counts, rep.Text(false))
	}
	for _, s := range rep.Services {
		if s.Route != report.RoutePrivate || len(s.Checks) != 4 {
			t.Errorf("%s: route %s checks %d", s.Service, s.Route, len(s.Checks))
		}
		wantHTTP := checks.Pass
		if s.Service == "ecs-agent" || s.Service == "ecs-telemetry" {
			wantHTTP = checks.Skip
		}
		if c := checkOf(t, s, "http"); c.Status != wantHTTP {
			t.Errorf("%s: http %s, want %s", s.Service, c.Status, wantHTTP)
		}
	}
	if rep.Failed() {
		t.Error("a passing run would exit 1")
	}
}

func TestRunFailureShapes(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(w *world, p *Prober)
		service string
		check   string
		code    checks.Code
	}{
		{"nxdomain", func(w *world, p *Prober) {
			w.zone.Set("api.ecr.eu-west-1.amazonaws.com")
			w.zone.Fail("api.ecr.eu-west-1.amazonaws.com", 3)
		},
			"ecr.api", "dns", checks.NXDomain},
		{"refused", func(w *world, p *Prober) {
			w.zone.Set("logs.eu-west-1.amazonaws.com", netip.MustParseAddr("127.0.0.2")) // nothing listens there
		}, "logs", "tcp", checks.Refused},
		{"black-holed endpoint", func(w *world, p *Prober) {
			w.zone.Set("sts.eu-west-1.amazonaws.com", netip.MustParseAddr("127.0.0.3"))
			p.Dialer = blackhole{only: netip.MustParseAddr("127.0.0.3")}
		}, "sts", "tcp", checks.Timeout},
		{"untrusted certificate", func(w *world, p *Prober) {
			other, _ := testca.New("corporate inspection CA")
			p.Roots = other.Pool()
		}, "ecr.api", "tls", checks.TLSUntrusted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			p := w.prober("ecr.api,logs,sts", 300*time.Millisecond, 5*time.Second)
			tt.setup(w, p)
			rep := checkedRun(t, p, time.Now())
			if rep.Verdict != checks.Fail || !rep.Failed() {
				t.Fatalf("verdict %s", rep.Verdict)
			}
			s := serviceOf(t, rep, tt.service)
			c := checkOf(t, s, tt.check)
			if s.Verdict != checks.Fail || c.Error != tt.code {
				t.Fatalf("%s: verdict %s, %s error %q, want %q\n%s", tt.service, s.Verdict, tt.check, c.Error, tt.code, rep.Text(false))
			}
			if s.Diagnosis == "" || s.Remediation == "" {
				t.Errorf("no diagnosis or remediation: %+v", s)
			}
			for _, later := range s.Checks[indexOf(s, tt.check)+1:] {
				if later.Status != checks.Skip {
					t.Errorf("check %s after a failure is %s, want skip", later.Name, later.Status)
				}
			}
		})
	}
}

func TestRunCaptivePage(t *testing.T) {
	w := newWorld(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte("<html>Welcome to the guest network</html>"))
	}))
	rep := checkedRun(t, w.prober("sts", time.Second, 5*time.Second), time.Now())
	if c := checkOf(t, serviceOf(t, rep, "sts"), "http"); c.Error != checks.HTTPError {
		t.Fatalf("http check %+v", c)
	}
}

// TestRunSecondOpinion: the Amazon-provided resolver's answer is compared by what it means. A
// different set of private addresses is the same endpoint (pass, no resolver-mismatch); a public
// answer where the configured resolver gives a private one is a disagreement.
func TestRunSecondOpinion(t *testing.T) {
	w := newWorld(t, nil)
	amazon := fakedns.NewZone()
	amazon.Set("sts.eu-west-1.amazonaws.com", netip.MustParseAddr("198.51.100.9"))
	amazon.Set(catalogue.LayerBucket(testRegion)+".s3.eu-west-1.amazonaws.com", netip.MustParseAddr("127.0.0.9"), netip.MustParseAddr("127.0.0.1"))
	p := w.prober("s3,sts,logs", time.Second, 5*time.Second)
	p.AmazonDNS = awstest.Resolver(t, amazon)
	rep := checkedRun(t, p, time.Now())
	sts := serviceOf(t, rep, "sts")
	if sts.Verdict != checks.Warn || sts.Error != ResolverMismatch || sts.AmazonDNS == nil || *sts.AmazonDNS.Agrees {
		t.Fatalf("sts: %+v", sts)
	}
	if s3 := serviceOf(t, rep, "s3"); s3.Verdict != checks.Pass || s3.Error != "" || s3.AmazonDNS == nil || !*s3.AmazonDNS.Agrees {
		t.Fatalf("s3 with another subset of the same addresses: %+v", s3)
	}
	if logs := serviceOf(t, rep, "logs"); logs.AmazonDNS == nil || logs.AmazonDNS.Error != checks.NXDomain || logs.AmazonDNS.Agrees != nil {
		t.Fatalf("logs second opinion: %+v", logs.AmazonDNS)
	}
}

// TestRunSilentSecondOpinion: outside a VPC the Amazon-provided resolver never answers; a run
// whose checks are quick waits for it at most maxSecondOpinion, not a whole --timeout.
func TestRunSilentSecondOpinion(t *testing.T) {
	w := newWorld(t, nil)
	silent := fakedns.NewZone()
	silent.Silence(true)
	p := w.prober("sts,logs", 10*time.Second, 30*time.Second)
	p.AmazonDNS = awstest.Resolver(t, silent)
	start := time.Now()
	rep := checkedRun(t, p, start)
	if elapsed := time.Since(start); elapsed >= 5*time.Second {
		t.Errorf("a run waited %s for a silent second opinion (bound %s)", elapsed, maxSecondOpinion)
	}
	if rep.Verdict != checks.Pass {
		t.Errorf("a silent second opinion made the run %s", rep.Verdict)
	}
	if s := serviceOf(t, rep, "sts"); s.AmazonDNS == nil || s.AmazonDNS.Error != checks.DNSTimeout || s.AmazonDNS.Agrees != nil {
		t.Errorf("second opinion %+v", s.AmazonDNS)
	}
}

// TestRunSilentWorld is CONTRACT.md's promise: with every peer silent the run ends within
// --deadline plus one second, and services are probed at once, not one after another.
func TestRunSilentWorld(t *testing.T) {
	w := newWorld(t, nil)
	timeout, deadline := 300*time.Millisecond, 2*time.Second
	p := w.prober("all", timeout, deadline)
	p.Dialer = blackhole{}
	start := time.Now()
	rep := checkedRun(t, p, start)
	elapsed := time.Since(start)
	if elapsed > deadline+time.Second {
		t.Fatalf("run took %s, beyond --deadline %s plus one second", elapsed, deadline)
	}
	for _, s := range rep.Services {
		if c := checkOf(t, s, "tcp"); c.Error != checks.Timeout {
			t.Errorf("%s: tcp %+v", s.Service, c)
		}
	}

	// A silent resolver too: every service fails DNS with dns-timeout.
	w.zone.Silence(true)
	start = time.Now()
	rep = checkedRun(t, p, start)
	if time.Since(start) > deadline+time.Second {
		t.Fatalf("silent resolver run took %s", time.Since(start))
	}
	if c := checkOf(t, rep.Services[0], "dns"); c.Error != checks.DNSTimeout {
		t.Errorf("dns %+v", c)
	}
}

// TestRunDeadline: when the deadline falls mid-check, the check says "deadline", the report is
// complete and the run still ends on time.
func TestRunDeadline(t *testing.T) {
	w := newWorld(t, nil)
	p := w.prober("ecr.api,sts", time.Second, time.Second)
	p.Dialer = blackhole{}
	start := time.Now()
	rep := checkedRun(t, p, start)
	if time.Since(start) > 2*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
	for _, s := range rep.Services {
		c := checkOf(t, s, "tcp")
		if c.Error != checks.Deadline || s.Verdict != checks.Fail || s.Error != checks.Deadline {
			t.Errorf("%s: %+v %+v", s.Service, s, c)
		}
		if len(s.Checks) != 4 {
			t.Errorf("%s: %d checks, want all 4 reported", s.Service, len(s.Checks))
		}
	}
}

func TestRunUnknownAccount(t *testing.T) {
	w := newWorld(t, nil)
	p := w.prober("ecr.dkr,sts", time.Second, 5*time.Second)
	p.Account = ""
	rep := checkedRun(t, p, time.Now())
	dkr := serviceOf(t, rep, "ecr.dkr")
	if dkr.Verdict != checks.Skip || !strings.Contains(dkr.Remediation, "--account") {
		t.Fatalf("ecr.dkr %+v", dkr)
	}
	if rep.Verdict != checks.Pass {
		t.Errorf("a skipped service made the run %s", rep.Verdict)
	}
}

// TestReportJSONShape checks the document against CONTRACT.md's field names.
func TestReportJSONShape(t *testing.T) {
	w := newWorld(t, nil)
	p := w.prober("ecr.dkr,logs", time.Second, 5*time.Second)
	p.Metadata = Metadata{SubnetCIDR: "10.0.1.0/24", PrivateIP: "10.0.1.17", Cluster: "default",
		TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/default/abc", AvailabilityZone: "eu-west-1a"}
	rep := checkedRun(t, p, time.Now())
	b := rep.JSON()
	if !strings.HasSuffix(string(b), "}\n") || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("not one JSON line: %q", b)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "run_id", "verdict", "started_at", "duration_ms", "context", "services", "delivery"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	if doc["schema"] != "vpcprobe/v1" {
		t.Errorf("schema %v", doc["schema"])
	}
	if _, err := time.Parse(time.RFC3339, doc["started_at"].(string)); err != nil {
		t.Errorf("started_at: %v", err)
	}
	ctx := doc["context"].(map[string]any)
	for _, k := range []string{"region", "partition", "account", "cluster", "task_arn", "availability_zone", "subnet_cidr", "private_ip", "resolvers"} {
		if _, ok := ctx[k]; !ok {
			t.Errorf("context lacks %q", k)
		}
	}
	svc := doc["services"].([]any)[0].(map[string]any)
	for _, k := range []string{"service", "host", "endpoint_service", "verdict", "route", "addresses", "checks"} {
		if _, ok := svc[k]; !ok {
			t.Errorf("service lacks %q", k)
		}
	}
	if svc["host"] != "123456789012.dkr.ecr.eu-west-1.amazonaws.com" || svc["endpoint_service"] != "com.amazonaws.eu-west-1.ecr.dkr" {
		t.Errorf("service %v", svc)
	}
	check := svc["checks"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "status", "duration_ms"} {
		if _, ok := check[k]; !ok {
			t.Errorf("check lacks %q", k)
		}
	}
	if d := doc["delivery"].(map[string]any); d["cloudwatch"] != "disabled" {
		t.Errorf("delivery %v", d)
	}
}

func TestTextView(t *testing.T) {
	w := newWorld(t, nil)
	w.zone.Set("logs.eu-west-1.amazonaws.com", netip.MustParseAddr("127.0.0.2"))
	rep := checkedRun(t, w.prober("logs,sts", time.Second, 5*time.Second), time.Now())
	plain := string(rep.Text(false))
	for _, want := range []string{"SERVICE", "logs", "refused", "FAIL logs", "why:", "fix:", "verdict fail"} {
		if !strings.Contains(plain, want) {
			t.Errorf("text lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "\x1b[") {
		t.Error("colour without asking")
	}
	if !strings.Contains(string(rep.Text(true)), "\x1b[31m") {
		t.Error("no colour when asked")
	}
}

func serviceOf(t *testing.T, r *report.Report, key string) report.ServiceReport {
	t.Helper()
	for _, s := range r.Services {
		if s.Service == key {
			return s
		}
	}
	t.Fatalf("no service %s in report", key)
	return report.ServiceReport{}
}

func checkOf(t *testing.T, s report.ServiceReport, name string) report.CheckReport {
	t.Helper()
	if i := indexOf(s, name); i >= 0 {
		return s.Checks[i]
	}
	t.Fatalf("%s has no %s check", s.Service, name)
	return report.CheckReport{}
}

func indexOf(s report.ServiceReport, name string) int {
	for i, c := range s.Checks {
		if c.Name == name {
			return i
		}
	}
	return -1
}
