package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// Resolver says which DNS servers to ask and how long one query may take.
type Resolver struct {
	Servers []string      // "host:port", asked in order; the next is tried on timeout, SERVFAIL or REFUSED
	Timeout time.Duration // bound on one query (one server, one qtype, one transport)
}

const (
	// ednsSize is the UDP payload size we advertise: the DNS Flag Day 2020 value, small enough
	// to avoid IP fragmentation; larger answers come back truncated and are asked again over TCP.
	ednsSize = 1232

	// maxCNAMEs bounds the alias chain across all queries. A real chain to an AWS endpoint is one
	// or two names long; eight leaves room and keeps a broken zone from costing more than a few
	// queries.
	maxCNAMEs = 8

	// defaultDNSTimeout applies when Resolver.Timeout is not set, so that a silent server can
	// never hold a check forever; it is CONTRACT.md's --timeout default.
	defaultDNSTimeout = 5 * time.Second

	// maxResolvConfServers is how many nameserver lines glibc, musl and Go read (MAXNS); the
	// rest are ignored by every client in the container, so the probe ignores them too.
	maxResolvConfServers = 3
)

// DNS resolves host to its A and AAAA addresses the way a stub resolver would, asking r's servers
// directly with github.com/miekg/dns (never the Go resolver). The result carries the addresses
// (A first, then AAAA), the CNAME chain followed and the server that answered. It passes when
// either family has an address; otherwise the code says why: nxdomain, servfail (every server
// failed or refused, or a CNAME loop), dns-timeout (no server answered in time), no-answer, or
// deadline when the run's deadline cut it short.
func DNS(ctx context.Context, r Resolver, host string) Result {
	start := time.Now()
	res := Result{Name: "dns"}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		res.Status, res.Addrs, res.Detail = Pass, []netip.Addr{a}, "address literal"
		res.Duration = time.Since(start)
		return res
	}
	if len(r.Servers) == 0 {
		res.Status, res.Code, res.Detail = Fail, ServFail, "no DNS server configured"
		res.Duration = time.Since(start)
		return res
	}
	if r.Timeout <= 0 {
		r.Timeout = defaultDNSTimeout
	}

	name := dns.Fqdn(host)
	var a, aaaa family
	var wg sync.WaitGroup
	wg.Go(func() { a = lookup(ctx, r, name, dns.TypeA) })
	wg.Go(func() { aaaa = lookup(ctx, r, name, dns.TypeAAAA) })
	wg.Wait()
	res.Duration = time.Since(start)

	notes := render(append(append([]note(nil), a.notes...), aaaa.notes...))
	if len(a.addrs) > 0 || len(aaaa.addrs) > 0 {
		res.Status = Pass
		seen := make(map[netip.Addr]bool)
		for _, ad := range append(append([]netip.Addr(nil), a.addrs...), aaaa.addrs...) {
			if !seen[ad] {
				seen[ad] = true
				res.Addrs = append(res.Addrs, ad)
			}
		}
		won, other := a, aaaa
		if len(a.addrs) == 0 {
			won, other = aaaa, a
		}
		res.CNAMEs, res.Resolver = won.cnames, won.server
		n := "addresses"
		if len(res.Addrs) == 1 {
			n = "address"
		}
		notes = append(notes, fmt.Sprintf("%d %s from %s in %s", len(res.Addrs), n, res.Resolver, short(res.Duration)))
		if other.code != "" && other.code != NoAnswer && other.why != "" {
			notes = append(notes, dns.TypeToString[other.qtype]+": "+other.why)
		}
		res.Detail = Bound(strings.Join(notes, "; "))
		return res
	}

	f := a
	if rank(aaaa.code) < rank(a.code) {
		f = aaaa
	}
	res.Status, res.Code, res.CNAMEs, res.Resolver = Fail, f.code, f.cnames, f.server
	why := f.why
	if f.code == NoAnswer { // both families answered NOERROR without an address
		why = fmt.Sprintf("%s has no A or AAAA record for %s", f.server, f.final)
	}
	if why != "" {
		notes = append(notes, why)
	}
	res.Detail = Bound(strings.Join(notes, "; "))
	return res
}

// family is the outcome of resolving one query type, CNAMEs followed.
type family struct {
	qtype  uint16
	addrs  []netip.Addr
	cnames []string // alias chain, without trailing dots
	final  string   // the last name asked about, without trailing dot
	server string   // the server whose answer decided the outcome; "" when none answered
	code   Code     // "" when addrs were found
	why    string   // what went wrong, for Detail; "" when notes already say it
	notes  []note   // servers that failed along the way, even when another then answered
}

// note is one server's failure to answer one query.
type note struct {
	server  string
	problem string // e.g. "answered SERVFAIL"
	qtype   uint16
}

// render turns notes into Detail lines in order. A and AAAA usually fail the same way on the
// same server: that is said once, and the type is named only when just one of them failed.
func render(notes []note) []string {
	var lines []string
	done := make(map[int]bool)
	for i, n := range notes {
		if done[i] {
			continue
		}
		both := false
		for j := i + 1; j < len(notes); j++ {
			if notes[j].server == n.server && notes[j].problem == n.problem {
				done[j] = true
				both = both || notes[j].qtype != n.qtype
			}
		}
		line := n.server + " " + n.problem
		if !both {
			line += " (" + dns.TypeToString[n.qtype] + ")"
		}
		lines = append(lines, line)
	}
	return lines
}

// rank orders failure codes for the combined result: NXDOMAIN is authoritative for the name
// whatever the type; an unfinished run is reported as such before guessing at network faults;
// no-answer matters only when both families agree on it.
func rank(c Code) int {
	switch c {
	case NXDomain:
		return 0
	case Deadline:
		return 1
	case ServFail:
		return 2
	case DNSTimeout:
		return 3
	}
	return 4
}

// lookup resolves name for one qtype, following CNAMEs across queries when the answer ends at an
// alias with no address.
func lookup(ctx context.Context, r Resolver, name string, qtype uint16) family {
	f := family{qtype: qtype, final: strings.TrimSuffix(name, ".")}
	seen := map[string]bool{strings.ToLower(name): true}
	qname := name
	for {
		m, server, code := ask(ctx, r, qname, qtype, &f.notes)
		if code != "" {
			f.code = code
			switch code {
			case Deadline:
				f.why = "run deadline reached before a DNS server answered"
			case DNSTimeout:
				if ctx.Err() != nil {
					f.why = "stopped before a DNS server answered: " + context.Cause(ctx).Error()
				}
			}
			return f
		}
		f.server = server
		addrs, cnames, final := answers(qname, qtype, m)
		for _, c := range cnames {
			loop := seen[strings.ToLower(c)]
			seen[strings.ToLower(c)] = true
			f.cnames = append(f.cnames, strings.TrimSuffix(c, "."))
			switch {
			case loop:
				f.code, f.why = ServFail, fmt.Sprintf("CNAME loop from %s: %s", server, chain(name, f.cnames))
				return f
			case len(f.cnames) > maxCNAMEs:
				f.code, f.why = ServFail, fmt.Sprintf("CNAME chain longer than %d from %s: %s", maxCNAMEs, server, chain(name, f.cnames))
				return f
			}
		}
		f.final = strings.TrimSuffix(final, ".")
		switch {
		case m.Rcode == dns.RcodeNameError:
			f.code, f.why = NXDomain, fmt.Sprintf("%s says %s does not exist (NXDOMAIN)", server, f.final)
			return f
		case len(addrs) > 0:
			f.addrs = addrs
			return f
		case strings.EqualFold(final, qname):
			f.code = NoAnswer
			f.why = fmt.Sprintf("%s has no %s record for %s", server, dns.TypeToString[qtype], f.final)
			return f
		}
		qname = final // the answer ends at an alias: ask about its target, as a stub resolver does
	}
}

// chain renders an alias chain for Detail.
func chain(name string, cnames []string) string {
	return strings.Join(append([]string{strings.TrimSuffix(name, ".")}, cnames...), " -> ")
}

// ask puts one question to r's servers in order until one gives an authoritative answer
// (NOERROR or NXDOMAIN). A server that times out, fails or refuses is noted and the next is
// tried. The code is set when no server answered.
func ask(ctx context.Context, r Resolver, qname string, qtype uint16, notes *[]note) (*dns.Msg, string, Code) {
	timeouts := 0
	for _, s := range r.Servers {
		if ended(ctx) {
			break
		}
		m, err := query(ctx, s, r.Timeout, qname, qtype)
		switch {
		case err != nil && ended(ctx):
			// The caller's context ended, not the server's time: say nothing about the server.
		case err != nil && isTimeout(err):
			timeouts++
			*notes = append(*notes, note{s, "did not answer within " + r.Timeout.String(), qtype})
		case err != nil:
			*notes = append(*notes, note{s, describe(err), qtype})
		case m.Rcode == dns.RcodeSuccess, m.Rcode == dns.RcodeNameError:
			return m, s, ""
		default:
			rc, ok := dns.RcodeToString[m.Rcode]
			if !ok {
				rc = fmt.Sprintf("rcode %d", m.Rcode)
			}
			*notes = append(*notes, note{s, "answered " + rc, qtype})
		}
	}
	switch {
	case ended(ctx) && ClassifyIn(ctx, ctx.Err()) == Deadline:
		return nil, "", Deadline
	case ended(ctx):
		return nil, "", DNSTimeout
	case timeouts == len(r.Servers):
		return nil, "", DNSTimeout
	}
	return nil, "", ServFail
}

// ended reports whether ctx is over. A read bounded by ctx's deadline can fail a moment before
// ctx's own timer fires; once the deadline has passed, ended waits for that timer so that
// ctx.Err and context.Cause are set and the code says the run ended, not the server.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		<-ctx.Done()
		return true
	}
	return false
}

// query asks one server one question, each transport bounded by timeout: UDP first, then TCP
// on the same server when the UDP answer was truncated.
func query(ctx context.Context, server string, timeout time.Duration, qname string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	m.RecursionDesired = true
	m.SetEdns0(ednsSize, false)

	qctx, cancel := context.WithTimeout(ctx, timeout)
	resp, err := exchange(qctx, server, m, false)
	cancel()
	if err != nil || !resp.Truncated {
		return resp, err
	}
	qctx, cancel = context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err = exchange(qctx, server, m, true)
	if err != nil {
		return nil, fmt.Errorf("truncated over UDP, then TCP: %w", err)
	}
	return resp, nil
}

// exchange sends m to server over UDP or TCP and returns the answer, bounded by ctx's deadline
// and cancellation. It is the only place that talks to the network through miekg/dns, so a move
// to miekg/dns v2 stays here.
func exchange(ctx context.Context, server string, m *dns.Msg, tcp bool) (*dns.Msg, error) {
	c := dns.Client{Net: "udp", UDPSize: ednsSize}
	if tcp {
		c.Net = "tcp"
	}
	if dl, ok := ctx.Deadline(); ok {
		// Without a Timeout the client applies its own 2s defaults to dial, read and write.
		c.Timeout = time.Until(dl)
		if c.Timeout <= 0 { // ctx.Err() may still be nil: its timer has not fired yet
			return nil, context.DeadlineExceeded
		}
	}
	co, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer co.Close()
	// The client honours the context's deadline but not its cancellation: closing the
	// connection unblocks the read when the run is cancelled.
	stop := context.AfterFunc(ctx, func() { co.Close() })
	defer stop()
	resp, _, err := c.ExchangeWithConnContext(ctx, m, co)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return resp, nil
}

// answers extracts from m the addresses of type qtype for name, following the CNAME records
// inside the answer section. It returns the addresses in answer order without duplicates, the
// aliases followed (at most maxCNAMEs; the last one repeats an earlier name, or name, when the
// chain loops) and the final name, whose addresses these are. It never touches the network.
func answers(name string, qtype uint16, m *dns.Msg) (addrs []netip.Addr, cnames []string, final string) {
	final = name
	if m == nil {
		return nil, nil, final
	}
	seen := map[string]bool{strings.ToLower(name): true}
	for len(cnames) < maxCNAMEs {
		next := ""
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, final) {
				next = c.Target
				break
			}
		}
		if next == "" {
			break
		}
		cnames = append(cnames, next)
		final = next
		if seen[strings.ToLower(next)] {
			return nil, cnames, final // a loop: no address in it counts
		}
		seen[strings.ToLower(next)] = true
	}
	dup := make(map[netip.Addr]bool)
	for _, rr := range m.Answer {
		if !strings.EqualFold(rr.Header().Name, final) {
			continue
		}
		var a netip.Addr
		var ok bool
		switch v := rr.(type) {
		case *dns.A:
			if qtype == dns.TypeA {
				a, ok = netip.AddrFromSlice(v.A.To4())
			}
		case *dns.AAAA:
			if qtype == dns.TypeAAAA && len(v.AAAA) == net.IPv6len {
				a, ok = netip.AddrFromSlice(v.AAAA)
			}
		}
		if ok && a.IsValid() && !dup[a] {
			dup[a] = true
			addrs = append(addrs, a)
		}
	}
	return addrs, cnames, final
}

// isTimeout reports whether err means the server did not answer in time.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// describe says in a few words how a query to a server failed, other than by timing out.
func describe(err error) string {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "refused the query (nothing listening)"
	}
	return "failed: " + err.Error()
}

// short formats a duration for Detail at millisecond precision.
func short(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}

// SystemResolvers returns the nameservers of a resolv.conf file as "host:port" (port 53 added,
// IPv6 bracketed), in file order. Like glibc, musl and Go it reads at most three and skips
// entries that are not IP addresses. A file without nameservers gives an empty list and no
// error; DNS then reports "no DNS server configured".
func SystemResolvers(path string) ([]string, error) {
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("resolv.conf: %w", err)
	}
	var servers []string
	for _, name := range conf.Servers {
		a, err := netip.ParseAddr(name)
		if err != nil {
			continue
		}
		servers = append(servers, netip.AddrPortFrom(a, 53).String())
		if len(servers) == maxResolvConfServers {
			break
		}
	}
	return servers, nil
}
