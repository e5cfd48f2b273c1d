package checks

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// TCP connects to port on every address at once and reports each address's outcome.
//
// The caller bounds ctx with the per-step timeout. Each connection is closed as soon as it is
// made: the check proves that the path is open, nothing more. Peers holds one outcome per
// address, in input order, and Addrs the addresses that answered. The check passes when every
// address answered, warns when only some did (one endpoint subnet or zone is broken) and fails
// when none did. An IPv6 address that is unreachable while an IPv4 address answered does not
// count against the result: hosts without IPv6 routes are normal.
func TCP(ctx context.Context, d Dialer, addrs []netip.Addr, port uint16) Result {
	if len(addrs) == 0 {
		return Skipped("tcp", "no address to connect to")
	}
	start := time.Now()

	type outcome struct {
		i    int
		peer Peer
	}
	// Buffered so that a dial finishing after we stopped waiting never blocks its goroutine.
	outcomes := make(chan outcome, len(addrs))
	for i, a := range addrs {
		go func() {
			t0 := time.Now()
			conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, port).String())
			if err == nil {
				conn.Close()
			}
			outcomes <- outcome{i, Peer{Addr: a, Code: ClassifyIn(ctx, err), Duration: time.Since(t0)}}
		}()
	}

	// Collect until every dial returned or ctx ended; a Dialer that ignores its context must
	// not hold the probe past its deadline. Whatever did not finish gets ctx's own code.
	peers := make([]Peer, len(addrs))
	finished := make([]bool, len(addrs))
collect:
	for range addrs {
		select {
		case o := <-outcomes:
			peers[o.i], finished[o.i] = o.peer, true
		case <-ctx.Done():
			// Keep the outcomes that raced with the end of ctx, then stop waiting.
			for len(outcomes) > 0 {
				o := <-outcomes
				peers[o.i], finished[o.i] = o.peer, true
			}
			break collect
		}
	}
	for i, a := range addrs {
		if !finished[i] {
			peers[i] = Peer{Addr: a, Code: ClassifyIn(ctx, ctx.Err()), Duration: time.Since(start)}
		}
	}

	res := Result{Name: "tcp", Peers: peers, Duration: time.Since(start)}
	res.Status, res.Code, res.Detail = tcpVerdict(peers, port, stepWithin(ctx, start))
	for _, p := range peers {
		if p.Code == "" {
			res.Addrs = append(res.Addrs, p.Addr)
		}
	}
	return res
}

// tcpVerdict turns the per-address outcomes into a status, a code and a detail.
func tcpVerdict(peers []Peer, port uint16, within time.Duration) (Status, Code, string) {
	hostPort := func(a netip.Addr) string { return netip.AddrPortFrom(a, port).String() }

	var answered, silent, ignored []Peer
	v4answered := false
	for _, p := range peers {
		if p.Code == "" {
			answered = append(answered, p)
			v4answered = v4answered || p.Addr.Unmap().Is4()
		}
	}
	for _, p := range peers {
		switch {
		case p.Code == "":
		case v4answered && p.Code == Unreachable && p.Addr.Unmap().Is6():
			ignored = append(ignored, p)
		default:
			silent = append(silent, p)
		}
	}

	names := func(ps []Peer) []string {
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = hostPort(p.Addr)
		}
		return s
	}
	withCodes := func(ps []Peer) string {
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = hostPort(p.Addr) + " " + string(p.Code)
		}
		return strings.Join(s, ", ")
	}
	ignoredNote := ""
	if len(ignored) > 0 {
		ignoredNote = "; IPv6 " + tcpJoin(names(ignored)) + " unreachable (no IPv6 route), ignored"
	}

	switch {
	case len(silent) == 0:
		return Pass, "", Bound(tcpJoin(names(answered)) + " answered" + ignoredNote)
	case len(answered) > 0:
		detail := withCodes(silent) + "; " + tcpJoin(names(answered)) + " answered" + ignoredNote
		return Warn, silent[0].Code, Bound(detail)
	}

	// None answered: name the shared reason, or each address's own when they differ.
	code := silent[0].Code
	for _, p := range silent[1:] {
		if p.Code != code {
			return Fail, code, Bound(withCodes(silent))
		}
	}
	all := tcpJoin(names(silent))
	switch code {
	case Timeout:
		return Fail, code, Bound(fmt.Sprintf("%s did not answer within %s", all, within))
	case Refused:
		return Fail, code, Bound(all + " refused the connection")
	case Unreachable:
		return Fail, code, Bound(all + " unreachable: no route")
	case Deadline:
		return Fail, code, Bound(all + " did not answer before the run deadline")
	}
	return Fail, code, Bound(withCodes(silent))
}

// stepWithin is the time a step was given: ctx's deadline minus start when there is one, else
// the time spent, rounded so that "5s" reads as the --timeout the user set.
func stepWithin(ctx context.Context, start time.Time) time.Duration {
	d := time.Since(start)
	if deadline, ok := ctx.Deadline(); ok {
		d = deadline.Sub(start)
	}
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// tcpJoin joins items as "a", "a and b" or "a, b and c".
func tcpJoin(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
