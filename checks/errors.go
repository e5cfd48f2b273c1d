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

// apiCode classifies an AWS API error by its code; "" when err carries none.
func apiCode(err error) Code {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	code := ae.ErrorCode()
	switch {
	case strings.HasPrefix(code, "AccessDenied"), code == "UnauthorizedOperation",
		code == "UnauthorizedException", code == "Forbidden", code == "AuthorizationError":
		return AccessDenied
	case code == "UnrecognizedClientException", code == "InvalidClientTokenId",
		code == "ExpiredToken", code == "ExpiredTokenException", code == "SignatureDoesNotMatch",
		code == "InvalidSignatureException", code == "IncompleteSignature",
		code == "MissingAuthenticationToken", code == "InvalidAccessKeyId":
		return AuthFailed
	case strings.Contains(code, "Throttl"), code == "TooManyRequestsException",
		code == "RequestLimitExceeded", code == "SlowDown":
		return Throttled
	case strings.HasSuffix(code, "NotFoundException"), code == "ResourceNotFoundException",
		code == "ParameterNotFound", code == "NoSuchKey", code == "NoSuchBucket":
		return NotFound
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
