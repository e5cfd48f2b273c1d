package testca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
	"time"
)

func TestCAIssueVerify(t *testing.T) {
	ca, err := New("vpcprobe test root")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("*.dkr.ecr.eu-west-1.amazonaws.com", "api.ecr.eu-west-1.amazonaws.com", "127.0.0.1", "::1")
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.Certificate) != 2 || cert.Leaf == nil {
		t.Fatalf("chain has %d certificates, leaf set %v; want leaf and root", len(cert.Certificate), cert.Leaf != nil)
	}
	now := time.Now()
	if !cert.Leaf.NotBefore.Before(now) || !cert.Leaf.NotAfter.After(now.Add(20*time.Hour)) {
		t.Errorf("leaf valid %v to %v, want an hour ago to about 23 hours ahead", cert.Leaf.NotBefore, cert.Leaf.NotAfter)
	}

	block, _ := pem.Decode(ca.CertPEM())
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatal("CertPEM is not a PEM certificate")
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if root.Subject.CommonName != "vpcprobe test root" || !root.IsCA {
		t.Errorf("root %q IsCA=%v, want the named CA", root.Subject.CommonName, root.IsCA)
	}

	other, err := New("other root")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Issue("api.ecr.eu-west-1.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		leaf  *x509.Certificate
		roots *x509.CertPool
		host  string // DNS name or IP literal the leaf must cover
		ok    bool
	}{
		{"wildcard", cert.Leaf, ca.Pool(), "123456789012.dkr.ecr.eu-west-1.amazonaws.com", true},
		{"plain name", cert.Leaf, ca.Pool(), "api.ecr.eu-west-1.amazonaws.com", true},
		{"ipv4", cert.Leaf, ca.Pool(), "127.0.0.1", true},
		{"ipv6", cert.Leaf, ca.Pool(), "::1", true},
		{"other name", cert.Leaf, ca.Pool(), "sts.eu-west-1.amazonaws.com", false},
		{"wildcard covers one label", cert.Leaf, ca.Pool(), "a.b.dkr.ecr.eu-west-1.amazonaws.com", false},
		{"other ip", cert.Leaf, ca.Pool(), "127.0.0.2", false},
		{"empty pool", cert.Leaf, x509.NewCertPool(), "api.ecr.eu-west-1.amazonaws.com", false},
		{"another CA", foreign.Leaf, ca.Pool(), "api.ecr.eu-west-1.amazonaws.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.leaf.Verify(x509.VerifyOptions{Roots: tt.roots, DNSName: tt.host})
			if (err == nil) != tt.ok {
				t.Errorf("verify %s: %v, want ok=%v", tt.host, err, tt.ok)
			}
		})
	}

	if _, err := ca.Issue(); err == nil {
		t.Error("Issue without hosts succeeded")
	}
}

// TestCAHandshake proves an issued certificate serves a real TLS handshake on loopback.
func TestCAHandshake(t *testing.T) {
	ca, err := New("vpcprobe test root")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("*.dkr.ecr.eu-west-1.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.(*tls.Conn).Handshake()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn := tls.Client(raw, &tls.Config{ServerName: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", RootCAs: ca.Pool()})
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Fatalf("handshake: %v", err)
	}
}
