package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/join"
	"github.com/vpcprobe/vpcprobe/lab"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
)

// joinTask is a probe task whose report says what the live run met in the VPC below: ecr.api's
// endpoint drops 443 (its group), ecr.dkr's endpoint accepts and never speaks, s3 and logs pass.
func joinTask(fake *fakeaws.Server) fakeaws.TaskScript {
	return fakeaws.TaskScript{ExitCode: 1, OnRunning: func(task fakeaws.ECSTask) {
		rep := &report.Report{Schema: report.Schema, RunID: task.Env("vpcprobe", "VPCPROBE_RUN_ID"), Verdict: checks.Fail,
			StartedAt: time.Now().UTC().Format(time.RFC3339), Context: report.Context{Resolvers: []string{}},
			Delivery: report.Delivery{CloudWatch: report.Delivered}}
		svc := func(key string, v checks.Status, route, check string, code checks.Code) report.ServiceReport {
			sr := report.ServiceReport{Service: key, Host: key + ".eu-west-1.amazonaws.com", EndpointService: "com.amazonaws.eu-west-1." + key,
				EndpointType: "interface", Verdict: v, Error: code, Route: route, Addresses: []string{"10.0.1.50"},
				Checks: []report.CheckReport{{Name: "dns", Status: checks.Pass}, {Name: check, Status: v, Error: code}}}
			if key == "s3" {
				sr.EndpointType = "gateway"
			}
			if v != checks.Pass {
				sr.Diagnosis, sr.Remediation = key+" failed live", "fix "+key
			}
			return sr
		}
		rep.Services = []report.ServiceReport{
			svc("ecr.api", checks.Fail, report.RoutePrivate, "tcp", checks.Timeout),
			svc("ecr.dkr", checks.Fail, report.RoutePrivate, "tls", checks.TLSHandshake),
			svc("s3", checks.Pass, report.RoutePublic, "tcp", ""),
			svc("logs", checks.Pass, report.RoutePrivate, "tcp", ""),
		}
		var msgs []string
		for _, e := range rep.Events(time.Now()) {
			msgs = append(msgs, string(e))
		}
		fake.WriteLogEvents(task.Env("vpcprobe", "VPCPROBE_LOG_GROUP"), "probe", msgs...)
	}}
}

// TestLaunchJoined: launch (ECS, the fake) inspects the subnet it probes in moto's EC2, with the
// task's groups, and attaches to each failing service the finding that explains it (ecr.api: its
// endpoint's group without 443, naming that group), says a failure the configuration does not
// explain (ecr.dkr: the endpoint accepts and never answers), and lists apart what the live run
// did not hit (no S3 gateway, while s3 passed). --inspect=false leaves the report live only;
// an EC2 API that cannot be read is inspect_error, the exit status unchanged.
func TestLaunchJoined(t *testing.T) {
	mo := moto.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids, err := lab.Describe(ctx, ec2.NewFromConfig(mo.Config(nil)), lab.Network{
		Endpoints: []string{"ecr.api", "ecr.dkr", "logs"}, SGNo443: []string{"ecr.api"}})
	if err != nil {
		t.Fatal(err)
	}
	fake, _, w := fakeAWS(t)
	fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript { return joinTask(fake) })
	args := []string{"launch", "--cluster", "prod", "--task-definition", "vpcprobe:3", "--subnets", ids.TaskSubnet,
		"--security-groups", ids.TaskGroup, "--services", "ecr.api,ecr.dkr,s3,logs", "--launch-id", "build-9", "--output", "json"}

	t.Run("joined", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_EC2", mo.URL)
		t.Setenv("AWS_ENDPOINT_URL_ROUTE53RESOLVER", mo.URL)
		code, out, errs := launchCmd(t, w, env(), args...)
		if code != exitFail {
			t.Fatalf("exit %d, want 1; stderr:\n%s", code, errs)
		}
		schematest.Check(t, []byte(out))
		var rep launch.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.InspectError != "" || len(rep.Subnets) != 1 || rep.Subnets[0].Inspection == nil {
			t.Fatalf("no inspection: %q %+v", rep.InspectError, rep.Subnets)
		}
		in := rep.Subnets[0].Inspection
		if in.VPCID != ids.VPC || !slices.Equal(in.SecurityGroups, []string{ids.TaskGroup}) {
			t.Errorf("inspected %s with %v, want %s with %s", in.VPCID, in.SecurityGroups, ids.VPC, ids.TaskGroup)
		}
		byService := map[string]join.JoinedService{}
		for _, j := range in.Services {
			byService[j.Service] = j
		}
		api := byService["ecr.api"]
		if len(api.Findings) == 0 || api.Findings[0].Code != inspect.CodeSGEndpointIngress ||
			!slices.Contains(api.Findings[0].Resources, ids.EndpointGroups["ecr.api"]) || api.NotExplained != nil {
			t.Errorf("ecr.api: %+v, want %s naming %s", api, inspect.CodeSGEndpointIngress, ids.EndpointGroups["ecr.api"])
		}
		if dkr := byService["ecr.dkr"]; dkr.NotExplained == nil || dkr.NotExplained.Code != join.CodeNotExplained {
			t.Errorf("ecr.dkr: %+v, want %s", dkr, join.CodeNotExplained)
		}
		if _, ok := byService["s3"]; ok {
			t.Errorf("s3 passed and was joined")
		}
		if !slices.ContainsFunc(in.ConfigOnly, func(f inspect.Finding) bool { return f.Code == inspect.CodeS3GatewayMissing }) {
			t.Errorf("config only %+v: want %s", in.ConfigOnly, inspect.CodeS3GatewayMissing)
		}

		code, text, _ := launchCmd(t, w, env(), append(slices.Clone(args[:len(args)-1]), "text")...)
		if code != exitFail || !strings.Contains(text, inspect.CodeSGEndpointIngress) || !strings.Contains(text, "aws ec2 authorize-security-group-ingress") ||
			!strings.Contains(text, join.CodeNotExplained) || !strings.Contains(text, "did not hit") {
			t.Errorf("exit %d, text view:\n%s", code, text)
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_EC2", mo.URL)
		code, out, errs := launchCmd(t, w, env(), append(args, "--inspect=false")...)
		if code != exitFail || strings.Contains(out, `"inspection"`) || strings.Contains(out, "inspect_error") {
			t.Errorf("exit %d; stderr %s; stdout %s", code, errs, out)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		// EC2 is the fake front end's, which serves no EC2: nothing can be read.
		code, out, errs := launchCmd(t, w, env(), args...)
		if code != exitFail {
			t.Fatalf("exit %d, want 1 (the live result's); stderr:\n%s", code, errs)
		}
		schematest.Check(t, []byte(out))
		var rep launch.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.InspectError == "" || rep.Subnets[0].Inspection != nil {
			t.Errorf("inspect_error %q, inspection %+v", rep.InspectError, rep.Subnets[0].Inspection)
		}
	})
}
