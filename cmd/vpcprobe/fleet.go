package main

// The fleet flags of inspect and launch (--organization, --accounts, --role-name, --regions,
// --all-subnets, --vpcs, --every-subnet): every subnet of every account and region, read through
// an assumed role in each (fleet/), and for launch one live Lambda probe per shape through the
// existing Lambda runner (lambdaRunner, the one adapter over launch.Launcher.RunLambda). Exit 0:
// no subnet failed; 1: one did; 2: bad usage; 3: nothing at all could be read.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/pflag"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/fleet"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/report"
)

// Default role names of the member template (taskdef/fleet-member.json): the role the central
// run assumes in each account, and the execution role of the functions it creates there.
const (
	defaultRoleName       = "vpcprobe-fleet"
	defaultLambdaRoleName = "vpcprobe-fleet-lambda"
)

// fleetOptions are the fleet flags, shared by inspect and launch.
type fleetOptions struct {
	organization, allSubnets, everySubnet bool
	accounts, regions, vpcs               []string
	roleName, lambdaRoleName              string
	perRegion                             int
}

// fleetFlags defines the fleet flags on fs; launch adds --every-subnet and the fan-out bounds.
func fleetFlags(fs *pflag.FlagSet, f *fleetOptions, forLaunch bool) {
	fs.BoolVar(&f.organization, "organization", false, "every ACTIVE account of AWS Organizations (ListAccounts: from the management or a delegated administrator account)")
	fs.StringSliceVar(&f.accounts, "accounts", nil, "these accounts, comma-separated 12-digit ids")
	fs.StringVar(&f.roleName, "role-name", defaultRoleName, "with --organization or --accounts: the role assumed in each account, arn:<partition>:iam::<id>:role/NAME (taskdef/fleet-member.json)")
	fs.StringSliceVar(&f.regions, "regions", nil, "regions to read, comma-separated (default: --region's)")
	fs.BoolVar(&f.allSubnets, "all-subnets", false, "every subnet of every VPC in those accounts and regions")
	fs.StringSliceVar(&f.vpcs, "vpcs", nil, "every subnet of these VPCs, comma-separated (instead of --all-subnets)")
	if forLaunch {
		fs.BoolVar(&f.everySubnet, "every-subnet", false, "one live probe per subnet, not one per shape (route table, network ACL, VPC, security groups, zone and findings)")
		fs.StringVar(&f.lambdaRoleName, "lambda-role-name", defaultLambdaRoleName, "in a fleet: the execution role of the functions in each account, arn:<partition>:iam::<id>:role/NAME")
		fs.IntVar(&f.perRegion, "max-per-region", fleet.DefaultPerRegion, "in a fleet: live probes at once per account and region")
	}
}

// on reports whether the command line asks for a fleet.
func (f *fleetOptions) on() bool {
	return f.organization || len(f.accounts) > 0 || f.allSubnets || len(f.vpcs) > 0
}

var (
	accountRE = regexp.MustCompile(`^\d{12}$`)
	vpcRE     = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	roleRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// check validates the fleet flags; singles are the single-target flags given alongside, which a
// fleet replaces.
func (f *fleetOptions) check(fs *pflag.FlagSet, singles ...string) error {
	for _, name := range singles {
		if fs.Lookup(name) != nil && fs.Changed(name) {
			return usagef("--%s: a fleet reads every subnet of --all-subnets or --vpcs; drop --%s", name, name)
		}
	}
	switch {
	case f.organization && len(f.accounts) > 0:
		return usagef("--organization and --accounts exclude each other: give one")
	case !f.allSubnets && len(f.vpcs) == 0:
		return usagef("--all-subnets or --vpcs: required with --organization or --accounts (which subnets to read)")
	case f.allSubnets && len(f.vpcs) > 0:
		return usagef("--all-subnets and --vpcs exclude each other: give one")
	case !roleRE.MatchString(f.roleName):
		return usagef("--role-name %q: not a role name (example: %s)", f.roleName, defaultRoleName)
	}
	for _, a := range f.accounts {
		if !accountRE.MatchString(strings.TrimSpace(a)) {
			return usagef("--accounts: %q is not an account id (12 digits)", a)
		}
	}
	for _, r := range f.regions {
		if err := catalogue.CheckRegion(strings.TrimSpace(r)); err != nil {
			return usagef("--regions: %v", err)
		}
	}
	for _, v := range f.vpcs {
		if !vpcRE.MatchString(strings.TrimSpace(v)) {
			return usagef("--vpcs: %q is not a VPC id (example: vpc-0a1b2c3d)", v)
		}
	}
	if fs.Lookup("lambda-role-name") != nil && !roleRE.MatchString(f.lambdaRoleName) {
		return usagef("--lambda-role-name %q: not a role name (example: %s)", f.lambdaRoleName, defaultLambdaRoleName)
	}
	if fs.Lookup("max-per-region") != nil && f.perRegion < 1 {
		return usagef("--max-per-region %d: must be at least 1", f.perRegion)
	}
	return nil
}

// config resolves the fleet: its accounts (Organizations, --accounts, or the caller's own), how
// each is opened (the role assumed, or the caller's credentials when no account was named), the
// regions and VPCs. session names the role sessions.
func (f *fleetOptions) config(ctx context.Context, base aws.Config, session string) (fleet.Config, error) {
	c := fleet.Config{}
	for _, r := range f.regions {
		c.Regions = append(c.Regions, strings.TrimSpace(r))
	}
	if len(c.Regions) == 0 {
		c.Regions = []string{base.Region}
	}
	for _, v := range f.vpcs {
		c.VPCs = append(c.VPCs, strings.TrimSpace(v))
	}
	stsClient := sts.NewFromConfig(base)
	partition := catalogue.PartitionOf(base.Region).ID
	switch {
	case f.organization:
		ms, err := fleet.Organization(ctx, organizations.NewFromConfig(base))
		if err != nil {
			return c, couldnottest.Call("organizations:ListAccounts", err)
		}
		c.Accounts = ms
	case len(f.accounts) > 0:
		for _, a := range f.accounts {
			c.Accounts = append(c.Accounts, fleet.Member{ID: strings.TrimSpace(a)})
		}
	default: // the caller's own account, with its own credentials
		out, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return c, couldnottest.Call("sts:GetCallerIdentity", err)
		}
		c.Accounts = []fleet.Member{{ID: aws.ToString(out.Account)}}
		c.Open = fleet.Caller(base)
		return c, nil
	}
	c.Open = fleet.AssumeRole(base, stsClient, partition, f.roleName, session)
	return c, nil
}

// fleetExit is the exit status of a fleet report: 3 when nothing at all was read, 1 when a
// subnet failed, else 0; untested parts are named on stderr, never a failure.
func fleetExit(rep *fleet.Report, stderr io.Writer, cmd string) int {
	for _, u := range rep.Untested {
		where := u.Account
		if u.Region != "" {
			where += " " + u.Region
		}
		fmt.Fprintf(stderr, "vpcprobe %s: untested: %s: %s: %s\n", cmd, where, u.Action, u.Error)
	}
	switch {
	case !rep.Read():
		fmt.Fprintf(stderr, "vpcprobe %s: could not test: no account and region could be read\n", cmd)
		return exitUntested
	case rep.Verdict == checks.Fail:
		return exitFail
	}
	return exitOK
}

// writeFleet prints the fleet report as --output asks: json, html or text.
func writeFleet(rep *fleet.Report, output string, stdout io.Writer) {
	switch launchFormat(output, stdout) {
	case "html":
		stdout.Write(fleet.HTML(rep))
	case "text":
		stdout.Write(rep.Text())
	default:
		stdout.Write(rep.JSON())
	}
}

// writeLaunch prints a launch report of --subnets as --output asks: text, json, or html (the
// health map of its subnets, each measured by itself).
func writeLaunch(rep *launch.Report, output, region string, groupsGiven bool, stdout io.Writer) {
	switch launchFormat(output, stdout) {
	case "html":
		stdout.Write(fleet.HTML(fleet.FromLaunch("", region, groupsGiven, rep)))
	case "text":
		stdout.Write(rep.TextWidth(textWidth(stdout)))
	default:
		stdout.Write(rep.JSON())
	}
}

// runInspectFleet is "vpcprobe inspect" with the fleet flags.
func runInspectFleet(o *inspectOptions, fs *pflag.FlagSet, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	err := o.fleet.check(fs, "subnet", "eni", "fix-format")
	if err == nil {
		err = checkFleetOutput(o.output)
	}
	services, serr := catalogue.ParseServices(o.services)
	if err == nil && serr != nil {
		err = usagef("--services: %v", serr)
	}
	groups, gerr := checkGroups(o.securityGroups)
	if err == nil {
		err = gerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe inspect: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := awsConfig(ctx, o.region, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe inspect: %v\n", err)
		return exitFor(err)
	}
	c, err := o.fleet.config(ctx, cfg, fleet.SessionName("inspect-"+report.NewRunID()[:8]))
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe inspect: %v\n", err)
		return exitFor(err)
	}
	c.SecurityGroups, c.Services = groups, services
	rep := fleet.Inspect(ctx, c)
	writeFleet(rep, o.output, stdout)
	return fleetExit(rep, stderr, "inspect")
}

// checkFleetOutput accepts the outputs of a fleet.
func checkFleetOutput(output string) error {
	switch output {
	case "", "text", "json", "html":
		return nil
	}
	return usagef("--output %q: must be text, json or html", output)
}

// checkGroups validates --security-groups (at most 5, as a task and a function take).
func checkGroups(in []string) ([]string, error) {
	var out []string
	for _, g := range in {
		g = strings.TrimSpace(g)
		if !sgRE.MatchString(g) {
			return nil, usagef("--security-groups: %q is not a security group id (example: sg-0d4e5f6a)", g)
		}
		out = append(out, g)
	}
	if len(out) > 5 {
		return nil, usagef("--security-groups: %d given, a function takes at most 5", len(out))
	}
	return out, nil
}

// runLaunchFleet is "vpcprobe launch" with the fleet flags: --runner lambda only (a function
// needs no cluster in each account).
func (w world) runLaunchFleet(o *launchOptions, fs *pflag.FlagSet, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	base, err := o.fleetLambdaConfig(fs)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := o.launcherConfig(ctx, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitFor(err)
	}
	c, err := o.fleet.config(ctx, cfg, fleet.SessionName(base.LaunchID))
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitFor(err)
	}
	services, _ := catalogue.ParseServices(o.services) // checked by checkCommon
	c.SecurityGroups, c.Services = base.SecurityGroups, services
	go func() {
		<-ctx.Done()
		stop()
	}()
	partition := catalogue.PartitionOf(cfg.Region).ID
	lc := fleet.LaunchConfig{Config: c, LaunchID: base.LaunchID, EverySubnet: o.fleet.everySubnet, PerRegion: o.fleet.perRegion,
		Runners: func(account string, acfg aws.Config) fleet.LiveRunner {
			l := &lambdafn.Runner{Lambda: lambda.NewFromConfig(acfg), Shared: launch.Shared{Progress: stderr}}
			if w.tuneLauncher != nil {
				w.tuneLauncher(&l.Shared)
			}
			lcfg := base
			lcfg.Role = fleet.RoleARN(partition, account, o.fleet.lambdaRoleName)
			return lambdaRunner{l: l, c: lcfg}
		}}
	rep := fleet.Launch(ctx, lc)
	writeFleet(rep, o.output, stdout)
	return fleetExit(rep, stderr, "launch")
}

// fleetLambdaConfig validates launch's flags for a fleet into the Lambda launch every batch
// starts from: code, event, deadlines, launch id and the groups (subnets come from the fleet).
func (o *launchOptions) fleetLambdaConfig(fs *pflag.FlagSet) (lambdafn.Config, error) {
	c := lambdafn.Config{LaunchID: o.launchID, Deadline: o.deadline, ProbeDeadline: o.probeDeadline, Event: map[string]any{}}
	if o.runner != launch.RunnerLambda {
		return c, usagef("--runner %s: a fleet runs with --runner lambda (a function in each subnet; no cluster needed in each account)", o.runner)
	}
	for _, name := range []string{"function-name", "lambda-role", "for-task", "for-task-definition", "cluster"} {
		if fs.Changed(name) {
			return c, usagef("--%s: not with a fleet (each account's functions are created with --lambda-role-name)", name)
		}
	}
	if err := o.fleet.check(fs, "subnets"); err != nil {
		return c, err
	}
	if err := checkFleetOutput(o.output); err != nil {
		return c, err
	}
	if o.deadline <= 0 {
		return c, usagef("--deadline %s: must be positive (example: 10m)", o.deadline)
	}
	var err error
	if c.SecurityGroups, err = checkGroups(o.securityGroups); err != nil {
		return c, err
	}
	if o.lambdaZip != "" {
		if c.Code, err = os.ReadFile(o.lambdaZip); err != nil {
			return c, usagef("--lambda-zip: %v", err)
		}
		if c.Architecture, err = lambdafn.ZipCode(c.Code); err != nil {
			return c, usagef("--lambda-zip %s: %v (build it as README shows)", o.lambdaZip, err)
		}
	} else {
		exe, err := os.Executable()
		if err == nil {
			c.Code, c.Architecture, err = lambdafn.SelfCode(exe)
		}
		if err != nil {
			return c, usagef("--lambda-zip: required: this vpcprobe (%s/%s) cannot run in Lambda (%v)", runtime.GOOS, runtime.GOARCH, err)
		}
	}
	if c.LaunchID, err = o.checkCommon(fs, c.LaunchID); err != nil {
		return c, err
	}
	for flag, key := range map[string]string{"services": "services", "image": "image", "account": "account", "timeout": "timeout", "log-group": "log-group"} {
		if fs.Changed(flag) {
			c.Event[key] = fs.Lookup(flag).Value.String()
		}
	}
	c.Event["deadline"] = o.probeDeadline.String()
	if o.requirePrivate {
		c.Event["require-private"] = true
	}
	for _, kv := range o.probeEnv {
		name, value, ok := strings.Cut(kv, "=")
		key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "VPCPROBE_"), "_", "-"))
		if !ok || key == "" || key == "run-id" {
			return c, usagef("--probe-env %q: must be NAME=VALUE naming a probe setting other than RUN_ID", kv)
		}
		c.Event[key] = value
	}
	return c, nil
}

// lambdaRunner is the fleet's LiveRunner over the Lambda runner of one account and region: the
// one place that knows the Lambda runner (launch/lambdafn). The fleet has read the configuration already, so the launcher does not.
type lambdaRunner struct {
	l *lambdafn.Runner
	c lambdafn.Config
}

// Run probes subnets with groups (none: each function gets the VPC's default group, which the
// fleet judged) and returns each subnet's live result.
func (r lambdaRunner) Run(ctx context.Context, subnets, groups []string) (map[string]fleet.Live, error) {
	c := r.c
	c.Subnets, c.SecurityGroups = subnets, groups
	rep, err := r.l.Run(ctx, c)
	out := map[string]fleet.Live{}
	if rep != nil {
		for _, s := range rep.Subnets {
			l := fleet.Live{Verdict: s.Verdict, Services: []report.ServiceReport{}, Diagnoses: s.Diagnoses}
			if s.Report != nil {
				l.Services = s.Report.Services
			}
			out[s.Subnet] = l
		}
	}
	if err != nil {
		action := "lambda:CreateFunction" // what the runner is refused first
		var ce *couldnottest.Error
		if errors.As(err, &ce) && ce.Action != "" {
			action = ce.Action
		}
		return out, fleet.ActionError(action, err)
	}
	return out, err
}
