package stopped

import (
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
)

// ssmDenied is the agent's wording of an SSM denial (aws/amazon-ecs-agent ssmsecret.go, as
// newrelic/nri-ecs#10 quotes it, redactions filled); the IAM tails below are the forms IAM's
// access denied messages take for each kind of policy (IAM User Guide, "Troubleshoot access
// denied error messages").
const ssmDenied = `fetching secret data from SSM Parameter Store in ap-northeast-1: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/app-execution/0123456789abcdef is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:ap-northeast-1:123456789012:parameter/app/db`

// TestPolicyKind: the kind of policy an AccessDenied names decides who can fix it: the role's
// owner for an identity policy, the organization's administrators for an SCP or RCP, the
// endpoint's owner for a VPC endpoint policy, whoever sets boundaries for a boundary.
func TestPolicyKind(t *testing.T) {
	tests := []struct {
		tail, kind string
		fix        []string // the fix says these
		not        string   // and not this
	}{
		{" because no identity-based policy allows the ssm:GetParameters action", "identity", []string{"Allow ssm:GetParameters in a policy attached to the role app-execution"}, "organization"},
		{" with an explicit deny in an identity-based policy", "identity-deny", []string{"Deny statement", "the role app-execution"}, "organization"},
		{" with an explicit deny in a service control policy", "scp", []string{"service control policy", "organization's administrators", "the role app-execution"}, "Allow ssm:GetParameters in a policy attached"},
		{" with an explicit deny in a resource control policy", "rcp", []string{"resource control policy", "organization's administrators"}, "Allow ssm:GetParameters in a policy attached"},
		{" because no VPC endpoint policy allows the ssm:GetParameters action", "vpce", []string{"com.amazonaws.ap-northeast-1.ssm", "modify-vpc-endpoint"}, "organization"},
		{" with an explicit deny in a VPC endpoint policy", "vpce", []string{"com.amazonaws.ap-northeast-1.ssm"}, "organization"},
		{" because no permissions boundary allows the ssm:GetParameters action", "boundary", []string{"permissions boundary attached to the role app-execution"}, "organization"},
		{" because no session policy allows the ssm:GetParameters action", "session", []string{"session policy"}, "organization"},
		{" because no resource-based policy allows the ssm:GetParameters action", "resource", []string{"resource's policy"}, "organization"},
		{"", "unknown", []string{"Allow ssm:GetParameters", "service control policy"}, "<role>"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			reason := ssmDenied + tt.tail
			if k := readReason(reason, "", "").policy.name; k != tt.kind {
				t.Errorf("policy kind %q, want %q", k, tt.kind)
			}
			d, ok := TranslateReason(reason, "", "")
			if !ok || d.Error != checks.AccessDenied || d.Service != "ssm" {
				t.Fatalf("diagnosis %+v", d)
			}
			for _, w := range tt.fix {
				if !strings.Contains(d.Remediation, w) {
					t.Errorf("fix does not say %q: %s", w, d.Remediation)
				}
			}
			if strings.Contains(d.Remediation, tt.not) {
				t.Errorf("fix says %q: %s", tt.not, d.Remediation)
			}
		})
	}
}

// TestFactsFromText: the region comes from any ARN or host of the reason (or the agent's "in
// <region>"), the role from an assumed-role ARN, the secret from its ARN, the file system from
// its id even when the reason is cut, the DNS server from a lookup.
func TestFactsFromText(t *testing.T) {
	tests := []struct {
		name, reason            string
		region, role, secret    string
		fs, lookup, dns, passed string
	}{
		{"secret ARN", `unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch secret arn:aws:secretsmanager:us-west-2:123456789012:secret:DBPasswordSecret-AbCdEf from secrets manager: RequestCanceled: request context canceled caused by: context deadline exceeded.`,
			"us-west-2", "", "arn:aws:secretsmanager:us-west-2:123456789012:secret:DBPasswordSecret-AbCdEf", "", "", "", ""},
		{"agent's in <region>, role", ssmDenied, "ap-northeast-1", "app-execution", "arn:aws:ssm:ap-northeast-1:123456789012:parameter/app/db", "", "", "", ""},
		{"GovCloud host", `Post "https://logs.us-gov-west-1.amazonaws.com/": dial tcp 10.0.2.7:443: i/o timeout`, "us-gov-west-1", "", "", "", "", "", ""},
		{"China ARN", `AccessDeniedException: User: arn:aws-cn:sts::123456789012:assumed-role/ecsTaskExecutionRole/abc is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db-AbCdEf`,
			"cn-north-1", "ecsTaskExecutionRole", "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db-AbCdEf", "", "", "", ""},
		{"cut file system name", `ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: Failed to resolve "fs-0867a83d8ed398433.efs.`, "", "", "", "fs-0867a83d8ed398433", "", "", ""},
		{"lookup", `dial tcp: lookup registry-1.docker.io on 172.31.0.2:53: no such host`, "", "", "", "", "registry-1.docker.io", "172.31.0.2:53", ""},
		{"passed role", `User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/service-role/ecsTaskExecutionRole`, "", "ci", "", "", "", "", "ecsTaskExecutionRole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := readReason(tt.reason, "", "")
			got := []string{f.region, f.role, f.secret, f.fs, f.lookup, f.dnsServer, f.passed}
			want := []string{tt.region, tt.role, tt.secret, tt.fs, tt.lookup, tt.dns, tt.passed}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("fact %d = %q, want %q", i, got[i], want[i])
				}
			}
		})
	}
}

// TestRegionFromTheReason: with no task ARN and no --region, a region in the reason still
// names the endpoints (it said "region unknown" before).
func TestRegionFromTheReason(t *testing.T) {
	d, ok := TranslateReason(`ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch secret arn:aws:secretsmanager:us-west-2:123456789012:secret:DBPasswordSecret-AbCdEf from secrets manager: RequestCanceled: request context canceled caused by: context deadline exceeded.`, "", "")
	if !ok || d.EndpointService != "com.amazonaws.us-west-2.secretsmanager" || strings.Contains(d.Remediation, "region is unknown") {
		t.Errorf("diagnosis %+v", d)
	}
}

// TestDNSLookupIsDNS: a failed lookup is a DNS failure, not a connect timeout, whatever comes
// after it, even when the reason is cut before the outcome (docker-archive/compose-cli#911).
func TestDNSLookupIsDNS(t *testing.T) {
	for reason, code := range map[string]checks.Code{
		`CannotPullContainerError: failed to do request: Head https://registry-1.docker.io/v2/library/nginx/manifests/1: dial tcp: lookup registry-1.docker.io on 172.31.0.2:53: no such host`:                                                                            checks.NXDomain,
		`CannotPullContainerError: failed to do request: Head https://registry-1.docker.io/v2/library/nginx/manifests/1: dial tcp: lookup registry-1.docker.io on 172.31.0.2:53: i/o timeout`:                                                                             checks.DNSTimeout,
		`CannotPullContainerError: failed to resolve ref "docker.io/docker/ecs-searchdomain-sidecar:1.0": failed to do request: Head https://registry-1.docker.io/v2/docker/ecs-searchdomain-sidecar/manifests/1.0: dial tcp: lookup registry-1.docker.io on 172.31.0...`: checks.DNSTimeout,
	} {
		d, ok := TranslateReason(reason, "eu-west-1", "")
		if !ok || d.Error != code || d.Cause != CauseImagePull || d.Service != "" || !strings.Contains(d.Diagnosis, "registry-1.docker.io") || strings.Contains(d.Diagnosis, "timed out") {
			t.Errorf("%s:\n%+v", reason, d)
		}
	}
}

// TestRicherReason: when the stopped reason and a container's reason say the same step, the
// diagnosis keeps the one with more facts (the console cuts the stopped reason; the
// container's reason has the host and the address), whichever ECS lists first.
func TestRicherReason(t *testing.T) {
	cut := `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 5 time(s): RequestError: send request failed caused by: Post https://api.ecr....`                                                                                                            // aws/aws-app-mesh-examples#413
	full := `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr.us-east-2.amazonaws.com/": dial tcp 10.0.1.5:443: i/o timeout. Please check your task network configuration.` // doctorray117/minecraft-ondemand#74, a private address
	for _, task := range []Task{
		{StoppedReason: cut, Containers: []Container{{Name: "app", Reason: full}}},
		{StoppedReason: full, Containers: []Container{{Name: "app", Reason: cut}}},
	} {
		ds := Translate(task)
		if len(ds) != 1 {
			t.Fatalf("diagnoses %+v", ds)
		}
		if d := ds[0]; d.Host != "api.ecr.us-east-2.amazonaws.com" || d.Address != "10.0.1.5" || d.Route != "private" || d.EndpointService != "com.amazonaws.us-east-2.ecr.api" {
			t.Errorf("kept the poorer reason: %+v", d)
		}
	}
}

// TestTruncatedHost: a reason cut inside a host keeps what the host says (api.ecr is the
// registry login's host).
func TestTruncatedHost(t *testing.T) {
	d, ok := TranslateReason(`ResourceInitializationError: service call has been retried 1 time(s): RequestError: send request failed caused by: Post https://api.ecr....`, "eu-west-1", "")
	if !ok || d.Service != "ecr.api" || d.Cause != CauseRegistryAuth {
		t.Errorf("diagnosis %+v", d)
	}
}

// TestManagedInstancesPassRole: with ECS Managed Instances, the managed infrastructure policy
// allows iam:PassRole only on roles named ecsInstanceRole* (ECS developer guide, "Amazon ECS
// Managed Instances instance profile"), so a denial to pass an instance role named otherwise
// says so. The reason is built from that page's description and IAM's message form: no real
// one was found (see the report).
func TestManagedInstancesPassRole(t *testing.T) {
	reason := `User: arn:aws:sts::123456789012:assumed-role/ecsInfrastructureRole/ECSManagedInstances is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/MyStack-InstanceRole-ABC123 because no identity-based policy allows the iam:PassRole action`
	d, ok := TranslateReason(reason, "", "")
	if !ok || d.Cause != CausePassRole || !strings.Contains(d.Remediation, "must start with ecsInstanceRole") || !strings.Contains(d.Remediation, "MyStack-InstanceRole-ABC123") {
		t.Errorf("diagnosis %+v", d)
	}
	d, _ = TranslateReason(strings.ReplaceAll(reason, "MyStack-InstanceRole-ABC123", "ecsTaskExecutionRole"), "", "")
	if strings.Contains(d.Remediation, "ecsInstanceRole") {
		t.Errorf("the Managed Instances note for a task execution role: %s", d.Remediation)
	}
}

// TestClusterOfTaskARN: the long task ARN names its cluster; a task id and the old short ARN
// do not.
func TestClusterOfTaskARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef":     "prod",
		"arn:aws-cn:ecs:cn-north-1:123456789012:task/batch-jobs/0123456789abcdef":           "batch-jobs",
		"arn:aws:ecs:us-east-1:123456789012:task/b99d40b3-5176-4f71-9a52-9dbd6f1cebef":      "",
		"0123456789abcdef0123456789abcdef":                                                  "",
		"arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef012345": "",
	} {
		if got := ClusterOfTaskARN(arn); got != want {
			t.Errorf("ClusterOfTaskARN(%s) = %q, want %q", arn, got, want)
		}
	}
}
