package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
)

// pinDialer makes every HTTP connection of a run — the unsigned checks and the SDK's calls —
// go to the addresses vpcprobe's own DNS check found, so that each verdict is about the path
// the checks measured and not about whatever the Go resolver would pick.
type pinDialer struct {
	dialer   checks.Dialer
	resolver checks.Resolver
	port     uint16 // the port dials to 443 go to: 443, or a test server's port

	mu   sync.Mutex
	pins map[string][]netip.Addr
}

// pin records addrs as the addresses of host.
func (d *pinDialer) pin(host string, addrs []netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pins == nil {
		d.pins = map[string][]netip.Addr{}
	}
	d.pins[host] = addrs
}

func (d *pinDialer) lookup(ctx context.Context, host string) []netip.Addr {
	d.mu.Lock()
	addrs, ok := d.pins[host]
	d.mu.Unlock()
	if ok {
		return addrs
	}
	if r := checks.DNS(ctx, d.resolver, host); r.Status == checks.Pass {
		d.pin(host, r.Addrs)
		return r.Addrs
	}
	return nil
}

// DialContext dials the pinned addresses of addr's host in turn, mapping port 443 to d.port.
// A host vpcprobe's resolver cannot resolve (a proxy named "localhost", say) is dialled as given.
func (d *pinDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	port, _ := strconv.Atoi(portStr)
	if port == 443 && d.port != 0 {
		port = int(d.port)
	}
	addrs := d.lookup(ctx, host)
	if len(addrs) == 0 {
		return d.dialer.DialContext(ctx, network, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	var errs []error
	for _, a := range addrs {
		c, err := d.dialer.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// ProxyFunc chooses the proxy of a request, as http.Transport.Proxy does; nil means none.
type ProxyFunc func(*http.Request) (*url.URL, error)

// newTransport returns the HTTP transport of a run: pinned dials, the run's roots, its proxy,
// and timeouts a little shorter than one step.
func newTransport(d *pinDialer, roots *x509.CertPool, proxy ProxyFunc, timeout time.Duration) *http.Transport {
	step := timeout - transportSlack(timeout)
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   step,
		ResponseHeaderTimeout: step,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// noRedirects is a CheckRedirect that returns a redirect as the response: a check judges
// the answer it got, never where it points.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
