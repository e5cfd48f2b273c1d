package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
)

// Classify maps an error chain to a reason code. It is the one place where errors become codes,
// and it looks in a fixed order: the run's deadline, an AWS API error code, DNS, TLS and x509,
// timeouts, then refused and unreachable. It returns "" for a nil error and HTTPError for an
// error it does not recognise.
func Classify(err error) Code {
	if err == nil {
		return ""
	}
	if errors.Is(err, ErrDeadline) {
		return Deadline
	}
	// A proxy's tunnel that could not be opened has its code already (auth-failed for a 407).
	var te *tunnelError
	if errors.As(err, &te) {
		return te.code
	}
	// A call that never left for want of credentials is about the credentials, whatever the
	// credential source's own failure was (a timeout to the container endpoint, say).
	var credErr *CredentialsError
	if errors.As(err, &credErr) {
		return AuthFailed
	}
	if c := apiCode(err); c != "" {
		return c
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return NXDomain
		case dnsErr.IsTimeout:
			return DNSTimeout
		default:
			return ServFail
		}
	}
	if c := tlsCode(err); c != "" {
		return c
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return Timeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Timeout
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.ENETDOWN):
		return Unreachable
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return TLSHandshake
	}
	return HTTPError
}

// ErrDeadline marks work cut short by the run's overall --deadline, as opposed to a per-step
// --timeout. The probe cancels the run's context with it as the cause (context.WithDeadlineCause).
var ErrDeadline = errors.New("run deadline reached")

// CredentialsError is a call that was never sent because no usable credentials were found:
// none configured, a credential source that failed, or an ECS task without a task role. The
// probe wraps its credential provider's errors in it, so that Classify calls them auth-failed.
type CredentialsError struct{ Err error }

// Error says that there were no usable credentials, and why.
func (e *CredentialsError) Error() string { return "no usable credentials: " + e.Err.Error() }

// Unwrap returns the credential source's own error.
func (e *CredentialsError) Unwrap() error { return e.Err }

// apiCode classifies an AWS API error by its code; "" when err carries none.
func apiCode(err error) Code {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	if c := errorCode(ae.ErrorCode()); c != "" {
		return c
	}
	return HTTPError
}

// errorCode classifies the error code of an AWS API, the registry API or S3; "" when it is
// none of the known ones.
func errorCode(code string) Code {
	switch {
	case strings.Contains(code, "AccessDenied"), code == "UnauthorizedOperation",
		code == "UnauthorizedException", code == "Forbidden", code == "AuthorizationError",
		code == "DENIED", code == "DecryptionFailure":
		// DecryptionFailure: Secrets Manager could not use the secret's KMS key for the
		// caller, which is a key policy or kms:Decrypt permission.
		return AccessDenied
	case code == "UnrecognizedClientException", code == "InvalidClientTokenId",
		code == "ExpiredToken", code == "ExpiredTokenException", code == "SignatureDoesNotMatch",
		code == "InvalidSignatureException", code == "IncompleteSignature",
		code == "IncompleteSignatureException", code == "MissingAuthenticationToken",
		code == "MissingAuthenticationTokenException", code == "InvalidAccessKeyId",
		code == "RequestExpired", code == "RequestTimeTooSkewed", code == "InvalidToken",
		code == "UNAUTHORIZED":
		return AuthFailed
	case strings.Contains(code, "Throttl"), code == "TooManyRequestsException",
		code == "RequestLimitExceeded", code == "SlowDown", code == "TOOMANYREQUESTS":
		return Throttled
	case strings.HasSuffix(code, "NotFoundException"), code == "ResourceNotFoundException",
		code == "ParameterNotFound", code == "NoSuchKey", code == "NoSuchBucket",
		code == "NAME_UNKNOWN", code == "MANIFEST_UNKNOWN", code == "BLOB_UNKNOWN":
		return NotFound
	}
	return ""
}

// HTTPAnswer classifies a refusal that came as a plain HTTP answer rather than an SDK error
// (the registry API, a presigned S3 GET): by the error code of its body when it has a known
// one, else by its status. It is Classify's counterpart for answers, so both agree on codes.
func HTTPAnswer(status int, errCode string) Code {
	if c := errorCode(errCode); c != "" {
		return c
	}
	switch {
	case status == 401:
		return AuthFailed
	case status == 403:
		return AccessDenied
	case status == 404:
		return NotFound
	case status == 429, status == 503:
		return Throttled
	}
	return HTTPError
}

// tlsCode classifies certificate and handshake failures; "" when err is neither.
func tlsCode(err error) Code {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var recordHdr tls.RecordHeaderError
	switch {
	case errors.As(err, &hostname):
		return TLSHostname
	case errors.As(err, &unknown), errors.As(err, &invalid):
		return TLSUntrusted
	case errors.As(err, &verify):
		return TLSUntrusted
	case errors.As(err, &alert), errors.As(err, &recordHdr):
		return TLSHandshake
	}
	if strings.Contains(err.Error(), "tls: ") {
		return TLSHandshake
	}
	return ""
}

// ClassifyIn is Classify for an error that happened under ctx: when ctx ended because the run's
// deadline fell (cause ErrDeadline), the code is Deadline whatever the error says, so that a
// check cut short by the run is never blamed on the network.
func ClassifyIn(ctx context.Context, err error) Code {
	if err == nil {
		return ""
	}
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrDeadline) {
		return Deadline
	}
	return Classify(err)
}
