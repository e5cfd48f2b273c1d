package main

import (
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
)

// usageLine asserts a usage error: exit 2, nothing on stdout, one line on stderr containing
// every want.
func usageLine(t *testing.T, code int, out, errs string, want ...string) {
	t.Helper()
	if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and one line", code, out, errs)
	}
	for _, w := range want {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr %q lacks %q", errs, w)
		}
	}
}

// TestSubcommandTypos: a mistyped subcommand names the one it most likely meant (issue 16's
// explain-stoped and inspekt), for the command and for help; a word near none lists them all.
func TestSubcommandTypos(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ typed, want string }{
		{"explain-stoped", "did you mean explain-stopped?"},
		{"inspekt", "did you mean inspect?"},
		{"lanuch", "did you mean launch?"},
		{"verison", "did you mean version?"},
		{"Inspect", "did you mean inspect?"},
		{"hlep", "did you mean help?"},
		{"frobnicate", "launch, explain-stopped, inspect, version, help"},
	} {
		t.Run(tt.typed, func(t *testing.T) {
			t.Parallel()
			code, out, errs := launchCmd(t, world{}, env(), tt.typed, "--region", "eu-west-1")
			usageLine(t, code, out, errs, `"`+tt.typed+`"`, tt.want)
			if tt.typed == "frobnicate" && strings.Contains(errs, "did you mean") {
				t.Errorf("stderr %q suggests a subcommand for a word near none", errs)
			}
			code, out, errs = launchCmd(t, world{}, env(), "help", tt.typed)
			usageLine(t, code, out, errs, tt.want)
		})
	}
	// A flag first is the probe's, never a subcommand: its own errors apply.
	code, out, errs := launchCmd(t, world{}, env(), "--bogus")
	usageLine(t, code, out, errs, "unknown flag --bogus")
}

// TestVersionSubcommand: "vpcprobe version" prints what --version prints.
func TestVersionSubcommand(t *testing.T) {
	t.Parallel()
	code, out, errs := launchCmd(t, world{}, env(), "version")
	_, flag, _ := runIn(t, world{}, env(), "--version")
	if code != exitOK || out != flag || !strings.HasPrefix(out, "vpcprobe ") || strings.Count(out, "\n") != 1 || errs != "" {
		t.Errorf("version: exit %d, stdout %q (--version %q), stderr %q", code, out, flag, errs)
	}
	code, out, errs = launchCmd(t, world{}, env(), "version", "now")
	usageLine(t, code, out, errs, `"now"`)
}

// TestStamp: release stamps win; `go install module@v1.2.3` gives the module version; a `go
// build` in a checkout gives the VCS revision, time and modified flag Go records (the keys are
// runtime/debug's: https://pkg.go.dev/runtime/debug#BuildSetting).
func TestStamp(t *testing.T) {
	t.Parallel()
	info := func(mainVersion string, kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/vpcprobe/vpcprobe", Version: mainVersion}}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	rev := "0123456789abcdef0123456789abcdef01234567"
	other := "fedcba9876543210fedcba9876543210fedcba98"
	tests := []struct {
		name                  string
		version, commit, date string
		info                  *debug.BuildInfo
		want                  string
	}{
		{"release", "v1.2.3", rev, "2026-12-08T00:00:00Z", info("(devel)", "vcs.revision", other, "vcs.time", "2020-01-01T00:00:00Z"),
			"vpcprobe v1.2.3 (commit " + rev + ", built 2026-12-08T00:00:00Z)"},
		{"version stamped only, from a checkout", "v1.2.3", "", "", info("(devel)", "vcs.revision", rev, "vcs.time", "2026-11-30T10:00:00Z"),
			"vpcprobe v1.2.3 (commit " + rev + ", built 2026-11-30T10:00:00Z)"},
		{"go install @version", "dev", "", "", info("v1.4.0"), "vpcprobe v1.4.0"},
		{"source build", "dev", "", "", info("(devel)", "vcs.revision", rev, "vcs.time", "2026-11-30T10:00:00Z", "vcs.modified", "false"),
			"vpcprobe dev (commit " + rev + ", built 2026-11-30T10:00:00Z)"},
		{"modified tree", "dev", "", "", info("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "vpcprobe dev (commit " + rev + ", modified)"},
		{"no VCS information", "dev", "", "", info("(devel)"), "vpcprobe dev"},
		{"no build info", "dev", "", "", nil, "vpcprobe dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(stampOf(tt.version, tt.commit, tt.date, tt.info)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOutputFirst: --output (and its variable) is checked before anything else, so "--output
// yaml" is the error even where a region, a subnet or a cluster is also wrong or missing.
func TestOutputFirst(t *testing.T) {
	awstest.IsolateSDK(t) // nothing may reach for credentials before the output is refused
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"probe", nil, []string{"--output", "yaml", "--region", "nowhere"}, "--output yaml"},
		{"probe, variable", []string{"VPCPROBE_OUTPUT", "yaml"}, []string{"--region", "nowhere"}, "VPCPROBE_OUTPUT=yaml"},
		{"probe, no region", nil, []string{"--output", "yaml"}, "--output yaml"},
		{"inspect", nil, []string{"inspect", "--output", "yaml", "--subnet", "nope"}, "--output yaml"},
		{"inspect, variable", []string{"VPCPROBE_INSPECT_OUTPUT", "yaml"}, []string{"inspect"}, "VPCPROBE_INSPECT_OUTPUT=yaml"},
		{"launch", nil, []string{"launch", "--output", "yaml", "--region", "nowhere"}, "--output yaml"},
		{"launch lambda", nil, []string{"launch", "--runner", "lambda", "--output", "yaml"}, "--output yaml"},
		{"explain-stopped", nil, []string{"explain-stopped", "--output", "yaml"}, "--output yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if args[0] != "inspect" && args[0] != "launch" && args[0] != "explain-stopped" {
				args = append([]string{"--amazon-dns", ""}, args...)
			}
			code, out, errs := launchCmd(t, world{}, env(tt.env...), args...)
			allowed := "text or json"
			if args[0] == "inspect" || args[0] == "launch" { // the health map too
				allowed = "text, json or html"
			}
			usageLine(t, code, out, errs, tt.want, allowed)
		})
	}
}

// TestEnvOfAnotherCommand: a probe variable a subcommand does not read, where the subcommand has
// the same flag under its own prefix, is warned about as an unknown one is, naming the variable
// the subcommand reads; the probe's variables without a counterpart, and every variable in a
// probe run, are not.
func TestEnvOfAnotherCommand(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		environ []string
		args    []string
		want    []string
	}{
		{"inspect", []string{"VPCPROBE_OUTPUT=text"}, []string{"inspect", "--help"}, []string{"VPCPROBE_OUTPUT is not a setting of vpcprobe inspect", "VPCPROBE_INSPECT_OUTPUT (inspect --output)"}},
		{"launch", []string{"VPCPROBE_OUTPUT=json", "VPCPROBE_REGION=eu-west-1"}, []string{"launch", "--help"}, []string{"VPCPROBE_LAUNCH_OUTPUT", "VPCPROBE_LAUNCH_REGION"}},
		{"explain-stopped", []string{"VPCPROBE_OUTPUT=json"}, []string{"explain-stopped", "--help"}, []string{"VPCPROBE_EXPLAIN_STOPPED_OUTPUT"}},
		{"no counterpart", []string{"VPCPROBE_EVERY=1m", "VPCPROBE_RUN_ID=x"}, []string{"inspect", "--help"}, nil},
		{"the subcommand's own", []string{"VPCPROBE_INSPECT_OUTPUT=text"}, []string{"inspect", "--help"}, nil},
		{"the probe reads it", []string{"VPCPROBE_OUTPUT=text"}, []string{"--help"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := world{environ: func() []string { return tt.environ }}
			code, _, errs := launchCmd(t, w, env(), tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if errs == "" {
				lines = nil
			}
			if tt.want == nil && lines != nil {
				t.Fatalf("stderr %q: want no warning", errs)
			}
			for _, want := range tt.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "vpcprobe: warning: ") && strings.Contains(l, want) }) {
					t.Errorf("stderr %q: no warning line naming %q", errs, want)
				}
			}
		})
	}
}

// TestTaskDefinitionPath: --for-task-definition takes a path that exists as the file (relative,
// ./ or absolute, from the flag or its variable), an ARN or family[:revision] as itself, and
// refuses a path to nothing before any AWS call.
func TestTaskDefinitionPath(t *testing.T) {
	abs, err := filepath.Abs("testdata/app-taskdef.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ in, want string }{
		{"./testdata/app-taskdef.json", "file://./testdata/app-taskdef.json"},
		{"testdata/app-taskdef.json", "file://testdata/app-taskdef.json"},
		{abs, "file://" + abs},
		{"file://testdata/app-taskdef.json", "file://testdata/app-taskdef.json"},
		{"app", "app"},
		{"app:12", "app:12"},
		{"arn:aws:ecs:eu-west-1:123456789012:task-definition/app:12", "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:12"},
		{"testdata", "testdata"}, // a directory is no file, and its name a valid family
	} {
		got, err := taskDefinitionRef(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("taskDefinitionRef(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"./testdata/none.json", "/nonexistent/td.json", "td.json"} {
		if _, err := taskDefinitionRef(bad); err == nil {
			t.Errorf("taskDefinitionRef(%q): no error", bad)
		}
	}

	awstest.IsolateSDK(t) // a file needs no credentials and no ECS call
	want := []string{"ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager", "ssm"}
	for name, tt := range map[string]struct{ env, args []string }{
		"./ path":           {nil, []string{"--for-task-definition", "./testdata/app-taskdef.json"}},
		"absolute path":     {nil, []string{"--for-task-definition", abs}},
		"from the variable": {[]string{"VPCPROBE_FOR_TASK_DEFINITION", "testdata/app-taskdef.json"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, _, err := forTaskDefinition(t, env(tt.env...), append([]string{"--region", "eu-west-1"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(keys(cfg), want) {
				t.Errorf("services %q, want %q", keys(cfg), want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		code, out, errs := runIn(t, world{}, env(), "--resolver", "127.0.0.1:1", "--region", "eu-west-1", "--for-task-definition", "./testdata/none.json")
		usageLine(t, code, out, errs, "--for-task-definition ./testdata/none.json", "no such file")
		code, out, errs = runIn(t, world{}, env("VPCPROBE_FOR_TASK_DEFINITION", "./none.json"), "--resolver", "127.0.0.1:1", "--region", "eu-west-1")
		usageLine(t, code, out, errs, "VPCPROBE_FOR_TASK_DEFINITION=./none.json", "no such file")
		code, out, errs = launchCmd(t, world{}, env(), "launch", "--cluster", "prod", "--task-definition", "vpcprobe", "--subnets", "subnet-0a1b2c3d",
			"--for-task-definition", "./testdata/none.json")
		usageLine(t, code, out, errs, "--for-task-definition ./testdata/none.json", "no such file")
	})
}
