package checks

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// ECSAgentAPI is the part of the ECS client the ecs check calls: what the ECS agent on a
// container instance calls first, and whether the cluster it names exists.
type ECSAgentAPI interface {
	DiscoverPollEndpoint(ctx context.Context, in *ecs.DiscoverPollEndpointInput, optFns ...func(*ecs.Options)) (*ecs.DiscoverPollEndpointOutput, error)
	DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, optFns ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
}

// AgentHosts are the hosts ecs:DiscoverPollEndpoint names for the agent's control channel
// (ecs-a-…) and its telemetry (ecs-t-…): the names the agent really connects to.
type AgentHosts struct {
	Agent, Telemetry string
}

// AgentEndpoints calls ecs:DiscoverPollEndpoint as the ECS agent does before it registers
// (cluster given, no container instance yet) and returns the hosts it names. ECS does not
// always check the cluster there, so it then asks ecs:DescribeClusters: a cluster ECS calls
// MISSING fails not-found; a DescribeClusters the role may not call leaves the cluster
// unverified, which the Detail says (the agent's managed policy does not grant it).
func AgentEndpoints(ctx context.Context, c ECSAgentAPI, cluster string) (Result, AgentHosts) {
	start := time.Now()
	const action = "ecs:DiscoverPollEndpoint"
	out, err := c.DiscoverPollEndpoint(ctx, &ecs.DiscoverPollEndpointInput{Cluster: &cluster})
	if err != nil {
		code, detail := CallFailure(ctx, action, start, err)
		return failed("auth", code, detail, start), AgentHosts{}
	}
	hosts := AgentHosts{Agent: hostOf(aws.ToString(out.Endpoint)), Telemetry: hostOf(aws.ToString(out.TelemetryEndpoint))}
	if hosts.Agent == "" || hosts.Telemetry == "" {
		return failed("auth", HTTPError, fmt.Sprintf("%s answered no usable endpoint (endpoint %q, telemetryEndpoint %q)",
			action, aws.ToString(out.Endpoint), aws.ToString(out.TelemetryEndpoint)), start), AgentHosts{}
	}
	detail := fmt.Sprintf("%s for cluster %s: agent %s, telemetry %s", action, cluster, hosts.Agent, hosts.Telemetry)

	dc, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{cluster}})
	switch {
	case err != nil:
		code, _ := CallFailure(ctx, "ecs:DescribeClusters", start, err)
		detail += fmt.Sprintf("; that cluster %s exists is unverified (ecs:DescribeClusters: %s)", cluster, code)
	case len(dc.Clusters) == 0:
		reason := "not found"
		if len(dc.Failures) > 0 {
			reason = aws.ToString(dc.Failures[0].Reason)
		}
		return failed("auth", NotFound, fmt.Sprintf("cluster %s does not exist in this account and region (ecs:DescribeClusters: %s); %s still answered, but the agent cannot register into it",
			cluster, reason, action), start), hosts
	case aws.ToString(dc.Clusters[0].Status) != "" && aws.ToString(dc.Clusters[0].Status) != "ACTIVE":
		return failed("auth", NotFound, fmt.Sprintf("cluster %s is %s, not ACTIVE (ecs:DescribeClusters): the agent cannot register into it",
			cluster, aws.ToString(dc.Clusters[0].Status)), start), hosts
	default:
		detail += fmt.Sprintf("; cluster %s is ACTIVE", cluster)
	}
	return passed("auth", detail, start), hosts
}

// hostOf returns the host of an endpoint URL ("https://ecs-a-3.eu-west-1.amazonaws.com/"), or
// of a bare host name.
func hostOf(endpoint string) string {
	if endpoint == "" {
		return ""
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
