// Package couldnottest names the outcome every vpcprobe runner shares when it measured nothing:
// "could not test" (CONTRACT.md's exit 3), as opposed to "measured and failed" (exit 1). The
// launcher (ECS or Lambda), explain-stopped and inspect return an *Error when a permission or an
// AWS API call failed before anything was measured; cmd/vpcprobe turns it into exit 3 and its one
// line. It is a package of its own, not a part of launch, because launch imports inspect: both
// must be able to return it.
package couldnottest

import (
	"errors"
	"regexp"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/checks"
)

// Err matches (errors.Is) every *Error: nothing was measured.
var Err = errors.New("could not test")

// Error is why nothing was measured: an AWS call (Action, as IAM names it) that was denied or
// failed, or missing credentials.
type Error struct {
	// Action is the IAM action of the call that failed ("ecs:RunTask"); when the call was
	// denied and AWS's message names another action (iam:PassRole for RunTask), that one.
	Action string
	// Code is the failure's reason code: access-denied, auth-failed, timeout, ...
	Code checks.Code
	// Err is the call's error.
	Err error
}

// Call returns the *Error of the AWS call action that failed with err, classified once
// (checks.Classify). A nil err is nil.
func Call(action string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Action: action, Code: checks.Classify(err), Err: err}
	if e.Code == checks.AccessDenied {
		if m := deniedAction.FindStringSubmatch(message(err)); m != nil {
			e.Action = m[1]
		}
	}
	return e
}

// NoCredentials returns the *Error of a run that found no AWS credentials.
func NoCredentials(err error) error {
	return &Error{Code: checks.AuthFailed, Err: err}
}

// deniedAction finds the action an AccessDenied message names: "… is not authorized to perform:
// iam:PassRole on resource: …".
var deniedAction = regexp.MustCompile(`perform: ([a-z0-9-]+:[A-Za-z0-9]+)`)

// Error is one line: what could not be done and why, naming the IAM action when it was denied.
func (e *Error) Error() string {
	why := oneLine(message(e.Err))
	switch {
	case e.Action == "":
		return "could not test: no usable AWS credentials: " + why
	case e.Code == checks.AccessDenied:
		return "could not test: " + e.Action + " denied: allow it to this identity (" + why + ")"
	case e.Code == checks.AuthFailed:
		return "could not test: " + e.Action + ": credentials refused (" + why + ")"
	}
	return "could not test: " + e.Action + " failed (" + string(e.Code) + "): " + why
}

// Unwrap makes an *Error match Err and its cause.
func (e *Error) Unwrap() []error { return []error{Err, e.Err} }

// message is an API error's code and message, else the error's text.
func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// oneLine keeps a cause to one bounded line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
