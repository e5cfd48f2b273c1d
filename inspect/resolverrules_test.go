package inspect

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// resolverMatches is Route 53 Resolver's matching as its developer guide states it ("How
// Resolver determines whether the domain name in a query matches any rules"): the names match
// exactly, or the query is a subdomain of the rule's name; "." matches everything. Written here
// apart from the code under test.
func resolverMatches(rule, query string) bool {
	rule = strings.TrimSuffix(rule, ".")
	return rule == "" || query == rule || strings.HasSuffix(query, "."+rule)
}

var domainNameRE = regexp.MustCompile(`--domain-name (\S+)`)

// TestResolverRules builds VPCs in moto_server with a Route 53 Resolver FORWARD rule associated
// and asserts what inspect makes of it, as the Route 53 guide says Resolver applies rules: a
// forward for "." or amazonaws.com leaves the endpoints' private zones answering (their
// autodefined rules are more specific), only the same or a more specific name shadows them, and
// where no endpoint serves a name the forward decides (a warning with AWS's advice: a SYSTEM
// rule for amazonaws.com).
func TestResolverRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	agentHost := "ecs-a-4." + region + ".amazonaws.com" // what DiscoverPollEndpoint hands the agent (amazon-ecs-agent)
	cases := []struct {
		name     string
		domain   string
		services string
		// want: service → the code and severity it must get; absent: services that must get no
		// resolver finding at all.
		want   map[string]want
		absent []string
		// system: a SYSTEM rule the command must create (its --domain-name); matches: hosts every
		// created SYSTEM rule must match.
		system  map[string]string
		matches map[string]string
		// disassociate: services whose fix is to disassociate the rule.
		disassociate []string
	}{
		{name: "dot forward: endpoints keep resolving, S3's public name is the forward's", domain: ".",
			want:   map[string]want{"s3": {CodeResolverForwardPublic, Warn, "s3", nil}},
			absent: []string{"ecr.api", "ecr.dkr", "logs"},
			system: map[string]string{"s3": "amazonaws.com"}},
		{name: "amazonaws.com forward: no false fail", domain: "amazonaws.com",
			want:   map[string]want{"s3": {CodeResolverForwardPublic, Warn, "s3", nil}},
			absent: []string{"ecr.api", "ecr.dkr", "logs"},
			system: map[string]string{"s3": region + ".amazonaws.com"}},
		{name: "forward for the endpoint's own name shadows it", domain: "api.ecr." + region + ".amazonaws.com",
			want:         map[string]want{"ecr.api": {CodeResolverForward, Fail, "ecr.api", vpce("ecr.api")}},
			absent:       []string{"ecr.dkr", "logs", "s3"},
			disassociate: []string{"ecr.api"}},
		{name: "forward for ecr.dkr's zone: a SYSTEM rule for the registry host wins", domain: "dkr.ecr." + region + ".amazonaws.com",
			want:   map[string]want{"ecr.dkr": {CodeResolverForward, Fail, "ecr.dkr", vpce("ecr.dkr")}},
			absent: []string{"ecr.api", "logs", "s3"},
			system: map[string]string{"ecr.dkr": "123456789012.dkr.ecr." + region + ".amazonaws.com"}},
		{name: "dot forward and the agent without endpoints: the SYSTEM rule matches the agent's real host", domain: ".",
			services: "ecs-agent,ecs-telemetry",
			want:     map[string]want{"ecs-agent": {CodeResolverForwardPublic, Warn, "ecs-agent", nil}, "ecs-telemetry": {CodeResolverForwardPublic, Warn, "ecs-telemetry", nil}},
			matches:  map[string]string{"ecs-agent": agentHost, "ecs-telemetry": "ecs-t-2." + region + ".amazonaws.com"}},
		{name: "forward for ecs-a.<r> matches none of the agent's hosts", domain: "ecs-a." + region + ".amazonaws.com",
			services: "ecs-agent", absent: []string{"ecs-agent"}},
		{name: "forward for one numbered agent host", domain: agentHost,
			services: "ecs-agent", want: map[string]want{"ecs-agent": {CodeResolverForwardPublic, Warn, "ecs-agent", nil}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := build(t, e, options{})
			rule := w.forwardRule(tc.domain)
			services := defaultServices(t)
			if tc.services != "" {
				var err error
				if services, err = catalogue.ParseServices(tc.services); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Subnet(ctx, e.clients(), w.task, []string{w.taskSG}, services)
			if err != nil {
				t.Fatal(err)
			}
			resolver := func(svc string) []Finding {
				var out []Finding
				for _, f := range rep.For(svc) {
					if f.Code == CodeResolverForward || f.Code == CodeResolverForwardPublic {
						out = append(out, f)
					}
				}
				return out
			}
			for svc, wf := range tc.want {
				fs := resolver(svc)
				if !slices.ContainsFunc(fs, func(f Finding) bool {
					return f.Code == wf.code && f.Severity == wf.severity && slices.Contains(f.Resources, rule) &&
						(wf.resource == nil || slices.Contains(f.Resources, wf.resource(w)))
				}) {
					t.Errorf("%s: no %s %s naming %s: %+v", svc, wf.severity, wf.code, rule, fs)
				}
				for _, f := range fs {
					if !strings.Contains(f.Diagnosis, "10.9.9.9") {
						t.Errorf("%s: the diagnosis does not name the rule's target 10.9.9.9: %s", svc, f.Diagnosis)
					}
				}
			}
			for _, svc := range tc.absent {
				if fs := resolver(svc); len(fs) > 0 {
					t.Errorf("%s: unexpected resolver finding %s %s", svc, fs[0].Severity, fs[0].Code)
				}
			}
			for svc, d := range tc.system {
				fs := resolver(svc)
				if len(fs) == 0 || !slices.ContainsFunc(domainNameRE.FindAllStringSubmatch(fs[0].Command, -1), func(m []string) bool { return m[1] == d }) ||
					!strings.Contains(fs[0].Command, "--rule-type SYSTEM") || !strings.Contains(fs[0].Command, w.vpc) {
					t.Errorf("%s: the command does not create and associate a SYSTEM rule for %s: %+v", svc, d, fs)
				}
			}
			for svc, host := range tc.matches {
				fs := resolver(svc)
				if len(fs) == 0 || fs[0].Command == "" {
					t.Errorf("%s: no command", svc)
					continue
				}
				for _, m := range domainNameRE.FindAllStringSubmatch(fs[0].Command, -1) {
					if !resolverMatches(m[1], host) {
						t.Errorf("%s: the SYSTEM rule for %s does not match %s, the host the agent calls", svc, m[1], host)
					}
				}
			}
			for _, svc := range tc.disassociate {
				fs := resolver(svc)
				if len(fs) == 0 || !strings.Contains(fs[0].Command, "disassociate-resolver-rule") || !strings.Contains(fs[0].Command, rule) {
					t.Errorf("%s: the command does not disassociate %s: %+v", svc, rule, fs)
				}
			}
			if t.Failed() {
				t.Logf("report:\n%s", rep.Text())
			}
		})
	}
}

// TestAgentHostsFix: the join rebuilds the agent's SYSTEM rules for the hosts it measured.
func TestAgentHostsFix(t *testing.T) {
	f := Finding{Service: "ecs-agent", Code: CodeResolverForwardPublic, Command: SystemRuleCommand("eu-west-1", "vpc-0a", []string{"amazonaws.com"})}
	host := "ecs-a-4.eu-west-1.amazonaws.com"
	g, ok := AgentHostsFix(f, "eu-west-1", "vpc-0a", []string{host})
	if !ok || !strings.Contains(g.Command, "--domain-name "+host+" ") || !strings.Contains(g.Command, "--vpc-id vpc-0a") {
		t.Errorf("AgentHostsFix = %v %q", ok, g.Command)
	}
	if _, ok := AgentHostsFix(Finding{Service: "logs", Code: CodeResolverForwardPublic, Command: f.Command}, "eu-west-1", "vpc-0a", []string{host}); ok {
		t.Errorf("AgentHostsFix rebuilt a fix of another service")
	}
}

// TestRuleDomain: "." is kept (GetResolverRule says "."; moto says ".."), not dropped.
func TestRuleDomain(t *testing.T) {
	for in, want := range map[string]string{".": ".", "..": ".", "amazonaws.com.": "amazonaws.com", "Example.COM": "example.com"} {
		if got := ruleDomain(in); got != want {
			t.Errorf("ruleDomain(%q) = %q, want %q", in, got, want)
		}
	}
	if !covers(ruleDomain("."), "logs.eu-west-1.amazonaws.com") {
		t.Errorf(`a rule for "." does not cover logs.eu-west-1.amazonaws.com`)
	}
}
