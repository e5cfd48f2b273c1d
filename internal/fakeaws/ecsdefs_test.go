package fakeaws_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestECSDefinitions reads registered task definitions and services back through the SDK: by
// family (the latest revision), family:revision and ARN; a missing one is ClientException; a
// RunTask group and ECS Exec setting come back in DescribeTasks.
func TestECSDefinitions(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	ctx := context.Background()
	c := e.ecs()
	for _, img := range []string{"app:1", "app:2"} {
		if _, err := e.fake.RegisterTaskDefinition([]byte(`{"family": "web", "executionRoleArn": "arn:aws:iam::123456789012:role/x",
			"containerDefinitions": [{"name": "web", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/` + img + `",
			"secrets": [{"name": "A", "valueFrom": "/a"}]}]}`)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ ref, image string }{
		{"web", "app:2"}, {"web:1", "app:1"}, {"arn:aws:ecs:eu-west-1:123456789012:task-definition/web:2", "app:2"},
	}
	for _, tt := range tests {
		out, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(tt.ref)})
		if err != nil {
			t.Fatalf("%s: %v", tt.ref, err)
		}
		td := out.TaskDefinition
		if got := aws.ToString(td.ContainerDefinitions[0].Image); got != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/"+tt.image ||
			aws.ToString(td.ContainerDefinitions[0].Secrets[0].ValueFrom) != "/a" || td.RegisteredAt == nil || aws.ToString(td.TaskDefinitionArn) == "" {
			t.Errorf("%s: %+v", tt.ref, td)
		}
	}
	var apiErr smithy.APIError
	if _, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:3")}); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ClientException" {
		t.Errorf("missing revision: %v", err)
	}

	e.fake.AddService(fakeaws.ECSService{Cluster: "prod", Name: "web", Subnets: []string{"subnet-a"}, SecurityGroups: []string{"sg-1", "sg-2"}})
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web", "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Fatalf("%+v", out)
	}
	if vpc := out.Services[0].NetworkConfiguration.AwsvpcConfiguration; len(vpc.SecurityGroups) != 2 || vpc.SecurityGroups[1] != "sg-2" || vpc.AssignPublicIp != ecstypes.AssignPublicIpDisabled {
		t.Errorf("%+v", vpc)
	}

	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("web:2"), Group: aws.String("service:web"), EnableExecuteCommand: true,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	task := e.describe(t, aws.ToString(run.Tasks[0].TaskArn))
	if aws.ToString(task.Group) != "service:web" || !task.EnableExecuteCommand {
		t.Errorf("group %q exec %v", aws.ToString(task.Group), task.EnableExecuteCommand)
	}
}
