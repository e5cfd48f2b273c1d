package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/internal/testbin"
	"github.com/vpcprobe/vpcprobe/lab"
	"github.com/vpcprobe/vpcprobe/report"
)

// probeBin is a vpcprobe binary built once for the tests that run labs.
var probeBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	probeBin, err = testbin.Path(testbin.Probe) // lab.BuildProbe's build, shared with the other packages
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func runCmd(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// ours lists the lab namespaces this process owns: none may survive a command.
func ours(t *testing.T) []string {
	t.Helper()
	names, err := netns.List(fmt.Sprintf("%s%d", lab.Prefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // what the one stderr line names
	}{
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"run without scenario", []string{"run"}, "scenario"},
		{"run two scenarios", []string{"run", "healthy", "isolated"}, "scenario"},
		{"unknown scenario", []string{"run", "no-such"}, "no-such"},
		{"bad flag", []string{"bench", "--bogus"}, "bogus"},
		{"bad count", []string{"bench", "-n", "0"}, "-n"},
		{"bad runner", []string{"run", "--runner", "fargate", "healthy"}, "--runner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(context.Background(), tt.args...)
			if code != exitUsage || out != "" {
				t.Fatalf("exit %d, stdout %q", code, out)
			}
			if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q: want one line naming %q", errs, tt.want)
			}
		})
	}
	if code, out, _ := runCmd(context.Background(), "--help"); code != exitOK || !strings.Contains(out, "vpclab COMMAND") {
		t.Errorf("--help: %d %q", code, out)
	}
}

func TestList(t *testing.T) {
	code, out, _ := runCmd(context.Background(), "list")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, sc := range lab.Scenarios() {
		if !strings.Contains(out, sc.Name+" ") {
			t.Errorf("list lacks %s", sc.Name)
		}
	}
}

// TestNotRoot: without the privilege, one line saying what is needed, exit 2, nothing built.
func TestNotRoot(t *testing.T) {
	old := checkPrivilege
	t.Cleanup(func() { checkPrivilege = old })
	checkPrivilege = func() error { return netns.ErrPrivilege }
	for _, cmd := range [][]string{{"run", "healthy"}, {"up", "healthy"}, {"down"}, {"bench"}} {
		code, out, errs := runCmd(context.Background(), cmd...)
		if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 ||
			!strings.Contains(errs, "root") || !strings.Contains(errs, "CAP_NET_ADMIN") {
			t.Errorf("%v: exit %d stdout %q stderr %q", cmd, code, out, errs)
		}
	}
}

// TestRun runs a scenario through the command: the report, the lab's verdict, exit 0, and no
// namespace left behind.
func TestRun(t *testing.T) {
	code, out, errs := runCmd(context.Background(), "run", "--probe", probeBin, "eni-zone-down")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"SERVICE", "WARN ecr.api", "expectations held", "ok  exit"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if left := ours(t); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}

	// Extra probe flags reach the probe; the expectations then no longer hold, and it says so.
	// With --json, stdout is the JSON report alone; the lab's commentary goes to stderr.
	code, out, errs = runCmd(context.Background(), "run", "--probe", probeBin, "--json", "healthy", "--", "--services", "sts")
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Schema != "vpcprobe/v1" {
		t.Errorf("--json: stdout is not one JSON report (%v):\n%s", err, out)
	}
	if code != exitFail || !strings.Contains(errs, "FAIL  ecr.api") || !strings.Contains(errs, "expectations held") {
		t.Errorf("run with probe flags: exit %d\nstderr:\n%s", code, errs)
	}
}

// TestRunLambdaJoined: `vpclab run --runner lambda --ec2` launches the probe as a Lambda function
// in the lab and prints the launch report joined with the VPC's configuration: under the zone
// that is down, the finding naming its network ACL with the command that fixes it.
func TestRunLambdaJoined(t *testing.T) {
	code, out, errs := runCmd(context.Background(), "run", "--probe", probeBin, "--runner", "lambda", "--ec2", "eni-zone-down")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"runner lambda", "configuration of vpc-", "ecr.api warn tcp timeout", "FAIL nacl-endpoint-blocks-443-in: ecr.api", "in: acl-", "$ aws ec2 create-network-acl-entry"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if left := ours(t); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestClosedPipe runs the vpclab binary with its stdout a pipe whose reader is gone before the
// first line (the strictest "vpclab run x | head -1"): vpclab must not die of SIGPIPE with its
// lab up, and must leave no namespace or file of its own behind.
func TestClosedPipe(t *testing.T) {
	bin := testbin.T(t, testbin.Spec{Pkg: "./cmd/vpclab"})
	for _, args := range [][]string{
		{"run", "--probe", probeBin, "healthy"},
		{"run", "--probe", probeBin, "--json", "healthy"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close() // the reader is gone: every write to stdout is EPIPE
			cmd := exec.Command(bin, args...)
			cmd.Stdout = w
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			pid := cmd.Process.Pid
			left := func() (names, files []string) {
				own := fmt.Sprintf("%s%d", lab.Prefix, pid)
				all, err := netns.List(own)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range all { // vpclab-<pid><letters>-…: not a longer pid's
					if rest := strings.TrimPrefix(n, own); rest != "" && rest[0] >= 'a' && rest[0] <= 'z' {
						names = append(names, n)
					}
				}
				files, _ = filepath.Glob(filepath.Join(os.TempDir(), own+"[a-z]*"))
				return names, files
			}
			// Whatever happens, nothing of that process survives the test (and nothing else
			// is touched).
			t.Cleanup(func() {
				names, files := left()
				for _, n := range names {
					netns.Delete(n)
				}
				for _, f := range files {
					os.RemoveAll(f)
				}
			})
			err = cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				t.Errorf("vpclab was killed by %v (stderr %q)", ws.Signal(), errb.String())
			} else if err != nil && cmd.ProcessState.ExitCode() == exitUsage {
				t.Fatalf("vpclab: %v\n%s", err, errb.String())
			}
			if names, files := left(); len(names) > 0 || len(files) > 0 {
				t.Errorf("left behind: namespaces %v, files %v", names, files)
			}
		})
	}
}

// TestInterrupt: Ctrl-C (the context ending) in the middle of a run removes the lab.
func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, _, errs := runCmd(ctx, "run", "--probe", probeBin, "isolated", "--", "--timeout", "20s", "--deadline", "30s")
	if code != exitFail || !strings.Contains(errs, "interrupted") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the interrupted run took %s", d)
	}
	if left := ours(t); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestBench(t *testing.T) {
	code, out, errs := runCmd(context.Background(), "bench", "--probe", probeBin, "-n", "2", "healthy")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"vpcprobe binary:", "as given by --probe", "peak RSS", "healthy   2"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
}
