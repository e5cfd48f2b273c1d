package checks

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpTestDialer dials loopback for real, except for the addresses it is told to fake: fail
// returns an error at once, block waits until ctx ends (a black hole cannot be built on
// loopback), and hang ignores ctx and waits for the channel to close (a misbehaving Dialer).
type tcpTestDialer struct {
	fail  map[netip.Addr]error
	block map[netip.Addr]bool
	hang  chan struct{}
}

func (d tcpTestDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, err
	}
	addr := ap.Addr()
	switch {
	case d.fail[addr] != nil:
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", d.fail[addr])}
	case d.block[addr]:
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	case d.hang != nil:
		<-d.hang
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ETIMEDOUT}
	case !addr.IsLoopback():
		return nil, fmt.Errorf("test dialer: refusing to dial non-loopback %s", address)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, address)
}

// tcpListen starts a listener on 127.0.0.1 that accepts and closes, and returns its port.
func tcpListen(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveConns(t, ln, func(net.Conn) {}).Port()
}

// stepContext bounds a check by 300ms until the (sub)test ends: as its own step timeout, or with
// deadline as the run's deadline falling (ErrDeadline as the cause).
func stepContext(t *testing.T, deadline bool) context.Context {
	var ctx context.Context
	var cancel context.CancelFunc
	if deadline {
		ctx, cancel = context.WithTimeoutCause(context.Background(), 300*time.Millisecond, ErrDeadline)
	} else {
		ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	}
	t.Cleanup(cancel)
	return ctx
}

// tcpClosedPort returns a loopback port that nothing listens on.
func tcpClosedPort(t *testing.T) uint16 {
	t.Helper()
	// A socket bound to the port and never listening: connections to it are refused, and no
	// other test's server can take the port while this test runs (a port freed at once could be
	// handed to the next listener, which would answer).
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(sa.(*unix.SockaddrInet4).Port)
}

func TestTCP(t *testing.T) {
	open := tcpListen(t)
	closed := tcpClosedPort(t)
	v4a := netip.MustParseAddr("127.0.0.1")
	v4b := netip.MustParseAddr("127.0.0.2") // loopback too; the listener is bound to .1 only
	v6 := netip.MustParseAddr("2001:db8::51")
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })

	tests := []struct {
		name     string
		dialer   tcpTestDialer
		addrs    []netip.Addr
		port     uint16
		deadline bool // end ctx with the run's deadline cause instead of a step timeout
		status   Status
		code     Code
		peers    []Code
		answered []netip.Addr
	}{
		{name: "accepts", addrs: []netip.Addr{v4a}, port: open,
			status: Pass, peers: []Code{""}, answered: []netip.Addr{v4a}},
		{name: "refused", addrs: []netip.Addr{v4a}, port: closed,
			status: Fail, code: Refused, peers: []Code{Refused}},
		{name: "mixed refused", addrs: []netip.Addr{v4b, v4a}, port: open,
			status: Warn, code: Refused, peers: []Code{Refused, ""}, answered: []netip.Addr{v4a}},
		{name: "mixed silent", dialer: tcpTestDialer{block: map[netip.Addr]bool{v4b: true}},
			addrs: []netip.Addr{v4a, v4b}, port: open,
			status: Warn, code: Timeout, peers: []Code{"", Timeout}, answered: []netip.Addr{v4a}},
		{name: "all silent", dialer: tcpTestDialer{block: map[netip.Addr]bool{v4a: true, v4b: true}},
			addrs: []netip.Addr{v4a, v4b}, port: open,
			status: Fail, code: Timeout, peers: []Code{Timeout, Timeout}},
		{name: "unreachable", dialer: tcpTestDialer{fail: map[netip.Addr]error{v4a: syscall.ENETUNREACH, v4b: syscall.EHOSTUNREACH}},
			addrs: []netip.Addr{v4a, v4b}, port: open,
			status: Fail, code: Unreachable, peers: []Code{Unreachable, Unreachable}},
		{name: "different codes", dialer: tcpTestDialer{block: map[netip.Addr]bool{v4a: true}},
			addrs: []netip.Addr{v4b, v4a}, port: open,
			status: Fail, code: Refused, peers: []Code{Refused, Timeout}},
		{name: "ipv6 unreachable beside ipv4", dialer: tcpTestDialer{fail: map[netip.Addr]error{v6: syscall.ENETUNREACH}},
			addrs: []netip.Addr{v6, v4a}, port: open,
			status: Pass, peers: []Code{Unreachable, ""}, answered: []netip.Addr{v4a}},
		{name: "ipv6 silent beside ipv4", dialer: tcpTestDialer{block: map[netip.Addr]bool{v6: true}},
			addrs: []netip.Addr{v4a, v6}, port: open,
			status: Warn, code: Timeout, peers: []Code{"", Timeout}, answered: []netip.Addr{v4a}},
		{name: "ipv6 unreachable alone", dialer: tcpTestDialer{fail: map[netip.Addr]error{v6: syscall.ENETUNREACH}},
			addrs: []netip.Addr{v6}, port: open,
			status: Fail, code: Unreachable, peers: []Code{Unreachable}},
		{name: "ipv6 unreachable, ipv4 refused", dialer: tcpTestDialer{fail: map[netip.Addr]error{v6: syscall.ENETUNREACH}},
			addrs: []netip.Addr{v4b, v6}, port: open,
			status: Fail, code: Refused, peers: []Code{Refused, Unreachable}},
		{name: "run deadline", dialer: tcpTestDialer{block: map[netip.Addr]bool{v4a: true}},
			addrs: []netip.Addr{v4a}, port: open, deadline: true,
			status: Fail, code: Deadline, peers: []Code{Deadline}},
		{name: "dialer ignores ctx", dialer: tcpTestDialer{hang: hang},
			addrs: []netip.Addr{netip.MustParseAddr("10.0.1.51")}, port: 443,
			status: Fail, code: Timeout, peers: []Code{Timeout}},
		{name: "no address", status: Skip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := stepContext(t, tt.deadline)

			start := time.Now()
			res := TCP(ctx, tt.dialer, tt.addrs, tt.port)
			t.Logf("%s %s: %s", res.Status, res.Code, res.Detail)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v, want about the 300ms timeout at most", took)
			}
			if res.Name != "tcp" || res.Status != tt.status || res.Code != tt.code {
				t.Fatalf("got %s %s %q (%s), want %s %q", res.Name, res.Status, res.Code, res.Detail, tt.status, tt.code)
			}
			if res.Detail == "" {
				t.Error("empty detail")
			}
			var peers []Code
			for i, p := range res.Peers {
				if p.Addr != tt.addrs[i] {
					t.Errorf("peer %d is %s, want %s (input order)", i, p.Addr, tt.addrs[i])
				}
				peers = append(peers, p.Code)
			}
			if !slices.Equal(peers, tt.peers) {
				t.Errorf("peer codes %q, want %q", peers, tt.peers)
			}
			if !slices.Equal(res.Addrs, tt.answered) {
				t.Errorf("answered %v, want %v", res.Addrs, tt.answered)
			}
		})
	}
}
