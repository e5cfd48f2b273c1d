// Package lambdaruntime serves a Lambda function's invocations through the Runtime API
// (AWS_LAMBDA_RUNTIME_API): take the next event, call the handler, post its answer or its error.
//
// aws-lambda-go's lambda package does this too, and vpcprobe uses that module's lambdacontext and
// messages packages; but the lambda package also carries a net/rpc mode (the go1.x runtime's),
// whose method reflection makes the linker keep every exported method of every package it links:
// with the AWS SDK's EC2 client, a plain `go build` came to 61 MB instead of 17. Its opt-out is a
// build tag (lambda.norpc) that every builder would have to remember. This loop is the part of it
// that a provided.al2023 function uses, and nothing else.
package lambdaruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Handler answers one invocation: the response payload, or an error. An error that is a
// messages.InvokeResponse_Error keeps its type; any other is reported with its Go type's name.
type Handler func(ctx context.Context, event []byte) ([]byte, error)

// apiVersion is the Runtime API's path prefix.
const apiVersion = "/2018-06-01/runtime"

// maxResponse is Lambda's limit on a synchronous invocation's response payload.
const maxResponse = 6 << 20

// Serve runs the invocation loop against the Runtime API at addr (host:port, as
// AWS_LAMBDA_RUNTIME_API has it) until ctx ends or the Runtime API fails; Lambda ends the process
// between invocations, so in a function it does not return.
func Serve(ctx context.Context, addr string, h Handler) error {
	c := &client{base: "http://" + addr + apiVersion, http: &http.Client{}}
	for {
		inv, err := c.next(ctx)
		if err != nil {
			return fmt.Errorf("lambdaruntime: next invocation: %w", err)
		}
		ictx, cancel := inv.ctx(ctx)
		r := call(ictx, h, inv.event)
		cancel()
		if err := c.answer(inv, r); err != nil {
			return fmt.Errorf("lambdaruntime: invocation %s: %w", inv.id, err)
		}
	}
}

// invocation is one event and what the Runtime API said of it.
type invocation struct {
	id, functionARN, traceID string
	deadline                 time.Time
	event                    []byte
}

// ctx returns the handler's context: the invocation's deadline, and its request id and function
// ARN as aws-lambda-go's lambdacontext carries them.
func (inv invocation) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	ctx := lambdacontext.NewContext(parent, &lambdacontext.LambdaContext{
		AwsRequestID: inv.id, InvokedFunctionArn: inv.functionARN})
	if inv.deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, inv.deadline)
}

// result is a handler's answer.
type result struct {
	payload []byte
	err     *messages.InvokeResponse_Error
}

// call runs h, turning a panic into an error answer: one bad event must not end the function.
func call(ctx context.Context, h Handler, event []byte) (r result) {
	defer func() {
		if p := recover(); p != nil {
			r = result{err: &messages.InvokeResponse_Error{Type: "Runtime.Panic", Message: fmt.Sprint(p)}}
		}
	}()
	out, err := h(ctx, event)
	if err != nil {
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) {
			ie = messages.InvokeResponse_Error{Type: fmt.Sprintf("%T", err), Message: err.Error()}
		}
		return result{err: &ie}
	}
	if len(out) > maxResponse {
		return result{err: &messages.InvokeResponse_Error{Type: "Runtime.ResponseTooLarge",
			Message: fmt.Sprintf("response of %d bytes is over Lambda's %d", len(out), maxResponse)}}
	}
	return result{payload: out}
}

// client speaks the Runtime API.
type client struct {
	base string
	http *http.Client
}

// next waits for the next invocation: the Runtime API holds the request until there is one.
func (c *client) next(ctx context.Context) (invocation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/invocation/next", nil)
	if err != nil {
		return invocation{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return invocation{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return invocation{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return invocation{}, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	inv := invocation{
		id:          resp.Header.Get("Lambda-Runtime-Aws-Request-Id"),
		functionARN: resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"),
		traceID:     resp.Header.Get("Lambda-Runtime-Trace-Id"),
		event:       body,
	}
	if inv.id == "" {
		return invocation{}, errors.New("no Lambda-Runtime-Aws-Request-Id")
	}
	if ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64); err == nil {
		inv.deadline = time.UnixMilli(ms)
	}
	// The X-Ray trace header travels in the environment, as every Lambda runtime passes it on.
	if inv.traceID != "" {
		os.Setenv("_X_AMZN_TRACE_ID", inv.traceID)
	} else {
		os.Unsetenv("_X_AMZN_TRACE_ID")
	}
	return inv, nil
}

// answer posts a handler's result for inv. It uses its own short context: an invocation whose
// deadline has passed still gets its answer delivered, if Lambda still takes it.
func (c *client) answer(inv invocation, r result) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url, body := c.base+"/invocation/"+inv.id+"/response", r.payload
	if r.err != nil {
		url = c.base + "/invocation/" + inv.id + "/error"
		body, _ = json.Marshal(r.err) // {"errorMessage": …, "errorType": …}: strings only
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.err != nil {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", r.err.Type)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
