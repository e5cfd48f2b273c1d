package report

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
)

func sampleReport() *Report {
	r := &Report{Schema: Schema, RunID: "run-1", StartedAt: "2026-11-21T10:00:00.000Z", DurationMS: 1234,
		Context:  Context{Region: "eu-west-1", Cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", Resolvers: []string{"10.0.0.2:53"}},
		Delivery: Delivery{CloudWatch: Delivered},
		Services: []ServiceReport{
			{Service: "ecr.api", Host: "api.ecr.eu-west-1.amazonaws.com", Verdict: checks.Pass, Route: RoutePrivate, Addresses: []string{"10.0.1.51"},
				Checks: []CheckReport{{Name: "dns", Status: checks.Pass}}},
			{Service: "s3", Verdict: checks.Fail, Error: checks.Timeout, Route: RoutePublic, Addresses: []string{"52.95.1.1"},
				Checks: []CheckReport{{Name: "tcp", Status: checks.Fail, Error: checks.Timeout}}, Diagnosis: "d", Remediation: "r"},
		}}
	r.Finish()
	return r
}

func TestEvents(t *testing.T) {
	r := sampleReport()
	evs := r.Events(time.UnixMilli(1700000000000))
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	var svc map[string]any
	json.Unmarshal(evs[1], &svc)
	for k, want := range map[string]any{"schema": Schema, "run_id": "run-1", "type": "service", "service": "s3", "verdict": "fail", "error": "timeout", "diagnosis": "d", "remediation": "r"} {
		if svc[k] != want {
			t.Errorf("service event %s = %v, want %v", k, svc[k], want)
		}
	}
	var sum map[string]any
	json.Unmarshal(evs[2], &sum)
	if sum["type"] != "summary" || sum["verdict"] != "fail" || sum["Cluster"] != "prod" || sum["ServicesFailed"] != 1.0 || sum["ServicesPassed"] != 1.0 {
		t.Errorf("summary %v", sum)
	}
	// EMF: every dimension and metric named in _aws is a top-level member.
	aws := sum["_aws"].(map[string]any)
	if aws["Timestamp"] != 1700000000000.0 {
		t.Errorf("timestamp %v", aws["Timestamp"])
	}
	for _, d := range aws["CloudWatchMetrics"].([]any) {
		m := d.(map[string]any)
		if m["Namespace"] != MetricNamespace {
			t.Errorf("namespace %v", m["Namespace"])
		}
		for _, set := range m["Dimensions"].([]any) {
			for _, name := range set.([]any) {
				if _, ok := sum[name.(string)]; !ok {
					t.Errorf("dimension %v is not a member", name)
				}
			}
		}
		for _, metric := range m["Metrics"].([]any) {
			if _, ok := sum[metric.(map[string]any)["Name"].(string)]; !ok {
				t.Errorf("metric %v is not a member", metric)
			}
		}
	}
}

func TestFromEvents(t *testing.T) {
	r := sampleReport()
	var msgs []string
	for _, e := range r.Events(time.Now()) {
		msgs = append(msgs, string(e))
	}
	other := *sampleReport()
	other.RunID = "run-2"
	for _, e := range other.Events(time.Now()) {
		msgs = append([]string{string(e)}, msgs...) // another run's events, interleaved first
	}
	msgs = append(msgs, "not json", `{"schema":"x","run_id":"run-1","type":"summary"}`)
	got, err := FromEvents("run-1", msgs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Services, r.Services) || got.Verdict != r.Verdict || got.Counts != r.Counts || got.Context.Cluster != r.Context.Cluster {
		t.Errorf("reassembled %+v\nwant %+v", got, r)
	}
	// A lost service event leaves a skipped service that says so.
	got, _ = FromEvents("run-1", msgs[len(msgs)-4:])
	if got == nil || got.Services[0].Verdict != checks.Skip || got.Services[0].Diagnosis == "" {
		t.Errorf("missing event: %+v", got)
	}
	if _, err := FromEvents("run-3", msgs); err == nil {
		t.Error("a run without events was found")
	}
}

func TestClusterName(t *testing.T) {
	for in, want := range map[string]string{"": "none", "prod": "prod", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod": "prod"} {
		if got := ClusterName(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}
