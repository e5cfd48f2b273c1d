package catalogue

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestHostsMatchSDK proves the catalogue derives the host names the SDK's own endpoint
// resolvers give, in every partition family: the DNS verdict is about the call the SDK makes.
func TestHostsMatchSDK(t *testing.T) {
	ctx := context.Background()
	sdk := map[string]func(region string) (string, error){
		"ecr.api": func(r string) (string, error) {
			e, err := ecr.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecr.EndpointParameters{Region: aws.String(r)})
			return e.URI.Host, err
		},
		"logs": func(r string) (string, error) {
			e, err := cloudwatchlogs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, cloudwatchlogs.EndpointParameters{Region: aws.String(r)})
			return e.URI.Host, err
		},
		"sts": func(r string) (string, error) {
			e, err := sts.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, sts.EndpointParameters{Region: aws.String(r), UseGlobalEndpoint: aws.Bool(false)})
			return e.URI.Host, err
		},
		"secretsmanager": func(r string) (string, error) {
			e, err := secretsmanager.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, secretsmanager.EndpointParameters{Region: aws.String(r)})
			return e.URI.Host, err
		},
		"ssm": func(r string) (string, error) {
			e, err := ssm.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ssm.EndpointParameters{Region: aws.String(r)})
			return e.URI.Host, err
		},
		"kms": func(r string) (string, error) {
			e, err := kms.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, kms.EndpointParameters{Region: aws.String(r)})
			return e.URI.Host, err
		},
		"ecs": func(r string) (string, error) {
			e, err := ecs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecs.EndpointParameters{Region: aws.String(r)})
			return e.URI.Host, err
		},
		"s3": func(r string) (string, error) {
			e, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, s3.EndpointParameters{
				Region: aws.String(r), Bucket: aws.String(LayerBucket(r)), UseGlobalEndpoint: aws.Bool(false)})
			return e.URI.Host, err
		},
	}
	regions := []string{"eu-west-1", "us-east-1", "ap-southeast-2", "cn-north-1", "cn-northwest-1", "us-gov-west-1"}
	for key, resolve := range sdk {
		svc, ok := Lookup(key)
		if !ok {
			t.Fatalf("catalogue lacks %s", key)
		}
		for _, region := range regions {
			want, err := resolve(region)
			if err != nil {
				t.Fatalf("%s in %s: SDK: %v", key, region, err)
			}
			if got := svc.Host(region, "123456789012"); got != want {
				t.Errorf("%s in %s: catalogue says %s, SDK calls %s", key, region, got, want)
			}
		}
	}
}

// TestHostVariantsMatchSDK: for every key, in every supported partition, with and without FIPS
// and dual-stack, HostFor is the host the SDK's endpoint resolver gives (or "" where the SDK
// refuses the combination); keys without an SDK resolver here (the registry, ssmmessages, the
// agent's hosts) are held to the names AWS documents.
func TestHostVariantsMatchSDK(t *testing.T) {
	ctx := context.Background()
	type resolve func(region string, v Variant) (string, error)
	sdk := map[string]resolve{
		"ecr.api": func(r string, v Variant) (string, error) {
			e, err := ecr.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecr.EndpointParameters{Region: &r, UseFIPS: &v.FIPS, UseDualStack: &v.DualStack})
			return e.URI.Host, err
		},
		"logs": func(r string, v Variant) (string, error) {
			e, err := cloudwatchlogs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, cloudwatchlogs.EndpointParameters{Region: &r, UseFIPS: &v.FIPS, UseDualStack: &v.DualStack})
			return e.URI.Host, err
		},
		"sts": func(r string, v Variant) (string, error) {
			e, err := sts.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, sts.EndpointParameters{Region: &r, UseFIPS: &v.FIPS, UseDualStack: &v.DualStack, UseGlobalEndpoint: aws.Bool(false)})
			return e.URI.Host, err
		},
		"secretsmanager": func(r string, v Variant) (string, error) {
			e, err := secretsmanager.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, secretsmanager.EndpointParameters{Region: &r, UseFIPS: &v.FIPS, UseDualStack: &v.DualStack})
			return e.URI.Host, err
		},
		"ssm": func(r string, v Variant) (string, error) {
			e, err := ssm.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ssm.EndpointParameters{Region: &r, UseFIPS: &v.FIPS, UseDualStack: &v.DualStack})
			return e.URI.Host, err
		},
		"kms": func(r string, v Variant) (string, error) {
			e, err := kms.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, kms.EndpointParameters{Region: &r, UseFIPS: &v.FIPS, UseDualStack: &v.DualStack})
			return e.URI.Host, err
		},
		"ecs": func(r string, v Variant) (string, error) {
			e, err := ecs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecs.EndpointParameters{Region: &r, UseFIPS: &v.FIPS, UseDualStack: &v.DualStack})
			return e.URI.Host, err
		},
		"s3": func(r string, v Variant) (string, error) {
			e, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, s3.EndpointParameters{
				Region: &r, UseFIPS: &v.FIPS, UseDualStack: &v.DualStack, Bucket: aws.String(LayerBucket(r)), UseGlobalEndpoint: aws.Bool(false)})
			return e.URI.Host, err
		},
	}
	documented := map[string]map[Variant]string{ // in eu-west-1, account 123456789012
		"ecr.dkr": {{}: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", {FIPS: true}: "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com",
			{DualStack: true}: "123456789012.dkr-ecr.eu-west-1.on.aws", {FIPS: true, DualStack: true}: "123456789012.dkr-ecr-fips.eu-west-1.on.aws"},
		"ssmmessages": {{}: "ssmmessages.eu-west-1.amazonaws.com", {FIPS: true}: "ssmmessages-fips.eu-west-1.amazonaws.com",
			{DualStack: true}: "ssmmessages.eu-west-1.api.aws", {FIPS: true, DualStack: true}: "ssmmessages-fips.eu-west-1.api.aws"},
		"ecs-agent": {{}: "ecs-a.eu-west-1.amazonaws.com", {FIPS: true}: "ecs-a.eu-west-1.amazonaws.com",
			{DualStack: true}: "ecs-a.eu-west-1.amazonaws.com", {FIPS: true, DualStack: true}: "ecs-a.eu-west-1.amazonaws.com"},
		"ecs-telemetry": {{}: "ecs-t.eu-west-1.amazonaws.com", {FIPS: true}: "ecs-t.eu-west-1.amazonaws.com",
			{DualStack: true}: "ecs-t.eu-west-1.amazonaws.com", {FIPS: true, DualStack: true}: "ecs-t.eu-west-1.amazonaws.com"},
	}
	variants := []Variant{{}, {FIPS: true}, {DualStack: true}, {FIPS: true, DualStack: true}}
	regions := []string{"eu-west-1", "us-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1"}
	for _, key := range Keys() {
		svc, _ := Lookup(key)
		for _, v := range variants {
			if want, ok := documented[key]; ok {
				if got := svc.HostFor("eu-west-1", "123456789012", v); got != want[v] {
					t.Errorf("%s %+v: catalogue says %s, documented %s", key, v, got, want[v])
				}
				continue
			}
			resolve, ok := sdk[key]
			if !ok {
				t.Fatalf("%s: neither an SDK resolver nor documented names to compare with", key)
			}
			for _, region := range regions {
				want, err := resolve(region, v)
				if err != nil {
					want = "" // the SDK refuses it
				}
				if got := svc.HostFor(region, "123456789012", v); got != want {
					t.Errorf("%s in %s %+v: catalogue says %q, SDK calls %q (%v)", key, region, v, got, want, err)
				}
			}
		}
	}
}

func TestHostsAndEndpointServices(t *testing.T) {
	tests := []struct {
		key, region, host, endpoint string
	}{
		{"ecr.api", "eu-west-1", "api.ecr.eu-west-1.amazonaws.com", "com.amazonaws.eu-west-1.ecr.api"},
		{"ecr.dkr", "eu-west-1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "com.amazonaws.eu-west-1.ecr.dkr"},
		{"s3", "eu-west-1", "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com", "com.amazonaws.eu-west-1.s3"},
		{"ecs-agent", "eu-west-1", "ecs-a.eu-west-1.amazonaws.com", "com.amazonaws.eu-west-1.ecs-agent"},
		{"ecs-telemetry", "eu-west-1", "ecs-t.eu-west-1.amazonaws.com", "com.amazonaws.eu-west-1.ecs-telemetry"},
		{"ssmmessages", "eu-west-1", "ssmmessages.eu-west-1.amazonaws.com", "com.amazonaws.eu-west-1.ssmmessages"},
		{"ecr.api", "cn-north-1", "api.ecr.cn-north-1.amazonaws.com.cn", "cn.com.amazonaws.cn-north-1.ecr.api"},
		{"ecr.dkr", "cn-north-1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn.com.amazonaws.cn-north-1.ecr.dkr"},
		// S3's endpoint to create is the gateway, com.amazonaws.… even in China (eksctl's
		// DescribeVpcEndpointServices fixture; CDK's GatewayVpcEndpointAwsService).
		{"s3", "cn-north-1", "prod-cn-north-1-starport-layer-bucket.s3.cn-north-1.amazonaws.com.cn", "com.amazonaws.cn-north-1.s3"},
		{"sts", "cn-north-1", "sts.cn-north-1.amazonaws.com.cn", "cn.com.amazonaws.cn-north-1.sts"},
		{"logs", "cn-north-1", "logs.cn-north-1.amazonaws.com.cn", "com.amazonaws.cn-north-1.logs"},
		{"ecr.api", "us-gov-west-1", "api.ecr.us-gov-west-1.amazonaws.com", "com.amazonaws.us-gov-west-1.ecr.api"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"/"+tt.region, func(t *testing.T) {
			svc, _ := Lookup(tt.key)
			if got := svc.Host(tt.region, "123456789012"); got != tt.host {
				t.Errorf("host %s, want %s", got, tt.host)
			}
			if got := svc.EndpointService(tt.region); got != tt.endpoint {
				t.Errorf("endpoint service %s, want %s", got, tt.endpoint)
			}
		})
	}
}

func TestParseServices(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: DefaultServices, want: "ecr.api,ecr.dkr,s3,logs"},
		{in: "sts, logs ,sts", want: "logs,sts"},
		{in: "all", want: strings.Join(Keys(), ",")},
		{in: "ECR.API", want: "ecr.api"},
		{in: "ec2-instance", want: "ecr.api,ecr.dkr,s3,logs,ecs,ecs-agent,ecs-telemetry"},
		{in: "ec2-instance,sts", want: "ecr.api,ecr.dkr,s3,logs,sts,ecs,ecs-agent,ecs-telemetry"},
		{in: "ecr", wantErr: true},
		{in: "", wantErr: true},
		{in: " , ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			svcs, err := ParseServices(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			var keys []string
			for _, s := range svcs {
				keys = append(keys, s.Key)
			}
			if got := strings.Join(keys, ","); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	// CONTRACT.md's group ec2-instance: what an ECS container instance needs.
	if keys, ok := Group("ec2-instance"); !ok || strings.Join(keys, ",") != "ecs,ecs-agent,ecs-telemetry,ecr.api,ecr.dkr,s3,logs" {
		t.Errorf("group ec2-instance = %v, %v", keys, ok)
	}
	for _, key := range []string{"ecr.api", "ecr.dkr", "s3", "logs", "sts", "secretsmanager", "ssm", "ssmmessages", "kms", "ecs", "ecs-agent", "ecs-telemetry"} {
		if _, ok := Lookup(key); !ok {
			t.Errorf("CONTRACT.md key %s missing from the catalogue", key)
		}
	}
}

func TestRegions(t *testing.T) {
	for _, r := range []string{"eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5", "us-isob-east-1", "eusc-de-east-1", "mx-central-1"} {
		if !ValidRegion(r) {
			t.Errorf("%s rejected", r)
		}
	}
	for _, r := range []string{"", "eu-west", "EU-WEST-1", "eu-west-1a", "eu_west_1", "1"} {
		if ValidRegion(r) {
			t.Errorf("%q accepted", r)
		}
	}
	if p := PartitionOf("cn-northwest-1"); p.ID != "aws-cn" || p.DNSSuffix != "amazonaws.com.cn" {
		t.Errorf("cn-northwest-1: %+v", p)
	}
	if p := PartitionOf("us-gov-east-1"); p.ID != "aws-us-gov" || p.DNSSuffix != "amazonaws.com" {
		t.Errorf("us-gov-east-1: %+v", p)
	}
}
