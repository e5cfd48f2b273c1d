package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestDefaultCluster: without ECS_CLUSTER the agent registers into "default" and creates it when
// it does not exist (amazon-ecs-agent, ecs-agent/api/ecs/client/ecs_client.go,
// RegisterContainerInstance; AmazonEC2ContainerServiceforEC2Role allows ecs:CreateCluster): a
// warning saying so, not "cannot register". Only a cluster ECS_CLUSTER names that does not
// exist fails. Issue 17, item 5.
func TestDefaultCluster(t *testing.T) {
	tests := []struct {
		name      string
		cluster   string
		defaulted bool
		missing   []string
		ecs       checks.Status
		code      checks.Code
		verdict   checks.Status
		words     []string
	}{
		{"unset, default missing", "default", true, []string{"default"}, checks.Warn, checks.NotFound, checks.Warn,
			[]string{"ECS_CLUSTER", "default", "ecs:CreateCluster", "AmazonEC2ContainerServiceforEC2Role"}},
		{"unset, default exists", "default", true, nil, checks.Pass, "", checks.Pass, nil},
		{"named and missing", "prod", false, []string{"prod"}, checks.Fail, checks.NotFound, checks.Fail,
			[]string{"ECS_CLUSTER", "prod", "create-cluster"}},
		{"default named and missing", "default", false, []string{"default"}, checks.Fail, checks.NotFound, checks.Fail, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := agentWorld(t, func(c *fakeaws.Config) { c.MissingClusters = tt.missing })
			p := awsProber(t, w, "ec2-instance", func(p *Prober) {
				p.ECSCluster, p.ECSClusterDefaulted = tt.cluster, tt.defaulted
				p.Timeout = 500 * time.Millisecond
			})
			rep := checkedRun(t, p, time.Now())
			s := serviceOf(t, rep, "ecs")
			if s.Verdict != tt.ecs || s.Error != tt.code || rep.Verdict != tt.verdict {
				t.Fatalf("ecs %s %s, run %s; want %s %s, %s\n%s", s.Verdict, s.Error, rep.Verdict, tt.ecs, tt.code, tt.verdict, rep.Text(false))
			}
			for _, w := range tt.words {
				if !strings.Contains(s.Diagnosis+" "+s.Remediation, w) {
					t.Errorf("%q missing from:\n%s\n%s", w, s.Diagnosis, s.Remediation)
				}
			}
			if tt.defaulted && strings.Contains(s.Diagnosis, "cannot register") {
				t.Errorf("says the agent cannot register: %s", s.Diagnosis)
			}
			if a := serviceOf(t, rep, "ecs-agent"); a.Verdict != checks.Pass {
				t.Errorf("ecs-agent %s: DiscoverPollEndpoint answered, its host is known", a.Verdict)
			}
		})
	}
}

// TestReadAgentConfig tells an ECS_CLUSTER set to default from one not set at all.
func TestReadAgentConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		body, cluster string
		defaulted     bool
	}{
		{"ECS_CLUSTER=prod\n", "prod", false},
		{"ECS_CLUSTER=default\n", "default", false},
		{"ECS_LOGLEVEL=debug\n", "default", true},
		{"ECS_CLUSTER=\n", "default", true},
	} {
		path := filepath.Join(dir, "ecs.config")
		os.WriteFile(path, []byte(tt.body), 0o644)
		c, err := ReadAgentConfig(path)
		if err != nil || c.Cluster != tt.cluster || c.Defaulted != tt.defaulted {
			t.Errorf("%q: %+v %v", tt.body, c, err)
		}
	}
}
