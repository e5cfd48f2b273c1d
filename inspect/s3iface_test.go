package inspect

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// dnsOptions wraps the EC2 client inspect reads with and sets DnsOptions on the endpoints it
// names: moto 5.2 accepts DnsOptions on CreateVpcEndpoint but never returns them. The rest of
// the answer is moto's, in the SDK's own types.
type dnsOptions struct {
	EC2API
	opts map[string]*ec2types.DnsOptions
}

func (d dnsOptions) DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, o ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	out, err := d.EC2API.DescribeVpcEndpoints(ctx, in, o...)
	if err != nil {
		return nil, err
	}
	for i, e := range out.VpcEndpoints {
		if opt, ok := d.opts[aws.ToString(e.VpcEndpointId)]; ok {
			out.VpcEndpoints[i].DnsOptions = opt
		}
	}
	return out, nil
}

// TestS3InterfaceEndpoint: with an S3 gateway and an S3 interface endpoint, the interface
// endpoint's PrivateDnsOnlyForInboundResolverEndpoint decides (VPC PrivateLink guide, "Gateway
// and interface endpoints for Amazon S3"): off, in-VPC names resolve to the interface endpoint,
// so its security group decides, and ECR cannot use an S3 interface endpoint for layers (ECS
// developer guide, VPC endpoints) — a fail; on, the gateway carries them and the interface
// endpoint's group does not matter.
func TestS3InterfaceEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		name        string
		gateway     bool
		inboundOnly bool
		fail        bool // CodeS3InterfaceLayers, and the interface endpoint's group checked
	}{
		{"gateway and interface, inbound only", true, true, false},
		{"gateway and interface, private DNS for the VPC too", true, false, true},
		{"interface only", false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := options{}
			if !tc.gateway {
				o.skip = []string{"s3"}
			}
			w := build(t, e, o)
			closed := w.group("s3-interface") // allows nothing in
			id := w.endpoint(&ec2.CreateVpcEndpointInput{VpcId: aws.String(w.vpc), ServiceName: aws.String("com.amazonaws." + region + ".s3"),
				VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{w.epSub}, SecurityGroupIds: []string{closed}, PrivateDnsEnabled: aws.Bool(true)})
			c := e.clients()
			c.EC2 = dnsOptions{EC2API: e.reader, opts: map[string]*ec2types.DnsOptions{id: {DnsRecordIpType: ec2types.DnsRecordIpTypeIpv4,
				PrivateDnsOnlyForInboundResolverEndpoint: aws.Bool(tc.inboundOnly)}}}
			rep, err := Subnet(ctx, c, w.task, []string{w.taskSG}, defaultServices(t))
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeS3InterfaceLayers })
			if (i >= 0) != tc.fail {
				t.Errorf("%s: %t, want %t", CodeS3InterfaceLayers, i >= 0, tc.fail)
			}
			if i >= 0 {
				f := rep.Findings[i]
				if f.Severity != Fail || f.Service != "s3" || !slices.Contains(f.Resources, id) {
					t.Errorf("finding %+v: want a fail for s3 naming %s", f, id)
				}
				if tc.gateway && !strings.Contains(f.Command, "--dns-options PrivateDnsOnlyForInboundResolverEndpoint=true") {
					t.Errorf("the command does not set PrivateDnsOnlyForInboundResolverEndpoint: %q", f.Command)
				}
			}
			sg := slices.ContainsFunc(rep.Findings, func(f Finding) bool {
				return f.Code == CodeSGEndpointIngress && f.Service == "s3" && slices.Contains(f.Resources, closed)
			})
			if sg != tc.fail {
				t.Errorf("the interface endpoint's group %s judged: %t, want %t", closed, sg, tc.fail)
			}
			if !tc.fail && rep.Failed() {
				t.Errorf("a fail finding where the gateway carries the layers")
			}
			if !tc.gateway && !slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeS3GatewayMissing }) {
				t.Errorf("no %s with only an interface endpoint", CodeS3GatewayMissing)
			}
			if t.Failed() {
				t.Logf("report:\n%s", rep.Text())
			}
		})
	}
}
