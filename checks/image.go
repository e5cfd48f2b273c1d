package checks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// The image pull path, checked the way the ECS agent pulls: the manifest from the registry
// (through an index to this machine's platform), then the smallest layer, whose blob the
// registry redirects to a presigned URL on the layer bucket in S3, and that URL's first byte.

// maxManifestBytes bounds a manifest or index read; real ones are a few KiB, and the registry
// refuses to store more than 4 MiB.
const maxManifestBytes = 4 << 20

// Manifest media types a pull accepts, Docker schema 2 and OCI; sent in this order in Accept.
const (
	MediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

var manifestAccept = []string{MediaDockerManifest, MediaDockerList, MediaOCIManifest, MediaOCIIndex}

// ImageRef is a parsed ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>
// (or any other registry host of ECR: dkr.ecr-fips, the dual-stack dkr-ecr[-fips].<r>.on.aws)
// with a :tag or an @sha256: digest (a tag defaults to "latest", as docker reads it).
type ImageRef struct {
	Registry   string // host: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
	Account    string
	Region     string
	Variant    catalogue.Variant // the registry host's: FIPS, dual-stack
	Repository string
	Tag        string // empty when Digest is set
	Digest     string // sha256:<64 hex>, or empty
}

// Reference is what the registry's manifests endpoint takes: the digest, else the tag.
func (r ImageRef) Reference() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

// String returns the image in its URI form.
func (r ImageRef) String() string {
	if r.Digest != "" {
		return r.Registry + "/" + r.Repository + "@" + r.Digest
	}
	return r.Registry + "/" + r.Repository + ":" + r.Tag
}

var (
	repositoryRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	tagRE        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRE     = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// imageShape is the form an ECR image URI takes, for error messages.
const imageShape = "<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@sha256:<digest>]"

// ParseImage parses an ECR image URI. It accepts only private ECR registries: the probe verifies
// the pull path of the endpoints it knows.
func ParseImage(uri string) (ImageRef, error) {
	host, rest, ok := strings.Cut(uri, "/")
	h, isAWS := catalogue.ParseHost(host)
	if !ok || !isAWS || h.Service != "ecr.dkr" || h.Account == "" || h.VPCEndpoint || host != strings.ToLower(host) || strings.HasSuffix(host, ".") {
		return ImageRef{}, fmt.Errorf("not an ECR image URI: want %s", imageShape)
	}
	ref := ImageRef{Registry: host, Account: h.Account, Region: h.Region, Variant: h.Variant}
	if i := strings.Index(rest, "@"); i >= 0 {
		ref.Digest = rest[i+1:]
		rest = rest[:i]
		if !digestRE.MatchString(ref.Digest) {
			return ImageRef{}, fmt.Errorf("digest %q: want sha256:<64 hex digits>", ref.Digest)
		}
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		ref.Tag = rest[i+1:]
		rest = rest[:i]
		if !tagRE.MatchString(ref.Tag) {
			return ImageRef{}, fmt.Errorf("tag %q: letters, digits, _ . and -, at most 128", ref.Tag)
		}
	}
	if ref.Digest != "" {
		ref.Tag = "" // a digest names the image; a tag beside it is only a label
	} else if ref.Tag == "" {
		ref.Tag = "latest"
	}
	if len(rest) > 256 || !repositoryRE.MatchString(rest) {
		return ImageRef{}, fmt.Errorf("repository %q: lower-case letters, digits and . _ - / separators", rest)
	}
	ref.Repository = rest
	return ref, nil
}

// LayerRef is the layer of an image that the layer check reads: the smallest one, and where
// the registry sends its bytes. URL is presigned and is a secret: it never goes into a Result.
type LayerRef struct {
	Digest string
	Size   int64
	URL    string // presigned layer-bucket URL; empty when the registry served the blob itself
}

// String hides the presigned URL.
func (l LayerRef) String() string {
	return fmt.Sprintf("layer %s (%d bytes)", l.Digest, l.Size)
}

// GoString hides the presigned URL from %#v too.
func (l LayerRef) GoString() string { return l.String() }

// descriptor is the OCI/Docker content descriptor, as far as a pull needs it.
type descriptor struct {
	MediaType string   `json:"mediaType"`
	Digest    string   `json:"digest"`
	Size      int64    `json:"size"`
	URLs      []string `json:"urls"`
	Platform  *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	} `json:"platform"`
}

// manifestDoc is an image manifest or an index, whichever the body is.
type manifestDoc struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        *descriptor  `json:"config"`
	Layers        []descriptor `json:"layers"`
	Manifests     []descriptor `json:"manifests"`
}

// isIndex reports whether d is an index (manifest list) rather than an image manifest.
func (d manifestDoc) isIndex() bool {
	switch d.MediaType {
	case MediaDockerList, MediaOCIIndex:
		return true
	case MediaDockerManifest, MediaOCIManifest:
		return false
	}
	return d.Manifests != nil && d.Layers == nil
}

// parseManifest decodes a manifest or index body served as contentType (the body's own
// mediaType wins when the header is generic). It fails on anything a pull could not use:
// another schema, a media type that is neither, descriptors without digests.
func parseManifest(contentType string, body []byte) (manifestDoc, error) {
	var d manifestDoc
	if err := json.Unmarshal(body, &d); err != nil {
		return d, fmt.Errorf("manifest is not JSON: %w", err)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if d.MediaType == "" {
		d.MediaType = mt
	}
	if d.SchemaVersion != 2 {
		return d, fmt.Errorf("manifest schema version %d (media type %q): only schema 2 and OCI can be pulled", d.SchemaVersion, d.MediaType)
	}
	switch d.MediaType {
	case MediaDockerManifest, MediaDockerList, MediaOCIManifest, MediaOCIIndex, "":
	default:
		return d, fmt.Errorf("media type %q is neither an image manifest nor an index", d.MediaType)
	}
	list := d.Layers
	if d.isIndex() {
		list = d.Manifests
	}
	for _, desc := range list {
		if !strings.Contains(desc.Digest, ":") || desc.Size < 0 {
			return d, fmt.Errorf("descriptor with digest %q and size %d", desc.Digest, desc.Size)
		}
	}
	return d, nil
}

// pickPlatform returns the digest of the image for os/arch in an index. Attestation entries
// (unknown/unknown) are not images; an arm64 image may say variant v8 or nothing.
func pickPlatform(index manifestDoc, os, arch string) (string, error) {
	var have []string
	for _, m := range index.Manifests {
		if m.Platform == nil || m.Platform.OS == "unknown" {
			continue
		}
		p := m.Platform
		if p.OS == os && p.Architecture == arch && (arch != "arm64" || p.Variant == "" || p.Variant == "v8") {
			return m.Digest, nil
		}
		name := p.OS + "/" + p.Architecture
		if p.Variant != "" {
			name += "/" + p.Variant
		}
		have = append(have, name)
	}
	if len(have) == 0 {
		return "", fmt.Errorf("the index lists no platform")
	}
	return "", fmt.Errorf("the index has no %s/%s image (it has %s): a task on this platform cannot run it", os, arch, strings.Join(have, ", "))
}

// smallestLayer returns the smallest layer of an image manifest that the registry stores
// (foreign layers, served from their own URLs, do not count).
func smallestLayer(m manifestDoc) (descriptor, bool) {
	var best descriptor
	found := false
	for _, l := range m.Layers {
		if len(l.URLs) > 0 {
			continue
		}
		if !found || l.Size < best.Size {
			best, found = l, true
		}
	}
	return best, found
}

// Manifest reads ref's manifest from its registry with the token, as a pull does: by tag or
// digest, accepting Docker schema 2 and OCI manifests and indexes; from an index it follows the
// linux/arch image. It then asks the registry for the smallest layer's blob, which ECR answers
// with a redirect to a presigned layer-bucket URL: that URL, not followed here, is the
// LayerRef's. Every request is bounded by step; hc must not follow redirects.
func Manifest(ctx context.Context, hc *http.Client, ref ImageRef, tok Token, arch string, step time.Duration) (Result, LayerRef) {
	start := time.Now()
	fail := func(code Code, detail string) (Result, LayerRef) {
		return failed("manifest", code, detail, start), LayerRef{}
	}
	if !tok.Valid() {
		return Skipped("manifest", "no registry token"), LayerRef{}
	}
	base := "https://" + ref.Registry + "/v2/" + ref.Repository
	get := func(what, rawURL string, accept []string) (*http.Response, []byte, Code, string) {
		sctx, cancel := context.WithTimeout(ctx, step)
		defer cancel()
		t0 := time.Now()
		resp, body, err := registryGet(sctx, hc, rawURL, tok, accept)
		if err != nil {
			code, detail := requestFailure(sctx, "GET", rawURL, t0, err)
			return nil, nil, code, what + ": " + detail
		}
		resp.Body.Close()
		return resp, body, "", ""
	}

	name := ref.Repository + ":" + ref.Reference()
	resp, body, code, detail := get(name, base+"/manifests/"+ref.Reference(), manifestAccept)
	if code != "" {
		return fail(code, detail)
	}
	if resp.StatusCode != http.StatusOK {
		code, detail := registryRefusal(resp, body)
		return fail(code, fmt.Sprintf("manifest of %s: %s", name, detail))
	}
	if ref.Digest != "" && digestOf(body) != ref.Digest {
		return fail(HTTPError, fmt.Sprintf("manifest of %s: the registry served content whose digest is %s", name, digestOf(body)))
	}
	doc, err := parseManifest(resp.Header.Get("Content-Type"), body)
	if err != nil {
		return fail(HTTPError, fmt.Sprintf("manifest of %s: %v", name, err))
	}
	what := "manifest " + short12(digestOf(body))
	if doc.isIndex() {
		indexDigest := digestOf(body)
		digest, err := pickPlatform(doc, "linux", arch)
		if err != nil {
			return fail(NotFound, fmt.Sprintf("%s: %v", name, err))
		}
		resp, body, code, detail = get("linux/"+arch+" manifest", base+"/manifests/"+digest, manifestAccept)
		if code != "" {
			return fail(code, detail)
		}
		if resp.StatusCode != http.StatusOK {
			code, detail := registryRefusal(resp, body)
			return fail(code, fmt.Sprintf("linux/%s manifest of %s: %s", arch, name, detail))
		}
		if digestOf(body) != digest {
			return fail(HTTPError, fmt.Sprintf("linux/%s manifest of %s: the registry served content whose digest is %s, not %s", arch, name, digestOf(body), digest))
		}
		if doc, err = parseManifest(resp.Header.Get("Content-Type"), body); err != nil || doc.isIndex() {
			if err == nil {
				err = errors.New("an index inside an index")
			}
			return fail(HTTPError, fmt.Sprintf("linux/%s manifest of %s: %v", arch, name, err))
		}
		what = fmt.Sprintf("linux/%s manifest %s from index %s", arch, short12(digest), short12(indexDigest))
	}
	layer, ok := smallestLayer(doc)
	if !ok {
		return passed("manifest", fmt.Sprintf("%s: %s has no layer to download", name, what), start), LayerRef{}
	}

	blobURL := base + "/blobs/" + layer.Digest
	resp, body, code, detail = get("layer blob", blobURL, nil)
	if code != "" {
		return fail(code, detail)
	}
	l := LayerRef{Digest: layer.Digest, Size: layer.Size}
	switch {
	case resp.StatusCode == http.StatusOK:
		// A registry that serves blobs itself: nothing of the pull goes to S3.
		return passed("manifest", fmt.Sprintf("%s: %s, %s; the registry serves the smallest layer (%d bytes) itself", name, what, plural(len(doc.Layers), "layer"), layer.Size), start), l
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		loc, err := resp.Location()
		if err != nil {
			return fail(HTTPError, fmt.Sprintf("layer blob of %s: HTTP %d without a usable Location", name, resp.StatusCode))
		}
		l.URL = loc.String()
		return passed("manifest", fmt.Sprintf("%s: %s, %s; the smallest layer (%d bytes) redirects to %s", name, what, plural(len(doc.Layers), "layer"), layer.Size, loc.Host), start), l
	}
	code, detail = registryRefusal(resp, body)
	return fail(code, fmt.Sprintf("layer blob %s of %s: %s", short12(layer.Digest), name, detail))
}

// Layer reads the first byte of a layer from where the registry sent it (the presigned
// layer-bucket URL), with a GET and Range: bytes=0-0 as a resumable pull starts, and without
// the registry's Authorization header: S3 refuses a second credential, and must never see the
// token. A timeout means no path to S3 (no gateway endpoint route); a 403, usually, a gateway
// endpoint policy that does not allow the layer bucket. hc must not follow redirects.
func Layer(ctx context.Context, hc *http.Client, l LayerRef) Result {
	start := time.Now()
	if l.URL == "" {
		return Skipped("layer", "the registry served the layer itself")
	}
	u, err := url.Parse(l.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return failed("layer", HTTPError, "the registry redirected the layer to something that is not an https URL", start)
	}
	target := httpRedactURL(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.URL, nil)
	if err != nil {
		return failed("layer", HTTPError, "layer URL: "+httpRedactErr(err).Error(), start)
	}
	req.Header.Set("Range", "bytes=0-0")
	resp, err := hc.Do(req)
	if err != nil {
		code, detail := requestFailure(ctx, "GET", target, start, err)
		return failed("layer", code, detail, start)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
		n, err := io.ReadFull(resp.Body, make([]byte, 1))
		if n == 1 {
			return passed("layer", fmt.Sprintf("first byte of layer %s read from %s (HTTP %d)", short12(l.Digest), u.Host, resp.StatusCode), start)
		}
		code := ClassifyIn(ctx, err)
		return failed("layer", code, fmt.Sprintf("GET %s: HTTP %d but no byte arrived: %v", u.Host, resp.StatusCode, err), start)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, httpMaxBody))
	errCode, _, _ := httpAWSErrorBody(body)
	code := HTTPAnswer(resp.StatusCode, errCode)
	detail := fmt.Sprintf("GET of layer %s from %s: HTTP %d", short12(l.Digest), u.Host, resp.StatusCode)
	if errCode != "" {
		detail += " " + errCode
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		code = HTTPError
		if loc, err := resp.Location(); err == nil {
			detail += " redirecting to " + loc.Host
		}
	}
	return failed("layer", code, detail, start)
}

// digestOf is the content digest of b, as registries name content.
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// short12 shortens a digest for a Detail: sha256: and twelve hex digits, as docker prints them.
func short12(digest string) string {
	algo, hexPart, ok := strings.Cut(digest, ":")
	if !ok || len(hexPart) <= 12 {
		return digest
	}
	return algo + ":" + hexPart[:12]
}
