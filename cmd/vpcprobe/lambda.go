package main

// Lambda mode: the same binary as a Lambda function's bootstrap (custom runtime provided.al2023),
// for the subnets whose tasks cannot pull the probe's image. CONTRACT.md, "Running where the
// task cannot": the event is a JSON object of flag names (without --) and values, {} means the
// defaults, the function's VPCPROBE_* variables apply as in a task (the event wins, as a flag
// does), a bad value is a function error naming the key, and the response is the JSON report.

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/lambdaevent"
	"github.com/vpcprobe/vpcprobe/internal/lambdaruntime"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/responder"
)

// lambdaRuntimeVar is set by Lambda in a function's environment: the Runtime API's address.
const lambdaRuntimeVar = "AWS_LAMBDA_RUNTIME_API"

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
	meta := probe.Metadata{SubnetCIDR: o.subnetCIDR, IPv6SubnetCIDR: o.subnetIPv6CIDR}
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
			cfg.Account = lambdafn.AccountOfFunction(lc.InvokedFunctionArn)
		}
	}
	cfg.Version = buildStamp().Version
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

// eventArgs turns an invocation event into command-line arguments for the probe's flags
// (lambdaevent.Args); a bad event is a usage error naming the key.
func eventArgs(event []byte) ([]string, error) {
	args, err := lambdaevent.Args(event, newFlagSet(&options{}, io.Discard))
	if err != nil {
		return nil, usagef("%v", err)
	}
	return args, nil
}
