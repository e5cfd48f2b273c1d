package join

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// finding is a finding of code about service key (Services when key is "").
func finding(code, key string, sev inspect.Severity, services ...string) inspect.Finding {
	return inspect.Finding{Service: key, Services: services, Severity: sev, Code: code, Resources: []string{"r-" + code},
		Diagnosis: "d " + code, Remediation: "fix " + code, Command: "aws ec2 fix-" + code}
}

// liveService is a probe report's service entry whose check failed with code.
func liveService(key string, verdict checks.Status, check, route string, code checks.Code) report.ServiceReport {
	sr := report.ServiceReport{Service: key, Verdict: verdict, Error: code, Route: route,
		Checks: []report.CheckReport{{Name: "dns", Status: checks.Pass}}}
	if check != "dns" {
		sr.Checks = append(sr.Checks, report.CheckReport{Name: check, Status: verdict, Error: code})
	} else {
		sr.Checks[0] = report.CheckReport{Name: "dns", Status: verdict, Error: code}
	}
	return sr
}

func codesOf(fs []inspect.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// TestJoinTable: which findings explain which live failure, which live failure the configuration
// does not explain, and which finding the live run did not hit.
func TestJoinTable(t *testing.T) {
	no := false
	tests := []struct {
		name       string
		live       report.ServiceReport
		findings   []inspect.Finding
		explained  []string // codes attached to the live failure
		unexplain  bool     // marked not-explained-by-configuration
		configOnly []string
	}{
		{"private timeout: endpoint group without 443",
			liveService("ecr.api", checks.Fail, "tcp", report.RoutePrivate, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeSGEndpointIngress, "ecr.api", inspect.Fail), finding(inspect.CodeRouteNAT, "", inspect.Warn, "logs")},
			[]string{inspect.CodeSGEndpointIngress}, false, []string{inspect.CodeRouteNAT}},
		{"private timeout: the task's egress and a network ACL",
			liveService("logs", checks.Fail, "tcp", report.RoutePrivate, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeSGTaskEgress, "", inspect.Fail, "logs", "sts"), finding(inspect.CodeACLEndpointIn, "logs", inspect.Fail)},
			[]string{inspect.CodeSGTaskEgress, inspect.CodeACLEndpointIn}, false, nil},
		{"private timeout in one zone: the zone's ACL",
			liveService("ecr.api", checks.Warn, "tcp", report.RoutePrivate, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeACLEndpointIn, "ecr.api", inspect.Fail)},
			[]string{inspect.CodeACLEndpointIn}, false, nil},
		{"public timeout: endpoint missing",
			liveService("logs", checks.Fail, "tcp", report.RoutePublic, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeEndpointMissing, "logs", inspect.Fail), finding(inspect.CodeEndpointMissing, "sts", inspect.Fail)},
			[]string{inspect.CodeEndpointMissing}, false, []string{inspect.CodeEndpointMissing}},
		{"public timeout: S3 without gateway",
			liveService("s3", checks.Fail, "tcp", report.RoutePublic, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodeS3GatewayMissing, "s3", inspect.Fail)},
			[]string{inspect.CodeS3GatewayMissing}, false, nil},
		{"public timeout: private DNS off",
			liveService("ecr.dkr", checks.Fail, "tcp", report.RoutePublic, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodePrivateDNSOff, "ecr.dkr", inspect.Fail)},
			[]string{inspect.CodePrivateDNSOff}, false, nil},
		{"no answer: a forwarding rule",
			liveService("sts", checks.Fail, "dns", report.RouteNone, checks.NoAnswer),
			[]inspect.Finding{finding(inspect.CodeResolverForward, "sts", inspect.Fail)},
			[]string{inspect.CodeResolverForward}, false, nil},
		{"resolvers disagree: custom DNS",
			func() report.ServiceReport {
				sr := liveService("logs", checks.Warn, "dns", report.RoutePublic, "")
				sr.AmazonDNS = &report.SecondDNS{Status: checks.Pass, Route: report.RoutePrivate, Agrees: &no}
				return sr
			}(),
			[]inspect.Finding{finding(inspect.CodeDHCPCustomDNS, "", inspect.Warn, "logs", "s3")},
			[]string{inspect.CodeDHCPCustomDNS}, false, nil},
		{"public route through a NAT: the missing endpoint and the NAT route",
			report.ServiceReport{Service: "logs", Verdict: checks.Warn, Error: probe.PublicRoute, Route: report.RoutePublic,
				Checks: []report.CheckReport{{Name: "dns", Status: checks.Pass}, {Name: "tcp", Status: checks.Pass}}},
			[]inspect.Finding{finding(inspect.CodeEndpointViaNAT, "logs", inspect.Warn), finding(inspect.CodeRouteNAT, "", inspect.Warn, "logs", "s3"),
				finding(inspect.CodeSGEndpointIngress, "logs", inspect.Warn)},
			[]string{inspect.CodeEndpointViaNAT, inspect.CodeRouteNAT}, false, nil},
		{"resolver mismatch: a forwarding rule",
			report.ServiceReport{Service: "sts", Verdict: checks.Fail, Error: probe.ResolverMismatch, Route: report.RoutePublic,
				Checks: []report.CheckReport{{Name: "dns", Status: checks.Pass}}},
			[]inspect.Finding{finding(inspect.CodeResolverForward, "sts", inspect.Fail)},
			[]string{inspect.CodeResolverForward}, false, nil},
		{"access denied: the gateway policy",
			liveService("s3", checks.Fail, "api", report.RoutePublic, checks.AccessDenied),
			[]inspect.Finding{finding(inspect.CodeS3PolicyDenies, "s3", inspect.Fail), finding(inspect.CodePolicyCustom, "s3", inspect.Info)},
			[]string{inspect.CodeS3PolicyDenies, inspect.CodePolicyCustom}, false, nil},
		{"silent endpoint: tls handshake, nothing in the configuration",
			liveService("logs", checks.Fail, "tls", report.RoutePrivate, checks.TLSHandshake),
			[]inspect.Finding{finding(inspect.CodeEndpointMissing, "sts", inspect.Fail)},
			nil, true, []string{inspect.CodeEndpointMissing}},
		{"private timeout with only an unrelated warning: not explained, the warning related",
			liveService("logs", checks.Fail, "tcp", report.RoutePrivate, checks.Timeout),
			[]inspect.Finding{finding(inspect.CodePermission, "", inspect.Warn, "logs")},
			nil, true, nil},
		{"no rule matches, a fail finding on the service still explains it",
			liveService("logs", checks.Fail, "tls", report.RoutePrivate, checks.TLSHandshake),
			[]inspect.Finding{finding(inspect.CodeEndpointNotAvailable, "logs", inspect.Fail)},
			[]string{inspect.CodeEndpointNotAvailable}, false, nil},
		{"the service passed: its finding is config only",
			liveService("logs", checks.Pass, "tcp", report.RoutePrivate, ""),
			[]inspect.Finding{finding(inspect.CodeEndpointOtherAZ, "logs", inspect.Warn), finding(inspect.CodePolicyCustom, "logs", inspect.Info)},
			nil, false, []string{inspect.CodeEndpointOtherAZ}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Join(&report.Report{Services: []report.ServiceReport{tt.live}}, nil, &inspect.Report{VPCID: "vpc-1", Services: []string{"ecr.api", "ecr.dkr", "s3", "logs", "sts"}, Findings: tt.findings})
			if got := codesOf(in.ConfigOnly); !slices.Equal(got, tt.configOnly) {
				t.Errorf("config only %v, want %v", got, tt.configOnly)
			}
			if tt.live.Verdict == checks.Pass {
				if len(in.Services) != 0 {
					t.Errorf("a passed service joined: %+v", in.Services)
				}
				return
			}
			if len(in.Services) != 1 {
				t.Fatalf("joined %d services, want 1", len(in.Services))
			}
			j := in.Services[0]
			if got := codesOf(j.Findings); !slices.Equal(got, tt.explained) {
				t.Errorf("explained by %v, want %v", got, tt.explained)
			}
			if (j.NotExplained != nil) != tt.unexplain {
				t.Errorf("not explained %+v, want %v", j.NotExplained, tt.unexplain)
			}
			if j.NotExplained != nil && (j.NotExplained.Code != CodeNotExplained || len(j.NotExplained.CouldBe) == 0) {
				t.Errorf("not explained %+v", j.NotExplained)
			}
			// Nothing bearing on the service is hidden: every finding that affects it is
			// attached, as explaining or related.
			for _, f := range tt.findings {
				if f.Affects(j.Service) && !slices.Contains(codesOf(j.Findings), f.Code) && !slices.Contains(codesOf(j.Related), f.Code) {
					t.Errorf("finding %s affects %s and is not attached", f.Code, j.Service)
				}
			}
		})
	}
}

// TestJoinFromDiagnoses: a task that never ran has no report; the services its stopped reason
// names are joined instead, with their route.
func TestJoinFromDiagnoses(t *testing.T) {
	diagnoses := []stopped.Diagnosis{
		{Service: "ecr.api", Verdict: checks.Fail, Error: checks.Timeout, Route: report.RoutePublic, Source: "stopped_reason"},
		{Verdict: checks.Fail, Error: stopped.Unknown, Source: "exit_code"},
	}
	in := Join(nil, diagnoses, &inspect.Report{Services: []string{"ecr.api", "s3"}, Findings: []inspect.Finding{
		finding(inspect.CodeEndpointMissing, "ecr.api", inspect.Fail), finding(inspect.CodeS3GatewayMissing, "s3", inspect.Fail)}})
	if len(in.Services) != 1 || in.Services[0].Service != "ecr.api" || !slices.Equal(codesOf(in.Services[0].Findings), []string{inspect.CodeEndpointMissing}) {
		t.Errorf("joined %+v", in.Services)
	}
	if !slices.Equal(codesOf(in.ConfigOnly), []string{inspect.CodeS3GatewayMissing}) {
		t.Errorf("config only %v", codesOf(in.ConfigOnly))
	}
}

// TestJoinText: under the subnet, the failing service with its finding and command, then the
// unexplained one, then the configuration problems the live run did not hit.
func TestJoinText(t *testing.T) {
	live := &report.Report{Services: []report.ServiceReport{
		liveService("ecr.api", checks.Fail, "tcp", report.RoutePrivate, checks.Timeout),
		liveService("logs", checks.Fail, "tls", report.RoutePrivate, checks.TLSHandshake),
	}}
	in := Join(live, nil, &inspect.Report{VPCID: "vpc-1", Services: []string{"ecr.api", "logs", "sts"}, Findings: []inspect.Finding{
		finding(inspect.CodeSGEndpointIngress, "ecr.api", inspect.Fail), finding(inspect.CodeEndpointMissing, "sts", inspect.Fail)}})
	var b bytes.Buffer
	in.Write(&b)
	text := b.String()
	order := []string{"ecr.api fail tcp timeout", "FAIL " + inspect.CodeSGEndpointIngress, "$ aws ec2 fix-" + inspect.CodeSGEndpointIngress,
		"logs fail tls tls-handshake", CodeNotExplained, "did not hit", "FAIL " + inspect.CodeEndpointMissing}
	at := 0
	for _, want := range order {
		i := strings.Index(text[at:], want)
		if i < 0 {
			t.Fatalf("%q missing after offset %d:\n%s", want, at, text)
		}
		at += i
	}
}

// TestJoinTextOnce (issue 16, item 2): an isolated subnet's services that fail alike and are
// explained alike read as one paragraph: the services named once, the shared security group's
// command once, each endpoint's command once, the diagnoses that differ by one word (the
// endpoint's name) as one sentence naming each.
func TestJoinTextOnce(t *testing.T) {
	keys := []string{"ecr.api", "ecr.dkr", "logs"}
	var services []report.ServiceReport
	var findings []inspect.Finding
	for _, k := range keys {
		services = append(services, liveService(k, checks.Fail, "tcp", report.RoutePublic, checks.Timeout))
		findings = append(findings,
			inspect.Finding{Service: k, Severity: inspect.Fail, Code: inspect.CodeEndpointMissing, Resources: []string{"vpc-1", "subnet-1"},
				Diagnosis: "no interface endpoint for com.amazonaws.eu-west-1." + k + " in vpc-1: " + k + ".host is unreachable, which breaks " + k + "'s own calls",
				Command:   "aws ec2 create-vpc-endpoint --service-name com.amazonaws.eu-west-1." + k},
			inspect.Finding{Service: k, Severity: inspect.Fail, Code: inspect.CodeSGEndpointIngress, Resources: []string{"sg-1"},
				Diagnosis: "security group sg-1 does not allow inbound TCP 443 from the task: connections to " + k + " time out",
				Command:   "aws ec2 authorize-security-group-ingress --group-id sg-1"})
	}
	in := Join(&report.Report{Services: services}, nil, &inspect.Report{VPCID: "vpc-1", Services: keys, Findings: findings})
	var b bytes.Buffer
	in.Write(&b)
	text := b.String()
	for want, n := range map[string]int{
		"ecr.api, ecr.dkr, logs fail tcp timeout":                          1,
		"$ aws ec2 authorize-security-group-ingress --group-id sg-1":       1,
		"$ aws ec2 create-vpc-endpoint --service-name":                     3,
		"connections to ecr.api, ecr.dkr and logs time out":                1,
		"FAIL " + inspect.CodeEndpointMissing + ": ecr.api, ecr.dkr, logs": 1,
		"no interface endpoint for com.amazonaws.eu-west-1.ecr.api, com.amazonaws.eu-west-1.ecr.dkr and com.amazonaws.eu-west-1.logs in vpc-1": 1,
	} {
		if got := strings.Count(strings.Join(strings.Fields(text), " "), want); got != n {
			t.Errorf("%q said %d times, want %d:\n%s", want, got, n, text)
		}
	}
}
