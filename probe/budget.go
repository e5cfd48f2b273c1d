package probe

import (
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
)

// The run's time budgets. Everything nests inside --deadline: metadata and the checks get the
// probe budget, CloudWatch delivery gets its own slice after it, and the report is printed in
// what is left. Inside one step (one --timeout) the inner bounds are derived from it here:
// dnsQueryTimeout, sdkAttemptTimeout. budget_test.go proves each inner bound fits its step by
// running it against servers that never answer.
const (
	// cancelGrace is how long the run waits, once its probe budget is spent, for checks to
	// notice the cancellation and return their own "deadline" result before it reports them
	// itself. Checks watch their context, so this is only scheduling slack.
	cancelGrace = 50 * time.Millisecond

	// outputReserve is kept at the very end of --deadline for building, printing and exiting:
	// CONTRACT.md promises the process ends within --deadline plus one second.
	outputReserve = 150 * time.Millisecond

	// maxTransportSlack bounds how much earlier than a step's context the HTTP transport's own
	// dial, TLS and response-header timeouts fire. Firing first keeps the real cause ("i/o
	// timeout" while dialling) instead of the SDK's "context deadline exceeded"
	// (aws-sdk-go-v2#1697).
	maxTransportSlack = 250 * time.Millisecond

	// maxSecondOpinion bounds the Amazon-provided resolver's answer. Inside a VPC it answers
	// in about a millisecond; outside one (a laptop, another network) it never answers, and a
	// probe whose checks took 30 ms must not wait a whole --timeout for it.
	maxSecondOpinion = time.Second

	// deliveryTimeouts is how many --timeout steps CloudWatch delivery may take after the probe:
	// the group and stream are created while the probes run (prepareDelivery), so what is left
	// is PutLogEvents, a throttled retry of it, or a slow group or stream call still finishing.
	deliveryTimeouts = 2
)

// Budget is how one run divides its --deadline.
type Budget struct {
	Probe    time.Duration // metadata and every check, measured from the run's start
	Delivery time.Duration // CloudWatch delivery after the probe; zero when there is none
}

// Plan divides deadline between the probe and delivery (when deliver is set). report.Delivery gets
// deliveryTimeouts steps of timeout, but never more than a third of the deadline, so that a short
// --deadline still leaves the checks most of it.
func Plan(timeout, deadline time.Duration, deliver bool) Budget {
	var b Budget
	if deliver {
		b.Delivery = min(deliveryTimeouts*timeout, deadline/3)
	}
	b.Probe = deadline - b.Delivery - outputReserve - cancelGrace
	if b.Probe < 0 {
		b.Probe = 0
	}
	return b
}

// transportSlack is how much earlier than the step timeout the transport's own timeouts fire:
// a tenth of the step, at most maxTransportSlack.
func transportSlack(timeout time.Duration) time.Duration {
	return min(timeout/10, maxTransportSlack)
}

// dnsQueryTimeout is how long one DNS query to one server may take within the DNS step of one
// --timeout: A and AAAA are asked concurrently, each of them asking the servers in turn, so that
// servers silent one after the other still end within the step, not one step per server.
func dnsQueryTimeout(step time.Duration, servers int) time.Duration {
	return (step - transportSlack(step)) / time.Duration(max(servers, 1))
}

// dnsResolver is the configured resolvers with the per-query bound of one DNS step.
func dnsResolver(servers []string, step time.Duration) checks.Resolver {
	return checks.Resolver{Servers: servers, Timeout: dnsQueryTimeout(step, len(servers))}
}

// sdkAttemptTimeout bounds one attempt of an SDK call (dial, TLS, request and response) so
// that sdkAttempts of them and the pause between them fit in one step, with the transport's
// slack to spare: the retry gets a real chance instead of the last few milliseconds.
func sdkAttemptTimeout(step time.Duration) time.Duration {
	return (step - transportSlack(step) - sdkBackoff(step)) / sdkAttempts
}

// sdkBackoff is the longest pause between an SDK call's attempts in a step: sdkMaxBackoff, or a
// tenth of a short step.
func sdkBackoff(step time.Duration) time.Duration {
	return min(sdkMaxBackoff, step/10)
}
