package fakeaws

import (
	"encoding/base64"
	"fmt"
	"net/http"
)

// ecrOps are the ECR API operations the fake answers.
var ecrOps = map[string]jsonOp{
	"GetAuthorizationToken":       (*Server).ecrGetAuthorizationToken,
	"BatchGetImage":               (*Server).ecrBatchGetImage,
	"GetDownloadUrlForLayer":      (*Server).ecrGetDownloadURLForLayer,
	"BatchCheckLayerAvailability": (*Server).ecrBatchCheckLayerAvailability,
}

// ecrImageID is ECR's ImageIdentifier.
type ecrImageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

// ecrGetAuthorizationToken issues a registry password per requested registry (the caller's own
// account when none is named), valid 12 hours.
func (s *Server) ecrGetAuthorizationToken(c *call) (any, *apiError) {
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if aerr := c.authorize(s, "ecr:GetAuthorizationToken", "*"); aerr != nil {
		return nil, aerr
	}
	cfg := s.config()
	if len(in.RegistryIDs) == 0 {
		in.RegistryIDs = []string{cfg.Account}
	}
	type authData struct {
		AuthorizationToken string  `json:"authorizationToken"`
		ExpiresAt          float64 `json:"expiresAt"`
		ProxyEndpoint      string  `json:"proxyEndpoint"`
	}
	var out []authData
	for _, id := range in.RegistryIDs {
		password, expires := s.issueToken(c.who.arn)
		out = append(out, authData{
			AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
			ExpiresAt:          float64(expires.UnixMilli()) / 1000,
			ProxyEndpoint:      fmt.Sprintf("https://%s.dkr.ecr.%s.amazonaws.com", id, cfg.Region),
		})
	}
	return map[string]any{"authorizationData": out}, nil
}

// ecrRepo authorizes action on a repository and finds it, answering
// RepositoryNotFoundException as ECR does for a missing one or another registry.
func (s *Server) ecrRepo(c *call, action, registryID, name string) (*repository, *apiError) {
	if aerr := c.authorize(s, action, s.repoARN(name)); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	repo := s.reg.repos[name]
	account := s.cfg.Account
	s.mu.Unlock()
	if registryID == "" {
		registryID = account
	}
	if repo == nil || registryID != account {
		return nil, &apiError{http.StatusBadRequest, "RepositoryNotFoundException",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, registryID)}
	}
	return repo, nil
}

// ecrBatchGetImage returns the manifests of the named images, negotiated against
// acceptedMediaTypes like the registry's Accept, and a failure per image not found.
func (s *Server) ecrBatchGetImage(c *call) (any, *apiError) {
	var in struct {
		RegistryID         string       `json:"registryId"`
		RepositoryName     string       `json:"repositoryName"`
		ImageIDs           []ecrImageID `json:"imageIds"`
		AcceptedMediaTypes []string     `json:"acceptedMediaTypes"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	repo, aerr := s.ecrRepo(c, "ecr:BatchGetImage", in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	type image struct {
		RegistryID             string     `json:"registryId"`
		RepositoryName         string     `json:"repositoryName"`
		ImageID                ecrImageID `json:"imageId"`
		ImageManifest          string     `json:"imageManifest"`
		ImageManifestMediaType string     `json:"imageManifestMediaType"`
	}
	type failure struct {
		ImageID       ecrImageID `json:"imageId"`
		FailureCode   string     `json:"failureCode"`
		FailureReason string     `json:"failureReason"`
	}
	images, failures := []image{}, []failure{}
	for _, id := range in.ImageIDs {
		ref := id.ImageDigest
		if ref == "" {
			ref = id.ImageTag
		}
		if ref == "" {
			failures = append(failures, failure{id, "MissingDigestAndTag", "Missing image digest and tag"})
			continue
		}
		m, ok := repo.resolve(ref)
		if ok {
			m, ok = repo.negotiate(m, in.AcceptedMediaTypes)
		}
		if !ok {
			failures = append(failures, failure{id, "ImageNotFound", "Requested image not found"})
			continue
		}
		images = append(images, image{
			RegistryID:             s.config().Account,
			RepositoryName:         repo.name,
			ImageID:                ecrImageID{ImageDigest: m.digest, ImageTag: id.ImageTag},
			ImageManifest:          string(m.body),
			ImageManifestMediaType: m.mediaType,
		})
	}
	return map[string]any{"images": images, "failures": failures}, nil
}

// ecrGetDownloadURLForLayer returns the presigned layer-bucket URL of a layer.
func (s *Server) ecrGetDownloadURLForLayer(c *call) (any, *apiError) {
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
		LayerDigest    string `json:"layerDigest"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	repo, aerr := s.ecrRepo(c, "ecr:GetDownloadUrlForLayer", in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	if _, ok := repo.blobs[in.LayerDigest]; !ok {
		return nil, &apiError{http.StatusBadRequest, "LayersNotFoundException",
			fmt.Sprintf("The specified layer '%s' does not exist in the repository '%s'", in.LayerDigest, repo.name)}
	}
	return map[string]any{"downloadUrl": s.presignLayer(repo.name, in.LayerDigest), "layerDigest": in.LayerDigest}, nil
}

// ecrBatchCheckLayerAvailability reports which layers a repository holds.
func (s *Server) ecrBatchCheckLayerAvailability(c *call) (any, *apiError) {
	var in struct {
		RegistryID     string   `json:"registryId"`
		RepositoryName string   `json:"repositoryName"`
		LayerDigests   []string `json:"layerDigests"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	repo, aerr := s.ecrRepo(c, "ecr:BatchCheckLayerAvailability", in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	type layer struct {
		LayerDigest       string `json:"layerDigest"`
		LayerAvailability string `json:"layerAvailability"`
		LayerSize         int    `json:"layerSize"`
		MediaType         string `json:"mediaType"`
	}
	type failure struct {
		LayerDigest   string `json:"layerDigest"`
		FailureCode   string `json:"failureCode"`
		FailureReason string `json:"failureReason"`
	}
	layers, failures := []layer{}, []failure{}
	for _, d := range in.LayerDigests {
		b, ok := repo.blobs[d]
		if !ok {
			failures = append(failures, failure{d, "MissingLayerDigest", "Could not find layer"})
			continue
		}
		layers = append(layers, layer{d, "AVAILABLE", len(b.data), b.mediaType})
	}
	return map[string]any{"layers": layers, "failures": failures}, nil
}
