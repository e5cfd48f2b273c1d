package lambdafn

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// What a Lambda function can reproduce of a task's address families (this file moves with the
// Lambda runner). AWS's Lambda Developer Guide ("Giving Lambda functions access to resources in
// an Amazon VPC", IPv6 support): a function in a VPC sends IPv6 only with
// Ipv6AllowedForDualStack, "all of the subnets that are connected to the function must be
// dual-stack subnets", and "Lambda doesn't support outbound IPv6 connections for IPv6-only
// subnets in a VPC". So a dual-stack task is reproduced with the flag set, and an IPv6-only one
// cannot be reproduced by a function at all: the ECS runner must run it.

// LambdaIPv6Only is the diagnosis code of a launch through Lambda into an IPv6-only subnet.
const LambdaIPv6Only checks.Code = "lambda-ipv6-only"

// dualStackLaunch reports whether the launch reproduces a dual-stack task.
func (c Config) dualStackLaunch() bool {
	return slices.Contains(c.Families, "ipv4") && slices.Contains(c.Families, "ipv6")
}

// ipv6OnlyLaunch reports whether the launch was asked to reproduce an IPv6-only task.
func (c Config) ipv6OnlyLaunch() bool {
	return len(c.Families) == 1 && c.Families[0] == "ipv6"
}

// vpcConfig is the function's VpcConfig for subnet: outbound IPv6 allowed for a dual-stack task.
func (c Config) vpcConfig(subnet string) *lambdatypes.VpcConfig {
	vc := &lambdatypes.VpcConfig{SubnetIds: []string{subnet}, SecurityGroupIds: c.SecurityGroups}
	if c.dualStackLaunch() {
		vc.Ipv6AllowedForDualStack = aws.Bool(true)
	}
	return vc
}

// familiesEvent adds the task's families to the probe's event, and the subnet's IPv6 CIDR from
// the inspection: a function has no task metadata to tell it, and without the CIDR the subnet's
// own IPv6 addresses would count as public.
func (c Config) familiesEvent(ctx context.Context, ev map[string]any, r *lambdaRun) {
	if _, given := ev["address-families"]; !given && len(c.Families) > 0 {
		ev["address-families"] = strings.Join(c.Families, ",")
	}
	if _, given := ev["subnet-ipv6-cidr"]; !given && r.subnetIPv6CIDR != nil {
		if cidr := r.subnetIPv6CIDR(ctx); cidr != "" {
			ev["subnet-ipv6-cidr"] = cidr
		}
	}
}

// ipv6OnlyDiagnosis is what the launch says instead of creating a function in an IPv6-only
// subnet.
func ipv6OnlyDiagnosis(subnet string) stopped.Diagnosis {
	return stopped.Diagnosis{Verdict: checks.Fail, Error: LambdaIPv6Only, Cause: CauseLambda, Source: "launcher",
		Diagnosis:   "An IPv6-only task cannot be reproduced by a Lambda function in " + subnet + ": Lambda doesn't support outbound IPv6 connections for IPv6-only subnets (Lambda Developer Guide, IPv6 support), so the function would test nothing the task uses.",
		Remediation: "Run the probe as an ECS task in " + subnet + " (vpcprobe launch --runner ecs), with the task's own network configuration."}
}
