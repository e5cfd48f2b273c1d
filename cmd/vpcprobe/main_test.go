package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/report"
)

// env is a fake environment for run: only what a test sets exists.
var env = awstest.Env

// safe are the flags every test run needs: no second opinion from 169.254.169.253.
var safe = []string{"--amazon-dns", ""}

// runCmd runs the program in the real world, with the SDK kept off instance metadata.
func runCmd(t *testing.T, getenv func(string) (string, bool), args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return runIn(t, world{}, getenv, args...)
}

// runIn runs the program in world w. It leaves the process environment alone: a test whose runs
// end before any SDK call (usage, help) may be parallel.
func runIn(t testing.TB, w world, getenv func(string) (string, bool), args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := w.run(append(append([]string{}, safe...), args...), getenv, &out, &errb)
	checkDocuments(t, out.Bytes())
	return code, out.String(), errb.String()
}

// checkDocuments validates every JSON document on stdout (one per line: a report, a launch
// report, inspect's findings) against the shipped JSON Schema its "schema" member names, so
// every report a command test makes is checked; text output is left alone.
func checkDocuments(t testing.TB, stdout []byte) {
	t.Helper()
	for _, line := range bytes.Split(stdout, []byte("\n")) {
		var head struct {
			Schema string `json:"schema"`
		}
		if json.Unmarshal(line, &head) == nil && head.Schema != "" {
			schematest.Check(t, line)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		args []string
		want string // what the one stderr line must name
	}{
		{"unknown service", nil, []string{"--region", "eu-west-1", "--services", "ecr,sts"}, "--services"},
		{"bad duration flag", nil, []string{"--region", "eu-west-1", "--timeout", "5 parsecs"}, "timeout"},
		{"bad duration env", []string{"VPCPROBE_DEADLINE", "soon"}, []string{"--region", "eu-west-1"}, "VPCPROBE_DEADLINE=soon:"},
		{"duration without unit env", []string{"VPCPROBE_TIMEOUT", "5"}, []string{"--region", "eu-west-1"}, "VPCPROBE_TIMEOUT=5:"},
		{"zero timeout env", []string{"VPCPROBE_TIMEOUT", "0s"}, []string{"--region", "eu-west-1"}, "VPCPROBE_TIMEOUT=0s:"},
		{"bad bool env", []string{"VPCPROBE_REQUIRE_PRIVATE", "maybe"}, []string{"--region", "eu-west-1"}, "VPCPROBE_REQUIRE_PRIVATE=maybe:"},
		{"bad bool flag", nil, []string{"--region", "eu-west-1", "--require-private=maybe"}, "--require-private"},
		{"bad output env", []string{"VPCPROBE_OUTPUT", "yaml"}, []string{"--region", "eu-west-1"}, "VPCPROBE_OUTPUT=yaml:"},
		{"bad services env", []string{"VPCPROBE_SERVICES", "ecr"}, []string{"--region", "eu-west-1"}, "VPCPROBE_SERVICES=ecr:"},
		{"deadline shorter than timeout", nil, []string{"--region", "eu-west-1", "--timeout", "10s", "--deadline", "5s"}, "--deadline"},
		{"zero timeout", nil, []string{"--region", "eu-west-1", "--timeout", "0s"}, "--timeout"},
		{"bad resolver", nil, []string{"--region", "eu-west-1", "--resolver", "dns.example.com"}, "--resolver"},
		{"bad amazon dns", nil, []string{"--region", "eu-west-1", "--amazon-dns", "x:y:z"}, "--amazon-dns"},
		{"bad region", nil, []string{"--region", "Ireland"}, "--region"},
		{"bad region env", []string{"AWS_REGION", "eu-west-1a"}, nil, "--region"},
		{"iso partition refused", nil, []string{"--region", "us-iso-east-1"}, "aws-iso partition"},
		{"eusc partition refused", nil, []string{"--region", "eusc-de-east-1"}, "aws-eusc partition"},
		{"no region", nil, nil, "--region"},
		{"bad account", nil, []string{"--region", "eu-west-1", "--account", "12345"}, "--account"},
		{"bad output", nil, []string{"--region", "eu-west-1", "--output", "yaml"}, "--output"},
		{"negative every", nil, []string{"--region", "eu-west-1", "--every", "-1s"}, "--every"},
		{"every below the minimum", nil, []string{"--region", "eu-west-1", "--every", "2s"}, "10s"},
		{"every below the minimum env", []string{"VPCPROBE_EVERY", "1s"}, []string{"--region", "eu-west-1"}, "VPCPROBE_EVERY=1s:"},
		{"unknown flag", nil, []string{"--regoin", "eu-west-1"}, "regoin"},
		{"bad run id", nil, []string{"--region", "eu-west-1", "--run-id", "a b"}, "--run-id"},
		{"positional argument", nil, []string{"--region", "eu-west-1", "probe"}, "probe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runIn(t, world{}, env(tt.env...), append([]string{"--resolver", "127.0.0.1:1"}, tt.args...)...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errs)
			}
			if out != "" {
				t.Errorf("a usage error printed a report: %q", out)
			}
			if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q: want one line naming %q", errs, tt.want)
			}
			if goInternals.MatchString(errs) {
				t.Errorf("stderr %q speaks Go, not plain words", errs)
			}
		})
	}
}

// goInternals are what a usage line must never show: Go's own error texts.
var goInternals = regexp.MustCompile(`strconv\.|time: |invalid argument|ParseBool|ParseDuration|invalid syntax`)

// TestUnknownEnv: a VPCPROBE_* variable no subcommand reads gets one warning line naming the
// nearest one; those of every subcommand and the documented ones get none.
func TestUnknownEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		want    []string // per warning line, what it must name; nil: no warning
	}{
		{"typo of a probe flag", []string{"VPCPROBE_SERVICE=all"}, []string{"VPCPROBE_SERVICES (--services)"}},
		{"typo of a launch flag", []string{"VPCPROBE_LAUNCH_DEADLNE=3m"}, []string{"VPCPROBE_LAUNCH_DEADLINE (launch --deadline)"}},
		{"launch flag under the probe's prefix", []string{"VPCPROBE_SUBNETS=subnet-0a1b2c3d"}, []string{"VPCPROBE_LAUNCH_SUBNETS"}},
		{"nothing near", []string{"VPCPROBE_ZZZZZZZZZZZZ=1"}, []string{"VPCPROBE_ZZZZZZZZZZZZ is not"}},
		{"every kind known", []string{"VPCPROBE_SERVICES=all", "VPCPROBE_LAUNCH_CLUSTER=prod", "VPCPROBE_EXPLAIN_STOPPED_TASK=abc",
			"VPCPROBE_INSPECT_SUBNET=subnet-0a1b2c3d", "VPCPROBE_RUN_ID=x", "VPCPROBE_EVERY=1m", "PATH=/bin", "VPCPROBEX=1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := world{environ: func() []string { return tt.environ }}
			_, _, errs := runIn(t, w, env(), "--version")
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if errs == "" {
				lines = nil
			}
			if len(lines) != len(tt.want) {
				t.Fatalf("stderr %q: want %d warning lines", errs, len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.Contains(lines[i], "warning") || !strings.Contains(lines[i], want) {
					t.Errorf("warning %q: want it to name %q", lines[i], want)
				}
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := runIn(t, world{}, env(), "--help")
	if code != exitOK {
		t.Fatalf("--help exit %d", code)
	}
	for _, f := range []string{"services", "region", "account", "image", "timeout", "deadline", "resolver", "amazon-dns",
		"log-group", "log-stream", "output", "require-private", "every", "version"} {
		if !strings.Contains(out, "--"+f) {
			t.Errorf("--help lacks --%s", f)
		}
		if f != "version" && !strings.Contains(out, envName(f)) {
			t.Errorf("--help lacks %s", envName(f))
		}
	}
	if !strings.Contains(out, "launch") || !strings.Contains(out, "explain-stopped") {
		t.Errorf("--help does not name the subcommands")
	}
	if !strings.Contains(out, `(default "ecr.api,ecr.dkr,s3,logs")`) || !strings.Contains(out, "169.254.169.253") {
		t.Errorf("--help lacks defaults:\n%s", out)
	}
	code, out, _ = runIn(t, world{}, env(), "--version")
	if code != exitOK || !strings.HasPrefix(out, "vpcprobe dev") || strings.Count(out, "\n") != 1 {
		t.Errorf("--version: %d %q", code, out)
	}
}

// TestHelpCommand: "vpcprobe help" and "vpcprobe help SUBCOMMAND" print the same help as
// --help, for every registered subcommand; an unknown one is a usage error.
func TestHelpCommand(t *testing.T) {
	t.Parallel()
	code, out, _ := launchCmd(t, world{}, env(), "help")
	if code != exitOK || !strings.Contains(out, "Usage: vpcprobe [flags]") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
	for _, sc := range subcommands() {
		code, out, _ := launchCmd(t, world{}, env(), "help", sc.name)
		if code != exitOK || !strings.Contains(out, "Usage: vpcprobe "+sc.name) {
			t.Errorf("help %s: exit %d\n%s", sc.name, code, out)
		}
	}
	code, out, errs := launchCmd(t, world{}, env(), "help", "lanch")
	if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "launch") {
		t.Errorf("help lanch: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	o, err := parseArgs([]string{"--timeout", "2s"}, env(
		"VPCPROBE_TIMEOUT", "9s", // the flag wins
		"VPCPROBE_DEADLINE", "30s",
		"VPCPROBE_SERVICES", "sts,logs",
		"VPCPROBE_RESOLVER", "10.0.0.2, 10.0.0.3:5353",
		"VPCPROBE_REQUIRE_PRIVATE", "true",
		"VPCPROBE_AMAZON_DNS", "",
	), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.timeout.String() != "2s" || o.deadline.String() != "30s" || o.services != "sts,logs" || !o.requirePrivate || o.amazonDNS != "" {
		t.Errorf("options %+v", o)
	}
	c, err := o.config(env("AWS_DEFAULT_REGION", "us-west-2"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Resolvers, " ") != "10.0.0.2:53 10.0.0.3:5353" || c.Region != "us-west-2" || c.AmazonDNS != "" {
		t.Errorf("config %+v", c)
	}
	// AWS_REGION beats AWS_DEFAULT_REGION, the flag beats both, metadata comes last.
	c, _ = o.config(env("AWS_REGION", "eu-west-1", "AWS_DEFAULT_REGION", "us-west-2"), "ap-south-1", "")
	if c.Region != "eu-west-1" {
		t.Errorf("region %s", c.Region)
	}
	// The task's account is not the registry account yet: the probe asks STS first.
	c, _ = o.config(env(), "ap-south-1", "123456789012")
	if c.Region != "ap-south-1" || c.Account != "" {
		t.Errorf("metadata fallbacks: %+v", c)
	}
}

func TestResolvConfDefault(t *testing.T) {
	t.Parallel()
	resolvConf := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(resolvConf, []byte("search ec2.internal\nnameserver 10.0.0.2\n"), 0o644)
	o, _ := parseArgs(nil, env(), &bytes.Buffer{})
	o.resolvConf = resolvConf
	c, err := o.config(env("AWS_REGION", "eu-west-1"), "", "")
	if err != nil || strings.Join(c.Resolvers, ",") != "10.0.0.2:53" {
		t.Fatalf("%v %v", c.Resolvers, err)
	}
	os.WriteFile(resolvConf, []byte("search only\n"), 0o644)
	if _, err := o.config(env("AWS_REGION", "eu-west-1"), "", ""); err == nil || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("no nameserver: %v", err)
	}
}

// TestRunReport runs the whole program against a loopback resolver that knows none of the
// names: a complete JSON report on stdout, nothing on stderr, exit 1; and the metadata
// endpoint supplies the region and the task's context.
func TestRunReport(t *testing.T) {
	resolver := awstest.Resolver(t, fakedns.NewZone())
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/task") {
			w.Write([]byte(`{"Cluster":"prod","TaskARN":"arn:aws:ecs:ap-southeast-2:123456789012:task/prod/0f9e","AvailabilityZone":"ap-southeast-2b","LaunchType":"FARGATE"}`))
			return
		}
		w.Write([]byte(`{"Networks":[{"IPv4Addresses":["10.0.1.17"],"IPv4SubnetCIDRBlock":"10.0.1.0/24"}]}`))
	}))
	defer meta.Close()

	code, out, errs := runCmd(t, env("ECS_CONTAINER_METADATA_URI_V4", meta.URL+"/v4/x"),
		"--resolver", resolver, "--timeout", "1s", "--deadline", "5s", "--output", "json", "--services", "all", "--run-id", "launch-42")
	if code != exitFail || errs != "" {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, out)
	}
	if rep.RunID != "launch-42" {
		t.Errorf("run_id %q", rep.RunID)
	}
	if rep.Context.Region != "ap-southeast-2" || rep.Context.Account != "123456789012" || rep.Context.SubnetCIDR != "10.0.1.0/24" || rep.Context.Cluster != "prod" {
		t.Errorf("context %+v", rep.Context)
	}
	if len(rep.Services) != len(catalogue.Keys()) || rep.Services[0].Checks[0].Error != "nxdomain" {
		t.Errorf("services %+v", rep.Services)
	}

	// A broken metadata endpoint is reported, never fatal.
	code, out, _ = runCmd(t, env("ECS_CONTAINER_METADATA_URI_V4", meta.URL+"/missing/"),
		"--resolver", resolver, "--region", "eu-west-1", "--timeout", "1s", "--output", "text", "--services", "sts")
	if code != exitFail || !strings.Contains(out, "SERVICE") {
		t.Errorf("text run: %d\n%s", code, out)
	}
}

// FuzzParseArgs: any command line and environment value parses or fails cleanly.
func FuzzParseArgs(f *testing.F) {
	f.Add("--services=all --timeout 1s", "VPCPROBE_DEADLINE", "10s")
	f.Add("--resolver 10.0.0.2 --resolver [fd00::2]:53", "VPCPROBE_RESOLVER", "1.1.1.1,,")
	f.Add("--every -5m --output=json", "VPCPROBE_REQUIRE_PRIVATE", "maybe")
	f.Add("--region", "AWS_REGION", "eu-west-1")
	f.Fuzz(func(t *testing.T, line, key, value string) {
		o, err := parseArgs(strings.Fields(line), env(key, value), &bytes.Buffer{})
		if err != nil {
			return
		}
		for _, r := range o.resolvers {
			resolverAddr("resolver", r)
		}
		o.config(env(key, value), "", "")
	})
}

// TestOutputMode is CONTRACT.md's --output default: text on a terminal, else JSON; colour only
// on a terminal and never with NO_COLOR, whatever its value.
func TestOutputMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format            string
		tty               bool
		env               []string
		wantText, wantClr bool
	}{
		{"", true, nil, true, true},
		{"", false, nil, false, false},
		{"", true, []string{"NO_COLOR", ""}, true, false},
		{"", true, []string{"NO_COLOR", "1"}, true, false},
		{"text", false, nil, true, false},
		{"json", true, nil, false, false},
	}
	for _, tt := range tests {
		text, color := outputMode(tt.format, tt.tty, env(tt.env...))
		if text != tt.wantText || color != tt.wantClr {
			t.Errorf("outputMode(%q, tty %v, %v) = text %v colour %v, want %v %v", tt.format, tt.tty, tt.env, text, color, tt.wantText, tt.wantClr)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0) // a terminal's master side
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
		want bool
	}{
		{"/dev/null, a character device but no terminal", null, false},
		{"a pipe", w, false},
		{"a buffer", &bytes.Buffer{}, false},
		{"a pseudo-terminal", pty, true},
	} {
		if got := isTerminal(tc.w); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestProxyFrom: a proxy variable in the environment run was given turns net/http's proxy rules
// on; without one, calls go direct and the process environment is not consulted. (That the
// probe's calls really go through the proxy it is given is TestRunThroughProxy in probe.)
func TestProxyFrom(t *testing.T) {
	t.Parallel()
	if proxyFrom(env("NO_PROXY", ".internal")) != nil {
		t.Error("a proxy without any proxy variable")
	}
	for _, name := range proxyVars {
		if proxyFrom(env(name, "http://10.0.0.9:3128")) == nil {
			t.Errorf("%s set, but no proxy", name)
		}
	}
}
