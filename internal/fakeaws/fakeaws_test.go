package fakeaws_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// env is a fake behind an awstest front end, and an SDK configuration aimed at it.
type env struct {
	fake *fakeaws.Server
	srv  *awstest.Server
	aws  aws.Config
}

// newEnv starts the fake with cfg. SDK clients retry up to 3 attempts with a millisecond of
// backoff and no retry quota, so throttling tests are fast and deterministic.
func newEnv(t *testing.T, cfg fakeaws.Config) *env {
	t.Helper()
	awstest.IsolateSDK(t)
	fake := fakeaws.New(cfg)
	srv := awstest.Front(t, fake)
	return &env{fake: fake, srv: srv, aws: srv.SDKConfig(3)}
}

// withKey returns the env's SDK configuration signing with another access key.
func (e *env) withKey(akid string) aws.Config {
	c := e.aws.Copy()
	c.Credentials = credentials.NewStaticCredentialsProvider(akid, "secret", "")
	return c
}

// sts returns an STS client for cfg aimed at the fake.
func (e *env) sts(cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
}

// do sends a plain HTTP request to the fake as if to host (the Host header), without following
// redirects, and returns the response with its body read.
func (e *env) do(t *testing.T, method, host, pathQuery string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header[k] = v
	}
	client := e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// errorCode returns the AWS error code err carries, "" for nil.
func errorCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error is not an AWS API error: %v", err)
	}
	return ae.ErrorCode()
}

func TestGetCallerIdentity(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	out, err := e.sts(e.aws).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Account); got != "123456789012" {
		t.Errorf("Account = %q", got)
	}
	if got := aws.ToString(out.Arn); got != "arn:aws:sts::123456789012:assumed-role/vpcprobe-task/0123456789abcdef" {
		t.Errorf("Arn = %q", got)
	}
	if got := aws.ToString(out.UserId); !strings.HasPrefix(got, "AROA") || !strings.HasSuffix(got, ":0123456789abcdef") {
		t.Errorf("UserId = %q", got)
	}

	deny := fakeaws.DefaultConfig()
	deny.EndpointDeny = map[string]bool{"sts:GetCallerIdentity": true}
	denied := newEnv(t, deny)

	tests := []struct {
		name string
		e    *env
		cfg  aws.Config
		want string
	}{
		{"unknown key", e, e.withKey("AKIDUNKNOWN"), "InvalidClientTokenId"},
		{"endpoint policy denies", denied, denied.aws, "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.e.sts(tt.cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if got := errorCode(t, err); got != tt.want {
				t.Errorf("code = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

// TestClockSkew proves a skewed client gets the real "Signature expired" error, and that the
// SDK, reading the fake's Date header, corrects its clock and succeeds when it may retry.
func TestClockSkew(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.Now = func() time.Time { return time.Now().Add(time.Hour) }
	e := newEnv(t, cfg)

	once := e.aws.Copy()
	once.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	_, err := e.sts(once).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if got := errorCode(t, err); got != "SignatureDoesNotMatch" {
		t.Fatalf("code = %q, want SignatureDoesNotMatch (%v)", got, err)
	}
	if !strings.Contains(err.Error(), "Signature expired") {
		t.Errorf("message does not say the signature expired: %v", err)
	}
	if _, err := e.sts(e.aws).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("SDK did not correct the skew: %v", err)
	}
}

// TestUnsigned covers requests with no credentials at all, as a probe's HTTP check sends them.
func TestUnsigned(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	tests := []struct {
		name, method, host string
		header             http.Header
		status             int
		body               string
	}{
		{"ecr api root", "GET", "api.ecr.eu-west-1.amazonaws.com", nil, 400, "UnknownOperationException"},
		{"logs root", "GET", "logs.eu-west-1.amazonaws.com", nil, 400, "UnknownOperationException"},
		{"json call without auth", "POST", "logs.eu-west-1.amazonaws.com",
			http.Header{"X-Amz-Target": {"Logs_20140328.PutLogEvents"}, "Content-Type": {"application/x-amz-json-1.1"}},
			400, "MissingAuthenticationTokenException"},
		{"sts root", "GET", "sts.eu-west-1.amazonaws.com", nil, 403, "<Code>MissingAuthenticationToken</Code>"},
		{"s3 root", "GET", "s3.eu-west-1.amazonaws.com", nil, 403, "<Code>AccessDenied</Code>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(t, tt.method, tt.host, "/", tt.header)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
				t.Errorf("got %d %s, want %d with %s", resp.StatusCode, body, tt.status, tt.body)
			}
			if resp.Header.Get("x-amzn-RequestId") == "" && resp.Header.Get("x-amz-request-id") == "" {
				t.Errorf("no request id header: %v", resp.Header)
			}
		})
	}
}
