package probe

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// halfPorts is a dialer whose every other connection times out: what a stateless network ACL
// that lets return traffic back to only part of the ephemeral ports does to a client drawing
// its source ports from the whole range (lab/lambda_ports.go builds the real thing with an ACL
// and a port range).
type halfPorts struct{ n atomic.Int64 }

func (h *halfPorts) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if h.n.Add(1)%2 == 0 {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// TestLambdaPortRange: a Lambda probe (source ports 1024-65535) whose connections to one
// address answer on some attempts and time out on others fails only because of its port
// range, where a Linux task (32768-60999) would not (Amazon VPC user guide, network ACLs,
// ephemeral ports): the report says so, a warning lambda-port-range naming both ranges. A drop
// of every connection stays a failure, and a task's probe is judged as before. Issue 17, item 4.
func TestLambdaPortRange(t *testing.T) {
	tests := []struct {
		name    string
		runner  string
		dialer  checks.Dialer
		verdict checks.Status
		code    checks.Code
	}{
		{"lambda, half the ports dropped", report.RunnerLambda, &halfPorts{}, checks.Warn, LambdaPortRange},
		{"lambda, everything dropped", report.RunnerLambda, blackhole{}, checks.Fail, checks.Timeout},
		{"task, half the connections dropped", "", &halfPorts{}, checks.Fail, checks.Timeout},
		// One ENI that drops everything (its subnet's ACL on 443, its group) beside one that
		// answers: no port range, whatever the totals (cmd/vpclab's TestRunLambdaJoined world).
		{"lambda, one address dropped whole", report.RunnerLambda, blackhole{only: netip.MustParseAddr("127.0.0.3")}, checks.Warn, checks.Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			w.zone.Set("logs.eu-west-1.amazonaws.com", netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.3"))
			p := w.prober("logs", 300*time.Millisecond, 5*time.Second)
			p.Runner, p.Dialer = tt.runner, tt.dialer
			rep := checkedRun(t, p, time.Now())
			s := serviceOf(t, rep, "logs")
			if s.Verdict != tt.verdict || s.Error != tt.code {
				t.Fatalf("logs %s %s, want %s %s\n%s", s.Verdict, s.Error, tt.verdict, tt.code, rep.Text(false))
			}
			if tt.code == LambdaPortRange {
				for _, w := range []string{"1024-65535", "32768-60999", "network ACL"} {
					if !strings.Contains(s.Diagnosis+s.Remediation, w) {
						t.Errorf("%q missing: %s | %s", w, s.Diagnosis, s.Remediation)
					}
				}
				if strings.Contains(s.Diagnosis, "never has a public IP") {
					t.Errorf("blames the public IP: %s", s.Diagnosis)
				}
			}
		})
	}
}

// oneDown is a dialer to which one address never answers: an endpoint's interface in a zone
// that is down. Nothing is sent to it.
type oneDown struct{ down string }

func (o oneDown) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, _, _ := net.SplitHostPort(addr); host == o.down {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// TestBurstPerAddress: when one address always answers and another never does, the burst is not
// mixed (the path to one interface is down: the probe's ordinary verdict stands); when one
// address answers on some ports only, it is.
func TestBurstPerAddress(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	up, down := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.3")
	m := burst(context.Background(), oneDown{down: down.String()}, []netip.Addr{up, down}, port, 200*time.Millisecond)
	if m.mixed() || len(m.addrs) != 0 {
		t.Errorf("one address down: %+v, mixed %v; want not mixed", m, m.mixed())
	}
	m = burst(context.Background(), &halfPorts{}, []netip.Addr{up}, port, 200*time.Millisecond)
	if !m.mixed() || len(m.addrs) != 1 || m.addrs[0] != up {
		t.Errorf("half the ports dropped: %+v, want mixed at %s", m, up)
	}
}
