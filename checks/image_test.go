package checks

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

const testRegistry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

func TestParseImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	good := []struct {
		uri               string
		repo, tag, digest string
	}{
		{testRegistry + "/app", "app", "latest", ""},
		{testRegistry + "/team/app:v1.2", "team/app", "v1.2", ""},
		{testRegistry + "/app@" + digest, "app", "", digest},
		{testRegistry + "/app:v1@" + digest, "app", "", digest},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1", "app", "1", ""},
		{"123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/a.b_c-d/e:x", "a.b_c-d/e", "x", ""},
	}
	for _, g := range good {
		r, err := ParseImage(g.uri)
		if err != nil || r.Repository != g.repo || r.Tag != g.tag || r.Digest != g.digest || r.Account != "123456789012" {
			t.Errorf("%s: %+v %v", g.uri, r, err)
		}
	}
	bad := []string{
		"", "app:latest", "docker.io/library/nginx", "public.ecr.aws/nginx/nginx:latest",
		"12345.dkr.ecr.eu-west-1.amazonaws.com/app", testRegistry, testRegistry + "/",
		testRegistry + "/App", testRegistry + "/app:", testRegistry + "/app@sha256:abc",
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn/app", "123456789012.dkr.ecr.cn-north-1.amazonaws.com/app",
		"https://" + testRegistry + "/app", testRegistry + "/app:" + strings.Repeat("t", 129),
	}
	for _, uri := range bad {
		if r, err := ParseImage(uri); err == nil {
			t.Errorf("%q parsed: %+v", uri, r)
		}
	}
}

// pullWorld is a fake registry with images, a token for it, and the image reference of tag.
func pullWorld(t *testing.T, edit func(*fakeaws.Config)) (*fakeAWS, Token) {
	t.Helper()
	f := newFakeAWS(t, func(c *fakeaws.Config) {
		c.Images["app:oci"] = fakeaws.Image{OCI: true, Platforms: []fakeaws.Platform{
			{OS: "linux", Architecture: "amd64", Layers: []fakeaws.Layer{{Size: 300}, {Size: 100}}},
			{OS: "linux", Architecture: "arm64", Layers: []fakeaws.Layer{{Size: 300}, {Size: 200}}},
		}}
		c.Images["app:single"] = fakeaws.Image{Layers: []fakeaws.Layer{{Size: 64}, {Size: 32}, {Size: 128}}}
		c.Images["app:empty"] = fakeaws.Image{Layers: []fakeaws.Layer{}}
		c.Images["app:armonly"] = fakeaws.Image{Platforms: []fakeaws.Platform{
			{OS: "linux", Architecture: "arm64", Variant: "v8", Layers: []fakeaws.Layer{{Size: 10}}},
		}}
		if edit != nil {
			edit(c)
		}
	})
	r, tok := AuthorizationToken(context.Background(), ecr.NewFromConfig(f.cfg))
	if r.Status != Pass {
		t.Fatalf("token: %+v", r)
	}
	return f, tok
}

func mustImage(t *testing.T, uri string) ImageRef {
	t.Helper()
	r, err := ParseImage(uri)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestManifestAndLayer(t *testing.T) {
	f, tok := pullWorld(t, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		tag  string
		arch string
		size int64
	}{
		{"docker index, amd64", "latest", "amd64", 1024},
		{"docker index, arm64", "latest", "arm64", 2048},
		{"oci index", "oci", "amd64", 100},
		{"single manifest", "single", "amd64", 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, l := Manifest(ctx, f.client, mustImage(t, testRegistry+"/app:"+tt.tag), tok, tt.arch, 2*time.Second)
			if r.Status != Pass || r.Name != "manifest" || l.Size != tt.size || l.URL == "" {
				t.Fatalf("manifest %+v, layer %v", r, l)
			}
			u, _ := url.Parse(l.URL)
			if strings.Contains(r.Detail, u.RawQuery) || strings.Contains(r.Detail, "X-Amz") {
				t.Errorf("detail holds the presigned URL: %s", r.Detail)
			}
			lr := Layer(ctx, f.client, l)
			if lr.Status != Pass || lr.Name != "layer" || strings.Contains(lr.Detail, "X-Amz") {
				t.Fatalf("layer %+v", lr)
			}
		})
	}
	// The layer bucket never saw the registry's Basic credential.
	for _, req := range f.fake.Requests() {
		if req.Service == "s3" && req.Auth != "presigned" {
			t.Errorf("S3 request authenticated with %q: %+v", req.Auth, req)
		}
	}

	// By digest, an index's and a manifest's.
	for _, tag := range []string{"latest", "single"} {
		digest := manifestDigest(t, f, tok, tag)
		r, l := Manifest(ctx, f.client, mustImage(t, testRegistry+"/app@"+digest), tok, "amd64", 2*time.Second)
		if r.Status != Pass || l.URL == "" {
			t.Errorf("by digest of %s: %+v", tag, r)
		}
	}
	if r, l := Manifest(ctx, f.client, mustImage(t, testRegistry+"/app:empty"), tok, "amd64", 2*time.Second); r.Status != Pass || l.URL != "" {
		t.Errorf("image without layers: %+v %v", r, l)
	}
	if r := Layer(ctx, f.client, LayerRef{}); r.Status != Skip {
		t.Errorf("no URL: %+v", r)
	}
}

// manifestDigest asks the registry for the manifest of tag and returns the digest it names it by.
func manifestDigest(t *testing.T, f *fakeAWS, tok Token, tag string) string {
	t.Helper()
	resp, _, err := registryGet(context.Background(), f.client, "https://"+testRegistry+"/v2/app/manifests/"+tag, tok, manifestAccept)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("manifest of %s: %v", tag, err)
	}
	resp.Body.Close()
	return resp.Header.Get("Docker-Content-Digest")
}

func TestManifestFailures(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*fakeaws.Config)
		image string
		arch  string
		code  Code
		want  string
	}{
		{"tag not found", nil, "app:nope", "amd64", NotFound, "MANIFEST_UNKNOWN"},
		{"repository not found", nil, "other:latest", "amd64", NotFound, "NAME_UNKNOWN"},
		{"no image for this platform", nil, "app:armonly", "amd64", NotFound, "linux/amd64"},
		{"manifest denied", func(c *fakeaws.Config) { c.Deny = map[string]bool{"ecr:BatchGetImage": true} }, "app:latest", "amd64", AccessDenied, "ecr:BatchGetImage"},
		{"blob denied by endpoint policy", func(c *fakeaws.Config) { c.EndpointDeny = map[string]bool{"ecr:GetDownloadUrlForLayer": true} }, "app:latest", "amd64", AccessDenied, "ecr:GetDownloadUrlForLayer"},
		{"registry throttles", func(c *fakeaws.Config) { c.Throttle = map[string]int{"ecr:BatchGetImage": 1} }, "app:latest", "amd64", Throttled, "TOOMANYREQUESTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, tok := pullWorld(t, nil)
			if tt.edit != nil {
				f.fake.Configure(tt.edit)
			}
			r, l := Manifest(context.Background(), f.client, mustImage(t, testRegistry+"/"+tt.image), tok, tt.arch, 2*time.Second)
			if r.Status != Fail || r.Code != tt.code || !strings.Contains(r.Detail, tt.want) || l.URL != "" {
				t.Fatalf("got %+v, want %s naming %q", r, tt.code, tt.want)
			}
		})
	}
	f, _ := pullWorld(t, nil)
	if r, _ := Manifest(context.Background(), f.client, mustImage(t, testRegistry+"/app"), Token{}, "amd64", time.Second); r.Status != Skip {
		t.Errorf("no token: %+v", r)
	}
}

func TestLayerFailures(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*fakeaws.Config)
		tamper bool
		code   Code
	}{
		{"gateway endpoint policy", func(c *fakeaws.Config) { c.EndpointDeny = map[string]bool{"s3:GetObject": true} }, false, AccessDenied},
		{"no answer", func(c *fakeaws.Config) { c.LayerDelay = time.Minute }, false, Timeout},
		{"tampered URL", nil, true, AuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, tok := pullWorld(t, nil)
			_, l := Manifest(context.Background(), f.client, mustImage(t, testRegistry+"/app:latest"), tok, "amd64", 2*time.Second)
			if l.URL == "" {
				t.Fatal("no layer URL")
			}
			if tt.edit != nil {
				f.fake.Configure(tt.edit)
			}
			if tt.tamper {
				u, _ := url.Parse(l.URL)
				q := u.Query()
				q.Set("X-Amz-Signature", strings.Repeat("0", 64))
				u.RawQuery = q.Encode()
				l.URL = u.String()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			r := Layer(ctx, f.client, l)
			if r.Status != Fail || r.Code != tt.code || strings.Contains(r.Detail, "X-Amz") {
				t.Fatalf("%+v", r)
			}
		})
	}
}

// manifestSeeds are documents shaped like the registry's: an index, manifests, and oddities.
var manifestSeeds = []struct{ contentType, body string }{
	{MediaDockerList, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":500,"digest":"sha256:aa","platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":500,"digest":"sha256:bb","platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}`},
	{MediaOCIIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:cc","platform":{"architecture":"unknown","os":"unknown"}}]}`},
	{MediaOCIManifest + "; charset=utf-8", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":10,"digest":"sha256:dd"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":30,"digest":"sha256:ee"},{"size":20,"digest":"sha256:ff"}]}`},
	{MediaDockerManifest, `{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":1,"digest":"sha256:11","urls":["https://example.com/x"]},{"size":5,"digest":"sha256:22"}]}`},
	{"application/vnd.docker.distribution.manifest.v1+prettyjws", `{"schemaVersion":1,"name":"app","tag":"latest","fsLayers":[]}`},
	{"application/json", `{"schemaVersion":2,"manifests":null,"layers":null}`},
	{"", `[]`},
	{"", `{"schemaVersion":2,"layers":[{"size":-1,"digest":"x"}]}`},
}

func TestParseManifest(t *testing.T) {
	d, err := parseManifest(manifestSeeds[0].contentType, []byte(manifestSeeds[0].body))
	if err != nil || !d.isIndex() {
		t.Fatalf("index: %+v %v", d, err)
	}
	if got, err := pickPlatform(d, "linux", "arm64"); err != nil || got != "sha256:bb" {
		t.Errorf("arm64: %s %v", got, err)
	}
	if _, err := pickPlatform(d, "linux", "s390x"); err == nil || !strings.Contains(err.Error(), "linux/amd64, linux/arm64/v8") {
		t.Errorf("s390x: %v", err)
	}
	d, err = parseManifest(manifestSeeds[1].contentType, []byte(manifestSeeds[1].body))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pickPlatform(d, "linux", "amd64"); err == nil {
		t.Error("an attestation was taken for an image")
	}
	d, err = parseManifest(manifestSeeds[2].contentType, []byte(manifestSeeds[2].body))
	if l, ok := smallestLayer(d); err != nil || d.isIndex() || !ok || l.Digest != "sha256:ff" {
		t.Errorf("oci manifest: %+v %v", l, err)
	}
	d, _ = parseManifest(manifestSeeds[3].contentType, []byte(manifestSeeds[3].body))
	if l, ok := smallestLayer(d); !ok || l.Digest != "sha256:22" {
		t.Errorf("a foreign layer was chosen: %+v", l)
	}
	for _, s := range manifestSeeds[4:] {
		if s.body == `{"schemaVersion":2,"manifests":null,"layers":null}` {
			continue
		}
		if _, err := parseManifest(s.contentType, []byte(s.body)); err == nil {
			t.Errorf("%s parsed", s.body)
		}
	}
}

// FuzzParseManifest: any body parses or fails cleanly, and whatever parses can be walked the
// way Manifest walks it.
func FuzzParseManifest(f *testing.F) {
	for _, s := range manifestSeeds {
		f.Add(s.contentType, []byte(s.body), "amd64")
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte, arch string) {
		d, err := parseManifest(contentType, body)
		if err != nil {
			return
		}
		if d.isIndex() {
			if digest, err := pickPlatform(d, "linux", arch); err == nil && digest == "" {
				t.Errorf("empty digest picked from %q", body)
			}
			return
		}
		if l, ok := smallestLayer(d); ok {
			for _, other := range d.Layers {
				if len(other.URLs) == 0 && other.Size < l.Size {
					t.Errorf("layer %+v is smaller than the chosen %+v", other, l)
				}
			}
		}
		if _, err := json.Marshal(d); err != nil {
			t.Errorf("re-encode: %v", err)
		}
	})
}
