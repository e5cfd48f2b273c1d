package responder

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vpcprobe/vpcprobe/stopped"
)

// EventBridge names, as AWS sends them (ECS developer guide, "Amazon ECS task state change
// events"; EventBridge event structure reference).
const (
	SourceECS           = "aws.ecs"
	DetailTaskChange    = "ECS Task State Change"
	StopFailedToStart   = "TaskFailedToStart"
	statusStopped       = "STOPPED"
	attachmentENI       = "eni"
	detailSubnetID      = "subnetId"
	detailInterfaceID   = "networkInterfaceId"
	servicePrefix       = "service:"
	SourceVpcprobe      = "vpcprobe"
	DetailTypeDiagnosis = "vpcprobe Diagnosis"
)

// Event is an EventBridge event's envelope; Detail is the source's own document.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// TaskDetail is the detail of an "ECS Task State Change" event: the fields the responder reads.
// ECS only ever adds fields to it.
type TaskDetail struct {
	ClusterARN        string       `json:"clusterArn"`
	TaskARN           string       `json:"taskArn"`
	TaskDefinitionARN string       `json:"taskDefinitionArn"`
	Group             string       `json:"group"` // "service:NAME" for a service's task
	LastStatus        string       `json:"lastStatus"`
	DesiredStatus     string       `json:"desiredStatus"`
	StopCode          string       `json:"stopCode"`
	StoppedReason     string       `json:"stoppedReason"`
	LaunchType        string       `json:"launchType"`
	AvailabilityZone  string       `json:"availabilityZone"`
	Containers        []Container  `json:"containers"`
	Attachments       []Attachment `json:"attachments"`
}

// Container is one container of the event's task.
type Container struct {
	Name       string `json:"name"`
	LastStatus string `json:"lastStatus"`
	Reason     string `json:"reason"`
	ExitCode   *int32 `json:"exitCode"`
}

// Attachment is one of the task's attachments; the ENI's details name its subnet.
type Attachment struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Status  string `json:"status"`
	Details []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"details"`
}

// IsEvent reports whether payload is an EventBridge event for the responder: a JSON object with
// source aws.ecs and a detail-type (CONTRACT.md, "The responder"). Anything else is the probe's
// own Lambda event.
func IsEvent(payload []byte) bool {
	var head struct {
		Source     string  `json:"source"`
		DetailType *string `json:"detail-type"`
	}
	if json.Unmarshal(payload, &head) != nil {
		return false
	}
	return head.Source == SourceECS && head.DetailType != nil
}

// ParseEvent reads an EventBridge event and, when it is an ECS task state change, its detail.
func ParseEvent(payload []byte) (*Event, *TaskDetail, error) {
	var ev Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, nil, fmt.Errorf("responder: the event is not an EventBridge event: %w", err)
	}
	if ev.Source != SourceECS || ev.DetailType != DetailTaskChange {
		return &ev, nil, nil
	}
	var d TaskDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return &ev, nil, fmt.Errorf("responder: the detail of %s event %s: %w", DetailTaskChange, ev.ID, err)
	}
	return &ev, &d, nil
}

// FailedStart reports whether the task stopped because it failed to start: the events the
// responder diagnoses (the EventBridge rule filters on the same).
func (d *TaskDetail) FailedStart() bool {
	return d != nil && d.LastStatus == statusStopped && d.StopCode == StopFailedToStart
}

// Subnet is the subnet of the task's network interface, "" when it had none (not awsvpc).
func (d *TaskDetail) Subnet() string { return d.eniDetail(detailSubnetID) }

// NetworkInterface is the id of the task's network interface, "" when it had none.
func (d *TaskDetail) NetworkInterface() string { return d.eniDetail(detailInterfaceID) }

func (d *TaskDetail) eniDetail(name string) string {
	for _, a := range d.Attachments {
		if !strings.EqualFold(a.Type, attachmentENI) && a.Type != "ElasticNetworkInterface" {
			continue
		}
		for _, kv := range a.Details {
			if kv.Name == name {
				return kv.Value
			}
		}
	}
	return ""
}

// Service is the name of the service that started the task, "" for a standalone task.
func (d *TaskDetail) Service() string {
	name, _ := strings.CutPrefix(d.Group, servicePrefix)
	if name == d.Group {
		return ""
	}
	return name
}

// Cluster is the cluster's name, from its ARN.
func (d *TaskDetail) Cluster() string {
	if i := strings.LastIndex(d.ClusterARN, "/"); i >= 0 {
		return d.ClusterARN[i+1:]
	}
	return d.ClusterARN
}

// Task is the detail as the stopped-reason translation reads a task.
func (d *TaskDetail) Task() stopped.Task {
	t := stopped.Task{ARN: d.TaskARN, LastStatus: d.LastStatus, StopCode: d.StopCode, StoppedReason: d.StoppedReason}
	for _, c := range d.Containers {
		t.Containers = append(t.Containers, stopped.Container{Name: c.Name, Reason: c.Reason, ExitCode: c.ExitCode})
	}
	return t
}
