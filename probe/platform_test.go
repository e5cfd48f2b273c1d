package probe

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestPlatformSettings: ecr.api, ecr.dkr, s3 and logs are called by Fargate and the ECS agent,
// which do not read the task's environment; the probe container's AWS_USE_DUALSTACK_ENDPOINT,
// AWS_USE_FIPS_ENDPOINT and AWS_ENDPOINT_URL_<SERVICE> (SDK IDs ECR, CLOUDWATCH_LOGS, S3: AWS
// SDKs and Tools reference guide, "Service-specific endpoints") must not move their checks, nor
// their signed calls, while the application's services (sts, kms) keep the settings. Issue 17,
// item 10.
func TestPlatformSettings(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want map[string]string
	}{
		{"dual-stack and fips", []string{"AWS_USE_DUALSTACK_ENDPOINT", "true", "AWS_USE_FIPS_ENDPOINT", "true"}, map[string]string{
			"ecr.api": "api.ecr.eu-west-1.amazonaws.com",
			"ecr.dkr": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
			"s3":      "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com",
			"logs":    "logs.eu-west-1.amazonaws.com",
			"sts":     "sts-fips.eu-west-1.api.aws",
		}},
		{"endpoint urls", []string{"AWS_ENDPOINT_URL_ECR", "https://ecr.vpce.example.internal", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "https://logs.vpce.example.internal",
			"AWS_ENDPOINT_URL_S3", "https://s3.vpce.example.internal", "AWS_ENDPOINT_URL_KMS", "https://kms.vpce.example.internal"}, map[string]string{
			"ecr.api": "api.ecr.eu-west-1.amazonaws.com",
			"s3":      "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com",
			"logs":    "logs.eu-west-1.amazonaws.com",
			"kms":     "kms.vpce.example.internal",
		}},
		{"one endpoint url for all", []string{"AWS_ENDPOINT_URL", "https://all.vpce.example.internal"}, map[string]string{
			"ecr.api": "api.ecr.eu-west-1.amazonaws.com",
			"logs":    "logs.eu-west-1.amazonaws.com",
			"sts":     "all.vpce.example.internal",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awstest.StaticCredentials(t)
			for i := 0; i+1 < len(tt.env); i += 2 {
				t.Setenv(tt.env[i], tt.env[i+1])
			}
			var hosts, keys []string
			for k, h := range tt.want {
				hosts, keys = append(hosts, h), append(keys, k)
			}
			fake := fakeaws.New(fakeaws.DefaultConfig())
			zone := awstest.Zone(hosts...)
			w := &world{zone: zone, resolver: awstest.Resolver(t, zone), front: awstest.Front(t, fake, hosts...)}
			p := w.prober(strings.Join(keys, ","), time.Second, 10*time.Second)
			p.UseAWS(context.Background(), testEnv())
			t.Cleanup(p.Close)
			rep := checkedRun(t, p, time.Now())
			for key, want := range tt.want {
				if s := serviceOf(t, rep, key); s.Host != want || s.Verdict != checks.Pass {
					t.Errorf("%s: host %s verdict %s, want %s passing\n%s", key, s.Host, s.Verdict, want, rep.Text(false))
				}
			}
			for _, r := range fake.Requests() {
				if r.AccessKey != "" && !slices.Contains(hosts, r.Host) {
					t.Errorf("a signed call (%s) went to %s, not a probed host", r.Action, r.Host)
				}
			}
		})
	}
}

// TestImageRegistryHost: with --image the platform pulls from the registry the image URI names,
// whatever its form; ecr.dkr's checks and the manifest go to that host, the dual-stack
// <account>.dkr-ecr.<r>.on.aws of an IPv6-only task's image included (AWS General Reference,
// "Amazon ECR endpoints and quotas"). Issue 17, items 9 and 10.
func TestImageRegistryHost(t *testing.T) {
	const registry = "123456789012.dkr-ecr.eu-west-1.on.aws"
	awstest.StaticCredentials(t)
	hosts := []string{"api.ecr.eu-west-1.amazonaws.com", registry, "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com"}
	fake := fakeaws.New(fakeaws.DefaultConfig())
	zone := awstest.Zone(hosts...)
	w := &world{zone: zone, resolver: awstest.Resolver(t, zone), front: awstest.Front(t, fake, hosts...)}
	p := w.prober("ecr.api,ecr.dkr,s3", time.Second, 10*time.Second)
	p.Image = registry + "/app:latest"
	p.UseAWS(context.Background(), testEnv())
	t.Cleanup(p.Close)
	rep := checkedRun(t, p, time.Now())
	s := serviceOf(t, rep, "ecr.dkr")
	if s.Host != registry || s.Verdict != checks.Pass || checkOf(t, s, "manifest").Status != checks.Pass {
		t.Errorf("ecr.dkr host %s verdict %s\n%s", s.Host, s.Verdict, rep.Text(false))
	}
}
