package probe

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Platform services use the platform's settings. Fargate and the ECS agent pull images (ecr.api,
// ecr.dkr, s3), ship awslogs (logs), fetch task secrets (secretsmanager, ssm) and register (ecs)
// themselves, without the task's environment: the probe container's AWS_USE_FIPS_ENDPOINT,
// AWS_USE_DUALSTACK_ENDPOINT and AWS_ENDPOINT_URL[_<SERVICE>] (or their profile settings) change
// nothing of those calls, as its HTTPS_PROXY does not (catalogue.Service.Platform). So the
// platform services' clients, and the hosts their checks probe, drop those settings; the
// application's services (sts, kms, ssmmessages) keep them.

// platformClients returns the SDK clients of the platform services, built from cfg without
// endpoint variants or configured endpoint URLs; the caller adds the application's clients.
func platformClients(cfg aws.Config) sdkClients {
	return sdkClients{
		ecr: ecr.NewFromConfig(cfg, func(o *ecr.Options) {
			o.BaseEndpoint = nil
			o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint = noFIPS, noDualStack
		}),
		logs: cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
			o.BaseEndpoint = nil
			o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint = noFIPS, noDualStack
		}),
		secrets: secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
			o.BaseEndpoint = nil
			o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint = noFIPS, noDualStack
		}),
		ssm: ssm.NewFromConfig(cfg, func(o *ssm.Options) {
			o.BaseEndpoint = nil
			o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint = noFIPS, noDualStack
		}),
		ecs: ecs.NewFromConfig(cfg, func(o *ecs.Options) {
			o.BaseEndpoint = nil
			o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint = noFIPS, noDualStack
		}),
	}
}

// The endpoint states of a platform client, whatever the configuration asked.
const (
	noFIPS      = aws.FIPSEndpointStateDisabled
	noDualStack = aws.DualStackEndpointStateDisabled
)

// dualStackHost reports whether host is a dual-stack name (ecr.<r>.api.aws, dkr-ecr.<r>.on.aws):
// the verdict's dual-stack advice is about the host probed, not about a setting.
func dualStackHost(host string) bool {
	h, ok := catalogue.ParseHost(host)
	return ok && h.Variant.DualStack
}
