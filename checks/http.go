package checks

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// httpMaxBody bounds how much of a body is read: an AWS error document fits, and a captive
// portal's page is not worth more.
const httpMaxBody = 4 << 10

// HTTP sends one unsigned GET to rawURL and reports whether an AWS endpoint — not a proxy,
// firewall or captive page — answered.
//
// Any status counts when AWS answered: an unsigned request is expected to be refused, and the
// refusal is the proof. AWS answered when the response carries a request id header, the registry
// API version header, ECR's 401 challenge, or a body in an AWS error shape. Redirects are the
// client's business; a 3xx without those markers is an http-error like any other foreign
// answer. A nil client means one with the default transport that never follows redirects.
func HTTP(ctx context.Context, c *http.Client, rawURL string) Result {
	start := time.Now()
	res := Result{Name: "http"}
	finish := func(code Code, detail string) Result {
		res.Status, res.Code, res.Detail, res.Duration = Fail, code, Bound(detail), time.Since(start)
		if code == "" {
			res.Status = Pass
		}
		return res
	}
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return finish(HTTPError, fmt.Sprintf("bad URL: %v", httpRedactErr(err)))
	}
	// Never send credentials, not even ones embedded in the URL: the check must not depend on
	// them, and a proxy in the path must not see them.
	req.URL.User = nil
	target := httpRedactURL(req.URL)

	resp, err := c.Do(req)
	if err != nil {
		code := ClassifyIn(ctx, err)
		switch code {
		case Timeout:
			return finish(code, fmt.Sprintf("GET %s: no answer within %s", target, stepWithin(ctx, start)))
		case Deadline:
			return finish(code, fmt.Sprintf("GET %s: cut short by the run deadline", target))
		}
		return finish(code, fmt.Sprintf("GET %s: %v", target, httpRedactErr(err)))
	}
	defer resp.Body.Close()
	// A body that stalls or breaks is judged on what arrived: the headers usually suffice.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, httpMaxBody))

	if detail, ok := httpFromAWS(resp, body); ok {
		return finish("", detail)
	}
	detail := fmt.Sprintf("HTTP %d without any AWS request id: a proxy, firewall or captive page answered, not AWS", resp.StatusCode)
	if s := resp.Header.Get("Server"); s != "" {
		detail += fmt.Sprintf(" (Server: %s)", s)
	}
	if loc, err := resp.Location(); err == nil {
		detail += fmt.Sprintf(" (redirect to %s://%s)", loc.Scheme, loc.Host) // no path: it may carry tokens
	}
	return finish(HTTPError, detail)
}

// httpFromAWS reports whether AWS answered resp, and a detail saying how it shows.
func httpFromAWS(resp *http.Response, body []byte) (string, bool) {
	status := resp.StatusCode
	if status == http.StatusUnauthorized {
		for _, v := range resp.Header.Values("Www-Authenticate") {
			if strings.Contains(v, `service="ecr.amazonaws.com"`) {
				return "HTTP 401 with the ECR registry challenge", true
			}
		}
	}

	// http.Header.Get canonicalises the name, so every spelling of these headers matches.
	id := ""
	for _, h := range []string{"X-Amzn-RequestId", "X-Amz-Request-Id", "X-Amz-Id-2"} {
		if id = resp.Header.Get(h); id != "" {
			break
		}
	}
	errCode, bodyID, shaped := httpAWSErrorBody(body)
	if id == "" {
		id = bodyID
	}
	registry := strings.EqualFold(strings.TrimSpace(resp.Header.Get("Docker-Distribution-Api-Version")), "registry/2.0")
	if id == "" && !shaped && !registry {
		return "", false
	}

	detail := fmt.Sprintf("HTTP %d from AWS", status)
	if registry && id == "" && !shaped {
		detail = fmt.Sprintf("HTTP %d from the registry (Docker-Distribution-Api-Version registry/2.0)", status)
	}
	if errCode != "" {
		detail += " (" + errCode + ")"
	}
	if id != "" {
		detail += ", request id " + id
	}
	return detail, true
}

// httpAWSErrorBody recognises the error documents AWS protocols return: JSON with "__type"
// (awsJson, restJson) and XML with an <ErrorResponse> root (awsQuery) or an <Error> root holding
// a <Code> (restXml, S3). It returns the error code and request id found, and whether the body
// had such a shape.
func httpAWSErrorBody(body []byte) (code, requestID string, ok bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "", "", false
	}
	if trimmed[0] == '{' {
		var doc map[string]any
		if json.Unmarshal(trimmed, &doc) != nil {
			return "", "", false
		}
		t, found := doc["__type"]
		if !found {
			return "", "", false
		}
		s, _ := t.(string)
		// "com.amazon.coral.service#UnknownOperationException" and "Name:http://…" both occur.
		if i := strings.LastIndex(s, "#"); i >= 0 {
			s = s[i+1:]
		}
		if i := strings.Index(s, ":"); i >= 0 {
			s = s[:i]
		}
		return s, "", true
	}

	var doc struct {
		XMLName   xml.Name
		Code      string `xml:"Code"`
		RequestID string `xml:"RequestId"`
		Error     struct {
			Code string `xml:"Code"`
		} `xml:"Error"`
	}
	if xml.Unmarshal(trimmed, &doc) != nil {
		return "", "", false
	}
	switch {
	case doc.XMLName.Local == "ErrorResponse":
		return doc.Error.Code, doc.RequestID, true
	case doc.XMLName.Local == "Error" && doc.Code != "":
		return doc.Code, doc.RequestID, true
	}
	return "", "", false
}

// httpRedactURL prints u without user info and query: a presigned URL's signature lives in the
// query and must never reach a report.
func httpRedactURL(u *url.URL) string {
	r := *u
	r.User = nil
	r.RawQuery = ""
	r.ForceQuery = false
	r.Fragment = ""
	return r.String()
}

// httpRedactErr returns the cause of a *url.Error without the URL it carries, for the same
// reason as httpRedactURL.
func httpRedactErr(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
