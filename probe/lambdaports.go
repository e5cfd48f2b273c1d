package probe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// A Lambda probe's return ports. A function in a VPC sends its traffic through a Hyperplane ENI
// whose source ports span 1024–65535, where a Linux task's (and instance's) span 32768–60999
// (Amazon VPC user guide, "Network ACLs", "Ephemeral ports": Linux kernels 32768–60999, NAT
// gateways and Lambda 1024–65535; AWS's own example ACL lets 32768–65535 back in). A stateless
// network ACL that lets back only the task's range drops the answers to about half of the
// function's connections and to none of the task's: the Lambda probe times out where the task it
// stands for would not. The mark of it is measurable: to the same address, some connections
// answer and some time out, depending only on the port each drew. So when a Lambda probe's
// service times out, a burst of parallel connects to its addresses (each its own source port)
// tells a port-range drop (mixed) from a drop of everything (a security group, a route).

// Ephemeral port ranges, for the diagnosis (Amazon VPC user guide, network ACLs).
const (
	lambdaPorts = "1024-65535"
	linuxPorts  = "32768-60999"
)

// LambdaPortRange is the service-level reason code of a Lambda probe whose connections fail only
// on part of its source ports (an extension of CONTRACT.md's codes): the function's port range,
// not the task's, explains the failure.
const LambdaPortRange checks.Code = "lambda-port-range"

// portBurst is how many connects per address the burst opens at once, half from source ports
// below the Linux range (1024-32767) and half from inside it (32768-60999). The ports are chosen,
// not left to the kernel: Linux hands consecutive connections to one destination neighbouring
// ports, which would all fall on the same side of an ACL's bound. Where a NAT translates them
// (Lambda's Hyperplane ENI), the translated ports spread over 1024-65535 anyway.
const portBurst = 8

// portMix is what the burst measured at the addresses where some connects answered and some
// timed out.
type portMix struct {
	answered, timedOut int          // at addrs
	addrs              []netip.Addr // the addresses where both happened
}

// mixed reports whether one address both answered and timed out: only the source port can tell
// those connects apart. Some addresses answering and others never (an endpoint's interface in a
// zone that is down, a route to one of them missing) is a path problem, not a port range.
func (m portMix) mixed() bool { return len(m.addrs) > 0 }

// checkPorts runs the burst after a Lambda probe's service timed out on a connection, and
// records a mixed outcome on st. It takes at most one --timeout.
func (p *Prober) checkPorts(ctx context.Context, st *state) {
	if p.runner() != report.RunnerLambda {
		return
	}
	st.mu.Lock()
	results := append([]checks.Result(nil), st.results...)
	st.mu.Unlock()
	if len(results) == 0 || results[0].Name != "dns" || len(results[0].Addrs) == 0 || !timedOut(results) {
		return
	}
	if m := burst(ctx, p.Dialer, results[0].Addrs, p.Port, p.Timeout); m.mixed() {
		st.mu.Lock()
		st.ports = &m
		st.mu.Unlock()
	}
}

// timedOut reports whether a check failed or warned because a connection timed out.
func timedOut(results []checks.Result) bool {
	for _, r := range results {
		if (r.Status == checks.Fail || r.Status == checks.Warn) && r.Code == checks.Timeout {
			return true
		}
	}
	return false
}

// burst opens portBurst connections to each address at once, each bounded by step, and counts
// the ones that answered and the ones that timed out; a run cut short by ctx counts neither.
func burst(ctx context.Context, d checks.Dialer, addrs []netip.Addr, port uint16, step time.Duration) portMix {
	if port == 0 {
		port = 443
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var m portMix
	perAddr := map[netip.Addr][2]int{}
	for _, a := range addrs {
		for i := range portBurst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dctx, cancel := context.WithTimeout(ctx, step)
				defer cancel()
				c, err := fromPort(d, i).DialContext(dctx, "tcp", net.JoinHostPort(a.String(), strconv.Itoa(int(port))))
				mu.Lock()
				defer mu.Unlock()
				n := perAddr[a]
				switch {
				case err == nil:
					c.Close()
					n[0]++
				case ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || checks.Classify(err) == checks.Timeout):
					n[1]++
				}
				perAddr[a] = n
			}()
		}
	}
	wg.Wait()
	for _, a := range addrs {
		if n := perAddr[a]; n[0] > 0 && n[1] > 0 {
			m.addrs = append(m.addrs, a)
			m.answered, m.timedOut = m.answered+n[0], m.timedOut+n[1]
		}
	}
	return m
}

// portVerdict re-judges a Lambda probe's service whose burst was mixed: the function's port
// range explains the failure, so the task would not fail here; a warning that says so.
func portVerdict(j judgement, m *portMix, host string) judgement {
	if m == nil || len(m.addrs) == 0 || (j.verdict != checks.Fail && j.verdict != checks.Warn) {
		return j
	}
	where := list(m.addrs)
	return judgement{verdict: checks.Warn, code: LambdaPortRange,
		diagnosis: fmt.Sprintf("From this Lambda function, connections to %s (%s) answer on some attempts and time out on others (%d of %d parallel connects timed out): the mark of a network ACL that lets return traffic back to only part of the ephemeral ports. A Lambda function's traffic uses source ports %s, a Linux task's %s (Amazon VPC user guide, network ACLs, ephemeral ports): an ACL allowing only the task's range (AWS's example allows 32768-65535) drops about half of the function's connections and none of a task's, so the task this probe stands for would not fail here (%s before: %s).",
			host, where, m.timedOut, m.answered+m.timedOut, lambdaPorts, linuxPorts, j.code, strings.TrimSuffix(j.diagnosis, ".")),
		remediation: fmt.Sprintf("Nothing to change for Linux tasks while the network ACLs let TCP %s back in. For Lambda functions, NAT gateways or load balancers in this subnet, allow inbound TCP %s from %s in this subnet's network ACL (and outbound TCP %s to this subnet in the ACL of the subnet holding %s).",
			linuxPorts, lambdaPorts, where, lambdaPorts, where),
	}
}

// fromPort returns d bound to a source port of the burst's i-th connect: even ones below the
// Linux range, odd ones inside it, at random within. A dialer that is not a *net.Dialer (a
// test's) is used as it is.
func fromPort(d checks.Dialer, i int) checks.Dialer {
	nd, ok := d.(*net.Dialer)
	if !ok {
		return d
	}
	lo, hi := 1024, 32767
	if i%2 == 1 {
		lo, hi = 32768, 60999
	}
	c := *nd
	c.LocalAddr = &net.TCPAddr{Port: lo + rand.IntN(hi-lo+1)}
	return &c
}
