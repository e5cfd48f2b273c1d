package main

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// bootstrap is a warm Lambda function in a test: bin running as a provided.* runtime's
// bootstrap (AWS_LAMBDA_RUNTIME_API pointed at the fake Runtime API) with env, serving every
// invocation from one process, as Lambda reuses a warm environment.
type bootstrap struct {
	rt     *fakeaws.Runtime
	ctx    context.Context
	exited chan error
	stderr *strings.Builder
}

// startBootstrap starts bin as function arn's bootstrap with env (the Runtime API's address is
// added); the process and the Runtime API end with the test.
func startBootstrap(t *testing.T, bin, arn string, env []string) *bootstrap {
	t.Helper()
	b := &bootstrap{rt: &fakeaws.Runtime{FunctionARN: arn}, exited: make(chan error, 1), stderr: &strings.Builder{}}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b.rt, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	b.ctx = ctx
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append([]string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String()}, env...)
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.exited <- cmd.Wait() }()
	return b
}

// invoke sends one event and returns the function's answer.
func (b *bootstrap) invoke(t *testing.T, event []byte, timeout time.Duration) fakeaws.InvokeResult {
	t.Helper()
	res, err := b.rt.Invoke(b.ctx, event, timeout, b.exited)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
