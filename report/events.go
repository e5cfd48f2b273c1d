package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
)

// The CloudWatch view of a report: one event per service ("type": "service") and a last one
// ("type": "summary") that carries the verdict, the counts and Embedded Metric Format metadata.
// Every event carries schema and run_id, so one run's events can be found and reassembled.

// Event types.
const (
	EventService = "service"
	EventSummary = "summary"
)

// MetricNamespace is the CloudWatch namespace of the summary event's metrics.
const MetricNamespace = "VPCProbe"

// Metric names of the summary event; alarms and taskdef/template.json depend on them.
const (
	MetricFailed   = "ServicesFailed"
	MetricWarned   = "ServicesWarned"
	MetricPassed   = "ServicesPassed"
	MetricDuration = "DurationMs"
)

// serviceEvent is one service's findings as a log event: the service report's fields at the
// top level, so that Logs Insights can filter on verdict, error and service directly.
type serviceEvent struct {
	Schema  string `json:"schema"`
	RunID   string `json:"run_id"`
	Type    string `json:"type"`
	Region  string `json:"region"`
	Cluster string `json:"cluster"`
	Subnet  string `json:"subnet_cidr"`
	ServiceReport
}

// summaryEvent is the run's last event. Its metric members are top-level, as EMF requires.
type summaryEvent struct {
	Schema     string        `json:"schema"`
	RunID      string        `json:"run_id"`
	Type       string        `json:"type"`
	Verdict    checks.Status `json:"verdict"`
	StartedAt  string        `json:"started_at"`
	DurationMS int64         `json:"duration_ms"`
	Counts     Counts        `json:"counts"`
	Context    Context       `json:"context"`
	Services   []string      `json:"services"`
	Version    string        `json:"version,omitempty"`

	AWS            emf    `json:"_aws"`
	ClusterName    string `json:"Cluster"`
	ServicesFailed int    `json:"ServicesFailed"`
	ServicesWarned int    `json:"ServicesWarned"`
	ServicesPassed int    `json:"ServicesPassed"`
	DurationMs     int64  `json:"DurationMs"`
}

type emf struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []emfMetric `json:"CloudWatchMetrics"`
}

type emfMetric struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []metricName `json:"Metrics"`
}

type metricName struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// ClusterName returns the short name of a cluster given as a name or an ARN, "none" when the
// probe runs outside ECS: the metric dimension must be low-cardinality and stable.
func ClusterName(cluster string) string {
	if i := strings.LastIndex(cluster, "/"); i >= 0 {
		cluster = cluster[i+1:]
	}
	if cluster == "" {
		return "none"
	}
	return cluster
}

// Events returns the report as CloudWatch log event messages, services first, summary last.
func (r *Report) Events(now time.Time) [][]byte {
	var out [][]byte
	for _, s := range r.Services {
		out = append(out, mustJSON(serviceEvent{
			Schema: r.Schema, RunID: r.RunID, Type: EventService,
			Region: r.Context.Region, Cluster: r.Context.Cluster, Subnet: r.Context.SubnetCIDR,
			ServiceReport: s,
		}))
	}
	sum := summaryEvent{
		Schema: r.Schema, RunID: r.RunID, Type: EventSummary, Verdict: r.Verdict,
		StartedAt: r.StartedAt, DurationMS: r.DurationMS, Counts: r.Counts, Context: r.Context,
		Version: r.Version, Services: []string{},
		AWS: emf{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfMetric{{
			Namespace:  MetricNamespace,
			Dimensions: [][]string{{"Cluster"}, {}},
			Metrics: []metricName{
				{MetricFailed, "Count"}, {MetricWarned, "Count"}, {MetricPassed, "Count"},
				{MetricDuration, "Milliseconds"},
			},
		}}},
		ClusterName:    ClusterName(r.Context.Cluster),
		ServicesFailed: r.Counts.Fail, ServicesWarned: r.Counts.Warn, ServicesPassed: r.Counts.Pass,
		DurationMs: r.DurationMS,
	}
	for _, s := range r.Services {
		sum.Services = append(sum.Services, s.Service)
	}
	return append(out, mustJSON(sum))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // plain values only
		panic("report: marshal event: " + err.Error())
	}
	return b
}

// FromEvents reassembles the report of run runID from log event messages (in any order,
// other runs' events ignored). It fails when the summary event is missing; services whose
// events are missing are reported as skipped with a diagnosis saying so.
func FromEvents(runID string, messages []string) (*Report, error) {
	var rep *Report
	services := map[string]ServiceReport{}
	for _, m := range messages {
		var head struct {
			Schema string `json:"schema"`
			RunID  string `json:"run_id"`
			Type   string `json:"type"`
		}
		if json.Unmarshal([]byte(m), &head) != nil || head.RunID != runID || !strings.HasPrefix(head.Schema, "vpcprobe/") {
			continue
		}
		switch head.Type {
		case EventService:
			var e serviceEvent
			if err := json.Unmarshal([]byte(m), &e); err != nil {
				return nil, fmt.Errorf("run %s: service event: %w", runID, err)
			}
			services[e.Service] = e.ServiceReport
		case EventSummary:
			var e summaryEvent
			if err := json.Unmarshal([]byte(m), &e); err != nil {
				return nil, fmt.Errorf("run %s: summary event: %w", runID, err)
			}
			rep = &Report{Schema: e.Schema, RunID: e.RunID, Verdict: e.Verdict, StartedAt: e.StartedAt,
				DurationMS: e.DurationMS, Counts: e.Counts, Context: e.Context, Version: e.Version,
				Services: make([]ServiceReport, 0, len(e.Services)),
				Delivery: Delivery{CloudWatch: Delivered}}
			for _, key := range e.Services {
				rep.Services = append(rep.Services, ServiceReport{Service: key})
			}
		}
	}
	if rep == nil {
		return nil, fmt.Errorf("run %s: no summary event", runID)
	}
	for i, s := range rep.Services {
		if full, ok := services[s.Service]; ok {
			rep.Services[i] = full
			continue
		}
		rep.Services[i] = ServiceReport{Service: s.Service, Verdict: checks.Skip, Route: RouteNone,
			Addresses: []string{}, Diagnosis: "The event of this service is missing from the log stream."}
	}
	for key, s := range services { // events of services the summary does not list
		if !slices.ContainsFunc(rep.Services, func(x ServiceReport) bool { return x.Service == key }) {
			rep.Services = append(rep.Services, s)
		}
	}
	return rep, nil
}
