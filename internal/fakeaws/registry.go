package fakeaws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// registryID is who a registry password was issued to, and until when.
type registryID struct {
	arn     string
	expires time.Time
}

// serveRegistry answers the Docker registry API v2 as <account>.dkr.ecr.<region>.amazonaws.com
// does: Basic authentication with an ECR token, manifests, and blobs as redirects to S3.
func (s *Server) serveRegistry(w http.ResponseWriter, r *http.Request, rec *Request) {
	rec.Action = r.Method + " " + r.URL.Path
	w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
	host := hostOnly(r.Host)
	path := r.URL.Path
	if !strings.HasPrefix(path, "/v2") {
		registryError(w, http.StatusNotFound, "NOT_FOUND", "404 page not found")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		registryError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "The operation is unsupported.")
		return
	}
	who, ok := s.registryAuth(w, r, host)
	if !ok {
		return
	}
	if path == "/v2/" || path == "/v2" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write([]byte("{}"))
		}
		return
	}
	rest := strings.TrimPrefix(path, "/v2/")
	if i := strings.LastIndex(rest, "/manifests/"); i > 0 {
		s.serveManifest(w, r, who, host, rest[:i], rest[i+len("/manifests/"):])
		return
	}
	if i := strings.LastIndex(rest, "/blobs/"); i > 0 {
		s.serveBlob(w, r, who, host, rest[:i], rest[i+len("/blobs/"):])
		return
	}
	registryError(w, http.StatusNotFound, "NOT_FOUND", "404 page not found")
}

// registryAuth checks the Basic credentials a docker client sends (user AWS, password from
// GetAuthorizationToken) and answers the challenge or refusal itself when they fail.
func (s *Server) registryAuth(w http.ResponseWriter, r *http.Request, host string) (registryID, bool) {
	challenge := func() {
		w.Header().Set("Www-Authenticate", fmt.Sprintf(`Basic realm="https://%s/",service="ecr.amazonaws.com"`, host))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("Not Authorized\n"))
	}
	user, password, ok := r.BasicAuth()
	if !ok || user != "AWS" {
		challenge()
		return registryID{}, false
	}
	s.mu.Lock()
	id, known := s.tokens[password]
	s.mu.Unlock()
	if !known {
		challenge()
		return registryID{}, false
	}
	if s.now().After(id.expires) {
		registryError(w, http.StatusForbidden, "DENIED", "Your authorization token has expired. Reauthenticate and try again.")
		return registryID{}, false
	}
	return id, true
}

// registryAllows applies Deny and Throttle to a registry call: the registry authorizes manifest
// reads as ecr:BatchGetImage and blob reads as ecr:GetDownloadUrlForLayer.
func (s *Server) registryAllows(w http.ResponseWriter, who registryID, action, repo string) bool {
	switch v := s.decide(action); v {
	case identityDeny, endpointDeny:
		registryError(w, http.StatusForbidden, "DENIED", deniedMessage(v, who.arn, action, s.repoARN(repo)))
		return false
	case throttled:
		registryError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", "Rate exceeded")
		return false
	}
	return true
}

// registryRepo finds a repository of the registry host's account.
func (s *Server) registryRepo(w http.ResponseWriter, host, name string) (*repository, bool) {
	s.mu.Lock()
	repo := s.reg.repos[name]
	account := s.cfg.Account
	s.mu.Unlock()
	if repo == nil || !strings.HasPrefix(host, account+".") {
		registryAccount, _, _ := strings.Cut(host, ".")
		registryError(w, http.StatusNotFound, "NAME_UNKNOWN",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, registryAccount))
		return nil, false
	}
	return repo, true
}

// serveManifest answers GET/HEAD /v2/<repo>/manifests/<tag|digest>, honouring Accept.
func (s *Server) serveManifest(w http.ResponseWriter, r *http.Request, who registryID, host, name, ref string) {
	if !s.registryAllows(w, who, "ecr:BatchGetImage", name) {
		return
	}
	repo, ok := s.registryRepo(w, host, name)
	if !ok {
		return
	}
	m, ok := repo.resolve(ref)
	if ok {
		m, ok = repo.negotiate(m, acceptedTypes(r))
	}
	if !ok {
		registryError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")
		return
	}
	w.Header().Set("Content-Type", m.mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
	w.Header().Set("Docker-Content-Digest", m.digest)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(m.body)
	}
}

// serveBlob answers GET/HEAD /v2/<repo>/blobs/<digest> with a redirect to a presigned URL on
// the layer bucket: ECR never serves blob bytes itself.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, who registryID, host, name, digest string) {
	if !s.registryAllows(w, who, "ecr:GetDownloadUrlForLayer", name) {
		return
	}
	repo, ok := s.registryRepo(w, host, name)
	if !ok {
		return
	}
	if _, ok := repo.blobs[digest]; !ok {
		registryError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry")
		return
	}
	w.Header().Set("Location", s.presignLayer(name, digest))
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// acceptedTypes lists the media types of a request's Accept headers, parameters dropped.
func acceptedTypes(r *http.Request) []string {
	var out []string
	for _, line := range r.Header.Values("Accept") {
		for _, part := range strings.Split(line, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if mt = strings.TrimSpace(mt); mt != "" {
				out = append(out, mt)
			}
		}
	}
	return out
}

// registryError answers the registry API's JSON error shape.
func registryError(w http.ResponseWriter, status int, code, message string) {
	type item struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(map[string][]item{"errors": {{code, message}}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// repoARN is a repository's ARN, the resource IAM names in ECR denials.
func (s *Server) repoARN(name string) string {
	cfg := s.config()
	return fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", cfg.Region, cfg.Account, name)
}

// issueToken creates a registry password for arn, valid 12 hours like ECR's, and returns it
// with its expiry. Its shape follows ECR's (base64 of a JSON envelope) so that tests which
// check a secret never leaks look for something realistic.
func (s *Server) issueToken(arn string) (string, time.Time) {
	expires := s.now().Add(12 * time.Hour)
	envelope, _ := json.Marshal(map[string]any{
		"payload":    base64.StdEncoding.EncodeToString([]byte(randomHex(96))),
		"datakey":    base64.StdEncoding.EncodeToString([]byte(randomHex(48))),
		"version":    "2",
		"type":       "DATA_KEY",
		"expiration": expires.Unix(),
	})
	password := base64.StdEncoding.EncodeToString(envelope)
	s.mu.Lock()
	s.tokens[password] = registryID{arn: arn, expires: expires}
	s.mu.Unlock()
	return password, expires
}
