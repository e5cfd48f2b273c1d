package checks

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// connectServer answers every CONNECT with status and then, on 200, echoes what it is sent.
func connectServer(t *testing.T, status int) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != "sts.eu-west-1.amazonaws.com:443" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if r.Header.Get("Proxy-Authorization") == "" && status == http.StatusOK {
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
		w.WriteHeader(status)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &url.URL{Scheme: "http", Host: ln.Addr().String(), User: url.UserPassword("u", "proxysecret")}
}

func TestTunnel(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()

	noCreds := connectServer(t, http.StatusOK)
	noCreds.User = nil
	tests := []struct {
		name  string
		proxy *url.URL
		code  Code
	}{
		{"tunnel opened", connectServer(t, http.StatusOK), ""},
		{"proxy denies", connectServer(t, http.StatusForbidden), Refused},
		{"proxy wants credentials", noCreds, AuthFailed},
		{"proxy silent", &url.URL{Scheme: "http", Host: silent.Addr().String()}, Timeout},
		{"proxy gone", &url.URL{Scheme: "http", Host: closedAddr}, Refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			r := Tunnel(ctx, &net.Dialer{}, tt.proxy, "sts.eu-west-1.amazonaws.com:443")
			if r.Code != tt.code || r.Name != "tcp" || (tt.code == "") != (r.Status == Pass) {
				t.Fatalf("%+v, want code %q", r, tt.code)
			}
			if strings.Contains(r.Detail, "proxysecret") {
				t.Errorf("detail holds the proxy's password: %s", r.Detail)
			}
		})
	}
}
