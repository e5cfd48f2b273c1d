package checks

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// httpServe starts a plain HTTP server on loopback and returns its URL.
func httpServe(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// httpServeTLS starts an HTTPS server on loopback presenting cert and returns its URL.
func httpServeTLS(t *testing.T, cert tls.Certificate, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are the point here
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// httpHang starts a server that reads the request and never answers until the test ends.
func httpHang(t *testing.T) string {
	t.Helper()
	stop := make(chan struct{})
	url := httpServe(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // runs before srv.Close, which waits for handlers
	return url
}

func TestHTTP(t *testing.T) {
	ca, good, foreign := testCerts(t, "127.0.0.1")

	awsJSON := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-RequestId", "0d3e5a2c-1111-2222-3333-444455556666")
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazon.coral.service#UnknownOperationException","message":null}`)
	}
	ecrChallenge := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		w.Header().Set("Www-Authenticate", `Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"`)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "Not Authorized\n")
	}
	stsXML := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message></Error>
  <RequestId>5b7c1a2e-aaaa-bbbb-cccc-ddddeeeeffff</RequestId>
</ErrorResponse>`)
	}
	s3XML := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`)
	}
	lowerCaseID := func(w http.ResponseWriter, r *http.Request) {
		w.Header()["x-amzn-requestid"] = []string{"lower-case-id"} // sent as written, not canonical
		w.WriteHeader(http.StatusNotFound)
	}
	registryOK := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		fmt.Fprint(w, "{}")
	}
	captive := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "CaptivePortal/1.0")
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Accept the terms &amp; conditions</body></html>")
	}
	redirect := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://login.example.invalid/portal?token=secret", http.StatusFound)
	}
	proxyChallenge := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", `Basic realm="corporate proxy"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	jsonNoType := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"Forbidden"}`)
	}
	noCredentials := func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			fmt.Fprint(w, "credentials were sent") // a 200 without markers: the case fails
			return
		}
		awsJSON(w, r)
	}

	// withUser puts credentials into a URL; HTTP must not send them.
	withUser := func(u string) string { return strings.Replace(u, "://", "://AKIDTEST:secret@", 1) }
	closedURL := fmt.Sprintf("http://127.0.0.1:%d/", tcpClosedPort(t))

	tests := []struct {
		name     string
		url      string
		deadline bool // end ctx with the run's deadline cause instead of a step timeout
		status   Status
		code     Code
	}{
		{name: "aws json error", url: httpServe(t, awsJSON), status: Pass},
		{name: "sts xml error", url: httpServe(t, stsXML), status: Pass},
		{name: "s3 xml error", url: httpServe(t, s3XML), status: Pass},
		{name: "ecr challenge", url: httpServe(t, ecrChallenge) + "/v2/", status: Pass},
		{name: "request id in lower case", url: httpServe(t, lowerCaseID), status: Pass},
		{name: "registry header", url: httpServe(t, registryOK) + "/v2/", status: Pass},
		{name: "no credentials sent", url: withUser(httpServe(t, noCredentials)), status: Pass},
		{name: "captive page", url: httpServe(t, captive), status: Fail, code: HTTPError},
		{name: "redirect to login", url: httpServe(t, redirect), status: Fail, code: HTTPError},
		{name: "proxy challenge", url: httpServe(t, proxyChallenge), status: Fail, code: HTTPError},
		{name: "json without type", url: httpServe(t, jsonNoType), status: Fail, code: HTTPError},
		{name: "never answers", url: httpHang(t), status: Fail, code: Timeout},
		{name: "never answers, run deadline", url: httpHang(t), deadline: true, status: Fail, code: Deadline},
		{name: "refused", url: closedURL, status: Fail, code: Refused},
		{name: "tls trusted", url: httpServeTLS(t, good, ecrChallenge) + "/v2/", status: Pass},
		{name: "tls untrusted", url: httpServeTLS(t, foreign, ecrChallenge) + "/v2/", status: Fail, code: TLSUntrusted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := stepContext(t, tt.deadline)
			// No Proxy: tests must not follow HTTPS_PROXY from the environment off loopback.
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}
			defer tr.CloseIdleConnections()
			client := &http.Client{
				Transport:     tr,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}

			res := HTTP(ctx, client, tt.url)
			t.Logf("%s %s: %s", res.Status, res.Code, res.Detail)
			if res.Name != "http" || res.Status != tt.status || res.Code != tt.code {
				t.Fatalf("got %s %s %q (%s), want %s %q", res.Name, res.Status, res.Code, res.Detail, tt.status, tt.code)
			}
			if res.Detail == "" {
				t.Error("empty detail")
			}
			if strings.Contains(res.Detail, "secret") {
				t.Errorf("detail leaks a secret: %s", res.Detail)
			}
		})
	}
}
