package fakeaws

import (
	"strings"
	"sync"
)

// The ECS fake's DescribeCapacityProviders: the providers a test declares, by name and type
// (EC2_AUTOSCALING, MANAGED_INSTANCES, FARGATE, FARGATE_SPOT), answered in the shape ECS gives
// (a managedInstancesProvider member for MANAGED_INSTANCES, autoScalingGroupProvider for
// EC2_AUTOSCALING); a name it does not know is a failure with reason MISSING, as ECS answers.
func init() { ecsOps["DescribeCapacityProviders"] = (*Server).ecsDescribeCapacityProviders }

var capacityProviders sync.Map // *Server → map[string]string (name → type)

// SetCapacityProviders declares the capacity providers DescribeCapacityProviders knows: name to
// type. FARGATE and FARGATE_SPOT are always known.
func (s *Server) SetCapacityProviders(byName map[string]string) {
	m := map[string]string{"FARGATE": "FARGATE", "FARGATE_SPOT": "FARGATE_SPOT"}
	for k, v := range byName {
		m[k] = v
	}
	capacityProviders.Store(s, m)
}

func (s *Server) ecsDescribeCapacityProviders(c *call) (any, *apiError) {
	var in struct {
		CapacityProviders []string `json:"capacityProviders"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if aerr := c.authorize(s, "ecs:DescribeCapacityProviders", "*"); aerr != nil {
		return nil, aerr
	}
	known := map[string]string{"FARGATE": "FARGATE", "FARGATE_SPOT": "FARGATE_SPOT"}
	if v, ok := capacityProviders.Load(s); ok {
		known = v.(map[string]string)
	}
	cfg := s.config()
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		CapacityProviders []map[string]any `json:"capacityProviders"`
		Failures          []failure        `json:"failures"`
	}{CapacityProviders: []map[string]any{}, Failures: []failure{}}
	for _, name := range in.CapacityProviders {
		short := name[strings.LastIndex(name, "/")+1:]
		arn := "arn:aws:ecs:" + cfg.Region + ":" + cfg.Account + ":capacity-provider/" + short
		typ, ok := known[short]
		if !ok {
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		cp := map[string]any{"name": short, "capacityProviderArn": arn, "status": "ACTIVE", "type": typ}
		switch typ {
		case "MANAGED_INSTANCES":
			cp["managedInstancesProvider"] = map[string]any{
				"infrastructureRoleArn": "arn:aws:iam::" + cfg.Account + ":role/ecsInfrastructureRole",
				"instanceLaunchTemplate": map[string]any{
					"ec2InstanceProfileArn": "arn:aws:iam::" + cfg.Account + ":instance-profile/ecsInstanceRole",
				},
			}
		case "EC2_AUTOSCALING":
			cp["autoScalingGroupProvider"] = map[string]any{"autoScalingGroupArn": "arn:aws:autoscaling:" + cfg.Region + ":" + cfg.Account + ":autoScalingGroup:0:autoScalingGroupName/" + short}
		}
		out.CapacityProviders = append(out.CapacityProviders, cp)
	}
	return out, nil
}
