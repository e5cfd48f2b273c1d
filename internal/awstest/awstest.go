// Package awstest is the test kit of vpcprobe: a loopback or namespaced stand-in for what a task
// in a subnet sees of AWS. A front end serves a handler (usually internal/fakeaws) over TLS with
// a certificate from a test CA for the AWS host names, a resolver answers those names with
// 127.0.0.1, and the SDK's environment is cut off from the machine's own configuration.
//
// Every function takes the test and ends what it starts when the test ends; a setup failure is
// t.Fatal. Tests only: nothing outside _test.go files imports it.
package awstest

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/vpcprobe/vpcprobe/internal/fakedns"
	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/internal/testca"
)

// The test region and the static credentials fakeaws.DefaultConfig knows.
const (
	Region    = "eu-west-1"
	AccessKey = "AKIDTEST"
	SecretKey = "secret"
)

// NetnsResolver is where InNetns's resolver listens inside its namespace: the address for
// --resolver of a program run there.
const NetnsResolver = "127.0.0.1:53"

// regionHosts are the certificate names of a front end given none. A wildcard covers one label:
// these four cover every host of every service in Region, the ECR registry and the layer
// bucket included.
var regionHosts = []string{
	"*." + Region + ".amazonaws.com",
	"*.ecr." + Region + ".amazonaws.com",
	"*.dkr.ecr." + Region + ".amazonaws.com",
	"*.s3." + Region + ".amazonaws.com",
}

// Server is a started TLS front end. Its certificate names the hosts it was given and
// 127.0.0.1, so a client may name either an AWS host or URL.
type Server struct {
	CA     *testca.CA // the root the server's certificate chains to
	URL    string     // https://127.0.0.1:port
	Addr   string     // 127.0.0.1:port
	Port   uint16     // the port of Addr, for a prober told to connect there instead of 443
	CAFile string     // CA's certificate in PEM, for AWS_CA_BUNDLE or SSL_CERT_FILE
	Netns  string     // the network namespace the server listens in; "" for the test's own

	transport *http.Transport

	mu    sync.Mutex
	names map[string]bool // TLS server names clients asked for
}

// NewCA returns a new test CA whose root is called name.
func NewCA(t testing.TB, name string) *testca.CA {
	t.Helper()
	ca, err := testca.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// Front serves h over TLS on a free loopback port until the test ends, with a certificate from a
// new CA for hosts (wildcards allowed; every host of Region when none are given).
func Front(t testing.TB, h http.Handler, hosts ...string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, ln, "", NewCA(t, "vpcprobe awstest root"), h, hosts)
}

// InNetns makes the network namespace ns in which every AWS name resolves (NetnsResolver) to
// 127.0.0.1, where h is served over TLS on port 443 with a certificate from ca (a new CA when
// nil) for every host of Region. The namespace is deleted when the test ends, and first, should
// a killed run have left it. The probe always connects to port 443, which the root namespace's
// shared loopback must not be asked for: hence the namespace. It needs root.
func InNetns(t testing.TB, ns string, ca *testca.CA, h http.Handler) *Server {
	t.Helper()
	if err := netns.Check(); err != nil {
		t.Fatalf("this test needs network namespaces: %v", err)
	}
	_ = netns.Delete(ns) // a leftover of a killed run
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := netns.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := netns.Delete(ns); err != nil {
			t.Errorf("delete namespace: %v", err)
		}
	})

	// Sockets belong to the namespace of the thread that opens them, for their whole life: the
	// resolver's serving goroutines may run anywhere.
	var dns *fakedns.Server
	err := netns.Do(ns, func() error {
		var err error
		dns, err = fakedns.Start(NetnsResolver, Zone("*.amazonaws.com"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dns.Close)

	ln, err := netns.Listen(ns, "tcp", "127.0.0.1:443")
	if err != nil {
		t.Fatal(err)
	}
	if ca == nil {
		ca = NewCA(t, "vpcprobe awstest root")
	}
	return serve(t, ln, ns, ca, h, nil)
}

// serve serves h over TLS on ln until the test ends.
func serve(t testing.TB, ln net.Listener, ns string, ca *testca.CA, h http.Handler, hosts []string) *Server {
	t.Helper()
	if len(hosts) == 0 {
		hosts = regionHosts
	}
	cert, err := ca.Issue(append(slices.Clone(hosts), "127.0.0.1")...)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	s := &Server{CA: ca, Netns: ns, Addr: ln.Addr().String(), Port: uint16(ln.Addr().(*net.TCPAddr).Port), names: map[string]bool{}}
	s.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(s.CAFile, ca.CertPEM(), 0o644); err != nil {
		ln.Close()
		t.Fatal(err)
	}

	// Closing the base context ends every request still held (see Hang) before Close waits for
	// the handlers to return.
	base, cancel := context.WithCancel(context.Background())
	srv := &httptest.Server{
		Listener: ln,
		Config: &http.Server{
			Handler:     h,
			BaseContext: func(net.Listener) context.Context { return base },
			ErrorLog:    log.New(io.Discard, "", 0), // handshakes clients reject are often the point
		},
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, GetConfigForClient: s.hello},
	}
	srv.StartTLS()
	s.URL = srv.URL

	s.transport = &http.Transport{
		// No Proxy: a test must not follow HTTPS_PROXY off loopback.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			if s.Netns != "" {
				return netns.Dial(ctx, s.Netns, network, s.Addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, s.Addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
	}
	t.Cleanup(func() {
		cancel()
		srv.Close()
		s.transport.CloseIdleConnections()
	})
	return s
}

// hello records the server name a client asked for.
func (s *Server) hello(h *tls.ClientHelloInfo) (*tls.Config, error) {
	if h.ServerName != "" { // none for an IP literal
		s.mu.Lock()
		defer s.mu.Unlock()
		s.names[h.ServerName] = true
	}
	return nil, nil
}

// ServerNames returns the TLS server names (SNI) clients have asked the server for, sorted,
// whether or not their handshakes went on.
func (s *Server) ServerNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.names))
	for n := range s.names {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Client returns a client that reaches the server whatever host a URL names, trusting only CA
// and using no proxy. It follows redirects; a test that wants them returned sets CheckRedirect.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.transport}
}

// SDKConfig returns an SDK configuration for the server: Region, the static test credentials,
// Client, and a retryer of attempts with a millisecond between them and no retry quota, so that
// throttling tests are fast and deterministic.
func (s *Server) SDKConfig(attempts int) aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		HTTPClient:  s.Client(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.RateLimiter = ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		},
	}
}

// Zone returns a zone answering 127.0.0.1 for each of hosts (wildcards such as "*.amazonaws.com"
// allowed); every other name is NXDOMAIN.
func Zone(hosts ...string) *fakedns.Zone {
	zone := fakedns.NewZone()
	for _, h := range hosts {
		zone.Set(h, netip.MustParseAddr("127.0.0.1"))
	}
	return zone
}

// Resolver serves zone over UDP and TCP on a free loopback port until the test ends, and returns
// its address.
func Resolver(t testing.TB, zone *fakedns.Zone) string {
	t.Helper()
	srv, err := fakedns.Start("127.0.0.1:0", zone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv.Addr
}

// Hang passes requests to next, except those match accepts (every request when match is nil,
// and next may then be nil too): it holds those without an answer until the client gives up or
// the Server closes at the end of the test, as an endpoint that accepts calls and never answers
// does.
func Hang(next http.Handler, match func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if match == nil || match(r) {
			<-r.Context().Done()
			panic(http.ErrAbortHandler) // the connection closes without a word, not a 200
		}
		next.ServeHTTP(w, r)
	})
}

// Unsigned answers every request the way AWS endpoints answer unsigned ones: the ECR registry's
// Basic challenge on /v2/, elsewhere an error document with a request id.
func Unsigned(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", "0c6f8d7e-awstest")
	if r.URL.Path == "/v2/" {
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		w.Header().Set("Www-Authenticate", `Basic realm="https://`+r.Host+`/",service="ecr.amazonaws.com"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	io.WriteString(w, `{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}`)
}

// isolated are the variables through which the SDK (or Go's HTTP proxy support) could reach this
// machine's configuration, credentials, or anything beyond loopback.
var isolated = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL",
	"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
}

// IsolateSDK keeps the SDK, for the rest of the test, from this machine's AWS configuration and
// from instance metadata: AWS_EC2_METADATA_DISABLED=true, config and credentials files in an
// empty temporary directory, and every other variable it would read unset, proxies included.
// Like t.Setenv, it cannot be used in parallel tests.
func IsolateSDK(t testing.TB) {
	t.Helper()
	keys := append([]string(nil), isolated...)
	for _, kv := range os.Environ() { // AWS_ENDPOINT_URL_<SERVICE>: one per service, any service
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_ENDPOINT_URL_") {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		t.Setenv(k, "") // restores the variable when the test ends
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

// StaticCredentials isolates the SDK as IsolateSDK does and gives its default credential chain
// the static test credentials (AccessKey, SecretKey) through the environment.
func StaticCredentials(t testing.TB) {
	t.Helper()
	IsolateSDK(t)
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
}

// Env returns a getenv that knows only kv (name, value, name, value, …), for code that reads its
// environment through a function: nothing of the test's own environment shows through.
func Env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}
