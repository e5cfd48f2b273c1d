package main

// "vpcprobe explain-stopped": translates why an ECS task stopped (stopped/), from ECS
// (DescribeTasks), a reason given as text, or a describe-tasks document; this file parses its
// flags, wires it and picks its exit status.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/pflag"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// explainOptions are explain-stopped's command line.
type explainOptions struct {
	cluster, task, region, output string
	reason, file                  string
}

// explainStdin is what "explain-stopped -" (or --file -) reads; tests replace it.
var explainStdin io.Reader = os.Stdin

// maxExplainInput bounds a describe-tasks document read offline: 100 tasks of the largest
// kind are far below it.
const maxExplainInput = 16 << 20

// newExplainFlags defines explain-stopped's flags on a fresh set writing help to out.
func newExplainFlags(o *explainOptions, out io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("vpcprobe explain-stopped", pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.StringVar(&o.cluster, "cluster", "", "cluster of the task (with --task: required for a task id, read from a full task ARN)")
	fs.StringVar(&o.task, "task", "", "the task's ARN or id: describe it through ECS (ecs:DescribeTasks); a full ARN names its cluster and region")
	fs.StringVar(&o.reason, "reason", "", "explain this stopped or container reason, offline (no AWS call)")
	fs.StringVar(&o.file, "file", "", "explain the tasks of this JSON document of aws ecs describe-tasks, offline; - (or a lone -) reads stdin")
	fs.StringVar(&o.region, "region", "", "region of the cluster; offline, the region of the endpoints to name when neither a task ARN nor the reason says it (with --task, default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile's)")
	outputFlag(fs, &o.output, "what stdout carries: text or json, one JSON document per task and line (default: text on a terminal, else json)", "text", "json")
	annotateEnv(fs)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: vpcprobe explain-stopped --task ARN [--cluster C] [flags]\n"+
			"       vpcprobe explain-stopped --reason TEXT [--region R] [flags]\n"+
			"       aws ecs describe-tasks ... | vpcprobe explain-stopped - [--region R] [flags]\n\n"+
			"Translates why an ECS task stopped (stopped reason, stop code, container reasons and exit codes) into\n"+
			"the service, error code, diagnosis and remediation vpcprobe reports, and the services the task still\n"+
			"needs after the failing one. --reason and --file work offline, with no AWS call.\n\n"+
			"Exit status: 0 nothing failed (a normal stop), 1 a failure was explained (network or not), 2 bad usage,\n"+
			"3 nothing could be explained (DescribeTasks denied or failing, or a reason no rule knows).\n\nFlags:\n%s", fs.FlagUsages())
	}
	return fs
}

// runExplain is "vpcprobe explain-stopped": exit 0 when nothing failed (the task ran and its
// containers exited 0, a normal stop such as a scale-in, or nothing can be judged yet), 1 when a
// failure was explained (the network or not: the diagnoses' cause says which), 2 on bad usage,
// an unreadable document or a task that cannot be found, 3 when nothing could be explained: the
// task cannot be described (no credentials, DescribeTasks denied or failing), or it failed for a
// reason no row of the table knows (the reason is quoted, nothing is invented). With --task it
// describes the task through ECS; with --reason, --file or "-" it works offline, from text or
// the JSON of `aws ecs describe-tasks`.
func runExplain(args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	o := &explainOptions{}
	fs := newExplainFlags(o, stdout)
	// A lone "-" is the document on stdin, as --file -.
	var rest []string
	for i, a := range args {
		if a == "-" && o.file == "" && (i == 0 || !takesValue(fs, args[i-1])) {
			o.file = "-"
			continue
		}
		rest = append(rest, a)
	}
	stdinArg := o.file
	err := parseFlags(fs, rest, getenv)
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	if stdinArg != "" && fs.Changed("file") {
		err = usagef("give the document once: --file or a lone -")
	}
	modes := 0
	for _, m := range []string{o.task, o.reason, o.file} {
		if m != "" {
			modes++
		}
	}
	switch {
	case err != nil:
	case modes == 0:
		err = usagef("--task (with --cluster), --reason or --file: say which task or reason to explain")
	case modes > 1:
		err = usagef("--task, --reason and --file exclude each other: give one")
	case o.task != "" && o.cluster == "" && stopped.ClusterOfTaskARN(o.task) == "":
		err = usagef("--cluster: required with a task id (a full task ARN names its cluster)")
	case o.task != "" && o.cluster != "" && stopped.ClusterOfTaskARN(o.task) != "" && !stopped.SameCluster(o.cluster, stopped.ClusterOfTaskARN(o.task)):
		err = usagef("--cluster %s: the task ARN names cluster %s", o.cluster, stopped.ClusterOfTaskARN(o.task))
	case o.task == "" && o.cluster != "":
		err = usagef("--cluster: only with --task; offline, the task ARN in the document names its cluster")
	case o.output != "" && o.output != "text" && o.output != "json":
		err = usagef("--output %q: must be text or json", o.output)
	case o.task == "" && o.region != "":
		if rerr := catalogue.CheckRegion(o.region); rerr != nil {
			err = usagef("--region: %v", rerr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe explain-stopped: %v\n", err)
		return exitUsage
	}
	var es []*stopped.Explanation
	if o.task != "" {
		e, code := explainTask(o, getenv, stderr)
		if e == nil {
			return code
		}
		es = append(es, e)
	} else if o.reason != "" {
		es = append(es, stopped.ExplainReason(o.reason, o.region))
	} else {
		es, err = explainFile(o.file, o.region)
		if err != nil {
			fmt.Fprintf(stderr, "vpcprobe explain-stopped: %v\n", err)
			return exitUsage
		}
	}
	text := launchFormat(o.output, stdout) == "text"
	for i, e := range es {
		if text {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			stdout.Write(e.TextWidth(textWidth(stdout)))
		} else {
			stdout.Write(e.JSON())
		}
	}
	return explainExit(es, stderr)
}

// explainExit is explain-stopped's exit status for its explanations: 1 when a task failed and
// its failure was explained, else 3 when a task failed for reasons no rule knows, else 0.
func explainExit(es []*stopped.Explanation, stderr io.Writer) int {
	explained, unexplained := false, 0
	for _, e := range es {
		if e.Verdict != checks.Fail {
			continue
		}
		if e.Explained() {
			explained = true
		} else {
			unexplained++
		}
	}
	switch {
	case explained:
		return exitFail
	case unexplained > 0:
		fmt.Fprintf(stderr, "vpcprobe explain-stopped: no rule of vpcprobe's table knows the reason (%d task(s)): it is quoted in the report, and nothing is inferred from it\n", unexplained)
		return exitUntested
	}
	return exitOK
}

// takesValue reports whether arg is a flag of fs written without "=" and waiting for its value.
func takesValue(fs *pflag.FlagSet, arg string) bool {
	name, ok := strings.CutPrefix(arg, "--")
	if !ok || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	return f != nil && f.Value.Type() != "bool"
}

// explainTask describes one task through ECS; on failure it returns the exit code, the reason
// printed.
func explainTask(o *explainOptions, getenv func(string) (string, bool), stderr io.Writer) (*stopped.Explanation, int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	region, cluster := o.region, o.cluster
	if region == "" {
		region, _ = stopped.ARNRegionAccount(o.task) // a full ARN says where the task is
	}
	if cluster == "" {
		cluster = stopped.ClusterOfTaskARN(o.task)
	}
	cfg, err := awsConfig(ctx, region, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe explain-stopped: %v\n", err)
		return nil, exitFor(err)
	}
	e, err := stopped.Explain(ctx, ecs.NewFromConfig(cfg), cluster, o.task)
	switch {
	case errors.Is(err, stopped.ErrTaskNotFound):
		fmt.Fprintf(stderr, "vpcprobe explain-stopped: --task: %v (ECS keeps stopped tasks for about an hour)\n", err)
		return nil, exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "vpcprobe explain-stopped: %v\n", err)
		return nil, exitFor(err)
	}
	return e, exitOK
}

// explainFile reads a describe-tasks document from name ("-": stdin) and explains its tasks.
func explainFile(name, region string) ([]*stopped.Explanation, error) {
	r := explainStdin
	flag := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		r, flag = f, "--file "+name
	}
	doc, err := io.ReadAll(io.LimitReader(r, maxExplainInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if len(doc) > maxExplainInput {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a describe-tasks document", flag, maxExplainInput>>20)
	}
	es, err := stopped.ExplainDocument(doc, region)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (give the output of aws ecs describe-tasks --output json)", flag, err)
	}
	return es, nil
}
