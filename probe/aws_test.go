package probe

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
)

const testRoleARN = "arn:aws:sts::123456789012:assumed-role/vpcprobe-task/0123456789abcdef"

// testEnv is a process environment for UseAWS's own reading: only what a test sets exists.
var testEnv = awstest.Env

// awsWorld is the loopback world of run_test.go with the fake AWS answering on it, and the
// SDK's environment set to static test credentials and nothing else it could read.
func awsWorld(t *testing.T, edit func(*fakeaws.Config)) (*world, *fakeaws.Server) {
	t.Helper()
	cfg := fakeaws.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	fake := fakeaws.New(cfg)
	w := newWorld(t, fake)
	awstest.StaticCredentials(t)
	return w, fake
}

// awsProber is a prober of services in w with the authenticated half installed.
func awsProber(t *testing.T, w *world, services string, edit func(*Prober)) *Prober {
	t.Helper()
	p := w.prober(services, time.Second, 10*time.Second)
	if edit != nil {
		edit(p)
	}
	p.UseAWS(context.Background(), testEnv())
	t.Cleanup(p.Close)
	return p
}

func count(reqs []fakeaws.Request, action string) int {
	n := 0
	for _, r := range reqs {
		if r.Action == action {
			n++
		}
	}
	return n
}

func TestAWSHealthy(t *testing.T) {
	w, fake := awsWorld(t, nil)
	p := awsProber(t, w, "ecr.api,ecr.dkr,s3,logs,sts,secretsmanager,ssm", func(p *Prober) {
		p.Account = "" // learnt from STS
		p.Image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest"
		p.Secrets = []string{"vpcprobe/test"}
		p.Parameters = []string{"/vpcprobe/test"}
	})
	rep := checkedRun(t, p, time.Now())
	if rep.Verdict != checks.Pass {
		t.Fatalf("verdict %s\n%s", rep.Verdict, rep.Text(false))
	}
	want := map[string][]string{
		"sts": {"auth"}, "ecr.api": {"auth"}, "ecr.dkr": {"auth", "manifest"}, "s3": {"layer"},
		"secretsmanager": {"auth"}, "ssm": {"auth"}, "logs": nil,
	}
	for svc, names := range want {
		s := serviceOf(t, rep, svc)
		if len(s.Checks) != 4+len(names) {
			t.Errorf("%s: %d checks, want %d", svc, len(s.Checks), 4+len(names))
		}
		for _, n := range names {
			if c := checkOf(t, s, n); c.Status != checks.Pass {
				t.Errorf("%s %s: %+v", svc, n, c)
			}
		}
	}
	if rep.Context.Account != testAccount || rep.Context.CallerARN != testRoleARN {
		t.Errorf("context %+v", rep.Context)
	}
	if h := serviceOf(t, rep, "ecr.dkr").Host; h != "123456789012.dkr.ecr.eu-west-1.amazonaws.com" {
		t.Errorf("ecr.dkr host %s", h)
	}
	reqs := fake.Requests()
	if n := count(reqs, "sts:GetCallerIdentity"); n != 1 {
		t.Errorf("%d GetCallerIdentity calls, want one shared", n)
	}
	if n := count(reqs, "ecr:GetAuthorizationToken"); n != 1 {
		t.Errorf("%d GetAuthorizationToken calls, want one shared", n)
	}
}

func TestAWSFailures(t *testing.T) {
	const image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest"
	tests := []struct {
		name    string
		edit    func(*fakeaws.Config)
		image   string
		service string
		check   string
		code    checks.Code
		words   []string // in the service's diagnosis and remediation
		skipped map[string]string
	}{
		{"token denied by the endpoint policy", func(c *fakeaws.Config) { c.EndpointDeny = map[string]bool{"ecr:GetAuthorizationToken": true} }, image,
			"ecr.api", "auth", checks.AccessDenied, []string{"ecr:GetAuthorizationToken", "endpoint policy", "task role"},
			map[string]string{"ecr.dkr": "auth", "s3": "layer"}},
		{"unknown credentials", func(c *fakeaws.Config) { c.AccessKeys = nil }, "",
			"sts", "auth", checks.AuthFailed, []string{"credentials"}, map[string]string{"ecr.dkr": "auth"}},
		{"clock skew", func(c *fakeaws.Config) { c.Now = func() time.Time { return time.Now().Add(-time.Hour) } }, "",
			"sts", "auth", checks.AuthFailed, []string{"clock"}, nil},
		{"image not found", nil, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:nope",
			"ecr.dkr", "manifest", checks.NotFound, []string{"app:nope"}, map[string]string{"s3": "layer"}},
		{"manifest denied", func(c *fakeaws.Config) { c.Deny = map[string]bool{"ecr:BatchGetImage": true} }, image,
			"ecr.dkr", "manifest", checks.AccessDenied, []string{"ecr:BatchGetImage"}, map[string]string{"s3": "layer"}},
		{"layer bucket denied by the gateway endpoint policy", func(c *fakeaws.Config) { c.EndpointDeny = map[string]bool{"s3:GetObject": true} }, image,
			"s3", "layer", checks.AccessDenied, []string{"arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*", "gateway endpoint"}, nil},
		{"layer bucket silent", func(c *fakeaws.Config) { c.LayerDelay = time.Minute }, image,
			"s3", "layer", checks.Timeout, []string{"route table", "com.amazonaws.eu-west-1.s3"}, nil},
		{"secret denied", func(c *fakeaws.Config) { c.Deny = map[string]bool{"secretsmanager:GetSecretValue": true} }, "",
			"secretsmanager", "auth", checks.AccessDenied, []string{"secretsmanager:GetSecretValue", "task role"}, nil},
		{"parameter missing", func(c *fakeaws.Config) { c.Parameters = nil }, "",
			"ssm", "auth", checks.NotFound, []string{"/vpcprobe/test"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := awsWorld(t, tt.edit)
			p := awsProber(t, w, "ecr.api,ecr.dkr,s3,sts,secretsmanager,ssm", func(p *Prober) {
				p.Image = tt.image
				p.Secrets = []string{"vpcprobe/test"}
				p.Parameters = []string{"/vpcprobe/test"}
			})
			start := time.Now()
			rep := checkedRun(t, p, start)
			if time.Since(start) > 5*time.Second {
				t.Errorf("run took %s", time.Since(start))
			}
			s := serviceOf(t, rep, tt.service)
			c := checkOf(t, s, tt.check)
			if s.Verdict != checks.Fail || c.Error != tt.code || s.Error != tt.code {
				t.Fatalf("%s: verdict %s, %s %+v, want %s\n%s", tt.service, s.Verdict, tt.check, c, tt.code, rep.Text(false))
			}
			text := s.Diagnosis + " " + s.Remediation
			for _, word := range tt.words {
				if !strings.Contains(text, word) {
					t.Errorf("diagnosis lacks %q:\n%s", word, text)
				}
			}
			for svc, name := range tt.skipped {
				if c := checkOf(t, serviceOf(t, rep, svc), name); c.Status != checks.Skip {
					t.Errorf("%s %s: %+v, want skip", svc, name, c)
				}
			}
		})
	}
}

func TestAWSThrottledThenPass(t *testing.T) {
	w, _ := awsWorld(t, func(c *fakeaws.Config) {
		c.Throttle = map[string]int{"sts:GetCallerIdentity": 1, "ecr:GetAuthorizationToken": 1}
	})
	rep := checkedRun(t, awsProber(t, w, "ecr.api,ecr.dkr,sts", nil), time.Now())
	if rep.Verdict != checks.Pass {
		t.Fatalf("%s", rep.Text(false))
	}
}

// TestAWSNoTaskRole: in an ECS task without a task role, every authenticated call is
// auth-failed at once, saying so, and nothing is sent, even with keys the SDK could find.
func TestAWSNoTaskRole(t *testing.T) {
	w, fake := awsWorld(t, nil)
	p := w.prober("ecr.api,ecr.dkr,sts", time.Second, 10*time.Second)
	p.Account = ""
	p.Metadata = Metadata{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/default/abc"}
	p.UseAWS(context.Background(), testEnv("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/x"))
	defer p.Close()
	start := time.Now()
	rep := checkedRun(t, p, start)
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	for _, svc := range []string{"sts", "ecr.api"} {
		c := checkOf(t, serviceOf(t, rep, svc), "auth")
		if c.Error != checks.AuthFailed || !strings.Contains(c.Detail, "no task role") {
			t.Errorf("%s auth %+v", svc, c)
		}
	}
	// The registry account comes from the task ARN, and its login is skipped for want of a token.
	dkr := serviceOf(t, rep, "ecr.dkr")
	if dkr.Host != "123456789012.dkr.ecr.eu-west-1.amazonaws.com" || checkOf(t, dkr, "auth").Status != checks.Skip {
		t.Errorf("ecr.dkr %+v", dkr)
	}
	if rep.Context.Account != testAccount || rep.Context.CallerARN != "" {
		t.Errorf("context %+v", rep.Context)
	}
	for _, r := range fake.Requests() {
		if r.AccessKey != "" {
			t.Errorf("a signed call was sent: %+v", r)
		}
	}
}

// TestAWSNoCredentials: on a host without any credentials (outside ECS, nothing configured,
// instance metadata disabled) the authenticated checks are skip, saying so, and the network
// verdict stands; --no-auth skips them on purpose without looking for credentials; in an ECS
// task without a task role they fail, naming the task role.
func TestAWSNoCredentials(t *testing.T) {
	for _, tc := range []struct {
		name    string
		getenv  func(string) (string, bool)
		noAuth  bool
		status  checks.Status
		code    checks.Code
		detail  string
		verdict checks.Status
	}{
		{"host", testEnv(), false, checks.Skip, "", NoCredentials, checks.Pass},
		{"no-auth", testEnv(), true, checks.Skip, "", noAuth, checks.Pass},
		{"task without a role", testEnv("ECS_CONTAINER_METADATA_URI_V4", "http://127.0.0.1:1/v4"), false, checks.Fail, checks.AuthFailed, "no usable credentials", checks.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, fakeaws.New(fakeaws.DefaultConfig())) // isolated, without credentials
			p := w.prober("sts,ecr.api,ecr.dkr", time.Second, 10*time.Second)
			p.Account = "" // nothing names the registry account
			p.NoAuth = tc.noAuth
			p.UseAWS(context.Background(), tc.getenv)
			defer p.Close()
			rep := checkedRun(t, p, time.Now())
			for _, key := range []string{"sts", "ecr.api"} {
				s := serviceOf(t, rep, key)
				c := checkOf(t, s, "auth")
				if c.Status != tc.status || c.Error != tc.code || !strings.Contains(c.Detail, tc.detail) || s.Verdict != tc.verdict {
					t.Errorf("%s: verdict %s, auth %+v; want %s, auth %s %s %q", key, s.Verdict, c, tc.verdict, tc.status, tc.code, tc.detail)
				}
				if tc.status == checks.Fail && !strings.Contains(s.Remediation, "task role") {
					t.Errorf("%s remediation %q", key, s.Remediation)
				}
			}
			if s := serviceOf(t, rep, "ecr.dkr"); s.Host != "" || !strings.Contains(s.Remediation, "--account 123456789012") {
				t.Errorf("ecr.dkr without an account: host %q remediation %q", s.Host, s.Remediation)
			}
		})
	}
}

// TestAWSUnknownAccount: without --account, STS or a task ARN, ecr.dkr is not probed, and a
// layer check waiting for its manifest is released at once.
func TestAWSUnknownAccount(t *testing.T) {
	w, _ := awsWorld(t, func(c *fakeaws.Config) { c.AccessKeys = nil })
	p := awsProber(t, w, "ecr.dkr,s3,sts", func(p *Prober) {
		p.Account = ""
		p.Image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest"
	})
	start := time.Now()
	rep := checkedRun(t, p, start)
	if time.Since(start) > 4*time.Second {
		t.Errorf("took %s: the layer check waited for a manifest that could not come", time.Since(start))
	}
	if s := serviceOf(t, rep, "ecr.dkr"); s.Verdict != checks.Skip {
		t.Errorf("ecr.dkr %+v", s)
	}
	if c := checkOf(t, serviceOf(t, rep, "s3"), "layer"); c.Status != checks.Skip || !strings.Contains(c.Detail, "ecr.dkr") {
		t.Errorf("layer %+v", c)
	}
}

func TestNoTaskRoleDetection(t *testing.T) {
	home := t.TempDir()
	meta := "ECS_CONTAINER_METADATA_URI_V4"
	tests := []struct {
		env  []string
		want bool
	}{
		{nil, false},
		{[]string{meta, "http://169.254.170.2/v4/x", "HOME", home}, true},
		{[]string{meta, "http://169.254.170.2/v4/x", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}, false},
		{[]string{meta, "http://169.254.170.2/v4/x", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds"}, false},
		{[]string{meta, "http://169.254.170.2/v4/x", "AWS_ACCESS_KEY_ID", "AKIDTEST"}, false},
		{[]string{meta, "http://169.254.170.2/v4/x", "AWS_PROFILE", "dev"}, false},
	}
	for _, tt := range tests {
		if got := noTaskRole(testEnv(tt.env...)); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.env, got, tt.want)
		}
	}
}

// TestAWSSilentCalls: endpoints that answer the unsigned checks but never a signed call cost
// one --timeout per call, each call reports timeout, and the run ends within --deadline.
func TestAWSSilentCalls(t *testing.T) {
	w := newWorld(t, awstest.Hang(fakeaws.New(fakeaws.DefaultConfig()), func(r *http.Request) bool {
		return strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256")
	}))
	awstest.StaticCredentials(t)
	p := w.prober("ecr.api,ecr.dkr,sts", 500*time.Millisecond, 3*time.Second)
	p.Account = ""
	p.Metadata = Metadata{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/default/abc"}
	p.UseAWS(context.Background(), testEnv())
	defer p.Close()
	start := time.Now()
	rep := checkedRun(t, p, start)
	if took := time.Since(start); took > p.Deadline {
		t.Errorf("run took %s, beyond --deadline %s", took, p.Deadline)
	}
	for _, svc := range []string{"sts", "ecr.api"} {
		c := checkOf(t, serviceOf(t, rep, svc), "auth")
		t.Logf("%s: %s", svc, c.Detail)
		if c.Error != checks.Timeout {
			t.Errorf("%s auth %+v", svc, c)
		}
	}
	// ecr.dkr took the task ARN's account without waiting for STS.
	dkr := serviceOf(t, rep, "ecr.dkr")
	if dkr.Host != "123456789012.dkr.ecr.eu-west-1.amazonaws.com" || checkOf(t, dkr, "auth").Status != checks.Skip {
		t.Errorf("ecr.dkr %+v", dkr)
	}
}

// silentCredentials never answers, like an instance metadata service that cannot be reached.
type silentCredentials struct{}

func (silentCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	<-ctx.Done()
	return aws.Credentials{}, ctx.Err()
}

// TestCredentialsThatNeverCome: a credential chain that never answers is "no credentials"
// (auth-failed), not a network timeout, even though the credential cache gives up on its own.
func TestCredentialsThatNeverCome(t *testing.T) {
	creds := markCredentials(silentCredentials{})
	for _, cause := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want checks.Code
	}{
		{"step timeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, checks.AuthFailed},
		{"run deadline", func() (context.Context, context.CancelFunc) {
			return context.WithDeadlineCause(context.Background(), time.Now().Add(50*time.Millisecond), checks.ErrDeadline)
		}, checks.Deadline},
	} {
		t.Run(cause.name, func(t *testing.T) {
			ctx, cancel := cause.ctx()
			defer cancel()
			_, err := creds.Retrieve(ctx)
			if got := checks.ClassifyIn(ctx, err); got != cause.want {
				t.Fatalf("classified %q, want %q (%v)", got, cause.want, err)
			}
			if cause.want == checks.AuthFailed && !strings.Contains(err.Error(), "instance metadata") {
				t.Errorf("detail %q does not name the credential sources", err)
			}
		})
	}
}

// TestAWSCredentialsNeverCome: when the credential chain never answers (instance metadata
// out of reach), every authenticated check says auth-failed — the same answer for all, from one
// retrieval — and no signed request is sent.
func TestAWSCredentialsNeverCome(t *testing.T) {
	w, fake := awsWorld(t, nil)
	p := awsProber(t, w, "sts,ecr.api,ecr.dkr", func(p *Prober) { p.Timeout = 300 * time.Millisecond })
	p.aws.creds = markCredentials(silentCredentials{})
	p.aws.noSource = false // a source is configured (say a profile's role) but never answers
	rep := checkedRun(t, p, time.Now())
	for _, key := range []string{"sts", "ecr.api"} {
		c := checkOf(t, serviceOf(t, rep, key), "auth")
		if c.Error != checks.AuthFailed || !strings.Contains(c.Detail, "not sent") {
			t.Errorf("%s auth: %+v", key, c)
		}
	}
	if c := checkOf(t, serviceOf(t, rep, "ecr.dkr"), "auth"); c.Status != checks.Skip {
		t.Errorf("ecr.dkr auth: %+v", c)
	}
	for _, r := range fake.Requests() {
		if r.AccessKey != "" {
			t.Errorf("a signed request was sent: %+v", r)
		}
	}
}

// TestAccountSource: ecr.dkr asks STS for its account only when neither --account nor the task
// ARN names one; otherwise a black-holed STS would hold the registry's checks a whole --timeout.
func TestAccountSource(t *testing.T) {
	for _, tc := range []struct {
		name     string
		taskARN  string
		stsAcct  string
		wantHost string
		waited   bool
	}{
		{"task ARN known", "arn:aws:ecs:eu-west-1:123456789012:task/default/abc", "999999999999", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", false},
		{"only STS knows", "", "123456789012", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			p := w.prober("ecr.dkr", time.Second, 5*time.Second)
			p.Account = ""
			p.Metadata = Metadata{TaskARN: tc.taskARN}
			waited := false
			var mu sync.Mutex
			p.Identity = func(ctx context.Context) (string, string) {
				if ctx.Err() == nil { // a live wait, not the report's look at what is known
					mu.Lock()
					waited = true
					mu.Unlock()
				}
				return tc.stsAcct, "arn:aws:sts::" + tc.stsAcct + ":assumed-role/r/s"
			}
			rep := checkedRun(t, p, time.Now())
			if s := serviceOf(t, rep, "ecr.dkr"); s.Host != tc.wantHost {
				t.Errorf("host %s, want %s", s.Host, tc.wantHost)
			}
			mu.Lock()
			defer mu.Unlock()
			if waited != tc.waited {
				t.Errorf("waited for STS: %v, want %v", waited, tc.waited)
			}
		})
	}
}

// connectProxy is an HTTPS proxy on loopback: it answers CONNECT by splicing the client to
// target, whatever host was asked for, and records the hosts.
type connectProxy struct {
	target string
	mu     sync.Mutex
	hosts  []string
}

func (c *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	c.mu.Lock()
	c.hosts = append(c.hosts, r.Host)
	c.mu.Unlock()
	up, err := net.Dial("tcp", c.target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	// Hijack first, then answer on the raw connection, as real proxies do: a 200 written through
	// the ResponseWriter before Hijack may sit in its buffer.
	down, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	if _, err := io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		up.Close()
		down.Close()
		return
	}
	go func() { io.Copy(up, down); up.Close() }()
	io.Copy(down, up)
	down.Close()
}

func (c *connectProxy) asked(host string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, h := range c.hosts {
		if h == host {
			n++
		}
	}
	return n
}

// TestRunThroughProxy (issue 10, item 5): with a proxy configured (HTTPS_PROXY), every check of
// a service takes one path and the report names it. sts, which only the application calls, goes
// through the proxy: its tcp check is the CONNECT tunnel (its own address is black-holed here,
// so a direct connect would time out), tls runs over the tunnel, http and the SDK call take the
// proxy. logs and ecr.api, which the platform calls itself and which never use the task's proxy,
// go direct, SDK calls included. The report names the proxy without its credentials.
func TestRunThroughProxy(t *testing.T) {
	w, _ := awsWorld(t, nil)
	proxy := &connectProxy{target: w.front.Addr}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	proxyURL, _ := url.Parse(srv.URL)
	proxyURL.User = url.UserPassword("proxyuser", "proxysecret")
	dark := netip.MustParseAddr("127.0.0.3")
	w.zone.Set("sts.eu-west-1.amazonaws.com", dark)
	p := awsProber(t, w, "sts,ecr.api,logs", func(p *Prober) {
		p.Proxy = http.ProxyURL(proxyURL)
		p.Dialer = blackhole{only: dark}
	})
	rep := checkedRun(t, p, time.Now())
	s := serviceOf(t, rep, "sts")
	if s.Verdict != checks.Pass || s.Path != "proxy "+srv.URL {
		t.Fatalf("sts through the proxy: %+v", s)
	}
	for _, name := range []string{"tcp", "tls", "http", "auth"} {
		if c := checkOf(t, s, name); c.Status != checks.Pass {
			t.Errorf("sts %s through the proxy: %+v", name, c)
		}
	}
	// The tcp check's tunnel, the tls check's, the unsigned check's and GetCallerIdentity's.
	if n := proxy.asked("sts.eu-west-1.amazonaws.com:443"); n < 4 {
		t.Errorf("the proxy saw %d CONNECTs for sts, want the tcp, tls, http checks' and the SDK call's", n)
	}
	for _, key := range []string{"ecr.api", "logs"} {
		s := serviceOf(t, rep, key)
		if s.Verdict != checks.Pass || s.Path != PathDirect {
			t.Errorf("%s: %+v", key, s)
		}
		if n := proxy.asked(s.Host + ":443"); n != 0 {
			t.Errorf("the platform's %s went through the proxy %d times", key, n)
		}
	}
	schematest.Check(t, rep.JSON())
	if rep.Context.Proxy != srv.URL || strings.Contains(string(rep.JSON()), "proxysecret") {
		t.Errorf("context.proxy %q (want %q, without credentials)", rep.Context.Proxy, srv.URL)
	}

	// Without a proxy nothing goes to it, and every path is direct.
	before := proxy.asked("sts.eu-west-1.amazonaws.com:443")
	w.zone.Set("sts.eu-west-1.amazonaws.com", netip.MustParseAddr("127.0.0.1"))
	p = awsProber(t, w, "sts", nil)
	rep = checkedRun(t, p, time.Now())
	if rep.Context.Proxy != "" || proxy.asked("sts.eu-west-1.amazonaws.com:443") != before || serviceOf(t, rep, "sts").Path != PathDirect {
		t.Errorf("a run without a proxy used it (context.proxy %q)", rep.Context.Proxy)
	}
}

// TestSDKHosts (issue 10, item 4): the checks probe the host the run's SDK clients really call
// with the loaded configuration: FIPS names with AWS_USE_FIPS_ENDPOINT, a configured endpoint
// URL with AWS_ENDPOINT_URL_<SERVICE>. The DNS, TCP, TLS and HTTP checks and the SDK's calls all
// go to that one host.
func TestSDKHosts(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want map[string]string
	}{
		// The platform's services keep their standard names: Fargate and the agent call them
		// without the container's environment (issue 17, item 10; TestPlatformSettings).
		{"fips", []string{"AWS_USE_FIPS_ENDPOINT", "true"}, map[string]string{
			"ecr.api": "api.ecr.eu-west-1.amazonaws.com",
			"ecr.dkr": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
			"s3":      "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com",
			"logs":    "logs.eu-west-1.amazonaws.com",
			"sts":     "sts-fips.eu-west-1.amazonaws.com",
			"kms":     "kms-fips.eu-west-1.amazonaws.com",
		}},
		{"endpoint urls", []string{"AWS_ENDPOINT_URL_STS", "https://sts.vpce.example.internal", "AWS_ENDPOINT_URL_KMS", "https://kms.vpce.example.internal"}, map[string]string{
			"ecr.api": "api.ecr.eu-west-1.amazonaws.com",
			"sts":     "sts.vpce.example.internal",
			"kms":     "kms.vpce.example.internal",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awstest.StaticCredentials(t)
			for i := 0; i+1 < len(tt.env); i += 2 {
				t.Setenv(tt.env[i], tt.env[i+1])
			}
			var hosts []string
			var keys []string
			for k, h := range tt.want {
				hosts, keys = append(hosts, h), append(keys, k)
			}
			fake := fakeaws.New(fakeaws.DefaultConfig())
			zone := awstest.Zone(hosts...)
			w := &world{zone: zone, resolver: awstest.Resolver(t, zone), front: awstest.Front(t, fake, hosts...)}
			p := w.prober(strings.Join(keys, ","), time.Second, 10*time.Second)
			p.UseAWS(context.Background(), testEnv())
			t.Cleanup(p.Close)
			rep := checkedRun(t, p, time.Now())
			for key, want := range tt.want {
				s := serviceOf(t, rep, key)
				if s.Host != want || s.Verdict != checks.Pass {
					t.Errorf("%s: host %s verdict %s, want %s passing\n%s", key, s.Host, s.Verdict, want, rep.Text(false))
				}
			}
			// The authenticated calls went to the same hosts.
			for _, r := range fake.Requests() {
				if r.AccessKey != "" && !slices.Contains(hosts, r.Host) {
					t.Errorf("a signed call went to %s, not a probed host", r.Host)
				}
			}
			if n := count(fake.Requests(), "sts:GetCallerIdentity"); n != 1 {
				t.Errorf("%d GetCallerIdentity calls", n)
			}
		})
	}
}
