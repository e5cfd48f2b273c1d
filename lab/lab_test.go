package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/internal/testbin"
	"github.com/vpcprobe/vpcprobe/report"
)

// probeBin is the vpcprobe binary every test runs, built once by TestMain as it ships.
var probeBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	if err := EnsureTools(ctx, os.Stderr); err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var err error
	probeBin, err = testbin.Path(testbin.Probe) // BuildProbe's build, shared with the other packages
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer closeMoto()
	return m.Run()
}

// startLab starts sc's lab and removes it when the test ends, passed or not.
func startLab(t *testing.T, sc Scenario, opts ...StartOption) *Lab {
	t.Helper()
	if err := netns.Check(); err != nil {
		t.Fatalf("the lab needs root: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := Start(ctx, sc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close lab %s: %v", l.ID, err)
		}
		for _, ns := range []string{l.TaskNS, l.VPCNS, l.InetNS} {
			if _, err := os.Stat(filepath.Join(netns.Dir, ns)); err == nil {
				t.Errorf("namespace %s left behind", ns)
			}
		}
	})
	return l
}

// TestScenarios runs the probe in every scenario's VPC, one after the other (all labs use the
// same addresses inside their namespaces, but one at a time keeps timings honest on 2 cores),
// and checks every expectation: per-service verdict, route, failing check and code, exit
// status, delivery and delivered events, and the time bound.
func TestScenarios(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			l := startLab(t, sc)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r, err := l.RunProbe(ctx, probeBin)
			if err != nil {
				t.Fatal(err)
			}
			schematest.Check(t, r.Stdout) // every scenario's report matches the shipped JSON Schema
			if r.Report != nil {          // its text view says each thing once, within the width
				readsOnce(t, "text", r.Report.TextWidth(false, report.DefaultWidth), report.DefaultWidth)
			}
			outcomes := sc.Judge(r, l.Events())
			for _, o := range outcomes {
				if !o.OK {
					t.Errorf("%s: want %s, got %s", o.What, o.Want, o.Got)
				}
			}
			if t.Failed() {
				t.Logf("probe %s\nstdout: %s\nstderr: %s", strings.Join(r.Args, " "), r.Stdout, r.Stderr)
			}
		})
	}
}

// TestTopology checks the lab's own plumbing with the probe out of the way: the task reaches the
// resolver and the endpoints, the black hole drops, and nothing of the lab exists in the root
// namespace.
func TestTopology(t *testing.T) {
	sc, err := Lookup("healthy")
	if err != nil {
		t.Fatal(err)
	}
	l := startLab(t, sc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	out, err := netns.Run(ctx, l.TaskNS, "cat", "/etc/resolv.conf")
	if err != nil || !strings.Contains(string(out), "nameserver "+ResolverIP) {
		t.Errorf("task resolv.conf: %q, %v", out, err)
	}
	// An endpoint ENI answers from the task; a public address is black-holed (no NAT here).
	c, err := netns.Dial(ctx, l.TaskNS, "tcp4", ENIs("sts")[1].String()+":443")
	if err != nil {
		t.Errorf("dial the sts ENI in the other AZ: %v", err)
	} else {
		c.Close()
	}
	dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = netns.Dial(dctx, l.TaskNS, "tcp4", PublicAddr("sts").String()+":443")
	dcancel()
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("dial a public address from an isolated subnet: %v, want a timeout", err)
	}
	// The root namespace has none of the lab's addresses or links.
	rootAddrs, err := os.ReadFile("/proc/net/fib_trie")
	if err == nil && (strings.Contains(string(rootAddrs), TaskIP) || strings.Contains(string(rootAddrs), "198.51.100.")) {
		t.Errorf("lab addresses visible in the root namespace")
	}
}

// TestLeftovers: a namespace whose owner is gone is removed by the next lab; a live one is not.
func TestLeftovers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Pid 2^22+1 is above the kernel's pid_max ceiling: no process can have it.
	dead := Prefix + "4194305z-task"
	live := Prefix + fmt.Sprint(os.Getpid()) + "zz-task"
	for _, n := range []string{dead, live} {
		if err := netns.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { netns.Delete(n) })
	}
	deadDir := filepath.Join(os.TempDir(), "vpclab-4194305z-123")
	liveDir := filepath.Join(os.TempDir(), fmt.Sprintf("vpclab-%dzz-123", os.Getpid()))
	for _, d := range []string{deadDir, liveDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	// Another test package's lab may remove the dead one first: judge by what exists afterwards.
	if _, err := RemoveLeftovers(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(netns.Dir, dead)); err == nil {
		t.Errorf("%s (owner gone) survived", dead)
	}
	if _, err := os.Stat(filepath.Join(netns.Dir, live)); err != nil {
		t.Errorf("%s (owner alive) was removed", live)
	}
	if _, err := os.Stat(deadDir); err == nil {
		t.Errorf("%s (owner gone) survived", deadDir)
	}
	if _, err := os.Stat(liveDir); err != nil {
		t.Errorf("%s (owner alive) was removed", liveDir)
	}
	if ownerPID("vpclab-123ab-vpc") != 123 || ownerPID("other-1-x") != 0 {
		t.Errorf("ownerPID misparses names")
	}
}

// TestScenarioTable keeps the table well formed: unique names, every network valid, every
// expectation naming services the run will report.
func TestScenarioTable(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range Scenarios() {
		if seen[sc.Name] {
			t.Errorf("duplicate scenario %s", sc.Name)
		}
		seen[sc.Name] = true
		if err := sc.validate(); err != nil {
			t.Error(err)
		}
		if sc.Summary == "" || len(sc.Expect.Services) == 0 || sc.Expect.Within == 0 {
			t.Errorf("%s: summary, services and time bound are required", sc.Name)
		}
	}
	if _, err := Lookup("no-such"); err == nil {
		t.Error("Lookup of an unknown scenario succeeded")
	}
}

func TestSpread(t *testing.T) {
	tests := []struct {
		in   []float64
		want Spread
	}{
		{nil, Spread{}},
		{[]float64{3}, Spread{3, 3, 3}},
		{[]float64{5, 1, 3}, Spread{3, 1, 5}},
		{[]float64{4, 1, 2, 3}, Spread{2.5, 1, 4}},
	}
	for _, tt := range tests {
		if got := spread(tt.in); got != tt.want {
			t.Errorf("spread(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
