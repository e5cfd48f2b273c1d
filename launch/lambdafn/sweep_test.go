package lambdafn

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/moto"
)

// TestSweepExpired against moto's Lambda control plane: of the functions named vpcprobe-…, those
// whose vpcprobe:expires tag is past are deleted; one with a future expiry, one without the tag
// (someone's own --function-name) and one of another name are left alone.
func TestSweepExpired(t *testing.T) {
	awstest.IsolateSDK(t)
	cfg := moto.Start(t).Config(nil)
	ctx := context.Background()
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("vpcprobe-lambda"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	client := lambda.NewFromConfig(cfg)
	code, _ := ZipBootstrap(elfHeader(2, 1, 0, 62))
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for name, expires := range map[string]string{
		"vpcprobe-crashed-subnet-1": now.Add(-time.Minute).Format(time.RFC3339),
		"vpcprobe-running-subnet-2": now.Add(10 * time.Minute).Format(time.RFC3339),
		"vpcprobe-team-own":         "",
		"billing-export":            now.Add(-time.Hour).Format(time.RFC3339),
	} {
		tags := map[string]string{"vpcprobe:launch-id": "x"}
		if expires != "" {
			tags[ExpiresTag] = expires
		}
		if _, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: role.Role.Arn,
			Runtime: LambdaRuntime, Handler: aws.String(LambdaHandler), Code: &lambdatypes.FunctionCode{ZipFile: code}, Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	deleted, err := SweepExpired(ctx, client, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(deleted, []string{"vpcprobe-crashed-subnet-1"}) {
		t.Errorf("deleted %v", deleted)
	}
	out, err := client.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, f := range out.Functions {
		left = append(left, aws.ToString(f.FunctionName))
	}
	slices.Sort(left)
	if want := []string{"billing-export", "vpcprobe-running-subnet-2", "vpcprobe-team-own"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
