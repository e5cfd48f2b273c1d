package fakeaws

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// stsVersion is the only API version STS speaks.
const stsVersion = "2011-06-15"

// stsNamespace is the XML namespace of every STS answer.
const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// stsActions are the STS actions the fake answers; adding one is one line.
var stsActions = map[string]func(s *Server, w http.ResponseWriter, who caller){
	"GetCallerIdentity": (*Server).stsGetCallerIdentity,
}

// isQueryRequest reports whether r speaks the AWS query protocol (a form or query with Action).
func isQueryRequest(r *http.Request) bool {
	if r.URL.Query().Get("Action") != "" {
		return true
	}
	ct := r.Header.Get("Content-Type")
	return r.Method == http.MethodPost && strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// serveQuery answers STS: POST form (or presigned GET) with Action and Version.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, rec *Request) {
	rec.Service = "sts"
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeQueryError(w, &apiError{http.StatusBadRequest, "MalformedInput", "The request body could not be parsed."})
		return
	}
	action := r.Form.Get("Action")
	if action != "" {
		rec.Action = "sts:" + action
	}
	who, aerr := s.authenticate(r, queryProtocol, "sts", rec)
	if aerr != nil {
		writeQueryError(w, aerr)
		return
	}
	fn := stsActions[action]
	if version := r.Form.Get("Version"); fn == nil || version != stsVersion {
		writeQueryError(w, &apiError{http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("Could not find operation %s for version %s", action, version)})
		return
	}
	fn(s, w, who)
}

// stsGetCallerIdentity answers who the caller is. IAM cannot deny it by identity policy, but
// tests may still ask for a denial (as a VPC endpoint policy could give), so Deny applies.
func (s *Server) stsGetCallerIdentity(w http.ResponseWriter, who caller) {
	if aerr := s.authorize(queryProtocol, who, "sts:GetCallerIdentity", who.arn); aerr != nil {
		writeQueryError(w, aerr)
		return
	}
	account := s.config().Account
	if parts := strings.Split(who.arn, ":"); len(parts) >= 6 && parts[4] != "" {
		account = parts[4]
	}
	type result struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	type response struct {
		XMLName   xml.Name `xml:"GetCallerIdentityResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Result    result   `xml:"GetCallerIdentityResult"`
		RequestID string   `xml:"ResponseMetadata>RequestId"`
	}
	writeXML(w, http.StatusOK, response{
		Xmlns:     stsNamespace,
		Result:    result{Arn: who.arn, UserID: userID(who.arn, account), Account: account},
		RequestID: setRequestID(w),
	})
}

// userID derives a stable unique id for a principal the way IAM shapes them: AROA…:session
// for an assumed role, AIDA… for a user, the account for root.
func userID(arn, account string) string {
	sum := sha256.Sum256([]byte(arn))
	id := base32.StdEncoding.EncodeToString(sum[:])[:17]
	switch {
	case strings.Contains(arn, ":assumed-role/"):
		session := arn[strings.LastIndex(arn, "/")+1:]
		return "AROA" + id + ":" + session
	case strings.HasSuffix(arn, ":root"):
		return account
	}
	return "AIDA" + id
}

// writeQueryError answers e in the query protocol's shape, <ErrorResponse>.
func writeQueryError(w http.ResponseWriter, e *apiError) {
	type errorBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type response struct {
		XMLName   xml.Name  `xml:"ErrorResponse"`
		Xmlns     string    `xml:"xmlns,attr"`
		Error     errorBody `xml:"Error"`
		RequestID string    `xml:"RequestId"`
	}
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	writeXML(w, e.status, response{
		Xmlns:     stsNamespace,
		Error:     errorBody{Type: typ, Code: e.code, Message: e.message},
		RequestID: setRequestID(w),
	})
}

// setRequestID gives the answer an x-amzn-RequestId header and returns the id, for bodies that
// repeat it.
func setRequestID(w http.ResponseWriter) string {
	id := requestID()
	w.Header().Set("x-amzn-RequestId", id)
	return id
}

// writeXML answers v as text/xml.
func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write(append([]byte(xml.Header), b...))
}
