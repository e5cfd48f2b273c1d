// Command vpclab builds a simulated AWS VPC out of Linux network namespaces, runs the real
// vpcprobe binary inside it and tears it all down: the project's end-to-end test bed, and a way
// to see a real report on a laptop with no AWS account.
//
//	sudo go run ./cmd/vpclab list
//	sudo go run ./cmd/vpclab run isolated [-- probe flags]
//	sudo go run ./cmd/vpclab up custom-dns      (then, in another terminal, vpclab down)
//	sudo go run ./cmd/vpclab bench -n 20 healthy isolated
//	go run ./cmd/vpclab describe eni-zone-down    (the VPC as the EC2 API shows it; no root)
//
// It needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN), iproute2 and iptables. Everything it
// creates is named vpclab-…; it is removed on exit and on Ctrl-C, and after a crash the next run
// removes what it recognises.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/lab"
)

// Exit statuses.
const (
	exitOK    = 0 // done; for run, every expectation held
	exitFail  = 1 // run: an expectation did not hold; or the lab failed
	exitUsage = 2 // bad usage, or not allowed to build namespaces
)

const usage = `Usage: vpclab COMMAND [flags]

Builds a simulated AWS VPC from network namespaces and runs vpcprobe inside it.

Commands:
  list                              the scenarios, with what each one breaks
  run SCENARIO [-- PROBE FLAGS]     run the probe once; print its report and which expectations held
  run --runner lambda [--ec2] SCENARIO
                                    run "vpcprobe launch --runner lambda" once and print its report; with
                                    --ec2 the launcher also inspects the VPC's configuration (a moto_server)
                                    and the report joins both: the findings that explain each failure
  up SCENARIO                       build the VPC and keep it until Ctrl-C or "vpclab down"
  down                              remove every vpclab namespace (stops a running "up")
  bench [-n N] [SCENARIO...]        run the probe N times per scenario (default: healthy isolated);
                                    print wall time, CPU, peak RSS and the stripped binary size
  bench --runner lambda [--subnets 1,10] [-n N] [SCENARIO]
                                    time "vpcprobe launch --runner lambda" over 1 and 10 subnets
                                    (default: isolated, 5 launches each): concurrent invokes
  describe SCENARIO                 build the scenario's VPC through the EC2 API of a moto_server
                                    and print its ids and what the Describe calls show (no root)

Flags of run, up and bench:
  --probe PATH   a vpcprobe binary to run (default: build ./cmd/vpcprobe stripped, as it ships)
  --json         run: stdout carries only the probe's JSON report, the rest goes to stderr;
                 describe: print the ids and the Describe calls' view as JSON
  --ec2          up: also serve the VPC's configuration through the EC2 API (a moto_server), for
                 vpcprobe inspect and launch; run --runner lambda: the launch inspects it

run, up, down and bench need root (or CAP_NET_ADMIN and CAP_SYS_ADMIN).
`

// checkPrivilege is netns.Check; tests replace it to see the non-root path as root.
var checkPrivilege = netns.Check

func main() {
	// A reader that goes away early (vpclab run x | head -1) must not kill vpclab before it has
	// removed its namespaces and files: with SIGPIPE ignored, a write to the closed pipe returns
	// EPIPE (which out swallows) instead of ending the process.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	out := &outWriter{w: os.Stdout}
	code := run(ctx, os.Args[1:], out, os.Stderr)
	stop()
	if out.err != nil && !errors.Is(out.err, syscall.EPIPE) {
		fmt.Fprintf(os.Stderr, "vpclab: writing the output: %v\n", out.err)
		if code == exitOK {
			code = exitFail
		}
	}
	os.Exit(code)
}

// outWriter is stdout that remembers its first write error and drops everything after it, so
// that a closed pipe changes nothing of what vpclab does, its cleanup above all.
type outWriter struct {
	w   io.Writer
	err error
}

func (o *outWriter) Write(p []byte) (int, error) {
	if o.err == nil {
		_, o.err = o.w.Write(p)
	}
	return len(p), nil
}

// run is the command behind a testable signature. Every path returns through it, so the labs
// it starts are closed by its defers, on Ctrl-C too (ctx ends, the probe is killed, Close runs).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, rest := args[0], args[1:]
	fs := pflag.NewFlagSet("vpclab "+cmd, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	probePath := fs.String("probe", "", "vpcprobe binary to run")
	asJSON := fs.Bool("json", false, "print the probe's JSON report")
	n := fs.IntP("n", "n", 20, "runs per scenario")
	runner := fs.String("runner", "task", "run, bench: task (the probe in the task namespace) or lambda (launch --runner lambda)")
	subnets := fs.IntSlice("subnets", []int{1, 10}, "bench --runner lambda: subnet counts to compare")
	withEC2 := fs.Bool("ec2", false, "up, run --runner lambda: serve the VPC's configuration through the EC2 API")
	if err := fs.Parse(rest); err != nil {
		fmt.Fprintf(stderr, "vpclab %s: %v (see vpclab --help)\n", cmd, err)
		return exitUsage
	}
	operands, probeArgs := fs.Args(), []string(nil)
	if dash := fs.ArgsLenAtDash(); dash >= 0 {
		operands, probeArgs = fs.Args()[:dash], fs.Args()[dash:]
	}

	switch cmd {
	case "list":
		return list(stdout)
	case "run", "up", "describe":
		if len(operands) != 1 {
			fmt.Fprintf(stderr, "vpclab %s: name one scenario (vpclab list shows them)\n", cmd)
			return exitUsage
		}
		if cmd == "run" && *runner != "task" && *runner != "lambda" {
			fmt.Fprintf(stderr, "vpclab run: --runner %q: must be task or lambda\n", *runner)
			return exitUsage
		}
	case "bench":
		if *runner != "task" && *runner != "lambda" {
			fmt.Fprintf(stderr, "vpclab bench: --runner %q: must be task or lambda\n", *runner)
			return exitUsage
		}
		if *n < 1 {
			fmt.Fprintf(stderr, "vpclab bench: -n %d: must be at least 1\n", *n)
			return exitUsage
		}
	case "down":
	default:
		fmt.Fprintf(stderr, "vpclab: unknown command %q (see vpclab --help)\n", cmd)
		return exitUsage
	}
	var scs []lab.Scenario
	for _, name := range operands {
		sc, err := lab.Lookup(name)
		if err != nil {
			fmt.Fprintf(stderr, "vpclab %s: %v\n", cmd, err)
			return exitUsage
		}
		scs = append(scs, sc)
	}
	if cmd == "describe" {
		return describe(ctx, scs[0], *asJSON, stdout, stderr)
	}
	if err := checkPrivilege(); err != nil {
		if errors.Is(err, netns.ErrPrivilege) {
			fmt.Fprintf(stderr, "vpclab: %s needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) to build network namespaces: run it with sudo\n", cmd)
		} else {
			fmt.Fprintf(stderr, "vpclab: %v\n", err)
		}
		return exitUsage
	}
	if cmd != "down" {
		if err := lab.EnsureTools(ctx, stderr); err != nil {
			fmt.Fprintf(stderr, "vpclab: %v\n", err)
			return exitUsage
		}
	}

	if cmd == "down" {
		removed, err := lab.RemoveLeftovers(true)
		for _, name := range removed {
			fmt.Fprintf(stdout, "removed %s\n", name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "vpclab down: %v\n", err)
			return exitFail
		}
		if len(removed) == 0 {
			fmt.Fprintln(stdout, "no vpclab namespaces")
		}
		return exitOK
	}

	bin, cleanup, size, err := probeBinary(ctx, *probePath)
	if err != nil {
		fmt.Fprintf(stderr, "vpclab: %v\n", err)
		return exitFail
	}
	defer cleanup()

	switch cmd {
	case "run":
		if *runner == "lambda" {
			return runLambda(ctx, scs[0], bin, *withEC2, *asJSON, stdout, stderr)
		}
		return runOnce(ctx, scs[0], bin, probeArgs, *asJSON, stdout, stderr)
	case "up":
		return up(ctx, scs[0], bin, *withEC2, stdout, stderr)
	}
	if *runner == "lambda" {
		if !fs.Changed("n") {
			*n = 5
		}
		if len(scs) == 0 {
			sc, _ := lab.Lookup("isolated")
			scs = append(scs, sc)
		}
		return benchLambda(ctx, scs[0], bin, *subnets, *n, stdout, stderr)
	}
	if len(scs) == 0 {
		for _, name := range []string{"healthy", "isolated"} {
			sc, _ := lab.Lookup(name)
			scs = append(scs, sc)
		}
	}
	return bench(ctx, scs, bin, size, *probePath == "", *n, probeArgs, stdout, stderr)
}

// list prints the scenarios.
func list(w io.Writer) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, sc := range lab.Scenarios() {
		fmt.Fprintf(tw, "%s\t%s\n", sc.Name, sc.Summary)
	}
	tw.Flush()
	return exitOK
}

// probeBinary returns the probe to run: path as given, or a fresh stripped build in a temporary
// directory that cleanup removes. size is the binary's size in bytes.
func probeBinary(ctx context.Context, path string) (bin string, cleanup func(), size int64, err error) {
	cleanup = func() {}
	if path == "" {
		dir, err := os.MkdirTemp("", "vpclab-probe-")
		if err != nil {
			return "", cleanup, 0, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		if path, err = lab.BuildProbe(ctx, dir); err != nil {
			cleanup()
			return "", func() {}, 0, err
		}
	}
	if path, err = filepath.Abs(path); err != nil {
		cleanup()
		return "", func() {}, 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		cleanup()
		return "", func() {}, 0, fmt.Errorf("--probe: %w", err)
	}
	return path, cleanup, st.Size(), nil
}

// runOnce runs the probe once in sc's lab and prints its report and the lab's verdict. With
// asJSON, stdout carries the probe's JSON report alone and everything else goes to stderr.
func runOnce(ctx context.Context, sc lab.Scenario, bin string, probeArgs []string, asJSON bool, stdout, stderr io.Writer) int {
	l, err := lab.Start(ctx, sc)
	if err != nil {
		return failed(ctx, err, stderr)
	}
	defer l.Close()
	r, err := l.RunProbe(ctx, bin, probeArgs...)
	if err != nil || ctx.Err() != nil {
		return failed(ctx, err, stderr)
	}
	report := stdout
	if asJSON {
		stdout = stderr // the rest of this function is commentary
	}
	fmt.Fprintf(stdout, "vpclab: scenario %s: %s\n", sc.Name, sc.Summary)
	fmt.Fprintf(stdout, "vpclab: vpcprobe %s (exit %d, %s)\n\n", strings.Join(r.Args, " "), r.Exit, r.Wall.Round(time.Millisecond))
	switch {
	case r.Report != nil && !asJSON:
		stdout.Write(r.Report.Text(false))
	case r.Report != nil:
		report.Write(r.Stdout) // the probe's own JSON document, as it printed it
	default:
		stdout.Write(r.Stdout)
	}
	if len(r.Stderr) > 0 {
		fmt.Fprintf(stdout, "\nprobe stderr:\n%s", r.Stderr)
	}
	outcomes := sc.Judge(r, l.Events())
	held := 0
	for _, o := range outcomes {
		if o.OK {
			held++
		}
	}
	fmt.Fprintf(stdout, "\nlab verdict: %d of %d expectations held\n", held, len(outcomes))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, o := range outcomes {
		if o.OK {
			fmt.Fprintf(tw, "  ok\t%s\t%s\n", o.What, o.Got)
		} else {
			fmt.Fprintf(tw, "  FAIL\t%s\twant %s, got %s\n", o.What, o.Want, o.Got)
		}
	}
	tw.Flush()
	if !lab.Met(outcomes) {
		if len(probeArgs) > 0 {
			fmt.Fprintln(stdout, "(extra probe flags change what the report says; the expectations are for the scenario's own flags)")
		}
		return exitFail
	}
	return exitOK
}

// runLambda runs `vpcprobe launch --runner lambda` once in sc's lab and prints the launch
// report: text, or with asJSON the launcher's JSON alone on stdout. With withEC2 the lab describes
// its VPC to a moto_server, the launch probes the described task subnet and inspects it, and the
// report joins the live result with the configuration. The exit status is the launcher's.
func runLambda(ctx context.Context, sc lab.Scenario, bin string, withEC2, asJSON bool, stdout, stderr io.Writer) int {
	var opts []lab.StartOption
	if withEC2 {
		opts = append(opts, lab.WithEC2(""))
	}
	l, err := lab.Start(ctx, sc, opts...)
	if err != nil {
		return failed(ctx, err, stderr)
	}
	defer l.Close()
	subnets := lab.Subnets(1)
	if withEC2 {
		subnets = []string{l.VPCIDs().TaskSubnet}
	}
	var extra []string
	if !asJSON {
		extra = []string{"--output", "text"}
	}
	r, err := l.LaunchLambda(ctx, bin, subnets, extra...)
	if err != nil || ctx.Err() != nil {
		return failed(ctx, err, stderr)
	}
	fmt.Fprintf(stderr, "vpclab: scenario %s: %s\nvpclab: vpcprobe %s (exit %d, %s)\n%s",
		sc.Name, sc.Summary, strings.Join(r.Args, " "), r.Exit, r.Wall.Round(time.Millisecond), r.Stderr)
	stdout.Write(r.Stdout)
	return r.Exit
}

// failed reports err in one line, or that Ctrl-C interrupted the work (what was built is
// removed by the caller's deferred Close), and returns the exit status.
func failed(ctx context.Context, err error, stderr io.Writer) int {
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "vpclab: interrupted; lab removed")
	} else {
		fmt.Fprintf(stderr, "vpclab: %v\n", err)
	}
	return exitFail
}

// up builds sc's lab and keeps it until Ctrl-C, SIGTERM or `vpclab down` removes it.
func up(ctx context.Context, sc lab.Scenario, bin string, withEC2 bool, stdout, stderr io.Writer) int {
	var opts []lab.StartOption
	if withEC2 {
		opts = append(opts, lab.WithEC2(""))
	}
	l, err := lab.Start(ctx, sc, opts...)
	if err != nil {
		return failed(ctx, err, stderr)
	}
	defer l.Close()
	script, err := writeProbeScript(l, bin)
	if err != nil {
		fmt.Fprintf(stderr, "vpclab: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "vpclab: scenario %s is up as lab %s: %s\n\n", sc.Name, l.ID, sc.Summary)
	fmt.Fprintf(stdout, "  run the probe:   sudo %s --output text   (the probe's own flags work)\n", script)
	fmt.Fprintf(stdout, "  task shell:      sudo ip netns exec %s bash\n", l.TaskNS)
	fmt.Fprintf(stdout, "  router filters:  sudo ip netns exec %s iptables-save\n", l.VPCNS)
	fmt.Fprintf(stdout, "  remove it:       Ctrl-C here, or sudo vpclab down\n")
	if withEC2 {
		ids := l.VPCIDs()
		fmt.Fprintf(stdout, "  EC2 API:         %s (moto_server; the VPC's configuration)\n", l.EC2Endpoint())
		fmt.Fprintf(stdout, "  inspect it:      env %s vpcprobe inspect --subnet %s --security-groups %s\n",
			strings.Join(l.AWSEnv(), " "), ids.TaskSubnet, ids.TaskGroup)
		writeIDs(stdout, ids)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "router packet filter:\n%s\n", indent(l.Rules(ctx)))

	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "vpclab: removing the lab")
			return exitOK
		case <-tick.C:
			if !l.Alive() {
				fmt.Fprintln(stdout, "vpclab: the lab's namespaces were removed (vpclab down); stopping")
				return exitOK
			}
		}
	}
}

// writeProbeScript writes a script that runs the probe in the lab's task namespace with the
// task's environment, and returns its path.
func writeProbeScript(l *lab.Lab, bin string) (string, error) {
	// The probe binary may sit in a temporary directory removed at exit: copy it next to the
	// script, which lives as long as the lab.
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	labBin := filepath.Join(l.Dir, "vpcprobe")
	if err := os.WriteFile(labBin, data, 0o755); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# vpcprobe inside vpclab %s (scenario %s), with the task's environment.\n", l.ID, l.Scenario.Name)
	fmt.Fprintf(&b, "exec ip netns exec %s env -i", l.TaskNS)
	for _, kv := range l.Env() {
		fmt.Fprintf(&b, " \\\n  '%s'", kv)
	}
	fmt.Fprintf(&b, " \\\n  %s \"$@\"\n", labBin)
	path := filepath.Join(l.Dir, "probe.sh")
	if err := os.WriteFile(path, []byte(b.String()), 0o755); err != nil {
		return "", err
	}
	return path, nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// bench runs each scenario n times and prints the spreads and the binary size.
func bench(ctx context.Context, scs []lab.Scenario, bin string, size int64, built bool, n int, probeArgs []string, stdout, stderr io.Writer) int {
	how := "as given by --probe"
	if built {
		how = "stripped: go build -trimpath -ldflags='-s -w'"
	}
	fmt.Fprintf(stdout, "vpcprobe binary: %.1f MiB (%d bytes, %s)\n", float64(size)/(1<<20), size, how)
	fmt.Fprintf(stdout, "%d runs per scenario after one warm-up; median (min … max); wall time includes ip netns exec\n\n", n)
	var results []lab.BenchResult
	for _, sc := range scs {
		res, err := lab.Bench(ctx, bin, sc, n, probeArgs...)
		if err != nil {
			return failed(ctx, fmt.Errorf("bench %s: %w", sc.Name, err), stderr)
		}
		results = append(results, res)
	}
	lab.WriteBench(stdout, results)
	return exitOK
}

// benchLambda times Lambda launches of sc over each subnet count.
func benchLambda(ctx context.Context, sc lab.Scenario, bin string, counts []int, n int, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "vpcprobe launch --runner lambda in %s: %d launches per subnet count after one warm-up; median (min … max)\n", sc.Name, n)
	fmt.Fprintf(stdout, "each launch zips the launcher, creates one function per subnet, waits for Active, invokes all at once, deletes them\n\n")
	results, err := lab.BenchLambda(ctx, bin, sc, counts, n)
	if err != nil {
		return failed(ctx, fmt.Errorf("bench --runner lambda %s: %w", sc.Name, err), stderr)
	}
	lab.WriteLambdaBench(stdout, results)
	return exitOK
}
