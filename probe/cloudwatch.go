package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// CloudWatch Logs delivery: the report's events (report.Report.Events) written to --log-group, within
// the delivery budget that Plan sets aside after the probe.

// LogsAPI is the part of the CloudWatch Logs client delivery calls.
type LogsAPI interface {
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

// CloudWatch Logs limits (AWS-NOTES.md): what one PutLogEvents batch and one event may hold.
const (
	maxBatchBytes  = 1_048_576 // message bytes plus eventOverhead per event
	maxBatchEvents = 10_000
	eventOverhead  = 26         // bytes CloudWatch counts per event on top of its message
	maxEventBytes  = 256 * 1024 // one event, message plus eventOverhead
)

const (
	// firstThrottlePause is the pause after a call that stayed throttled through the SDK's own
	// retry; it doubles with each further throttle, up to maxThrottlePause, while the delivery
	// budget lasts.
	firstThrottlePause = 100 * time.Millisecond
	maxThrottlePause   = time.Second
)

// Deliver writes rep's events to the configured log group and stream, creating them when
// missing, and records the outcome in rep.Delivery (a failure makes rep.Failed true). It does
// nothing without --log-group. It ends by --deadline less outputReserve from started, whatever
// CloudWatch does, so that the report is still printed in time.
func (p *Prober) Deliver(ctx context.Context, rep *report.Report, started time.Time) {
	if p.LogGroup == "" {
		return
	}
	rep.Delivery = report.Delivery{CloudWatch: report.Failed, LogGroup: p.LogGroup, LogStream: p.LogStream}
	if p.aws == nil {
		rep.Delivery.Error = "no CloudWatch Logs client"
		return
	}
	dctx, cancel := context.WithDeadlineCause(ctx, started.Add(p.Deadline-outputReserve), checks.ErrDeadline)
	defer cancel()
	now := p.now()
	d := delivery{logs: p.aws.logs, group: p.LogGroup, stream: p.LogStream, step: p.Timeout}
	if err := d.run(dctx, rep.Events(now), now); err != nil {
		rep.Delivery.Error = checks.Bound(err.Error())
		return
	}
	rep.Delivery.CloudWatch = report.Delivered
}

// delivery is one report's way to one log stream.
type delivery struct {
	logs          LogsAPI
	group, stream string
	step          time.Duration // bound on each call
}

// run creates the group and stream (an existing one is success) and puts the events in as
// few batches as the limits allow. A group it may not create may still exist (a role with only
// logs:CreateLogStream and logs:PutLogEvents is common), so that failure counts only when the
// stream cannot be created either.
func (d delivery) run(ctx context.Context, messages [][]byte, now time.Time) error {
	groupErr := d.call(ctx, "logs:CreateLogGroup", func(ctx context.Context) error {
		_, err := d.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &d.group})
		return err
	})
	streamErr := d.call(ctx, "logs:CreateLogStream", func(ctx context.Context) error {
		_, err := d.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &d.group, LogStreamName: &d.stream})
		return err
	})
	if streamErr != nil {
		var de *deliveryError
		if groupErr != nil && errors.As(streamErr, &de) && de.code == checks.NotFound {
			// No group, and it could not be created: that is the cause.
			return groupErr
		}
		return streamErr
	}

	ts := now.UnixMilli()
	fitted := make([][]byte, len(messages))
	for i, m := range messages {
		fitted[i] = fitEvent(m, maxEventBytes-eventOverhead)
	}
	for _, batch := range batches(fitted) {
		events := make([]logstypes.InputLogEvent, len(batch))
		for i, m := range batch {
			events[i] = logstypes.InputLogEvent{Message: aws.String(string(m)), Timestamp: aws.Int64(ts)}
		}
		var rejected *logstypes.RejectedLogEventsInfo
		err := d.call(ctx, "logs:PutLogEvents", func(ctx context.Context) error {
			out, err := d.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: &d.group, LogStreamName: &d.stream, LogEvents: events})
			if err == nil {
				rejected = out.RejectedLogEventsInfo
			}
			return err
		})
		if err != nil {
			return err
		}
		if rejected != nil && (rejected.TooOldLogEventEndIndex != nil || rejected.TooNewLogEventStartIndex != nil || rejected.ExpiredLogEventEndIndex != nil) {
			return errors.New("logs:PutLogEvents: CloudWatch Logs rejected the events as too old or too far in the future: this machine's clock is off")
		}
	}
	return nil
}

// deliveryError is a failed delivery call: its reason code and what happened.
type deliveryError struct {
	code   checks.Code
	detail string
}

func (e *deliveryError) Error() string { return string(e.code) + ": " + e.detail }

// call makes one delivery call, each attempt bounded by one step, retrying throttling with a
// growing pause while the delivery budget (ctx) lasts. "Already exists" is success.
func (d delivery) call(ctx context.Context, action string, fn func(context.Context) error) error {
	pause := firstThrottlePause
	for {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, d.step)
		err := fn(cctx)
		var code checks.Code
		var detail string
		if err != nil && !alreadyExists(err) {
			code, detail = checks.CallFailure(cctx, action, start, err)
		}
		cancel()
		if code == "" {
			return nil
		}
		if code != checks.Throttled || !pauseWithin(ctx, pause) {
			return &deliveryError{code: code, detail: detail}
		}
		pause = min(2*pause, maxThrottlePause)
	}
}

// pauseWithin waits d, unless ctx would end before d and one more quick call: then it returns
// false at once.
func pauseWithin(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d+firstThrottlePause {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// alreadyExists reports whether err says the group or stream exists: the state wanted.
func alreadyExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceAlreadyExistsException"
}

// batches splits messages, in order, into PutLogEvents batches within CloudWatch's limits on
// bytes and events. Every message must already fit in one event.
func batches(messages [][]byte) [][][]byte {
	var out [][][]byte
	var cur [][]byte
	size := 0
	for _, m := range messages {
		n := len(m) + eventOverhead
		if len(cur) > 0 && (size+n > maxBatchBytes || len(cur) == maxBatchEvents) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, m)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// fitEvent returns msg, a JSON event, within limit bytes: an event too large keeps every member
// but has its long strings (details, diagnoses) cut, and says "truncated": true. Losing words
// is better than losing the event: its verdict and codes survive.
func fitEvent(msg []byte, limit int) []byte {
	if len(msg) <= limit {
		return msg
	}
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber() // timestamps and counts stay exactly as they were
	var doc map[string]any
	if dec.Decode(&doc) == nil {
		doc["truncated"] = true
		for n := limit / 2; n >= 16; n /= 2 {
			if b, err := json.Marshal(cutStrings(doc, n)); err == nil && len(b) <= limit {
				return b
			}
		}
		// Too many members even with short strings: keep what identifies the event.
		skeleton := map[string]any{"truncated": true}
		for _, k := range []string{"schema", "run_id", "type", "service", "verdict", "error"} {
			if v, ok := doc[k]; ok {
				skeleton[k] = cutStrings(v, 256)
			}
		}
		if b, err := json.Marshal(skeleton); err == nil && len(b) <= limit {
			return b
		}
	}
	return []byte(cutText(string(msg), limit))
}

// cutStrings returns a copy of v, decoded JSON, with every string longer than n bytes cut.
func cutStrings(v any, n int) any {
	switch x := v.(type) {
	case string:
		if len(x) > n {
			return cutText(x, n)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cutStrings(e, n)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cutStrings(e, n)
		}
		return out
	}
	return v
}

// cutText cuts s to at most n bytes, on a UTF-8 boundary, marking the cut.
func cutText(s string, n int) string {
	const mark = "...[cut]"
	if len(s) <= n {
		return s
	}
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
