package fakeaws_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestDiscoverPollEndpoint calls the fake as the ECS agent does (no container instance yet)
// through the SDK, and checks the wire shape and the denial.
func TestDiscoverPollEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		deny     string
		wantCode string
	}{
		{name: "allowed"},
		{name: "denied", deny: "ecs:DiscoverPollEndpoint", wantCode: "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fakeaws.DefaultConfig()
			if tt.deny != "" {
				cfg.Deny = map[string]bool{tt.deny: true}
			}
			e := newEnv(t, cfg)
			out, err := e.ecs().DiscoverPollEndpoint(context.Background(), &ecs.DiscoverPollEndpointInput{Cluster: aws.String("prod")})
			if got := errorCode(t, err); got != tt.wantCode {
				t.Fatalf("error code %q, want %q (%v)", got, tt.wantCode, err)
			}
			if tt.wantCode != "" {
				return
			}
			if aws.ToString(out.Endpoint) != "https://ecs-a-3.eu-west-1.amazonaws.com/" ||
				aws.ToString(out.TelemetryEndpoint) != "https://ecs-t-3.eu-west-1.amazonaws.com/" ||
				aws.ToString(out.ServiceConnectEndpoint) == "" {
				t.Errorf("endpoints %q %q %q", aws.ToString(out.Endpoint), aws.ToString(out.TelemetryEndpoint), aws.ToString(out.ServiceConnectEndpoint))
			}
			reqs := e.fake.Requests()
			if last := reqs[len(reqs)-1]; last.Action != "ecs:DiscoverPollEndpoint" || last.Status != http.StatusOK {
				t.Errorf("recorded %+v", last)
			}
		})
	}
}

// TestDescribeClustersMissing answers a cluster of MissingClusters as a MISSING failure.
func TestDescribeClustersMissing(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.MissingClusters = []string{"typo"}
	e := newEnv(t, cfg)
	out, err := e.ecs().DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{"typo", "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Clusters) != 1 || aws.ToString(out.Clusters[0].ClusterName) != "prod" || aws.ToString(out.Clusters[0].Status) != "ACTIVE" {
		t.Errorf("clusters %+v", out.Clusters)
	}
	if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" || !strings.HasSuffix(aws.ToString(out.Failures[0].Arn), ":cluster/typo") {
		t.Errorf("failures %+v", out.Failures)
	}
}

// TestIMDS reads the fake with the SDK's own IMDS client (token PUT, then GETs with the token),
// and checks that a GET without a token is refused and that a hop-limited token PUT hangs.
func TestIMDS(t *testing.T) {
	m := &fakeaws.IMDS{Instance: fakeaws.Instance{ID: "i-0abc", Region: "eu-west-1", AvailabilityZone: "eu-west-1a",
		PrivateIP: "10.0.1.17", MAC: "0e:00:00:00:00:01", SubnetID: "subnet-0lab", VPCID: "vpc-0lab",
		SubnetCIDR: "10.0.1.0/24", VPCCIDR: "10.0.0.0/16"}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	c := imds.New(imds.Options{Endpoint: srv.URL, ClientEnableState: imds.ClientEnabled, EnableFallback: aws.FalseTernary})
	for path, want := range map[string]string{
		"instance-id": "i-0abc", "placement/region": "eu-west-1",
		"network/interfaces/macs/0e:00:00:00:00:01/subnet-ipv4-cidr-block": "10.0.1.0/24",
	} {
		out, err := c.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: path})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var b strings.Builder
		buf := make([]byte, 64)
		n, _ := out.Content.Read(buf)
		b.Write(buf[:n])
		out.Content.Close()
		if b.String() != want {
			t.Errorf("%s = %q, want %q", path, b.String(), want)
		}
	}
	if m.TokenRequests() != 1 {
		t.Errorf("%d token PUTs, want 1 (the SDK caches the token)", m.TokenRequests())
	}
	resp, err := http.Get(srv.URL + "/latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET without a token: %d, want 401", resp.StatusCode)
	}

	m.HopLimited = true
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	fresh := imds.New(imds.Options{Endpoint: srv.URL, ClientEnableState: imds.ClientEnabled, EnableFallback: aws.FalseTernary})
	if _, err := fresh.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"}); err == nil || m.TokenRequests() != 2 {
		t.Errorf("hop-limited: %v, want the token PUT to go unanswered until the deadline", err)
	}
}
