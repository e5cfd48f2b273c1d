package report

import (
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
)

func no() *bool { b := false; return &b }

// deadResolver is one service of a run whose custom resolver is gone: the same fix for every
// service, a diagnosis that quotes the dns check's detail.
func deadResolver(key, host string) ServiceReport {
	const detail = "10.9.0.2:53 did not answer within 1s"
	return ServiceReport{Service: key, Host: host, Verdict: checks.Fail, Error: checks.DNSTimeout, Route: RouteNone,
		AmazonDNS: &SecondDNS{Status: checks.Pass, Route: RoutePrivate, Agrees: no()},
		Checks: []CheckReport{{Name: "dns", Status: checks.Fail, Error: checks.DNSTimeout, Detail: detail},
			{Name: "tcp", Status: checks.Skip}},
		Diagnosis:   "The configured resolver 10.9.0.2:53 did not answer for " + host + " (" + detail + "): the custom DNS server is down or unreachable.",
		Remediation: "Repair the custom DNS server, or set the VPC's DHCP options back to AmazonProvidedDNS.",
	}
}

// TestTextReadsOnce (issue 10, item 12): services failing for one cause share one paragraph and
// one fix; a check's detail already quoted by the diagnosis is not printed again; the DNS column
// shows a resolver disagreement.
func TestTextReadsOnce(t *testing.T) {
	r := &Report{Context: Context{Region: "eu-west-1", Resolvers: []string{"10.9.0.2:53"}, AmazonDNS: "169.254.169.253:53"}}
	for _, k := range []string{"ecr.api", "ecr.dkr", "s3", "logs"} {
		r.Services = append(r.Services, deadResolver(k, k+".example"))
	}
	r.Services = append(r.Services, ServiceReport{Service: "sts", Host: "sts.example", Verdict: checks.Pass, Route: RoutePrivate,
		AmazonDNS: &SecondDNS{Status: checks.Pass, Route: RoutePublic, Agrees: no()},
		Checks:    []CheckReport{{Name: "dns", Status: checks.Pass}}})
	r.Finish()
	text := string(r.Text(false))

	if n := strings.Count(text, "fix:"); n != 1 {
		t.Errorf("%d fix lines for one cause, want 1:\n%s", n, text)
	}
	if n := strings.Count(text, "why:"); n != 1 {
		t.Errorf("%d why lines for one cause, want 1:\n%s", n, text)
	}
	if !strings.Contains(text, "FAIL ecr.api, ecr.dkr, s3, logs") {
		t.Errorf("no paragraph listing the services:\n%s", text)
	}
	if n := strings.Count(text, "did not answer within 1s"); n != 1 {
		t.Errorf("the detail is said %d times, want once:\n%s", n, text)
	}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[0] == "sts" && f[1] == RoutePrivate && f[2] != "pass"+disagreeMark {
			t.Errorf("sts DNS cell %q, want the disagreement shown: %q", f[2], line)
		}
		if len(f) > 2 && f[0] == "logs" && f[1] == RouteNone && f[2] != string(checks.DNSTimeout)+disagreeMark {
			t.Errorf("logs DNS cell %q: %q", f[2], line)
		}
	}

	// Different causes stay apart.
	r.Services[1].Remediation = "Something else."
	text = string(r.Text(false))
	if n := strings.Count(text, "fix:"); n != 2 {
		t.Errorf("%d fix lines for two causes, want 2:\n%s", n, text)
	}
}
