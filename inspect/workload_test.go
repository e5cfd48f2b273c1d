package inspect

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestEphemeralByWorkload builds, in moto_server, task subnets whose network ACL lets answers in
// on part of 1024-65535 and asserts that only the workload's own ephemeral range decides (VPC
// user guide, network ACLs: Linux 32768-60999, AWS's example ACL 32768-65535, Windows Server
// 49152-65535, Lambda and NAT gateways 1024-65535), and that the finding names the range.
func TestEphemeralByWorkload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	allow, deny := ec2types.RuleActionAllow, ec2types.RuleActionDeny
	cases := []struct {
		name     string
		inbound  [2]int32 // the inbound allow of the task subnet's ACL
		workload Workload
		fail     bool   // a fail CodeACLTaskIn
		names    string // the range the fail names
		narrow   bool   // the info that a Lambda function would fail
	}{
		{"AWS's example ACL, Linux task", [2]int32{32768, 65535}, "", false, "", true},
		{"AWS's example ACL, Linux named", [2]int32{32768, 65535}, WorkloadLinux, false, "", true},
		{"AWS's example ACL, Windows", [2]int32{32768, 65535}, WorkloadWindows, false, "", true},
		{"AWS's example ACL, Lambda", [2]int32{32768, 65535}, WorkloadLambda, true, "1024-65535", false},
		{"Windows range only, Linux task", [2]int32{49152, 65535}, "", true, "32768-60999", false},
		{"Windows range only, Windows", [2]int32{49152, 65535}, WorkloadWindows, false, "", true},
		{"everything, Lambda", [2]int32{1024, 65535}, WorkloadLambda, false, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := build(t, e, options{})
			w.taskACL(
				aclEntry(100, true, allow, "0.0.0.0/0", 0, 65535),
				aclEntry(100, false, allow, "0.0.0.0/0", tc.inbound[0], tc.inbound[1]),
				aclEntry(110, false, allow, "0.0.0.0/0", 443, 443),
				aclEntry(200, false, deny, "0.0.0.0/0", 0, 65535))
			reps, err := Subnets(ctx, e.clients(), []Target{{SubnetID: w.task, SecurityGroups: []string{w.taskSG}, Workload: tc.workload}}, defaultServices(t))
			if err != nil {
				t.Fatal(err)
			}
			rep := reps[0]
			i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeACLTaskIn && f.Severity == Fail })
			if (i >= 0) != tc.fail {
				t.Errorf("fail %s: %t, want %t", CodeACLTaskIn, i >= 0, tc.fail)
			}
			if i >= 0 && !strings.Contains(rep.Findings[i].Diagnosis, tc.names) {
				t.Errorf("the finding does not name %s: %s", tc.names, rep.Findings[i].Diagnosis)
			}
			if i >= 0 && (fixOf(rep.Findings[i]) == nil || fixOf(rep.Findings[i]).FromPort != 1024 || fixOf(rep.Findings[i]).ToPort != 65535) {
				t.Errorf("the fix does not allow 1024-65535: %+v", rep.Findings[i].Fix)
			}
			narrow := slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeACLEphemeralNarrow && f.Severity == Info })
			if narrow != tc.narrow {
				t.Errorf("info %s: %t, want %t", CodeACLEphemeralNarrow, narrow, tc.narrow)
			}
			if t.Failed() {
				t.Logf("report:\n%s", rep.Text())
			}
		})
	}
	if _, err := ParseWorkload("solaris"); err == nil {
		t.Errorf("ParseWorkload accepts solaris")
	}
}

// TestFewAddresses: a /28 task subnet (AWS keeps 5 of its 16 addresses) filled with network
// interfaces in moto_server warns below a few free addresses.
func TestFewAddresses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w := build(t, e, options{})
	small := w.subnet("10.0.50.0/28", region+"a")
	check := func(want Severity) {
		t.Helper()
		rep, err := Subnet(ctx, e.clients(), small, []string{w.taskSG}, defaultServices(t))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeSubnetFewAddresses })
		switch {
		case want == "" && i >= 0:
			t.Errorf("unexpected %s: %s", CodeSubnetFewAddresses, rep.Findings[i].Diagnosis)
		case want != "" && (i < 0 || rep.Findings[i].Severity != want || !slices.Contains(rep.Findings[i].Resources, small)):
			t.Errorf("no %s %s naming %s:\n%s", want, CodeSubnetFewAddresses, small, rep.Text())
		}
	}
	check("")
	for range 8 { // 11 free, 3 left
		_, err := e.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(small)})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(Warn)
}
