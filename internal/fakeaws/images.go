package fakeaws

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// Media types of manifests, configs and layers, Docker schema 2 and OCI.
const (
	mediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mediaDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaOCIConfig      = "application/vnd.oci.image.config.v1+json"
	mediaDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaOCILayer       = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// registry is the content built from Config.Images: repositories, and the layer bucket's
// objects that hold their blobs. It never changes once built (Configure swaps in a new one), so
// handlers read it without holding the server's lock.
type registry struct {
	repos   map[string]*repository
	objects map[string]blob // layer bucket key → blob
}

// repository is one ECR repository: tags, manifests and blobs by digest.
type repository struct {
	name      string
	tags      map[string]string // tag → manifest digest
	manifests map[string]manifest
	blobs     map[string]blob
}

// manifest is one stored manifest or index, byte for byte as served.
type manifest struct {
	mediaType string
	digest    string
	body      []byte
	children  []childManifest // an index's entries, in order
}

// childManifest is one platform entry of an index.
type childManifest struct {
	mediaType, digest, os, arch string
}

// blob is a config or layer blob.
type blob struct {
	mediaType string
	digest    string
	data      []byte
}

// descriptor is the OCI/Docker content descriptor.
type descriptor struct {
	MediaType string         `json:"mediaType"`
	Size      int            `json:"size"`
	Digest    string         `json:"digest"`
	Platform  *platformField `json:"platform,omitempty"`
}

type platformField struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// buildRegistry turns cfg.Images into repositories and layer-bucket objects. Keys are sorted so
// the content, and so every digest, is the same from run to run.
func buildRegistry(cfg Config) *registry {
	reg := &registry{repos: map[string]*repository{}, objects: map[string]blob{}}
	names := make([]string, 0, len(cfg.Images))
	for name := range cfg.Images {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		repoName, tag := splitImageName(name)
		repo := reg.repos[repoName]
		if repo == nil {
			repo = &repository{name: repoName, tags: map[string]string{}, manifests: map[string]manifest{}, blobs: map[string]blob{}}
			reg.repos[repoName] = repo
		}
		img := cfg.Images[name]
		platforms := img.Platforms
		if len(platforms) == 0 {
			platforms = []Platform{{OS: "linux", Architecture: "amd64", Layers: img.Layers}}
		}
		var images []manifest
		for _, p := range platforms {
			images = append(images, repo.addImage(name, img.OCI, p))
		}
		if len(img.Platforms) == 0 {
			repo.tags[tag] = images[0].digest
			continue
		}
		repo.tags[tag] = repo.addIndex(img.OCI, platforms, images).digest
	}
	for _, repo := range reg.repos {
		for _, b := range repo.blobs {
			reg.objects[layerKey(cfg.Account, repo.name, b.digest)] = b
		}
	}
	return reg
}

// splitImageName splits "repo:tag"; a name without a tag means "latest", as docker reads it.
func splitImageName(name string) (repo, tag string) {
	if i := strings.LastIndex(name, ":"); i > 0 && !strings.Contains(name[i:], "/") {
		return name[:i], name[i+1:]
	}
	return name, "latest"
}

// addImage stores one platform's layers, config and image manifest.
func (repo *repository) addImage(name string, oci bool, p Platform) manifest {
	layerType, configType, manifestType := mediaDockerLayer, mediaDockerConfig, mediaDockerManifest
	if oci {
		layerType, configType, manifestType = mediaOCILayer, mediaOCIConfig, mediaOCIManifest
	}
	var layers []descriptor
	var diffIDs []string
	for i, l := range p.Layers {
		data := l.Data
		if data == nil {
			data = pseudoRandom(fmt.Sprintf("%s/%s/%s/%s/%d", name, p.OS, p.Architecture, p.Variant, i), l.Size)
		}
		b := repo.addBlob(layerType, data)
		layers = append(layers, descriptor{MediaType: layerType, Size: len(data), Digest: b.digest})
		diffIDs = append(diffIDs, b.digest)
	}
	config, _ := json.Marshal(map[string]any{
		"architecture": p.Architecture,
		"os":           p.OS,
		"variant":      p.Variant,
		"config":       map[string]any{"Cmd": []string{"/app"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	cb := repo.addBlob(configType, config)
	body, _ := json.MarshalIndent(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{2, manifestType, descriptor{MediaType: configType, Size: len(config), Digest: cb.digest}, layers}, "", "   ")
	m := manifest{mediaType: manifestType, digest: digestOf(body), body: body}
	repo.manifests[m.digest] = m
	return m
}

// addIndex stores the index (manifest list) over images, the platforms' stored manifests.
func (repo *repository) addIndex(oci bool, platforms []Platform, images []manifest) manifest {
	indexType := mediaDockerList
	if oci {
		indexType = mediaOCIIndex
	}
	var entries []descriptor
	var children []childManifest
	for i, p := range platforms {
		m := images[i]
		entries = append(entries, descriptor{MediaType: m.mediaType, Size: len(m.body), Digest: m.digest,
			Platform: &platformField{Architecture: p.Architecture, OS: p.OS, Variant: p.Variant}})
		children = append(children, childManifest{mediaType: m.mediaType, digest: m.digest, os: p.OS, arch: p.Architecture})
	}
	body, _ := json.MarshalIndent(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}{2, indexType, entries}, "", "   ")
	m := manifest{mediaType: indexType, digest: digestOf(body), body: body, children: children}
	repo.manifests[m.digest] = m
	return m
}

// addBlob stores data as a blob and returns it.
func (repo *repository) addBlob(mediaType string, data []byte) blob {
	b := blob{mediaType: mediaType, digest: digestOf(data), data: data}
	repo.blobs[b.digest] = b
	return b
}

// pseudoRandom returns n bytes that depend only on seed, so a declared layer size yields the
// same blob, and the same digest, every run.
func pseudoRandom(seed string, n int64) []byte {
	if n <= 0 {
		return []byte{}
	}
	key := sha256.Sum256([]byte(seed))
	buf := make([]byte, n)
	rand.NewChaCha8(key).Read(buf)
	return buf
}

// digestOf is the content digest of b, "sha256:<hex>".
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// layerKey is the layer bucket's object key for a repository's blob, shaped like ECR's:
// <6 hex>-<account>-<uuid>/<uuid>.
func layerKey(account, repo, digest string) string {
	sum := sha256.Sum256([]byte(repo + "@" + digest))
	h := hex.EncodeToString(sum[:])
	uuid := func(s string) string {
		return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
	}
	return h[0:6] + "-" + account + "-" + uuid(h[6:38]) + "/" + uuid(h[32:64])
}

// resolve finds the manifest a reference (tag or digest) names.
func (repo *repository) resolve(ref string) (manifest, bool) {
	if strings.HasPrefix(ref, "sha256:") {
		m, ok := repo.manifests[ref]
		return m, ok
	}
	digest, ok := repo.tags[ref]
	if !ok {
		return manifest{}, false
	}
	return repo.manifests[digest], true
}

// negotiate picks what to answer for m given the media types a client accepts. An empty list
// or */* takes m as stored; an index the client cannot read is replaced by its linux/amd64
// manifest, as the Docker distribution registry does; otherwise there is nothing to answer.
func (repo *repository) negotiate(m manifest, accepted []string) (manifest, bool) {
	if len(accepted) == 0 || contains(accepted, "*/*") || contains(accepted, m.mediaType) {
		return m, true
	}
	for _, c := range m.children {
		if c.os == "linux" && c.arch == "amd64" && contains(accepted, c.mediaType) {
			return repo.manifests[c.digest], true
		}
	}
	return manifest{}, false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
