package checks

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestAgentEndpoints calls DiscoverPollEndpoint and DescribeClusters of the fake as the agent's
// check does, asserting the code and the hosts it learns.
func TestAgentEndpoints(t *testing.T) {
	tests := []struct {
		name      string
		cluster   string
		edit      func(*fakeaws.Config)
		wantCode  Code
		wantHosts bool
	}{
		{name: "registers", cluster: "prod", wantHosts: true},
		{name: "dpe denied", cluster: "prod", edit: func(c *fakeaws.Config) {
			c.Deny = map[string]bool{"ecs:DiscoverPollEndpoint": true}
		}, wantCode: AccessDenied},
		{name: "cluster missing", cluster: "typo", edit: func(c *fakeaws.Config) {
			c.MissingClusters = []string{"typo"}
		}, wantCode: NotFound, wantHosts: true},
		{name: "cluster unverified", cluster: "typo", edit: func(c *fakeaws.Config) {
			c.MissingClusters = []string{"typo"}
			c.Deny = map[string]bool{"ecs:DescribeClusters": true}
		}, wantHosts: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAWS(t, tt.edit)
			r, hosts := AgentEndpoints(context.Background(), ecs.NewFromConfig(f.cfg), tt.cluster)
			if r.Code != tt.wantCode || r.Name != "auth" {
				t.Fatalf("%s %s, want code %q: %s", r.Name, r.Code, tt.wantCode, r.Detail)
			}
			wantAgent, wantTelemetry := "", ""
			if tt.wantHosts {
				wantAgent, wantTelemetry = "ecs-a-3.eu-west-1.amazonaws.com", "ecs-t-3.eu-west-1.amazonaws.com"
			}
			if hosts.Agent != wantAgent || hosts.Telemetry != wantTelemetry {
				t.Errorf("hosts %+v", hosts)
			}
		})
	}
}
