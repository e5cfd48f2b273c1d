package launch

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// TaskAPI is the part of the ECS client that --for-task reads; *ecs.Client implements it.
type TaskAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	needs.TaskDefinitionAPI
}

// Origin is the application task a launch reproduces (--for-task): where it ran, with which
// security groups, and why it stopped, translated as explain-stopped does. The launch report
// shows it beside the live result from the same subnet.
type Origin struct {
	TaskARN string `json:"task_arn"`
	Cluster string `json:"cluster"`
	// Service is the task's service (its group service:NAME); empty for a standalone task.
	Service string `json:"service,omitempty"`
	// Subnet is the subnet of the task's network interface; empty when it had none (not awsvpc).
	Subnet string `json:"subnet,omitempty"`
	// SecurityGroups and AssignPublicIP are its service's awsvpc configuration; empty when it has
	// no service (DescribeTasks does not say a task's groups, and its interface is gone).
	SecurityGroups []string            `json:"security_groups,omitempty"`
	AssignPublicIP string              `json:"assign_public_ip,omitempty"`
	ExecuteCommand bool                `json:"enable_execute_command"`
	LastStatus     string              `json:"last_status"`
	StopCode       string              `json:"stop_code,omitempty"`
	StoppedReason  string              `json:"stopped_reason,omitempty"`
	Diagnoses      []stopped.Diagnosis `json:"diagnoses"`
}

// servicePrefix starts the group of a task that a service started.
const servicePrefix = "service:"

// DescribeOrigin reads the task taskARN (in cluster, or the one its ARN names) and its task
// definition, and derives what the task needs. Failed calls wrap needs.ErrUnreadable; a task
// ECS does not know is ErrTaskNotFound. o.ExecuteCommand is or-ed with the task's own setting;
// o.Region defaults to the task ARN's.
func DescribeOrigin(ctx context.Context, client TaskAPI, taskARN, cluster string, o needs.Options) (*Origin, *needs.Needs, error) {
	if c := ClusterOfTask(taskARN); c != "" {
		cluster = c
	}
	if cluster == "" {
		return nil, nil, fmt.Errorf("task %s: its ARN names no cluster (an old-format ARN): give --cluster", taskARN)
	}
	out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{taskARN}})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: ecs:DescribeTasks %s: %w", needs.ErrUnreadable, taskARN, err)
	}
	if len(out.Tasks) == 0 {
		reason := "MISSING"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].Reason)
		}
		return nil, nil, fmt.Errorf("%s in cluster %s (%s; ECS keeps stopped tasks for about an hour): %w", taskARN, cluster, reason, stopped.ErrTaskNotFound)
	}
	t := &out.Tasks[0]
	origin := &Origin{TaskARN: aws.ToString(t.TaskArn), Cluster: cluster, ExecuteCommand: t.EnableExecuteCommand,
		LastStatus: aws.ToString(t.LastStatus), StopCode: string(t.StopCode), StoppedReason: stopped.Redact(aws.ToString(t.StoppedReason)),
		Subnet: taskSubnet(t), Diagnoses: []stopped.Diagnosis{}}
	if origin.LastStatus == "STOPPED" || len(t.Containers) > 0 {
		// As explain-stopped: a task still starting may already say why in its containers.
		origin.Diagnoses = append(origin.Diagnoses, stopped.Translate(stopped.TaskFacts(t))...)
	}
	if name, ok := strings.CutPrefix(aws.ToString(t.Group), servicePrefix); ok {
		origin.Service = name
		svc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: ecs:DescribeServices %s: %w", needs.ErrUnreadable, name, err)
		}
		// A deleted service leaves no groups to copy: --security-groups then applies.
		if len(svc.Services) > 0 && svc.Services[0].NetworkConfiguration != nil && svc.Services[0].NetworkConfiguration.AwsvpcConfiguration != nil {
			vpc := svc.Services[0].NetworkConfiguration.AwsvpcConfiguration
			origin.SecurityGroups, origin.AssignPublicIP = vpc.SecurityGroups, string(vpc.AssignPublicIp)
		}
	}
	if _, _, region, _, _, ok := catalogue.ParseARN(origin.TaskARN); ok && o.Region == "" {
		o.Region = region
	}
	o.ExecuteCommand = o.ExecuteCommand || t.EnableExecuteCommand
	td, err := needs.Describe(ctx, client, aws.ToString(t.TaskDefinitionArn))
	if err != nil {
		return nil, nil, err
	}
	return origin, needs.Derive(td, o), nil
}

// ClusterOfTask returns the cluster name a task ARN holds (arn:…:task/CLUSTER/ID); empty for an
// old-format ARN (task/ID) or a bare id.
func ClusterOfTask(taskARN string) string {
	_, service, _, _, resource, ok := catalogue.ParseARN(taskARN)
	if !ok || service != "ecs" {
		return ""
	}
	f := strings.Split(resource, "/")
	if len(f) != 3 || f[0] != "task" {
		return ""
	}
	return f[1]
}

// taskSubnet returns the subnet of the task's network interface attachment.
func taskSubnet(t *types.Task) string {
	for _, a := range t.Attachments {
		if aws.ToString(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		for _, kv := range a.Details {
			if aws.ToString(kv.Name) == "subnetId" {
				return aws.ToString(kv.Value)
			}
		}
	}
	return ""
}

// writeOrigin renders, after the live table, why the application task stopped (ECS's words,
// translated) and what its task definition needs that the probe does not test.
func (r *Report) writeOrigin(w *report.Writer) {
	b := w.B
	if o := r.ForTask; o != nil {
		status := stopped.OrDash(o.LastStatus)
		if o.StopCode != "" {
			status += " (" + o.StopCode + ")"
		}
		fields := []string{"FOR TASK " + o.TaskARN, status}
		if o.Service != "" {
			fields = append(fields, "service "+o.Service)
		}
		b.WriteByte('\n')
		w.Fields("", append(fields, "subnet "+stopped.OrDash(o.Subnet))...)
		if o.StoppedReason != "" {
			w.Prose("  ", "stopped reason: ", o.StoppedReason)
		}
		writeDiagnoses(w, "  ", o.Diagnoses)
	}
	if n := r.Needs; n != nil {
		head := fmt.Sprintf("TASK DEFINITION %s (%s) needs %s", n.TaskDefinition, n.Region, strings.Join(n.Services, ","))
		if n.Image != "" {
			head += "; image " + n.Image
		}
		b.WriteByte('\n')
		w.Wrap("", "  ", head)
		for _, o := range n.OtherRegions {
			w.Wrap("  ", "    ", fmt.Sprintf("and in %s: %s (not tested: probe that region)", o.Region, strings.Join(o.Services, ",")))
		}
		for _, note := range n.Notes {
			w.Prose("  ", "note "+note.Code+": ", note.Text)
		}
	}
}
