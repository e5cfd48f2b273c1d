// Package fakedns is a small authoritative-style DNS server answering A and AAAA queries from
// a table. The probe's tests use it on loopback and vpclab runs it as a VPC's resolver.
package fakedns

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Zone is the table a Server answers from. Names are matched case-insensitively, without the
// trailing dot; a name starting with "*." matches any name below it, as a wildcard record does.
type Zone struct {
	mu     sync.RWMutex
	addrs  map[string][]netip.Addr
	cnames map[string]string
	rcodes map[string]int
	silent bool
}

// NewZone returns an empty zone: every name is NXDOMAIN.
func NewZone() *Zone {
	return &Zone{addrs: map[string][]netip.Addr{}, cnames: map[string]string{}, rcodes: map[string]int{}}
}

func key(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// Set makes name answer addrs (A and AAAA by family). No addresses means NOERROR with no data.
func (z *Zone) Set(name string, addrs ...netip.Addr) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.addrs[key(name)] = addrs
}

// Alias makes name a CNAME for target.
func (z *Zone) Alias(name, target string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.cnames[key(name)] = key(target)
}

// Fail makes name answer with rcode (dns.RcodeServerFailure, dns.RcodeRefused, …).
func (z *Zone) Fail(name string, rcode int) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.rcodes[key(name)] = rcode
}

// Silence makes the server read queries and never answer, like a resolver behind a firewall.
func (z *Zone) Silence(on bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.silent = on
}

// lookup finds the most specific entry for name in m: the name itself, else the nearest wildcard.
func lookup[V any](m map[string]V, name string) (V, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for labels := strings.Split(name, "."); len(labels) > 1; labels = labels[1:] {
		if v, ok := m["*."+strings.Join(labels[1:], ".")]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// answer builds the reply to q, following CNAMEs inside the zone (at most 8).
func (z *Zone) answer(q *dns.Msg) (*dns.Msg, bool) {
	z.mu.RLock()
	defer z.mu.RUnlock()
	if z.silent {
		return nil, false
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m, true
	}
	qt := q.Question[0].Qtype
	name := key(q.Question[0].Name)
	for hop := 0; hop < 8; hop++ {
		if rc, ok := lookup(z.rcodes, name); ok {
			m.Rcode = rc
			return m, true
		}
		if target, ok := lookup(z.cnames, name); ok {
			m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr(name, dns.TypeCNAME), Target: dns.Fqdn(target)})
			name = target
			continue
		}
		addrs, ok := lookup(z.addrs, name)
		if !ok {
			if len(m.Answer) == 0 {
				m.Rcode = dns.RcodeNameError
			}
			return m, true
		}
		for _, a := range addrs {
			switch {
			case a.Is4() && qt == dns.TypeA:
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr(name, dns.TypeA), A: a.AsSlice()})
			case a.Is6() && qt == dns.TypeAAAA:
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: a.AsSlice()})
			}
		}
		return m, true
	}
	return m, true
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: dns.Fqdn(name), Rrtype: t, Class: dns.ClassINET, Ttl: 60}
}

// ServeDNS answers one query from the zone.
func (z *Zone) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	if m, ok := z.answer(q); ok {
		w.WriteMsg(m)
	}
}

// Server serves a Zone over UDP and TCP on one address.
type Server struct {
	Addr string // host:port both transports listen on
	udp  *dns.Server
	tcp  *dns.Server
}

// Start serves z on addr ("127.0.0.1:0" picks a free port) over UDP and TCP.
func Start(addr string, z *Zone) (*Server, error) {
	pc, l, err := listen(addr)
	if err != nil {
		return nil, fmt.Errorf("fakedns: %w", err)
	}
	s := &Server{
		Addr: pc.LocalAddr().String(),
		udp:  &dns.Server{PacketConn: pc, Handler: z},
		tcp:  &dns.Server{Listener: l, Handler: z},
	}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	<-started
	<-started
	return s, nil
}

// listen opens UDP and TCP on one address. A port picked for UDP may be held by some TCP
// socket (a client's ephemeral port on loopback): with port 0 another one is tried.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	for try := 0; ; try++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		if _, port, _ := net.SplitHostPort(addr); port != "0" || try == 20 {
			return nil, nil, err
		}
	}
}

// Close stops both transports.
func (s *Server) Close() {
	s.udp.Shutdown()
	s.tcp.Shutdown()
}
