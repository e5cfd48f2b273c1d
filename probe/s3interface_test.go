package probe

import (
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestJudgeS3Interface: S3 answered at private addresses is an S3 interface endpoint (a gateway
// endpoint is a route, and S3 keeps its public addresses through it: AWS-NOTES, "S3 through a
// gateway endpoint always resolves to public addresses"). A timeout there is the interface
// endpoint's security group or ACL, not a missing gateway route; and even a reachable one is a
// warning, since "The interface endpoints for Amazon S3 can't be used with Amazon ECR" (ECS
// developer guide, interface VPC endpoints). Issue 17, item 2.
func TestJudgeS3Interface(t *testing.T) {
	s3, _ := catalogue.Lookup("s3")
	host := catalogue.LayerBucket("eu-west-1") + ".s3.eu-west-1.amazonaws.com"
	priv := addrs("10.0.3.17")
	tests := []struct {
		name    string
		results []checks.Result
		verdict checks.Status
		code    checks.Code
		diag    []string // words the diagnosis must hold
		fix     string
	}{
		{"timeout at the interface endpoint", []checks.Result{pass("dns"), fail("tcp", checks.Timeout), skip("tls")},
			checks.Fail, checks.Timeout, []string{"interface endpoint", "security group", "can't be used with Amazon ECR"}, "PrivateDnsOnlyForInboundResolverEndpoint"},
		{"reachable interface endpoint", []checks.Result{pass("dns"), pass("tcp"), pass("tls"), pass("http")},
			checks.Warn, S3Interface, []string{"interface endpoint", "can't be used with Amazon ECR"}, "gateway endpoint com.amazonaws.eu-west-1.s3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := judge(finding{svc: s3, host: host, region: "eu-west-1", route: report.RoutePrivate, addrs: priv, subnet: "10.0.1.0/24", results: tt.results})
			if j.verdict != tt.verdict || j.code != tt.code {
				t.Fatalf("%s %s, want %s %s: %s", j.verdict, j.code, tt.verdict, tt.code, j.diagnosis)
			}
			for _, w := range tt.diag {
				if !strings.Contains(j.diagnosis, w) {
					t.Errorf("diagnosis %q lacks %q", j.diagnosis, w)
				}
			}
			if !strings.Contains(j.remediation, tt.fix) {
				t.Errorf("remediation %q lacks %q", j.remediation, tt.fix)
			}
			if strings.Contains(j.diagnosis, "no route to an S3 gateway endpoint") {
				t.Errorf("blames the gateway route: %s", j.diagnosis)
			}
		})
	}
	// S3 at public addresses is the gateway's healthy state: untouched.
	j := judge(finding{svc: s3, host: host, region: "eu-west-1", route: report.RoutePublic, addrs: addrs("52.218.1.1"),
		results: []checks.Result{pass("dns"), pass("tcp"), pass("tls"), pass("http")}})
	if j.verdict != checks.Pass {
		t.Errorf("public S3: %s %s", j.verdict, j.diagnosis)
	}
}
