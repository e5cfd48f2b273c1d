package ecstask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
)

// logSkew is how far before the launch's start the search for reports begins: the launcher's
// clock and the tasks' may disagree a little.
const logSkew = 5 * time.Minute

// errNoReport says a search finished without finding the run's report.
var errNoReport = errors.New("no report found")

// readReport looks for a run's report until ctx ends: first the probe's own events in the log
// group (FilterLogEvents on run_id), then, when the task definition uses the awslogs driver, the
// report document the probe printed on stdout (GetLogEvents on the container's stream).
// CloudWatch Logs makes events searchable a few seconds after they are written, so a search
// that finds nothing is repeated. It returns the report, or nil and why there is none.
func (l *Runner) readReport(ctx context.Context, c Config, r *run, started time.Time) (*report.Report, string) {
	interval := l.PollFirstOr()
	last := "" // what the latest complete search found instead of a report
	for {
		var why []string
		if c.LogGroup != "" {
			rep, err := l.filterReport(ctx, c.LogGroup, r.runID, started)
			if err == nil {
				return rep, ""
			}
			why = append(why, fmt.Sprintf("FilterLogEvents on %s: %v", c.LogGroup, launch.APIMessage(err)))
			if code := checks.Classify(err); code == checks.AccessDenied || code == checks.NotFound {
				// Retrying will not grant a permission or create a group.
				if rep, note := l.awslogsOnce(ctx, c, r); rep != nil {
					return rep, ""
				} else if note != "" {
					why = append(why, note)
				}
				return nil, strings.Join(why, "; ")
			}
		}
		if rep, note := l.awslogsOnce(ctx, c, r); rep != nil {
			return rep, ""
		} else if note != "" {
			why = append(why, note)
		}
		if ctx.Err() == nil {
			last = strings.Join(why, "; ")
		}
		if !launch.Sleep(ctx, interval) {
			if last == "" {
				return nil, fmt.Sprintf("not found within %s", l.reportWait())
			}
			return nil, fmt.Sprintf("not found within %s: %s", l.reportWait(), last)
		}
		interval = min(2*interval, l.PollMaxOr())
	}
}

// awslogsOnce reads the probe's stdout from its awslogs stream, when the task definition has one.
func (l *Runner) awslogsOnce(ctx context.Context, c Config, r *run) (*report.Report, string) {
	if c.AwslogsPrefix == "" {
		return nil, ""
	}
	group := c.AwslogsGroup
	if group == "" {
		group = c.LogGroup
	}
	stream := c.AwslogsPrefix + "/" + c.Container + "/" + taskID(r.arn)
	rep, err := l.streamReport(ctx, group, stream, r.runID)
	if err != nil {
		return nil, fmt.Sprintf("GetLogEvents on %s %s: %v", group, stream, launch.APIMessage(err))
	}
	return rep, ""
}

// filterReport reassembles a run's report from its events in group.
func (l *Runner) filterReport(ctx context.Context, group, runID string, started time.Time) (*report.Report, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		FilterPattern: aws.String(fmt.Sprintf(`{ $.run_id = "%s" }`, runID)),
		StartTime:     aws.Int64(started.Add(-logSkew).UnixMilli()),
	}
	var messages []string
	pages := cloudwatchlogs.NewFilterLogEventsPaginator(l.Logs, in, func(o *cloudwatchlogs.FilterLogEventsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for page := 0; page < maxLogPages && pages.HasMorePages(); page++ {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range out.Events {
			messages = append(messages, aws.ToString(e.Message))
		}
	}
	if rep, err := report.FromEvents(runID, messages); err == nil {
		return rep, nil
	}
	// The same group may hold the awslogs driver's copy of stdout: the whole report document.
	if rep := reportDocument(runID, messages); rep != nil {
		return rep, nil
	}
	if len(messages) > 0 {
		return nil, fmt.Errorf("%d events of the run but no summary event: %w", len(messages), errNoReport)
	}
	return nil, errNoReport
}

// streamReport reads a stream from its start and returns the run's report document in it.
func (l *Runner) streamReport(ctx context.Context, group, stream, runID string) (*report.Report, error) {
	in := &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true),
	}
	var messages []string
	// At the end of a stream GetLogEvents hands back the token it was given: the paginator's
	// StopOnDuplicateToken ends the reading there.
	pages := cloudwatchlogs.NewGetLogEventsPaginator(l.Logs, in, func(o *cloudwatchlogs.GetLogEventsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for page := 0; page < maxLogPages && pages.HasMorePages(); page++ {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range out.Events {
			messages = append(messages, aws.ToString(e.Message))
		}
	}
	if rep := reportDocument(runID, messages); rep != nil {
		return rep, nil
	}
	return nil, errNoReport
}

// reportDocument finds the report the probe printed on stdout (one JSON document, no "type")
// for runID among log messages.
func reportDocument(runID string, messages []string) *report.Report {
	for _, m := range messages {
		m = strings.TrimSpace(m)
		if !strings.HasPrefix(m, "{") || !strings.Contains(m, runID) {
			continue
		}
		var head struct {
			Type string `json:"type"`
		}
		var rep report.Report
		if json.Unmarshal([]byte(m), &head) != nil || head.Type != "" {
			continue
		}
		if json.Unmarshal([]byte(m), &rep) == nil && rep.RunID == runID && strings.HasPrefix(rep.Schema, "vpcprobe/") {
			return &rep
		}
	}
	return nil
}

// taskID is the last part of a task ARN.
func taskID(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}
