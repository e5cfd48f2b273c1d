// Command vpcprobe tells why an ECS or Fargate task in a private subnet cannot reach the AWS
// services it needs, and what to change. This file is the wiring: flags in, a probe run, the
// report out, the exit status decided here and nowhere else.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
)

// Exit statuses of CONTRACT.md.
const (
	exitOK    = 0 // every service passed or warned, and a requested delivery succeeded
	exitFail  = 1 // a service failed, or a requested delivery failed
	exitUsage = 2 // bad usage or configuration; no report
	// exitUntested is "could not test": nothing was measured (a permission or an AWS call
	// failed first, no credentials, every service skipped); one line names the cause.
	exitUntested = 3
)

func main() {
	if inLambda(envLookup) { // lambda.go: the same binary as a Lambda function's bootstrap
		os.Exit(runLambda(envLookup, os.Stderr))
	}
	os.Exit(world{environ: os.Environ}.run(os.Args[1:], envLookup, os.Stdout, os.Stderr))
}

// world is what a run takes from its surroundings beyond its arguments and environment: a
// real run uses the zero value; tests inject their loopback world here instead of patching
// globals, so that they can run in parallel.
type world struct {
	// environ lists the environment as NAME=VALUE, for the warning about VPCPROBE_* variables
	// vpcprobe does not read; nil warns about none.
	environ func() []string
	// resolvConf is where the system's resolvers are read from; empty means /etc/resolv.conf.
	resolvConf string
	// adjustProber, when set, edits every Prober before it runs: tests point it at their
	// loopback world (the port of their server).
	adjustProber func(*probe.Prober)
	// tuneLauncher, when set, adjusts either runner's shared settings before it runs: tests
	// shorten its polls; reportWait, when positive, is the ECS runner's wait for a report.
	tuneLauncher func(*launch.Shared)
	reportWait   time.Duration
}

// run is the whole program behind a testable signature, in the real world (but for the
// environment's listing: see world.environ).
func run(args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	return world{}.run(args, getenv, stdout, stderr)
}

// run is the whole program in world w.
func (w world) run(args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	var sub *subcommand
	if len(args) > 0 {
		sub = findSubcommand(args[0])
	}
	if w.environ != nil {
		warnUnknownEnv(w.environ(), sub, stderr)
	}
	if len(args) > 0 {
		if args[0] == "help" {
			return w.help(args[1:], getenv, stdout, stderr)
		}
		if sub != nil {
			return sub.run(w, args[1:], getenv, stdout, stderr)
		}
		if err := unknownSubcommand(args[0]); err != nil { // typo.go
			fmt.Fprintf(stderr, "vpcprobe: %v\n", err)
			return exitUsage
		}
	}
	started := time.Now()
	o, err := parseArgs(args, getenv, stdout)
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	if o != nil {
		o.resolvConf = w.resolvConf
	}
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe: %v\n", err)
		return exitUsage
	}
	if o.version {
		fmt.Fprintln(stdout, versionLine(buildStamp()))
		return exitOK
	}

	// Task metadata comes first: it may name the region. Bounded by one step, and never fatal.
	var meta probe.Metadata
	var metaErr error
	if uri, ok := getenv("ECS_CONTAINER_METADATA_URI_V4"); ok && uri != "" {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		// The metadata endpoint is link-local: never through a proxy.
		meta, metaErr = probe.FetchMetadata(ctx, &http.Client{Transport: &http.Transport{}}, uri)
		cancel()
	}
	if o.subnetCIDR != "" {
		meta.SubnetCIDR = o.subnetCIDR
	}
	if o.subnetIPv6CIDR != "" {
		meta.IPv6SubnetCIDR = o.subnetIPv6CIDR
	}
	// Without task metadata this may be an ECS container instance: its agent's cluster, and
	// instance metadata (instance.go).
	var agent probe.AgentConfig
	var instance func(context.Context) (probe.Instance, error)
	metaRegion := meta.Region()
	if meta.TaskARN == "" && metaErr == nil {
		agent, _ = probe.ReadAgentConfig(o.ecsConfig)
		instance, metaRegion = instanceSource(getenv, o, metaRegion)
	}
	cfg, err := o.config(getenv, metaRegion, meta.Account())
	if err == nil && o.forTaskDefinition != "" {
		cfg, err = o.withTaskDefinition(cfg, getenv, metaRegion, meta.Account(), stderr)
	}
	if errors.Is(err, needs.ErrUnreadable) {
		fmt.Fprintf(stderr, "vpcprobe: could not test: %v\n", err)
		return exitUntested
	}
	if err != nil {
		err = fromEnv(err, o.fs)
		fmt.Fprintf(stderr, "vpcprobe: %v\n", err)
		return exitUsage
	}
	cfg.ECSCluster, cfg.ECSClusterDefaulted = agent.Cluster, agent.Defaulted
	cfg.Version = buildStamp().Version
	if cfg.LogGroup != "" && cfg.LogStream == "" {
		cfg.LogStream = probe.DefaultStream(meta, started)
	}
	caBundle, _ := getenv("AWS_CA_BUNDLE")
	roots, err := checks.LoadRoots(caBundle)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe: AWS_CA_BUNDLE: %v\n", err)
		return exitUsage
	}
	proxy := proxyFrom(getenv)
	newProber := func() *probe.Prober {
		p := &probe.Prober{Config: cfg, Roots: roots, Proxy: proxy, Metadata: meta, MetaErr: metaErr, Instance: instance}
		if w.adjustProber != nil {
			w.adjustProber(p)
		}
		p.UseAWS(context.Background(), getenv)
		return p
	}
	printed := outputFor(o.output, stdout, getenv)
	noted := false
	out := func(rep *report.Report) {
		printed(rep)
		if !noted && probe.WithoutCredentials(rep) { // once, also in sidecar mode
			noted = true
			fmt.Fprintln(stderr, "vpcprobe: no AWS credentials: network checks only; pass --no-auth to silence")
		}
	}

	if o.every == 0 {
		rep := probeOnce(newProber(), started)
		out(rep)
		if why := probe.Unmeasured(rep); why != "" {
			fmt.Fprintf(stderr, "vpcprobe: could not test: %s\n", why)
			return exitUntested
		}
		if rep.Failed() {
			return exitFail
		}
		return exitOK
	}

	// Sidecar mode: a round in flight always finishes; SIGTERM only stops the waiting.
	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	for round := 1; ; round++ {
		p := newProber()
		if cfg.RunID != "" {
			p.RunID = fmt.Sprintf("%s-%d", cfg.RunID, round)
		}
		rep := probeOnce(p, started)
		out(rep)
		// A round that outlasted --every leaves a timer that is ready at once, and select
		// chooses at random among ready cases: look for a signal first.
		if stop.Err() != nil {
			return exitOK
		}
		select {
		case <-stop.Done():
			return exitOK
		case <-time.After(time.Until(started.Add(o.every))):
		}
		started = time.Now()
	}
}

// help is "vpcprobe help [SUBCOMMAND]": the help of the probe or of a subcommand, exit 0.
func (w world) help(args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" {
		_, err := parseArgs([]string{"--help"}, getenv, stdout)
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if sc := findSubcommand(args[0]); sc != nil {
		return sc.run(w, []string{"--help"}, getenv, stdout, stderr)
	}
	fmt.Fprintf(stderr, "vpcprobe help: %v\n", noSubcommand(args[0]))
	return exitUsage
}

// subcommand is one "vpcprobe NAME": a new subcommand registers in subcommands, in one entry.
type subcommand struct {
	name    string
	summary string // one line for the probe's --help
	// flags returns the subcommand's flag set writing help to out: its variables (for the
	// unknown-variable warning) and its help.
	flags func(out io.Writer) *pflag.FlagSet
	run   func(w world, args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int
}

// subcommands are vpcprobe's subcommands, in the order --help lists them.
func subcommands() []subcommand {
	return []subcommand{
		{"launch", "run the probe in each of several subnets (an ECS task, or a Lambda function where no image can be pulled) and combine the reports",
			func(out io.Writer) *pflag.FlagSet { return newLaunchFlags(&launchOptions{}, out) }, world.runLaunch},
		{"explain-stopped", "explain why an ECS task stopped, in the probe's terms",
			func(out io.Writer) *pflag.FlagSet { return newExplainFlags(&explainOptions{}, out) },
			func(_ world, args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
				return runExplain(args, getenv, stdout, stderr)
			}},
		{"inspect", "read the VPC's configuration and say what in it breaks each service's path",
			func(out io.Writer) *pflag.FlagSet { return newInspectFlags(&inspectOptions{}, out) },
			func(_ world, args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
				return runInspect(args, getenv, stdout, stderr) // in inspect.go
			}},
		{"version", "print the version, the commit and the build date (as --version)",
			newVersionFlags,
			func(_ world, args []string, _ func(string) (string, bool), stdout, stderr io.Writer) int {
				return runVersion(args, stdout, stderr) // in version.go
			}},
	}
}

// findSubcommand returns the subcommand called name, nil when there is none.
func findSubcommand(name string) *subcommand {
	for _, sc := range subcommands() {
		if sc.name == name {
			return &sc
		}
	}
	return nil
}

// probeOnce runs one probe from started and delivers its report when --log-group asks; the
// caller prints it, with the delivery's outcome in it.
func probeOnce(p *probe.Prober, started time.Time) *report.Report {
	defer p.Close()
	rep := p.Run(context.Background(), started)
	p.Deliver(context.Background(), rep, started)
	return rep
}

// outputFor returns the function that prints a report on w, in the format outputMode chooses.
func outputFor(format string, w io.Writer, getenv func(string) (string, bool)) func(*report.Report) {
	text, color := outputMode(format, isTerminal(w), getenv)
	return func(r *report.Report) {
		if text {
			w.Write(r.TextWidth(color, textWidth(w)))
			return
		}
		w.Write(r.JSON())
	}
}

// outputMode decides what stdout carries: --output when given, else text on a terminal and JSON
// elsewhere; colour only on a terminal and never with NO_COLOR set (whatever its value).
func outputMode(format string, tty bool, getenv func(string) (string, bool)) (text, color bool) {
	text = format == "text" || (format == "" && tty)
	_, noColor := getenv("NO_COLOR")
	return text, text && tty && !noColor
}

// isTerminal reports whether w is a terminal. A character device is not enough: /dev/null is one.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
