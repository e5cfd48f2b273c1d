// Package checks holds vpcprobe's network checks: one file per check (dns, tcp, tls, http, auth),
// each a plain function that takes a context and what it tests and returns a Result. Checks know
// nothing of services, reports, flags or output; the probe package composes them.
package checks

import (
	"net/netip"
	"time"
)

// Status is a check's outcome. Skip means "not measured" (an earlier check failed or the check
// does not apply); it is never a failure.
type Status string

// The statuses of CONTRACT.md.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Code is a stable reason code from CONTRACT.md; users match on it, so values never change.
type Code string

// Reason codes. The first fourteen are CONTRACT.md's; the rest are documented extensions.
const (
	NXDomain     Code = "nxdomain"      // the name does not exist
	ServFail     Code = "servfail"      // the resolver failed (or refused) to answer
	DNSTimeout   Code = "dns-timeout"   // no resolver answered in time
	NoAnswer     Code = "no-answer"     // the name exists but has no A/AAAA record
	Timeout      Code = "timeout"       // connect timed out: security group, network ACL or missing route
	Refused      Code = "refused"       // connection refused (RST)
	Unreachable  Code = "unreachable"   // no route to the address
	TLSUntrusted Code = "tls-untrusted" // certificate chain does not verify against the roots
	TLSHostname  Code = "tls-hostname"  // certificate does not name the host
	TLSHandshake Code = "tls-handshake" // handshake failed or the peer never spoke
	AccessDenied Code = "access-denied" // IAM or endpoint policy denied the call
	AuthFailed   Code = "auth-failed"   // missing or invalid credentials
	HTTPError    Code = "http-error"    // an answer, but not the one an AWS endpoint gives
	Deadline     Code = "deadline"      // the run's --deadline fell before the check finished

	Throttled Code = "throttled" // extension: the API throttled every attempt
	NotFound  Code = "not-found" // extension: image, layer, secret or parameter does not exist
)

// Result is what one check measured. Fields that do not apply to a check stay empty.
type Result struct {
	Name     string        // check name: dns, tcp, tls, http, auth, manifest, layer
	Status   Status        // pass, warn, fail or skip
	Code     Code          // reason code when Status is fail or warn; empty on pass and skip
	Detail   string        // one short line for a person; never a secret
	Duration time.Duration // how long the check ran

	Addrs    []netip.Addr // dns: the addresses the name resolved to, in answer order
	CNAMEs   []string     // dns: the alias chain followed, first to last
	Resolver string       // dns: the server (host:port) whose answer this is
	Peers    []Peer       // tcp: one outcome per address
}

// Peer is the outcome of one address in a check that tries every address.
type Peer struct {
	Addr     netip.Addr
	Code     Code // empty when the address answered
	Duration time.Duration
}

// Skipped returns a skip result for a check that did not run, with the reason in Detail.
func Skipped(name, why string) Result {
	return Result{Name: name, Status: Skip, Detail: why}
}

// maxDetail bounds Result.Detail: reports stay readable and CloudWatch events stay small.
const maxDetail = 300

// Bound cuts s to the length allowed for a Detail, marking the cut.
func Bound(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "..."
}
