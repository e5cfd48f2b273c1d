package fakeaws_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

const (
	registryHost = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	bucketHost   = "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com"

	dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	dockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	ociManifest    = "application/vnd.oci.image.manifest.v1+json"
	ociIndex       = "application/vnd.oci.image.index.v1+json"
)

// doURL sends a plain HTTP request for an absolute URL to the fake, as if to its host.
func (e *env) doURL(t *testing.T, method, rawURL string, header http.Header) (*http.Response, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, method, u.Host, u.RequestURI(), header)
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// manifestLayers returns the layer digests of an image manifest.
func manifestLayers(t *testing.T, body string) []string {
	t.Helper()
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || len(m.Layers) == 0 {
		t.Fatalf("not an image manifest (%v): %s", err, body)
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// platformDigest returns the digest of an index's entry for os/arch.
func platformDigest(t *testing.T, body, os, arch string) string {
	t.Helper()
	var idx struct {
		Manifests []struct {
			Digest   string
			Platform struct{ OS, Architecture string }
		}
	}
	if err := json.Unmarshal([]byte(body), &idx); err != nil {
		t.Fatal(err)
	}
	for _, m := range idx.Manifests {
		if m.Platform.OS == os && m.Platform.Architecture == arch {
			return m.Digest
		}
	}
	t.Fatalf("no %s/%s in index %s", os, arch, body)
	return ""
}

func basic(password string) http.Header {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth("AWS", password)
	return r.Header
}

func TestRegistryLogin(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	resp, _ := e.do(t, "GET", registryHost, "/v2/", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	want := `Basic realm="https://` + registryHost + `/",service="ecr.amazonaws.com"`
	if got := resp.Header.Get("Www-Authenticate"); got != want {
		t.Errorf("Www-Authenticate = %q, want %q", got, want)
	}
	if got := resp.Header.Get("Docker-Distribution-Api-Version"); got != "registry/2.0" {
		t.Errorf("Docker-Distribution-Api-Version = %q", got)
	}

	password := e.registryPassword(t)
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"valid token", basic(password), http.StatusOK},
		{"wrong password", basic("nope"), http.StatusUnauthorized},
		{"bearer", http.Header{"Authorization": {"Bearer x"}}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := e.do(t, "GET", registryHost, "/v2/", tt.header)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestRegistryPull(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	auth := basic(e.registryPassword(t))
	accept := func(types ...string) http.Header {
		h := auth.Clone()
		h["Accept"] = types
		return h
	}

	// The tag names an index; a client that reads indexes gets it.
	resp, index := e.do(t, "GET", registryHost, "/v2/app/manifests/latest", accept(dockerManifest, dockerList, ociManifest, ociIndex))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != dockerList {
		t.Fatalf("index: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != digest([]byte(index)) {
		t.Errorf("Docker-Content-Digest = %s, want %s", got, digest([]byte(index)))
	}
	amd64 := platformDigest(t, index, "linux", "amd64")

	// By digest, the platform's manifest.
	resp, manifest := e.do(t, "GET", registryHost, "/v2/app/manifests/"+amd64, accept(dockerManifest))
	if resp.StatusCode != http.StatusOK || digest([]byte(manifest)) != amd64 {
		t.Fatalf("manifest: %d, digest %s", resp.StatusCode, digest([]byte(manifest)))
	}
	layer := manifestLayers(t, manifest)[0]

	// A client that cannot read indexes gets the linux/amd64 manifest; HEAD answers headers only.
	resp, body := e.do(t, "HEAD", registryHost, "/v2/app/manifests/latest", accept(dockerManifest))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Content-Digest") != amd64 || body != "" {
		t.Errorf("HEAD: %d %s %q", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), body)
	}

	for _, tt := range []struct{ name, path, code string }{
		{"unknown tag", "/v2/app/manifests/nope", "MANIFEST_UNKNOWN"},
		{"unknown repo", "/v2/nope/manifests/latest", "NAME_UNKNOWN"},
		{"unknown blob", "/v2/app/blobs/sha256:00", "BLOB_UNKNOWN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(t, "GET", registryHost, tt.path, accept(dockerManifest))
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"code":"`+tt.code+`"`) {
				t.Errorf("got %d %s, want 404 %s", resp.StatusCode, body, tt.code)
			}
		})
	}

	// The blob is a redirect to a presigned URL on the layer bucket.
	resp, _ = e.do(t, "GET", registryHost, "/v2/app/blobs/"+layer, auth)
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("blob: status %d, want 307", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host != bucketHost || loc.Query().Get("X-Amz-Signature") == "" || loc.Query().Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		t.Fatalf("Location = %s", resp.Header.Get("Location"))
	}

	resp, body = e.doURL(t, "GET", loc.String(), http.Header{"Range": {"bytes=0-0"}})
	if resp.StatusCode != http.StatusPartialContent || len(body) != 1 || resp.Header.Get("x-amz-request-id") == "" {
		t.Errorf("range: %d, %d bytes, request id %q", resp.StatusCode, len(body), resp.Header.Get("x-amz-request-id"))
	}
	resp, body = e.doURL(t, "GET", loc.String(), nil)
	if resp.StatusCode != http.StatusOK || digest([]byte(body)) != layer {
		t.Errorf("whole layer: %d, digest %s", resp.StatusCode, digest([]byte(body)))
	}

	tampered := *loc
	q := tampered.Query()
	q.Set("X-Amz-Signature", strings.Repeat("0", 64))
	tampered.RawQuery = q.Encode()
	unsigned := *loc
	unsigned.RawQuery = ""
	for _, tt := range []struct {
		name   string
		url    string
		header http.Header
		status int
		code   string
	}{
		{"forwarded registry Basic header", loc.String(), auth, http.StatusBadRequest, "InvalidArgument"},
		{"unsigned", unsigned.String(), nil, http.StatusForbidden, "AccessDenied"},
		{"tampered signature", tampered.String(), nil, http.StatusForbidden, "SignatureDoesNotMatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.doURL(t, "GET", tt.url, tt.header)
			if resp.StatusCode != tt.status || !strings.Contains(body, "<Code>"+tt.code+"</Code>") || !strings.Contains(body, "<RequestId>") {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.code)
			}
		})
	}

	// A bucket policy (or gateway endpoint policy) that denies the layer bucket.
	e.fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"s3:GetObject": true} })
	resp, body = e.doURL(t, "GET", loc.String(), nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Errorf("denied bucket: %d %s", resp.StatusCode, body)
	}

	// The registry itself refuses a manifest read the role may not make.
	e.fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"ecr:BatchGetImage": true} })
	resp, body = e.do(t, "GET", registryHost, "/v2/app/manifests/latest", accept(dockerList))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"code":"DENIED"`) {
		t.Errorf("denied manifest: %d %s", resp.StatusCode, body)
	}

	for _, r := range e.fake.Requests() {
		if r.Service == "s3" && strings.Contains(r.Action, "X-Amz-Signature") {
			t.Errorf("request log holds a presigned signature: %+v", r)
		}
	}
}

func TestOCISingleManifest(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.Images = map[string]fakeaws.Image{"team/tool:v1": {OCI: true, Layers: []fakeaws.Layer{{Data: []byte("hello")}}}}
	e := newEnv(t, cfg)
	auth := basic(e.registryPassword(t))
	auth["Accept"] = []string{ociManifest + ", " + ociIndex}
	resp, body := e.do(t, "GET", registryHost, "/v2/team/tool/manifests/v1", auth)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ociManifest {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := manifestLayers(t, body)[0]; got != digest([]byte("hello")) {
		t.Errorf("layer digest %s", got)
	}
	auth["Accept"] = []string{dockerManifest}
	if resp, _ := e.do(t, "GET", registryHost, "/v2/team/tool/manifests/v1", auth); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an OCI manifest for a Docker-only client: %d, want 404", resp.StatusCode)
	}
}
