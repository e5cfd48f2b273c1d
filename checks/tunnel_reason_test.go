package checks

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTLSViaKeepsTheTunnelsReason: the TLS check of a proxied host runs over TunnelDialer; when
// the tunnel cannot be opened, the TLS result carries the tunnel's own code and detail (a 407 is
// auth-failed, RFC 9110 §15.5.8 "Proxy Authentication Required"), not http-error: the diagnosis
// of a proxy that wants credentials must not blame a middlebox (issue 17, item 13).
func TestTLSViaKeepsTheTunnelsReason(t *testing.T) {
	noCreds := connectServer(t, http.StatusOK) // answers 407 to a CONNECT without credentials
	noCreds.User = nil
	tests := []struct {
		name   string
		status int
		code   Code
		detail string // a word of the tunnel's own detail
	}{
		{"proxy wants credentials (407)", 0, AuthFailed, "407"},
		{"proxy denies (403)", http.StatusForbidden, Refused, "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := noCreds
			if tt.status != 0 {
				proxy = connectServer(t, tt.status)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			target := "sts.eu-west-1.amazonaws.com:443"
			d := TunnelDialer{Dialer: &net.Dialer{}, Proxy: proxy, Target: target}
			r := TLSVia(ctx, d, target+" through "+ProxyName(proxy), "sts.eu-west-1.amazonaws.com", nil)
			if r.Status != Fail || r.Code != tt.code {
				t.Fatalf("%+v, want fail %s", r, tt.code)
			}
			if !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("detail %q lost the tunnel's answer (%s)", r.Detail, tt.detail)
			}
		})
	}
}
