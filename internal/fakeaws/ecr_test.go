package fakeaws_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// ecr returns an ECR client aimed at the fake.
func (e *env) ecr() *ecr.Client {
	return ecr.NewFromConfig(e.aws, func(o *ecr.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
}

// registryPassword gets an authorization token from the fake and returns its password.
func (e *env) registryPassword(t *testing.T) string {
	t.Helper()
	out, err := e.ecr().GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		t.Fatal(err)
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok || user != "AWS" || password == "" {
		t.Fatalf("token is not AWS:<password>: %q", raw)
	}
	return password
}

func TestGetAuthorizationToken(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	out, err := e.ecr().GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	data := out.AuthorizationData[0]
	if got := aws.ToString(data.ProxyEndpoint); got != "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com" {
		t.Errorf("ProxyEndpoint = %q", got)
	}
	if d := time.Until(aws.ToTime(data.ExpiresAt)); d < 11*time.Hour || d > 13*time.Hour {
		t.Errorf("ExpiresAt in %v, want about 12h", d)
	}
	e.registryPassword(t)

	tests := []struct {
		name   string
		mutate func(*fakeaws.Config)
		want   string
	}{
		{"identity policy denies", func(c *fakeaws.Config) { c.Deny = map[string]bool{"ecr:GetAuthorizationToken": true} }, "AccessDeniedException"},
		{"endpoint policy denies", func(c *fakeaws.Config) { c.EndpointDeny = map[string]bool{"ecr:GetAuthorizationToken": true} }, "AccessDeniedException"},
		{"unknown key", func(c *fakeaws.Config) { c.AccessKeys = map[string]string{"OTHER": "arn:aws:iam::123456789012:user/x"} }, "UnrecognizedClientException"},
		{"other region", func(c *fakeaws.Config) { c.Region = "us-east-1" }, "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fakeaws.DefaultConfig()
			tt.mutate(&cfg)
			_, err := newEnv(t, cfg).ecr().GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
			if got := errorCode(t, err); got != tt.want {
				t.Errorf("code = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

// TestThrottle proves the SDK retries ThrottlingException and succeeds once the fake relents.
func TestThrottle(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.Throttle = map[string]int{"ecr:GetAuthorizationToken": 2}
	e := newEnv(t, cfg)
	if _, err := e.ecr().GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Fatalf("no success after throttling: %v", err)
	}
	var statuses []int
	for _, r := range e.fake.Requests() {
		if r.Action == "ecr:GetAuthorizationToken" {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 3 || statuses[0] != 400 || statuses[1] != 400 || statuses[2] != 200 {
		t.Errorf("statuses = %v, want [400 400 200]", statuses)
	}

	once := fakeaws.DefaultConfig()
	once.Throttle = map[string]int{"ecr:GetAuthorizationToken": 5}
	_, err := newEnv(t, once).ecr().GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if got := errorCode(t, err); got != "ThrottlingException" {
		t.Errorf("code = %q, want ThrottlingException", got)
	}
}

func TestBatchGetImageAndDownloadURL(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	ctx := context.Background()
	out, err := e.ecr().BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RepositoryName:     aws.String("app"),
		ImageIds:           []ecrtypes.ImageIdentifier{{ImageTag: aws.String("latest")}, {ImageTag: aws.String("missing")}},
		AcceptedMediaTypes: []string{"application/vnd.docker.distribution.manifest.v2+json"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 1 || len(out.Failures) != 1 || out.Failures[0].FailureCode != ecrtypes.ImageFailureCodeImageNotFound {
		t.Fatalf("images %d, failures %+v", len(out.Images), out.Failures)
	}
	if got := aws.ToString(out.Images[0].ImageManifestMediaType); got != "application/vnd.docker.distribution.manifest.v2+json" {
		t.Errorf("media type = %q, want the amd64 manifest of the index", got)
	}
	layer := manifestLayers(t, aws.ToString(out.Images[0].ImageManifest))[0]

	dl, err := e.ecr().GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{
		RepositoryName: aws.String("app"), LayerDigest: aws.String(layer),
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.doURL(t, "GET", aws.ToString(dl.DownloadUrl), nil)
	if resp.StatusCode != http.StatusOK || digest([]byte(body)) != layer {
		t.Errorf("download: %d, digest %s, want %s", resp.StatusCode, digest([]byte(body)), layer)
	}

	_, err = e.ecr().BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RepositoryName: aws.String("nope"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("latest")}},
	})
	if got := errorCode(t, err); got != "RepositoryNotFoundException" {
		t.Errorf("code = %q, want RepositoryNotFoundException", got)
	}

	avail, err := e.ecr().BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String("app"), LayerDigests: []string{layer, "sha256:0000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(avail.Layers) != 1 || avail.Layers[0].LayerAvailability != ecrtypes.LayerAvailabilityAvailable || len(avail.Failures) != 1 {
		t.Errorf("layers %+v failures %+v", avail.Layers, avail.Failures)
	}
}
