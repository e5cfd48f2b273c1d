package checks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// The authenticated checks: one signed call each, with the credentials the SDK's standard chain
// found. Their Detail names the API action and says what the service answered, in its words;
// it never carries a secret (no credential, token, presigned URL or secret value).

// STSAPI is the part of the STS client the sts check calls.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// ECRAPI is the part of the ECR client the ecr.api check calls.
type ECRAPI interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, optFns ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

// SecretsAPI is the part of the Secrets Manager client the secretsmanager check calls.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SSMAPI is the part of the SSM client the ssm check calls.
type SSMAPI interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

// Identity is who the credentials belong to, as STS says.
type Identity struct {
	Account string // 12-digit account id
	ARN     string // the caller: arn:aws:sts::<account>:assumed-role/<role>/<session>, …
}

// Token is an ECR registry credential from GetAuthorizationToken. It is a secret: it prints as
// a placeholder with every fmt verb, and only RegistryLogin, Manifest and their kin use it.
type Token struct {
	basic   string    // base64 of "AWS:<password>", the Basic credential as given
	Expires time.Time // when ECR says it stops working
}

// String hides the token.
func (t Token) String() string { return "ECR token (redacted)" }

// GoString hides the token from %#v too.
func (t Token) GoString() string { return t.String() }

// Valid reports whether t holds a credential.
func (t Token) Valid() bool { return t.basic != "" }

// authorize sets the Basic credential on req.
func (t Token) authorize(req *http.Request) { req.Header.Set("Authorization", "Basic "+t.basic) }

// CallerIdentity calls sts:GetCallerIdentity, which needs no permission: an answer proves the
// credentials work and names the account and role they belong to.
func CallerIdentity(ctx context.Context, c STSAPI) (Result, Identity) {
	start := time.Now()
	const action = "sts:GetCallerIdentity"
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		code, detail := CallFailure(ctx, action, start, err)
		return failed("auth", code, detail, start), Identity{}
	}
	id := Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}
	return passed("auth", fmt.Sprintf("%s: %s", action, id.ARN), start), id
}

// AuthorizationToken calls ecr:GetAuthorizationToken and returns the registry credential it
// gives. The token works for every registry the caller may pull from.
func AuthorizationToken(ctx context.Context, c ECRAPI) (Result, Token) {
	start := time.Now()
	const action = "ecr:GetAuthorizationToken"
	out, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		code, detail := CallFailure(ctx, action, start, err)
		return failed("auth", code, detail, start), Token{}
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return failed("auth", HTTPError, action+" answered without authorization data", start), Token{}
	}
	d := out.AuthorizationData[0]
	basic := *d.AuthorizationToken
	if raw, err := base64.StdEncoding.DecodeString(basic); err != nil || !strings.HasPrefix(string(raw), "AWS:") {
		return failed("auth", HTTPError, action+" answered a token that is not base64 of AWS:<password>", start), Token{}
	}
	tok := Token{basic: basic}
	detail := action + ": registry token issued"
	if d.ExpiresAt != nil {
		tok.Expires = *d.ExpiresAt
		detail += ", valid until " + tok.Expires.UTC().Format(time.RFC3339)
	}
	return passed("auth", detail, start), tok
}

// RegistryLogin sends GET /v2/ to the registry at registryURL (https://<account>.dkr.ecr.…) with
// the token as Basic credential, as docker login does: 200 passes; 401 means the registry
// refused the token (auth-failed), 403 that a policy denied it.
func RegistryLogin(ctx context.Context, hc *http.Client, registryURL string, tok Token) Result {
	start := time.Now()
	if !tok.Valid() {
		return Skipped("auth", "no registry token")
	}
	target := strings.TrimSuffix(registryURL, "/") + "/v2/"
	resp, body, err := registryGet(ctx, hc, target, tok, nil)
	if err != nil {
		code, detail := requestFailure(ctx, "GET", target, start, err)
		return failed("auth", code, "registry login: "+detail, start)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return passed("auth", "registry login: GET /v2/ with the token answered HTTP 200", start)
	}
	code, detail := registryRefusal(resp, body)
	if resp.StatusCode == http.StatusUnauthorized {
		detail = "the registry refused the token from ecr:GetAuthorizationToken (HTTP 401)"
	}
	return failed("auth", code, "registry login: "+detail, start)
}

// Secrets fetches every secret in ids (names, ARNs, or ARNs with ECS's
// ":json-key:version-stage:version-id" suffix: ParseSecretRef) with
// secretsmanager:GetSecretValue, as the ECS agent does for a task definition's secrets,
// concurrently; a named JSON key must be in the JSON SecretString. Only the outcome is kept: the
// value is dropped at once. It passes when every secret was fetched; otherwise the code is the first
// failure's, in the order of ids.
func Secrets(ctx context.Context, c SecretsAPI, ids []string) Result {
	start := time.Now()
	if len(ids) == 0 {
		return Skipped("auth", "no secret named")
	}
	codes, details := make([]Code, len(ids)), make([]string, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			t0 := time.Now()
			ref, err := ParseSecretRef(id)
			if err != nil {
				codes[i], details[i] = NotFound, Bound(err.Error())
				return
			}
			codes[i], details[i] = fetchSecret(ctx, c, ref, t0)
		})
	}
	wg.Wait()
	return fetched("secret", ids, codes, details, start)
}

// fetchSecret fetches one secret as the ECS agent does: GetSecretValue with the secret, its
// version stage and version id, then, when a JSON key is named, that key of the JSON
// SecretString. It returns the reason code and detail of a failure ("" when fetched); the value
// never leaves this function.
func fetchSecret(ctx context.Context, c SecretsAPI, ref SecretRef, t0 time.Time) (Code, string) {
	const action = "secretsmanager:GetSecretValue"
	in := &secretsmanager.GetSecretValueInput{SecretId: &ref.SecretID}
	if ref.VersionStage != "" {
		in.VersionStage = &ref.VersionStage
	}
	if ref.VersionID != "" {
		in.VersionId = &ref.VersionID
	}
	out, err := c.GetSecretValue(ctx, in)
	if err != nil {
		return CallFailure(ctx, action, t0, err)
	}
	if ref.JSONKey == "" {
		return "", ""
	}
	if out.SecretString == nil {
		return NotFound, fmt.Sprintf("the secret has no SecretString, so ECS cannot read its JSON key %q", ref.JSONKey)
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal([]byte(*out.SecretString), &doc) != nil {
		return NotFound, fmt.Sprintf("the SecretString is not a JSON object, so ECS cannot read its key %q", ref.JSONKey)
	}
	if _, ok := doc[ref.JSONKey]; !ok {
		return NotFound, fmt.Sprintf("the SecretString has no JSON key %q: ECS would stop the task (ResourceInitializationError)", ref.JSONKey)
	}
	return "", ""
}

// Parameters fetches every parameter in names with ssm:GetParameters and decryption, as ECS
// does for a task definition's secrets: ten names per call (the API's limit), calls concurrent.
// Only the outcome is kept: values are dropped at once; a name SSM lists as invalid is not-found.
func Parameters(ctx context.Context, c SSMAPI, names []string) Result {
	const action = "ssm:GetParameters"
	start := time.Now()
	if len(names) == 0 {
		return Skipped("auth", "no parameter named")
	}
	codes, details := make([]Code, len(names)), make([]string, len(names))
	var wg sync.WaitGroup
	for lo := 0; lo < len(names); lo += 10 {
		hi := min(lo+10, len(names))
		wg.Go(func() {
			t0 := time.Now()
			out, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: names[lo:hi], WithDecryption: aws.Bool(true)})
			if err != nil {
				code, detail := CallFailure(ctx, action, t0, err)
				for i := lo; i < hi; i++ {
					codes[i], details[i] = code, detail
				}
				return
			}
			out.Parameters = nil // the values: dropped at once
			invalid := map[string]bool{}
			for _, n := range out.InvalidParameters {
				invalid[n] = true
			}
			for i := lo; i < hi; i++ {
				if invalid[names[i]] {
					codes[i], details[i] = NotFound, action+": no such parameter (or a malformed name)"
				}
			}
		})
	}
	wg.Wait()
	return fetched("parameter", names, codes, details, start)
}

// fetched sums up the outcomes of fetching items in one Result named "auth". It passes when
// every item was fetched; otherwise its code is the first failure's in the order of items, and
// its Detail lists the failures (items that failed alike together), then how many succeeded.
func fetched(what string, items []string, codes []Code, details []string, start time.Time) Result {
	var order []string
	group := map[string][]string{}
	first, failures := Code(""), 0
	for i, c := range codes {
		if c == "" {
			continue
		}
		if first == "" {
			first = c
		}
		failures++
		key := string(c) + "\x00" + details[i]
		if _, seen := group[key]; !seen {
			order = append(order, key)
		}
		group[key] = append(group[key], items[i])
	}
	ok := len(items) - failures
	if first == "" {
		return passed("auth", fmt.Sprintf("%s fetched: %s", plural(ok, what), strings.Join(items, ", ")), start)
	}
	var parts []string
	for _, key := range order {
		_, detail, _ := strings.Cut(key, "\x00")
		parts = append(parts, strings.Join(group[key], ", ")+": "+detail)
	}
	detail := strings.Join(parts, "; ")
	if ok > 0 {
		detail += fmt.Sprintf("; %s fetched", plural(ok, "other "+what))
	}
	return failed("auth", first, detail, start)
}

// CallFailure returns the reason code of a failed AWS API call and a Detail for it: the action,
// then what went wrong in the service's own words (its error code and message), or the network
// cause for a call that got no answer. A signature the server calls expired or not yet current
// is clock skew, and the Detail says so.
func CallFailure(ctx context.Context, action string, start time.Time, err error) (Code, string) {
	code := ClassifyIn(ctx, err)
	var credErr *CredentialsError
	if code == AuthFailed && errors.As(err, &credErr) {
		return code, action + " not sent: " + credErr.Error()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := strings.TrimSpace(ae.ErrorMessage())
		said := ae.ErrorCode()
		if msg != "" {
			said += ": " + msg
		}
		switch code {
		case AccessDenied:
			if short, ok := denial(msg); ok {
				return code, action + " denied (" + ae.ErrorCode() + ") " + short
			}
			return code, action + " denied: " + said
		case AuthFailed:
			if clockSkew(said) {
				// Said first: the server's message is long and Bound may cut its end.
				return code, action + " refused the signature because this machine's clock is more than 15 minutes off (clock skew; sync it with NTP): " + said
			}
			return code, action + " refused the credentials: " + said
		case Throttled:
			return code, action + " throttled on every attempt: " + said
		case Deadline:
			return code, action + " cut short by the run deadline"
		}
		return code, action + " failed: " + said
	}
	switch code {
	case Deadline:
		return code, action + " cut short by the run deadline"
	case Timeout:
		return code, fmt.Sprintf("%s: no answer within %s", action, stepWithin(ctx, start))
	}
	return code, fmt.Sprintf("%s failed: %v", action, networkCause(err))
}

// iamDenial is IAM's message for a refused call: who, what, on which resource, and why.
var iamDenial = regexp.MustCompile(`^User: (\S+) is not authorized to perform: (\S+)(?: on resource: (\S+))? ?(.*)$`)

// denial shortens IAM's denial message so that its end, which tells an identity policy from an
// endpoint policy, survives Bound: "to <principal> on <resource> <why>".
func denial(msg string) (string, bool) {
	m := iamDenial.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	principal, action, resource, why := m[1], m[2], m[3], m[4]
	s := "to " + principal
	if resource != "" && resource != principal {
		s += " on " + resource
	}
	if strings.HasSuffix(why, " the "+action+" action") {
		why = strings.TrimSuffix(why, " the "+action+" action") + " it"
	}
	why = strings.TrimSuffix(why, ".")
	if why != "" {
		s += " " + why
	}
	return s, true
}

// clockSkew reports whether an authentication failure's message blames the request's time.
func clockSkew(msg string) bool {
	for _, s := range []string{"Signature expired", "Signature not yet current", "RequestTimeTooSkewed", "RequestExpired", "too skewed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// networkCause returns the innermost useful error of a call that got no answer, without the
// request URL the SDK or net/http wrap around it (a URL may carry a signature in its query).
func networkCause(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// requestFailure is CallFailure for a plain HTTP request that got no answer.
func requestFailure(ctx context.Context, method, rawURL string, start time.Time, err error) (Code, string) {
	target := rawURL
	if u, perr := url.Parse(rawURL); perr == nil {
		target = httpRedactURL(u)
	}
	code := ClassifyIn(ctx, err)
	switch code {
	case Timeout:
		return code, fmt.Sprintf("%s %s: no answer within %s", method, target, stepWithin(ctx, start))
	case Deadline:
		return code, fmt.Sprintf("%s %s: cut short by the run deadline", method, target)
	}
	return code, fmt.Sprintf("%s %s: %v", method, target, httpRedactErr(err))
}

// registryGet sends an authenticated GET to the registry and reads a bounded body. accept
// lists the media types asked for, if any.
func registryGet(ctx context.Context, hc *http.Client, rawURL string, tok Token, accept []string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, err
	}
	tok.authorize(req)
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes))
	if err != nil {
		resp.Body.Close()
		return nil, nil, err
	}
	return resp, body, nil
}

// registryRefusal classifies a registry answer that was not a success and describes it with the
// registry's own error code and message (which name the denied IAM action).
func registryRefusal(resp *http.Response, body []byte) (Code, string) {
	var doc struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	errCode, msg := "", ""
	if json.Unmarshal(body, &doc) == nil && len(doc.Errors) > 0 {
		errCode, msg = doc.Errors[0].Code, doc.Errors[0].Message
	}
	code := HTTPAnswer(resp.StatusCode, errCode)
	if errCode == "DENIED" && strings.Contains(msg, "token has expired") {
		code = AuthFailed
	}
	detail := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if errCode != "" {
		detail += " " + errCode
	}
	if msg != "" {
		detail += ": " + msg
	}
	return code, detail
}

func passed(name, detail string, start time.Time) Result {
	return Result{Name: name, Status: Pass, Detail: Bound(detail), Duration: time.Since(start)}
}

func failed(name string, code Code, detail string, start time.Time) Result {
	return Result{Name: name, Status: Fail, Code: code, Detail: Bound(detail), Duration: time.Since(start)}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
