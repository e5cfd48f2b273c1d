package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/miekg/dns"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/netns"
)

// taskDialer dials from inside the lab's task namespace, resolving names through the task's
// resolver (10.0.0.2) as a process in the task would.
func taskDialer(l *Lab) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ip := host
		if net.ParseIP(host) == nil {
			if ip, err = resolveInTask(ctx, l, host); err != nil {
				return nil, err
			}
		}
		return netns.Dial(ctx, l.TaskNS, "tcp4", net.JoinHostPort(ip, port))
	}
}

// resolveInTask asks the VPC resolver for host's first A record, from inside the task namespace.
func resolveInTask(ctx context.Context, l *Lab, host string) (string, error) {
	c, err := netns.Dial(ctx, l.TaskNS, "udp4", net.JoinHostPort(ResolverIP, "53"))
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(host), dns.TypeA)
	conn := &dns.Conn{Conn: c}
	if err := conn.WriteMsg(q); err != nil {
		return "", err
	}
	m, err := conn.ReadMsg()
	if err != nil {
		return "", err
	}
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String(), nil
		}
	}
	return "", fmt.Errorf("%s: no address (rcode %s)", host, dns.RcodeToString[m.Rcode])
}

// TestAWSFromTask uses the real aws-sdk-go-v2 clients, configured only by the task's environment
// (container credentials, AWS_CA_BUNDLE, region), from inside the task namespace: the calls the
// probe's authenticated checks and CloudWatch delivery make must work in the lab, and a denial
// must arrive as the error AWS gives.
func TestAWSFromTask(t *testing.T) {
	sc, err := Lookup("healthy")
	if err != nil {
		t.Fatal(err)
	}
	l := startLab(t, sc)
	for _, kv := range l.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if k != "PATH" && k != "HOME" {
			t.Setenv(k, v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	dial := taskDialer(l)
	// The lab CA explicitly: Go reads SSL_CERT_FILE once per process, so a second lab in the
	// same test binary (go test -count=2) would otherwise be checked against the first's CA.
	pem, err := os.ReadFile(l.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	// A BuildableClient, because AWS_CA_BUNDLE makes the SDK add the lab CA to its transport
	// and it refuses any other client type when that variable is set.
	client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = dial
		tr.Proxy = nil
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	})
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithHTTPClient(client),
		// The credentials endpoint is on the task's loopback: its client dials there too.
		config.WithEndpointCredentialOptions(func(o *endpointcreds.Options) {
			o.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: dial}}
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != Region {
		t.Errorf("region %q from the environment", cfg.Region)
	}

	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("sts: %v", err)
	}
	if aws.ToString(id.Arn) != RoleARN || aws.ToString(id.Account) != Account {
		t.Errorf("caller %s in %s", aws.ToString(id.Arn), aws.ToString(id.Account))
	}

	tok, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("ecr: %v", err)
	}
	basic := aws.ToString(tok.AuthorizationData[0].AuthorizationToken)
	if user, _ := base64.StdEncoding.DecodeString(basic); !strings.HasPrefix(string(user), "AWS:") {
		t.Errorf("token is not AWS:<password>")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+Host("ecr.dkr")+"/v2/", nil)
	req.Header.Set("Authorization", "Basic "+basic)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("registry login: HTTP %d", resp.StatusCode)
	}

	logs := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(LogGroup)}); err != nil {
		t.Fatalf("logs: %v", err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{
		LogGroupName: aws.String(LogGroup), LogStreamName: aws.String("t")}); err != nil {
		t.Fatalf("logs: %v", err)
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(LogGroup), LogStreamName: aws.String("t"),
		LogEvents: []logstypes.InputLogEvent{{Message: aws.String(`{"type":"summary"}`), Timestamp: aws.Int64(time.Now().UnixMilli())}},
	}); err != nil {
		t.Fatalf("logs: %v", err)
	}
	if ev := l.Events(); len(ev) != 1 || ev[0].Message != `{"type":"summary"}` {
		t.Errorf("delivered events %+v", ev)
	}

	// The iam-denied scenario's change, applied to the running fake: the SDK gets the error
	// AWS gives, which the probe's one classifier calls access-denied.
	denied, err := Lookup("iam-denied")
	if err != nil {
		t.Fatal(err)
	}
	l.AWS.Configure(denied.AWS)
	_, err = ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if code := checks.Classify(err); code != checks.AccessDenied {
		t.Errorf("denied GetAuthorizationToken: %v (%s), want access-denied", err, code)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the denial timed out instead")
	}
}
