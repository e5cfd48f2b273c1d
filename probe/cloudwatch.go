package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
//
// Delivery costs no extra --timeout in a subnet that cannot reach CloudWatch Logs: when the run
// probed logs and its network checks failed, delivery fails at once with that cause; and the
// group and stream are created while the probes run (Run starts prepareDelivery), so that only
// PutLogEvents is left for after them.
func (p *Prober) Deliver(ctx context.Context, rep *report.Report, started time.Time) {
	if p.LogGroup == "" {
		return
	}
	rep.Delivery = report.Delivery{CloudWatch: report.Failed, LogGroup: p.LogGroup, LogStream: p.LogStream}
	if p.aws == nil {
		rep.Delivery.Error = "no CloudWatch Logs client"
		return
	}
	if why := logsDown(rep); why != "" {
		rep.Delivery.Error = checks.Bound(why)
		return
	}
	dctx, cancel := context.WithDeadlineCause(ctx, started.Add(p.Deadline-outputReserve), checks.ErrDeadline)
	defer cancel()
	p.prepareDelivery(started)
	err, ok := p.aws.logsReady.wait(dctx)
	if !ok {
		err = &deliveryError{code: checks.Deadline, detail: "the log group and stream were not ready before the run's deadline"}
	}
	if err == nil {
		now := p.now()
		err = p.delivery().put(dctx, rep.Events(now), now)
	}
	if err != nil {
		rep.Delivery.Error = checks.Bound(err.Error())
		return
	}
	rep.Delivery.CloudWatch = report.Delivered
}

// prepareDelivery starts creating the log group and stream, once per run, bounded by the run's
// --deadline less outputReserve: they do not depend on the report, so they go with the probes.
func (p *Prober) prepareDelivery(started time.Time) {
	if p.LogGroup == "" || p.aws == nil {
		return
	}
	a := p.aws
	a.prepareOnce.Do(func() {
		ctx, cancel := context.WithDeadlineCause(context.Background(), started.Add(p.Deadline-outputReserve), checks.ErrDeadline)
		a.cancelDelivery = cancel
		a.logsReady.start(ctx, func(ctx context.Context) error { return p.delivery().prepare(ctx) })
	})
}

func (p *Prober) delivery() delivery {
	return delivery{logs: p.aws.logs, group: p.LogGroup, stream: p.LogStream, step: p.Timeout}
}

// networkChecks are the checks whose failure means the host cannot be reached at all.
var networkChecks = []string{"dns", "tcp", "tls", "http"}

// logsDown returns why delivery cannot succeed when the run's own logs service says the endpoint
// is out of reach (a network check failed for a reason other than the run's deadline), and ""
// otherwise: the delivery's calls would take that same path and fail the same way.
func logsDown(rep *report.Report) string {
	for _, s := range rep.Services {
		if s.Service != "logs" {
			continue
		}
		for _, c := range s.Checks {
			if c.Status == checks.Fail && c.Error != checks.Deadline && slices.Contains(networkChecks, c.Name) {
				return fmt.Sprintf("%s: CloudWatch Logs (%s) is out of reach from here: its %s check failed (%s); see the logs service", c.Error, s.Host, c.Name, c.Detail)
			}
		}
	}
	return ""
}

// delivery is one report's way to one log stream.
type delivery struct {
	logs          LogsAPI
	group, stream string
	step          time.Duration // bound on each call
}

// prepare creates the group and stream (an existing one is success). A group it may not create
// may still exist (a role with only logs:CreateLogStream and logs:PutLogEvents is common), so
// that failure counts only when the stream cannot be created either; a group call that got no
// answer at all is the cause at once, since the stream's would take the same path.
func (d delivery) prepare(ctx context.Context) error {
	groupErr := d.call(ctx, "logs:CreateLogGroup", func(ctx context.Context) error {
		_, err := d.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &d.group})
		return err
	})
	var de *deliveryError
	if errors.As(groupErr, &de) && unreachable(de.code) {
		return groupErr
	}
	streamErr := d.call(ctx, "logs:CreateLogStream", func(ctx context.Context) error {
		_, err := d.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &d.group, LogStreamName: &d.stream})
		return err
	})
	if streamErr != nil {
		if groupErr != nil && errors.As(streamErr, &de) && de.code == checks.NotFound {
			// No group, and it could not be created: that is the cause.
			return groupErr
		}
		return streamErr
	}
	return nil
}

// unreachable reports whether a call's code means it got no answer from the service at all.
func unreachable(c checks.Code) bool {
	switch c {
	case checks.Timeout, checks.Refused, checks.Unreachable, checks.Deadline, checks.TLSHandshake,
		checks.TLSUntrusted, checks.TLSHostname, checks.NXDomain, checks.ServFail, checks.DNSTimeout, checks.NoAnswer:
		return true
	}
	return false
}

// put writes the events in as few batches as the limits allow.
func (d delivery) put(ctx context.Context, messages [][]byte, now time.Time) error {
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
