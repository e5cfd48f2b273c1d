package needs

import (
	"regexp"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Registry kinds: where an image is pulled from, as far as the network path is concerned.
const (
	KindECR      = "ecr"      // a private ECR registry: ecr.api, ecr.dkr and the S3 layer bucket
	KindInternet = "internet" // any other registry: an internet host no VPC endpoint reaches
)

// registryRule recognises a registry host. Rules are data: the first whose pattern matches the
// host decides, so the catch-all comes last.
type registryRule struct {
	pattern *regexp.Regexp
	kind    string
	name    string // what the registry is, for notes
	why     string // why it needs the internet, for notes; empty for ECR
}

// ecrRule is the rule of ECR's registry hosts, which catalogue.ParseHost reads (every form:
// dkr.ecr, dkr.ecr-fips, the dual-stack dkr-ecr[-fips].<r>.on.aws); it comes before the table.
var ecrRule = registryRule{kind: KindECR, name: "Amazon ECR"}

// registryRules are the other registry hosts vpcprobe recognises.
var registryRules = []registryRule{
	{regexp.MustCompile(`^public\.ecr\.aws$`), KindInternet, "Amazon ECR Public (public.ecr.aws)",
		"ECR Public has no VPC endpoint: pulls from it go to the internet even with the ECR endpoints in place"},
	{regexp.MustCompile(`^((registry-1|index)\.)?docker\.io$`), KindInternet, "Docker Hub",
		"Docker Hub is on the internet (and rate-limits anonymous pulls)"},
	{regexp.MustCompile(`^ghcr\.io$`), KindInternet, "GitHub Container Registry (ghcr.io)", "ghcr.io is on the internet"},
	{regexp.MustCompile(`^quay\.io$`), KindInternet, "Quay (quay.io)", "quay.io is on the internet"},
	{regexp.MustCompile(`^(.+\.)?gcr\.io$|^[a-z0-9-]+-docker\.pkg\.dev$`), KindInternet, "Google Artifact Registry", "Google's registries are on the internet"},
	{regexp.MustCompile(`^[a-z0-9-]+\.azurecr\.io$`), KindInternet, "Azure Container Registry", "Azure's registries are on the internet"},
	{regexp.MustCompile(`^registry\.k8s\.io$|^mcr\.microsoft\.com$|^registry\.gitlab\.com$`), KindInternet, "a public registry", "it is on the internet"},
	{regexp.MustCompile(`.`), KindInternet, "a registry outside AWS",
		"vpcprobe knows no VPC endpoint for it: unless it is served from inside your network, it is reached over the internet"},
}

// Image is one container's image and where it comes from.
type Image struct {
	Container string `json:"container"`
	URI       string `json:"uri"`
	Registry  string `json:"registry"`            // the registry host: docker.io for a short name like nginx
	Kind      string `json:"kind"`                // KindECR or KindInternet
	Region    string `json:"region,omitempty"`    // ECR: the registry's region
	Account   string `json:"account,omitempty"`   // ECR: the registry's account
	FIPS      bool   `json:"fips,omitempty"`      // ECR: a FIPS registry host (dkr.ecr-fips, dkr-ecr-fips)
	DualStack bool   `json:"dualstack,omitempty"` // ECR: a dual-stack registry host (dkr-ecr.<r>.on.aws)
	// Domain is, for ECR, the DNS suffix of the registry host; it differs from the region's
	// partition's for a host no task can pull from (dkr.ecr.cn-north-1.amazonaws.com).
	Domain string `json:"-"`
}

// parseImage finds an image reference's registry, as Docker does: the first path component is
// a registry host when it holds a '.' or a ':' or is localhost; otherwise the image is Docker
// Hub's (nginx is docker.io/library/nginx).
func parseImage(container, uri string) (Image, registryRule) {
	img := Image{Container: container, URI: uri, Registry: "docker.io"}
	if first, _, ok := strings.Cut(uri, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		img.Registry = strings.ToLower(first)
	}
	// ok is false for a host whose region and domain disagree: still ECR's, and unpullable.
	if h, _ := catalogue.ParseHost(img.Registry); h.Service == "ecr.dkr" && h.Account != "" && !h.VPCEndpoint && h.Region != "" {
		img.Kind, img.Account, img.Region, img.FIPS, img.DualStack, img.Domain = KindECR, h.Account, h.Region, h.Variant.FIPS, h.Variant.DualStack, h.Domain
		return img, ecrRule
	}
	for _, r := range registryRules {
		if !r.pattern.MatchString(img.Registry) {
			continue
		}
		img.Kind = r.kind
		return img, r
	}
	panic("needs: the registry rules end with a catch-all")
}
