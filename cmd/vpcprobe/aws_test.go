package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/internal/testbin"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
)

// Distinctive credentials, so that finding them anywhere in the output is proof of a leak.
const (
	leakSecretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYLEAKTESTKEY0"
	leakSessionToken = "FwoGZXIvYXdzEBYaDLEAKTESTSESSIONTOKENxyzzy0123456789"
	leakSecretValue  = "s3cr3t-value"    // fakeaws.DefaultConfig's secret
	leakParamValue   = "parameter-value" // and its parameter
)

// recorder stands in front of the fake AWS and keeps every secret that crossed the wire: the
// ECR tokens it issued, the Authorization headers it received, the presigned URLs it redirected
// to. The leak test then looks for each of them in everything the program wrote.
type recorder struct {
	next http.Handler

	mu      sync.Mutex
	secrets []string
}

func (rc *recorder) keep(s ...string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, v := range s {
		if len(v) >= 8 {
			rc.secrets = append(rc.secrets, v)
		}
	}
}

func (rc *recorder) all() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.secrets...)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		rc.keep(auth)
		if scheme, cred, ok := strings.Cut(auth, " "); ok && scheme == "Basic" {
			rc.keep(cred)
		}
		if _, sig, ok := strings.Cut(auth, "Signature="); ok {
			rc.keep(sig)
		}
	}
	rec := httptest.NewRecorder()
	rc.next.ServeHTTP(rec, r)
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetAuthorizationToken") {
		var out struct {
			AuthorizationData []struct {
				AuthorizationToken string `json:"authorizationToken"`
			} `json:"authorizationData"`
		}
		json.Unmarshal(rec.Body.Bytes(), &out)
		for _, d := range out.AuthorizationData {
			raw, _ := base64.StdEncoding.DecodeString(d.AuthorizationToken)
			rc.keep(d.AuthorizationToken, strings.TrimPrefix(string(raw), "AWS:"))
		}
	}
	if loc := rec.Header().Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			q := u.Query()
			rc.keep(loc, u.RawQuery, q.Get("X-Amz-Signature"), q.Get("X-Amz-Security-Token"), url.QueryEscape(q.Get("X-Amz-Signature")))
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// awsWorld is the loopback world of a whole run: a resolver answering 127.0.0.1 for every AWS
// name, the fake AWS behind a TLS server there (its CA in a bundle file), and run's Prober
// pointed at that server's port. It returns the fake, the recorder in front of it, the
// resolver's address and the environment for run.
func awsWorld(t *testing.T, edit func(*fakeaws.Config)) (*fakeaws.Server, *recorder, world, []string, func(string) (string, bool)) {
	t.Helper()
	cfg := fakeaws.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	fake := fakeaws.New(cfg)
	rc := &recorder{next: fake}
	srv := awstest.Front(t, rc)
	w := world{adjustProber: func(p *probe.Prober) { p.Port = srv.Port }}
	resolver := awstest.Resolver(t, awstest.Zone("*.amazonaws.com"))

	// The SDK reads its own variables from the process environment; run reads getenv.
	awstest.IsolateSDK(t)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": awstest.AccessKey, "AWS_SECRET_ACCESS_KEY": leakSecretKey,
		"AWS_SESSION_TOKEN": leakSessionToken, "AWS_CA_BUNDLE": srv.CAFile,
	} {
		t.Setenv(k, v)
	}
	args := []string{"--resolver", resolver, "--region", "eu-west-1", "--timeout", "2s", "--deadline", "15s"}
	return fake, rc, w, args, env("AWS_CA_BUNDLE", srv.CAFile, "AWS_ACCESS_KEY_ID", awstest.AccessKey)
}

const testImage = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest"

// TestNoSecretLeaves runs the whole program with an image, a secret and a parameter, delivering
// to CloudWatch, healthy and then failing in several ways, and looks for every secret it handled
// in stdout, stderr and every delivered event.
func TestNoSecretLeaves(t *testing.T) {
	fake, rc, w, base, getenv := awsWorld(t, nil)
	pull := []string{"--image", testImage, "--secret", "vpcprobe/test", "--parameter", "/vpcprobe/test",
		"--log-group", "/vpcprobe/leak", "--log-stream", "leak"}

	var output bytes.Buffer
	runs := []struct {
		name   string
		edit   func(*fakeaws.Config)
		format string
		code   int
	}{
		{"healthy", nil, "json", exitOK},
		{"healthy, text", nil, "text", exitOK},
		{"layer bucket and secret denied", func(c *fakeaws.Config) {
			c.EndpointDeny = map[string]bool{"s3:GetObject": true}
			c.Deny = map[string]bool{"secretsmanager:GetSecretValue": true, "ssm:GetParameters": true}
		}, "text", exitFail},
		{"registry denies the blob, delivery denied", func(c *fakeaws.Config) {
			c.Deny = map[string]bool{"ecr:GetDownloadUrlForLayer": true, "logs:PutLogEvents": true}
		}, "json", exitFail},
	}
	for _, r := range runs {
		fake.Configure(func(c *fakeaws.Config) {
			c.Deny, c.EndpointDeny = nil, nil
			if r.edit != nil {
				r.edit(c)
			}
		})
		code, out, errs := runIn(t, w, getenv, append(append(append([]string{}, base...), pull...), "--output", r.format)...)
		if code != r.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", r.name, code, r.code, out, errs)
		}
		if errs != "" {
			t.Errorf("%s: stderr %q", r.name, errs)
		}
		output.WriteString(out)
		output.WriteString(errs)
	}
	events := fake.Events("/vpcprobe/leak", "leak")
	if len(events) == 0 {
		t.Fatal("nothing was delivered")
	}
	for _, e := range events {
		output.WriteString(e.Message)
		output.WriteByte('\n')
	}

	handled := rc.all()
	var basic, presigned, tokens int
	for _, s := range handled {
		switch {
		case strings.HasPrefix(s, "Basic "):
			basic++
		case strings.HasPrefix(s, "https://"):
			presigned++
		case strings.HasPrefix(s, "AWS4-HMAC-SHA256 "):
			tokens++
		}
	}
	if basic == 0 || presigned == 0 || tokens == 0 {
		t.Fatalf("the runs did not handle every kind of secret: %d Basic headers, %d presigned URLs, %d signed calls", basic, presigned, tokens)
	}
	t.Logf("%d secrets handled: %d Basic headers, %d presigned URLs, %d signed calls; %d bytes of output", len(handled), basic, presigned, tokens, output.Len())
	secrets := append(handled, leakSecretKey, leakSessionToken, leakSecretValue, leakParamValue)
	all := output.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("output holds a secret %.12q…", s)
		}
	}
	// Nor any presigned URL's query, whatever it signs.
	for _, marker := range []string{"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"} {
		if strings.Contains(all, marker) {
			t.Errorf("output holds %s", marker)
		}
	}
}

// TestRunDelivers: a run with --log-group writes its events and says so; a failed delivery
// still prints the whole report and exits 1.
func TestRunDelivers(t *testing.T) {
	fake, _, w, base, getenv := awsWorld(t, nil)
	args := append(append([]string{}, base...), "--log-group", "/vpcprobe/runs", "--log-stream", "s", "--output", "json", "--run-id", "r-1")
	code, out, errs := runIn(t, w, getenv, args...)
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q, report %v\n%s", code, errs, err, out)
	}
	if rep.Delivery.CloudWatch != report.Delivered || rep.Context.CallerARN == "" {
		t.Errorf("delivery %+v, context %+v", rep.Delivery, rep.Context)
	}
	var msgs []string
	for _, e := range fake.Events("/vpcprobe/runs", "s") {
		msgs = append(msgs, e.Message)
	}
	if got, err := report.FromEvents("r-1", msgs); err != nil || len(got.Services) != len(rep.Services) {
		t.Errorf("delivered report %+v %v", got, err)
	}

	fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"logs:PutLogEvents": true} })
	code, out, errs = runIn(t, w, getenv, args...)
	rep = report.Report{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFail || errs != "" {
		t.Fatalf("failed delivery: exit %d, stderr %q, report %v\n%s", code, errs, err, out)
	}
	if rep.Verdict != "pass" || rep.Delivery.CloudWatch != report.Failed || !strings.Contains(rep.Delivery.Error, "logs:PutLogEvents") || len(rep.Services) != 4 {
		t.Errorf("report %+v", rep)
	}
}

// TestNoCredentials: on a host without credentials the authenticated checks are skip, the
// network verdicts stand (exit 0) and one line says so; --no-auth skips them without that line.
func TestNoCredentials(t *testing.T) {
	_, _, w, base, getenv := awsWorld(t, nil)
	awstest.IsolateSDK(t) // no keys in the process environment either
	hostEnv := func(name string) (string, bool) {
		if name == "AWS_ACCESS_KEY_ID" {
			return "", false
		}
		return getenv(name)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		detail string
		stderr int // lines
	}{
		{"no credentials", nil, probe.NoCredentials, 1},
		{"--no-auth", []string{"--no-auth"}, "--no-auth", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append(append([]string{}, base...), "--services", "sts,ecr.api", "--output", "json"), tc.args...)
			code, out, errs := runIn(t, w, hostEnv, args...)
			if code != exitOK || strings.Count(errs, "\n") != tc.stderr || (tc.stderr == 1 && !strings.Contains(errs, "--no-auth")) {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			schematest.Check(t, []byte(out))
			var rep report.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			for _, s := range rep.Services {
				auth := s.Checks[len(s.Checks)-1]
				if s.Verdict != checks.Pass || auth.Name != "auth" || auth.Status != checks.Skip || !strings.Contains(auth.Detail, tc.detail) {
					t.Errorf("%s: verdict %s, auth %+v", s.Service, s.Verdict, auth)
				}
			}
		})
	}
}

func TestImageFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the one stderr line
	}{
		{[]string{"--image", "nginx:latest"}, "--image"},
		{[]string{"--image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"}, "--region us-east-1"},
		{[]string{"--image", testImage, "--account", "210987654321"}, "--account"},
		{[]string{"--secret", "a b"}, "--secret"},
		{[]string{"--secret", "app/db:password"}, "--secret"},
		{[]string{"--secret", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:k:s:v:extra"}, "--secret"},
		{[]string{"--secret", "arn:aws:s3:::bucket/key"}, "--secret"},
		{[]string{"--parameter", ""}, "--parameter"},
		{[]string{"--no-auth", "--image", testImage}, "--no-auth"},
		{[]string{"--no-auth", "--log-group", "/vpcprobe"}, "--log-group"},
	}
	for _, tt := range tests {
		code, out, errs := runIn(t, world{}, env(), append([]string{"--resolver", "127.0.0.1:1", "--region", "eu-west-1"}, tt.args...)...)
		if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tt.args, code, errs, tt.want)
		}
	}
	o, err := parseArgs(nil, env("VPCPROBE_SECRET", "a, arn:aws:secretsmanager:eu-west-1:123456789012:secret:b:password:AWSCURRENT:, arn:aws:ssm:eu-west-1:123456789012:parameter/p/3", "VPCPROBE_PARAMETER", "/p/1,/p/2",
		"VPCPROBE_IMAGE", testImage, "VPCPROBE_SERVICES", "logs"), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := o.config(env("AWS_REGION", "eu-west-1"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range c.Services {
		keys = append(keys, s.Key)
	}
	if len(c.Secrets) != 2 || len(c.Parameters) != 3 || c.Account != "123456789012" ||
		strings.Join(keys, ",") != "ecr.api,ecr.dkr,s3,logs,secretsmanager,ssm" {
		t.Errorf("config %+v, services %v", c, keys)
	}
}

// binaryBudget bounds the stripped binary: 24 MiB on the SDK's current releases (issue 9).
const binaryBudget = 24 << 20

// TestBinaryDeps keeps the binary small (STYLE.md habit 11): no template packages and no net/rpc,
// which make the linker keep every exported method, no SDK service package the program does not
// call, and the stripped binary under its budget.
func TestBinaryDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const services = "github.com/aws/aws-sdk-go-v2/service/"
	allowed := map[string]bool{
		"sts": true, "ecr": true, "cloudwatchlogs": true, "secretsmanager": true, "ssm": true,
		"ecs":      true,                      // launch, and the agent's DiscoverPollEndpoint
		"lambda":   true,                      // launch --runner lambda
		"dynamodb": true, "eventbridge": true, // the responder's claims and its events
		"ec2": true, "route53resolver": true, // inspect
		"route53": true, "networkfirewall": true, // inspect: hub zones, firewalls on the way out
		"organizations": true,                                  // inspect and launch --organization (ListAccounts)
		"sso":           true, "ssooidc": true, "signin": true, // the SDK's credential chain (profiles)
		"internal": true,
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case pkg == "text/template" || pkg == "html/template" || pkg == "net/rpc":
			t.Errorf("%s is linked in: it makes the linker keep every exported method", pkg)
		case strings.HasPrefix(pkg, services):
			name, _, _ := strings.Cut(strings.TrimPrefix(pkg, services), "/")
			if !allowed[name] {
				t.Errorf("%s is linked in, but the program calls no %s API", pkg, name)
			}
		}
	}
	bin := testbin.T(t, testbin.Probe) // stripped, as it ships
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stripped binary: %d bytes (%.2f MiB)", fi.Size(), float64(fi.Size())/(1<<20))
	if fi.Size() > binaryBudget {
		t.Errorf("stripped binary %d bytes, over the %d budget", fi.Size(), binaryBudget)
	}
}
