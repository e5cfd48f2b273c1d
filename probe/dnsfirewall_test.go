package probe

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestRunDNSFirewallShapes: the answers of a Route 53 Resolver DNS Firewall block (its rule
// actions BLOCK NXDOMAIN, BLOCK NODATA, BLOCK OVERRIDE with a CNAME, and SERVFAIL when it fails
// closed; Route 53 API reference, FirewallRule) from the configured resolver and from the
// Amazon-provided one alike, since both sit behind the same firewall, name DNS Firewall as the
// likely cause; a failure the Amazon-provided resolver does not share does not.
func TestRunDNSFirewallShapes(t *testing.T) {
	w := newWorld(t, nil)
	amazon := fakedns.NewZone()
	host := func(key string) string {
		s, _ := catalogue.Lookup(key)
		return s.Host(testRegion, testAccount)
	}
	for _, z := range []*fakedns.Zone{w.zone, amazon} {
		z.Fail(host("logs"), dns.RcodeNameError) // BLOCK NXDOMAIN
		z.Set(host("sts"))                       // BLOCK NODATA
		z.Fail(host("ecr.api"), dns.RcodeServerFailure)
		z.Alias(host("s3"), "walled-garden.example.com") // BLOCK OVERRIDE, CNAME
		z.Set("walled-garden.example.com", netip.MustParseAddr("127.0.0.3"))
	}
	w.zone.Fail(host("kms"), dns.RcodeNameError) // the configured resolver alone: not the firewall
	amazon.Set(host("kms"), netip.MustParseAddr("127.0.0.1"))
	p := w.prober("ecr.api,s3,logs,sts,kms", time.Second, 5*time.Second)
	p.AmazonDNS = awstest.Resolver(t, amazon)
	rep := checkedRun(t, p, time.Now())
	for _, tc := range []struct {
		key      string
		code     checks.Code
		firewall bool
	}{
		{"logs", checks.NXDomain, true},
		{"sts", checks.NoAnswer, true},
		{"ecr.api", checks.ServFail, true},
		{"s3", "", true}, // the override target refuses: whatever the check, the CNAME is named
		{"kms", checks.NXDomain, false},
	} {
		s := serviceOf(t, rep, tc.key)
		if s.Verdict != checks.Fail || (tc.code != "" && s.Error != tc.code) {
			t.Errorf("%s: %s %s, want fail %s", tc.key, s.Verdict, s.Error, tc.code)
		}
		if got := strings.Contains(s.Diagnosis, "DNS Firewall"); got != tc.firewall {
			t.Errorf("%s: DNS Firewall named %t, want %t: %s", tc.key, got, tc.firewall, s.Diagnosis)
		}
	}
	if s := serviceOf(t, rep, "s3"); !strings.Contains(s.Diagnosis, "walled-garden.example.com") {
		t.Errorf("s3: the override's target is not named: %s", s.Diagnosis)
	}
}

// TestAWSName: only AWS's own service names are judged by the shape of their answers.
func TestAWSName(t *testing.T) {
	for name, want := range map[string]bool{
		"api.ecr.eu-west-1.amazonaws.com":       true,
		"123456789012.dkr-ecr.eu-west-1.on.aws": true,
		"ecr.eu-west-1.api.aws":                 true,
		"sts.vpce.example.internal":             false,
		"walled-garden.example.com":             false,
		"api.ecr.cn-north-1.amazonaws.com.cn":   false, // another partition's suffix in eu-west-1
	} {
		if got := awsName(name, testRegion); got != want {
			t.Errorf("awsName(%q) = %t, want %t", name, got, want)
		}
	}
}

// TestEgressFirewallShape: TCP connected to an AWS name's public addresses and TLS never
// completed names a firewall filtering by server name (Network Firewall's domain lists are
// SNI-based); a proxy's path or a private address does not.
func TestEgressFirewallShape(t *testing.T) {
	s3, _ := catalogue.Lookup("s3")
	host := s3.Host(testRegion, "")
	results := []checks.Result{{Name: "dns", Status: checks.Pass}, {Name: "tcp", Status: checks.Pass},
		{Name: "tls", Status: checks.Fail, Code: checks.TLSHandshake, Detail: "handshake timed out"}, checks.Skipped("http", "tls failed")}
	for _, tc := range []struct {
		name  string
		route string
		proxy string
		want  bool
	}{
		{"public, direct", report.RoutePublic, "", true},
		{"through a proxy", report.RoutePublic, "http://proxy:3128", false},
		{"private", report.RoutePrivate, "", false},
	} {
		j := judge(finding{svc: s3, host: host, region: testRegion, route: tc.route, proxy: tc.proxy, addrs: addrs("198.51.100.13"), results: results})
		if j.verdict != checks.Fail || j.code != checks.TLSHandshake {
			t.Errorf("%s: %s %s", tc.name, j.verdict, j.code)
		}
		if got := strings.Contains(j.diagnosis, "Network Firewall"); got != tc.want {
			t.Errorf("%s: firewall named %t, want %t: %s", tc.name, got, tc.want, j.diagnosis)
		}
	}
}
