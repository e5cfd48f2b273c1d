package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"
	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/internal/readsonce"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/report"
)

// want is a finding a scenario must produce: its code, severity, service ("" for VPC-wide) and
// a resource id it must name.
type want struct {
	code     string
	severity Severity
	service  string
	resource func(w *world) string
}

func id(f func(w *world) string) func(w *world) string { return f }

var (
	vpcID   = id(func(w *world) string { return w.vpc })
	taskSG  = id(func(w *world) string { return w.taskSG })
	epSG    = id(func(w *world) string { return w.epSG })
	rtb     = id(func(w *world) string { return w.rtb })
	s3List  = id(func(w *world) string { return w.s3List })
	vpce    = func(key string) func(w *world) string { return func(w *world) string { return w.endpoints[key] } }
	literal = func(s string) func(w *world) string { return func(*world) string { return s } }
)

func defaultServices(t *testing.T) []catalogue.Service {
	s, err := catalogue.ParseServices("ecr.api,ecr.dkr,s3,logs")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestInspect builds VPCs in moto_server through the EC2 API and asserts the codes, severities
// and resource ids of the findings.
func TestInspect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		opts options
		// edit changes the world after it is built; what it returns is available to want as extra.
		edit   func(w *world) string
		want   []want
		noFail bool     // no fail finding at all
		absent []string // codes that must not appear
		fixFor string   // a service whose endpoint Fixes must create
	}{
		{name: "healthy: documented endpoints and the S3 gateway", noFail: true,
			absent: []string{CodeEndpointMissing, CodeS3GatewayMissing, CodeSGEndpointIngress, CodeSGTaskEgress, CodeSGTaskEgressS3, CodePolicyCustom}},
		{name: "missing endpoints", opts: options{skip: []string{"ecr.api", "logs"}}, fixFor: "ecr.api",
			want: []want{{CodeEndpointMissing, Fail, "ecr.api", vpcID}, {CodeEndpointMissing, Fail, "logs", epSG}}},
		{name: "missing S3 gateway", opts: options{skip: []string{"s3"}},
			want: []want{{CodeS3GatewayMissing, Fail, "s3", rtb}}},
		{name: "private DNS off", opts: options{privateDNS: map[string]bool{"ecr.dkr": false}},
			want: []want{{CodePrivateDNSOff, Fail, "ecr.dkr", vpce("ecr.dkr")}}},
		{name: "endpoints only in another zone", opts: options{endpointSub: "other-az"},
			want: []want{{CodeEndpointOtherAZ, Warn, "logs", vpce("logs")}}},
		{name: "DNS hostnames off",
			edit: func(w *world) string {
				_, err := w.e.ec2.ModifyVpcAttribute(w.ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(w.vpc), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}})
				w.must(err)
				return ""
			},
			want: []want{{CodeDNSHostnamesOff, Fail, "", vpcID}}},
		{name: "DNS support off",
			edit: func(w *world) string {
				_, err := w.e.ec2.ModifyVpcAttribute(w.ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(w.vpc), EnableDnsSupport: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}})
				w.must(err)
				return ""
			},
			want: []want{{CodeDNSSupportOff, Fail, "", vpcID}}},
		{name: "custom DHCP DNS",
			edit: func(w *world) string {
				d, err := w.e.ec2.CreateDhcpOptions(w.ctx, &ec2.CreateDhcpOptionsInput{DhcpConfigurations: []ec2types.NewDhcpConfiguration{{Key: aws.String("domain-name-servers"), Values: []string{"10.9.9.9"}}}})
				w.must(err)
				_, err = w.e.ec2.AssociateDhcpOptions(w.ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: d.DhcpOptions.DhcpOptionsId, VpcId: aws.String(w.vpc)})
				w.must(err)
				return aws.ToString(d.DhcpOptions.DhcpOptionsId)
			},
			want: []want{{CodeDHCPCustomDNS, Warn, "", nil}}},
		{name: "resolver forward rule for amazonaws.com",
			edit: func(w *world) string { return w.forwardRule("amazonaws.com") },
			// The endpoints' autodefined rules are more specific: they keep answering (Route 53
			// guide, "Domain names that VPC Resolver creates autodefined system rules for").
			want: []want{{CodeResolverForwardPublic, Warn, "s3", nil}}, noFail: true, absent: []string{CodeResolverForward}},
		{name: "endpoint group without 443 from the task", opts: options{noIngress: true},
			want: []want{{CodeSGEndpointIngress, Fail, "ecr.api", epSG}, {CodeSGEndpointIngress, Fail, "logs", vpce("logs")}}},
		{name: "task egress without the prefix list",
			edit: func(w *world) string {
				c := w.e.ec2
				_, err := c.RevokeSecurityGroupEgress(w.ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(w.taskSG),
					IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
				w.must(err)
				_, err = c.AuthorizeSecurityGroupEgress(w.ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(w.taskSG),
					IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.0.0.0/16")}}}}})
				w.must(err)
				return ""
			},
			want:   []want{{CodeSGTaskEgressS3, Fail, "s3", s3List}, {CodeSGTaskEgressS3, Fail, "s3", taskSG}},
			absent: []string{CodeSGTaskEgress}},
		{name: "task egress closed",
			edit: func(w *world) string {
				_, err := w.e.ec2.RevokeSecurityGroupEgress(w.ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(w.taskSG),
					IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
				w.must(err)
				return ""
			},
			want: []want{{CodeSGTaskEgress, Fail, "ecr.dkr", taskSG}, {CodeSGTaskEgressS3, Fail, "s3", taskSG}}},
		{name: "endpoint group allows 443 from a prefix list of the task subnets", opts: options{noIngress: true},
			edit: func(w *world) string {
				pl := w.prefixList("10.0.1.0/24", "10.0.9.0/24")
				w.ingress(w.epSG, ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
					PrefixListIds: []ec2types.PrefixListId{{PrefixListId: aws.String(pl)}}})
				return pl
			},
			noFail: true, absent: []string{CodeSGEndpointIngress}},
		{name: "endpoint group allows 443 from a prefix list without the task subnet", opts: options{noIngress: true},
			edit: func(w *world) string {
				pl := w.prefixList("10.0.9.0/24")
				w.ingress(w.epSG, ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
					PrefixListIds: []ec2types.PrefixListId{{PrefixListId: aws.String(pl)}}})
				return pl
			},
			want: []want{{CodeSGEndpointIngress, Fail, "ecr.api", epSG}}},
		{name: "task egress to a prefix list of the endpoint subnets and to S3's",
			edit: func(w *world) string {
				c := w.e.ec2
				_, err := c.RevokeSecurityGroupEgress(w.ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(w.taskSG),
					IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
				w.must(err)
				pl := w.prefixList("10.0.2.0/24", "10.0.3.0/24")
				_, err = c.AuthorizeSecurityGroupEgress(w.ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(w.taskSG),
					IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
						PrefixListIds: []ec2types.PrefixListId{{PrefixListId: aws.String(pl)}, {PrefixListId: aws.String(w.s3List)}}}}})
				w.must(err)
				return pl
			},
			noFail: true, absent: []string{CodeSGTaskEgress, CodeSGTaskEgressS3}},
		{name: "endpoints share the task's group, which allows 443 from itself", opts: options{noIngress: true},
			edit: func(w *world) string {
				for _, key := range []string{"ecr.api", "ecr.dkr", "logs"} {
					_, err := w.e.ec2.ModifyVpcEndpoint(w.ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: aws.String(w.endpoints[key]),
						AddSecurityGroupIds: []string{w.taskSG}, RemoveSecurityGroupIds: []string{w.epSG}})
					w.must(err)
				}
				w.ingress(w.taskSG, ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
					UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(w.taskSG)}}})
				return ""
			},
			noFail: true, absent: []string{CodeSGEndpointIngress, CodeSGTaskEgress}},
		{name: "S3 gateway not on the task's route table", opts: options{s3Table: true},
			want: []want{{CodeS3RouteMissing, Fail, "s3", rtb}, {CodeS3RouteMissing, Fail, "s3", vpce("s3")}}},
		{name: "NAT route and no logs endpoint", opts: options{skip: []string{"logs"}},
			edit:   func(w *world) string { return w.natRoute() },
			want:   []want{{CodeRouteNAT, Warn, "", nil}, {CodeEndpointViaNAT, Warn, "logs", nil}},
			noFail: true, fixFor: "logs"},
		{name: "transit gateway route and no endpoints: maybe central", opts: options{skip: []string{"ecr.api", "ecr.dkr", "logs"}},
			edit: func(w *world) string {
				tgw, err := w.e.ec2.CreateTransitGateway(w.ctx, &ec2.CreateTransitGatewayInput{})
				w.must(err)
				_, err = w.e.ec2.CreateRoute(w.ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(w.rtb), DestinationCidrBlock: aws.String("10.100.0.0/16"), TransitGatewayId: tgw.TransitGateway.TransitGatewayId})
				w.must(err)
				return aws.ToString(tgw.TransitGateway.TransitGatewayId)
			},
			want:   []want{{CodeEndpointCentral, Warn, "ecr.api", nil}, {CodeEndpointCentral, Warn, "logs", rtb}},
			absent: []string{CodeEndpointMissing}},
		{name: "task ACL denies the ephemeral ports back",
			edit: func(w *world) string {
				return w.taskACL(
					aclEntry(100, true, ec2types.RuleActionAllow, "0.0.0.0/0", 443, 443),
					aclEntry(90, false, ec2types.RuleActionDeny, "10.0.0.0/16", 1024, 65535),
					aclEntry(100, false, ec2types.RuleActionAllow, "0.0.0.0/0", 0, 65535))
			},
			want:   []want{{CodeACLTaskIn, Fail, "ecr.api", nil}, {CodeACLTaskIn, Fail, "logs", literal("")}},
			absent: []string{CodeACLTaskOut}},
		{name: "endpoint subnet's ACL denies 443 from the task",
			edit: func(w *world) string {
				return w.subnetACL(w.epSub,
					aclEntry(100, false, ec2types.RuleActionDeny, "10.0.1.0/24", 443, 443),
					aclEntry(200, false, ec2types.RuleActionAllow, "0.0.0.0/0", 0, 65535),
					aclEntry(100, true, ec2types.RuleActionAllow, "0.0.0.0/0", 0, 65535))
			},
			want:   []want{{CodeACLEndpointIn, Fail, "ecr.dkr", nil}, {CodeACLEndpointIn, Fail, "logs", vpce("logs")}},
			absent: []string{CodeACLEndpointOut, CodeACLTaskIn, CodeACLTaskOut}},
		{name: "main route table with the gateway", opts: options{mainTable: true}, noFail: true,
			absent: []string{CodeS3RouteMissing, CodeS3GatewayMissing}},
		{name: "internet gateway and no endpoints", opts: options{skip: []string{"ecr.api", "ecr.dkr", "logs"}},
			edit:   func(w *world) string { return w.igwRoute() },
			want:   []want{{CodeRouteIGW, Warn, "", nil}, {CodeEndpointViaIGW, Warn, "ecr.api", nil}},
			noFail: true},
		{name: "S3 gateway policy without the layer bucket",
			opts: options{s3Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-bucket/*"}]}`},
			want: []want{{CodeS3PolicyDenies, Fail, "s3", vpce("s3")}}},
		{name: "S3 gateway policy with the layer bucket",
			opts:   options{s3Policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::prod-` + region + `-starport-layer-bucket/*"]}]}`},
			want:   []want{{CodePolicyCustom, Info, "s3", vpce("s3")}},
			noFail: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := build(t, e, tc.opts)
			extra := ""
			if tc.edit != nil {
				extra = tc.edit(w)
			}
			rep, err := Subnet(ctx, e.clients(), w.task, []string{w.taskSG}, defaultServices(t))
			if err != nil {
				t.Fatal(err)
			}
			check := func() {
				t.Helper()
				if tc.noFail && rep.Failed() {
					t.Errorf("a fail finding in a VPC that should pass")
				}
				for _, wf := range tc.want {
					res := extra
					if wf.resource != nil {
						res = wf.resource(w)
					}
					if !slices.ContainsFunc(rep.Findings, func(f Finding) bool {
						return f.Code == wf.code && f.Severity == wf.severity && (f.Service == wf.service || (wf.service == "" && f.Service == "")) &&
							(res == "" || slices.Contains(f.Resources, res))
					}) {
						t.Errorf("no %s %s finding for %q naming %q", wf.severity, wf.code, wf.service, res)
					}
				}
				if tc.fixFor != "" && !slices.ContainsFunc(Fixes(rep), func(f *Fix) bool { return f.Kind == FixEndpoint && f.Service == tc.fixFor }) {
					t.Errorf("Fixes does not create the %s endpoint", tc.fixFor)
				}
				for _, code := range tc.absent {
					if slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Code == code }) {
						t.Errorf("unexpected %s finding", code)
					}
				}
				for _, f := range rep.Findings {
					if codeRank(f.Code) < 0 {
						t.Errorf("finding code %q is not in Codes", f.Code)
					}
					if f.Severity == Fail && f.Fix != nil && f.Command == "" {
						t.Errorf("%s: a fail with a fix but no command", f.Code)
					}
				}
			}
			check()
			schematest.Check(t, rep.JSON())
			for _, p := range readsonce.Problems(rep.Text(), report.DefaultWidth) { // issue 16: the text reads once
				t.Errorf("text: %s", p)
			}
			if t.Failed() {
				t.Logf("report:\n%s", rep.Text())
			}
		})
	}
}

// denyOne wraps an EC2 client and answers UnauthorizedOperation, as EC2 does, for one operation.
type denyOne struct {
	EC2API
	op string
}

var errDenied = &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}

func (d denyOne) DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, o ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	if d.op == "DescribeNetworkAcls" {
		return nil, errDenied
	}
	return d.EC2API.DescribeNetworkAcls(ctx, in, o...)
}

func (d denyOne) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, o ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	if d.op == "DescribeSubnets" {
		return nil, errDenied
	}
	return d.EC2API.DescribeSubnets(ctx, in, o...)
}

// deniedResolver answers every call as Route 53 Resolver does to an identity without permission.
type deniedResolver struct{}

var errResolverDenied = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized"}

func (deniedResolver) ListResolverRuleAssociations(context.Context, *route53resolver.ListResolverRuleAssociationsInput, ...func(*route53resolver.Options)) (*route53resolver.ListResolverRuleAssociationsOutput, error) {
	return nil, errResolverDenied
}

func (deniedResolver) GetResolverRule(context.Context, *route53resolver.GetResolverRuleInput, ...func(*route53resolver.Options)) (*route53resolver.GetResolverRuleOutput, error) {
	return nil, errResolverDenied
}

// TestMissingPermission: one kind denied is a finding naming the IAM action and the rest is
// still inspected; the subnets denied is ErrUnreadable naming ec2:DescribeSubnets.
func TestMissingPermission(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w := build(t, e, options{noIngress: true})
	c := e.clients()
	c.EC2 = denyOne{EC2API: e.reader, op: "DescribeNetworkAcls"}
	rep, err := Subnet(ctx, c, w.task, []string{w.taskSG}, defaultServices(t))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == CodePermission })
	if i < 0 || !strings.Contains(rep.Findings[i].Diagnosis, "ec2:DescribeNetworkAcls") || rep.Findings[i].Severity != Warn {
		t.Errorf("no warn %s finding naming ec2:DescribeNetworkAcls:\n%s", CodePermission, rep.Text())
	}
	if !slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeSGEndpointIngress }) {
		t.Errorf("the other checks did not run:\n%s", rep.Text())
	}

	// Route 53 Resolver says AccessDeniedException.
	c.EC2 = e.reader
	c.Resolver = deniedResolver{}
	rep, err = Subnet(ctx, c, w.task, []string{w.taskSG}, defaultServices(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Findings, func(f Finding) bool {
		return f.Code == CodePermission && strings.Contains(f.Diagnosis, "route53resolver:ListResolverRuleAssociations")
	}) {
		t.Errorf("no %s finding naming route53resolver:ListResolverRuleAssociations:\n%s", CodePermission, rep.Text())
	}

	c.EC2 = denyOne{EC2API: e.reader, op: "DescribeSubnets"}
	_, err = Subnet(ctx, c, w.task, nil, defaultServices(t))
	if !errors.Is(err, ErrUnreadable) || !strings.Contains(fmt.Sprint(err), "ec2:DescribeSubnets") {
		t.Errorf("err = %v, want ErrUnreadable naming ec2:DescribeSubnets", err)
	}
}

// TestCallsPerVPC: inspecting 50 subnets of one VPC makes no more EC2 calls than inspecting one.
func TestCallsPerVPC(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w := build(t, e, options{})
	var targets []Target
	for i := range 50 {
		az := region + string(rune('a'+i%3))
		targets = append(targets, Target{SubnetID: w.subnet(fmt.Sprintf("10.0.%d.0/24", 10+i), az), SecurityGroups: []string{w.taskSG}})
	}
	calls := func(ts []Target) int64 {
		before := e.count.n.Load()
		reps, err := Subnets(ctx, e.clients(), ts, defaultServices(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(reps) != len(ts) {
			t.Fatalf("%d reports for %d subnets", len(reps), len(ts))
		}
		for i, r := range reps {
			if r.SubnetID != ts[i].SubnetID || r.VPCID != w.vpc {
				t.Fatalf("report %d is for %s in %s, want %s in %s", i, r.SubnetID, r.VPCID, ts[i].SubnetID, w.vpc)
			}
		}
		return e.count.n.Load() - before
	}
	one, fifty := calls(targets[:1]), calls(targets)
	t.Logf("EC2 calls: 1 subnet %d, 50 subnets %d", one, fifty)
	if fifty > one {
		t.Errorf("50 subnets took %d EC2 calls, one took %d", fifty, one)
	}
}

// TestENI reads a running task's interface: its subnet, groups and address.
func TestENI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w := build(t, e, options{})
	n, err := e.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(w.task), Groups: []string{w.taskSG}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := ENI(ctx, e.ec2, aws.ToString(n.NetworkInterface.NetworkInterfaceId))
	if err != nil {
		t.Fatal(err)
	}
	if tg.SubnetID != w.task || !slices.Equal(tg.SecurityGroups, []string{w.taskSG}) || !tg.Address.IsValid() {
		t.Errorf("target = %+v, want subnet %s groups [%s] and an address", tg, w.task, w.taskSG)
	}
	if _, err := ENI(ctx, e.ec2, "eni-0123456789abcdef0"); !errors.Is(err, ErrUnreadable) {
		t.Errorf("unknown ENI: err = %v, want ErrUnreadable", err)
	}
}
