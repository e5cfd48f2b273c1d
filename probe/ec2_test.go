package probe

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/report"
)

// The agent's hosts as the fake's DiscoverPollEndpoint names them.
const (
	agentHost     = "ecs-a-3.eu-west-1.amazonaws.com"
	telemetryHost = "ecs-t-3.eu-west-1.amazonaws.com"
)

// agentWorld is awsWorld whose resolver and certificate also know the hosts DiscoverPollEndpoint
// names (and not only the catalogue's regional names).
func agentWorld(t *testing.T, edit func(*fakeaws.Config)) (*world, *fakeaws.Server) {
	t.Helper()
	awstest.IsolateSDK(t)
	cfg := fakeaws.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	fake := fakeaws.New(cfg)
	hosts := []string{agentHost, telemetryHost}
	for _, s := range catalogue.All() {
		hosts = append(hosts, s.Host(testRegion, testAccount))
	}
	zone := awstest.Zone(hosts...)
	w := &world{zone: zone, resolver: awstest.Resolver(t, zone), front: awstest.Front(t, fake, hosts...)}
	awstest.StaticCredentials(t)
	return w, fake
}

// TestAgentPath: ecs's auth check is DiscoverPollEndpoint with the cluster of ecs.config, and
// ecs-agent and ecs-telemetry probe the hosts it names — or are skipped, saying why, when it
// could not be called.
func TestAgentPath(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(*fakeaws.Config)
		setup       func(w *world, p *Prober)
		services    string
		ecs         checks.Code // ecs's error; "" passes
		ecsCheck    string
		agent       checks.Status
		agentHost   string
		verdict     checks.Status
		instanceRun bool
	}{
		{name: "registers", services: "ec2-instance", agent: checks.Pass, agentHost: agentHost, verdict: checks.Pass},
		{name: "dpe denied", services: "ec2-instance",
			edit: func(c *fakeaws.Config) { c.Deny = map[string]bool{"ecs:DiscoverPollEndpoint": true} },
			ecs:  checks.AccessDenied, ecsCheck: "auth", agent: checks.Skip, verdict: checks.Fail},
		{name: "cluster missing", services: "ec2-instance",
			edit: func(c *fakeaws.Config) { c.MissingClusters = []string{"prod"} },
			ecs:  checks.NotFound, ecsCheck: "auth", agent: checks.Pass, agentHost: agentHost, verdict: checks.Fail},
		{name: "no path to ecs", services: "ec2-instance",
			setup: func(w *world, p *Prober) {
				w.zone.Set("ecs.eu-west-1.amazonaws.com", netip.MustParseAddr("127.0.0.3"))
				p.Dialer = blackhole{only: netip.MustParseAddr("127.0.0.3")}
			},
			ecs: checks.Timeout, ecsCheck: "tcp", agent: checks.Skip, verdict: checks.Fail},
		{name: "no path to the agent host", services: "ec2-instance",
			setup: func(w *world, p *Prober) {
				w.zone.Set(agentHost, netip.MustParseAddr("127.0.0.4"))
				p.Dialer = blackhole{only: netip.MustParseAddr("127.0.0.4")}
			},
			agent: checks.Fail, agentHost: agentHost, verdict: checks.Fail},
		{name: "ecs not probed", services: "ecs-agent,ecs-telemetry", agent: checks.Skip, verdict: checks.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, fake := agentWorld(t, tt.edit)
			p := awsProber(t, w, tt.services, func(p *Prober) {
				p.ECSCluster = "prod"
				p.Timeout = 500 * time.Millisecond
				if tt.setup != nil {
					tt.setup(w, p)
				}
			})
			rep := checkedRun(t, p, time.Now())
			if rep.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s\n%s", rep.Verdict, tt.verdict, rep.Text(false))
			}
			if p.probes("ecs") {
				s := serviceOf(t, rep, "ecs")
				if s.Error != tt.ecs {
					t.Errorf("ecs error %q, want %q\n%s", s.Error, tt.ecs, rep.Text(false))
				}
				if tt.ecs != "" {
					if c := checkOf(t, s, tt.ecsCheck); c.Error != tt.ecs {
						t.Errorf("ecs %s check %+v", tt.ecsCheck, c)
					}
					if s.Diagnosis == "" || s.Remediation == "" {
						t.Errorf("ecs without diagnosis: %+v", s)
					}
				}
			}
			for _, key := range []string{"ecs-agent", "ecs-telemetry"} {
				s := serviceOf(t, rep, key)
				if key == "ecs-agent" && s.Verdict != tt.agent {
					t.Errorf("%s verdict %s, want %s\n%s", key, s.Verdict, tt.agent, rep.Text(false))
				}
				if key == "ecs-agent" && s.Host != tt.agentHost {
					t.Errorf("%s host %q, want %q", key, s.Host, tt.agentHost)
				}
				if key == "ecs-telemetry" && tt.agentHost != "" && s.Host != telemetryHost {
					t.Errorf("%s host %q", key, s.Host)
				}
			}
			if n := count(fake.Requests(), "ecs:DiscoverPollEndpoint"); p.probes("ecs") && tt.ecsCheck != "tcp" && n != 1 {
				t.Errorf("%d DiscoverPollEndpoint calls, want one shared", n)
			}
		})
	}
}

// TestAgentPathBlackHole is the one-timeout promise with the agent's dependency: when ecs is
// black-holed, ecs-agent and ecs-telemetry are released as soon as ecs's tcp check fails, and
// do not add a --timeout of their own.
func TestAgentPathBlackHole(t *testing.T) {
	w, _ := agentWorld(t, nil)
	p := awsProber(t, w, "ec2-instance", func(p *Prober) {
		p.Timeout = 500 * time.Millisecond
		p.Dialer = blackhole{}
	})
	rep := checkedRun(t, p, time.Now())
	for _, key := range []string{"ecs-agent", "ecs-telemetry"} {
		s := serviceOf(t, rep, key)
		if s.Verdict != checks.Skip || s.Checks[0].Detail == "" {
			t.Errorf("%s: %s %+v", key, s.Verdict, s.Checks)
		}
	}
	if c := checkOf(t, serviceOf(t, rep, "ecs"), "tcp"); c.Error != checks.Timeout {
		t.Errorf("ecs tcp %+v", c)
	}
}

func testInstance() fakeaws.Instance {
	return fakeaws.Instance{ID: "i-0lab", Region: "eu-west-1", AvailabilityZone: "eu-west-1a",
		PrivateIP: "10.0.1.17", MAC: "0e:00:00:00:00:01", SubnetID: "subnet-0lab", VPCID: "vpc-0lab",
		SubnetCIDR: "10.0.1.0/24", VPCCIDR: "10.0.0.0/16"}
}

// TestFetchInstance reads the IMDSv2 fake on loopback: the endpoint is a parameter, so the
// test's AWS_EC2_METADATA_DISABLED (IsolateSDK) does not apply to it.
func TestFetchInstance(t *testing.T) {
	awstest.IsolateSDK(t)
	m := &fakeaws.IMDS{Instance: testInstance()}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)

	in, err := FetchInstance(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	want := Instance{ID: "i-0lab", Region: "eu-west-1", AvailabilityZone: "eu-west-1a", PrivateIP: "10.0.1.17",
		SubnetID: "subnet-0lab", VPCID: "vpc-0lab", SubnetCIDR: "10.0.1.0/24", VPCCIDR: "10.0.0.0/16"}
	if in != want {
		t.Errorf("got %+v\nwant %+v", in, want)
	}

	// Hop limit 1 from a container: the connection is accepted, the token's answer never comes.
	m.HopLimited = true
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = FetchInstance(ctx, srv.URL)
	var ie *IMDSError
	if !errors.As(err, &ie) || !ie.HopLimited() || ie.Code != checks.Timeout {
		t.Fatalf("hop-limited: %#v", err)
	}
	if f := InstanceFinding(err, true); f.Status != checks.Warn || f.Error != checks.Timeout || f.Remediation == "" {
		t.Errorf("finding %+v", f)
	}

	// Nothing listening: not a hop limit.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err = FetchInstance(context.Background(), "http://"+addr)
	if !errors.As(err, &ie) || ie.HopLimited() || ie.Code != checks.Refused {
		t.Fatalf("refused: %#v", err)
	}
	if f := InstanceFinding(err, false); f.Status != checks.Skip {
		t.Errorf("off EC2 the finding is %s, want skip", f.Status)
	}
}

// TestRunOnInstance: with instance metadata, the report's context says where the probe ran; a
// hop-limited metadata service is a warning with the modify-instance-metadata-options fix.
func TestRunOnInstance(t *testing.T) {
	w := newWorld(t, nil)
	m := &fakeaws.IMDS{Instance: testInstance()}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	p := w.prober("sts", time.Second, 5*time.Second)
	p.ECSCluster = "prod"
	p.Instance = func(ctx context.Context) (Instance, error) { return FetchInstance(ctx, srv.URL) }
	rep := checkedRun(t, p, time.Now())
	c := rep.Context
	if c.Runner != RunnerEC2Instance || c.InstanceID != "i-0lab" || c.VPCID != "vpc-0lab" || c.SubnetID != "subnet-0lab" ||
		c.SubnetCIDR != "10.0.1.0/24" || c.AvailabilityZone != "eu-west-1a" || rep.Verdict != checks.Pass {
		t.Errorf("context %+v verdict %s", c, rep.Verdict)
	}

	m.HopLimited = true
	rep = checkedRun(t, p, time.Now())
	if im := rep.Context.InstanceMetadata; im == nil || im.Status != checks.Warn || rep.Verdict != checks.Warn || rep.Context.Runner != report.RunnerHost {
		t.Errorf("hop-limited: %+v verdict %s", rep.Context.InstanceMetadata, rep.Verdict)
	}
}

func TestReadECSConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, want string
	}{
		{"set", "ECS_ENABLE_CONTAINER_METADATA=true\nECS_CLUSTER=prod\n", "prod"},
		{"quoted and exported", "export ECS_CLUSTER=\"web\"\n", "web"},
		{"unset means default", "ECS_LOGLEVEL=debug\n", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, err := ReadECSConfig(path); err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := ReadECSConfig(filepath.Join(dir, "absent")); err == nil {
		t.Error("an unreadable file gave a cluster")
	}
}

// TestAgentPathInTask: in a task the caller is the task role; a DiscoverPollEndpoint denial is
// no failure there (only the instance role needs it), and the agent's hosts stay unknown.
func TestAgentPathInTask(t *testing.T) {
	w, _ := agentWorld(t, func(c *fakeaws.Config) { c.Deny = map[string]bool{"ecs:DiscoverPollEndpoint": true} })
	p := awsProber(t, w, "ecs,ecs-agent", func(p *Prober) {
		p.Metadata = Metadata{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/0f9e", LaunchType: "FARGATE"}
	})
	rep := checkedRun(t, p, time.Now())
	if s := serviceOf(t, rep, "ecs"); s.Verdict != checks.Pass || checkOf(t, s, "auth").Status != checks.Skip {
		t.Errorf("ecs %s %+v", s.Verdict, s.Checks)
	}
	if s := serviceOf(t, rep, "ecs-agent"); s.Verdict != checks.Skip {
		t.Errorf("ecs-agent %s", s.Verdict)
	}
}

// TestAgentDiagnoses: the failures that keep an instance from registering name what to change:
// the managed policy and the agent's actions, ECS_CLUSTER, or the endpoint.
func TestAgentDiagnoses(t *testing.T) {
	ecsSvc, _ := catalogue.Lookup("ecs")
	tests := []struct {
		name  string
		r     checks.Result
		words []string
	}{
		{"denied", checks.Result{Name: "auth", Status: checks.Fail, Code: checks.AccessDenied, Detail: "ecs:DiscoverPollEndpoint denied"},
			[]string{"AmazonEC2ContainerServiceforEC2Role", "ecs:DiscoverPollEndpoint", "ecs:RegisterContainerInstance", "ecs:Poll", "ecs:StartTelemetrySession", "ecs:Submit*", "attach-role-policy"}},
		{"cluster missing", checks.Result{Name: "auth", Status: checks.Fail, Code: checks.NotFound, Detail: "cluster typo does not exist"},
			[]string{"ECS_CLUSTER", "/etc/ecs/ecs.config", "typo", "create-cluster"}},
		{"no path", checks.Result{Name: "tcp", Status: checks.Fail, Code: checks.Timeout},
			[]string{"zero container instances", "com.amazonaws.eu-west-1.ecs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := judge(finding{svc: ecsSvc, host: "ecs.eu-west-1.amazonaws.com", region: "eu-west-1", route: "public",
				results: []checks.Result{{Name: "dns", Status: checks.Pass}, tt.r}, cluster: "typo"})
			if j.verdict != checks.Fail || j.code != tt.r.Code {
				t.Fatalf("%s %s", j.verdict, j.code)
			}
			for _, w := range tt.words {
				if !strings.Contains(j.diagnosis+" "+j.remediation, w) {
					t.Errorf("%q missing from:\n%s\n%s", w, j.diagnosis, j.remediation)
				}
			}
		})
	}
}
