package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// The authenticated half of a run: SDK clients whose connections take the path the checks
// measured, the Steps that call them, and the calls several services share.

const (
	// sdkAttempts is how many attempts an SDK call gets: one retry rides out a throttle or a
	// dropped connection, and both attempts still fit in one --timeout.
	sdkAttempts = 2

	// sdkMaxBackoff bounds the pause between the two attempts, so that the retry has most of
	// the step left.
	sdkMaxBackoff = 200 * time.Millisecond
)

// awsRun is one run's SDK clients and the calls its services share: one GetCallerIdentity (the
// sts check, ecr.dkr's account and the report's context), one GetAuthorizationToken (ecr.api's
// check and ecr.dkr's registry login), and the layer the manifest check found (s3's layer check).
type awsRun struct {
	p       *Prober
	sts     checks.STSAPI
	ecr     checks.ECRAPI
	secrets checks.SecretsAPI
	ssm     checks.SSMAPI
	ecs     checks.ECSAgentAPI
	logs    LogsAPI
	image   *checks.ImageRef

	conns     *connSet     // every connection the SDK opened, closed when the run is over
	credsHTTP *http.Client // the container credentials endpoint's client

	creds    aws.CredentialsProvider
	noSource bool // outside ECS with no credential source configured: no credentials is no failure
	identity shared[identityAnswer]
	token    shared[tokenAnswer]
	layer    shared[layerAnswer]
	agent    shared[agentAnswer] // the hosts ecs:DiscoverPollEndpoint names (agent.go)
	haveKeys shared[error]       // the run's one credential retrieval: nil when there are credentials

	// logsReady is the delivery's log group and stream, created while the probes run: nil
	// when ready.
	logsReady      shared[error]
	prepareOnce    sync.Once
	cancelDelivery context.CancelFunc
}

type identityAnswer struct {
	res checks.Result
	id  checks.Identity
}

type tokenAnswer struct {
	res checks.Result
	tok checks.Token
}

// layerAnswer is what the manifest check leaves for the layer check: the layer, or why there
// is none.
type layerAnswer struct {
	ref checks.LayerRef
	why string // why there is no layer to read; empty when ref is one
}

// UseAWS gives p its authenticated half: it loads the SDK configuration (region from the run,
// the standard credential chain, AWS_CA_BUNDLE, HTTPS_PROXY), and installs the auth, manifest
// and layer Steps, the caller Identity and the CloudWatch Logs client Deliver uses. getenv is
// the process environment, read for the ECS task-role check (the SDK reads its own variables).
// It never fails: a configuration the SDK cannot load makes every authenticated check
// auth-failed, saying why. Call it after the Prober's fields are set, once per Prober.
func (p *Prober) UseAWS(ctx context.Context, getenv func(string) (string, bool)) {
	p.init()
	a := &awsRun{p: p, conns: &connSet{}, identity: newShared[identityAnswer](),
		token: newShared[tokenAnswer](), layer: newShared[layerAnswer](), haveKeys: newShared[error](),
		agent: newShared[agentAnswer](), logsReady: newShared[error]()}
	if p.Image != "" {
		if ref, err := checks.ParseImage(p.Image); err == nil {
			a.image = &ref
		}
	}
	cfg := a.config(ctx, getenv)
	a.creds = cfg.Credentials
	a.noSource = !inTask(getenv) && noCredentialSource(getenv)
	c := platformClients(cfg) // platform.go: the platform's endpoints, not this container's settings
	c.sts = sts.NewFromConfig(cfg)
	a.sts, a.ecr, a.secrets, a.ssm, a.ecs, a.logs = c.sts, c.ecr, c.secrets, c.ssm, c.ecs, c.logs
	ends := resolveEndpoints(ctx, cfg, c)
	p.sdkHost = ends.host
	p.aws = a
	p.Steps = a.steps
	p.Identity = a.identityOf
	p.Done = a.done
	p.LearnHost = a.learnHost
}

// Close ends the connections the run's SDK clients opened: a sidecar probing every few seconds
// must not keep one pool of idle connections per round.
func (p *Prober) Close() {
	if p.aws == nil {
		return
	}
	if p.aws.cancelDelivery != nil {
		p.aws.cancelDelivery()
	}
	p.aws.conns.closeAll()
	p.aws.credsHTTP.CloseIdleConnections()
}

// config returns the SDK configuration of the run. Its HTTP client is the SDK's buildable one
// (which AWS_CA_BUNDLE requires), with the run's pinned dials and roots and timeouts a little
// shorter than one step, so that a hung call reports its real cause, not the context's.
func (a *awsRun) config(ctx context.Context, getenv func(string) (string, bool)) aws.Config {
	p := a.p
	step := p.Timeout - transportSlack(p.Timeout)
	// Each attempt is bounded (attemptBound, below) so that both attempts fit in one step; the
	// transport's own timeouts fire a little before the attempt's, keeping the real cause.
	attempt := sdkAttemptTimeout(p.Timeout)
	attemptIO := attempt - transportSlack(attempt)
	roots := p.Roots
	if roots == nil {
		roots, _ = x509.SystemCertPool()
	}
	if roots != nil {
		// The SDK appends AWS_CA_BUNDLE to the pool it is given (ours holds it already):
		// give it a copy, never the run's own.
		roots = roots.Clone()
	}
	dial := a.conns.track(func(ctx context.Context, network, addr string) (net.Conn, error) {
		dctx, cancel := context.WithTimeout(ctx, attemptIO)
		defer cancel()
		return p.pins.DialContext(dctx, network, addr)
	})
	client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.Proxy = p.pathProxy
		tr.DialContext = dial
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		tr.TLSHandshakeTimeout = attemptIO
		tr.ResponseHeaderTimeout = attemptIO
		tr.ExpectContinueTimeout = time.Second
		tr.IdleConnTimeout = 30 * time.Second
	})
	// The container credentials endpoint is link-local (or loopback): never through a proxy,
	// never pinned to what the probe's resolver says.
	a.credsHTTP = &http.Client{Timeout: p.Timeout, Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: step}).DialContext,
		ResponseHeaderTimeout: step,
	}}
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.MaxBackoff = sdkAttempts, sdkBackoff(p.Timeout)
			o.RateLimiter = ratelimit.None // a probe makes a handful of calls; no retry quota
		})
	}
	// A skewed clock must show as the failure it causes: the SDK would otherwise learn the
	// server's time from the first refusal and succeed on the retry, hiding it.
	noSkewCorrection := true
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(p.Region),
		config.WithHTTPClient(client),
		config.WithRetryer(retryer),
		config.WithDisableClockSkewCorrection(&noSkewCorrection),
		config.WithLogger(logging.Nop{}), // stdout and stderr belong to the report
		config.WithEndpointCredentialOptions(func(o *endpointcreds.Options) { o.HTTPClient = a.credsHTTP }),
	)
	if err != nil {
		cfg = aws.Config{Region: p.Region, HTTPClient: client, Retryer: retryer, DisableClockSkewCorrection: true,
			Logger: logging.Nop{}, Credentials: failing{fmt.Errorf("loading the AWS configuration: %w", err)}}
	}
	// After loading: AWS_CA_BUNDLE needs the buildable client itself.
	cfg.HTTPClient = attemptBound{next: cfg.HTTPClient, limit: attempt}
	switch {
	case noTaskRole(getenv):
		cfg.Credentials = failing{errNoTaskRole}
	case cfg.Credentials == nil:
		cfg.Credentials = failing{errors.New("no credential source")}
	}
	cfg.Credentials = markCredentials(cfg.Credentials)
	return cfg
}

// attemptBound bounds each attempt of an SDK call, request and response body, by limit. The SDK
// has no per-attempt timeout of its own: without one, a silent endpoint's first attempt takes
// the whole step and the retry never gets a chance.
type attemptBound struct {
	next  aws.HTTPClient
	limit time.Duration
}

// Do sends one attempt under its own bound, released when the response body is closed.
func (c attemptBound) Do(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), c.limit)
	resp, err := c.next.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose is a response body that releases its attempt's context when closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// markCredentials caches a credential provider and marks its failures (markCredentials'
// result is the outermost provider): the cache answers a wait that outlived the step's context
// with its own cancellation error — an instance metadata service that never answers, say — and
// that too must read "no credentials", not "timeout".
func markCredentials(p aws.CredentialsProvider) aws.CredentialsProvider {
	if _, ok := p.(*aws.CredentialsCache); !ok {
		p = aws.NewCredentialsCache(p)
	}
	return marked{p}
}

// errNoTaskRole is the reason of every authenticated check in an ECS task without a task role.
var errNoTaskRole = errors.New("this task has no task role (taskRoleArn): ECS gave it no container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) and the environment has no keys or profile")

// noTaskRole reports whether the process runs in an ECS task (it was given task metadata)
// without any credential source but the instance's: no task role's container credentials, no
// keys, no web identity, no profile. Saying so at once beats waiting on instance metadata,
// which a Fargate task does not have and an awsvpc task on EC2 usually may not reach.
func noTaskRole(getenv func(string) (string, bool)) bool {
	return inTask(getenv) && noCredentialSource(getenv)
}

// inTask reports whether the process runs in an ECS task: it was given task metadata.
func inTask(getenv func(string) (string, bool)) bool {
	v, _ := getenv("ECS_CONTAINER_METADATA_URI_V4")
	return v != ""
}

// noCredentialSource reports whether nothing but instance metadata could give credentials: no
// container credentials, keys, web identity, profile or AWS files.
func noCredentialSource(getenv func(string) (string, bool)) bool {
	for _, k := range []string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"} {
		if v, _ := getenv(k); v != "" {
			return false
		}
	}
	if home, _ := getenv("HOME"); home != "" {
		for _, f := range []string{"credentials", "config"} {
			if _, err := os.Stat(filepath.Join(home, ".aws", f)); err == nil {
				return false
			}
		}
	}
	return true
}

// marked wraps a credential provider's failures in checks.CredentialsError, so that a call
// that never left for want of credentials is classified auth-failed, whatever the cause.
type marked struct{ inner aws.CredentialsProvider }

func (m marked) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.inner.Retrieve(ctx)
	switch {
	case err != nil && ctx.Err() != nil && !errors.Is(context.Cause(ctx), checks.ErrDeadline):
		return aws.Credentials{}, &checks.CredentialsError{Err: fmt.Errorf(
			"no credentials within the step's time: none in the environment or a profile, no container credentials, and instance metadata did not answer (%w)", err)}
	case err != nil:
		return aws.Credentials{}, &checks.CredentialsError{Err: err}
	}
	return c, nil
}

// failing is a credential provider that has only a reason why there are none.
type failing struct{ err error }

func (f failing) Retrieve(context.Context) (aws.Credentials, error) { return aws.Credentials{}, f.err }

// steps returns the authenticated checks of a service, run after its unsigned HTTP check.
func (a *awsRun) steps(svc catalogue.Service) []Step {
	switch svc.Key {
	case "sts":
		return []Step{{Name: "auth", Run: a.stsAuth}}
	case "ecr.api":
		return []Step{{Name: "auth", Run: a.ecrAuth}}
	case "ecr.dkr":
		s := []Step{{Name: "auth", Run: a.registryAuth}}
		if a.image != nil {
			s = append(s, Step{Name: "manifest", Run: a.manifest})
		}
		return s
	case "s3":
		if a.image != nil {
			return []Step{{Name: "layer", Run: a.readLayer}}
		}
	case "secretsmanager":
		if len(a.p.Secrets) > 0 {
			return []Step{{Name: "auth", Run: a.fetchSecrets}}
		}
	case "ssm":
		if len(a.p.Parameters) > 0 {
			return []Step{{Name: "auth", Run: a.fetchParameters}}
		}
	case "ecs":
		return []Step{{Name: "auth", Run: a.ecsAuth}}
	}
	return nil
}

// retrieveCredentials is the run's one credential retrieval, bounded by one step. Resolving
// them before any call, instead of inside the first, makes "no credentials" one answer shared by
// every check: inside a call, the SDK's retry loop may end on its own context error and the
// check would read "timeout" while no request was ever sent.
func (a *awsRun) retrieveCredentials(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, a.p.Timeout)
	defer cancel()
	_, err := a.creds.Retrieve(cctx)
	return err
}

// NoCredentials is the Detail of every authenticated check skipped because the host has no AWS
// credentials at all (outside ECS, no credential source configured, none from instance
// metadata): the network checks stand, and the command line says so once.
const NoCredentials = "no AWS credentials"

// noAuth is the Detail of every authenticated check skipped on purpose (--no-auth).
const noAuth = "--no-auth: not checked"

// noCredentials returns the check name for action when the run has no credentials, and false
// when it has them: skip when it was asked not to use any (--no-auth) or the host has none at
// all (NoCredentials), else the credentials' failure.
func (a *awsRun) noCredentials(ctx context.Context, name, action string) (checks.Result, bool) {
	if a.p.NoAuth {
		return checks.Skipped(name, noAuth), true
	}
	start := time.Now()
	a.haveKeys.start(ctx, a.retrieveCredentials)
	err, ok := a.haveKeys.wait(ctx)
	switch {
	case !ok:
		return cutShort(name), true
	case err == nil:
		return checks.Result{}, false
	case a.noSource && ctx.Err() == nil:
		return checks.Skipped(name, NoCredentials), true
	}
	code, detail := checks.CallFailure(ctx, action, start, err)
	return checks.Result{Name: name, Status: checks.Fail, Code: code, Detail: checks.Bound(detail),
		Duration: time.Since(start)}, true
}

// signed makes one authenticated call (the auth check of action) once the run's credentials are
// known, bounded by one step; without credentials the check is the credentials' failure and the
// call is never made.
func signed[T any](ctx context.Context, a *awsRun, action string, call func(context.Context) (checks.Result, T)) (checks.Result, T) {
	if r, none := a.noCredentials(ctx, "auth", action); none {
		var zero T
		return r, zero
	}
	cctx, cancel := context.WithTimeout(ctx, a.p.Timeout)
	defer cancel()
	return call(cctx)
}

// callIdentity is the run's one GetCallerIdentity.
func (a *awsRun) callIdentity(ctx context.Context) identityAnswer {
	r, id := signed(ctx, a, "sts:GetCallerIdentity", func(c context.Context) (checks.Result, checks.Identity) {
		return checks.CallerIdentity(c, a.sts)
	})
	return identityAnswer{r, id}
}

// callToken is the run's one GetAuthorizationToken.
func (a *awsRun) callToken(ctx context.Context) tokenAnswer {
	r, tok := signed(ctx, a, "ecr:GetAuthorizationToken", func(c context.Context) (checks.Result, checks.Token) {
		return checks.AuthorizationToken(c, a.ecr)
	})
	return tokenAnswer{r, tok}
}

// identityOf is the Prober's Identity: the shared GetCallerIdentity's answer, the call started
// by the first to ask. A ctx that has already ended only reads what is known.
func (a *awsRun) identityOf(ctx context.Context) (string, string) {
	if ctx.Err() == nil {
		a.identity.start(ctx, a.callIdentity)
	}
	v, ok := a.identity.wait(ctx)
	if !ok || v.res.Status != checks.Pass {
		return "", ""
	}
	return v.id.Account, v.id.ARN
}

// cutShort is the result of a step whose wait for a shared call outlasted the run.
func cutShort(name string) checks.Result {
	return checks.Result{Name: name, Status: checks.Fail, Code: checks.Deadline, Detail: "cut short by the run deadline"}
}

func (a *awsRun) stsAuth(ctx context.Context, _ Target) checks.Result {
	a.identity.start(ctx, a.callIdentity)
	v, ok := a.identity.wait(ctx)
	if !ok {
		return cutShort("auth")
	}
	return v.res
}

func (a *awsRun) ecrAuth(ctx context.Context, _ Target) checks.Result {
	a.token.start(ctx, a.callToken)
	v, ok := a.token.wait(ctx)
	if !ok {
		return cutShort("auth")
	}
	return v.res
}

// registryToken waits for the shared token; the second value says why there is none.
func (a *awsRun) registryToken(ctx context.Context) (checks.Token, string, bool) {
	a.token.start(ctx, a.callToken)
	v, ok := a.token.wait(ctx)
	if !ok {
		return checks.Token{}, "", false
	}
	switch v.res.Status {
	case checks.Pass:
	case checks.Skip: // no credentials, or --no-auth: the same reason
		return checks.Token{}, v.res.Detail, true
	default:
		return checks.Token{}, fmt.Sprintf("no registry token: ecr:GetAuthorizationToken failed (%s)", v.res.Code), true
	}
	return v.tok, "", true
}

// registryAuth logs in to the registry with the token. Without a token (ecr.api failed, or
// there are no credentials) it is skip: the unauthenticated 401 challenge already proved the
// path, and ecr.api's check carries the failure.
func (a *awsRun) registryAuth(ctx context.Context, t Target) checks.Result {
	tok, why, ok := a.registryToken(ctx)
	switch {
	case !ok:
		return cutShort("auth")
	case why != "":
		return checks.Skipped("auth", why)
	}
	cctx, cancel := context.WithTimeout(ctx, a.p.Timeout)
	defer cancel()
	return checks.RegistryLogin(cctx, t.Client, "https://"+t.Host, tok)
}

// manifest reads the image's manifest and finds its smallest layer, leaving the layer for s3.
func (a *awsRun) manifest(ctx context.Context, t Target) checks.Result {
	tok, why, ok := a.registryToken(ctx)
	switch {
	case !ok:
		return cutShort("manifest")
	case why != "":
		a.layer.set(layerAnswer{why: why})
		return checks.Skipped("manifest", why)
	}
	r, l := checks.Manifest(ctx, t.Client, *a.image, tok, runtime.GOARCH, a.p.Timeout)
	switch {
	case r.Status != checks.Pass:
		a.layer.set(layerAnswer{why: fmt.Sprintf("the manifest check of ecr.dkr failed (%s)", r.Code)})
	case l.URL == "":
		a.layer.set(layerAnswer{why: "the registry did not send the layer to S3"})
	default:
		a.layer.set(layerAnswer{ref: l})
	}
	return r
}

// readLayer reads the first byte of the layer the manifest check found.
func (a *awsRun) readLayer(ctx context.Context, t Target) checks.Result {
	if !a.p.probes("ecr.dkr") {
		return checks.Skipped("layer", "ecr.dkr is not probed, so no manifest names a layer")
	}
	v, ok := a.layer.wait(ctx)
	if !ok {
		return cutShort("layer")
	}
	if v.why != "" {
		return checks.Skipped("layer", v.why)
	}
	cctx, cancel := context.WithTimeout(ctx, a.p.Timeout)
	defer cancel()
	return checks.Layer(cctx, t.Client, v.ref)
}

func (a *awsRun) fetchSecrets(ctx context.Context, _ Target) checks.Result {
	r, _ := signed(ctx, a, "secretsmanager:GetSecretValue", func(c context.Context) (checks.Result, struct{}) {
		return checks.Secrets(c, a.secrets, a.p.Secrets), struct{}{}
	})
	return r
}

func (a *awsRun) fetchParameters(ctx context.Context, _ Target) checks.Result {
	r, _ := signed(ctx, a, "ssm:GetParameters", func(c context.Context) (checks.Result, struct{}) {
		return checks.Parameters(c, a.ssm, a.p.Parameters), struct{}{}
	})
	return r
}

// done releases the layer check when ecr.dkr ended without a manifest check that passed.
func (a *awsRun) done(svc catalogue.Service, results []checks.Result) {
	if svc.Key == "ecs" {
		a.ecsDone(results)
		return
	}
	if svc.Key != "ecr.dkr" {
		return
	}
	why := "ecr.dkr did not get to its manifest check"
	if len(results) > 0 && results[0].Status == checks.Skip {
		why = "ecr.dkr was not probed: " + results[0].Detail
	}
	for _, r := range results {
		if r.Status == checks.Fail {
			why = fmt.Sprintf("ecr.dkr's %s check failed (%s)", r.Name, r.Code)
			break
		}
	}
	a.layer.set(layerAnswer{why: why})
}

// probes reports whether the run probes the service key.
func (p *Prober) probes(key string) bool {
	for _, s := range p.Services {
		if s.Key == key {
			return true
		}
	}
	return false
}

// shared is one call whose answer several checks wait for. The first to need it starts it;
// each waiter waits until the answer or its own context's end. The call runs under the run's
// context (runOf), never under its first caller's: that caller may be a short step (the wait for
// ecr.dkr's account is one --timeout) whose end must not become every later waiter's answer. The
// call bounds its own steps (signed).
//
// Neither sync.OnceValue nor singleflight fits: OnceValue's function takes no context and its
// waiters cannot leave when their own context ends; singleflight forgets an answer once the call
// returns, so a check asking later would make the call again, and the run makes each call once.
type shared[T any] struct {
	once *sync.Once
	done chan struct{}
	val  *T
}

func newShared[T any]() shared[T] {
	return shared[T]{once: &sync.Once{}, done: make(chan struct{}), val: new(T)}
}

// start runs call in its own goroutine under the run's context (runOf(ctx)), unless it was
// started or set before.
func (s shared[T]) start(ctx context.Context, call func(context.Context) T) {
	s.once.Do(func() {
		go func() {
			*s.val = call(runOf(ctx))
			close(s.done)
		}()
	})
}

// runKey is the context key under which a run's context holds itself (withRun).
type runKey struct{}

// withRun marks ctx as the run's context: shared calls started from any context derived from it
// run under it, bounded by the run's deadline and not by their first caller's step.
func withRun(ctx context.Context) context.Context { return context.WithValue(ctx, runKey{}, ctx) }

// runOf returns the run's context ctx derives from, or ctx itself outside a run.
func runOf(ctx context.Context) context.Context {
	if run, ok := ctx.Value(runKey{}).(context.Context); ok {
		return run
	}
	return ctx
}

// set gives the answer directly, unless the call was started or set before.
func (s shared[T]) set(v T) {
	s.once.Do(func() {
		*s.val = v
		close(s.done)
	})
}

// wait returns the answer, or false when ctx ended first.
func (s shared[T]) wait(ctx context.Context) (T, bool) {
	select {
	case <-s.done:
		return *s.val, true
	default:
	}
	select {
	case <-s.done:
		return *s.val, true
	case <-ctx.Done():
		var zero T
		return zero, false
	}
}

// connSet remembers the connections a dial function opened, to close them all at once.
type connSet struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (s *connSet) track(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
		return c, err
	}
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}
