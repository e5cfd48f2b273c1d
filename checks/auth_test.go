package checks

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

const (
	fakeRegion  = "eu-west-1"
	fakeAccount = "123456789012"
	fakeRoleARN = "arn:aws:sts::123456789012:assumed-role/vpcprobe-task/0123456789abcdef"
)

// fakeAWS is the fake AWS of internal/fakeaws behind an awstest front end, and what a client
// needs to reach it: every host name dials that server, and its certificate names every AWS
// host of the test region.
type fakeAWS struct {
	fake   *fakeaws.Server
	client *http.Client // redirects are returned, not followed, as the checks expect
	cfg    aws.Config   // for the SDK clients: static test credentials, two attempts
}

func newFakeAWS(t *testing.T, edit func(*fakeaws.Config)) *fakeAWS {
	t.Helper()
	awstest.IsolateSDK(t)
	cfg := fakeaws.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	return serveFake(t, fakeaws.New(cfg))
}

func serveFake(t *testing.T, h http.Handler) *fakeAWS {
	t.Helper()
	srv := awstest.Front(t, h)
	f := &fakeAWS{client: srv.Client(), cfg: srv.SDKConfig(2)}
	if fk, ok := h.(*fakeaws.Server); ok {
		f.fake = fk
	}
	f.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f.cfg.DisableClockSkewCorrection = true // a skewed clock must fail, not be corrected on retry
	return f
}

// noCredentials is a provider that has none, as the probe's wrapper reports it.
type noCredentials struct{}

func (noCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, &CredentialsError{Err: errors.New("this task has no task role (taskRoleArn)")}
}

func TestCallerIdentity(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*fakeaws.Config)
		creds aws.CredentialsProvider
		code  Code
		want  string // in Detail
	}{
		{"success", nil, nil, "", fakeRoleARN},
		{"identity policy", func(c *fakeaws.Config) { c.Deny = map[string]bool{"sts:GetCallerIdentity": true} }, nil, AccessDenied, "sts:GetCallerIdentity denied"},
		{"endpoint policy", func(c *fakeaws.Config) { c.EndpointDeny = map[string]bool{"sts:GetCallerIdentity": true} }, nil, AccessDenied, "VPC endpoint policy"},
		{"unknown access key", func(c *fakeaws.Config) { c.AccessKeys = nil }, nil, AuthFailed, "InvalidClientTokenId"},
		{"clock skew", func(c *fakeaws.Config) { c.Now = func() time.Time { return time.Now().Add(time.Hour) } }, nil, AuthFailed, "clock"},
		{"throttled then success", func(c *fakeaws.Config) { c.Throttle = map[string]int{"sts:GetCallerIdentity": 1} }, nil, "", fakeRoleARN},
		{"throttled throughout", func(c *fakeaws.Config) { c.Throttle = map[string]int{"sts:GetCallerIdentity": 5} }, nil, Throttled, "Throttling"},
		{"no credentials", nil, noCredentials{}, AuthFailed, "no task role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAWS(t, tt.edit)
			cfg := f.cfg.Copy()
			if tt.creds != nil {
				cfg.Credentials = tt.creds
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r, id := CallerIdentity(ctx, sts.NewFromConfig(cfg))
			t.Logf("%s: %s", r.Code, r.Detail)
			if r.Code != tt.code || r.Name != "auth" || !strings.Contains(r.Detail, tt.want) {
				t.Fatalf("result %+v, want code %q and %q in the detail", r, tt.code, tt.want)
			}
			if tt.code == "" && (r.Status != Pass || id.Account != fakeAccount || id.ARN != fakeRoleARN) {
				t.Errorf("identity %+v, result %+v", id, r)
			}
			if tt.code != "" && (r.Status != Fail || id != (Identity{})) {
				t.Errorf("a failure with identity %+v, result %+v", id, r)
			}
			if tt.creds != nil && len(f.fake.Requests()) != 0 {
				t.Errorf("a call without credentials reached the server: %+v", f.fake.Requests())
			}
		})
	}
}

// TestCallTimeout: a server that accepts the call and never answers is a timeout, not an
// http-error, and the check ends with its context.
func TestCallTimeout(t *testing.T) {
	f := serveFake(t, awstest.Hang(nil, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	r, _ := AuthorizationToken(ctx, ecr.NewFromConfig(f.cfg))
	if r.Code != Timeout || !strings.Contains(r.Detail, "ecr:GetAuthorizationToken") {
		t.Fatalf("result %+v", r)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	// The run's deadline is not the network's fault.
	rctx, rcancel := context.WithDeadlineCause(context.Background(), time.Now().Add(200*time.Millisecond), ErrDeadline)
	defer rcancel()
	if r, _ := CallerIdentity(rctx, sts.NewFromConfig(f.cfg)); r.Code != Deadline {
		t.Errorf("cut by the run deadline: %+v", r)
	}
}

func TestRegistryToken(t *testing.T) {
	f := newFakeAWS(t, nil)
	ctx := context.Background()
	r, tok := AuthorizationToken(ctx, ecr.NewFromConfig(f.cfg))
	if r.Status != Pass || !tok.Valid() || tok.Expires.IsZero() {
		t.Fatalf("token: %+v", r)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, tok); strings.Contains(s, tok.basic) || !strings.Contains(s, "redacted") {
			t.Errorf("%s prints the token: %s", verb, s)
		}
	}
	registry := "https://" + fakeAccount + ".dkr.ecr." + fakeRegion + ".amazonaws.com"

	tests := []struct {
		name   string
		tok    Token
		status Status
		code   Code
	}{
		{"token accepted", tok, Pass, ""},
		{"token refused", Token{basic: base64.StdEncoding.EncodeToString([]byte("AWS:forged"))}, Fail, AuthFailed},
		{"no token", Token{}, Skip, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RegistryLogin(ctx, f.client, registry, tt.tok)
			if r.Status != tt.status || r.Code != tt.code || r.Name != "auth" {
				t.Fatalf("%+v", r)
			}
		})
	}

	denied := newFakeAWS(t, func(c *fakeaws.Config) { c.EndpointDeny = map[string]bool{"ecr:GetAuthorizationToken": true} })
	r, tok = AuthorizationToken(ctx, ecr.NewFromConfig(denied.cfg))
	if r.Code != AccessDenied || tok.Valid() || !strings.Contains(r.Detail, "ecr:GetAuthorizationToken denied") {
		t.Errorf("denied: %+v", r)
	}
}

func TestSecrets(t *testing.T) {
	f := newFakeAWS(t, func(c *fakeaws.Config) {
		c.Secrets["vpcprobe/other"] = "other-value"
		c.Secrets["app/db"] = `{"username":"app","password":"hunter2-value"}`
		c.Deny = map[string]bool{}
	})
	c := secretsmanager.NewFromConfig(f.cfg)
	arn := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vpcprobe/test"
	dbARN := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db"
	tests := []struct {
		name string
		ids  []string
		deny bool
		code Code
	}{
		{"one by name", []string{"vpcprobe/test"}, false, ""},
		{"by ARN and name", []string{arn, "vpcprobe/other"}, false, ""},
		{"missing", []string{"vpcprobe/test", "vpcprobe/missing"}, false, NotFound},
		{"denied", []string{"vpcprobe/test"}, true, AccessDenied},
		// ECS's valueFrom syntax (as --secret and --for-task-definition pass it on):
		// ARN:json-key:version-stage:version-id; the suffix is not part of the secret's id, and
		// a JSON key must be in the JSON SecretString, as the agent reads it.
		{"ecs json key", []string{dbARN + ":password::"}, false, ""},
		{"ecs json key and stage", []string{dbARN + ":password:AWSCURRENT:"}, false, ""},
		{"ecs stage only", []string{arn + "::AWSCURRENT"}, false, ""},
		{"ecs json key missing", []string{dbARN + ":token::"}, false, NotFound},
		{"ecs json key of a plain string", []string{arn + ":password::"}, false, NotFound},
		{"ecs unknown stage", []string{dbARN + ":password:AWSPREVIOUS:"}, false, NotFound},
		{"ecs stage not there", []string{arn + "::AWSPENDING:"}, false, NotFound},
		{"ecs unknown version id", []string{dbARN + "::" + ":00000000-0000-0000-0000-000000000000"}, false, NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"secretsmanager:GetSecretValue": tt.deny} })
			r := Secrets(context.Background(), c, tt.ids)
			if r.Code != tt.code || r.Name != "auth" {
				t.Fatalf("%+v", r)
			}
			if strings.Contains(r.Detail, "s3cr3t-value") || strings.Contains(r.Detail, "other-value") || strings.Contains(r.Detail, "hunter2") {
				t.Errorf("detail holds a secret value: %s", r.Detail)
			}
			if tt.code == NotFound && !strings.Contains(r.Detail, tt.ids[len(tt.ids)-1]) {
				t.Errorf("detail does not name the missing secret: %s", r.Detail)
			}
		})
	}
}

func TestParameters(t *testing.T) {
	f := newFakeAWS(t, func(c *fakeaws.Config) {
		for i := range 11 {
			c.Parameters[fmt.Sprintf("/p/%d", i)] = fmt.Sprintf("value-%d", i)
		}
	})
	c := ssm.NewFromConfig(f.cfg)
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprintf("/p/%d", i))
	}
	tests := []struct {
		name  string
		names []string
		deny  bool
		code  Code
	}{
		{"one", []string{"/vpcprobe/test"}, false, ""},
		{"more than one call", eleven, false, ""},
		{"missing", []string{"/vpcprobe/test", "/vpcprobe/missing"}, false, NotFound},
		{"denied", []string{"/vpcprobe/test"}, true, AccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"ssm:GetParameters": tt.deny} })
			r := Parameters(context.Background(), c, tt.names)
			if r.Code != tt.code || r.Name != "auth" {
				t.Fatalf("%+v", r)
			}
			if strings.Contains(r.Detail, "value") {
				t.Errorf("detail holds a value: %s", r.Detail)
			}
		})
	}
}

func TestClassifyCalls(t *testing.T) {
	if c := Classify(fmt.Errorf("op: %w", &CredentialsError{Err: context.DeadlineExceeded})); c != AuthFailed {
		t.Errorf("credentials error wrapping a timeout: %s", c)
	}
	tests := []struct {
		status int
		code   string
		want   Code
	}{
		{401, "", AuthFailed},
		{403, "DENIED", AccessDenied},
		{403, "", AccessDenied},
		{403, "SignatureDoesNotMatch", AuthFailed},
		{404, "MANIFEST_UNKNOWN", NotFound},
		{404, "NoSuchKey", NotFound},
		{429, "TOOMANYREQUESTS", Throttled},
		{503, "SlowDown", Throttled},
		{500, "InternalError", HTTPError},
		{200, "", HTTPError},
	}
	for _, tt := range tests {
		if got := HTTPAnswer(tt.status, tt.code); got != tt.want {
			t.Errorf("HTTPAnswer(%d, %q) = %s, want %s", tt.status, tt.code, got, tt.want)
		}
	}
}

func TestParseSecretRef(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf"
	tests := []struct {
		in      string
		want    SecretRef
		wantErr bool
	}{
		{"app/db", SecretRef{SecretID: "app/db"}, false},
		{arn, SecretRef{SecretID: arn}, false},
		{arn + ":password::", SecretRef{SecretID: arn, JSONKey: "password"}, false},
		{arn + ":password:AWSPREVIOUS:", SecretRef{SecretID: arn, JSONKey: "password", VersionStage: "AWSPREVIOUS"}, false},
		{arn + "::AWSCURRENT:v-1", SecretRef{SecretID: arn, VersionStage: "AWSCURRENT", VersionID: "v-1"}, false},
		{arn + ":password", SecretRef{SecretID: arn, JSONKey: "password"}, false},
		{"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x", SecretRef{SecretID: "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x"}, false},
		{arn + ":a:b:c:d", SecretRef{}, true},
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/x", SecretRef{}, true},
		{"app/db:password", SecretRef{}, true},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:other:x", SecretRef{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSecretRef(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := ParseSecretRef("arn:aws:ssm:eu-west-1:123456789012:parameter/x"); !errors.Is(err, ErrNotSecretsManager) {
		t.Errorf("an SSM ARN: %v", err)
	}
}
