package main

// --for-task-definition: the probe (and the launcher, in launch.go) derive what to probe from
// an application's task definition with package needs; this file only merges the derived flags
// with the given ones and prints the notes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/pflag"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/launch/ecstask"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// fromOutside is the hint of a task definition the probe could not read: from inside an
// isolated subnet the ECS API is often out of reach, and that is no reason not to probe.
const fromOutside = "run `vpcprobe launch --for-task-definition …` from where the ECS API is reachable, or pass --for-task-definition file://task-definition.json (aws ecs describe-task-definition --task-definition … > task-definition.json)"

// withTaskDefinition reads --for-task-definition, merges what it needs into o (services and
// secrets joined to the given ones; the given --image wins) and returns the configuration
// validated again. A task definition the ECS API would not give is needs.ErrUnreadable (exit 3);
// a bad file, or one of another region, is a usage error.
func (o *options) withTaskDefinition(cfg probe.Config, getenv func(string) (string, bool), metaRegion, metaAccount string, stderr io.Writer) (probe.Config, error) {
	ref := o.forTaskDefinition
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var client needs.TaskDefinitionAPI
	if !strings.HasPrefix(ref, needs.FilePrefix) {
		awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Region))
		if err != nil {
			return cfg, usagef("--for-task-definition %s: AWS configuration: %v", ref, err)
		}
		client = ecs.NewFromConfig(awsCfg)
	}
	n, err := needs.Load(ctx, client, ref, needs.Options{Region: cfg.Region})
	switch {
	case err != nil && client != nil:
		return cfg, fmt.Errorf("--for-task-definition %s: %w; %s", ref, err, fromOutside)
	case err != nil:
		return cfg, usagef("--for-task-definition %s: %v", ref, err)
	case n.Region != cfg.Region:
		return cfg, usagef("--for-task-definition %s: the task definition is in %s, not %s; pass --region %s", ref, n.Region, cfg.Region, n.Region)
	}
	o.merge(n)
	reportNeeds(stderr, "vpcprobe", n)
	return o.config(getenv, metaRegion, metaAccount)
}

// merge adds what n needs to o's settings: its services join --services when that was given
// (else replace the default), its image is used when --image was not given, its secrets and
// parameters join the given ones.
func (o *options) merge(n *needs.Needs) {
	o.services = needs.MergeServices(o.services, o.servicesGiven, n)
	if o.image == "" {
		o.image = n.Image
	}
	o.secrets = needs.Union(o.secrets, n.Secrets)
	o.parameters = needs.Union(o.parameters, n.Parameters)
	o.otherRegions = needs.Union(o.otherRegions, n.OtherRegionFlags())
}

// reportNeeds prints what a task definition needs and the notes on what the probe cannot test,
// on stderr: stdout carries only the report.
func reportNeeds(w io.Writer, prefix string, n *needs.Needs) {
	fmt.Fprintf(w, "%s: task definition %s (%s) needs: services %s", prefix, n.TaskDefinition, n.Region, strings.Join(n.Services, ","))
	if n.Image != "" {
		fmt.Fprintf(w, "; image %s", n.Image)
	}
	if len(n.Secrets) > 0 {
		fmt.Fprintf(w, "; secrets %s", strings.Join(n.Secrets, " "))
	}
	if len(n.Parameters) > 0 {
		fmt.Fprintf(w, "; parameters %s", strings.Join(n.Parameters, " "))
	}
	fmt.Fprintln(w)
	for _, r := range n.OtherRegions {
		fmt.Fprintf(w, "%s: and in %s: services %s\n", prefix, r.Region, strings.Join(r.Services, ","))
	}
	for _, note := range n.Notes {
		fmt.Fprintf(w, "%s: note %s: %s\n", prefix, note.Code, note.Text)
	}
}

// taskRegion is the region in a task's ARN; empty when it is none.
func taskRegion(taskARN string) string {
	if _, _, region, _, _, ok := catalogue.ParseARN(taskARN); ok {
		return region
	}
	return ""
}

// needsExit is the exit status of a launch whose --for-task or --for-task-definition failed:
// 3 when an ECS call failed (nothing could be tested), 2 otherwise (a flag to fix).
func needsExit(err error) int {
	if errors.Is(err, needs.ErrUnreadable) {
		return exitUntested
	}
	return exitUsage
}

// withNeeds reads --for-task or --for-task-definition with the launcher's own credentials and
// passes what the task needs to every probe the launch starts, as VPCPROBE_* settings: given
// settings are joined (--services, --probe-env SECRET and PARAMETER) or win (--image). With
// --for-task the task's subnet, its service's security groups and its cluster are used.
func (o *launchOptions) withNeeds(ctx context.Context, client launch.TaskAPI, region string, c ecstask.Config, fs *pflag.FlagSet, stderr io.Writer) (ecstask.Config, error) {
	opts := needs.Options{Region: region, ExecuteCommand: o.executeCommand}
	var n *needs.Needs
	var err error
	if r := taskRegion(o.forTask); r != "" && r != region {
		return c, usagef("--for-task %s is in %s, not %s: pass --region %s", o.forTask, r, region, r)
	}
	if o.forTask != "" {
		var origin *launch.Origin
		origin, n, err = launch.DescribeOrigin(ctx, client, o.forTask, o.cluster, opts)
		switch {
		case errors.Is(err, stopped.ErrTaskNotFound):
			return c, usagef("--for-task: %v", err)
		case err != nil && !errors.Is(err, needs.ErrUnreadable):
			return c, usagef("--for-task: %v", err)
		case err != nil:
			return c, fmt.Errorf("--for-task %s: %w", o.forTask, err)
		}
		if err := c.UseOrigin(origin, fs.Changed("assign-public-ip")); err != nil {
			return c, usagef("%v", err)
		}
	} else {
		n, err = needs.Load(ctx, client, o.forTaskDefinition, opts)
		switch {
		case errors.Is(err, needs.ErrUnreadable):
			return c, fmt.Errorf("--for-task-definition %s: %w", o.forTaskDefinition, err)
		case err != nil:
			return c, usagef("--for-task-definition %s: %v", o.forTaskDefinition, err)
		}
	}
	if n.Region != region {
		return c, usagef("the task definition %s is in %s, not %s: pass --region %s", n.TaskDefinition, n.Region, region, n.Region)
	}
	c.UseNeeds(n, o.services, fs.Changed("services"), fs.Changed("image"))
	for _, s := range c.Subnets {
		if !subnetRE.MatchString(s) {
			return c, usagef("--for-task: the task's subnet %q is not a subnet id", s)
		}
	}
	if len(c.RunID(c.Subnets[0])) > launch.MaxRunID {
		return c, usagef("--launch-id %q: too long for the run ids <launch-id>-<subnet>", c.LaunchID)
	}
	reportNeeds(stderr, "vpcprobe launch", n)
	return c, nil
}
