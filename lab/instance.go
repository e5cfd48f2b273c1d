package lab

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// The lab as an ECS container instance: instance metadata served at 169.254.169.254 inside the
// VPC namespace only (the task namespace reaches it through its default route, never the host),
// the agent's /etc/ecs/ecs.config in the lab's directory, and the hosts DiscoverPollEndpoint
// names in the VPC's DNS and the lab's certificate.

// The instance's identity in the lab.
const (
	IMDSIP      = "169.254.169.254"
	InstanceID  = "i-0vpclab0000000001"
	InstanceMAC = "0e:5a:b0:00:00:01"
	SubnetID    = "subnet-0vpclab00000001"
	VPCID       = "vpc-0vpclab0000000001"
)

// agentNames returns the host names DiscoverPollEndpoint gives the agent for key (ecs-agent,
// ecs-telemetry): the lab's endpoint for that key covers them, as its private DNS would.
func agentNames(key string) []string {
	var u string
	switch key {
	case "ecs-agent":
		u = fakeaws.AgentEndpoint(Region)
	case "ecs-telemetry":
		u = fakeaws.TelemetryEndpoint(Region)
	default:
		return nil
	}
	p, err := url.Parse(u)
	if err != nil {
		return nil
	}
	return []string{p.Hostname()}
}

// ECSConfigFile is the agent's configuration the probe reads (VPCPROBE_ECS_CONFIG).
func (l *Lab) ECSConfigFile() string { return filepath.Join(l.Dir, "ecs.config") }

// serveInstance serves the IMDSv2 fake at IMDSIP:80 in the VPC namespace and writes ecs.config.
func (l *Lab) serveInstance() error {
	config := "ECS_CLUSTER=" + Cluster + "\nECS_ENABLE_TASK_IAM_ROLE=true\n"
	if l.Scenario.ECSClusterUnset {
		config = "ECS_ENABLE_TASK_IAM_ROLE=true\n"
	}
	if err := os.WriteFile(l.ECSConfigFile(), []byte(config), 0o644); err != nil {
		return err
	}
	m := &fakeaws.IMDS{
		HopLimited: l.Scenario.Net.IMDSHopLimit,
		Instance: fakeaws.Instance{ID: InstanceID, Account: Account, Region: Region, AvailabilityZone: AZ, PrivateIP: TaskIP,
			MAC: InstanceMAC, SubnetID: SubnetID, VPCID: VPCID, SubnetCIDR: TaskSubnet, VPCCIDR: VPCCIDR},
	}
	return l.serveHTTP(l.VPCNS, net.JoinHostPort(IMDSIP, "80"), m)
}

// instanceEnv is the probe's environment on the instance: what Env gives a task, less task
// metadata, the region (instance metadata names it) and AWS_EC2_METADATA_DISABLED, plus the
// agent's configuration file. Credentials stay the lab's loopback container credentials, so
// that authenticated checks do not depend on the hop limit.
func (l *Lab) instanceEnv(task []string) []string {
	var env []string
	for _, kv := range task {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "ECS_CONTAINER_METADATA_URI_V4", "AWS_EC2_METADATA_DISABLED", "AWS_REGION", "AWS_DEFAULT_REGION":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "VPCPROBE_ECS_CONFIG="+l.ECSConfigFile())
}
