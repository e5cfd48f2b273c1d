package lambdaruntime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestServe runs the loop against the fake Runtime API on loopback (whose own test drives it with
// aws-lambda-go's loop): responses go back byte for byte, errors keep their type, a panic is an
// error answer and the loop goes on, the handler sees the invocation's deadline and function ARN.
func TestServe(t *testing.T) {
	const arn = "arn:aws:lambda:eu-west-1:123456789012:function:vpcprobe-subnet-0a1b"
	rt := &fakeaws.Runtime{FunctionARN: arn}
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)

	handler := func(ctx context.Context, event []byte) ([]byte, error) {
		switch string(event) {
		case `"bad"`:
			return nil, messages.InvokeResponse_Error{Type: "vpcprobe.UsageError", Message: `event key "timeout": bad`}
		case `"plain error"`:
			return nil, errors.New("boom")
		case `"panic"`:
			panic("oops")
		case `"context"`:
			lc, _ := lambdacontext.FromContext(ctx)
			dl, ok := ctx.Deadline()
			return json.Marshal(map[string]any{"arn": lc.InvokedFunctionArn, "deadline": ok && time.Until(dl) > 0 && time.Until(dl) <= 5*time.Second})
		}
		return append([]byte(nil), event...), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, strings.TrimPrefix(srv.URL, "http://"), handler) }()
	t.Cleanup(func() { cancel(); <-served })

	tests := []struct {
		name, event, wantError, wantType, wantPayload string
	}{
		{"response as it is", `{"services":"s3"}`, "", "", `{"services":"s3"}`},
		{"typed error", `"bad"`, "Unhandled", "vpcprobe.UsageError", ""},
		{"untyped error", `"plain error"`, "Unhandled", "*errors.errorString", ""},
		{"panic", `"panic"`, "Unhandled", "Runtime.Panic", ""},
		{"after a panic, the loop goes on", `{}`, "", "", `{}`},
		{"context", `"context"`, "", "", `{"arn":"` + arn + `","deadline":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := rt.Invoke(context.Background(), []byte(tt.event), 5*time.Second, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.FunctionError != tt.wantError {
				t.Fatalf("function error %q, want %q (payload %s)", res.FunctionError, tt.wantError, res.Payload)
			}
			if tt.wantType != "" {
				var doc struct{ ErrorType, ErrorMessage string }
				if err := json.Unmarshal(res.Payload, &doc); err != nil || doc.ErrorType != tt.wantType || doc.ErrorMessage == "" {
					t.Errorf("error document %s (%v), want type %s", res.Payload, err, tt.wantType)
				}
				return
			}
			if string(res.Payload) != tt.wantPayload {
				t.Errorf("payload %s, want %s", res.Payload, tt.wantPayload)
			}
		})
	}
}

// TestServeRuntimeGone: when the Runtime API goes away the loop returns an error instead of
// spinning.
func TestServeRuntimeGone(t *testing.T) {
	srv := httptest.NewServer(&fakeaws.Runtime{})
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Serve(ctx, addr, func(context.Context, []byte) ([]byte, error) { return nil, nil }); err == nil {
		t.Fatal("Serve returned nil with no Runtime API")
	}
}
