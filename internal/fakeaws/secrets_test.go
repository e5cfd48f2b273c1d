package fakeaws_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

func TestGetSecretValue(t *testing.T) {
	cfg := fakeaws.DefaultConfig()
	cfg.Deny = map[string]bool{}
	e := newEnv(t, cfg)
	client := secretsmanager.NewFromConfig(e.aws, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
	ctx := context.Background()

	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("vpcprobe/test")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SecretString) != "s3cr3t-value" || aws.ToString(out.Name) != "vpcprobe/test" {
		t.Errorf("got %q %q", aws.ToString(out.Name), aws.ToString(out.SecretString))
	}
	byARN, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: out.ARN})
	if err != nil || aws.ToString(byARN.SecretString) != "s3cr3t-value" {
		t.Errorf("by ARN %s: %v", aws.ToString(out.ARN), err)
	}

	_, err = client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("missing")})
	if got := errorCode(t, err); got != "ResourceNotFoundException" {
		t.Errorf("missing secret: code %q", got)
	}

	e.fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"secretsmanager:GetSecretValue": true} })
	_, err = client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("vpcprobe/test")})
	if got := errorCode(t, err); got != "AccessDeniedException" {
		t.Errorf("denied: code %q", got)
	}
}

func TestGetParameters(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	client := ssm.NewFromConfig(e.aws, func(o *ssm.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
	ctx := context.Background()

	out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{
		"/vpcprobe/test", "arn:aws:ssm:eu-west-1:123456789012:parameter/vpcprobe/test", "/missing",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Parameters) != 2 || aws.ToString(out.Parameters[0].Value) != "parameter-value" {
		t.Errorf("Parameters = %+v", out.Parameters)
	}
	if len(out.InvalidParameters) != 1 || out.InvalidParameters[0] != "/missing" {
		t.Errorf("InvalidParameters = %v", out.InvalidParameters)
	}

	_, err = client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/missing")})
	if got := errorCode(t, err); got != "ParameterNotFound" {
		t.Errorf("GetParameter missing: code %q", got)
	}
}
