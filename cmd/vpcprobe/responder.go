package main

// The responder: the same binary as a Lambda function outside the failing subnets, invoked by an
// EventBridge rule on ECS Task State Change events (CONTRACT.md, "The responder"). Its settings
// are the function's VPCPROBE_RESPONDER_* variables; its answer is the diagnosis document.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/responder"
)

// respond answers one EventBridge event: the diagnosis as JSON, a JSON string "not a failed
// start: …" for any other event, or a function error when the responder is misconfigured or its
// diagnosis could not be delivered (EventBridge then retries the event, and the claims table
// keeps the retry from probing again).
func (w world) respond(ctx context.Context, event []byte, getenv func(string) (string, bool), stderr io.Writer) ([]byte, error) {
	c, err := responder.ConfigFromEnv(getenv)
	if err != nil {
		return nil, messages.InvokeResponse_Error{Type: lambdafn.UsageErrorType, Message: err.Error()}
	}
	region, _ := getenv("AWS_REGION")
	cfg, err := awsConfig(ctx, region, getenv)
	if err != nil {
		return nil, messages.InvokeResponse_Error{Type: "vpcprobe.CouldNotTest", Message: err.Error()}
	}
	exe, err := os.Executable()
	if err == nil {
		c.Code, c.Architecture, err = lambdafn.SelfCode(exe)
	}
	if err != nil {
		return nil, messages.InvokeResponse_Error{Type: lambdafn.UsageErrorType, Message: "the responder zips its own bootstrap for the probe functions: " + err.Error()}
	}
	r := responder.New(cfg, c)
	r.Shared.Progress = stderr
	if w.tuneLauncher != nil {
		w.tuneLauncher(&r.Shared)
	}
	d, err := r.Handle(ctx, event)
	switch {
	case errors.Is(err, responder.ErrNotFailedStart):
		fmt.Fprintf(stderr, "vpcprobe responder: %v\n", err)
		return json.Marshal(err.Error())
	case d == nil:
		return nil, messages.InvokeResponse_Error{Type: "vpcprobe.ResponderError", Message: err.Error()}
	case err != nil:
		// The diagnosis was made but not all of it delivered: answer it, and fail the
		// invocation so that EventBridge's retry delivers it.
		fmt.Fprintf(stderr, "vpcprobe responder: %v\n", err)
		b, _ := json.Marshal(d)
		return nil, messages.InvokeResponse_Error{Type: "vpcprobe.DeliveryFailed", Message: fmt.Sprintf("%v; diagnosis %s", err, b)}
	}
	return json.Marshal(d)
}
