package taskdef

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
)

// cfn reads a CloudFormation template as plain values.
func cfn(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// at walks a template value by keys and indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// TestFleetMember: the member template's inspect role may make exactly inspect's read-only calls
// (inspect.Actions), Lambda calls only on vpcprobe-* functions, pass only its own function role
// to Lambda, and is assumable only by the central run's role; nothing names an account or region
// (StackSets deploys it unchanged everywhere).
func TestFleetMember(t *testing.T) {
	tpl := cfn(t, "fleet-member.json")
	role := at(tpl, "Resources", "FleetRole", "Properties")
	trust := at(role, "AssumeRolePolicyDocument", "Statement", 0)
	if at(trust, "Principal", "AWS", "Fn::Sub") != "arn:${AWS::Partition}:iam::${CentralAccountId}:root" ||
		at(trust, "Condition", "ArnEquals", "aws:PrincipalArn", "Fn::Sub") != "arn:${AWS::Partition}:iam::${CentralAccountId}:role/${CentralRoleName}" {
		t.Errorf("trust %v: want the central account's run role only", trust)
	}
	var readonly, live []any
	for _, p := range at(role, "Policies").([]any) {
		switch at(p, "PolicyName") {
		case "vpcprobe-inspect-readonly":
			readonly = at(p, "PolicyDocument", "Statement").([]any)
		case "vpcprobe-live-probe":
			live = at(p, "PolicyDocument", "Statement").([]any)
		}
	}
	var acts []string
	for _, a := range at(readonly, 0, "Action").([]any) {
		acts = append(acts, a.(string))
	}
	if want := sorted(inspect.Actions); !slices.Equal(sorted(acts), want) {
		t.Errorf("read-only actions %v, want inspect.Actions %v", acts, want)
	}
	if at(live, 0, "Resource", "Fn::Sub") != "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:vpcprobe-*" {
		t.Errorf("Lambda actions on %v, want only vpcprobe-* functions", at(live, 0, "Resource"))
	}
	if at(live, 1, "Action") != "iam:PassRole" || at(live, 1, "Resource", "Fn::GetAtt", 0) != "LambdaRole" ||
		at(live, 1, "Condition", "StringEquals", "iam:PassedToService") != "lambda.amazonaws.com" {
		t.Errorf("pass role %v", live[1])
	}
	b, _ := os.ReadFile("fleet-member.json")
	if regexp.MustCompile(`\d{12}|[a-z]{2}-[a-z]+-\d`).Match(b) {
		t.Errorf("fleet-member.json names an account or region: StackSets deploys it unchanged")
	}
}

// TestFleetCentral: the scheduled task runs vpcprobe inspect or launch with flags the binary
// has (learnFlags read them from its --help), assuming the member template's role by name, and
// its task role may list the organisation and assume that role, nothing else.
func TestFleetCentral(t *testing.T) {
	tpl := cfn(t, "fleet-central.json")
	member := cfn(t, "fleet-member.json")
	if at(tpl, "Parameters", "MemberRoleName", "Default") != at(member, "Parameters", "FleetRoleName", "Default") ||
		at(tpl, "Parameters", "CentralRoleName", "Default") != at(member, "Parameters", "CentralRoleName", "Default") ||
		at(tpl, "Parameters", "MemberLambdaRoleName", "Default") != at(member, "Parameters", "LambdaRoleName", "Default") {
		t.Errorf("the central and member templates disagree on the role names")
	}
	cmds := at(tpl, "Resources", "TaskDefinition", "Properties", "ContainerDefinitions", 0, "Command", "Fn::If").([]any)
	for _, c := range cmds[1:] {
		args := c.([]any)
		sub := args[0].(string)
		flags, ok := subFlags[sub]
		if !ok {
			t.Fatalf("command %v: no subcommand %s", args, sub)
		}
		for _, a := range args[1:] {
			if s, ok := a.(string); ok && strings.HasPrefix(s, "--") && !flags[strings.TrimPrefix(s, "--")] {
				t.Errorf("vpcprobe %s has no flag %s", sub, s)
			}
		}
		if !slices.Contains(args, any("--organization")) || !slices.Contains(args, any("--all-subnets")) {
			t.Errorf("command %v: not every subnet of the organisation", args)
		}
	}
	var acts []string
	for _, st := range at(tpl, "Resources", "TaskRole", "Properties", "Policies", 0, "PolicyDocument", "Statement").([]any) {
		acts = append(acts, at(st, "Action").(string))
	}
	if !slices.Equal(acts, []string{"organizations:ListAccounts", "sts:AssumeRole"}) {
		t.Errorf("task role actions %v", acts)
	}
}

// TestTemplateDashboard: the dashboard's metric widgets name the metrics the probe's summary
// event declares in EMF, and its Logs Insights queries read fields a real service event has.
func TestTemplateDashboard(t *testing.T) {
	tpl := cfn(t, "template.json")
	body := at(tpl, "Resources", "Dashboard", "Properties", "DashboardBody", "Fn::Sub").(string)
	var dash struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Metrics [][]any
				Query   string
			}
		}
	}
	if err := json.Unmarshal([]byte(regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body, "x")), &dash); err != nil {
		t.Fatalf("dashboard body: %v", err)
	}
	// What the probe emits: one report's events.
	rep := &report.Report{Schema: report.Schema, RunID: "r", Verdict: checks.Fail, Context: report.Context{Cluster: "prod", SubnetCIDR: "10.0.1.0/24"},
		Services: []report.ServiceReport{{Service: "ecr.api", Verdict: checks.Fail, Error: checks.Timeout, Diagnosis: "d", Remediation: "r", Addresses: []string{}, Checks: []report.CheckReport{}}}}
	rep.Finish()
	evs := rep.Events(time.Now())
	var svc, sum map[string]any
	json.Unmarshal(evs[0], &svc)
	json.Unmarshal(evs[len(evs)-1], &sum)
	declared := map[string]bool{}
	for _, m := range at(sum, "_aws", "CloudWatchMetrics", 0, "Metrics").([]any) {
		declared[at(m, "Name").(string)] = true
	}
	metrics, queries := 0, 0
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			metrics++
			if m[0] != report.MetricNamespace || !declared[m[1].(string)] || m[2] != "Cluster" {
				t.Errorf("metric %v: not one the summary event declares (%v) by Cluster", m, declared)
			}
		}
		if q := w.Properties.Query; q != "" {
			queries++
			for _, f := range regexp.MustCompile(`fields ([^|]+)`).FindStringSubmatch(q)[1:] {
				for _, name := range strings.Split(f, ",") {
					name = strings.TrimSpace(name)
					if _, ok := svc[name]; !ok && name != "@timestamp" {
						t.Errorf("query reads %q, which a service event lacks: %s", name, evs[0])
					}
				}
			}
			if !strings.Contains(q, `type = "service"`) {
				t.Errorf("query %q does not select service events", q)
			}
		}
	}
	if metrics < 3 || queries < 1 {
		t.Errorf("%d metrics and %d queries: want verdict counts and verdict by subnet and service", metrics, queries)
	}
}
