package main

// "vpcprobe launch --runner lambda": the probe as one Lambda function per subnet, for subnets
// whose tasks cannot pull the probe's image (launch/lambda.go runs it).

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/spf13/pflag"

	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/launch/ecstask"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/probe"
)

// lambdaFlags defines launch's --runner and the Lambda runner's flags.
func lambdaFlags(fs *pflag.FlagSet, o *launchOptions) {
	fs.StringVar(&o.runner, "runner", "ecs", "how the probe runs in each subnet: ecs (a task) or lambda (a function: for subnets that cannot pull an image)")
	fs.StringVar(&o.lambdaRole, "lambda-role", "", "with --runner lambda: the functions' execution role ARN (see taskdef/iam/lambda-execution-role.json); required unless --function-name")
	fs.StringVar(&o.lambdaZip, "lambda-zip", "", "with --runner lambda: zip holding vpcprobe for linux as bootstrap (default: this executable, when it is a Linux x86_64 or arm64 binary)")
	fs.StringVar(&o.functionName, "function-name", "", "with --runner lambda: an existing vpcprobe function attached to the one subnet given, used instead of creating one")
	fs.StringVar(&o.addressFamilies, "address-families", "", "with --runner lambda: the task's address families, ipv4, ipv6 or dualstack: dualstack gives the functions Ipv6AllowedForDualStack; ipv6 cannot be reproduced by Lambda (default: ipv4 only)")
}

// roleARNRE matches an IAM role ARN in any partition.
var roleARNRE = lazyRE(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

// runLaunchLambda is "vpcprobe launch --runner lambda". Exit 0, 1 or 2 as the ECS runner, and 3
// when nothing could be tested because the launcher was refused.
func (w world) runLaunchLambda(o *launchOptions, fs *pflag.FlagSet, getenv func(string) (string, bool), stdout, stderr io.Writer) int {
	c, err := o.lambdaConfig(fs)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitUsage
	}
	// Ctrl-C or SIGTERM ends the launch, which then deletes its functions; a second one, once
	// the first has been noticed, ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := o.launcherConfig(ctx, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitFor(err) // no credentials: could not test, as with the ECS runner
	}
	if o.forTask != "" || o.forTaskDefinition != "" {
		// What the application's task needs, derived as for the ECS runner (needs.go), travels in
		// the event; --for-task also gives the task's subnet and security groups.
		lc := ecstask.Config{LaunchID: c.LaunchID, Cluster: o.cluster, Subnets: c.Subnets, SecurityGroups: c.SecurityGroups, Env: eventEnv(c.Event)}
		if lc, err = o.withNeeds(ctx, ecs.NewFromConfig(cfg), cfg.Region, lc, fs, stderr); err != nil {
			fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
			return needsExit(err)
		}
		c.Subnets, c.SecurityGroups, c.ForTask, c.Needs, c.Event = lc.Subnets, lc.SecurityGroups, lc.ForTask, lc.Needs, envEvent(lc.Env)
		if err := c.CheckTargets(); err != nil {
			fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
			return exitUsage
		}
	}
	go func() {
		<-ctx.Done()
		stop()
	}()
	l := &lambdafn.Runner{Lambda: lambda.NewFromConfig(cfg), Shared: launch.Shared{Inspect: o.inspectClients(cfg), Progress: stderr}}
	if w.tuneLauncher != nil {
		w.tuneLauncher(&l.Shared)
	}
	rep, err := l.Run(ctx, c)
	if rep.Interrupted {
		fmt.Fprintln(stderr, "vpcprobe launch: interrupted; the functions this launch created were deleted")
	}
	writeLaunch(rep, o.output, cfg.Region, len(c.SecurityGroups) > 0, stdout)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "vpcprobe launch: %v\n", err)
		return exitFor(err)
	case rep.Failed():
		return exitFail
	}
	return exitOK
}

// lambdaConfig validates the options into a Lambda launch: subnets, groups, role, code, and the
// probe's settings as event keys.
func (o *launchOptions) lambdaConfig(fs *pflag.FlagSet) (lambdafn.Config, error) {
	c := lambdafn.Config{LaunchID: o.launchID, Role: o.lambdaRole, FunctionName: o.functionName,
		Deadline: o.deadline, ProbeDeadline: o.probeDeadline, Event: map[string]any{}}
	for _, name := range []string{"task-definition", "launch-type", "capacity-provider", "platform-version", "container", "assign-public-ip", "awslogs-stream-prefix", "awslogs-group"} {
		if fs.Changed(name) {
			return c, usagef("--%s: a flag of --runner ecs; a Lambda function has no task definition or container (drop it)", name)
		}
	}
	if fs.Changed("cluster") && o.forTask == "" {
		return c, usagef("--cluster: with --runner lambda only the cluster of --for-task's task (a function has none; drop it)")
	}
	switch {
	case len(o.subnets) == 0 && o.forTask == "":
		return c, usagef("--subnets: required: the subnets to probe, comma-separated (example: subnet-0a1b2c3d,subnet-0b2c3d4e), or --for-task")
	case o.deadline <= 0:
		return c, usagef("--deadline %s: must be positive (example: 10m)", o.deadline)
	}
	var err error
	if c.Subnets, c.SecurityGroups, err = o.targets(); err != nil {
		return c, err
	}
	if c.FunctionName != "" {
		switch {
		case o.forTask != "" && len(c.Subnets) == 0:
			return c, usagef("--function-name: give the function's one subnet as --subnets; --for-task's may differ")
		case len(c.Subnets) != 1:
			return c, usagef("--function-name: one function tests one subnet; give exactly one --subnets (its own), or drop --function-name to create one per subnet")
		case o.lambdaZip != "" || o.lambdaRole != "":
			return c, usagef("--function-name: the function exists with its own code and role; drop --lambda-zip and --lambda-role")
		case fs.Changed("security-groups"):
			return c, usagef("--function-name: the function's own security groups are used; drop --security-groups")
		}
	} else {
		switch {
		case c.Role == "":
			return c, usagef("--lambda-role: required with --runner lambda: the functions' execution role ARN (policy: taskdef/iam/lambda-execution-role.json, trust: taskdef/iam/lambda-trust.json)")
		case !roleARNRE.MatchString(c.Role):
			return c, usagef("--lambda-role %q: not a role ARN (example: arn:aws:iam::123456789012:role/vpcprobe-lambda)", c.Role)
		}
		var err error
		if o.lambdaZip != "" {
			if c.Code, err = os.ReadFile(o.lambdaZip); err != nil {
				return c, usagef("--lambda-zip: %v", err)
			}
			if c.Architecture, err = lambdafn.ZipCode(c.Code); err != nil {
				return c, usagef("--lambda-zip %s: %v (build it as README shows)", o.lambdaZip, err)
			}
		} else {
			exe, err := os.Executable()
			if err != nil {
				return c, usagef("--lambda-zip: required: this executable cannot be found (%v)", err)
			}
			if c.Code, c.Architecture, err = lambdafn.SelfCode(exe); err != nil {
				return c, usagef("--lambda-zip: required: this vpcprobe is %s/%s and cannot run in Lambda; build one with GOOS=linux GOARCH=arm64 go build -trimpath -ldflags='-s -w' -o bootstrap ./cmd/vpcprobe && zip vpcprobe-arm64.zip bootstrap (%v)",
					runtime.GOOS, runtime.GOARCH, err)
			}
		}
	}
	if c.LaunchID, err = o.checkCommon(fs, c.LaunchID); err != nil {
		return c, err
	}
	if c.Families, err = probe.ParseFamilies(o.addressFamilies); err != nil {
		return c, usagef("%v", err)
	}
	// The probe's settings become event keys (flag names); those not given stay the function's.
	eventKeys := map[string]string{"services": "services", "image": "image", "account": "account", "timeout": "timeout",
		"probe-deadline": "deadline", "log-group": "log-group"}
	for flag, key := range eventKeys {
		if fs.Changed(flag) {
			c.Event[key] = fs.Lookup(flag).Value.String()
		}
	}
	if !fs.Changed("probe-deadline") { // the function's timeout follows it: say it to the probe too
		c.Event["deadline"] = o.probeDeadline.String()
	}
	if o.requirePrivate {
		c.Event["require-private"] = true
	}
	for _, kv := range o.probeEnv {
		name, value, ok := strings.Cut(kv, "=")
		key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "VPCPROBE_"), "_", "-"))
		if !ok || key == "" || key == "run-id" || !envNameRE.MatchString(strings.ToUpper(strings.ReplaceAll(key, "-", "_"))) {
			return c, usagef("--probe-env %q: must be NAME=VALUE naming a probe setting other than RUN_ID (example: --probe-env SECRET=prod/db)", kv)
		}
		c.Event[key] = value
	}
	if o.forTask != "" { // its subnet and groups are known once the task is read
		return c, nil
	}
	if err := c.CheckTargets(); err != nil {
		return c, usagef("%v", err)
	}
	return c, nil
}

// eventEnv and envEvent turn the probe's settings between event keys ("secret") and the
// VPCPROBE_* variables (VPCPROBE_SECRET) the derivation from a task definition edits.
func eventEnv(ev map[string]any) []ecstask.EnvVar {
	var env []ecstask.EnvVar
	for key, v := range ev {
		env = append(env, ecstask.EnvVar{Name: envName(key), Value: fmt.Sprint(v)})
	}
	slices.SortFunc(env, func(a, b ecstask.EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return env
}

func envEvent(env []ecstask.EnvVar) map[string]any {
	ev := map[string]any{}
	for _, e := range env {
		ev[strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(e.Name, envPrefix), "_", "-"))] = e.Value
	}
	return ev
}
