// Package fakeaws is a fake of the AWS APIs vpcprobe calls — STS, ECR (API, registry and layer
// bucket), CloudWatch Logs, Secrets Manager and SSM — that speaks their real wire protocols, so
// the real aws-sdk-go-v2 clients and plain registry clients work against it unchanged. One
// http.Handler answers for every AWS host routed to it, like a front end on port 443: unit tests
// serve it from httptest.NewTLSServer, and the vpclab simulated VPC serves it behind its DNS.
//
// It authenticates like AWS (SigV4 header parsed, access key looked up, clock skew checked; the
// signature bytes are not verified), denies and throttles on request, enforces the real
// CloudWatch Logs batch limits, and records what it was asked so tests can assert on it.
package fakeaws

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config is the fake's behaviour. The zero value of each field means "nothing": no keys, no
// images, nothing denied. DefaultConfig returns a ready-made one.
type Config struct {
	Region  string // the region whose hosts and credential scopes the fake answers
	Account string // the account that owns the caller, the registry and every resource

	// AccessKeys maps an access key id to the principal ARN it authenticates as, for example
	// arn:aws:sts::123456789012:assumed-role/vpcprobe-task/abc. Unknown keys are refused.
	AccessKeys map[string]string

	// Deny lists IAM actions ("ecr:GetAuthorizationToken", "logs:PutLogEvents",
	// "s3:GetObject" for the layer bucket, …) that an identity policy does not allow: they answer
	// AccessDenied(Exception) with the real message shape.
	Deny map[string]bool
	// EndpointDeny lists actions a VPC endpoint policy denies explicitly; the message says so.
	EndpointDeny map[string]bool
	// Throttle maps an action to how many throttling answers it gives before it succeeds.
	Throttle map[string]int

	// Images maps "repo:tag" to the image the registry serves under that name.
	Images map[string]Image
	// Secrets maps a Secrets Manager secret name to its SecretString.
	Secrets map[string]string
	// Parameters maps an SSM parameter name to its value.
	Parameters map[string]string

	// MissingClusters are ECS cluster names that do not exist: ecs:DescribeClusters answers
	// them as MISSING failures (every other name exists).
	MissingClusters []string

	// LayerDelay holds every layer-bucket GET this long before the first byte, to simulate a
	// slow path to S3; the request's context cuts it short.
	LayerDelay time.Duration
	// Now is the server's clock, for signature skew, token expiry and timestamps; nil means
	// time.Now. Setting it off the real clock simulates a client with a skewed clock.
	Now func() time.Time
}

// Image is what one "repo:tag" names. With Platforms set the tag names an index (a Docker
// manifest list, or an OCI image index when OCI is set) of one image manifest per platform;
// otherwise it names a single linux/amd64 image manifest built from Layers.
type Image struct {
	OCI       bool       // OCI media types instead of Docker schema 2
	Platforms []Platform // one manifest per platform, under an index
	Layers    []Layer    // the layers of a single-manifest image
}

// Platform is one entry of an image index: a platform and the layers of its image.
type Platform struct {
	OS, Architecture, Variant string
	Layers                    []Layer
}

// Layer is one layer blob. Data is served when set (and never modified); otherwise Size
// deterministic pseudo-random bytes are, so tests can declare large layers without writing them.
type Layer struct {
	Size int64
	Data []byte
}

// Event is one log event the fake accepted, as CloudWatch Logs stores it.
type Event struct {
	Timestamp     int64 // milliseconds since the epoch, as the client sent it
	IngestionTime int64 // milliseconds since the epoch, the server's clock at PutLogEvents
	Message       string
}

// Request is one request the fake answered, for assertions.
type Request struct {
	Host      string // Host header without the port
	Service   string // "sts", "ecr", "logs", "secretsmanager", "ssm", "registry", "s3", "lambda", or "" when unrouted
	Action    string // IAM-style action ("logs:PutLogEvents") for APIs, "METHOD path" for registry and S3
	Status    int    // HTTP status answered
	AccessKey string // the SigV4 access key id presented, if any
	Auth      string // how the request authenticated: "", "AWS4-HMAC-SHA256", "presigned", "Basic", or another scheme
}

// maxRequests bounds the request log, so a fake serving a long-running lab does not grow
// without end; past it the oldest half is dropped.
const maxRequests = 100000

// Server is the fake; it implements http.Handler and is safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	cfg      Config
	throttle map[string]int        // remaining throttling answers per action
	reg      *registry             // images built from cfg.Images
	tokens   map[string]registryID // registry password → who got it and until when
	groups   map[string]*logGroup
	requests []Request
	s3Key    []byte // signs the presigned layer URLs, so the bucket can tell a tampered one
}

// New returns a fake configured by cfg. The maps of cfg are copied; change the configuration
// later through Configure.
func New(cfg Config) *Server {
	s := &Server{
		tokens: map[string]registryID{},
		groups: map[string]*logGroup{},
		s3Key:  []byte(randomHex(32)),
	}
	s.apply(cfg)
	return s
}

// DefaultConfig returns a configuration for tests: region eu-west-1, account 123456789012, access
// key AKIDTEST for the role vpcprobe-task, the image "app:latest" as an index of linux/amd64 and
// linux/arm64, the secret "vpcprobe/test" and the parameter "/vpcprobe/test".
func DefaultConfig() Config {
	return Config{
		Region:  "eu-west-1",
		Account: "123456789012",
		AccessKeys: map[string]string{
			"AKIDTEST": "arn:aws:sts::123456789012:assumed-role/vpcprobe-task/0123456789abcdef",
		},
		Images: map[string]Image{
			"app:latest": {Platforms: []Platform{
				{OS: "linux", Architecture: "amd64", Layers: []Layer{{Size: 4096}, {Size: 1024}}},
				{OS: "linux", Architecture: "arm64", Variant: "v8", Layers: []Layer{{Size: 4096}, {Size: 2048}}},
			}},
		},
		Secrets:    map[string]string{"vpcprobe/test": "s3cr3t-value"},
		Parameters: map[string]string{"/vpcprobe/test": "parameter-value"},
	}
}

// Configure changes the configuration while the fake runs: fn edits a copy, which then replaces
// the current one. Log groups, events and issued registry tokens survive; throttle counters
// restart from the new Throttle.
func (s *Server) Configure(fn func(*Config)) {
	s.mu.Lock()
	cfg := copyConfig(s.cfg)
	s.mu.Unlock()
	fn(&cfg)
	s.apply(cfg)
}

// apply installs cfg and what is derived from it. Images are built outside the lock: hashing
// large layers must not stall concurrent requests.
func (s *Server) apply(cfg Config) {
	cfg = copyConfig(cfg)
	reg := buildRegistry(cfg)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.reg = reg
	s.throttle = map[string]int{}
	for action, n := range cfg.Throttle {
		s.throttle[action] = n
	}
}

// copyConfig copies the maps of cfg so that neither the caller nor the fake sees the other's edits.
func copyConfig(cfg Config) Config {
	cfg.AccessKeys = copyMap(cfg.AccessKeys)
	cfg.Deny = copyMap(cfg.Deny)
	cfg.EndpointDeny = copyMap(cfg.EndpointDeny)
	cfg.Throttle = copyMap(cfg.Throttle)
	cfg.Images = copyMap(cfg.Images)
	cfg.Secrets = copyMap(cfg.Secrets)
	cfg.Parameters = copyMap(cfg.Parameters)
	cfg.MissingClusters = append([]string(nil), cfg.MissingClusters...)
	return cfg
}

func copyMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Requests returns the requests answered so far, oldest first (the latest 50,000 at least).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// now reads the server's clock; callers may or may not hold s.mu.
func (s *Server) now() time.Time {
	s.mu.Lock()
	now := s.cfg.Now
	s.mu.Unlock()
	if now == nil {
		return time.Now().UTC()
	}
	return now().UTC()
}

// config returns a snapshot of the scalar settings; maps must be read under s.mu.
func (s *Server) config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// ServeHTTP routes a request the way AWS's front ends do: by host for the registry and S3, by
// X-Amz-Target for JSON APIs, by the form's Action for the query protocol (STS).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := hostOnly(r.Host)
	rec := &Request{Host: host, Auth: authScheme(r)}
	sw := &statusWriter{ResponseWriter: w}
	// AWS dates every answer; the SDK reads Date to correct a skewed client clock.
	sw.Header().Set("Date", s.now().Format(http.TimeFormat))

	switch {
	case isRegistryHost(host):
		rec.Service = "registry"
		s.serveRegistry(sw, r, rec)
	case isS3Host(host):
		rec.Service = "s3"
		s.serveS3(sw, r, rec)
	case isLambdaRequest(r): // REST-JSON: routed by path (lambda.go)
		s.serveLambda(sw, r, rec)
	case r.Header.Get("X-Amz-Target") != "":
		s.serveJSON(sw, r, rec)
	case isQueryRequest(r) || strings.HasPrefix(host, "sts."):
		s.serveQuery(sw, r, rec)
	default:
		s.serveJSON(sw, r, rec)
	}

	rec.Status = sw.status()
	s.mu.Lock()
	if len(s.requests) >= maxRequests {
		s.requests = s.requests[len(s.requests)-maxRequests/2:]
	}
	s.requests = append(s.requests, *rec)
	s.mu.Unlock()
}

// statusWriter remembers the status a handler answered, for the request log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// hostOnly strips the port from a Host header, and lower-cases it as DNS does.
func hostOnly(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return strings.ToLower(host)
}

// isRegistryHost reports whether host is an ECR registry: <account>.dkr.ecr.<region>.amazonaws.com
// or any other form of it (a partition's, FIPS, the dual-stack dkr-ecr[-fips].<region>.on.aws),
// as the catalogue's host parser reads it.
func isRegistryHost(host string) bool {
	// A fake's own reading (no product package below it): the registry host forms of the AWS
	// General Reference, dual-stack included (<account>.dkr-ecr.<region>.on.aws).
	return strings.Contains(host, ".dkr.ecr.") || strings.Contains(host, ".dkr.ecr-fips.") ||
		strings.Contains(host, ".dkr-ecr.") || strings.Contains(host, ".dkr-ecr-fips.")
}

// isS3Host reports whether host is the layer bucket or another S3 name.
func isS3Host(host string) bool {
	return (strings.HasPrefix(host, "prod-") && strings.Contains(host, "starport-layer-bucket")) ||
		strings.HasPrefix(host, "s3.") || strings.Contains(host, ".s3.")
}

// authScheme names how a request tried to authenticate, for the request log.
func authScheme(r *http.Request) string {
	if r.URL.Query().Get("X-Amz-Algorithm") != "" || r.URL.Query().Get("X-Amz-Credential") != "" {
		return "presigned"
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return ""
	}
	scheme, _, _ := strings.Cut(auth, " ")
	return scheme
}

// requestID returns an id shaped like the x-amzn-RequestId AWS APIs answer (a UUID).
func requestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
