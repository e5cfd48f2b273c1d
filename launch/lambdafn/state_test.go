package lambdafn

import (
	"context"
	"errors"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// TestRunLambdaFailedState: a function that never becomes Active because of the launcher's own
// setup (its role, the subnet or group ids given) has measured nothing: skip, and the launch is
// couldnottest.Err when no subnet was measured, as when CreateFunction is refused. A subnet out
// of addresses or an account out of interfaces is a finding about the subnet: fail. The codes
// are Lambda's FunctionConfiguration.StateReasonCode values (Lambda API reference; issue 17,
// item 12).
func TestRunLambdaFailedState(t *testing.T) {
	tests := []struct {
		code     string
		untested bool
		err      checks.Code
	}{
		{"InsufficientRolePermissions", true, checks.AccessDenied},
		{"InvalidSubnet", true, stopped.TaskConfig},
		{"InvalidSecurityGroup", true, stopped.TaskConfig},
		{"SubnetOutOfIPAddresses", false, stopped.NetworkInterface},
		{"EniLimitExceeded", false, stopped.NetworkInterface},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			fake, _, l := lambdaWorld(t)
			fake.SetFunctionFailed(tt.code, "the function could not be set up ("+tt.code+")")
			rep, err := l.Run(context.Background(), lambdaConfig("subnet-0000000a"))
			if got := errors.Is(err, couldnottest.Err); got != tt.untested {
				t.Errorf("error %v: could not test %v, want %v", err, got, tt.untested)
			}
			s := rep.Subnets[0]
			want := checks.Fail
			if tt.untested {
				want = checks.Skip
			}
			if s.Verdict != want || len(s.Diagnoses) != 1 || s.Diagnoses[0].Error != tt.err || s.Diagnoses[0].Verdict != want {
				t.Errorf("verdict %s, diagnoses %+v; want %s %s", s.Verdict, s.Diagnoses, want, tt.err)
			}
			if left := fake.Functions(); len(left) != 0 {
				t.Errorf("functions left: %v", left)
			}
		})
	}
}
