package checks

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/testca"
)

// tlsTestHost is the SNI name the TLS tests ask for; it is never resolved.
const tlsTestHost = "api.ecr.eu-west-1.amazonaws.com"

// tlsServe starts a TLS server on loopback presenting cert, and returns its address.
func tlsServe(t *testing.T, cert tls.Certificate) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	return serveConns(t, ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.(*tls.Conn).Handshake() // a client that rejects the certificate makes this fail; fine
	})
}

// tlsSilent starts a listener on loopback that accepts and never speaks.
func tlsSilent(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	addr := serveConns(t, ln, func(net.Conn) { <-stop })
	// Registered after serveConns's cleanup, so it runs first: release the held connection,
	// then serveConns closes the listener and waits for its goroutine.
	t.Cleanup(func() { close(stop) })
	return addr
}

// serveConns serves each connection of ln with handle until the test ends, then closes it all.
func serveConns(t *testing.T, ln net.Listener, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// testCerts returns a test root, a certificate it issued for host, and a certificate for host
// from another root, as a TLS-inspecting firewall presents one.
func testCerts(t *testing.T, host string) (ca *testca.CA, good, foreign tls.Certificate) {
	t.Helper()
	ca = awstest.NewCA(t, "vpcprobe test root")
	proxy := awstest.NewCA(t, "Inspecting Firewall CA")
	return ca, issue(t, ca, host), issue(t, proxy, host)
}

// issue returns a certificate from ca for hosts.
func issue(t *testing.T, ca *testca.CA, hosts ...string) tls.Certificate {
	t.Helper()
	cert, err := ca.Issue(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestTLS(t *testing.T) {
	ca, good, foreign := testCerts(t, tlsTestHost)
	otherName := issue(t, ca, "sts.eu-west-1.amazonaws.com")

	closed := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), tcpClosedPort(t))
	tests := []struct {
		name     string
		addr     netip.AddrPort
		deadline bool // end ctx with the run's deadline cause instead of a step timeout
		status   Status
		code     Code
	}{
		{name: "trusted", addr: tlsServe(t, good), status: Pass},
		{name: "other CA", addr: tlsServe(t, foreign), status: Fail, code: TLSUntrusted},
		{name: "other name", addr: tlsServe(t, otherName), status: Fail, code: TLSHostname},
		{name: "never speaks", addr: tlsSilent(t), status: Fail, code: TLSHandshake},
		{name: "never speaks, run deadline", addr: tlsSilent(t), deadline: true, status: Fail, code: Deadline},
		{name: "refused", addr: closed, status: Fail, code: Refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := stepContext(t, tt.deadline)

			res := TLS(ctx, &net.Dialer{}, tt.addr, tlsTestHost, ca.Pool())
			t.Logf("%s %s: %s", res.Status, res.Code, res.Detail)
			if res.Name != "tls" || res.Status != tt.status || res.Code != tt.code {
				t.Fatalf("got %s %s %q (%s), want %s %q", res.Name, res.Status, res.Code, res.Detail, tt.status, tt.code)
			}
			if res.Detail == "" {
				t.Error("empty detail")
			}
		})
	}
}

func TestLoadRoots(t *testing.T) {
	ca := awstest.NewCA(t, "vpcprobe test root")
	leaf := issue(t, ca, tlsTestHost)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(bundle, ca.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	noCerts := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(noCerts, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		files   []string
		wantErr bool
		trusts  bool // whether the test CA's leaf verifies against the pool
	}{
		{name: "system only", files: nil, trusts: false},
		{name: "empty names ignored", files: []string{"", ""}, trusts: false},
		{name: "bundle", files: []string{"", bundle}, trusts: true},
		{name: "missing file", files: []string{filepath.Join(dir, "missing.pem")}, wantErr: true},
		{name: "no certificates", files: []string{bundle, noCerts}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := LoadRoots(tt.files...)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, verr := leaf.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: tlsTestHost})
			if (verr == nil) != tt.trusts {
				t.Errorf("verify: %v, want trusted=%v", verr, tt.trusts)
			}
		})
	}
}
