package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/respondertest"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/internal/testbin"
	"github.com/vpcprobe/vpcprobe/responder"
)

// TestResponderRuntime runs the binary as the responder's Lambda function behind the fake Runtime
// API, with its settings in the function's environment as the template sets them, against moto
// (ECS, EC2, DynamoDB, Logs, EventBridge) and the fake Lambda API: a failed start is answered
// with its diagnosis and a live probe from its subnet, the next event of the same cause links to
// that probe, and an event that is no failed start is answered in one line with no work.
func TestResponderRuntime(t *testing.T) {
	w := respondertest.New(t, 1)
	task := w.Service("shop-web", w.Subnets[0])
	bin := testbin.T(t, testbin.Probe) // the binary as it ships: the responder zips itself
	// moto answers a task's container cpu and memory as numbers: a proxy mends that one bug.
	target, _ := url.Parse(w.Moto.URL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }, Transport: moto.FixECS(http.DefaultTransport)})
	t.Cleanup(proxy.Close)

	fn := startBootstrap(t, bin, "arn:aws:lambda:"+moto.Region+":"+moto.Account+":function:vpcprobe-responder", []string{
		"AWS_LAMBDA_FUNCTION_NAME=vpcprobe-responder",
		"AWS_REGION=" + moto.Region,
		"AWS_ACCESS_KEY_ID=" + moto.AccessKey, "AWS_SECRET_ACCESS_KEY=" + moto.SecretKey,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"HOME=" + t.TempDir(),
		"AWS_ENDPOINT_URL=" + proxy.URL, "AWS_ENDPOINT_URL_LAMBDA=" + w.FakeURL, "AWS_CA_BUNDLE=" + w.FakeCA,
		responder.EnvTable + "=" + respondertest.Table, responder.EnvLogGroup + "=" + respondertest.LogGroup,
		responder.EnvProbeRole + "=arn:aws:iam::" + moto.Account + ":role/vpcprobe-lambda", responder.EnvProbeDeadline + "=5s",
	})
	stderr := fn.stderr
	invoke := func(event []byte) responder.Diagnosis {
		t.Helper()
		res := fn.invoke(t, event, 2*time.Minute)
		if res.FunctionError != "" {
			t.Fatalf("function error %s: %s\nstderr: %s", res.FunctionError, res.Payload, stderr.String())
		}
		schematest.Check(t, res.Payload)
		var d responder.Diagnosis
		if err := json.Unmarshal(res.Payload, &d); err != nil {
			t.Fatalf("%v: %s", err, res.Payload)
		}
		return d
	}

	first := invoke(w.Event("e-1", task, "shop-web", w.Subnets[0]))
	if first.Verdict != checks.Fail || first.Probe == nil || !first.Probe.Ran || first.Launch == nil || first.Launch.Subnets[0].Inspection == nil {
		t.Fatalf("first diagnosis %+v probe %+v\nstderr: %s", first, first.Probe, stderr.String())
	}
	if got := w.Logged(first.LogStream); !strings.Contains(got, `"FailedStarts":1`) {
		t.Errorf("log stream %s: %.300s", first.LogStream, got)
	}
	second := invoke(w.Event("e-2", task, "shop-web", w.Subnets[0]))
	if second.Probe == nil || second.Probe.Ran || second.Probe.RunID != first.Probe.RunID || second.Probe.LogStream != first.LogStream {
		t.Errorf("second diagnosis's probe %+v, want a link to %s", second.Probe, first.Probe.RunID)
	}
	if n := len(w.Fake.FunctionsCreated()); n != 1 {
		t.Errorf("%d probe functions created, want 1", n)
	}
	if left := w.Fake.Functions(); len(left) != 0 {
		t.Errorf("functions left: %v", left)
	}

	res := fn.invoke(t, []byte(`{"version":"0","id":"e-3","source":"aws.ecs","detail-type":"ECS Task State Change","detail":{"lastStatus":"RUNNING"}}`), 20*time.Second)
	var line string
	if res.FunctionError != "" || json.Unmarshal(res.Payload, &line) != nil || !strings.HasPrefix(line, "not a failed start") {
		t.Errorf("a running task's event answered %s %s", res.FunctionError, res.Payload)
	}
}
