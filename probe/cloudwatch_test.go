package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/report"
)

const (
	testGroup  = "/vpcprobe/test"
	testStream = "task-1/2026-11-21T10-00-00Z"
)

// deliveryProber is a prober of sts in an AWS world, delivering to the test group.
func deliveryProber(t *testing.T, w *world) *Prober {
	t.Helper()
	return awsProber(t, w, "sts,logs", func(p *Prober) {
		p.LogGroup, p.LogStream = testGroup, testStream
		p.Deadline = 10 * time.Second
	})
}

// delivered returns the messages the fake holds in the test stream.
func delivered(fake *fakeaws.Server) []string {
	var msgs []string
	for _, e := range fake.Events(testGroup, testStream) {
		msgs = append(msgs, e.Message)
	}
	return msgs
}

func TestDeliver(t *testing.T) {
	tests := []struct {
		name string
		edit func(*fakeaws.Config)
		pre  func(w *world, fake *fakeaws.Server) // before the run
	}{
		{"new group and stream", nil, nil},
		{"throttled then accepted", func(c *fakeaws.Config) {
			c.Throttle = map[string]int{"logs:PutLogEvents": 3, "logs:CreateLogStream": 1}
		}, nil},
		{"existing group the role may not create", func(c *fakeaws.Config) {
			c.Deny = map[string]bool{"logs:CreateLogGroup": true}
		}, func(w *world, fake *fakeaws.Server) {
			fake.Configure(func(c *fakeaws.Config) { c.Deny = nil })
			p := deliveryProber(t, w)
			rep := checkedRun(t, p, time.Now())
			p.Deliver(context.Background(), rep, time.Now()) // creates group and stream
			fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"logs:CreateLogGroup": true} })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, fake := awsWorld(t, tt.edit)
			if tt.pre != nil {
				tt.pre(w, fake)
			}
			before := len(delivered(fake))
			p := deliveryProber(t, w)
			started := time.Now()
			rep := checkedRun(t, p, started)
			p.Deliver(context.Background(), rep, started)
			d := rep.Delivery
			if d.CloudWatch != report.Delivered || d.Error != "" || d.LogGroup != testGroup || d.LogStream != testStream || rep.Failed() {
				t.Fatalf("delivery %+v, failed %v", d, rep.Failed())
			}
			msgs := delivered(fake)[before:]
			if len(msgs) != len(rep.Services)+1 {
				t.Fatalf("%d events delivered, want %d", len(msgs), len(rep.Services)+1)
			}
			got, err := report.FromEvents(rep.RunID, msgs)
			if err != nil || got.Verdict != rep.Verdict || len(got.Services) != len(rep.Services) {
				t.Errorf("reassembled %+v, %v", got, err)
			}
			var sum map[string]any
			json.Unmarshal([]byte(msgs[len(msgs)-1]), &sum)
			if sum["type"] != report.EventSummary || sum["_aws"] == nil {
				t.Errorf("last event %v", sum)
			}
		})
	}
}

func TestDeliverFailure(t *testing.T) {
	tests := []struct {
		name string
		edit func(*fakeaws.Config)
		code checks.Code
		word string
	}{
		{"events denied", func(c *fakeaws.Config) { c.Deny = map[string]bool{"logs:PutLogEvents": true} }, checks.AccessDenied, "logs:PutLogEvents"},
		{"group and stream denied", func(c *fakeaws.Config) {
			c.Deny = map[string]bool{"logs:CreateLogGroup": true, "logs:CreateLogStream": true}
		}, checks.AccessDenied, "logs:CreateLogStream"},
		{"no group, and creating it denied", func(c *fakeaws.Config) {
			c.Deny = map[string]bool{"logs:CreateLogGroup": true}
		}, checks.AccessDenied, "logs:CreateLogGroup"},
		{"throttled throughout", func(c *fakeaws.Config) { c.Throttle = map[string]int{"logs:PutLogEvents": 1000} }, checks.Throttled, "logs:PutLogEvents"},
		{"unknown credentials", func(c *fakeaws.Config) { c.AccessKeys = nil }, checks.AuthFailed, "logs:CreateLogStream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := awsWorld(t, tt.edit)
			p := deliveryProber(t, w)
			p.Timeout, p.Deadline = 500*time.Millisecond, 3*time.Second
			started := time.Now()
			rep := checkedRun(t, p, started)
			p.Deliver(context.Background(), rep, started)
			if took := time.Since(started); took > p.Deadline {
				t.Errorf("run and delivery took %s, beyond --deadline %s", took, p.Deadline)
			}
			d := rep.Delivery
			if d.CloudWatch != report.Failed || !strings.HasPrefix(d.Error, string(tt.code)+":") || !strings.Contains(d.Error, tt.word) || !rep.Failed() {
				t.Fatalf("delivery %+v, failed %v; want %s naming %s", d, rep.Failed(), tt.code, tt.word)
			}
			// The report itself is whole.
			if len(rep.Services) != 2 || !bytes.Contains(rep.JSON(), []byte(`"cloudwatch":"failed"`)) {
				t.Errorf("report %s", rep.JSON())
			}
		})
	}
}

// TestDeliverSilentLogs: a logs endpoint that accepts calls and never answers costs the
// delivery's calls their own step, not more: delivery fails with "timeout" within its slice of
// --deadline.
func TestDeliverSilentLogs(t *testing.T) {
	w := newWorld(t, awstest.Hang(fakeaws.New(fakeaws.DefaultConfig()), func(r *http.Request) bool {
		return strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Logs_")
	}))
	awstest.StaticCredentials(t)
	p := deliveryProber(t, w)
	p.Timeout, p.Deadline = 400*time.Millisecond, 2*time.Second
	started := time.Now()
	rep := checkedRun(t, p, started)
	p.Deliver(context.Background(), rep, started)
	if took := time.Since(started); took > p.Deadline-outputReserve {
		t.Errorf("took %s, beyond the delivery's slice of --deadline", took)
	}
	// Each delivery call ends by its own step (its attempts bounded), inside the slice: the
	// run's deadline never has to cut it.
	if rep.Delivery.CloudWatch != report.Failed || !strings.HasPrefix(rep.Delivery.Error, "timeout:") {
		t.Errorf("delivery %+v", rep.Delivery)
	}
}

// TestDeliverOversized: a report far beyond one batch is split into batches within the limits,
// and an event beyond the event limit is cut, not lost. The fake refuses whatever breaks a limit.
func TestDeliverOversized(t *testing.T) {
	w, fake := awsWorld(t, nil)
	p := deliveryProber(t, w)
	rep := &report.Report{Schema: report.Schema, RunID: "big-run", StartedAt: report.Timestamp(time.Now()), Delivery: report.Delivery{CloudWatch: report.Disabled}}
	long := strings.Repeat("x", 200_000)
	for i := range 12 {
		rep.Services = append(rep.Services, report.ServiceReport{Service: fmt.Sprintf("svc-%02d", i), Verdict: checks.Fail,
			Error: checks.Timeout, Route: report.RoutePublic, Addresses: []string{}, Diagnosis: long, Remediation: "r"})
	}
	rep.Services[3].Diagnosis = strings.Repeat("é", 300_000) // 600,000 bytes: one event alone is too big
	rep.Finish()
	p.Deliver(context.Background(), rep, time.Now())
	if rep.Delivery.CloudWatch != report.Delivered {
		t.Fatalf("delivery %+v", rep.Delivery)
	}
	msgs := delivered(fake)
	if len(msgs) != 13 {
		t.Fatalf("%d events, want 13", len(msgs))
	}
	puts := count(fake.Requests(), "logs:PutLogEvents")
	if puts < 3 {
		t.Errorf("%d PutLogEvents calls for about 2.6 MB, want at least 3", puts)
	}
	got, err := report.FromEvents("big-run", msgs)
	if err != nil || len(got.Services) != 12 || got.Counts.Fail != 12 {
		t.Fatalf("reassembled %+v %v", got, err)
	}
	cut := got.Services[3]
	if cut.Verdict != checks.Fail || cut.Error != checks.Timeout || !strings.HasSuffix(cut.Diagnosis, "...[cut]") {
		t.Errorf("the oversized event lost more than words: %+v", cut)
	}
	if !strings.Contains(msgs[3], `"truncated":true`) {
		t.Errorf("the cut event does not say so")
	}
}

func TestBatches(t *testing.T) {
	small := make([][]byte, 10_001)
	for i := range small {
		small[i] = []byte("{}")
	}
	if b := batches(small); len(b) != 2 || len(b[0]) != maxBatchEvents || len(b[1]) != 1 {
		t.Errorf("10,001 events: %d batches", len(b))
	}
	big := bytes.Repeat([]byte("a"), maxEventBytes-eventOverhead)
	b := batches([][]byte{big, big, big, big, big})
	if len(b) != 2 || len(b[0]) != 4 { // four events make exactly the 1 MiB limit
		t.Errorf("five 256 KiB events: %d batches of %d", len(b), len(b[0]))
	}
	for _, batch := range b {
		size := 0
		for _, m := range batch {
			size += len(m) + eventOverhead
		}
		if size > maxBatchBytes {
			t.Errorf("batch of %d bytes", size)
		}
	}
}

func TestFitEvent(t *testing.T) {
	ev := []byte(`{"schema":"vpcprobe/v1","run_id":"r","type":"service","verdict":"fail","n":1700000000000,"detail":"` + strings.Repeat("ü", 1000) + `"}`)
	out := fitEvent(ev, 500)
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil || len(out) > 500 {
		t.Fatalf("%d bytes, %v: %s", len(out), err, out)
	}
	if doc["truncated"] != true || doc["verdict"] != "fail" || doc["n"] != 1.7e12 {
		t.Errorf("%s", out)
	}
	if got := fitEvent([]byte(`{"a":1}`), 500); string(got) != `{"a":1}` {
		t.Errorf("a small event changed: %s", got)
	}
	many := map[string]string{"schema": "vpcprobe/v1", "run_id": "r", "type": "summary"}
	for i := range 200 {
		many[fmt.Sprint("k", i)] = "v"
	}
	b, _ := json.Marshal(many)
	if out := fitEvent(b, 200); len(out) > 200 || !json.Valid(out) || !bytes.Contains(out, []byte(`"run_id":"r"`)) {
		t.Errorf("skeleton %s", out)
	}
}

// TestDeliveryCostsNoExtraTimeout (issue 10, item 9): in a black-holed subnet, a run with
// --log-group ends within one --timeout plus half a second, whatever the number of services and
// whether logs is among them: delivery uses the logs service's own result, or the group and
// stream calls that went out with the probes.
func TestDeliveryCostsNoExtraTimeout(t *testing.T) {
	for _, services := range []string{"all", "ecr.api,ecr.dkr,s3,logs", "ecr.api,ecr.dkr"} {
		t.Run(services, func(t *testing.T) {
			w, fake := awsWorld(t, nil)
			step := time.Second
			p := awsProber(t, w, services, func(p *Prober) {
				p.LogGroup, p.LogStream = testGroup, testStream
				p.Timeout, p.Deadline = step, 30*time.Second
				p.Dialer = blackhole{}
			})
			started := time.Now()
			rep := checkedRun(t, p, started)
			p.Deliver(context.Background(), rep, started)
			if took := time.Since(started); took > step+500*time.Millisecond {
				t.Errorf("a black-holed run with --log-group took %s, beyond one --timeout plus half a second", took)
			}
			if rep.Delivery.CloudWatch != report.Failed || !strings.HasPrefix(rep.Delivery.Error, string(checks.Timeout)+":") {
				t.Errorf("delivery %+v", rep.Delivery)
			}
			if n := len(fake.Requests()); n != 0 {
				t.Errorf("%d requests reached the fake through a black hole", n)
			}
		})
	}
}
