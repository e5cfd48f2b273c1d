package responder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/respondertest"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// TestIsEvent: a payload with source aws.ecs and a detail-type is the responder's (CONTRACT.md);
// anything else, the probe's own event, even one that names the same keys otherwise.
func TestIsEvent(t *testing.T) {
	sample, err := os.ReadFile("testdata/task-failed-to-start.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		payload string
		want    bool
	}{
		{string(sample), true},
		{`{"source":"aws.ecs","detail-type":"ECS Container Instance State Change","detail":{}}`, true},
		{`{}`, false},
		{`{"services":"ecr.api,ecr.dkr,s3,logs","timeout":"3s"}`, false},
		{`{"source":"aws.ecs"}`, false},
		{`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`, false},
		{`[1,2]`, false},
	} {
		if got := IsEvent([]byte(tt.payload)); got != tt.want {
			t.Errorf("IsEvent(%.60s) = %v, want %v", tt.payload, got, tt.want)
		}
	}
}

// TestParseDocumentedEvent reads the fields of AWS's documented event shape the responder needs.
func TestParseDocumentedEvent(t *testing.T) {
	b, _ := os.ReadFile("testdata/task-failed-to-start.json")
	ev, d, err := ParseEvent(b)
	if err != nil || d == nil {
		t.Fatalf("ParseEvent: %v, detail %v", err, d)
	}
	if !d.FailedStart() || d.Subnet() != "subnet-0a1b2c3d4e5f60718" || d.NetworkInterface() != "eni-0c1d2e3f4a5b6c7d8" ||
		d.Service() != "shop-web" || d.Cluster() != "prod" || ev.Region != "eu-west-1" {
		t.Errorf("failed start %v, subnet %q, eni %q, service %q, cluster %q, region %q",
			d.FailedStart(), d.Subnet(), d.NetworkInterface(), d.Service(), d.Cluster(), ev.Region)
	}
	ds := stopped.Translate(d.Task())
	if !slices.ContainsFunc(ds, func(x stopped.Diagnosis) bool { return x.Service == "ecr.api" && x.Error == checks.Timeout }) {
		t.Errorf("translation %+v: want ecr.api timeout", ds)
	}
}

// TestHandleNotFailedStart: a task that stopped for another reason, or another detail-type, is
// answered with ErrNotFailedStart and no work (no call at all: the responder has no clients).
func TestHandleNotFailedStart(t *testing.T) {
	r := &Responder{}
	for _, payload := range []string{
		`{"id":"1","source":"aws.ecs","detail-type":"ECS Task State Change","detail":{"lastStatus":"STOPPED","stopCode":"EssentialContainerExited"}}`,
		`{"id":"2","source":"aws.ecs","detail-type":"ECS Task State Change","detail":{"lastStatus":"RUNNING"}}`,
		`{"id":"3","source":"aws.ecs","detail-type":"ECS Service Action","detail":{"eventName":"SERVICE_STEADY_STATE"}}`,
	} {
		d, err := r.Handle(context.Background(), []byte(payload))
		if !errors.Is(err, ErrNotFailedStart) || d != nil {
			t.Errorf("%s: %v, %+v", payload, err, d)
		}
	}
}

// TestHandleOne: one failed start is translated, reproduced in its subnet with its service's
// group through a probe function, joined with the VPC's configuration (no ecr.api endpoint
// explains the timeout), written to the log group and put on EventBridge; the function is gone.
func TestHandleOne(t *testing.T) {
	w := respondertest.New(t, 1)
	task := w.Service("shop-web", w.Subnets[0])
	r := newResponder(t, w)
	d, err := r.Handle(context.Background(), w.Event("e-1", task, "shop-web", w.Subnets[0]))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d)
	schematest.Check(t, b)
	if d.Verdict != checks.Fail || d.Probe == nil || !d.Probe.Ran || d.Probe.Skipped != "" || d.Launch == nil {
		t.Fatalf("diagnosis %+v, probe %+v", d, d.Probe)
	}
	if !slices.Equal(d.SecurityGroups, []string{w.Group}) || d.Subnet != w.Subnets[0] || d.Service != "shop-web" {
		t.Errorf("reproduced in %s with %v (service %q), want %s with %s", d.Subnet, d.SecurityGroups, d.Service, w.Subnets[0], w.Group)
	}
	s := d.Launch.Subnets[0]
	if s.Inspection == nil || len(s.Inspection.Services) != 1 ||
		!slices.ContainsFunc(s.Inspection.Services[0].Findings, func(f inspect.Finding) bool { return f.Code == inspect.CodeEndpointMissing }) {
		t.Errorf("joined %+v", s.Inspection)
	}
	if left := w.Fake.Functions(); len(left) != 0 {
		t.Errorf("functions left: %v", left)
	}
	if got := w.Logged(d.LogStream); !strings.Contains(got, `"CloudWatchMetrics"`) || !strings.Contains(got, `"Subnet":"`+w.Subnets[0]+`"`) {
		t.Errorf("log event %.300s", got)
	}
}

// TestBurst: 200 events for 50 services in 10 subnets, the services of a subnet sharing one task
// definition's needs and security groups, handled 25 at a time (the responder's reserved
// concurrency) give at most 10 live probes (one per subnet), 200 explanations each linked to its
// subnet's probe, and no function left. It prints the time from the first event to the last report.
func TestBurst(t *testing.T) {
	const subnets, perSubnet, retries, concurrency = 10, 5, 4, 25
	w := respondertest.New(t, subnets)
	type ev struct {
		payload []byte
		subnet  string
	}
	var events []ev
	for i, subnet := range w.Subnets {
		for j := range perSubnet {
			name := fmt.Sprintf("svc-%02d-%d", i, j)
			task := w.Service(name, subnet)
			for k := range retries {
				events = append(events, ev{w.Event(fmt.Sprintf("e-%s-%d", name, k), task, name, subnet), subnet})
			}
		}
	}
	r := newResponder(t, w)
	start := time.Now()
	var mu sync.Mutex
	var diags []*Diagnosis
	var wg sync.WaitGroup
	sem := make(chan struct{}, concurrency)
	for _, e := range events {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := r.Handle(context.Background(), e.payload)
			if err != nil {
				t.Errorf("Handle: %v", err)
			}
			mu.Lock()
			diags = append(diags, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	created := w.Fake.FunctionsCreated()
	t.Logf("burst: %d events, %d live probes, %s from the first event to the last report", len(events), len(created), took.Round(time.Millisecond))
	fmt.Printf("burst: %d events for %d services in %d subnets: %d live probes, %s from the first event to the last report\n",
		len(events), subnets*perSubnet, subnets, len(created), took.Round(time.Millisecond))
	if len(created) > subnets {
		t.Errorf("%d probe functions created, want at most %d: %v", len(created), subnets, created)
	}
	if left := w.Fake.Functions(); len(left) != 0 {
		t.Errorf("functions left: %v", left)
	}
	owners := map[string]string{} // subnet → run id of its probe
	explained := 0
	for _, d := range diags {
		if d == nil {
			continue
		}
		if len(d.Explanation) > 0 {
			explained++
		}
		if d.Probe != nil && d.Probe.Ran {
			if prev, ok := owners[d.Subnet]; ok && prev != d.Probe.RunID {
				t.Errorf("subnet %s probed twice: %s and %s", d.Subnet, prev, d.Probe.RunID)
			}
			owners[d.Subnet] = d.Probe.RunID
		}
	}
	if explained != len(events) {
		t.Errorf("%d explanations, want %d", explained, len(events))
	}
	for _, d := range diags {
		if d == nil || d.Probe == nil || d.Probe.Ran {
			continue
		}
		if d.Probe.RunID == "" || d.Probe.RunID != owners[d.Subnet] {
			t.Errorf("event %s links to %q, want its subnet's probe %q (skipped: %s)", d.EventID, d.Probe.RunID, owners[d.Subnet], d.Probe.Skipped)
		}
	}
}

// TestActions: every call a diagnosis makes (a failed start probed live and joined with the
// configuration, then a second event of the same cause) is an action of Actions or inspect's, so
// the deployed role, which allows exactly those, lets the responder do its work.
func TestActions(t *testing.T) {
	w := respondertest.New(t, 1)
	task := w.Service("shop-web", w.Subnets[0])
	var mu sync.Mutex
	called := map[string]bool{}
	record := func(action string) { mu.Lock(); called[action] = true; mu.Unlock() }
	r := newResponder(t, w)
	cfg := respondertest.Recording(w.Cfg, record)
	r.ECS = ecs.NewFromConfig(respondertest.Recording(w.Moto.Config(&http.Client{Transport: moto.FixECS(http.DefaultTransport)}), record))
	r.DynamoDB, r.Logs, r.Events = dynamodb.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	r.Shared.Inspect = inspect.NewClients(cfg)
	r.Lambda = lambda.New(w.Lambda.Options(), func(o *lambda.Options) {
		o.APIOptions = append(o.APIOptions, respondertest.Recording(aws.Config{}, record).APIOptions...)
	})
	for _, id := range []string{"e-1", "e-2"} {
		if _, err := r.Handle(context.Background(), w.Event(id, task, "shop-web", w.Subnets[0])); err != nil {
			t.Fatal(err)
		}
	}
	allowed := append(slices.Clone(Actions), inspect.Actions...)
	for action := range called {
		if !slices.Contains(allowed, action) {
			t.Errorf("the responder called %s, which Actions does not list", action)
		}
	}
	for _, want := range []string{"ecs:DescribeTasks", "lambda:CreateFunction", "lambda:InvokeFunction", "lambda:DeleteFunction", "dynamodb:PutItem", "events:PutEvents", "logs:PutLogEvents", "lambda:ListFunctions"} {
		if !called[want] {
			t.Errorf("%s was not called: the recording is broken", want)
		}
	}
}

// TestNoSecrets: a stopped reason quoting a presigned layer URL (its signature and credential in
// the query) reaches neither the diagnosis, nor its log event, nor its EventBridge detail with
// the secret parts; nor do the responder's own credentials.
func TestNoSecrets(t *testing.T) {
	w := respondertest.New(t, 1)
	task := w.Service("shop-web", w.Subnets[0])
	var ev map[string]any
	json.Unmarshal(w.Event("e-1", task, "shop-web", w.Subnets[0]), &ev)
	const signature = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
	ev["detail"].(map[string]any)["stoppedReason"] = `CannotPullContainerError: failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://prod-` + moto.Region +
		`-starport-layer-bucket.s3.` + moto.Region + `.amazonaws.com/a1b2-123456789012-aa11bb22/0f1e2d3c?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEHoaCXVzLWVhc3QtMSJHMEUCIQ&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20261130%2F` +
		moto.Region + `%2Fs3%2Faws4_request&X-Amz-Signature=` + signature + `": dial tcp 52.218.1.10:443: i/o timeout`
	payload, _ := json.Marshal(ev)
	d, err := newResponder(t, w).Handle(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(d)
	logged := w.Logged(d.LogStream)
	for _, secret := range []string{signature, "IQoJb3JpZ2luX2VjEHoaCXVzLWVhc3QtMSJHMEUCIQ", "ASIAEXAMPLE", moto.SecretKey + `"`} {
		for where, text := range map[string]string{"diagnosis": string(doc), "log event": logged} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s carries %q", where, secret)
			}
		}
	}
	if !strings.Contains(logged, "starport-layer-bucket") {
		t.Errorf("the log event lost the reason's host: %.300s", logged)
	}
}
