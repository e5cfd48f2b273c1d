package responder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/vpcprobe/vpcprobe/report"
)

// EventBridge is the part of the EventBridge client the responder calls.
type EventBridge interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Logs is the part of the CloudWatch Logs client the responder calls.
type Logs interface {
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

// MaxEntryBytes is PutEvents' limit on one entry: 256 KB, counted as the bytes of Source,
// DetailType, Detail and Resources plus 14 for Time (EventBridge user guide, "Calculating Amazon
// EventBridge PutEvents event entry size").
const MaxEntryBytes = 256 * 1024

// entrySize is an entry's size as EventBridge counts it.
func entrySize(e ebtypes.PutEventsRequestEntry) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// Publish puts the diagnosis on bus as a "vpcprobe Diagnosis" event, trimmed to fit one entry
// (the whole report stays in its log stream, which the detail names).
func Publish(ctx context.Context, client EventBridge, bus string, d *Diagnosis, at time.Time) error {
	entry := ebtypes.PutEventsRequestEntry{
		Source: aws.String(SourceVpcprobe), DetailType: aws.String(DetailTypeDiagnosis), Time: aws.Time(at),
		EventBusName: aws.String(bus),
	}
	if d.TaskARN != "" {
		entry.Resources = []string{d.TaskARN}
	}
	detail, err := d.fit(MaxEntryBytes - entrySize(entry))
	if err != nil {
		return err
	}
	entry.Detail = aws.String(string(detail))
	out, err := client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
	if err != nil {
		return fmt.Errorf("events:PutEvents: %w", err)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		return fmt.Errorf("events:PutEvents: %s: %s", aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage))
	}
	return nil
}

// fit returns the diagnosis as JSON of at most limit bytes: whole when it fits, else without the
// live probe's per-service checks, else without the launch report (its verdict, run id and log
// stream stay), each step marked by Trimmed.
func (d *Diagnosis) fit(limit int) ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil || len(b) <= limit {
		return b, err
	}
	t := *d
	t.Trimmed = true
	if t.Launch != nil {
		lean := *t.Launch
		lean.Subnets = nil
		for _, s := range t.Launch.Subnets {
			s.Report, s.Inspection = nil, nil
			lean.Subnets = append(lean.Subnets, s)
		}
		t.Launch = &lean
		if b, err = json.Marshal(t); err != nil || len(b) <= limit {
			return b, err
		}
		t.Launch = nil
	}
	t.Explanation = nil
	if b, err = json.Marshal(t); err != nil || len(b) <= limit {
		return b, err
	}
	return nil, fmt.Errorf("responder: the diagnosis of %s does not fit an event even trimmed (%d bytes)", d.TaskARN, len(b))
}

// Namespace is the CloudWatch namespace of the responder's metrics: the probe's own.
const Namespace = report.MetricNamespace

// Metric names, with the dimensions Cluster, Service and Subnet (Service "none" for a standalone
// task): one failed start, and whether its invocation ran the live probe.
const (
	MetricFailedStarts = "FailedStarts"
	MetricLiveProbes   = "LiveProbes"
)

// Deliver writes the diagnosis to group/stream as one event carrying Embedded Metric Format
// metadata: a failed start (and a live probe, when this event's invocation ran it) counted by
// cluster, service and subnet, and by responder (its function's name: the region's total, which
// the template's diagnoses-per-hour alarm watches).
func Deliver(ctx context.Context, client Logs, group, stream, responder string, d *Diagnosis, at time.Time) error {
	_, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	var exists *logstypes.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("logs:CreateLogStream %s: %w", group, err)
	}
	service := d.Service
	if service == "" {
		service = "none"
	}
	subnet := d.Subnet
	if subnet == "" {
		subnet = "none"
	}
	probes := 0
	if d.Probe != nil && d.Probe.Ran {
		probes = 1
	}
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		return err
	}
	fields["type"] = "diagnosis"
	fields["Cluster"], fields["Service"], fields["Subnet"] = orNone(d.Cluster), service, subnet
	fields["Responder"] = orNone(responder)
	fields[MetricFailedStarts], fields[MetricLiveProbes] = 1, probes
	fields["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{"Cluster", "Service", "Subnet"}, {"Responder"}},
			"Metrics":    []any{map[string]string{"Name": MetricFailedStarts, "Unit": "Count"}, map[string]string{"Name": MetricLiveProbes, "Unit": "Count"}},
		}},
	}
	msg, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	_, err = client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: []logstypes.InputLogEvent{{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String(string(msg))}},
	})
	if err != nil {
		return fmt.Errorf("logs:PutLogEvents %s/%s: %w", group, stream, err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
