package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// TLS performs a handshake with addr using SNI host and verifies the chain against roots (system
// roots when nil).
//
// A connect failure keeps its connect code (timeout, refused, unreachable). A chain that does not
// verify is tls-untrusted, a certificate for other names tls-hostname, and any other handshake
// failure tls-handshake — including a peer that accepts and never speaks, which runs into ctx's
// deadline: the TCP connect worked, so that is not a connect timeout.
func TLS(ctx context.Context, d Dialer, addr netip.AddrPort, host string, roots *x509.CertPool) Result {
	return TLSVia(ctx, d, addr.String(), host, roots)
}

// TLSVia is TLS to an address given as a string: a Dialer that reaches host another way (a
// proxy's tunnel: TunnelDialer) takes addr only as the name its messages use.
func TLSVia(ctx context.Context, d Dialer, addr, host string, roots *x509.CertPool) Result {
	start := time.Now()
	res := Result{Name: "tls"}
	finish := func(code Code, detail string) Result {
		res.Status, res.Code, res.Detail, res.Duration = Fail, code, Bound(detail), time.Since(start)
		if code == "" {
			res.Status = Pass
		}
		return res
	}

	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		code := ClassifyIn(ctx, err)
		var te *tunnelError
		if errors.As(err, &te) && code != Deadline {
			return finish(code, te.detail) // the proxy's own answer, as the tcp check gave it
		}
		return finish(code, fmt.Sprintf("connect to %s: %s", addr, code))
	}
	// Closing the raw connection, not the TLS one, so that ending the check never waits on
	// writing a close_notify to a peer that does not read.
	defer raw.Close()

	conn := tls.Client(raw, &tls.Config{
		ServerName: host,
		RootCAs:    roots,
		MinVersion: tls.VersionTLS12,
	})
	if err := conn.HandshakeContext(ctx); err != nil {
		code := ClassifyIn(ctx, err)
		switch code {
		case TLSUntrusted:
			return finish(code, tlsUntrustedDetail(err))
		case TLSHostname:
			return finish(code, tlsHostnameDetail(err, host))
		case Deadline:
			return finish(code, fmt.Sprintf("handshake with %s cut short by the run deadline", addr))
		}
		// Everything else, a timeout included, is the handshake's fault: Classify would call
		// a handshake that ran into ctx's deadline a connect timeout.
		if errors.Is(err, context.DeadlineExceeded) || code == Timeout {
			return finish(TLSHandshake, fmt.Sprintf("%s accepted the connection but did not complete a TLS handshake in time", addr))
		}
		return finish(TLSHandshake, fmt.Sprintf("handshake with %s failed: %v", addr, err))
	}

	state := conn.ConnectionState()
	issuer := "an unknown issuer"
	if len(state.PeerCertificates) > 0 {
		issuer = tlsIssuer(state.PeerCertificates[0])
	}
	return finish("", fmt.Sprintf("%s, issued by %s", tls.VersionName(state.Version), issuer))
}

// tlsUntrustedDetail names who issued the leaf that did not verify and the usual cause.
func tlsUntrustedDetail(err error) string {
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		// Expired, not yet valid or misused: the chain is known but the certificate is not usable.
		return fmt.Sprintf("certificate rejected: %v", invalid)
	}
	issuer := "an unknown issuer"
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	switch {
	case errors.As(err, &verr) && len(verr.UnverifiedCertificates) > 0:
		issuer = tlsIssuerFull(verr.UnverifiedCertificates[0])
	case errors.As(err, &uerr) && uerr.Cert != nil:
		issuer = tlsIssuerFull(uerr.Cert)
	}
	return fmt.Sprintf("certificate issued by %s is not trusted: a TLS-inspecting proxy or firewall is the usual cause (add its root to AWS_CA_BUNDLE or SSL_CERT_FILE if it is yours)", issuer)
}

// tlsHostnameDetail names what the presented certificate covers instead of host.
func tlsHostnameDetail(err error, host string) string {
	var herr x509.HostnameError
	if !errors.As(err, &herr) || herr.Certificate == nil {
		return fmt.Sprintf("certificate does not cover %s", host)
	}
	c := herr.Certificate
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = []string{c.Subject.CommonName}
	}
	covers := "no name"
	if len(names) > 0 {
		covers = strings.Join(names, ", ")
	}
	return fmt.Sprintf("certificate covers %s, not %s", covers, host)
}

// tlsIssuer names a certificate's issuer by CommonName, else by organisation.
func tlsIssuer(c *x509.Certificate) string {
	switch {
	case c.Issuer.CommonName != "":
		return c.Issuer.CommonName
	case len(c.Issuer.Organization) > 0:
		return strings.Join(c.Issuer.Organization, ", ")
	}
	return "an unnamed issuer"
}

// tlsIssuerFull names a certificate's issuer by CommonName and organisation, which together
// usually identify the proxy or firewall product that re-signed the connection.
func tlsIssuerFull(c *x509.Certificate) string {
	cn := c.Issuer.CommonName
	org := strings.Join(c.Issuer.Organization, ", ")
	if cn != "" && org != "" && !strings.Contains(cn, org) {
		return cn + " (" + org + ")"
	}
	return tlsIssuer(c)
}

// LoadRoots returns the system roots plus the PEM certificates in each named file (empty names are
// ignored); it is how AWS_CA_BUNDLE and SSL_CERT_FILE are honoured.
//
// Both add to the system roots rather than replacing them: a user who adds a proxy's root still
// expects AWS's own certificates to verify.
func LoadRoots(files ...string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		// A minimal image may have no system roots; the named files may be all it needs.
		pool = x509.NewCertPool()
	}
	for _, name := range files {
		if name == "" {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("roots: %w", err) // the *PathError names the file
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("roots: %s: no PEM certificate in the file", name)
		}
	}
	return pool, nil
}
