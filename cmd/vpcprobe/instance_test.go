package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestRunOnInstance runs the program as on an ECS container instance: no task metadata, no
// region in the environment, instance metadata at a loopback IMDSv2 fake named by
// AWS_EC2_METADATA_SERVICE_ENDPOINT (in the process environment too, for the SDK), and the
// agent's configuration at --ecs-config. The region, the instance's context and the cluster
// come from them; with AWS_EC2_METADATA_DISABLED nothing is read.
func TestRunOnInstance(t *testing.T) {
	awstest.StaticCredentials(t) // credentials from the environment: the SDK never asks IMDS
	m := &fakeaws.IMDS{Instance: fakeaws.Instance{ID: "i-0cmd", Region: "eu-central-1", AvailabilityZone: "eu-central-1b",
		PrivateIP: "10.9.1.17", MAC: "0e:00:00:00:00:09", SubnetID: "subnet-0cmd", VPCID: "vpc-0cmd",
		SubnetCIDR: "10.9.1.0/24", VPCCIDR: "10.9.0.0/16"}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	ecsConfig := filepath.Join(t.TempDir(), "ecs.config")
	if err := os.WriteFile(ecsConfig, []byte("ECS_CLUSTER=web\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resolver := awstest.Resolver(t, fakedns.NewZone())
	args := []string{"--amazon-dns", "", "--resolver", resolver, "--timeout", "1s", "--deadline", "5s",
		"--output", "json", "--services", "sts", "--ecs-config", ecsConfig}

	tests := []struct {
		name     string
		disabled string
		want     report.Context
	}{
		{name: "instance metadata", want: report.Context{Region: "eu-central-1", Runner: probe.RunnerEC2Instance,
			InstanceID: "i-0cmd", VPCID: "vpc-0cmd", SubnetID: "subnet-0cmd", SubnetCIDR: "10.9.1.0/24", Cluster: "web"}},
		{name: "disabled", disabled: "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_EC2_METADATA_DISABLED", tt.disabled)
			var out, errb bytes.Buffer
			before := m.TokenRequests()
			extra := []string{}
			if tt.disabled != "" {
				extra = []string{"--region", "eu-west-1"}
			}
			code := run(append(args, extra...), env("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL, "AWS_EC2_METADATA_DISABLED", tt.disabled), &out, &errb)
			if code != exitFail || errb.Len() != 0 {
				t.Fatalf("exit %d stderr %s", code, errb.String())
			}
			schematest.Check(t, out.Bytes())
			var rep report.Report
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			c := rep.Context
			if tt.disabled != "" {
				if m.TokenRequests() != before || c.InstanceMetadata != nil || c.Runner != report.RunnerHost {
					t.Errorf("instance metadata read although disabled: %+v", c)
				}
				return
			}
			w := tt.want
			if c.Region != w.Region || c.Runner != w.Runner || c.InstanceID != w.InstanceID || c.VPCID != w.VPCID ||
				c.SubnetID != w.SubnetID || c.SubnetCIDR != w.SubnetCIDR || c.Cluster != w.Cluster ||
				c.InstanceMetadata == nil || c.InstanceMetadata.Status != checks.Pass {
				t.Errorf("context %+v", c)
			}
		})
	}
}
