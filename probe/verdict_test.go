package probe

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

func pass(name string) checks.Result { return checks.Result{Name: name, Status: checks.Pass} }
func fail(name string, c checks.Code) checks.Result {
	return checks.Result{Name: name, Status: checks.Fail, Code: c, Detail: "detail of " + string(c)}
}
func skip(name string) checks.Result { return checks.Skipped(name, "earlier failed") }

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// TestJudge covers every failure shape of the issue: the verdict and code, and that the
// remediation names the concrete thing to change.
func TestJudge(t *testing.T) {
	ecrAPI, _ := catalogue.Lookup("ecr.api")
	s3, _ := catalogue.Lookup("s3")
	dnsOK := pass("dns")
	priv := addrs("10.0.1.51", "10.0.2.51")
	pub := addrs("52.95.110.1")
	tcpPartial := checks.Result{Name: "tcp", Status: checks.Warn, Code: checks.Timeout,
		Peers: []checks.Peer{{Addr: priv[0]}, {Addr: priv[1], Code: checks.Timeout}}}
	tests := []struct {
		name        string
		f           finding
		verdict     checks.Status
		code        checks.Code
		remediation string // a substring the remediation must hold
	}{
		{"all pass private", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv,
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), pass("http")}},
			checks.Pass, "", ""},
		{"nxdomain", finding{svc: ecrAPI, route: report.RouteNone,
			results: []checks.Result{fail("dns", checks.NXDomain), skip("tcp")}},
			checks.Fail, checks.NXDomain, "region"},
		{"dns timeout", finding{svc: ecrAPI, route: report.RouteNone,
			results: []checks.Result{fail("dns", checks.DNSTimeout), skip("tcp")}},
			checks.Fail, checks.DNSTimeout, "enableDnsSupport"},
		{"servfail", finding{svc: ecrAPI, route: report.RouteNone,
			results: []checks.Result{fail("dns", checks.ServFail)}},
			checks.Fail, checks.ServFail, "base + 2"},
		{"private timeout: endpoint security group", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv, subnet: "10.0.1.0/24",
			results: []checks.Result{dnsOK, fail("tcp", checks.Timeout), skip("tls")}},
			checks.Fail, checks.Timeout, "Allow inbound TCP 443 from the task subnet 10.0.1.0/24 in the security group of the endpoint com.amazonaws.eu-west-1.ecr.api"},
		{"public timeout: no endpoint", finding{svc: ecrAPI, route: report.RoutePublic, addrs: pub,
			results: []checks.Result{dnsOK, fail("tcp", checks.Timeout)}},
			checks.Fail, checks.Timeout, "Create the interface VPC endpoint com.amazonaws.eu-west-1.ecr.api in this VPC with private DNS enabled (or enable private DNS"},
		{"s3 timeout: no gateway route", finding{svc: s3, route: report.RoutePublic, addrs: pub,
			results: []checks.Result{dnsOK, fail("tcp", checks.Timeout)}},
			checks.Fail, checks.Timeout, "gateway endpoint com.amazonaws.eu-west-1.s3"},
		{"s3 public and reachable passes", finding{svc: s3, route: report.RoutePublic, addrs: pub,
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), pass("http")}},
			checks.Pass, "", ""},
		{"public and reachable warns", finding{svc: ecrAPI, route: report.RoutePublic, addrs: pub,
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), pass("http")}},
			checks.Warn, PublicRoute, "com.amazonaws.eu-west-1.ecr.api"},
		{"require-private fails", finding{svc: ecrAPI, route: report.RoutePublic, addrs: pub, requirePrivate: true,
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), pass("http")}},
			checks.Fail, PublicRoute, "private DNS"},
		{"partial answers", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv,
			results: []checks.Result{dnsOK, tcpPartial, pass("tls"), pass("http")}},
			checks.Warn, checks.Timeout, "10.0.2.51"},
		{"refused", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv[:1],
			results: []checks.Result{dnsOK, {Name: "tcp", Status: checks.Fail, Code: checks.Refused, Peers: []checks.Peer{{Addr: priv[0], Code: checks.Refused}}}}},
			checks.Fail, checks.Refused, "10.0.1.51"},
		{"unreachable public", finding{svc: ecrAPI, route: report.RoutePublic, addrs: pub,
			results: []checks.Result{dnsOK, {Name: "tcp", Status: checks.Fail, Code: checks.Unreachable, Peers: []checks.Peer{{Addr: pub[0], Code: checks.Unreachable}}}}},
			checks.Fail, checks.Unreachable, "NAT gateway"},
		{"tls intercepted", finding{svc: ecrAPI, route: report.RoutePublic, addrs: pub,
			results: []checks.Result{dnsOK, pass("tcp"), fail("tls", checks.TLSUntrusted)}},
			checks.Fail, checks.TLSUntrusted, "TLS inspection"},
		{"tls wrong name", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv,
			results: []checks.Result{dnsOK, pass("tcp"), fail("tls", checks.TLSHostname)}},
			checks.Fail, checks.TLSHostname, "private hosted zone"},
		{"tls silent peer", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv,
			results: []checks.Result{dnsOK, pass("tcp"), fail("tls", checks.TLSHandshake)}},
			checks.Fail, checks.TLSHandshake, "firewall"},
		{"captive page", finding{svc: ecrAPI, route: report.RoutePublic, addrs: pub,
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), fail("http", checks.HTTPError)}},
			checks.Fail, checks.HTTPError, "NO_PROXY"},
		{"access denied", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv,
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), pass("http"), fail("auth", checks.AccessDenied)}},
			checks.Fail, checks.AccessDenied, "task role"},
		{"deadline", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv, deadline: time.Second,
			results: []checks.Result{dnsOK, fail("tcp", checks.Deadline), skip("tls")}},
			checks.Fail, checks.Deadline, "--deadline"},
		{"resolver disagreement on a pass", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv, resolvers: []string{"10.9.0.2:53"},
			second:  &report.SecondDNS{Status: checks.Pass, Route: report.RoutePrivate, Addresses: []string{"10.0.3.9"}, Agrees: no()},
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), pass("http")}},
			checks.Warn, ResolverMismatch, "forward"},
		{"custom DNS shadows the endpoint", finding{svc: ecrAPI, route: report.RoutePublic, addrs: pub, resolvers: []string{"10.9.0.2:53"},
			second:  &report.SecondDNS{Status: checks.Pass, Route: report.RoutePrivate, Addresses: []string{"10.0.1.51"}, Agrees: no()},
			results: []checks.Result{dnsOK, fail("tcp", checks.Timeout)}},
			checks.Fail, checks.Timeout, "VPC resolver"},
		{"custom DNS shadows a working NAT path", finding{svc: ecrAPI, route: report.RoutePublic, addrs: pub, resolvers: []string{"10.9.0.2:53"},
			second:  &report.SecondDNS{Status: checks.Pass, Route: report.RoutePrivate, Addresses: []string{"10.0.1.51"}, Agrees: no()},
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), pass("http")}},
			checks.Warn, ResolverMismatch, "forward"},
		{"dead custom resolver, Amazon DNS answers", finding{svc: ecrAPI, route: report.RouteNone, resolvers: []string{"10.9.0.2:53"},
			second:  &report.SecondDNS{Status: checks.Pass, Route: report.RoutePrivate, Addresses: []string{"10.0.1.51"}, Agrees: no()},
			results: []checks.Result{fail("dns", checks.DNSTimeout), skip("tcp")}},
			checks.Fail, checks.DNSTimeout, "AmazonProvidedDNS"},
		{"agreeing second opinion changes nothing", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: priv,
			second:  &report.SecondDNS{Status: checks.Pass, Route: report.RoutePrivate, Agrees: yes()},
			results: []checks.Result{dnsOK, pass("tcp"), pass("tls"), pass("http")}},
			checks.Pass, "", ""},
		{"registry account unknown", finding{svc: ecrAPI, route: report.RouteNone,
			results: []checks.Result{skip("dns"), skip("tcp")}},
			checks.Skip, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.region = "eu-west-1"
			tt.f.host = tt.f.svc.Host("eu-west-1", "123456789012")
			j := judge(tt.f)
			if j.verdict != tt.verdict || j.code != tt.code {
				t.Fatalf("verdict %s/%s, want %s/%s (%s)", j.verdict, j.code, tt.verdict, tt.code, j.diagnosis)
			}
			if j.verdict != checks.Pass && j.verdict != checks.Skip && (j.diagnosis == "" || j.remediation == "") {
				t.Errorf("a %s without diagnosis or remediation: %+v", j.verdict, j)
			}
			if !strings.Contains(j.remediation, tt.remediation) {
				t.Errorf("remediation %q lacks %q", j.remediation, tt.remediation)
			}
			// The endpoint exists when the Amazon-provided resolver sees it privately: the fix
			// must never tell the user to create it.
			if s := tt.f.second; s != nil && s.Route == report.RoutePrivate && tt.f.route != report.RoutePrivate && strings.Contains(j.remediation, "Create the") {
				t.Errorf("remediation sends the user to create an existing endpoint: %q", j.remediation)
			}
		})
	}
}

// TestJudgeFidelity covers issue 10's wording fixes (items 2 and 7): one cause gets one
// diagnosis and one fix; a private timeout names both security groups; a centralised endpoint is
// never "created here"; sts and kms say when they are needed at all.
func TestJudgeFidelity(t *testing.T) {
	ecrAPI, _ := catalogue.Lookup("ecr.api")
	sts, _ := catalogue.Lookup("sts")
	kms, _ := catalogue.Lookup("kms")
	amazonSeesIt := &report.SecondDNS{Status: checks.Pass, Route: report.RoutePrivate, Addresses: []string{"10.0.1.51"}, Agrees: no()}
	tests := []struct {
		name      string
		f         finding
		code      checks.Code
		want      []string // substrings of diagnosis + remediation
		forbidden []string
	}{
		{"dead resolver cut off by the deadline", finding{svc: ecrAPI, route: report.RouteNone, resolvers: []string{"10.9.0.2:53"}, second: amazonSeesIt, deadline: time.Second,
			results: []checks.Result{fail("dns", checks.Deadline), skip("tcp")}},
			checks.Deadline, []string{"down or unreachable", "AmazonProvidedDNS"}, []string{"--deadline", "misforward", "do not see"}},
		{"dead resolver, no second opinion, deadline", finding{svc: ecrAPI, route: report.RouteNone, resolvers: []string{"10.9.0.2:53"}, deadline: time.Second,
			results: []checks.Result{fail("dns", checks.Deadline), skip("tcp")}},
			checks.Deadline, []string{"down or unreachable", "UDP and TCP 53"}, []string{"--deadline"}},
		{"private timeout names both security groups", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: addrs("10.0.1.51", "10.0.2.51"), subnet: "10.0.1.0/24",
			results: []checks.Result{pass("dns"), fail("tcp", checks.Timeout), skip("tls")}},
			checks.Timeout, []string{"security group of the endpoint com.amazonaws.eu-west-1.ecr.api", "outbound TCP 443 to 10.0.1.51 and 10.0.2.51 in the task's security group"}, nil},
		{"centralised endpoint timeout", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: addrs("10.200.0.9", "10.200.1.9"), subnet: "10.0.1.0/24",
			results: []checks.Result{pass("dns"), fail("tcp", checks.Timeout), skip("tls")}},
			checks.Timeout, []string{"transit gateway", "hub", "task's security group", "security group of that endpoint"}, []string{"Create", "create"}},
		{"endpoint in another subnet of a known VPC", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: addrs("10.0.5.9"), subnet: "10.0.1.0/24", vpc: "10.0.0.0/16",
			results: []checks.Result{pass("dns"), fail("tcp", checks.Timeout), skip("tls")}},
			checks.Timeout, []string{"security group of the endpoint", "task's security group"}, []string{"hub", "transit gateway", "Create"}},
		{"hub endpoint outside a known VPC", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: addrs("10.200.0.9"), subnet: "10.0.1.0/24", vpc: "10.0.0.0/16",
			results: []checks.Result{pass("dns"), fail("tcp", checks.Timeout), skip("tls")}},
			checks.Timeout, []string{"transit gateway", "hub"}, []string{"Create"}},
		{"centralised endpoint unreachable", finding{svc: ecrAPI, route: report.RoutePrivate, addrs: addrs("10.200.0.9"), subnet: "10.0.1.0/24",
			results: []checks.Result{pass("dns"), {Name: "tcp", Status: checks.Fail, Code: checks.Unreachable, Peers: []checks.Peer{{Addr: netip.MustParseAddr("10.200.0.9"), Code: checks.Unreachable}}}}},
			checks.Unreachable, []string{"transit gateway"}, []string{"recreate", "Create"}},
		{"sts says when it is needed", finding{svc: sts, route: report.RoutePublic, addrs: addrs("52.95.110.1"),
			results: []checks.Result{pass("dns"), fail("tcp", checks.Timeout)}},
			checks.Timeout, []string{"169.254.170.2", "calls STS itself"}, nil},
		// The platform ignores AWS_USE_DUALSTACK_ENDPOINT (issue 17, item 10): only an image URI
		// naming the dual-stack registry makes the pull use it, so the fix is the URI.
		{"ecr over dual-stack names", finding{svc: ecrAPI, route: report.RoutePublic, addrs: addrs("52.95.110.1"), dualStack: true,
			results: []checks.Result{pass("dns"), fail("tcp", checks.Timeout)}},
			checks.Timeout, []string{"does not serve the dual-stack names", "IPv4 registry"}, nil},
		{"kms says when it is needed", finding{svc: kms, route: report.RoutePublic, addrs: addrs("52.95.110.1"),
			results: []checks.Result{pass("dns"), pass("tcp"), pass("tls"), pass("http")}},
			PublicRoute, []string{"calls KMS itself"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.region = "eu-west-1"
			tt.f.host = tt.f.svc.Host("eu-west-1", "123456789012")
			j := judge(tt.f)
			if j.code != tt.code || j.verdict == checks.Pass {
				t.Fatalf("verdict %s/%s, want code %s", j.verdict, j.code, tt.code)
			}
			text := j.diagnosis + "\n" + j.remediation
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tt.forbidden {
				if strings.Contains(text, w) {
					t.Errorf("holds %q:\n%s", w, text)
				}
			}
			if n := strings.Count(j.remediation, ". "); n > 3 {
				t.Errorf("remediation stitches %d sentences: %s", n+1, j.remediation)
			}
		})
	}
}

// TestJudgePartitionARNs (issue 10, item 3): remediations name ARNs in the region's partition.
func TestJudgePartitionARNs(t *testing.T) {
	s3, _ := catalogue.Lookup("s3")
	for region, want := range map[string]string{
		"eu-west-1":     "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*",
		"cn-north-1":    "arn:aws-cn:s3:::prod-cn-north-1-starport-layer-bucket/*",
		"us-gov-west-1": "arn:aws-us-gov:s3:::prod-us-gov-west-1-starport-layer-bucket/*",
	} {
		f := finding{svc: s3, region: region, host: s3.Host(region, ""), route: report.RoutePublic, addrs: addrs("52.95.110.1"),
			results: []checks.Result{pass("dns"), pass("tcp"), pass("tls"), pass("http"), fail("layer", checks.AccessDenied)}}
		j := judge(f)
		if j.code != checks.AccessDenied || !strings.Contains(j.remediation, want) {
			t.Errorf("%s: %s: %q lacks %s", region, j.code, j.remediation, want)
		}
		if region != "eu-west-1" && strings.Contains(j.diagnosis+j.remediation, "arn:aws:") {
			t.Errorf("%s: an aws-partition ARN: %s %s", region, j.diagnosis, j.remediation)
		}
	}
}
