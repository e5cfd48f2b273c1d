package netns

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// pair creates two fresh namespaces joined by a veth pair with 10.99.0.1/24 and 10.99.0.2/24,
// and deletes them when the test ends, whatever happened.
func pair(t *testing.T) (string, string) {
	t.Helper()
	if err := Check(); err != nil {
		t.Fatalf("netns tests need root: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := fmt.Sprintf("nstest-%d-a", os.Getpid())
	b := fmt.Sprintf("nstest-%d-b", os.Getpid())
	for _, n := range []string{a, b} {
		Delete(n) // a leftover from a crashed run with the same pid
		if err := Create(ctx, n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := Delete(n); err != nil {
				t.Errorf("delete %s: %v", n, err)
			}
		})
	}
	if err := Veth(ctx, a, "eth0", b, "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := IP(ctx, a, "addr", "add", "10.99.0.1/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := IP(ctx, b, "addr", "add", "10.99.0.2/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestListenDialAcrossNamespaces(t *testing.T) {
	a, b := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	l, err := Listen(a, "tcp4", "10.99.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "hello from a\n")
	}()

	c, err := Dial(ctx, b, "tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "hello from a\n" {
		t.Fatalf("read %q, %v", line, err)
	}

	// The listener's address exists only inside a: the root namespace has no such address, so
	// a listen there must fail, and this test's thread must still be in the root namespace.
	if l2, err := net.Listen("tcp4", "10.99.0.1:0"); err == nil {
		l2.Close()
		t.Fatal("10.99.0.1 is bindable in the root namespace: Do leaked the namespace")
	}
}

func TestListenPacket(t *testing.T) {
	a, b := pair(t)

	pc, err := ListenPacket(a, "udp4", "10.99.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port

	// Go code running inside b sends one datagram to a, through the veth pair.
	if err := Do(b, func() error {
		c, err := net.Dial("udp4", fmt.Sprintf("10.99.0.1:%d", port))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("ping"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, from, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read %q from %v: %v", buf[:n], from, err)
	}
	if got := from.(*net.UDPAddr).IP.String(); got != "10.99.0.2" {
		t.Fatalf("datagram from %s, want 10.99.0.2", got)
	}
}

func TestWriteConfSeenByCommand(t *testing.T) {
	a, _ := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WriteConf(a, "resolv.conf", []byte("nameserver 10.99.0.53\n")); err != nil {
		t.Fatal(err)
	}
	out, err := Run(ctx, a, "cat", "/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "10.99.0.53") {
		t.Fatalf("resolv.conf inside %s is %q", a, out)
	}
	out, err = Run(ctx, a, "ip", "-o", "addr", "show", "dev", "eth0")
	if err != nil || !strings.Contains(string(out), "10.99.0.1/24") {
		t.Fatalf("ip addr in %s: %q, %v", a, out, err)
	}
}

func TestListAndDelete(t *testing.T) {
	a, b := pair(t)
	prefix := strings.TrimSuffix(a, "a")
	names, err := List(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != a || names[1] != b {
		t.Fatalf("List(%q) = %v, want [%s %s]", prefix, names, a, b)
	}
	if err := Delete(a); err != nil {
		t.Fatal(err)
	}
	if err := Delete(a); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if names, _ := List(prefix); len(names) != 1 {
		t.Fatalf("after delete List = %v", names)
	}
	// Deleting a removes its end of the veth pair and with it b's end. The kernel tears a
	// namespace down asynchronously, so give it a moment.
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		out, err := Run(context.Background(), b, "ip", "-o", "link", "show")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "eth0") {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("links left in %s: %q", b, out)
		}
	}
}

func TestDoUnknownNamespace(t *testing.T) {
	if err := Do("nstest-does-not-exist", func() error { return nil }); err == nil {
		t.Fatal("Do in a missing namespace succeeded")
	}
	if err := validName("../x"); err == nil {
		t.Fatal("validName accepted a path")
	}
}

func TestBatchAndSysctl(t *testing.T) {
	a, _ := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := IPBatch(ctx, a, "addr add 10.99.1.1/32 dev lo", "route add 10.98.0.0/16 via 10.99.0.2"); err != nil {
		t.Fatal(err)
	}
	out, err := Run(ctx, a, "ip", "-o", "route", "show")
	if err != nil || !strings.Contains(string(out), "10.98.0.0/16 via 10.99.0.2") {
		t.Fatalf("routes in %s: %q, %v", a, out, err)
	}
	if err := IPBatch(ctx, a, "route add garbage"); err == nil {
		t.Fatal("a bad batch line succeeded")
	}

	before, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteSysctl(a, "net/ipv4/ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	out, err = Run(ctx, a, "cat", "/proc/sys/net/ipv4/ip_forward")
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("ip_forward in %s: %q, %v", a, out, err)
	}
	// The root namespace's value is untouched: the write happened inside a only.
	after, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil || string(after) != string(before) {
		t.Fatalf("root ip_forward changed from %q to %q (%v)", before, after, err)
	}
}

// TestDeleteConcurrently: two processes removing leftovers may delete the same namespace at
// once; neither may report the other's success as its own failure.
func TestDeleteConcurrently(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatalf("netns tests need root: %v", err)
	}
	for round := range 10 {
		n := fmt.Sprintf("nstest-%d-race", os.Getpid())
		if err := Create(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- Delete(n) }()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: concurrent delete: %v", round, err)
			}
		}
	}
}
