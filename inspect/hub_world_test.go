package inspect

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// r53 is a Route 53 client of the env's moto_server.
type r53 struct {
	e      *env
	client *route53.Client
}

func newRoute53(e *env) *r53 { return &r53{e: e, client: route53.NewFromConfig(e.srv.Config(nil))} }

// privateZone creates a private hosted zone called name associated with vpc and returns its id.
func (r *r53) privateZone(t *testing.T, name, vpc string) string {
	t.Helper()
	out, err := r.client.CreateHostedZone(t.Context(), &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(vpc + "-" + name),
		HostedZoneConfig: &r53types.HostedZoneConfig{PrivateZone: true}, VPC: &r53types.VPC{VPCId: aws.String(vpc), VPCRegion: r53types.VPCRegion(region)}})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(aws.ToString(out.HostedZone.Id), "/hostedzone/")
}

// hubWorld is a hub VPC (10.100.0.0/16) of the same account: interface endpoints for ecr.api and
// logs with private DNS off (their names answered by zones associated with the spokes), one
// security group on them allowing TCP 443 from a CIDR, and an S3 gateway endpoint.
type hubWorld struct {
	vpc, sg   string
	endpoints map[string]string
}

func (w *world) hubVPC(from string) hubWorld {
	c := w.e.ec2
	v, err := c.CreateVpc(w.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.100.0.0/16")})
	w.must(err)
	h := hubWorld{vpc: aws.ToString(v.Vpc.VpcId), endpoints: map[string]string{}}
	s, err := c.CreateSubnet(w.ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.100.1.0/24"), AvailabilityZone: aws.String(region + "a")})
	w.must(err)
	g, err := c.CreateSecurityGroup(w.ctx, &ec2.CreateSecurityGroupInput{VpcId: v.Vpc.VpcId, GroupName: aws.String("hub-endpoints"), Description: aws.String("hub")})
	w.must(err)
	h.sg = aws.ToString(g.GroupId)
	_, err = c.AuthorizeSecurityGroupIngress(w.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []ec2types.IpRange{{CidrIp: aws.String(from)}}}}})
	w.must(err)
	for _, key := range []string{"ecr.api", "logs"} {
		h.endpoints[key] = w.endpoint(&ec2.CreateVpcEndpointInput{VpcId: v.Vpc.VpcId, ServiceName: aws.String("com.amazonaws." + region + "." + key),
			VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{aws.ToString(s.Subnet.SubnetId)}, SecurityGroupIds: []string{h.sg}, PrivateDnsEnabled: aws.Bool(false)})
	}
	rt, err := c.CreateRouteTable(w.ctx, &ec2.CreateRouteTableInput{VpcId: v.Vpc.VpcId})
	w.must(err)
	h.endpoints["s3"] = w.endpoint(&ec2.CreateVpcEndpointInput{VpcId: v.Vpc.VpcId, ServiceName: aws.String("com.amazonaws." + region + ".s3"),
		VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{aws.ToString(rt.RouteTable.RouteTableId)}})
	return h
}
