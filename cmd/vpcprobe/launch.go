package main

// The launcher's subcommands: "vpcprobe launch" runs the probe as one ECS task per subnet and
// prints the combined report; "vpcprobe explain-stopped" translates an existing task's stopped
// reason. Both take their own flags, each also settable as VPCPROBE_<SUBCOMMAND>_<NAME>
// (VPCPROBE_LAUNCH_DEADLINE), and exit 0, 1, 2 or 3 like the probe.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/pflag"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/launch/ecstask"
	"github.com/vpcprobe/vpcprobe/report"
)

// launchOptions are launch's command line as given.
type launchOptions struct {
	cluster, taskDefinition    string
	subnets, securityGroups    []string
	assignPublicIP             bool
	launchType, capacityProv   string
	addressFamilies            string // --runner lambda: the task's families (lambdaFlags)
	platformVersion, container string
	region, launchID, output   string
	deadline                   time.Duration
	logGroup                   string
	awslogsPrefix, awslogsGrp  string

	// The probe's own settings, passed to its container as VPCPROBE_* when given.
	services, image, account string
	timeout, probeDeadline   time.Duration
	requirePrivate           bool
	probeEnv                 []string

	// What to probe for: an application's task definition, or a stopped task (needs.go).
	forTaskDefinition, forTask string
	executeCommand             bool

	// --runner lambda (launch_lambda.go).
	runner, lambdaRole, lambdaZip, functionName string

	// inspect: read each subnet's VPC configuration and join it with the live result.
	inspect bool

	fleet fleetOptions // --organization, --accounts, --all-subnets, … (fleet.go)
}

// probeFlags maps the launch flags that are the probe's own settings to the probe's variables.
var probeFlags = map[string]string{
	"services":        "VPCPROBE_SERVICES",
	"image":           "VPCPROBE_IMAGE",
	"account":         "VPCPROBE_ACCOUNT",
	"timeout":         "VPCPROBE_TIMEOUT",
	"probe-deadline":  "VPCPROBE_DEADLINE",
	"require-private": "VPCPROBE_REQUIRE_PRIVATE",
}

func newLaunchFlags(o *launchOptions, out io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("vpcprobe launch", pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.StringVar(&o.cluster, "cluster", "", "cluster to run the probe tasks in (required)")
	fs.StringVar(&o.taskDefinition, "task-definition", "", "the probe's task definition: family, family:revision or ARN (required)")
	fs.StringSliceVar(&o.subnets, "subnets", nil, "subnets to probe, comma-separated: one task per subnet (required)")
	fs.StringSliceVar(&o.securityGroups, "security-groups", nil, "security groups of the tasks, comma-separated, at most 5 (default: the VPC's default group)")
	fs.BoolVar(&o.assignPublicIP, "assign-public-ip", false, "give the tasks public IPs (public subnets only)")
	fs.StringVar(&o.launchType, "launch-type", "FARGATE", "FARGATE, EC2 or MANAGED_INSTANCES")
	fs.StringVar(&o.capacityProv, "capacity-provider", "", "run on this capacity provider (FARGATE_SPOT, an EC2 provider) instead of --launch-type")
	fs.StringVar(&o.platformVersion, "platform-version", "", "Fargate platform version (default: LATEST)")
	fs.StringVar(&o.container, "container", "vpcprobe", "name of the probe's container in the task definition")
	fs.StringVar(&o.region, "region", "", "region of the cluster (default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile's)")
	fs.DurationVar(&o.deadline, "deadline", launch.DefaultDeadline, "bound on the wait for every task to stop; tasks still starting then are stopped")
	fs.StringVar(&o.launchID, "launch-id", "", "identifier of this launch; each task's run id is <launch-id>-<subnet> (default: random)")
	outputFlag(fs, &o.output, "what stdout carries: text, json or html (the health map) (default: text on a terminal, else json)", "text", "json", "html")
	fs.StringVar(&o.logGroup, "log-group", "/vpcprobe", "log group the probes deliver their reports to and the launcher reads them from; empty: exit codes only")
	fs.StringVar(&o.awslogsPrefix, "awslogs-stream-prefix", "", "the task definition's awslogs-stream-prefix, to read a report from the probe's stdout when its own delivery failed")
	fs.StringVar(&o.awslogsGrp, "awslogs-group", "", "the task definition's awslogs-group (default: --log-group)")
	fs.StringVar(&o.services, "services", catalogue.DefaultServices, "the probe's --services")
	fs.StringVar(&o.image, "image", "", "the probe's --image")
	fs.StringVar(&o.account, "account", "", "the probe's --account")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "the probe's --timeout")
	fs.DurationVar(&o.probeDeadline, "probe-deadline", 60*time.Second, "the probe's own --deadline")
	fs.BoolVar(&o.requirePrivate, "require-private", false, "the probe's --require-private")
	fs.StringVar(&o.forTaskDefinition, "for-task-definition", "", "probe what an application's task definition needs (ARN, family[:revision] or file://path.json): its services, image, secrets and parameters are passed to every probe")
	fs.StringVar(&o.forTask, "for-task", "", "reproduce a (stopped) application task: its task definition as --for-task-definition, its subnet, its service's security groups and its cluster (default for --cluster); its stopped reason is shown beside the live result")
	fs.BoolVar(&o.executeCommand, "enable-execute-command", false, "the application's tasks run with ECS Exec (a setting of the task or service): probe ssmmessages too")
	fs.StringArrayVar(&o.probeEnv, "probe-env", nil, "another setting of the probe as NAME=VALUE (VPCPROBE_ added when missing), repeatable")
	fs.BoolVar(&o.inspect, "inspect", true, "also read each subnet's VPC configuration with the launcher's credentials (as vpcprobe inspect) and attach to every failing service the findings that explain it; --inspect=false: live results only")
	lambdaFlags(fs, o)
	fleetFlags(fs, &o.fleet, true)
	annotateEnv(fs)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: vpcprobe launch --cluster C --task-definition TD --subnets s1,s2 [flags]\n"+
			"       vpcprobe launch --task-definition TD --for-task TASK_ARN [flags]\n"+
			"       vpcprobe launch --runner lambda --subnets s1,s2 --security-groups sg-1 --lambda-role ARN [flags]\n\n"+
			"Runs the probe as one ECS task per subnet, waits for them, reads their reports from CloudWatch Logs\n"+
			"and prints one combined report; a task that never ran is explained from its stopped reason.\n"+
			"The probe's settings given here are passed to its container as VPCPROBE_* variables; those not given\n"+
			"stay as the task definition has them. With --runner lambda the probe runs as one Lambda function per subnet\n"+
			"(no image to pull), its settings go in the invocation's event, and the functions are deleted at the end.\n"+
			"Every flag can also be set as VPCPROBE_LAUNCH_<NAME> (VPCPROBE_<NAME> is the probe's own and is not read here); the flag wins.\n"+
			"Exit 0: every subnet passed or warned; 1: a subnet failed; 2: bad usage;\n"+
			"3: could not test (no credentials, or the runner's calls denied or failing for every subnet).\n\nFlags:\n%s", fs.FlagUsages())
	}
	return fs
}

// parseFlags parses a subcommand's args, then fills every flag not given from its variable,
// VPCPROBE_<SUBCOMMAND>_<FLAG> (envNameIn).
func parseFlags(fs *pflag.FlagSet, args []string, getenv func(string) (string, bool)) error {
	annotateEnv(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	var envErr error
	fs.VisitAll(func(f *pflag.Flag) {
		v, ok := getenv(envNameIn(fs, f.Name))
		if !ok || f.Changed || envErr != nil {
			return
		}
		if f.Value.Type() == "stringArray" {
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					_ = f.Value.Set(item)
				}
			}
			fs.SetAnnotation(f.Name, envAnnotation, []string{v})
			f.Changed = true
			return
		}
		if envErr = setFromEnv(fs, f, v); envErr == nil {
			f.Changed = true // a variable is a flag given: the probe's settings are passed on
		}
	})
	return envErr
}

var (
	subnetRE   = lazyRE(`^subnet-[0-9a-f]{8,17}$`)
	sgRE       = lazyRE(`^sg-[0-9a-f]{8,17}$`)
	launchIDRE = lazyRE(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	envNameRE  = lazyRE(`^[A-Z][A-Z0-9_]*$`)
)

// launchConfig validates the options into a launch configuration; the region is resolved later,
// with the AWS configuration.
func (o *launchOptions) launchConfig(fs *pflag.FlagSet) (ecstask.Config, error) {
	c := ecstask.Config{Cluster: o.cluster, TaskDefinition: o.taskDefinition, AssignPublicIP: o.assignPublicIP,
		PlatformVersion: o.platformVersion, Container: o.container, Deadline: o.deadline, LogGroup: o.logGroup,
		AwslogsPrefix: o.awslogsPrefix, AwslogsGroup: o.awslogsGrp, LaunchID: o.launchID}
	switch {
	case o.runner != "ecs":
		return c, usagef("--runner %q: must be ecs or lambda", o.runner)
	case c.Cluster == "" && o.forTask == "":
		return c, usagef("--cluster: required: the cluster to run the probe tasks in")
	case c.TaskDefinition == "":
		return c, usagef("--task-definition: required: the probe's task definition (see taskdef/vpcprobe.json)")
	case len(o.subnets) == 0 && o.forTask == "":
		return c, usagef("--subnets: required: the subnets to probe, comma-separated (example: subnet-0a1b2c3d,subnet-0b2c3d4e)")
	case c.Container == "":
		return c, usagef("--container: must name the probe's container in the task definition")
	case o.deadline <= 0:
		return c, usagef("--deadline %s: must be positive (example: 10m)", o.deadline)
	}
	var err error
	if c.Subnets, c.SecurityGroups, err = o.targets(); err != nil {
		return c, err
	}
	if len(c.SecurityGroups) > ecstask.MaxSecurityGroups {
		return c, usagef("--security-groups: %d given, a task takes at most %d", len(c.SecurityGroups), ecstask.MaxSecurityGroups)
	}
	switch {
	case o.capacityProv != "" && fs.Changed("launch-type"):
		return c, usagef("--capacity-provider and --launch-type exclude each other: give one")
	case o.capacityProv != "":
		c.CapacityProvider = o.capacityProv
	case slices.Contains(ecstask.LaunchTypes, strings.ToUpper(o.launchType)):
		c.LaunchType = strings.ToUpper(o.launchType)
	default:
		return c, usagef("--launch-type %q: must be FARGATE, EC2 or MANAGED_INSTANCES (or use --capacity-provider)", o.launchType)
	}
	if c.LaunchID, err = o.checkCommon(fs, c.LaunchID); err != nil {
		return c, err
	}
	for _, name := range []string{"services", "image", "account", "timeout", "probe-deadline", "require-private"} {
		if fs.Changed(name) {
			c.Env = append(c.Env, ecstask.EnvVar{Name: probeFlags[name], Value: fs.Lookup(name).Value.String()})
		}
	}
	for _, kv := range o.probeEnv {
		name, value, ok := strings.Cut(kv, "=")
		name = strings.ToUpper(strings.TrimSpace(name))
		if !strings.HasPrefix(name, "VPCPROBE_") {
			name = "VPCPROBE_" + name
		}
		if !ok || !envNameRE.MatchString(name) || name == "VPCPROBE_RUN_ID" || name == "VPCPROBE_LOG_GROUP" {
			return c, usagef("--probe-env %q: must be NAME=VALUE naming a probe setting other than RUN_ID and LOG_GROUP (example: --probe-env SECRET=prod/db)", kv)
		}
		c.Env = append(c.Env, ecstask.EnvVar{Name: name, Value: value})
	}
	// The launcher reads reports from this group, so the probe must write there.
	c.Env = append(c.Env, ecstask.EnvVar{Name: "VPCPROBE_LOG_GROUP", Value: c.LogGroup})
	if o.forTask != "" && o.forTaskDefinition != "" {
		return c, usagef("--for-task and --for-task-definition exclude each other: --for-task reads the task's own task definition")
	}
	if len(c.Subnets) > 0 && len(c.RunID(c.Subnets[0])) > launch.MaxRunID {
		return c, usagef("--launch-id %q: too long for the run ids <launch-id>-<subnet>", c.LaunchID)
	}
	return c, nil
}

// awsConfig loads the SDK's configuration (environment, profile, role) for region and checks
// that credentials can be had: a bad region is a usage error (exit 2), their absence is "could
// not test" (an *couldnottest.Error, exit 3).
func awsConfig(ctx context.Context, region string, getenv func(string) (string, bool)) (aws.Config, error) {
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region, _ = getenv(name)
		}
	}
	opts := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(5)}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, usagef("AWS configuration: %v", err)
	}
	if cfg.Region == "" {
		return cfg, usagef("--region: no region known; pass --region or set AWS_REGION")
	}
	if !catalogue.ValidRegion(cfg.Region) {
		return cfg, usagef("--region %q: not a region name (example: eu-west-1)", cfg.Region)
	}
	credCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(credCtx); err != nil {
		// Nothing can be measured without them: could not test, exit 3.
		return cfg, couldnottest.NoCredentials(fmt.Errorf("%w (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run where a role is available)", err))
	}
	return cfg, nil
}

// runLaunch is "vpcprobe launch".
func (w world) runLaunch(args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	o := &launchOptions{}
	fs := newLaunchFlags(o, stdout)
	err := parseFlags(fs, args, getenv)
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		o.forTaskDefinition, err = taskDefinitionRef(o.forTaskDefinition) // tdref.go
		err = fromEnv(err, fs)
	}
	if err == nil && o.fleet.on() {
		return w.runLaunchFleet(o, fs, getenv, stdout, stderr)
	}
	if err == nil && o.runner == launch.RunnerLambda {
		return w.runLaunchLambda(o, fs, getenv, stdout, stderr)
	}
	var c ecstask.Config
	if err == nil {
		c, err = o.launchConfig(fs)
		err = fromEnv(err, fs)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitUsage
	}

	// Ctrl-C or SIGTERM (a cancelled pipeline) stops the tasks this launch started; a second
	// one, once the first has been noticed, ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := o.launcherConfig(ctx, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitFor(err)
	}
	if o.forTask != "" || o.forTaskDefinition != "" {
		if c, err = o.withNeeds(ctx, ecs.NewFromConfig(cfg), cfg.Region, c, fs, stderr); err != nil {
			fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
			return needsExit(err)
		}
	}
	go func() {
		<-ctx.Done()
		stop()
	}()
	if o.runner != "lambda" { // ECS Managed Instances: say which runner reaches them (launch/managed.go)
		if mi, err := ecstask.ManagedInstances(ctx, ecs.NewFromConfig(cfg), c); err != nil {
			fmt.Fprintf(stderr, "vpcprobe launch: %v (ecs:DescribeCapacityProviders)\n", err)
		} else if mi {
			fmt.Fprintf(stderr, "vpcprobe launch: %s\n", ecstask.ManagedInstancesNote(c))
		}
	}
	l := &ecstask.Runner{
		ECS:        ecs.NewFromConfig(cfg),
		Logs:       cloudwatchlogs.NewFromConfig(cfg),
		Shared:     launch.Shared{Inspect: o.inspectClients(cfg), Progress: stderr},
		ReportWait: w.reportWait,
	}
	if w.tuneLauncher != nil {
		w.tuneLauncher(&l.Shared)
	}
	rep := l.Run(ctx, c)
	if rep.Interrupted {
		fmt.Fprintln(stderr, "vpcprobe launch: interrupted; the tasks still running were stopped")
	}
	writeLaunch(rep, o.output, cfg.Region, len(c.SecurityGroups) > 0, stdout)
	if err := rep.Err(); err != nil { // no subnet measured
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitFor(err)
	}
	if rep.Failed() {
		return exitFail
	}
	return exitOK
}

// inspectClients are the clients launch reads the subnets' VPC configuration with (the
// launcher's own credentials; AWS_ENDPOINT_URL_EC2, _ROUTE53RESOLVER, _ROUTE_53 and
// _NETWORK_FIREWALL are honoured by the SDK), nil with --inspect=false.
func (o *launchOptions) inspectClients(cfg aws.Config) *inspect.Clients {
	if !o.inspect {
		return nil
	}
	return inspect.NewClients(cfg)
}

// exitFor is the exit status of a run that ended with err before it measured anything: 3 when
// it could not test (couldnottest.Err), 2 for bad usage or configuration.
func exitFor(err error) int {
	if errors.Is(err, couldnottest.Err) {
		return exitUntested
	}
	return exitUsage
}

// launchFormat is --output, else text on a terminal and JSON elsewhere.
func launchFormat(output string, w io.Writer) string {
	if output != "" {
		return output
	}
	if isTerminal(w) {
		return "text"
	}
	return "json"
}

// checkCommon validates what both runners take alike — the output, the launch id (a random one
// when none was given, returned) and the probe's settings — so that a mistake is exit 2 now
// rather than a task or function that exits 2 later.
func (o *launchOptions) checkCommon(fs *pflag.FlagSet, launchID string) (string, error) {
	switch o.output {
	case "", "text", "json", "html":
	default:
		return "", usagef("--output %q: must be text, json or html", o.output)
	}
	if launchID == "" {
		launchID = report.NewRunID()
	}
	if !launchIDRE.MatchString(launchID) {
		return "", usagef("--launch-id %q: 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", launchID)
	}
	if fs.Changed("services") {
		if _, err := catalogue.ParseServices(o.services); err != nil {
			return "", usagef("--services: %v", err)
		}
	}
	if o.timeout <= 0 {
		return "", usagef("--timeout %s: must be positive (example: 5s)", o.timeout)
	}
	if o.probeDeadline < o.timeout {
		return "", usagef("--probe-deadline %s is shorter than --timeout %s: raise --probe-deadline or lower --timeout", o.probeDeadline, o.timeout)
	}
	if o.account != "" && !catalogue.ValidAccount(o.account) {
		return "", usagef("--account %q: an account id is 12 digits", o.account)
	}
	return launchID, nil
}

// targets validates --subnets (duplicates dropped, order kept) and --security-groups, as both
// runners take them.
func (o *launchOptions) targets() (subnets, groups []string, err error) {
	for _, s := range o.subnets {
		s = strings.TrimSpace(s)
		if !subnetRE.MatchString(s) {
			return nil, nil, usagef("--subnets: %q is not a subnet id (example: subnet-0a1b2c3d)", s)
		}
		if !slices.Contains(subnets, s) {
			subnets = append(subnets, s)
		}
	}
	for _, g := range o.securityGroups {
		g = strings.TrimSpace(g)
		if !sgRE.MatchString(g) {
			return nil, nil, usagef("--security-groups: %q is not a security group id (example: sg-0d4e5f6a)", g)
		}
		groups = append(groups, g)
	}
	return subnets, groups, nil
}

// launcherConfig loads the launcher's own AWS configuration, for either runner, in the region of
// --for-task's task unless --region says otherwise. No credentials is an untested error (exit 3).
func (o *launchOptions) launcherConfig(ctx context.Context, getenv func(string) (string, bool)) (aws.Config, error) {
	if o.region == "" {
		o.region = taskRegion(o.forTask)
	}
	return awsConfig(ctx, o.region, getenv)
}
