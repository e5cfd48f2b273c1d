package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/smithy-go"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// Shared is what both runners (launch/ecstask, launch/lambdafn) take from their caller: the
// clients the launch's inspection reads each subnet's VPC with, the progress writer and the
// clock.
type Shared struct {
	// Inspect, when set, are the clients each launch reads its subnets' VPC configuration with,
	// while the probes run, to join it with their results (inspection.go); nil: no inspection.
	Inspect *inspect.Clients
	// Progress, when set, receives one line per event (started, status changes, stopped), for
	// a person watching a pipeline's log.
	Progress io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PollFirst, PollMax and StopTimeout override DefaultPollFirst, DefaultPollMax and
	// DefaultStopTimeout when positive (tests shrink them).
	PollFirst, PollMax, StopTimeout time.Duration
}

// Budgets and intervals both runners share. Fargate takes tens of seconds to start a task and up
// to several minutes to give up on an unreachable registry, a Lambda function up to a minute or
// two to become Active in a new subnet, so polling is slow and backs off.
const (
	// DefaultDeadline bounds the wait for every task to stop: long enough for Fargate to give up
	// on an unreachable ECR (its retries take minutes) and report why, short enough for a pipeline.
	DefaultDeadline = 10 * time.Minute
	// DefaultPollFirst is the first interval between DescribeTasks calls; it grows by half each
	// round up to DefaultPollMax, and doubles after throttling.
	DefaultPollFirst = 3 * time.Second
	// DefaultPollMax caps the interval: a stopped task is noticed at most this late.
	DefaultPollMax = 15 * time.Second
	// DefaultStopTimeout bounds the StopTask calls made after an interrupt or the deadline,
	// which run after the launch's own context has ended.
	DefaultStopTimeout = 10 * time.Second
)

// ErrDeadline is the cause of the launch context's end when --deadline falls.
var ErrDeadline = errors.New("launch deadline reached")

// PollFirstOr, PollMaxOr and StopTimeoutOr return the intervals in force.
func (s *Shared) PollFirstOr() time.Duration   { return OrDefault(s.PollFirst, DefaultPollFirst) }
func (s *Shared) PollMaxOr() time.Duration     { return OrDefault(s.PollMax, DefaultPollMax) }
func (s *Shared) StopTimeoutOr() time.Duration { return OrDefault(s.StopTimeout, DefaultStopTimeout) }

// OrDefault returns d, or def when d is not positive.
func OrDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// APIMessage is an AWS API error's code and message (else the error's text), redacted.
func APIMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + stopped.Redact(ae.ErrorMessage())
	}
	return stopped.Redact(err.Error())
}

// Progressf writes one progress line, when there is a progress writer.
func (s *Shared) Progressf(format string, args ...any) {
	if s.Progress != nil {
		fmt.Fprintf(s.Progress, "vpcprobe launch: "+format+"\n", args...)
	}
}

// Clock returns the time now, from Now when set.
func (s *Shared) Clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Sleep waits d, or until ctx ends; it reports whether the whole d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// SubnetVerdict is the report's verdict when there is one, else the worst of the diagnoses;
// a task that ended with no diagnosis at all passed, and one whose every diagnosis is skip (the
// launcher could not start or follow it) was not measured.
func SubnetVerdict(s SubnetReport) checks.Status {
	if s.Report != nil {
		if s.Report.Failed() {
			return checks.Fail
		}
		return s.Report.Verdict
	}
	v := checks.Pass
	skipped := len(s.Diagnoses) > 0
	for _, d := range s.Diagnoses {
		switch d.Verdict {
		case checks.Fail:
			return checks.Fail
		case checks.Warn:
			v = checks.Warn
		}
		skipped = skipped && d.Verdict == checks.Skip
	}
	if skipped {
		return checks.Skip
	}
	return v
}
