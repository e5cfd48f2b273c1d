package probe

import (
	"cmp"
	"fmt"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// The run on an ECS container instance: the report's context from instance metadata, and what
// it says when instance metadata could not be read.

// RunnerEC2Instance is the report's context.runner when instance metadata described the
// machine the probe ran on.
const RunnerEC2Instance = "ec2-instance"

// learnt reports whether a service's host is learnt from another check rather than derived:
// the ECS agent connects to the hosts ecs:DiscoverPollEndpoint names, never to a fixed name.
func learnt(key string) bool { return key == "ecs-agent" || key == "ecs-telemetry" }

// withInstance fills the report's context from instance metadata (task metadata, when there is
// some, wins), and records the outcome of reading it.
func (p *Prober) withInstance(c *report.Context, inst Instance, err error) {
	if p.Instance == nil {
		return
	}
	if err != nil {
		ic := InstanceFinding(err, p.ECSCluster != "")
		c.InstanceMetadata = &ic
		return
	}
	c.Runner = RunnerEC2Instance
	c.InstanceMetadata = &report.ContextCheck{Status: checks.Pass}
	c.InstanceID, c.VPCID, c.SubnetID, c.VPCCIDR = inst.ID, inst.VPCID, inst.SubnetID, inst.VPCCIDR
	c.AvailabilityZone = cmp.Or(c.AvailabilityZone, inst.AvailabilityZone)
	c.SubnetCIDR = cmp.Or(c.SubnetCIDR, inst.SubnetCIDR)
	c.PrivateIP = cmp.Or(c.PrivateIP, inst.PrivateIP)
	c.Account = cmp.Or(c.Account, inst.Account)
	if c.Region == "" {
		c.Region = inst.Region
	}
}

// InstanceFinding explains a failed read of instance metadata. A connection accepted and a token
// PUT left unanswered is the hop limit of 1 seen from a container in bridge mode; anything else
// means this is no EC2 instance, or its metadata endpoint is off or blocked: a warning where
// ecsInstance says the ECS agent is configured here (it needs instance metadata to register),
// a skip elsewhere (a laptop has none, and that is fine).
func InstanceFinding(err error, ecsInstance bool) report.ContextCheck {
	ie := &IMDSError{Code: checks.Classify(err), Err: err}
	if e, ok := err.(*IMDSError); ok {
		ie = e
	}
	fc := report.ContextCheck{Status: checks.Warn, Error: ie.Code, Detail: checks.Bound(ie.Error())}
	const findID = "find the instance id in the EC2 console, with `aws ec2 describe-instances --filters Name=private-ip-address,Values=<this host's private IP> --query 'Reservations[].Instances[].InstanceId'`, or from the host itself (outside the container) with `ec2-metadata -i`"
	if ie.HopLimited() {
		fc.Diagnosis = "Instance metadata (169.254.169.254) accepted the connection but the IMDSv2 token request (PUT /latest/api/token) got no answer: the instance's http-put-response-hop-limit is 1, so the answer expires one hop short of a container in bridge mode. Containers on this instance that rely on the instance role (no task role) get no credentials and no region."
		fc.Remediation = "Raise the hop limit: `aws ec2 modify-instance-metadata-options --instance-id <id> --http-put-response-hop-limit 2 --http-endpoint enabled` (" + findID + "); or set HttpPutResponseHopLimit 2 in the launch template's MetadataOptions. Give tasks a task role rather than relying on the instance role."
		return fc
	}
	if !ecsInstance {
		fc.Status = checks.Skip
	}
	fc.Diagnosis = fmt.Sprintf("Instance metadata (169.254.169.254) did not answer (%s): this is not an EC2 instance, the instance's metadata endpoint is disabled, or a firewall rule (ECS_AWSVPC_BLOCK_IMDS, iptables) blocks it. The ECS agent reads the instance identity document from it to register.", ie.Code)
	fc.Remediation = "On EC2, enable the endpoint: `aws ec2 modify-instance-metadata-options --instance-id <id> --http-endpoint enabled --http-put-response-hop-limit 2` (" + findID + "). Elsewhere, set AWS_EC2_METADATA_DISABLED=true to skip it, and pass --region."
	return fc
}

// agentRole is the managed policy a container instance's role needs, and the actions of it the
// agent calls to register and stay connected.
const (
	agentPolicy  = "AmazonEC2ContainerServiceforEC2Role"
	agentActions = "ecs:DiscoverPollEndpoint, ecs:RegisterContainerInstance, ecs:Poll, ecs:StartTelemetrySession, ecs:Submit*"
)

// agentConsequence is what a failure of each of the agent's services does to the instance.
var agentConsequence = map[string]string{
	"ecs":           "The ECS agent on this instance cannot register: the instance runs but the cluster shows zero container instances.",
	"ecs-agent":     "The ECS agent cannot open its control channel: the instance registers but shows agentConnected false and is given no tasks.",
	"ecs-telemetry": "The ECS agent cannot send telemetry: the cluster's CPU and memory utilisation metrics stay empty.",
}

// agentPath explains the failures that keep an ECS container instance from registering: a
// refused ecs:DiscoverPollEndpoint names the instance role's missing actions, a cluster that
// does not exist names ECS_CLUSTER, and any network failure of the agent's services says what
// it does to the instance before the network explanation.
func (f finding) agentPath(r checks.Result, diagnosis, remediation string) (string, string) {
	if !f.svc.EC2Only || r.Code == checks.Deadline {
		return diagnosis, remediation
	}
	consequence := agentConsequence[f.svc.Key]
	if f.svc.Key == "ecs" && r.Name == "auth" && f.clusterDefaulted && r.Code == checks.NotFound {
		return f.defaultCluster(r)
	}
	if f.svc.Key == "ecs" && r.Name == "auth" {
		policy := "arn:" + catalogue.PartitionOf(f.region).ID + ":iam::aws:policy/service-role/" + agentPolicy
		switch r.Code {
		case checks.AccessDenied:
			return fmt.Sprintf("The network path to ecs works, but the instance role may not call what the ECS agent calls first: %s. %s", r.Detail, consequence),
				fmt.Sprintf("Attach %s to the instance profile's role (it grants %s, and the ECR pulls and logs): `aws iam attach-role-policy --role-name <instance role> --policy-arn %s`; if the denial names an explicit deny, fix the endpoint policy of %s or the SCP that denies it.",
					agentPolicy, agentActions, policy, f.svc.EndpointService(f.region))
		case checks.NotFound:
			return fmt.Sprintf("The cluster %s named by ECS_CLUSTER in /etc/ecs/ecs.config does not exist in %s: %s. %s", f.cluster, f.region, r.Detail, consequence),
				fmt.Sprintf("Set ECS_CLUSTER in /etc/ecs/ecs.config (usually written by the instance's user data or launch template) to an existing cluster (`aws ecs list-clusters --region %s`), or create it: `aws ecs create-cluster --cluster-name %s --region %s`; then restart the agent: sudo systemctl restart ecs.",
					f.region, f.cluster, f.region)
		}
	}
	if consequence == "" {
		return diagnosis, remediation
	}
	return consequence + " " + diagnosis, remediation
}
