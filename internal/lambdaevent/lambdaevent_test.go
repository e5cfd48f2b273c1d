package lambdaevent

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// probeFlags is a flag set of each kind the probe's has (cmd/vpcprobe, flags.go, where the same
// table runs against the real set in TestEventArgs): strings, durations, a switch, repeatable flags.
func probeFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("vpcprobe", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("services", "", "")
	fs.StringArray("secret", nil, "")
	fs.Duration("timeout", 5*time.Second, "")
	fs.StringArray("resolver", nil, "")
	fs.Bool("require-private", false, "")
	fs.Duration("every", 0, "")
	fs.String("for-task-definition", "", "")
	fs.String("ecs-config", "", "")
	fs.String("subnet-id", "", "")
	fs.String("security-groups", "", "")
	fs.Bool("version", false, "")
	return fs
}

// TestArgs: an event's keys are flags without --; strings, booleans for switches, arrays
// for repeatable flags; anything else is an error naming the key (CONTRACT.md, "The Lambda
// event and response", refused keys included).
func TestArgs(t *testing.T) {
	tests := []struct {
		name  string
		event string
		want  []string
		bad   string // the key the error must name; empty: no error
	}{
		{"empty", `{}`, nil, ""},
		{"no payload", ``, nil, ""},
		{"null", `null`, nil, ""},
		{"strings", `{"timeout": "3s", "services": "ecr.api,s3"}`, []string{"--services=ecr.api,s3", "--timeout=3s"}, ""},
		{"switch", `{"require-private": true}`, []string{"--require-private=true"}, ""},
		{"switch as string", `{"require-private": "false"}`, []string{"--require-private=false"}, ""},
		{"repeatable list", `{"resolver": "10.0.0.2, 10.0.0.3"}`, []string{"--resolver=10.0.0.2", "--resolver=10.0.0.3"}, ""},
		{"repeatable array", `{"secret": ["a", "b"]}`, []string{"--secret=a", "--secret=b"}, ""},
		{"launcher context", `{"subnet-id": "subnet-0a1b2c3d", "security-groups": "sg-0d4e5f6a"}`, []string{"--security-groups=sg-0d4e5f6a", "--subnet-id=subnet-0a1b2c3d"}, ""},
		{"unknown key", `{"servics": "s3"}`, nil, "servics"},
		{"dashes", `{"--services": "s3"}`, nil, "--services"},
		{"number", `{"timeout": 3}`, nil, "timeout"},
		{"object", `{"services": {"s3": true}}`, nil, "services"},
		{"switch as number", `{"require-private": 1}`, nil, "require-private"},
		{"every", `{"every": "1m"}`, nil, "every"},
		{"version", `{"version": true}`, nil, "version"},
		{"task definition", `{"for-task-definition": "app:3"}`, nil, "for-task-definition"},
		{"ecs config", `{"ecs-config": "/etc/ecs/ecs.config"}`, nil, "ecs-config"},
		{"not an object", `["services"]`, nil, "event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Args([]byte(tt.event), probeFlags())
			if tt.bad != "" {
				if err == nil || !strings.Contains(err.Error(), `"`+tt.bad+`"`) && !strings.HasPrefix(err.Error(), tt.bad) {
					t.Fatalf("Args = %v, %v; want an error naming %q", got, err, tt.bad)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error %T, want an *Error", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Args = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
