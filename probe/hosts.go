package probe

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// The host the SDK really calls (STYLE.md habit 8): AWS_USE_FIPS_ENDPOINT,
// AWS_USE_DUALSTACK_ENDPOINT, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (and their profile
// settings) change it, so the DNS, TCP, TLS and HTTP checks probe the name the run's own SDK
// clients resolve, not a hand-derived one. This file is the one place that asks.

// hostOf returns the host a service's checks probe: the one its SDK client calls with the
// loaded configuration when UseAWS resolved it (sdkHost), else the catalogue's default.
func (p *Prober) hostOf(svc catalogue.Service, account string) string {
	if svc.Key == "ecr.dkr" && p.aws != nil && p.aws.image != nil {
		// The platform pulls from the registry the image URI names, whatever its form
		// (dkr.ecr-fips, dkr-ecr.<r>.on.aws): that host is the one to probe.
		return p.aws.image.Registry
	}
	if h := p.familyHost(svc, account); h != "" { // an IPv6-only task: ECR's dual-stack names (families.go)
		return h
	}
	if p.sdkHost != nil {
		if h := p.sdkHost(svc, account); h != "" {
			return h
		}
	}
	return svc.Host(p.Region, account)
}

// sdkClients are the run's SDK clients whose endpoint resolvers decide their services' hosts.
type sdkClients struct {
	ecr     *ecr.Client
	logs    *cloudwatchlogs.Client
	sts     *sts.Client
	secrets *secretsmanager.Client
	ssm     *ssm.Client
	ecs     *ecs.Client
}

// sdkEndpoints is what the loaded configuration says of every service's host.
type sdkEndpoints struct {
	region  string
	variant catalogue.Variant
	hosts   map[string]string // key: the host its own client's endpoint resolver gives
	base    map[string]string // key: the host of a configured endpoint URL, for services without a client here
}

// resolveEndpoints asks each client's endpoint resolver (V2) with the client's own resolved
// options, and reads the configured endpoint URLs of the services the probe has no client for
// (it links no SDK package it does not call: the catalogue's names, variant applied, stand in).
func resolveEndpoints(ctx context.Context, cfg aws.Config, c sdkClients) *sdkEndpoints {
	e := &sdkEndpoints{region: cfg.Region, hosts: map[string]string{}, base: map[string]string{}}
	so := c.sts.Options()
	e.variant = catalogue.Variant{
		FIPS:      so.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled,
		DualStack: so.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled,
	}
	put := func(key string, ep smithyendpoints.Endpoint, err error) {
		if err == nil && ep.URI.Hostname() != "" {
			e.hosts[key] = ep.URI.Hostname()
		}
	}
	flags := func(o aws.FIPSEndpointState, d aws.DualStackEndpointState) (*bool, *bool) {
		return aws.Bool(o == aws.FIPSEndpointStateEnabled), aws.Bool(d == aws.DualStackEndpointStateEnabled)
	}
	{
		o := c.ecr.Options()
		f, d := flags(o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint)
		ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, ecr.EndpointParameters{Region: &o.Region, UseFIPS: f, UseDualStack: d, Endpoint: o.BaseEndpoint})
		put("ecr.api", ep, err)
	}
	{
		o := c.logs.Options()
		f, d := flags(o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint)
		ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, cloudwatchlogs.EndpointParameters{Region: &o.Region, UseFIPS: f, UseDualStack: d, Endpoint: o.BaseEndpoint})
		put("logs", ep, err)
	}
	{
		f, d := flags(so.EndpointOptions.UseFIPSEndpoint, so.EndpointOptions.UseDualStackEndpoint)
		ep, err := so.EndpointResolverV2.ResolveEndpoint(ctx, sts.EndpointParameters{Region: &so.Region, UseFIPS: f, UseDualStack: d,
			Endpoint: so.BaseEndpoint, UseGlobalEndpoint: aws.Bool(false)})
		put("sts", ep, err)
	}
	{
		o := c.secrets.Options()
		f, d := flags(o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint)
		ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, secretsmanager.EndpointParameters{Region: &o.Region, UseFIPS: f, UseDualStack: d, Endpoint: o.BaseEndpoint})
		put("secretsmanager", ep, err)
	}
	{
		o := c.ecs.Options()
		f, d := flags(o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint)
		ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, ecs.EndpointParameters{Region: &o.Region, UseFIPS: f, UseDualStack: d, Endpoint: o.BaseEndpoint})
		put("ecs", ep, err)
	}
	{
		o := c.ssm.Options()
		f, d := flags(o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint)
		ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, ssm.EndpointParameters{Region: &o.Region, UseFIPS: f, UseDualStack: d, Endpoint: o.BaseEndpoint})
		put("ssm", ep, err)
	}
	// The SDK IDs whose AWS_ENDPOINT_URL_<ID> (services.<id>.endpoint_url in a profile) a client
	// of theirs would read.
	for key, id := range map[string]string{"s3": "S3", "kms": "KMS", "ssmmessages": "ssmmessages"} {
		if h := configuredEndpoint(ctx, cfg, id); h != "" {
			e.base[key] = h
		}
	}
	return e
}

// serviceEndpointSource is what the configuration sources LoadDefaultConfig read (environment,
// shared profile) offer for a service's configured endpoint URL.
type serviceEndpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

// configuredEndpoint returns the host of the endpoint URL configured for sdkID, else of the
// global AWS_ENDPOINT_URL, else "".
func configuredEndpoint(ctx context.Context, cfg aws.Config, sdkID string) string {
	for _, src := range cfg.ConfigSources {
		if s, ok := src.(serviceEndpointSource); ok {
			if v, found, err := s.GetServiceBaseEndpoint(ctx, sdkID); err == nil && found && v != "" {
				return hostOfURL(v)
			}
		}
	}
	if cfg.BaseEndpoint != nil {
		return hostOfURL(*cfg.BaseEndpoint)
	}
	return ""
}

func hostOfURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// host is the host the run's SDK calls for svc (the registry of account for ecr.dkr); "" leaves
// the catalogue's default.
func (e *sdkEndpoints) host(svc catalogue.Service, account string) string {
	if h := e.hosts[svc.Key]; h != "" {
		return h
	}
	if svc.Platform {
		return "" // the catalogue's standard name: the platform's clients use no variant (platform.go)
	}
	if h := e.base[svc.Key]; h != "" {
		if svc.Key == "s3" { // the layer bucket, virtual-hosted on the configured endpoint
			return catalogue.LayerBucket(e.region) + "." + h
		}
		return h
	}
	if svc.Key == "ecr.dkr" && account == "" {
		return ""
	}
	return svc.HostFor(e.region, account, e.variant)
}
