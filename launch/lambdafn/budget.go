package lambdafn

import "time"

// Margin is kept between the end of a run inside a function and its invocation's deadline: the
// report is marshalled and posted to the Runtime API on the sandbox's loopback, which takes
// milliseconds; the rest is slack for a sandbox starved of CPU at 128 MB.
const Margin = 500 * time.Millisecond

// Budget fits a run into an invocation: it returns the probe's --timeout and --deadline, the
// deadline no later than the invocation's deadline (left from now) minus Margin, and the timeout
// no longer than that. A deadline of zero or less leaves no time to probe.
func Budget(timeout, deadline, left time.Duration) (time.Duration, time.Duration) {
	deadline = min(deadline, left-Margin)
	return min(timeout, max(deadline, 0)), deadline
}
