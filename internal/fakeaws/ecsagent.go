package fakeaws

import "slices"

// The ECS agent's side of the ECS API: DiscoverPollEndpoint, which tells a container instance's
// agent the hosts of its control channel (endpoint) and telemetry (telemetryEndpoint), and
// DescribeClusters, which tells whether the cluster named in /etc/ecs/ecs.config exists.

func init() {
	ecsOps["DiscoverPollEndpoint"] = (*Server).ecsDiscoverPollEndpoint
	ecsOps["DescribeClusters"] = (*Server).ecsDescribeClusters
}

// AgentEndpoint, TelemetryEndpoint and ServiceConnectEndpoint are the URLs DiscoverPollEndpoint
// answers in region, in the shape ECS gives them: a numbered cell of the regional fleet.
func AgentEndpoint(region string) string     { return "https://ecs-a-3." + region + ".amazonaws.com/" }
func TelemetryEndpoint(region string) string { return "https://ecs-t-3." + region + ".amazonaws.com/" }
func ServiceConnectEndpoint(region string) string {
	return "https://ecs-sc-3." + region + ".amazonaws.com/"
}

// ecsDiscoverPollEndpoint answers as ECS does: the cluster (name or ARN, "default" when absent)
// is the resource the action is authorized on; the container instance may be empty, as it is
// before the agent registers. ECS does not check here that the cluster exists.
func (s *Server) ecsDiscoverPollEndpoint(c *call) (any, *apiError) {
	var in struct {
		Cluster           string `json:"cluster"`
		ContainerInstance string `json:"containerInstance"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if aerr := c.authorize(s, "ecs:DiscoverPollEndpoint", s.ecsClusterARN(ecsClusterName(in.Cluster))); aerr != nil {
		return nil, aerr
	}
	region := s.config().Region
	return map[string]string{
		"endpoint":               AgentEndpoint(region),
		"telemetryEndpoint":      TelemetryEndpoint(region),
		"serviceConnectEndpoint": ServiceConnectEndpoint(region),
	}, nil
}

// ecsDescribeClusters answers each named cluster as ACTIVE, or as a MISSING failure when
// Config.MissingClusters names it.
func (s *Server) ecsDescribeClusters(c *call) (any, *apiError) {
	var in struct {
		Clusters []string `json:"clusters"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	if len(in.Clusters) > 100 {
		return nil, ecsInvalid("The number of clusters exceeds the limit of 100.")
	}
	missing := s.config().MissingClusters
	type clusterOut struct {
		ClusterArn  string `json:"clusterArn"`
		ClusterName string `json:"clusterName"`
		Status      string `json:"status"`
	}
	clusters, failures := []clusterOut{}, []ecsFailure{}
	for _, name := range in.Clusters {
		arn := s.ecsClusterARN(ecsClusterName(name))
		if aerr := c.authorize(s, "ecs:DescribeClusters", arn); aerr != nil {
			return nil, aerr
		}
		if slices.Contains(missing, ecsClusterName(name)) {
			failures = append(failures, ecsFailure{Arn: arn, Reason: "MISSING"})
			continue
		}
		clusters = append(clusters, clusterOut{ClusterArn: arn, ClusterName: ecsClusterName(name), Status: "ACTIVE"})
	}
	return map[string]any{"clusters": clusters, "failures": failures}, nil
}
