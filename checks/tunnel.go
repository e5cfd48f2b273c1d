package checks

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Tunnel is the tcp check of a host reached through an HTTPS proxy (HTTPS_PROXY): it connects to
// the proxy and asks it, with CONNECT, for a tunnel to target (host:port), as an HTTP client
// configured with that proxy does. It passes when the proxy answers 200. A proxy out of reach
// keeps its connect code (timeout, refused, unreachable); a proxy that answers anything but 200
// is refused (auth-failed for 407), with its status in Detail. The proxy's credentials are never in Detail.
func Tunnel(ctx context.Context, d Dialer, proxy *url.URL, target string) Result {
	start := time.Now()
	conn, res := openTunnel(ctx, d, proxy, target)
	if conn != nil {
		conn.Close()
	}
	res.Duration = time.Since(start)
	return res
}

// TunnelDialer dials Target through Proxy whatever address it is asked for: the TLS check of a
// proxied host runs over the tunnel its HTTP client would use.
type TunnelDialer struct {
	Dialer Dialer
	Proxy  *url.URL
	Target string // host:port asked of the proxy
}

// DialContext opens a tunnel to d.Target; address only names the connection in messages.
func (d TunnelDialer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	conn, res := openTunnel(ctx, d.Dialer, d.Proxy, d.Target)
	if res.Status != Pass {
		return nil, &tunnelError{code: res.Code, detail: res.Detail}
	}
	return conn, nil
}

// tunnelError is a tunnel that could not be opened, its reason code already decided.
type tunnelError struct {
	code   Code
	detail string
}

func (e *tunnelError) Error() string { return e.detail }

// ProxyName is a proxy's URL without its credentials, as reports show it.
func ProxyName(u *url.URL) string {
	c := *u
	c.User = nil
	c.Path, c.RawQuery, c.Fragment = "", "", ""
	return c.String()
}

// openTunnel connects to the proxy and asks for target; the connection is open when the result
// passes.
func openTunnel(ctx context.Context, d Dialer, proxy *url.URL, target string) (net.Conn, Result) {
	res := Result{Name: "tcp"}
	name := ProxyName(proxy)
	fail := func(code Code, detail string) (net.Conn, Result) {
		res.Status, res.Code, res.Detail = Fail, code, Bound(detail)
		return nil, res
	}
	port := proxy.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[proxy.Scheme]
		if port == "" {
			port = "80"
		}
	}
	if proxy.Scheme != "http" && proxy.Scheme != "https" {
		return fail(HTTPError, fmt.Sprintf("proxy %s: scheme %s is not an HTTP proxy", name, proxy.Scheme))
	}
	raw, err := d.DialContext(ctx, "tcp", net.JoinHostPort(proxy.Hostname(), port))
	if err != nil {
		code := ClassifyIn(ctx, err)
		return fail(code, fmt.Sprintf("connect to the proxy %s: %s", name, code))
	}
	conn := raw
	if proxy.Scheme == "https" {
		tc := tls.Client(raw, &tls.Config{ServerName: proxy.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return fail(ClassifyIn(ctx, err), fmt.Sprintf("TLS to the proxy %s: %v", name, err))
		}
		conn = tc
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if u := proxy.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return fail(ClassifyIn(ctx, err), fmt.Sprintf("CONNECT %s through %s: %v", target, name, err))
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		code := ClassifyIn(ctx, err)
		if code == Timeout {
			return fail(code, fmt.Sprintf("the proxy %s accepted the connection but did not answer CONNECT %s", name, target))
		}
		return fail(code, fmt.Sprintf("CONNECT %s through %s: %v", target, name, err))
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusProxyAuthRequired {
		conn.Close()
		return fail(AuthFailed, fmt.Sprintf("the proxy %s wants credentials (407) for CONNECT %s: give them in HTTPS_PROXY (http://user:password@host:port)", name, target))
	}
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return fail(Refused, fmt.Sprintf("the proxy %s answered %s to CONNECT %s", name, resp.Status, target))
	}
	conn.SetDeadline(time.Time{})
	res.Status, res.Detail = Pass, Bound(fmt.Sprintf("the proxy %s opened a tunnel to %s", name, target))
	if br.Buffered() > 0 { // a proxy does not speak before the client: nothing is lost here
		conn.Close()
		return fail(HTTPError, fmt.Sprintf("the proxy %s sent bytes after its 200 to CONNECT %s", name, target))
	}
	return conn, res
}
