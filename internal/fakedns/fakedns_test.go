package fakedns

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestZone(t *testing.T) {
	z := NewZone()
	z.Set("a.example.com", netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1"))
	z.Set("*.dkr.example.com", netip.MustParseAddr("10.0.0.2"))
	z.Alias("c.example.com", "a.example.com")
	z.Fail("bad.example.com", dns.RcodeServerFailure)
	s, err := Start("127.0.0.1:0", z)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	tests := []struct {
		name  string
		qtype uint16
		rcode int
		n     int
	}{
		{"a.example.com.", dns.TypeA, dns.RcodeSuccess, 1},
		{"A.EXAMPLE.COM.", dns.TypeAAAA, dns.RcodeSuccess, 1},
		{"123.dkr.example.com.", dns.TypeA, dns.RcodeSuccess, 1},
		{"c.example.com.", dns.TypeA, dns.RcodeSuccess, 2},
		{"bad.example.com.", dns.TypeA, dns.RcodeServerFailure, 0},
		{"none.example.com.", dns.TypeA, dns.RcodeNameError, 0},
	}
	for _, tt := range tests {
		for _, proto := range []string{"udp", "tcp"} {
			c := &dns.Client{Net: proto, Timeout: time.Second}
			q := new(dns.Msg)
			q.SetQuestion(tt.name, tt.qtype)
			m, _, err := c.Exchange(q, s.Addr)
			if err != nil {
				t.Fatalf("%s %s: %v", proto, tt.name, err)
			}
			if m.Rcode != tt.rcode || len(m.Answer) != tt.n {
				t.Errorf("%s %s: rcode %d answers %d, want %d %d", proto, tt.name, m.Rcode, len(m.Answer), tt.rcode, tt.n)
			}
		}
	}

	z.Silence(true)
	c := &dns.Client{Timeout: 100 * time.Millisecond}
	q := new(dns.Msg)
	q.SetQuestion("a.example.com.", dns.TypeA)
	if _, _, err := c.Exchange(q, s.Addr); err == nil {
		t.Error("a silent server answered")
	}
}
