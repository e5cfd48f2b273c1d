package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/internal/testbin"
)

// Sidecar mode (--every) is about a process's life: rounds over time, signals, memory. These
// tests therefore run the real binary, built once into the test's temporary directory.

// TestEvery runs the sidecar-mode tests, in parallel, on one build of the command.
func TestEvery(t *testing.T) {
	bin := everyBuild(t)
	for _, tc := range []struct {
		name string
		test func(t *testing.T, bin string)
	}{
		{"rounds", everyRounds},
		{"stop while waiting", everyStopWhileWaiting},
		{"SIGTERM finishes the round in flight", everySIGTERMFinishesRoundInFlight},
		{"memory flat", everyMemoryFlat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, bin)
		})
	}
}

// everyBuild builds the command into a temporary directory and returns the binary's path.
func everyBuild(t *testing.T) string {
	t.Helper()
	// Rounds of milliseconds: the tests lower --every's minimum (10s in a release).
	return testbin.T(t, testbin.Spec{Pkg: "./cmd/vpcprobe", Flags: []string{"-trimpath", "-ldflags=-s -w -X main.minEvery=10ms"},
		Env: []string{"CGO_ENABLED=0"}})
}

// everyEnv is the whole environment of a test run: no metadata endpoint, fake credentials.
func everyEnv(extra ...string) []string {
	return append([]string{
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=AKIDTEST",
		"AWS_SECRET_ACCESS_KEY=secret",
	}, extra...)
}

// everyReport is what the tests read of each round's report.
type everyReport struct {
	Schema    string `json:"schema"`
	RunID     string `json:"run_id"`
	Verdict   string `json:"verdict"`
	StartedAt string `json:"started_at"`
	Duration  int64  `json:"duration_ms"`
	Services  []struct {
		Service string `json:"service"`
		Verdict string `json:"verdict"`
		Checks  []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"checks"`
	} `json:"services"`

	at time.Time // when the test read it
}

var everyRunID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// complete reports why r is not a whole report of n services, or "" when it is: every service
// ran its four network checks, and the authenticated ones after them, to an end of their own (no
// "deadline": the round was not cut short).
func (r everyReport) complete(n int) string {
	switch {
	case r.Schema != "vpcprobe/v1" || !everyRunID.MatchString(r.RunID):
		return fmt.Sprintf("schema %q run_id %q", r.Schema, r.RunID)
	case len(r.Services) != n:
		return fmt.Sprintf("%d services, want %d", len(r.Services), n)
	}
	for _, s := range r.Services {
		if len(s.Checks) < 4 {
			return fmt.Sprintf("%s: %d checks", s.Service, len(s.Checks))
		}
		for _, c := range s.Checks {
			if c.Error == "deadline" {
				return fmt.Sprintf("%s: %s cut by the deadline", s.Service, c.Name)
			}
		}
	}
	return ""
}

func (r everyReport) started(t *testing.T) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, r.StartedAt)
	if err != nil {
		t.Fatalf("started_at %q: %v", r.StartedAt, err)
	}
	return ts
}

// everyProc is a running vpcprobe --every.
type everyProc struct {
	cmd     *exec.Cmd
	reports chan everyReport // one per line of stdout; closed at EOF
	stderr  bytes.Buffer
	done    chan struct{} // closed when the process has exited
	state   *os.ProcessState
}

// everyStart starts bin with args and env, inside network namespace ns unless it is empty.
func everyStart(t *testing.T, bin, ns string, env []string, args ...string) *everyProc {
	t.Helper()
	p := &everyProc{reports: make(chan everyReport, 1024), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := p.cmd.Start
	if ns != "" {
		start = func() error { return netns.Do(ns, p.cmd.Start) } // the child inherits the thread's namespace
	}
	if err := start(); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(p.reports)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			var r everyReport
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				r.Schema = "not JSON: " + sc.Text()
			} else if err := schematest.Validate(sc.Bytes()); err != nil {
				r.Schema = "not the shipped schema: " + err.Error() // every round's report is validated
			}
			r.at = time.Now()
			p.reports <- r
		}
	}()
	go func() {
		// Wait closes stdout, so it must wait for the reader to have seen EOF: the last report
		// is the one the SIGTERM tests are about.
		<-readDone
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// next returns the next report, failing the test when none comes within wait.
func (p *everyProc) next(t *testing.T, wait time.Duration) everyReport {
	t.Helper()
	select {
	case r, ok := <-p.reports:
		if !ok {
			t.Fatalf("stdout ended; stderr: %s", p.stderr.String())
		}
		return r
	case <-time.After(wait):
		t.Fatalf("no report within %s; stderr: %s", wait, p.stderr.String())
	}
	return everyReport{}
}

// stop sends SIGTERM and returns the reports printed after it and the exit status. The process
// must end within wait: generous, the test is not about speed.
func (p *everyProc) stop(t *testing.T, wait time.Duration) ([]everyReport, int) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(wait):
		t.Fatalf("still running %s after SIGTERM", wait)
	}
	var rest []everyReport
	for r := range p.reports {
		rest = append(rest, r)
	}
	return rest, p.state.ExitCode()
}

// everyRounds: rounds come every --every, each a whole report with its own run_id, and
// SIGTERM ends the process with exit 0 even though every round failed.
func everyRounds(t *testing.T, bin string) {
	resolver := awstest.Resolver(t, fakedns.NewZone()) // NXDOMAIN for all: fast, complete rounds
	p := everyStart(t, bin, "", everyEnv(),
		"--every", "200ms", "--resolver", resolver, "--amazon-dns", "", "--region", "eu-west-1",
		"--account", "123456789012", "--output", "json", "--timeout", "1s", "--deadline", "5s")

	seen := map[string]bool{}
	var prev time.Time
	for i := range 4 {
		r := p.next(t, 10*time.Second)
		if why := r.complete(defaultCount); why != "" {
			t.Fatalf("round %d: %s", i, why)
		}
		if r.Verdict != "fail" || r.Services[0].Checks[0].Error != "nxdomain" {
			t.Errorf("round %d: verdict %q, first check %+v", i, r.Verdict, r.Services[0].Checks[0])
		}
		if seen[r.RunID] {
			t.Errorf("round %d repeats run_id %s", i, r.RunID)
		}
		seen[r.RunID] = true
		// A timer never fires early: rounds start at least --every apart (less a millisecond
		// of started_at's rounding).
		if s := r.started(t); i > 0 && s.Sub(prev) < 199*time.Millisecond {
			t.Errorf("round %d started %s after the previous one, want at least 200ms", i, s.Sub(prev))
		}
		prev = r.started(t)
	}

	rest, code := p.stop(t, 10*time.Second)
	if code != 0 || p.stderr.Len() != 0 {
		t.Errorf("after SIGTERM: exit %d, stderr %q; want 0 and nothing", code, p.stderr.String())
	}
	// SIGTERM may have landed during a round: that round still reports, whole.
	if len(rest) > 1 {
		t.Errorf("%d reports after SIGTERM, want at most the round in flight", len(rest))
	}
	for _, r := range rest {
		if why := r.complete(defaultCount); why != "" || seen[r.RunID] {
			t.Errorf("report after SIGTERM: %s (run_id %s)", why, r.RunID)
		}
	}
}

// everyStopWhileWaiting: SIGTERM between rounds ends the waiting at once; no new round.
func everyStopWhileWaiting(t *testing.T, bin string) {
	resolver := awstest.Resolver(t, fakedns.NewZone())
	p := everyStart(t, bin, "", everyEnv(),
		"--every", "1h", "--resolver", resolver, "--amazon-dns", "", "--region", "eu-west-1",
		"--services", "sts", "--output", "json", "--timeout", "1s", "--deadline", "5s")
	if why := p.next(t, 10*time.Second).complete(1); why != "" {
		t.Fatal(why)
	}
	rest, code := p.stop(t, 10*time.Second) // far less than the hour it was waiting for
	if code != 0 || len(rest) != 0 || p.stderr.Len() != 0 {
		t.Errorf("exit %d, %d more reports, stderr %q; want 0, none, nothing", code, len(rest), p.stderr.String())
	}
}

// everySIGTERMFinishesRoundInFlight: a SIGTERM in the middle of a round lets it finish and
// report in full — every check ran to its own end, none was cut by a deadline — then exit 0.
func everySIGTERMFinishesRoundInFlight(t *testing.T, bin string) {
	zone := fakedns.NewZone()
	zone.Silence(true) // every DNS check waits out its --timeout: rounds of about a second
	resolver := awstest.Resolver(t, zone)
	p := everyStart(t, bin, "", everyEnv(),
		"--every", "200ms", "--resolver", resolver, "--amazon-dns", "", "--region", "eu-west-1",
		"--account", "123456789012", "--output", "json", "--timeout", "1s", "--deadline", "4s")

	first := p.next(t, 15*time.Second)
	if why := first.complete(defaultCount); why != "" {
		t.Fatalf("first round: %s", why)
	}
	// A round outlasts --every, so the next one started as the first ended; a moment later it is
	// surely in flight (it waits a whole second on the silent resolver).
	time.Sleep(300 * time.Millisecond)
	signalled := time.Now()
	rest, code := p.stop(t, 15*time.Second)
	if code != 0 || p.stderr.Len() != 0 {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, p.stderr.String())
	}
	if len(rest) != 1 {
		for _, r := range append([]everyReport{first}, rest...) {
			t.Logf("report run_id %s started %s took %dms, read at %s", r.RunID, r.StartedAt, r.Duration, r.at.UTC().Format(time.RFC3339Nano))
		}
		t.Fatalf("%d reports after SIGTERM (at %s), want exactly the round that was in flight", len(rest), signalled.UTC().Format(time.RFC3339Nano))
	}
	r := rest[0]
	if why := r.complete(defaultCount); why != "" {
		t.Errorf("round in flight: %s", why)
	}
	if r.RunID == first.RunID || !r.started(t).Before(signalled) {
		t.Errorf("the report after SIGTERM (run_id %s, started %s) is not the round in flight at %s", r.RunID, r.StartedAt, signalled.UTC().Format(time.RFC3339Nano))
	}
	for _, s := range r.Services {
		if s.Checks[0].Error != "dns-timeout" {
			t.Errorf("%s: dns %q, want dns-timeout: the check ran to its own end", s.Service, s.Checks[0].Error)
		}
	}
}

// everyMemoryFlat: many full rounds — DNS, TCP, TLS and HTTP to a server on port 443 of a
// private network namespace — leave the process's resident memory, open descriptors and threads
// where they were after the first rounds. A transport, connection or goroutine kept per round
// shows here long before a sidecar runs out of its 128 MiB.
func everyMemoryFlat(t *testing.T, bin string) {
	// The fake AWS, so that the authenticated checks pass with everyEnv's credentials.
	front := awstest.InNetns(t, fmt.Sprintf("vpcprobe-every-%d", os.Getpid()), nil, fakeaws.New(fakeaws.DefaultConfig()))
	p := everyStart(t, bin, front.Netns, everyEnv("AWS_CA_BUNDLE="+front.CAFile),
		"--every", "50ms", "--resolver", awstest.NetnsResolver, "--amazon-dns", "", "--region", "eu-west-1",
		"--account", "123456789012", "--output", "json", "--timeout", "2s", "--deadline", "10s")

	const warm, rounds = 15, 80
	type sample struct{ rss, fds, threads int }
	var early, late sample // over rounds warm..2*warm and rounds-warm..rounds: the largest RSS, the fewest fds and threads
	seen := map[string]bool{}
	for i := 1; i <= rounds; i++ {
		r := p.next(t, 15*time.Second)
		if why := r.complete(defaultCount); why != "" || r.Verdict != "pass" || seen[r.RunID] {
			t.Fatalf("round %d: verdict %q, %s, run_id %s (repeated: %v)", i, r.Verdict, why, r.RunID, seen[r.RunID])
		}
		seen[r.RunID] = true
		var s sample
		s.rss, s.threads = everyStatus(t, p.cmd.Process.Pid)
		s.fds = everyFDs(t, p.cmd.Process.Pid)
		target := (*sample)(nil)
		switch {
		case i >= warm && i < 2*warm:
			target = &early
		case i > rounds-warm:
			target = &late
		}
		if target != nil {
			// Descriptors and threads: the fewest of the window. A sample may fall inside the
			// next round (it starts 50ms after this one did, at once on a loaded machine), whose
			// connections are open for a moment; what is kept per round raises even the fewest.
			if target.fds == 0 {
				target.fds, target.threads = s.fds, s.threads
			}
			target.rss, target.fds, target.threads = max(target.rss, s.rss), min(target.fds, s.fds), min(target.threads, s.threads)
		}
	}
	t.Logf("after rounds %d-%d: VmRSS %d KiB, %d fds, %d threads; after rounds %d-%d: VmRSS %d KiB, %d fds, %d threads",
		warm, 2*warm, early.rss, early.fds, early.threads, rounds-warm, rounds, late.rss, late.fds, late.threads)
	if late.rss > early.rss+4<<10 {
		t.Errorf("VmRSS grew from %d KiB to %d KiB over %d rounds", early.rss, late.rss, rounds-2*warm)
	}
	if late.fds > early.fds+2 {
		t.Errorf("open descriptors grew from %d to %d: something is kept open per round", early.fds, late.fds)
	}
	if late.threads > early.threads+2 {
		t.Errorf("threads grew from %d to %d", early.threads, late.threads)
	}
	if _, code := p.stop(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}

// everyStatus returns VmRSS (KiB) and Threads from /proc/<pid>/status.
func everyStatus(t *testing.T, pid int) (rss, threads int) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.Atoi(f[1])
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	if rss == 0 || threads == 0 {
		t.Fatalf("/proc/%d/status without VmRSS or Threads", pid)
	}
	return rss, threads
}

// everyFDs returns how many descriptors the process has open.
func everyFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// defaultCount is how many services a run with the default --services reports.
var defaultCount = len(strings.Split(catalogue.DefaultServices, ","))
