package probe

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// AgentConfig is what /etc/ecs/ecs.config tells of where the ECS agent registers.
type AgentConfig struct {
	// Cluster is ECS_CLUSTER, or "default" when the file does not set it.
	Cluster string
	// Defaulted: ECS_CLUSTER is not set, so the agent registers into "default" and creates that
	// cluster when it does not exist (amazon-ecs-agent, ecs-agent/api/ecs/client/ecs_client.go,
	// RegisterContainerInstance: an empty cluster becomes DefaultClusterName, and a
	// ClusterNotFound answer leads to CreateCluster before registering again).
	Defaulted bool
}

// DefaultCluster is the cluster the ECS agent joins without ECS_CLUSTER (the agent's
// config.DefaultClusterName).
const DefaultCluster = "default"

// ReadAgentConfig reads the ECS agent's configuration file at path (KEY=value lines, as
// systemd's EnvironmentFile, which the agent's unit uses). An unreadable file is an error.
func ReadAgentConfig(path string) (AgentConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return AgentConfig{}, fmt.Errorf("ecs config: %w", err)
	}
	defer f.Close()
	cluster := ""
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "export ")
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "ECS_CLUSTER" {
			cluster = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	if err := sc.Err(); err != nil {
		return AgentConfig{}, fmt.Errorf("ecs config %s: %w", path, err)
	}
	if cluster == "" {
		return AgentConfig{Cluster: DefaultCluster, Defaulted: true}, nil
	}
	return AgentConfig{Cluster: cluster}, nil
}
