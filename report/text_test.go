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

// TestTextGroupsOneFixForMany: an isolated subnet's services each need their own endpoint, but
// the cause and the fix are one: one paragraph whose fix names every endpoint service, and whose
// why names no single host.
func TestTextGroupsOneFixForMany(t *testing.T) {
	r := &Report{Context: Context{Region: "eu-west-1"}}
	for i, k := range []string{"ecr.api", "ecr.dkr", "logs"} {
		host, es := k+".eu-west-1.example", "com.amazonaws.eu-west-1."+k
		addr := []string{"198.51.100.11", "198.51.100.12", "198.51.100.14"}[i]
		r.Services = append(r.Services, ServiceReport{Service: k, Host: host, EndpointService: es,
			Verdict: checks.Fail, Error: checks.Timeout, Route: RoutePublic,
			Checks:      []CheckReport{{Name: "tcp", Status: checks.Fail, Error: checks.Timeout, Detail: addr + ":443 did not answer within 1s"}},
			Diagnosis:   host + " resolves to public addresses (" + addr + ") and TCP 443 timed out: this VPC has no interface endpoint for " + k + " with private DNS enabled, and no NAT route.",
			Remediation: "Create the interface VPC endpoint " + es + " in this VPC with private DNS enabled.",
		})
	}
	r.Finish()
	text := string(r.TextWidth(false, 1000)) // one line a paragraph: the test reads sentences
	if n := strings.Count(text, "fix:"); n != 1 {
		t.Fatalf("%d fix lines, want one:\n%s", n, text)
	}
	for _, k := range []string{"ecr.api", "ecr.dkr", "logs"} {
		if !strings.Contains(text, "com.amazonaws.eu-west-1."+k) {
			t.Errorf("the fix does not name the %s endpoint:\n%s", k, text)
		}
	}
	if !strings.Contains(text, "Create the interface VPC endpoints com.amazonaws.eu-west-1.ecr.api, ") {
		t.Errorf("the group's fix does not speak of several endpoints:\n%s", text)
	}
	why := text[strings.Index(text, "why:"):]
	why = why[:strings.Index(why, "\n")]
	if strings.Contains(why, ".example") || strings.Contains(why, "198.51.100.") {
		t.Errorf("the group's why names one service's host or address: %s", why)
	}
}

// TestTextOtherRegion: a service of another region (--other-region) is told apart in the table.
func TestTextOtherRegion(t *testing.T) {
	r := &Report{Context: Context{Region: "eu-west-1"}, Services: []ServiceReport{
		{Service: "ecr.api", Host: "api.ecr.eu-west-1.amazonaws.com", Route: RoutePrivate, Verdict: checks.Pass},
		{Service: "ecr.api", Region: "us-west-2", Host: "api.ecr.us-west-2.amazonaws.com", Route: RoutePublic, Verdict: checks.Pass}}}
	r.Finish()
	if text := string(r.Text(false)); !strings.Contains(text, "ecr.api@us-west-2") {
		t.Errorf("no ecr.api@us-west-2 row:\n%s", text)
	}
}
