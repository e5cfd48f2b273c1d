package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

const taskDoc = `{
  "Cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/default",
  "TaskARN": "arn:aws:ecs:eu-west-1:123456789012:task/default/febee046097849aba589d4435207c04a",
  "Family": "vpcprobe", "Revision": "3",
  "AvailabilityZone": "eu-west-1a", "LaunchType": "FARGATE",
  "Containers": [{"Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.1.99"],
    "IPv4SubnetCIDRBlock": "10.0.1.0/24", "DomainNameServers": ["10.0.0.2"],
    "SubnetGatewayIpv4Address": "10.0.1.1/24"}]}],
  "SomeFutureField": {"x": 1}
}`

const containerDoc = `{"Name": "vpcprobe", "Networks": [{"NetworkMode": "awsvpc",
  "IPv4Addresses": ["10.0.1.17"], "IPv4SubnetCIDRBlock": "10.0.1.0/24",
  "DomainNameServers": ["10.0.0.2", "10.0.0.3"]}]}`

func TestParseMetadata(t *testing.T) {
	m, err := ParseMetadata([]byte(taskDoc), []byte(containerDoc))
	if err != nil {
		t.Fatal(err)
	}
	want := Metadata{
		Cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/default",
		TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/default/febee046097849aba589d4435207c04a",
		Family:  "vpcprobe", Revision: "3", AvailabilityZone: "eu-west-1a", LaunchType: "FARGATE",
		PrivateIP: "10.0.1.17", SubnetCIDR: "10.0.1.0/24", DNSServers: []string{"10.0.0.2", "10.0.0.3"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v\nwant %+v", m, want)
	}
	if m.Region() != "eu-west-1" || m.Account() != "123456789012" {
		t.Errorf("region %q account %q", m.Region(), m.Account())
	}

	// Without the container document, the task's first container's network is used.
	m, err = ParseMetadata([]byte(taskDoc), nil)
	if err != nil || m.PrivateIP != "10.0.1.99" {
		t.Errorf("task-only: %+v, %v", m, err)
	}
	// A short cluster name and no task ARN region: the zone gives the region.
	m, _ = ParseMetadata([]byte(`{"Cluster":"default","AvailabilityZone":"us-west-2b"}`), nil)
	if m.Region() != "us-west-2" || m.Account() != "" {
		t.Errorf("zone fallback: region %q account %q", m.Region(), m.Account())
	}
	if _, err := ParseMetadata([]byte(`{"Cluster":`), nil); err == nil {
		t.Error("broken task document accepted")
	}
}

func TestFetchMetadata(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/v4/abc/task", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(taskDoc)) })
	mux.HandleFunc("/v4/abc", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(containerDoc)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m, err := FetchMetadata(ctx, srv.Client(), srv.URL+"/v4/abc")
	if err != nil || m.PrivateIP != "10.0.1.17" || m.LaunchType != "FARGATE" {
		t.Fatalf("got %+v, %v", m, err)
	}
	if _, err := FetchMetadata(ctx, srv.Client(), srv.URL+"/v4/missing"); err == nil {
		t.Error("404 task document accepted")
	}

	// A metadata endpoint that never answers is bounded by the context.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := FetchMetadata(short, hang.Client(), hang.URL); err == nil {
		t.Error("silent metadata endpoint did not fail")
	}
}

// FuzzMetadata feeds arbitrary documents to the parser: no panic, and what it derives is
// well-formed.
func FuzzMetadata(f *testing.F) {
	f.Add([]byte(taskDoc), []byte(containerDoc))
	f.Add([]byte(`{"TaskARN":"arn:aws:ecs:::task/x","AvailabilityZone":"a"}`), []byte(`{"Networks":[]}`))
	f.Add([]byte(`{"TaskARN":"arn"}`), []byte(`null`))
	f.Add([]byte(`{"Containers":[{"Networks":[{"IPv4Addresses":[]}]}]}`), []byte{})
	f.Fuzz(func(t *testing.T, task, container []byte) {
		m, err := ParseMetadata(task, container)
		if err != nil {
			return
		}
		if a := m.Account(); a != "" && !catalogue.ValidAccount(a) {
			t.Errorf("account %q", a)
		}
		_ = m.Region()
		_ = DefaultStream(m, time.Unix(0, 0))
	})
}

// TestDefaultStream is CONTRACT.md's --log-stream default: the task id (or the host name) and
// the start time, in characters CloudWatch accepts in a stream name (no ':' and no '*').
func TestDefaultStream(t *testing.T) {
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	m := Metadata{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/febee046097849aba589d4435207c04a"}
	if got, want := DefaultStream(m, start), "febee046097849aba589d4435207c04a/2026-11-21T10-00-00Z"; got != want {
		t.Errorf("in a task: %q, want %q", got, want)
	}
	host, _ := os.Hostname()
	got := DefaultStream(Metadata{}, start.In(time.FixedZone("x", 3600)))
	if got != host+"/2026-11-21T10-00-00Z" {
		t.Errorf("outside ECS: %q, want the host name %q and the UTC start", got, host)
	}
	if strings.ContainsAny(got, ":*") {
		t.Errorf("%q has characters a stream name may not", got)
	}
}
