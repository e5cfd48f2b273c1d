package main

// "vpcprobe inspect": reads a VPC's configuration from anywhere with read-only credentials and
// says what in it breaks each service's path from a subnet, with the commands that fix it. Its
// flags are also settable as VPCPROBE_<NAME>. Exit 0: no fail finding; 1: one; 2: bad usage; 3:
// the configuration could not be read at all.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/fleet"
	"github.com/vpcprobe/vpcprobe/inspect"
)

// exitCannotRead is CONTRACT.md's exit 3 for inspect: nothing could be read (a missing
// permission on ec2:DescribeSubnets, an API failure, no credentials), one line naming the
// cause; inspect.ErrUnreadable is an couldnottest.Err.
const exitCannotRead = exitUntested

// inspectDeadline bounds the whole inspection: about a dozen paginated Describe calls, each
// retried by the SDK on throttling; two minutes is ample and still ends a hung run.
const inspectDeadline = 2 * time.Minute

// inspectServices is CONTRACT.md's --services default: what every Fargate task that pulls from
// ECR and logs with awslogs needs, so that a VPC with exactly AWS's documented endpoints passes
// (tasks do not need STS: catalogue.DefaultServices adds it, and a VPC without an STS endpoint
// and without a NAT would fail inspect for a service it does not need).
const inspectServices = "ecr.api,ecr.dkr,s3,logs"

var eniRE = lazyRE(`^eni-[0-9a-f]{8,17}$`)

// inspectOptions are inspect's command line as given.
type inspectOptions struct {
	subnet, eni, services, region, output, fixFormat string
	securityGroups                                   []string
	workload                                         string
	fips                                             bool
	fleet                                            fleetOptions // fleet.go
}

func newInspectFlags(o *inspectOptions, out io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("vpcprobe inspect", pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.StringVar(&o.subnet, "subnet", "", "the task's subnet (required unless --eni)")
	fs.StringSliceVar(&o.securityGroups, "security-groups", nil, "the task's security groups, comma-separated (default: the VPC's default group)")
	fs.StringVar(&o.eni, "eni", "", "a running task's network interface: its subnet, groups and address instead of --subnet and --security-groups")
	fs.StringVar(&o.workload, "workload", "linux", "what runs in the subnet, for the ephemeral ports network ACLs must let back in: linux (32768-60999), windows (49152-65535) or lambda (1024-65535)")
	fs.BoolVar(&o.fips, "fips", false, "the application uses FIPS endpoints (AWS_USE_FIPS_ENDPOINT): its own services need their FIPS endpoint services (kms-fips, …)")
	fs.StringVar(&o.services, "services", inspectServices, "service keys whose paths to inspect, comma-separated; all = every known key")
	fs.StringVar(&o.region, "region", "", "region of the VPC (default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile's)")
	outputFlag(fs, &o.output, "what stdout carries: text, json or html (the health map) (default: text on a terminal, else json)", "text", "json", "html")
	fs.StringVar(&o.fixFormat, "fix-format", "", "print instead one snippet creating every missing endpoint and rule: cloudformation or terraform")
	fleetFlags(fs, &o.fleet, false)
	annotateEnv(fs)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: vpcprobe inspect --subnet subnet-… [--security-groups sg-1,sg-2] [flags]\n\n"+
			"Reads the VPC's configuration (EC2 and Route 53 Resolver, read-only: taskdef/iam/inspect-readonly.json) and\n"+
			"says what breaks or bypasses each service's path from the subnet, with the AWS CLI commands that fix it.\n"+
			"Exit 0: no fail finding; 1: a fail finding; 2: bad usage; 3: the configuration could not be read.\n\nFlags:\n%s", fs.FlagUsages())
	}
	return fs
}

// check validates the options into the target and services.
func (o *inspectOptions) check() (inspect.Target, []catalogue.Service, error) {
	t := inspect.Target{SubnetID: strings.TrimSpace(o.subnet)}
	switch {
	case o.eni != "" && (t.SubnetID != "" || len(o.securityGroups) > 0):
		return t, nil, usagef("--eni names the subnet and groups: give it alone, without --subnet or --security-groups")
	case o.eni != "" && !eniRE.MatchString(o.eni):
		return t, nil, usagef("--eni %q: not a network interface id (example: eni-0a1b2c3d)", o.eni)
	case o.eni == "" && t.SubnetID == "":
		return t, nil, usagef("--subnet: required: the task's subnet (example: subnet-0a1b2c3d), or --eni of a running task")
	case o.eni == "" && !subnetRE.MatchString(t.SubnetID):
		return t, nil, usagef("--subnet %q: not a subnet id (example: subnet-0a1b2c3d)", t.SubnetID)
	}
	for _, g := range o.securityGroups {
		g = strings.TrimSpace(g)
		if !sgRE.MatchString(g) {
			return t, nil, usagef("--security-groups: %q is not a security group id (example: sg-0d4e5f6a)", g)
		}
		t.SecurityGroups = append(t.SecurityGroups, g)
	}
	services, err := catalogue.ParseServices(o.services)
	if err != nil {
		return t, nil, usagef("--services: %v", err)
	}
	if t.Workload, err = inspect.ParseWorkload(o.workload); err != nil {
		return t, nil, usagef("--workload: %v", err)
	}
	t.FIPS = o.fips
	switch o.output {
	case "", "text", "json", "html":
	default:
		return t, nil, usagef("--output %q: must be text, json or html", o.output)
	}
	switch o.fixFormat {
	case "", "cloudformation", "terraform":
	default:
		return t, nil, usagef("--fix-format %q: must be cloudformation or terraform", o.fixFormat)
	}
	return t, services, nil
}

// runInspect is "vpcprobe inspect".
func runInspect(args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	o := &inspectOptions{}
	fs := newInspectFlags(o, stdout)
	err := parseFlags(fs, args, getenv)
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	if err == nil && o.fleet.on() {
		return runInspectFleet(o, fs, getenv, stdout, stderr)
	}
	var target inspect.Target
	var services []catalogue.Service
	if err == nil {
		target, services, err = o.check()
	}
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe inspect: %v\n", err)
		return exitUsage
	}
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sig, inspectDeadline)
	defer cancel()
	cfg, err := awsConfig(ctx, o.region, getenv)
	if err == nil {
		if rerr := catalogue.CheckRegion(cfg.Region); rerr != nil {
			err = usagef("--region: %v", rerr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe inspect: %v\n", err)
		return exitFor(err) // no credentials: could not test
	}
	clients := *inspect.NewClients(cfg)
	if o.eni != "" {
		workload, fips := target.Workload, target.FIPS
		if target, err = inspect.ENI(ctx, clients.EC2, o.eni); err != nil {
			fmt.Fprintf(stderr, "vpcprobe inspect: %v\n", err)
			return exitCannotRead
		}
		target.Workload, target.FIPS = workload, fips
	}
	reps, err := inspect.Subnets(ctx, clients, []inspect.Target{target}, services)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe inspect: %v\n", err)
		return exitCannotRead
	}
	rep := reps[0]
	switch {
	case o.fixFormat != "":
		fixes := inspect.Fixes(rep)
		if len(fixes) == 0 {
			fmt.Fprintln(stderr, "vpcprobe inspect: nothing to create: no fail finding has an endpoint or rule as its fix")
		} else if o.fixFormat == "terraform" {
			stdout.Write(inspect.Terraform(fixes))
		} else {
			stdout.Write(inspect.CloudFormation(fixes, cfg.Region))
		}
	case o.output == "html":
		stdout.Write(fleet.HTML(fleet.FromInspect("", len(o.securityGroups) > 0, rep)))
	case launchFormat(o.output, stdout) == "text":
		stdout.Write(rep.TextWidth(textWidth(stdout)))
	default:
		stdout.Write(rep.JSON())
	}
	if rep.Failed() {
		return exitFail
	}
	return exitOK
}
