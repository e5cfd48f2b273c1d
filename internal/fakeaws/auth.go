package fakeaws

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxSkew is how far a request's signing time may be from the server's clock; AWS allows 15
// minutes either way and answers "Signature expired" / "Signature not yet current" beyond it.
const maxSkew = 15 * time.Minute

// amzDate is the layout of X-Amz-Date and of the dates in AWS's skew messages.
const amzDate = "20060102T150405Z"

// protocol holds the codes and statuses an API family answers for the failures all its APIs
// share; the JSON services and the query protocol (STS) spell them differently.
type protocol struct {
	missingAuth, unknownKey, badSignature, incomplete, denied, throttled string
	missingAuthMsg                                                       string
	authStatus, deniedStatus                                             int
}

// jsonProtocol is the Coral JSON services' (ECR, Logs, Secrets Manager, SSM) spelling.
var jsonProtocol = protocol{
	missingAuth:    "MissingAuthenticationTokenException",
	unknownKey:     "UnrecognizedClientException",
	badSignature:   "InvalidSignatureException",
	incomplete:     "IncompleteSignatureException",
	denied:         "AccessDeniedException",
	throttled:      "ThrottlingException",
	missingAuthMsg: "Missing Authentication Token",
	authStatus:     http.StatusBadRequest,
	deniedStatus:   http.StatusBadRequest,
}

// queryProtocol is STS's spelling.
var queryProtocol = protocol{
	missingAuth:    "MissingAuthenticationToken",
	unknownKey:     "InvalidClientTokenId",
	badSignature:   "SignatureDoesNotMatch",
	incomplete:     "IncompleteSignature",
	denied:         "AccessDenied",
	throttled:      "Throttling",
	missingAuthMsg: "Request is missing Authentication Token",
	authStatus:     http.StatusForbidden,
	deniedStatus:   http.StatusForbidden,
}

// apiError is an AWS error answer before it is rendered in its protocol's shape.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// caller is an authenticated principal.
type caller struct {
	accessKey string
	arn       string
}

// sigV4 is what a request's SigV4 authentication (header or presigned query) claims.
type sigV4 struct {
	accessKey, region, service string
	date                       time.Time
	expires                    time.Duration // presigned only
}

// authenticate checks a request's SigV4 authentication as AWS does before any authorization:
// present, well formed, signed near the server's time, scoped to this region and service, by a
// known access key. The signature bytes are not verified: the fake has no secret keys.
func (s *Server) authenticate(r *http.Request, p protocol, service string, rec *Request) (caller, *apiError) {
	sig, aerr := parseSigV4(r, p)
	if aerr != nil {
		return caller{}, aerr
	}
	rec.AccessKey = sig.accessKey
	cfg := s.config()
	now := s.now()
	if aerr := checkSkew(p, sig, now); aerr != nil {
		return caller{}, aerr
	}
	if sig.region != cfg.Region {
		return caller{}, &apiError{p.authStatus, p.badSignature,
			fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", sig.region)}
	}
	if sig.service != service {
		return caller{}, &apiError{p.authStatus, p.badSignature,
			fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service)}
	}
	s.mu.Lock()
	arn, ok := s.cfg.AccessKeys[sig.accessKey]
	s.mu.Unlock()
	if !ok {
		return caller{}, &apiError{p.authStatus, p.unknownKey,
			"The security token included in the request is invalid."}
	}
	return caller{accessKey: sig.accessKey, arn: arn}, nil
}

// parseSigV4 reads the SigV4 claims of a request, from the Authorization header or, for a
// presigned URL, from the query.
func parseSigV4(r *http.Request, p protocol) (sigV4, *apiError) {
	q := r.URL.Query()
	if q.Get("X-Amz-Credential") != "" {
		sig, aerr := parseCredential(p, q.Get("X-Amz-Credential"))
		if aerr != nil {
			return sig, aerr
		}
		secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || secs <= 0 {
			return sig, &apiError{http.StatusBadRequest, p.incomplete, "X-Amz-Expires must be a positive number of seconds."}
		}
		sig.expires = time.Duration(secs) * time.Second
		sig.date, err = time.Parse(amzDate, q.Get("X-Amz-Date"))
		if err != nil {
			return sig, &apiError{http.StatusBadRequest, p.incomplete, "Query string requires a valid 'X-Amz-Date' parameter."}
		}
		return sig, nil
	}

	auth := r.Header.Get("Authorization")
	if auth == "" {
		return sigV4{}, &apiError{p.authStatus, p.missingAuth, p.missingAuthMsg}
	}
	scheme, rest, _ := strings.Cut(auth, " ")
	if scheme != "AWS4-HMAC-SHA256" {
		return sigV4{}, &apiError{http.StatusBadRequest, p.incomplete,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."}
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if len(missing) > 0 {
		return sigV4{}, &apiError{http.StatusBadRequest, p.incomplete, strings.Join(missing, " ")}
	}
	sig, aerr := parseCredential(p, params["Credential"])
	if aerr != nil {
		return sig, aerr
	}
	var err error
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		sig.date, err = time.Parse(amzDate, d)
	} else if d := r.Header.Get("Date"); d != "" {
		sig.date, err = http.ParseTime(d)
	} else {
		err = fmt.Errorf("no date")
	}
	if err != nil {
		return sig, &apiError{http.StatusBadRequest, p.incomplete,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."}
	}
	return sig, nil
}

// parseCredential splits a SigV4 credential, <akid>/<date>/<region>/<service>/aws4_request.
func parseCredential(p protocol, cred string) (sigV4, *apiError) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return sigV4{}, &apiError{http.StatusBadRequest, p.incomplete, fmt.Sprintf(
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)}
	}
	return sigV4{accessKey: parts[0], region: parts[2], service: parts[3]}, nil
}

// checkSkew answers AWS's own messages for a signing time too far from the server's clock, so
// a client can tell clock skew from bad credentials. A presigned request may also be used
// until it expires.
func checkSkew(p protocol, sig sigV4, now time.Time) *apiError {
	earliest := now.Add(-maxSkew)
	if sig.expires > 0 {
		earliest = now.Add(-sig.expires)
	}
	switch {
	case sig.date.Before(earliest):
		return &apiError{p.authStatus, p.badSignature, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			sig.date.Format(amzDate), earliest.Format(amzDate), now.Format(amzDate), skewText(now.Sub(earliest)))}
	case sig.date.After(now.Add(maxSkew)):
		return &apiError{p.authStatus, p.badSignature, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			sig.date.Format(amzDate), now.Add(maxSkew).Format(amzDate), now.Format(amzDate))}
	}
	return nil
}

// skewText spells a window the way AWS's skew messages do ("15 min.").
func skewText(d time.Duration) string {
	return fmt.Sprintf("%d min", int(d.Minutes()))
}

// verdict is the policy decision on one action.
type verdict int

const (
	allowed      verdict = iota
	identityDeny         // no identity-based policy allows the action
	endpointDeny         // a VPC endpoint policy denies it explicitly
	throttled            // the action is throttled this time
)

// decide applies EndpointDeny, Deny and Throttle to action, in the order AWS evaluates them:
// a denied call is refused before it counts against a rate.
func (s *Server) decide(action string) verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cfg.EndpointDeny[action]:
		return endpointDeny
	case s.cfg.Deny[action]:
		return identityDeny
	case s.throttle[action] > 0:
		s.throttle[action]--
		return throttled
	}
	return allowed
}

// deniedMessage is IAM's message for a refused action, naming who, what and on which resource.
func deniedMessage(v verdict, arn, action, resource string) string {
	if v == endpointDeny {
		return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in a VPC endpoint policy",
			arn, action, resource)
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
		arn, action, resource, action)
}

// authorize answers an API error when action on resource is denied or throttled for who.
func (s *Server) authorize(p protocol, who caller, action, resource string) *apiError {
	switch v := s.decide(action); v {
	case identityDeny, endpointDeny:
		return &apiError{p.deniedStatus, p.denied, deniedMessage(v, who.arn, action, resource)}
	case throttled:
		return &apiError{http.StatusBadRequest, p.throttled, "Rate exceeded"}
	}
	return nil
}
