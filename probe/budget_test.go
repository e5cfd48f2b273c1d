package probe

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/fakedns"
)

// TestInnerBudgetsDerived: every inner bound derived from one step leaves the step whole: the
// per-query DNS bound times the servers asked in turn, and the SDK's attempts with the pause
// between them, each with the transport's slack to spare, for steps from tiny to large. The
// retry keeps a real share of the step (at least a quarter), not its last milliseconds.
func TestInnerBudgetsDerived(t *testing.T) {
	for _, step := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond,
		time.Second, 5 * time.Second, 30 * time.Second} {
		for servers := 1; servers <= 3; servers++ {
			q := dnsQueryTimeout(step, servers)
			if q <= 0 || time.Duration(servers)*q+transportSlack(step) > step {
				t.Errorf("step %s, %d silent resolvers: %s per query does not fit", step, servers, q)
			}
		}
		a := sdkAttemptTimeout(step)
		if a < step/4 || sdkAttempts*a+sdkBackoff(step)+transportSlack(step) > step {
			t.Errorf("step %s: %d attempts of %s and a pause of %s do not fit", step, sdkAttempts, a, sdkBackoff(step))
		}
		if io := a - transportSlack(a); io <= 0 || io >= a {
			t.Errorf("step %s: the transport's timeouts (%s) do not fire before the attempt's (%s)", step, io, a)
		}
	}
}

// TestSilentResolversFitOneStep: three configured resolvers that never answer, asked for A and
// AAAA, end the DNS check within its one step: the run's probe budget here is one and a half
// steps, so a check that waited a step per resolver would be cut short and say "deadline".
func TestSilentResolversFitOneStep(t *testing.T) {
	w := newWorld(t, nil)
	var servers []string
	for range 3 {
		z := fakedns.NewZone()
		z.Silence(true)
		servers = append(servers, awstest.Resolver(t, z))
	}
	step := 600 * time.Millisecond
	p := w.prober("logs", step, step*3/2+outputReserve+cancelGrace)
	p.Resolvers = servers
	rep := checkedRun(t, p, time.Now())
	c := checkOf(t, serviceOf(t, rep, "logs"), "dns")
	if c.Error != checks.DNSTimeout {
		t.Fatalf("dns %+v, want dns-timeout within one step", c)
	}
	for _, s := range servers {
		if !strings.Contains(c.Detail, s) {
			t.Errorf("detail %q does not say that %s was asked", c.Detail, s)
		}
	}
}

// slowCredentials answers after a delay, as a container credentials endpoint under load does.
type slowCredentials struct{ delay time.Duration }

func (s slowCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	select {
	case <-time.After(s.delay):
		return aws.Credentials{AccessKeyID: "AKIDSLOW", SecretAccessKey: "secret", Source: "test"}, nil
	case <-ctx.Done():
		return aws.Credentials{}, ctx.Err()
	}
}

// TestSDKAttemptsFitTheStep: credentials that take most of a step, then a call to an endpoint
// that accepts signed requests and never answers: both of the SDK's attempts reach the endpoint
// within the call's step, and the check ends with its own "timeout" inside credentials' step plus
// the call's, before a run deadline set just beyond them.
func TestSDKAttemptsFitTheStep(t *testing.T) {
	var mu sync.Mutex
	var starts []time.Time // when each signed attempt reached the endpoint
	hang := awstest.Hang(fakeaws.New(fakeaws.DefaultConfig()), func(r *http.Request) bool {
		return strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256")
	})
	w := newWorld(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
		}
		hang.ServeHTTP(rw, r)
	}))
	awstest.StaticCredentials(t)
	step := time.Second
	p := w.prober("sts", step, 10*time.Second)
	p.UseAWS(context.Background(), testEnv())
	t.Cleanup(p.Close)
	p.aws.creds = markCredentials(slowCredentials{delay: step * 8 / 10})

	ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now().Add(2*step+step/4), checks.ErrDeadline)
	defer cancel()
	v := p.aws.callIdentity(ctx)
	if v.res.Code != checks.Timeout {
		t.Fatalf("GetCallerIdentity %+v, want its own timeout before the run deadline", v.res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != sdkAttempts {
		t.Fatalf("the endpoint saw %d signed attempts, want %d within the step", len(starts), sdkAttempts)
	}
	// The retry had a real share of the step (a quarter at least), not what the first attempt
	// left of it.
	if gap := starts[1].Sub(starts[0]); gap > step*3/4 {
		t.Errorf("the retry started %s after the first attempt: less than a quarter of the %s step was left for it", gap, step)
	}
}
