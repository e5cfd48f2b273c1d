package awstest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/netns"
)

// TestFront: a client reaches the front end by any AWS host name or by its URL, trusting only
// its CA, and the server names asked for are recorded.
func TestFront(t *testing.T) {
	s := Front(t, http.HandlerFunc(Unsigned))
	c := s.Client()
	for _, tt := range []struct {
		url    string
		status int
	}{
		{"https://sts." + Region + ".amazonaws.com/", http.StatusBadRequest},
		{"https://123456789012.dkr.ecr." + Region + ".amazonaws.com/v2/", http.StatusUnauthorized},
		{s.URL + "/", http.StatusBadRequest},
	} {
		resp, err := c.Get(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("X-Amzn-RequestId") == "" {
			t.Errorf("%s: %d %v, want %d with a request id", tt.url, resp.StatusCode, resp.Header, tt.status)
		}
	}
	want := []string{"123456789012.dkr.ecr." + Region + ".amazonaws.com", "sts." + Region + ".amazonaws.com"}
	if got := s.ServerNames(); !slices.Equal(got, want) { // s.URL names no host
		t.Errorf("server names %v, want %v", got, want)
	}
	if _, err := c.Get("https://sts.us-east-1.amazonaws.com/"); err == nil {
		t.Error("a host outside the certificate was trusted")
	}
	if pem, err := os.ReadFile(s.CAFile); err != nil || !strings.Contains(string(pem), "BEGIN CERTIFICATE") {
		t.Errorf("CA file: %v", err)
	}
}

// TestResolver: the zone's hosts resolve to 127.0.0.1, wildcards included; others do not.
func TestResolver(t *testing.T) {
	addr := Resolver(t, Zone("*.amazonaws.com"))
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := r.LookupHost(ctx, "logs."+Region+".amazonaws.com"); err != nil || !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("logs: %v %v", got, err)
	}
	if _, err := r.LookupHost(ctx, "example.com"); err == nil {
		t.Error("a name outside the zone resolved")
	}
}

// TestHang: matching requests are held until the client gives up, others pass, and the test's
// end releases what is still held.
func TestHang(t *testing.T) {
	held := make(chan error, 1)
	t.Run("held", func(t *testing.T) {
		s := Front(t, Hang(http.HandlerFunc(Unsigned), func(r *http.Request) bool { return r.URL.Path == "/hang" }))
		if resp, err := s.Client().Get(s.URL + "/pass"); err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("a request that does not match: %v %v", resp, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/hang", nil)
		if _, err := s.Client().Do(req); err == nil || ctx.Err() == nil {
			t.Fatalf("a held request answered: %v", err)
		}
		go func() {
			_, err := s.Client().Get(s.URL + "/hang") // no timeout: only the cleanup ends it
			held <- err
		}()
		time.Sleep(50 * time.Millisecond)
	})
	select {
	case err := <-held:
		if err == nil {
			t.Error("the held request got an answer")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the test ended and the request is still held")
	}
}

// TestInNetns: inside the namespace every AWS name resolves to 127.0.0.1, where the front end
// answers on port 443; Client reaches it from outside.
func TestInNetns(t *testing.T) {
	ns := fmt.Sprintf("vpcprobe-awstest-%d", os.Getpid())
	s := InNetns(t, ns, nil, http.HandlerFunc(Unsigned))
	if s.Netns != ns || s.Port != 443 {
		t.Fatalf("server %+v", s)
	}
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return netns.Dial(ctx, ns, network, NetnsResolver)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := r.LookupHost(ctx, "api.ecr."+Region+".amazonaws.com"); err != nil || !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("resolver in the namespace: %v %v", got, err)
	}
	resp, err := s.Client().Get("https://logs." + Region + ".amazonaws.com/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !slices.Equal(s.ServerNames(), []string{"logs." + Region + ".amazonaws.com"}) {
		t.Errorf("%d, server names %v", resp.StatusCode, s.ServerNames())
	}
}

// TestIsolateSDK: the machine's AWS variables are gone for the test and back after it.
func TestIsolateSDK(t *testing.T) {
	t.Setenv("AWS_PROFILE", "machine")
	t.Setenv("HTTPS_PROXY", "http://proxy.example:3128")
	t.Run("isolated", func(t *testing.T) {
		StaticCredentials(t)
		for _, k := range []string{"AWS_PROFILE", "HTTPS_PROXY", "AWS_SESSION_TOKEN"} {
			if v, ok := os.LookupEnv(k); ok {
				t.Errorf("%s=%q is set", k, v)
			}
		}
		if os.Getenv("AWS_EC2_METADATA_DISABLED") != "true" || os.Getenv("AWS_ACCESS_KEY_ID") != AccessKey {
			t.Errorf("metadata %q, key %q", os.Getenv("AWS_EC2_METADATA_DISABLED"), os.Getenv("AWS_ACCESS_KEY_ID"))
		}
		if _, err := os.Stat(os.Getenv("AWS_CONFIG_FILE")); !os.IsNotExist(err) {
			t.Errorf("AWS_CONFIG_FILE %q: %v", os.Getenv("AWS_CONFIG_FILE"), err)
		}
	})
	if os.Getenv("AWS_PROFILE") != "machine" || os.Getenv("HTTPS_PROXY") == "" {
		t.Error("the environment was not restored")
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("HOME", "/root")
	getenv := Env("AWS_REGION", Region, "EMPTY", "")
	if v, ok := getenv("AWS_REGION"); v != Region || !ok {
		t.Errorf("AWS_REGION %q %v", v, ok)
	}
	if v, ok := getenv("EMPTY"); v != "" || !ok {
		t.Errorf("EMPTY %q %v", v, ok)
	}
	if _, ok := getenv("HOME"); ok {
		t.Error("the process environment shows through")
	}
}
