package main

// Lambda mode: the same binary as a Lambda function's bootstrap (custom runtime provided.al2023),
// for the subnets whose tasks cannot pull the probe's image. CONTRACT.md, "Running where the
// task cannot": the event is a JSON object of flag names (without --) and values, {} means the
// defaults, the function's VPCPROBE_* variables apply as in a task (the event wins, as a flag
// does), a bad value is a function error naming the key, and the response is the JSON report.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/lambdaruntime"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/responder"
)

// lambdaRuntimeVar is set by Lambda in a function's environment: the Runtime API's address.
const lambdaRuntimeVar = "AWS_LAMBDA_RUNTIME_API"

// lambdaRefused are flags an event may not set: they make no sense for one invocation.
var lambdaRefused = map[string]string{
	"every":   "a function answers one invocation; schedule it instead (EventBridge)",
	"version": "the report carries the version",
	// The function's subnet may not reach the ECS API, and the launcher already read it.
	"for-task-definition": "the launcher derives what a task definition needs and passes it in the event: vpcprobe launch --runner lambda --for-task-definition …",
	"ecs-config":          "a function is no container instance",
}

// inLambda reports whether the process is a Lambda function's bootstrap.
func inLambda(getenv func(string) (string, bool)) bool {
	v, ok := getenv(lambdaRuntimeVar)
	return ok && v != ""
}

// runLambda serves invocations until Lambda ends the process. It returns only when the Runtime
// API fails, with the exit status for that.
func runLambda(getenv func(string) (string, bool), stderr io.Writer) int {
	addr, _ := getenv(lambdaRuntimeVar)
	// The handler's bytes are posted as they are: the response is exactly what --output json prints.
	err := lambdaruntime.Serve(context.Background(), addr, lambdaHandler{getenv: getenv, stderr: stderr}.Invoke)
	fmt.Fprintf(stderr, "vpcprobe: %v\n", err)
	return exitUntested
}

// lambdaHandler probes once per invocation.
type lambdaHandler struct {
	w      world
	getenv func(string) (string, bool)
	stderr io.Writer // the function's log
}

// Invoke answers one invocation: the JSON report, or a function error naming the bad key. An
// EventBridge event from ECS is the responder's (responder.go).
func (h lambdaHandler) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	if responder.IsEvent(event) {
		return h.w.respond(ctx, event, h.getenv, h.stderr)
	}
	started := time.Now()
	p, err := h.w.lambdaProber(ctx, event, h.getenv, started)
	if err != nil {
		return nil, messages.InvokeResponse_Error{Type: lambdafn.UsageErrorType, Message: err.Error()}
	}
	rep := probeOnce(p, started)
	return rep.JSON(), nil
}

// lambdaProber builds the run an event asks for. Lambda has no task metadata: the region is the
// function's AWS_REGION, the subnet and groups are what the launcher put in the event.
func (w world) lambdaProber(ctx context.Context, event []byte, getenv func(string) (string, bool), started time.Time) (*probe.Prober, error) {
	o, err := lambdaOptions(event, getenv)
	if err != nil {
		return nil, err
	}
	meta := probe.Metadata{SubnetCIDR: o.subnetCIDR}
	cfg, err := o.config(getenv, "", "")
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		cfg.Timeout, cfg.Deadline = lambdafn.Budget(cfg.Timeout, cfg.Deadline, time.Until(dl))
		if cfg.Deadline <= 0 {
			return nil, usagef("the invocation's deadline leaves no time to probe: raise the function's timeout above --deadline (%s) plus a second", o.deadline)
		}
	}
	if cfg.Account == "" {
		// As a task's ARN does, the function's names its account: the registry's for ecr.dkr
		// when STS is out of reach (an isolated subnet), without a second --timeout waiting.
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			if parts := strings.Split(lc.InvokedFunctionArn, ":"); len(parts) > 4 && catalogue.ValidAccount(parts[4]) {
				cfg.Account = parts[4]
			}
		}
	}
	cfg.Version = version
	cfg.Runner = report.RunnerLambda
	cfg.FunctionName, _ = getenv("AWS_LAMBDA_FUNCTION_NAME")
	if cfg.LogGroup != "" && cfg.LogStream == "" {
		id := cfg.FunctionName
		if id == "" {
			id = "vpcprobe"
		}
		cfg.LogStream = id + "/" + started.UTC().Format("2006-01-02T15-04-05Z")
	}
	caBundle, _ := getenv("AWS_CA_BUNDLE")
	roots, err := checks.LoadRoots(caBundle)
	if err != nil {
		return nil, usagef("AWS_CA_BUNDLE: %v", err)
	}
	p := &probe.Prober{Config: cfg, Roots: roots, Proxy: proxyFrom(getenv), Metadata: meta}
	if w.adjustProber != nil {
		w.adjustProber(p)
	}
	p.UseAWS(ctx, getenv)
	return p, nil
}

// lambdaOptions parses an event, then the function's VPCPROBE_* variables, as the command line
// and the environment are parsed.
func lambdaOptions(event []byte, getenv func(string) (string, bool)) (*options, error) {
	args, err := eventArgs(event)
	if err != nil {
		return nil, err
	}
	o, err := parseArgs(args, getenv, io.Discard)
	if err != nil {
		return nil, err
	}
	if o.output == "text" {
		return nil, usagef(`event key "output": a function's response is always the JSON report`)
	}
	return o, nil
}

// eventArgs turns an invocation event into command-line arguments: {"services": "s3",
// "require-private": true} is --services=s3 --require-private=true. Values are strings, or
// booleans for switches; a repeatable flag also takes an array of strings. An unknown key, a key
// refused in Lambda mode or a value of the wrong type is an error naming the key.
func eventArgs(event []byte) ([]string, error) {
	trimmed := strings.TrimSpace(string(event))
	if trimmed == "" || trimmed == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(event, &m); err != nil {
		return nil, usagef(`event: a JSON object of flag names and values is expected, like {"services": "ecr.api,s3", "timeout": "3s"}`)
	}
	fs := newFlagSet(&options{}, io.Discard)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var args []string
	for _, key := range keys {
		raw := m[key]
		f := fs.Lookup(key)
		if why, refused := lambdaRefused[key]; refused {
			return nil, usagef("event key %q: not available in a Lambda function: %s", key, why)
		}
		if f == nil || strings.HasPrefix(key, "-") {
			return nil, usagef("event key %q: not a vpcprobe flag (keys are flag names without --, see vpcprobe --help)", key)
		}
		var s string
		var b bool
		var list []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			if f.Value.Type() == "stringArray" {
				for _, item := range strings.Split(s, ",") {
					if item = strings.TrimSpace(item); item != "" {
						args = append(args, "--"+key+"="+item)
					}
				}
				continue
			}
			args = append(args, "--"+key+"="+s)
		case f.Value.Type() == "bool" && json.Unmarshal(raw, &b) == nil:
			args = append(args, fmt.Sprintf("--%s=%t", key, b))
		case f.Value.Type() == "stringArray" && json.Unmarshal(raw, &list) == nil:
			for _, item := range list {
				args = append(args, "--"+key+"="+item)
			}
		default:
			want := "a string"
			if f.Value.Type() == "bool" {
				want = "true or false"
			}
			return nil, usagef("event key %q: %s must be %s (example: %s)", key, raw, want, eventExample(f.Value.Type(), key))
		}
	}
	return args, nil
}

// eventExample shows a key's value as an event carries it.
func eventExample(typ, key string) string {
	switch typ {
	case "bool":
		return fmt.Sprintf(`{"%s": true}`, key)
	case "duration":
		return fmt.Sprintf(`{"%s": "3s"}`, key)
	}
	return fmt.Sprintf(`{"%s": "…"}`, key)
}
