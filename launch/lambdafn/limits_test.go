package lambdafn

import (
	"strings"
	"testing"
)

// TestCheckTargets: a function takes one to five security groups (Lambda API reference,
// VpcConfig.SecurityGroupIds: "Maximum number of 5 items"; an existing function keeps its own)
// and its run id is at most 128 characters, as the probe's --run-id; each refusal names its flag.
func TestCheckTargets(t *testing.T) {
	groups := func(n int) []string {
		var gs []string
		for i := range n {
			gs = append(gs, "sg-0d4e5f6a"+strings.Repeat("0", i%8))
		}
		return gs
	}
	const subnet = "subnet-0a1b2c3d" // 15 characters: the run id adds them and a '-'
	tests := []struct {
		name string
		c    Config
		flag string // the flag the error starts with; empty: no error
	}{
		{"one group", Config{LaunchID: "l1", Subnets: []string{subnet}, SecurityGroups: groups(1)}, ""},
		{"five groups", Config{LaunchID: "l1", Subnets: []string{subnet}, SecurityGroups: groups(5)}, ""},
		{"six groups", Config{LaunchID: "l1", Subnets: []string{subnet}, SecurityGroups: groups(6)}, "--security-groups"},
		{"no group", Config{LaunchID: "l1", Subnets: []string{subnet}}, "--security-groups"},
		{"no group, existing function", Config{LaunchID: "l1", Subnets: []string{subnet}, FunctionName: "vpcprobe-x"}, ""},
		{"no subnet", Config{LaunchID: "l1", SecurityGroups: groups(1)}, "--subnets"},
		{"run id of 128", Config{LaunchID: strings.Repeat("a", 128-16), Subnets: []string{subnet}, SecurityGroups: groups(1)}, ""},
		{"run id of 129", Config{LaunchID: strings.Repeat("a", 129-16), Subnets: []string{subnet}, SecurityGroups: groups(1)}, "--launch-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.CheckTargets()
			switch {
			case tt.flag == "" && err != nil:
				t.Errorf("CheckTargets = %v; want nil", err)
			case tt.flag != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.flag+" ") && !strings.HasPrefix(err.Error(), tt.flag+":")):
				t.Errorf("CheckTargets = %v; want an error naming %s", err, tt.flag)
			}
		})
	}
}
