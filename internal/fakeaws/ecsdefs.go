package fakeaws

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The ECS fake's task definitions and services: what `vpcprobe launch --for-task` and
// --for-task-definition read. Tests register them with RegisterTaskDefinition and AddService;
// DescribeTaskDefinition and DescribeServices answer them as ECS does. They live in this file,
// registered into ecsOps at init, so that ecs.go's operation table stays untouched.

func init() {
	ecsOps["DescribeTaskDefinition"] = (*Server).ecsDescribeTaskDefinition
	ecsOps["DescribeServices"] = (*Server).ecsDescribeServices
}

// ECSService is a service as DescribeServices answers it: the part vpcprobe reads.
type ECSService struct {
	Cluster        string // cluster name
	Name           string
	Subnets        []string
	SecurityGroups []string
	AssignPublicIP string // ENABLED or DISABLED; default DISABLED
	LaunchType     string // default FARGATE
}

// ecsDefs is one Server's task definitions and services.
type ecsDefs struct {
	defs     map[string][]map[string]any // family → revisions, oldest first
	services map[string]ECSService       // cluster/name → service
}

// defs returns the server's task definitions and services; callers hold the ECS lock.
func (st *ecsState) defs() *ecsDefs {
	if st.definitions == nil {
		st.definitions = &ecsDefs{defs: map[string][]map[string]any{}, services: map[string]ECSService{}}
	}
	return st.definitions
}

// RegisterTaskDefinition registers the JSON of a task definition (a register-task-definition
// input: family, containerDefinitions, …) as the family's next revision and returns its ARN.
func (s *Server) RegisterTaskDefinition(def []byte) (string, error) {
	var td map[string]any
	if err := json.Unmarshal(def, &td); err != nil {
		return "", fmt.Errorf("fakeaws: task definition: %w", err)
	}
	family, _ := td["family"].(string)
	if family == "" {
		return "", fmt.Errorf("fakeaws: task definition without a family")
	}
	cfg := s.config()
	st := s.ecs()
	st.mu.Lock()
	defer st.mu.Unlock()
	d := st.defs()
	rev := len(d.defs[family]) + 1
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", cfg.Region, cfg.Account, family, rev)
	td["taskDefinitionArn"], td["revision"], td["status"] = arn, rev, "ACTIVE"
	td["registeredAt"] = float64(s.now().UnixMilli()) / 1000
	d.defs[family] = append(d.defs[family], td)
	return arn, nil
}

// AddService adds (or replaces) a service that DescribeServices answers.
func (s *Server) AddService(svc ECSService) {
	if svc.AssignPublicIP == "" {
		svc.AssignPublicIP = "DISABLED"
	}
	if svc.LaunchType == "" {
		svc.LaunchType = "FARGATE"
	}
	st := s.ecs()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.defs().services[ecsClusterName(svc.Cluster)+"/"+svc.Name] = svc
}

// taskDefinitionRef splits family, family:revision or an ARN into family and revision (0: the
// latest ACTIVE).
func taskDefinitionRef(ref string) (string, int, bool) {
	if i := strings.Index(ref, ":task-definition/"); strings.HasPrefix(ref, "arn:") && i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, rev, ok := strings.Cut(ref, ":")
	if !ok {
		return family, 0, family != ""
	}
	n, err := strconv.Atoi(rev)
	return family, n, err == nil && n > 0 && family != ""
}

func (s *Server) ecsDescribeTaskDefinition(c *call) (any, *apiError) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	family, rev, ok := taskDefinitionRef(in.TaskDefinition)
	if !ok {
		return nil, &apiError{400, "ClientException", "Invalid revision number. Number: " + in.TaskDefinition}
	}
	cfg := s.config()
	if aerr := c.authorize(s, "ecs:DescribeTaskDefinition", fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s", cfg.Region, cfg.Account, in.TaskDefinition)); aerr != nil {
		return nil, aerr
	}
	st := s.ecs()
	st.mu.Lock()
	defer st.mu.Unlock()
	revs := st.defs().defs[family]
	if rev == 0 {
		rev = len(revs)
	}
	if rev == 0 || rev > len(revs) {
		return nil, &apiError{400, "ClientException", "Unable to describe task definition."}
	}
	return map[string]any{"taskDefinition": revs[rev-1], "tags": []any{}}, nil
}

func (s *Server) ecsDescribeServices(c *call) (any, *apiError) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, ecsInvalid("services must contain between 1 and 10 items.")
	}
	cluster := ecsClusterName(in.Cluster)
	if aerr := c.authorize(s, "ecs:DescribeServices", s.ecsClusterARN(cluster)); aerr != nil {
		return nil, aerr
	}
	cfg := s.config()
	st := s.ecs()
	st.mu.Lock()
	defer st.mu.Unlock()
	services, failures := []any{}, []ecsFailure{}
	for _, ref := range in.Services {
		name := ref[strings.LastIndex(ref, "/")+1:]
		svc, ok := st.defs().services[cluster+"/"+name]
		arn := fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", cfg.Region, cfg.Account, cluster, name)
		if !ok {
			failures = append(failures, ecsFailure{Arn: arn, Reason: "MISSING"})
			continue
		}
		services = append(services, map[string]any{
			"serviceArn": arn, "serviceName": name, "clusterArn": s.ecsClusterARN(cluster),
			"status": "ACTIVE", "desiredCount": 1, "runningCount": 0, "pendingCount": 0, "launchType": svc.LaunchType,
			"networkConfiguration": map[string]any{"awsvpcConfiguration": map[string]any{
				"subnets": svc.Subnets, "securityGroups": svc.SecurityGroups, "assignPublicIp": svc.AssignPublicIP,
			}},
		})
	}
	return map[string]any{"services": services, "failures": failures}, nil
}
