package checks

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// reply is what a test zone answers for one question. An empty rcode means NOERROR.
type reply struct {
	rcode  int
	answer []string // records in zone-file syntax
	silent bool     // write nothing: the query times out
	tc     bool     // set the truncated bit and drop the answer
}

// zone answers from a table keyed "name TYPE" (e.g. "a.test. A"), falling back to "name" for
// any type; a question found nowhere gets NOERROR with no records.
func zone(t *testing.T, table map[string]reply) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		rep, ok := table[name+" "+dns.TypeToString[q.Qtype]]
		if !ok {
			rep = table[name]
		}
		if rep.silent {
			return
		}
		m := new(dns.Msg)
		m.SetRcode(req, rep.rcode)
		m.RecursionAvailable = true
		if rep.tc {
			m.Truncated = true
		} else {
			for _, s := range rep.answer {
				rr, err := dns.NewRR(s)
				if err != nil {
					t.Errorf("bad test record %q: %v", s, err)
					return
				}
				m.Answer = append(m.Answer, rr)
			}
		}
		if err := w.WriteMsg(m); err != nil {
			t.Errorf("write answer: %v", err)
		}
	}
}

// serve starts miekg/dns servers on one loopback port, udp answering over UDP and tcp over TCP
// (udp again when tcp is nil), and returns "127.0.0.1:port". Both stop at cleanup.
func serve(t *testing.T, udp, tcp dns.Handler) string {
	t.Helper()
	if tcp == nil {
		tcp = udp
	}
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen udp: %v", err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if try == 10 {
			t.Fatalf("listen tcp on the udp port: %v", err)
		}
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: udp}, {Listener: ln, Handler: tcp}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() {
			srv.Shutdown()
			<-done
		})
	}
	return pc.LocalAddr().String()
}

// silent returns the address of a UDP socket that reads queries and never answers.
func silent(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return // closed at cleanup
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return pc.LocalAddr().String()
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

const testTimeout = 200 * time.Millisecond

func TestDNS(t *testing.T) {
	good := map[string]reply{
		"svc.test. A":    {answer: []string{"svc.test. 60 IN A 10.0.1.5"}},
		"svc.test. AAAA": {},
	}
	type want struct {
		status   Status
		code     Code
		addrs    []netip.Addr
		cnames   []string
		resolver int // index into the servers started for the case; -1 for none
	}
	tests := []struct {
		name    string
		host    string
		servers func(t *testing.T) []string
		want    want
	}{
		{
			name: "nxdomain",
			host: "nope.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{"nope.test.": {rcode: dns.RcodeNameError}}), nil)}
			},
			want: want{status: Fail, code: NXDomain, resolver: 0},
		},
		{
			name: "nxdomain is authoritative: the next server is not asked",
			host: "nope.test",
			servers: func(t *testing.T) []string {
				return []string{
					serve(t, zone(t, map[string]reply{"nope.test.": {rcode: dns.RcodeNameError}}), nil),
					serve(t, zone(t, good), nil),
				}
			},
			want: want{status: Fail, code: NXDomain, resolver: 0},
		},
		{
			name: "servfail from the only server",
			host: "svc.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{"svc.test.": {rcode: dns.RcodeServerFailure}}), nil)}
			},
			want: want{status: Fail, code: ServFail, resolver: -1},
		},
		{
			name: "servfail then refused",
			host: "svc.test",
			servers: func(t *testing.T) []string {
				return []string{
					serve(t, zone(t, map[string]reply{"svc.test.": {rcode: dns.RcodeServerFailure}}), nil),
					serve(t, zone(t, map[string]reply{"svc.test.": {rcode: dns.RcodeRefused}}), nil),
				}
			},
			want: want{status: Fail, code: ServFail, resolver: -1},
		},
		{
			name: "servfail then a good server",
			host: "svc.test",
			servers: func(t *testing.T) []string {
				return []string{
					serve(t, zone(t, map[string]reply{"svc.test.": {rcode: dns.RcodeServerFailure}}), nil),
					serve(t, zone(t, good), nil),
				}
			},
			want: want{status: Pass, addrs: addrs("10.0.1.5"), resolver: 1},
		},
		{
			name: "refused then a good server",
			host: "svc.test",
			servers: func(t *testing.T) []string {
				return []string{
					serve(t, zone(t, map[string]reply{"svc.test.": {rcode: dns.RcodeRefused}}), nil),
					serve(t, zone(t, good), nil),
				}
			},
			want: want{status: Pass, addrs: addrs("10.0.1.5"), resolver: 1},
		},
		{
			name:    "silent server",
			host:    "svc.test",
			servers: func(t *testing.T) []string { return []string{silent(t)} },
			want:    want{status: Fail, code: DNSTimeout, resolver: -1},
		},
		{
			name:    "silent server then a good server",
			host:    "svc.test",
			servers: func(t *testing.T) []string { return []string{silent(t), serve(t, zone(t, good), nil)} },
			want:    want{status: Pass, addrs: addrs("10.0.1.5"), resolver: 1},
		},
		{
			name: "silent then servfail",
			host: "svc.test",
			servers: func(t *testing.T) []string {
				return []string{silent(t), serve(t, zone(t, map[string]reply{"svc.test.": {rcode: dns.RcodeServerFailure}}), nil)}
			},
			want: want{status: Fail, code: ServFail, resolver: -1},
		},
		{
			name: "truncated over UDP, answered over TCP",
			host: "big.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t,
					zone(t, map[string]reply{"big.test.": {tc: true}}),
					zone(t, map[string]reply{
						"big.test. A":    {answer: []string{"big.test. 60 IN A 10.0.1.7", "big.test. 60 IN A 10.0.2.7"}},
						"big.test. AAAA": {},
					}))}
			},
			want: want{status: Pass, addrs: addrs("10.0.1.7", "10.0.2.7"), resolver: 0},
		},
		{
			name: "CNAME chain inside one answer",
			host: "api.ecr.test",
			servers: func(t *testing.T) []string {
				chain := []string{
					"api.ecr.test. 60 IN CNAME one.test.",
					"one.test. 60 IN CNAME Two.test.",
				}
				return []string{serve(t, zone(t, map[string]reply{
					"api.ecr.test. A":    {answer: append(slices.Clone(chain), "two.test. 60 IN A 10.0.1.9")},
					"api.ecr.test. AAAA": {answer: chain},
				}), nil)}
			},
			want: want{status: Pass, addrs: addrs("10.0.1.9"), cnames: []string{"one.test", "Two.test"}, resolver: 0},
		},
		{
			name: "CNAME needing a follow-up query",
			host: "svc.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{
					"svc.test.":         {answer: []string{"svc.test. 60 IN CNAME vpce.test."}},
					"vpce.test. A":      {answer: []string{"vpce.test. 60 IN A 10.0.3.3"}},
					"vpce.test. AAAA":   {answer: []string{"vpce.test. 60 IN AAAA fd00:ec2::3"}},
					"unrelated.test. A": {answer: []string{"unrelated.test. 60 IN A 10.9.9.9"}},
				}), nil)}
			},
			want: want{status: Pass, addrs: addrs("10.0.3.3", "fd00:ec2::3"), cnames: []string{"vpce.test"}, resolver: 0},
		},
		{
			name: "CNAME to a name that does not exist",
			host: "svc.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{
					"svc.test.":  {answer: []string{"svc.test. 60 IN CNAME gone.test."}},
					"gone.test.": {rcode: dns.RcodeNameError},
				}), nil)}
			},
			want: want{status: Fail, code: NXDomain, cnames: []string{"gone.test"}, resolver: 0},
		},
		{
			name: "CNAME loop inside one answer",
			host: "loop.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{
					"loop.test.": {answer: []string{"loop.test. 60 IN CNAME b.test.", "b.test. 60 IN CNAME loop.test."}},
				}), nil)}
			},
			want: want{status: Fail, code: ServFail, cnames: []string{"b.test", "loop.test"}, resolver: 0},
		},
		{
			name: "CNAME loop across queries",
			host: "loop.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{
					"loop.test.": {answer: []string{"loop.test. 60 IN CNAME b.test."}},
					"b.test.":    {answer: []string{"b.test. 60 IN CNAME c.test."}},
					"c.test.":    {answer: []string{"c.test. 60 IN CNAME b.test."}},
				}), nil)}
			},
			want: want{status: Fail, code: ServFail, cnames: []string{"b.test", "c.test", "b.test"}, resolver: 0},
		},
		{
			name: "CNAME chain too long",
			host: "n0.test",
			servers: func(t *testing.T) []string {
				table := map[string]reply{}
				for i := range 12 {
					n := "n" + string(rune('a'+i))
					if i == 0 {
						n = "n0"
					}
					next := "n" + string(rune('a'+i+1))
					if i == 0 {
						next = "nb"
					}
					table[n+".test."] = reply{answer: []string{n + ".test. 60 IN CNAME " + next + ".test."}}
				}
				return []string{serve(t, zone(t, table), nil)}
			},
			want: want{status: Fail, code: ServFail, cnames: []string{"nb.test", "nc.test", "nd.test", "ne.test", "nf.test", "ng.test", "nh.test", "ni.test", "nj.test"}, resolver: 0},
		},
		{
			name: "NOERROR without data",
			host: "empty.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{}), nil)}
			},
			want: want{status: Fail, code: NoAnswer, resolver: 0},
		},
		{
			name:    "A only, AAAA empty",
			host:    "svc.test",
			servers: func(t *testing.T) []string { return []string{serve(t, zone(t, good), nil)} },
			want:    want{status: Pass, addrs: addrs("10.0.1.5"), resolver: 0},
		},
		{
			name: "A answered, AAAA timed out",
			host: "svc.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{
					"svc.test. A":    good["svc.test. A"],
					"svc.test. AAAA": {silent: true},
				}), nil)}
			},
			want: want{status: Pass, addrs: addrs("10.0.1.5"), resolver: 0},
		},
		{
			name: "AAAA only",
			host: "six.test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{
					"six.test. AAAA": {answer: []string{"six.test. 60 IN AAAA 2001:db8::6"}},
				}), nil)}
			},
			want: want{status: Pass, addrs: addrs("2001:db8::6"), resolver: 0},
		},
		{
			name: "private and public addresses, duplicates dropped, A before AAAA",
			host: "Mixed.Test",
			servers: func(t *testing.T) []string {
				return []string{serve(t, zone(t, map[string]reply{
					"mixed.test. A": {answer: []string{
						"mixed.test. 60 IN A 198.51.100.20",
						"mixed.test. 60 IN A 10.0.1.20",
						"mixed.test. 60 IN A 198.51.100.20",
						"other.test. 60 IN A 10.9.9.9",
					}},
					"mixed.test. AAAA": {answer: []string{"mixed.test. 60 IN AAAA 2001:db8::20"}},
				}), nil)}
			},
			want: want{status: Pass, addrs: addrs("198.51.100.20", "10.0.1.20", "2001:db8::20"), resolver: 0},
		},
		{
			name:    "IPv4 literal",
			host:    "127.0.0.1",
			servers: func(t *testing.T) []string { return nil },
			want:    want{status: Pass, addrs: addrs("127.0.0.1"), resolver: -1},
		},
		{
			name:    "IPv6 literal",
			host:    "::1",
			servers: func(t *testing.T) []string { return []string{silent(t)} },
			want:    want{status: Pass, addrs: addrs("::1"), resolver: -1},
		},
		{
			name:    "no server configured",
			host:    "svc.test",
			servers: func(t *testing.T) []string { return nil },
			want:    want{status: Fail, code: ServFail, resolver: -1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			servers := tc.servers(t)
			got := DNS(context.Background(), Resolver{Servers: servers, Timeout: testTimeout}, tc.host)
			t.Logf("detail: %s", got.Detail)
			if got.Name != "dns" || got.Status != tc.want.status || got.Code != tc.want.code {
				t.Fatalf("got %s/%s/%q, want %s/%s (detail %q)", got.Name, got.Status, got.Code, tc.want.status, tc.want.code, got.Detail)
			}
			if !slices.Equal(got.Addrs, tc.want.addrs) {
				t.Errorf("addrs %v, want %v", got.Addrs, tc.want.addrs)
			}
			if !slices.Equal(got.CNAMEs, tc.want.cnames) {
				t.Errorf("cnames %q, want %q", got.CNAMEs, tc.want.cnames)
			}
			wantResolver := ""
			if tc.want.resolver >= 0 {
				wantResolver = servers[tc.want.resolver]
			}
			if got.Resolver != wantResolver {
				t.Errorf("resolver %q, want %q", got.Resolver, wantResolver)
			}
			if got.Detail == "" || len(got.Detail) > maxDetail {
				t.Errorf("detail %q: want a short line", got.Detail)
			}
			if got.Duration <= 0 {
				t.Errorf("duration %v, want > 0", got.Duration)
			}
		})
	}
}

// TestDNSDeadline proves that a query cut short by the run's deadline says deadline, not
// dns-timeout, and that it stops when the run does rather than when the query's timeout falls.
func TestDNSDeadline(t *testing.T) {
	tests := []struct {
		name string
		want Code
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"deadline with cause", Deadline, func() (context.Context, context.CancelFunc) {
			return context.WithDeadlineCause(context.Background(), time.Now().Add(100*time.Millisecond), ErrDeadline)
		}},
		{"cancelled with cause", Deadline, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(100*time.Millisecond, func() { cancel(ErrDeadline) })
			return ctx, func() { cancel(nil) }
		}},
		{"already over", Deadline, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(ErrDeadline)
			return ctx, func() {}
		}},
		// Not the run's deadline (e.g. a caller's own bound): nobody answered in time.
		{"deadline without cause", DNSTimeout, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := tc.ctx()
			defer cancel()
			r := Resolver{Servers: []string{silent(t), silent(t)}, Timeout: 10 * time.Second}
			start := time.Now()
			got := DNS(ctx, r, "svc.test")
			if got.Status != Fail || got.Code != tc.want {
				t.Fatalf("got %s/%q, want fail/%s (detail %q)", got.Status, got.Code, tc.want, got.Detail)
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %v after the run deadline", el)
			}
		})
	}
}

// TestDNSTimeoutAbandonsSilentServer proves that one query waits r.Timeout, not more, on a server
// that never answers: A and AAAA wait in parallel, so the whole check takes about one timeout.
func TestDNSTimeoutAbandonsSilentServer(t *testing.T) {
	r := Resolver{Servers: []string{silent(t)}, Timeout: testTimeout}
	start := time.Now()
	got := DNS(context.Background(), r, "svc.test")
	el := time.Since(start)
	if got.Code != DNSTimeout {
		t.Fatalf("code %q, want dns-timeout (detail %q)", got.Code, got.Detail)
	}
	if el < testTimeout || el > 3*testTimeout {
		t.Errorf("took %v, want about %v", el, testTimeout)
	}
	if !strings.Contains(got.Detail, r.Servers[0]) {
		t.Errorf("detail %q does not name the silent server", got.Detail)
	}
}

func TestSystemResolvers(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"IPv4", "nameserver 10.0.0.2\n", []string{"10.0.0.2:53"}},
		{"IPv6 bracketed", "nameserver fd00:ec2::253\nnameserver fe80::1%eth0\n", []string{"[fd00:ec2::253]:53", "[fe80::1%eth0]:53"}},
		{"comments, options and search lines", "# written by DHCP\n; old style\nsearch eu-west-1.compute.internal\noptions timeout:2 attempts:5 ndots:1\n  nameserver\t10.0.0.2  # VPC resolver\n#nameserver 10.9.9.9\nnameserver 169.254.169.253\n",
			[]string{"10.0.0.2:53", "169.254.169.253:53"}},
		{"not an address skipped", "nameserver dns.example\nnameserver 10.0.0.2\n", []string{"10.0.0.2:53"}},
		{"at most three", "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n", []string{"10.0.0.1:53", "10.0.0.2:53", "10.0.0.3:53"}},
		{"empty", "options edns0\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resolv.conf")
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := SystemResolvers(path)
			if err != nil {
				t.Fatalf("SystemResolvers: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := SystemResolvers(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err %v, want not-exist", err)
		}
	})
}

// answerSeeds are realistic answers for the fuzz corpus: the question is the first record's
// owner, asked for A.
var answerSeeds = [][]string{
	{"svc.test. 60 IN A 10.0.1.5", "svc.test. 60 IN A 198.51.100.5"},
	{"svc.test. 60 IN AAAA 2001:db8::5"},
	{"api.ecr.test. 60 IN CNAME one.test.", "one.test. 60 IN CNAME two.test.", "two.test. 60 IN A 10.0.1.9", "two.test. 60 IN AAAA fd00::9"},
	{"svc.test. 60 IN CNAME vpce.test."},
	{"loop.test. 60 IN CNAME b.test.", "b.test. 60 IN CNAME loop.test.", "loop.test. 60 IN A 10.0.0.1"},
	{"self.test. 60 IN CNAME self.test."},
	{"a.test. 60 IN CNAME b.test.", "b.test. 60 IN CNAME c.test.", "c.test. 60 IN CNAME d.test.", "d.test. 60 IN CNAME e.test.",
		"e.test. 60 IN CNAME f.test.", "f.test. 60 IN CNAME g.test.", "g.test. 60 IN CNAME h.test.", "h.test. 60 IN CNAME i.test.",
		"i.test. 60 IN CNAME j.test.", "j.test. 60 IN A 10.0.0.10"},
}

func FuzzAnswers(f *testing.F) {
	for _, seed := range answerSeeds {
		m := new(dns.Msg)
		for _, s := range seed {
			rr, err := dns.NewRR(s)
			if err != nil {
				f.Fatalf("seed %q: %v", s, err)
			}
			m.Answer = append(m.Answer, rr)
		}
		m.SetQuestion(m.Answer[0].Header().Name, dns.TypeA)
		m.Response = true
		b, err := m.Pack()
		if err != nil {
			f.Fatalf("pack seed: %v", err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return
		}
		name := "svc.test."
		if len(m.Question) > 0 {
			name = m.Question[0].Name
		}
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			addrs, cnames, final := answers(name, qtype, m)
			if len(cnames) > maxCNAMEs {
				t.Fatalf("%d cnames, want at most %d", len(cnames), maxCNAMEs)
			}
			if len(cnames) > 0 && final != cnames[len(cnames)-1] || len(cnames) == 0 && final != name {
				t.Fatalf("final %q does not end chain %q from %q", final, cnames, name)
			}
			seen := make(map[netip.Addr]bool)
			for _, a := range addrs {
				if !a.IsValid() || (qtype == dns.TypeA) != a.Is4() || seen[a] {
					t.Fatalf("bad or repeated address %v for %s", a, dns.TypeToString[qtype])
				}
				seen[a] = true
			}
		}
	})
}
