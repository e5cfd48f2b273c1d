// Package lambdaevent turns a Lambda invocation's event into the probe's command-line arguments
// (CONTRACT.md, "The Lambda event and response"): keys are flag names, values strings, booleans
// for switches or arrays for repeatable flags, and a few flags are refused in a function.
//
// It is its own package, not part of launch/lambdafn or probe: it is the function's side of the
// event (lambdafn, the launcher's side, writes it), it needs the probe's flag set, which
// cmd/vpcprobe owns and passes in, and it knows nothing of AWS, so the bootstrap's parse of its
// event links neither a runner nor a client.
package lambdaevent

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Error is an event the probe cannot run: not a JSON object, a key that is no flag or is
// refused in a function, or a value of the wrong type. Its text names the key and the fix.
type Error struct{ msg string }

// Error returns the message, naming the key.
func (e *Error) Error() string { return e.msg }

func errorf(format string, args ...any) error { return &Error{fmt.Sprintf(format, args...)} }

// refused are flags an event may not set, each with why: they make no sense for one invocation.
var refused = map[string]string{
	"every":   "a function answers one invocation; schedule it instead (EventBridge)",
	"version": "the report carries the version",
	// The function's subnet may not reach the ECS API, and the launcher already read it.
	"for-task-definition": "the launcher derives what a task definition needs and passes it in the event: vpcprobe launch --runner lambda --for-task-definition …",
	"ecs-config":          "a function is no container instance",
}

// Args turns an invocation event into command-line arguments for the flags of fs:
// {"services": "s3", "require-private": true} is --services=s3 --require-private=true, in the
// keys' order. Values are strings, or booleans for switches; a repeatable flag (stringArray)
// also takes an array of strings, and a string is split at commas. An empty or null event is no
// arguments. An unknown key, a key refused in Lambda mode or a value of the wrong type is an
// *Error naming the key.
func Args(event []byte, fs *pflag.FlagSet) ([]string, error) {
	trimmed := strings.TrimSpace(string(event))
	if trimmed == "" || trimmed == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(event, &m); err != nil {
		return nil, errorf(`event: a JSON object of flag names and values is expected, like {"services": "ecr.api,s3", "timeout": "3s"}`)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var args []string
	for _, key := range keys {
		raw := m[key]
		f := fs.Lookup(key)
		if why, ok := refused[key]; ok {
			return nil, errorf("event key %q: not available in a Lambda function: %s", key, why)
		}
		if f == nil || strings.HasPrefix(key, "-") {
			return nil, errorf("event key %q: not a vpcprobe flag (keys are flag names without --, see vpcprobe --help)", key)
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
			return nil, errorf("event key %q: %s must be %s (example: %s)", key, raw, want, example(f.Value.Type(), key))
		}
	}
	return args, nil
}

// example shows a key's value as an event carries it.
func example(typ, key string) string {
	switch typ {
	case "bool":
		return fmt.Sprintf(`{"%s": true}`, key)
	case "duration":
		return fmt.Sprintf(`{"%s": "3s"}`, key)
	}
	return fmt.Sprintf(`{"%s": "…"}`, key)
}
