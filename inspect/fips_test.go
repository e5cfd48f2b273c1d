package inspect

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// TestFIPSEndpoints: an application with AWS_USE_FIPS_ENDPOINT calls kms-fips.<r>…, whose
// endpoint service is com.amazonaws.<r>.kms-fips (KMS developer guide; CDK's KMS_FIPS): the fix
// creates that one, an existing kms-fips endpoint serves it, and a service without a FIPS
// endpoint service (ssmmessages: none in CDK's list) says so instead of naming the standard one.
// Platform services (logs) keep their standard endpoint: Fargate ignores the task's FIPS setting.
func TestFIPSEndpoints(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	services, err := catalogue.ParseServices("logs,kms,ssmmessages")
	if err != nil {
		t.Fatal(err)
	}
	w := build(t, e, options{})
	inspectFIPS := func() *Report {
		t.Helper()
		reps, err := Subnets(ctx, e.clients(), []Target{{SubnetID: w.task, SecurityGroups: []string{w.taskSG}, FIPS: true}}, services)
		if err != nil {
			t.Fatal(err)
		}
		return reps[0]
	}
	rep := inspectFIPS()
	kms := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeEndpointMissing && f.Service == "kms" })
	if kms < 0 || fixOf(rep.Findings[kms]) == nil || fixOf(rep.Findings[kms]).ServiceName != "com.amazonaws."+region+".kms-fips" {
		t.Errorf("no fix creating com.amazonaws.%s.kms-fips:\n%s", region, rep.Text())
	}
	if !slices.ContainsFunc(rep.Findings, func(f Finding) bool {
		return f.Code == CodeNoFIPSEndpoint && f.Service == "ssmmessages" && f.Severity == Fail
	}) {
		t.Errorf("no fail %s for ssmmessages:\n%s", CodeNoFIPSEndpoint, rep.Text())
	}
	if slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Service == "logs" && f.Severity == Fail }) {
		t.Errorf("logs (a platform service, with its standard endpoint) fails:\n%s", rep.Text())
	}

	w.endpoint(&ec2.CreateVpcEndpointInput{VpcId: aws.String(w.vpc), ServiceName: aws.String("com.amazonaws." + region + ".kms-fips"),
		VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{w.epSub}, SecurityGroupIds: []string{w.epSG}, PrivateDnsEnabled: aws.Bool(true)})
	rep = inspectFIPS()
	if slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Service == "kms" && f.Severity == Fail }) {
		t.Errorf("kms fails with a kms-fips endpoint:\n%s", rep.Text())
	}
}
