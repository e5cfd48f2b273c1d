package join

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
)

func inspected(findings ...inspect.Finding) *inspect.Report {
	return &inspect.Report{Schema: inspect.Schema, Region: "eu-west-1", VPCID: "vpc-0a1b2c3d", SubnetID: "subnet-0a1b2c3d",
		SecurityGroups: []string{"sg-0task"}, Services: []string{"ecr.api", "logs", "s3", "ecs-agent"}, Findings: findings}
}

// TestReachability: a live failure nothing explains carries the Reachability Analyzer commands
// for its hop (aws ec2 create-network-insights-path from the task's interface to the endpoint's
// interface or the service's address, TCP 443, then start-network-insights-analysis), with the
// real ids.
func TestReachability(t *testing.T) {
	private := liveService("logs", checks.Fail, "tcp", report.RoutePrivate, checks.Timeout)
	private.Addresses = []string{"10.0.2.15"}
	public := liveService("s3", checks.Fail, "tcp", report.RoutePublic, checks.Timeout)
	public.Addresses = []string{"198.51.100.7"}
	dns := liveService("ecr.api", checks.Fail, "dns", "", checks.NXDomain)
	live := &report.Report{Services: []report.ServiceReport{private, public, dns}}

	cases := []struct {
		name string
		src  Source
		want map[string][]string // service → substrings of its commands, joined
		none []string            // services without commands
	}{
		{"stand-in source", Source{},
			map[string][]string{
				"logs": {"create-network-interface --region eu-west-1 --subnet-id subnet-0a1b2c3d --groups sg-0task", "Name=vpc-id,Values=vpc-0a1b2c3d", "Values=10.0.2.15",
					"create-network-insights-path --region eu-west-1 --source \"$SRC\" --destination \"$DST\" --protocol tcp --destination-port 443", "start-network-insights-analysis", "delete-network-interface"},
				"s3": {"--destination-ip 198.51.100.7", "--destination-port 443", "start-network-insights-analysis"}},
			[]string{"ecr.api"}},
		{"the task's interface", Source{ENI: "eni-0feedface"},
			map[string][]string{"logs": {"--source eni-0feedface --destination \"$DST\""}},
			[]string{"ecr.api"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := JoinFrom(live, nil, inspected(), tc.src)
			got := map[string]string{}
			for _, j := range in.Services {
				if j.NotExplained == nil {
					t.Fatalf("%s: explained by %v", j.Service, codesOf(j.Findings))
				}
				got[j.Service] = strings.Join(j.NotExplained.Reachability, "\n")
			}
			for svc, subs := range tc.want {
				for _, s := range subs {
					if !strings.Contains(got[svc], s) {
						t.Errorf("%s: the commands lack %q:\n%s", svc, s, got[svc])
					}
				}
			}
			if tc.src.ENI != "" && strings.Contains(got["logs"], "create-network-interface") {
				t.Errorf("a stand-in interface although the task's is known:\n%s", got["logs"])
			}
			for _, svc := range tc.none {
				if got[svc] != "" {
					t.Errorf("%s: commands without a measured address: %s", svc, got[svc])
				}
			}
			var b bytes.Buffer
			in.Write(&b)
			if !strings.Contains(b.String(), "start-network-insights-analysis") {
				t.Errorf("the text does not print the commands:\n%s", b.String())
			}
		})
	}
}

// TestAgentHostsJoin: the SYSTEM rule the join proposes for the agent is for the host the probe
// measured (ecs-a-4.<r>…, from DiscoverPollEndpoint), which a rule for ecs-a.<r>… never matches.
func TestAgentHostsJoin(t *testing.T) {
	host := "ecs-a-4.eu-west-1.amazonaws.com"
	f := inspect.Finding{Service: "ecs-agent", Severity: inspect.Warn, Code: inspect.CodeResolverForwardPublic, Resources: []string{"rslvr-rr-0a"},
		Command: inspect.SystemRuleCommand("eu-west-1", "vpc-0a1b2c3d", []string{"amazonaws.com"})}
	agent := liveService("ecs-agent", checks.Fail, "dns", "", checks.NXDomain)
	agent.Host = host
	rep := inspected(f)
	in := Join(&report.Report{Services: []report.ServiceReport{agent}}, nil, rep)
	if len(in.Services) != 1 || len(in.Services[0].Findings) != 1 {
		t.Fatalf("joined %+v", in.Services)
	}
	cmd := in.Services[0].Findings[0].Command
	if !strings.Contains(cmd, "--domain-name "+host+" ") || strings.Contains(cmd, "--domain-name amazonaws.com ") {
		t.Errorf("the SYSTEM rule is not for %s: %s", host, cmd)
	}
	if rep.Findings[0].Command != f.Command {
		t.Errorf("the inspect report was changed")
	}
}
