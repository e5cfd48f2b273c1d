package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
)

// TestInspectCommand runs "vpcprobe inspect" against moto_server: a subnet of a VPC with no
// endpoint and no way out fails (exit 1) naming the missing endpoints, its fix snippets print,
// an unknown subnet is exit 3, and bad usage is exit 2 before any call.
func TestInspectCommand(t *testing.T) {
	srv := moto.Start(t)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	ctx := context.Background()
	c := ec2.NewFromConfig(srv.Config(nil))
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String(moto.Region + "a")})
	if err != nil {
		t.Fatal(err)
	}
	subnet, vpc := aws.ToString(s.Subnet.SubnetId), aws.ToString(v.Vpc.VpcId)
	getenv := awstest.Env("AWS_REGION", moto.Region)

	cases := []struct {
		name   string
		args   []string
		getenv func(string) (string, bool)
		code   int
		stdout []string // substrings stdout must hold
		stderr string
	}{
		{"json", []string{"--subnet", subnet, "--output", "json"}, getenv, exitFail, []string{`"schema": "vpcprobe-inspect/v1"`, `"code": "endpoint-missing"`, `"code": "s3-gateway-missing"`, vpc}, ""},
		{"text", []string{"--subnet", subnet, "--output", "text", "--services", "logs"}, getenv, exitFail, []string{"this VPC lacks 1 endpoint: logs", "aws ec2 create-vpc-endpoint"}, ""},
		{"subnet from the environment", []string{"--output", "json"}, awstest.Env("AWS_REGION", moto.Region, "VPCPROBE_INSPECT_SUBNET", subnet), exitFail, []string{subnet}, ""},
		{"terraform", []string{"--subnet", subnet, "--fix-format", "terraform"}, getenv, exitFail, []string{`resource "aws_vpc_endpoint" "endpoint_ecr_api"`, vpc}, ""},
		{"cloudformation", []string{"--subnet", subnet, "--fix-format", "cloudformation"}, getenv, exitFail, []string{`"AWS::EC2::VPCEndpoint"`}, ""},
		{"unknown subnet", []string{"--subnet", "subnet-0123456789abcdef0"}, getenv, exitCannotRead, nil, "subnet-0123456789abcdef0 not found"},
		{"no subnet", nil, getenv, exitUsage, nil, "--subnet: required"},
		{"bad subnet", []string{"--subnet", "sub-1"}, getenv, exitUsage, nil, "--subnet"},
		{"eni and subnet", []string{"--subnet", subnet, "--eni", "eni-0123456789abcdef0"}, getenv, exitUsage, nil, "--eni"},
		{"bad service", []string{"--subnet", subnet, "--services", "ecr,logs"}, getenv, exitUsage, nil, "--services"},
		{"bad fix format", []string{"--subnet", subnet, "--fix-format", "pulumi"}, getenv, exitUsage, nil, "--fix-format"},
		{"bad workload", []string{"--subnet", subnet, "--workload", "solaris"}, getenv, exitUsage, nil, "--workload"},
		{"fips", []string{"--subnet", subnet, "--fips", "--services", "kms", "--output", "json"}, getenv, exitFail, []string{"com.amazonaws." + moto.Region + ".kms-fips"}, ""},
		{"lambda workload", []string{"--subnet", subnet, "--workload", "lambda", "--output", "json"}, getenv, exitFail, []string{`"code": "endpoint-missing"`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"inspect"}, tc.args...), tc.getenv, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if tc.stderr != "" && (!strings.Contains(stderr.String(), tc.stderr) || strings.Count(stderr.String(), "\n") != 1) {
				t.Errorf("stderr %q: want one line containing %q", stderr.String(), tc.stderr)
			}
			if tc.code == exitUsage || tc.code == exitCannotRead {
				if stdout.Len() > 0 {
					t.Errorf("stdout carries %q on exit %d", stdout.String(), tc.code)
				}
			}
			if slices.Contains(tc.args, "json") {
				var doc map[string]any
				if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
					t.Errorf("stdout is not one JSON document: %v", err)
				}
				schematest.Check(t, stdout.Bytes())
			}
		})
	}
}
