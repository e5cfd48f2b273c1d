package main

// --for-task-definition: the probe (and the launcher, in launch.go) derive what to probe from
// an application's task definition with package needs; this file only merges the derived flags
// with the given ones and prints the notes.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/probe"
)

// exitUntested is CONTRACT.md's exit 3: could not test, nothing was measured.
const exitUntested = 3

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
	o.services = mergeServices(o.services, o.servicesGiven, n)
	if o.image == "" {
		o.image = n.Image
	}
	o.secrets = union(o.secrets, n.Secrets)
	o.parameters = union(o.parameters, n.Parameters)
}

// mergeServices is the --services value of a probe for n: the derived keys, after the given
// ones when given. A task definition that needs none of the catalogue's services in its region
// (only internet images, say) keeps the default rather than probing nothing.
func mergeServices(services string, given bool, n *needs.Needs) string {
	derived := strings.Join(n.Services, ",")
	switch {
	case given && derived != "":
		return services + "," + derived
	case given || derived == "":
		return services
	}
	return derived
}

// union returns a followed by the items of b it lacks.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
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
