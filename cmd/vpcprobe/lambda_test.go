package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/internal/testbin"
	"github.com/vpcprobe/vpcprobe/launch/lambdafn"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestEventArgs: an event's keys are flags without --; strings, booleans for switches, arrays
// for repeatable flags; anything else is an error naming the key.
func TestEventArgs(t *testing.T) {
	tests := []struct {
		name  string
		event string
		want  []string
		bad   string // the key the error must name; empty: no error
	}{
		{"empty", `{}`, nil, ""},
		{"no payload", ``, nil, ""},
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
		{"task definition", `{"for-task-definition": "app:3"}`, nil, "for-task-definition"},
		{"not an object", `["services"]`, nil, "event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eventArgs([]byte(tt.event))
			if tt.bad != "" {
				if err == nil || !strings.Contains(err.Error(), `"`+tt.bad+`"`) && !strings.HasPrefix(err.Error(), tt.bad) {
					t.Fatalf("eventArgs = %v, %v; want an error naming %q", got, err, tt.bad)
				}
				if _, ok := err.(usageError); !ok {
					t.Errorf("error %T, want a usage error", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("eventArgs = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestLambdaRuntime runs the built binary as a Lambda function's bootstrap against a Runtime API
// on loopback: aws-lambda-go's real loop takes each event from it and posts the answer. The
// function's VPCPROBE_* variables apply, the event wins over them, a bad key is a function error
// naming it, and a run that would outlast the invocation ends in time with a report.
func TestLambdaRuntime(t *testing.T) {
	bin := testbin.T(t, testbin.Probe)           // the binary a Lambda zip carries as bootstrap
	nx := awstest.Resolver(t, fakedns.NewZone()) // every name NXDOMAIN: fast, loopback only
	silentZone := fakedns.NewZone()
	silentZone.Silence(true)
	silent := awstest.Resolver(t, silentZone)

	fn := startBootstrap(t, bin, "arn:aws:lambda:eu-west-1:123456789012:function:vpcprobe-test", []string{
		"AWS_LAMBDA_FUNCTION_NAME=vpcprobe-test",
		"AWS_REGION=eu-west-1",
		"AWS_ACCESS_KEY_ID=" + awstest.AccessKey, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretKey, "AWS_SESSION_TOKEN=token",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"HOME=" + t.TempDir(),
		// The function's own settings, as its configuration would set them.
		"VPCPROBE_AMAZON_DNS=", "VPCPROBE_RESOLVER=" + nx, "VPCPROBE_SERVICES=ecr.api", "VPCPROBE_TIMEOUT=1s",
	})
	stderr := fn.stderr
	invoke := func(t *testing.T, event string, timeout time.Duration) fakeaws.InvokeResult {
		t.Helper()
		return fn.invoke(t, []byte(event), timeout)
	}
	decode := func(t *testing.T, res fakeaws.InvokeResult) report.Report {
		t.Helper()
		if res.FunctionError != "" {
			t.Fatalf("function error %s: %s\nstderr: %s", res.FunctionError, res.Payload, stderr.String())
		}
		schematest.Check(t, res.Payload)
		var rep report.Report
		if err := json.Unmarshal(res.Payload, &rep); err != nil || rep.Schema != report.Schema {
			t.Fatalf("response is not a report (%v): %s", err, res.Payload)
		}
		if !strings.HasSuffix(string(res.Payload), "}\n") || strings.Count(string(res.Payload), "\n") != 1 {
			t.Errorf("response is not exactly what --output json prints: %q", res.Payload)
		}
		if c := rep.Context; c.Runner != report.RunnerLambda || c.FunctionName != "vpcprobe-test" || c.Region != "eu-west-1" || c.Account != "123456789012" {
			t.Errorf("context = %+v, want runner lambda, function vpcprobe-test, region eu-west-1, the function ARN's account", c)
		}
		return rep
	}
	services := func(rep report.Report) []string {
		var keys []string
		for _, s := range rep.Services {
			keys = append(keys, s.Service)
		}
		return keys
	}

	t.Run("defaults", func(t *testing.T) {
		rep := decode(t, invoke(t, `{}`, 20*time.Second))
		if got := services(rep); !slices.Equal(got, []string{"ecr.api"}) {
			t.Errorf("services %v, want the function's VPCPROBE_SERVICES", got)
		}
		if rep.Services[0].Error != checks.NXDomain {
			t.Errorf("ecr.api error %q, want nxdomain from the function's VPCPROBE_RESOLVER", rep.Services[0].Error)
		}
	})
	t.Run("event wins", func(t *testing.T) {
		rep := decode(t, invoke(t, `{"services": "s3", "subnet-id": "subnet-0a1b2c3d", "subnet-cidr": "10.0.1.0/24", "security-groups": "sg-0d4e5f6a,sg-0e5f6a7b"}`, 20*time.Second))
		if got := services(rep); !slices.Equal(got, []string{"s3"}) {
			t.Errorf("services %v, want the event's", got)
		}
		c := rep.Context
		if c.SubnetID != "subnet-0a1b2c3d" || c.SubnetCIDR != "10.0.1.0/24" || !slices.Equal(c.SecurityGroups, []string{"sg-0d4e5f6a", "sg-0e5f6a7b"}) {
			t.Errorf("context = %+v, want the event's subnet and groups", c)
		}
	})
	bad := []struct{ name, event, key string }{
		{"bad duration", `{"timeout": "soon"}`, "timeout"},
		{"unknown key", `{"nope": "x"}`, "nope"},
		{"wrong type", `{"deadline": 30}`, "deadline"},
		{"bad service", `{"services": "ecr.api,dynamo"}`, "services"},
		{"refused", `{"every": "5m"}`, "every"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			res := invoke(t, tt.event, 20*time.Second)
			var doc struct{ ErrorType, ErrorMessage string }
			json.Unmarshal(res.Payload, &doc)
			if res.FunctionError != "Unhandled" || doc.ErrorType != lambdafn.UsageErrorType || !strings.Contains(doc.ErrorMessage, tt.key) {
				t.Errorf("answer %s %s, want a %s naming %q", res.FunctionError, res.Payload, lambdafn.UsageErrorType, tt.key)
			}
		})
	}
	t.Run("invocation deadline", func(t *testing.T) {
		// A silent resolver and --deadline 60s: only the invocation's 3s can end the run, and
		// it must end with a report, not Lambda's "Task timed out".
		rep := decode(t, invoke(t, `{"resolver": "`+silent+`", "timeout": "5s", "deadline": "60s"}`, 3*time.Second))
		if code := rep.Services[0].Error; code != checks.Deadline && code != checks.DNSTimeout {
			t.Errorf("ecr.api error %q, want deadline or dns-timeout", code)
		}
	})
	select {
	case err := <-fn.exited:
		t.Errorf("the bootstrap exited (%v): a function error must not end it\nstderr: %s", err, stderr.String())
	default:
	}
}
