package couldnottest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/checks"
)

func TestCall(t *testing.T) {
	t.Parallel()
	passRole := &smithy.GenericAPIError{Code: "AccessDeniedException",
		Message: "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/vpcprobe"}
	tests := []struct {
		name   string
		err    error
		action string
		code   checks.Code
	}{
		{"denied names the action in the message", fmt.Errorf("operation error ECS: RunTask: %w", passRole), "iam:PassRole", checks.AccessDenied},
		{"denied without an action keeps the call's", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}, "ecs:RunTask", checks.AccessDenied},
		{"credentials refused", &smithy.GenericAPIError{Code: "UnrecognizedClientException", Message: "bad token"}, "ecs:RunTask", checks.AuthFailed},
		{"timeout", context.DeadlineExceeded, "ecs:RunTask", checks.Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Call("ecs:RunTask", tt.err)
			var e *Error
			if !errors.Is(err, Err) || !errors.Is(err, tt.err) || !errors.As(err, &e) {
				t.Fatalf("%v does not match Err and its cause", err)
			}
			if e.Action != tt.action || e.Code != tt.code {
				t.Errorf("action %q code %q, want %q %q", e.Action, e.Code, tt.action, tt.code)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tt.action) {
				t.Errorf("message %q: want one line naming %s", msg, tt.action)
			}
		})
	}
	if Call("ecs:RunTask", nil) != nil {
		t.Error("a nil error is not a cause")
	}
	if err := NoCredentials(errors.New("no EC2 IMDS role found")); !errors.Is(err, Err) || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("no credentials: %v", err)
	}
}
