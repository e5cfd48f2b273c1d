package inspect

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	nftypes "github.com/aws/aws-sdk-go-v2/service/networkfirewall/types"
	rrtypes "github.com/aws/aws-sdk-go-v2/service/route53resolver/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
)

// has reports whether rep holds a finding of code and severity for service ("" matches a VPC-wide
// finding, "*" any) naming resource ("" any).
func has(rep *Report, code string, sev Severity, service, resource string) bool {
	return slices.ContainsFunc(rep.Findings, func(f Finding) bool {
		return f.Code == code && f.Severity == sev && (service == "*" || f.Service == service) &&
			(resource == "" || slices.Contains(f.Resources, resource))
	})
}

func hasCode(rep *Report, code string) bool {
	return slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Code == code })
}

// wantF is one finding a case expects: code, severity, service ("" VPC-wide, "*" any), resource.
type wantF struct {
	code     string
	sev      Severity
	service  string
	resource string
}

// judge checks rep against wants and absent codes, that every code is in Codes, and the schema.
func judge(t *testing.T, rep *Report, wants []wantF, absent []string) {
	t.Helper()
	for _, w := range wants {
		if !has(rep, w.code, w.sev, w.service, w.resource) {
			t.Errorf("no %s %s for %q naming %q", w.sev, w.code, w.service, w.resource)
		}
	}
	for _, a := range absent {
		if i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == a }); i >= 0 {
			t.Errorf("unexpected %s (%s, %s): %s", a, rep.Findings[i].Severity, rep.Findings[i].Service, rep.Findings[i].Diagnosis)
		}
	}
	for _, f := range rep.Findings {
		if codeRank(f.Code) < 0 {
			t.Errorf("finding code %q is not in Codes", f.Code)
		}
	}
	schematest.Check(t, rep.JSON())
	if t.Failed() {
		t.Logf("report:\n%s", rep.Text())
	}
}

// TestFirewallDomainMatches: DNS Firewall domain list entries "can optionally start with *" (API
// reference, UpdateFirewallDomains); a leading "*." stands for names below the rest, as a DNS
// wildcard does, and an entry without it is one name.
func TestFirewallDomainMatches(t *testing.T) {
	for _, tc := range []struct {
		entry, host string
		want        bool
	}{
		{"*", "api.ecr.eu-west-1.amazonaws.com", true},
		{"*.amazonaws.com", "api.ecr.eu-west-1.amazonaws.com", true},
		{"*.amazonaws.com", "amazonaws.com", false},
		{"*.AmazonAWS.com.", "logs.eu-west-1.amazonaws.com", true},
		{"logs.eu-west-1.amazonaws.com", "logs.eu-west-1.amazonaws.com", true},
		{"amazonaws.com", "logs.eu-west-1.amazonaws.com", false},
		{"*.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", true},
		{"*.s3.eu-west-1.amazonaws.com", "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com", true},
		{"*.example.com", "notexample.com", false},
	} {
		if got := firewallDomainMatches(tc.entry, tc.host); got != tc.want {
			t.Errorf("firewallDomainMatches(%q, %q) = %t, want %t", tc.entry, tc.host, got, tc.want)
		}
	}
}

// TestDNSFirewall: the rule groups associated with the task's VPC (moto's EC2 world; DNS
// Firewall in memory, moto has no DNS Firewall API) decide, by association priority then rule
// priority, which service names are blocked and how; the rule, group and list are named.
func TestDNSFirewall(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const g1, g2, l1, l2, l3 = "rslvr-frg-0001", "rslvr-frg-0002", "rslvr-fdl-0001", "rslvr-fdl-0002", "rslvr-fdl-0003"
	all := []string{"ecr.api", "ecr.dkr", "s3", "logs"}
	cases := []struct {
		name    string
		fw      func(vpc string) *fakeDNSFirewall
		blocked []string // services dns-firewall-blocks names (fail)
		wants   []wantF
		absent  []string
	}{
		{name: "every AWS name blocked with NXDOMAIN", blocked: all,
			fw: func(vpc string) *fakeDNSFirewall {
				return &fakeDNSFirewall{assocs: []rrtypes.FirewallRuleGroupAssociation{fwAssoc(vpc, g1, 101)},
					rules:   map[string][]rrtypes.FirewallRule{g1: {fwRuleOf("block-aws", 10, l1, rrtypes.ActionBlock, rrtypes.BlockResponseNxdomain)}},
					domains: map[string][]string{l1: {"*.amazonaws.com"}}}
			},
			wants: []wantF{{CodeDNSFirewallBlocks, Fail, "logs", g1}, {CodeDNSFirewallBlocks, Fail, "ecr.dkr", l1}, {CodeDNSFirewallFailClosed, Info, "", g1}}},
		{name: "an allow rule of lower priority number wins over a block of everything", blocked: []string{"s3", "logs"},
			fw: func(vpc string) *fakeDNSFirewall {
				return &fakeDNSFirewall{assocs: []rrtypes.FirewallRuleGroupAssociation{fwAssoc(vpc, g1, 101)},
					// Listed out of priority order: inspect must sort them.
					rules: map[string][]rrtypes.FirewallRule{g1: {fwRuleOf("deny-all", 20, l2, rrtypes.ActionBlock, rrtypes.BlockResponseNodata),
						fwRuleOf("allow-ecr", 10, l1, rrtypes.ActionAllow, "")}},
					domains:  map[string][]string{l1: {"api.ecr." + region + ".amazonaws.com", "*.dkr.ecr." + region + ".amazonaws.com", "ecr." + region + ".amazonaws.com"}, l2: {"*"}},
					failOpen: map[string]rrtypes.FirewallFailOpenStatus{vpc: rrtypes.FirewallFailOpenStatusEnabled}}
			},
			absent: []string{CodeDNSFirewallFailClosed, CodeDNSFirewallUnread}},
		{name: "the group associated at the lower priority decides", blocked: nil,
			fw: func(vpc string) *fakeDNSFirewall {
				return &fakeDNSFirewall{assocs: []rrtypes.FirewallRuleGroupAssociation{fwAssoc(vpc, g2, 300), fwAssoc(vpc, g1, 200)},
					rules: map[string][]rrtypes.FirewallRule{g2: {fwRuleOf("deny-all", 1, l2, rrtypes.ActionBlock, rrtypes.BlockResponseNodata)},
						g1: {fwRuleOf("allow-aws", 1, l1, rrtypes.ActionAllow, "")}},
					domains: map[string][]string{l1: {"*.amazonaws.com"}, l2: {"*"}}}
			}},
		{name: "an alert rule only logs", blocked: []string{"logs"},
			fw: func(vpc string) *fakeDNSFirewall {
				return &fakeDNSFirewall{assocs: []rrtypes.FirewallRuleGroupAssociation{fwAssoc(vpc, g1, 101)},
					rules: map[string][]rrtypes.FirewallRule{g1: {fwRuleOf("alert-all", 1, l2, rrtypes.ActionAlert, ""),
						fwRuleOf("walled-garden", 2, l3, rrtypes.ActionBlock, rrtypes.BlockResponseOverride)}},
					domains: map[string][]string{l2: {"*"}, l3: {"logs." + region + ".amazonaws.com"}}}
			}},
		{name: "a managed list that cannot be read may block", blocked: nil,
			fw: func(vpc string) *fakeDNSFirewall {
				return &fakeDNSFirewall{assocs: []rrtypes.FirewallRuleGroupAssociation{fwAssoc(vpc, g1, 101)},
					rules:   map[string][]rrtypes.FirewallRule{g1: {fwRuleOf("aws-managed", 1, "rslvr-fdl-managed", rrtypes.ActionBlock, rrtypes.BlockResponseNodata)}},
					domains: map[string][]string{}}
			},
			wants: []wantF{{CodeDNSFirewallUnread, Warn, "ecr.api", "rslvr-fdl-managed"}, {CodeDNSFirewallUnread, Warn, "s3", g1}}},
		{name: "another VPC's association does not apply", blocked: nil,
			fw: func(string) *fakeDNSFirewall {
				return &fakeDNSFirewall{assocs: []rrtypes.FirewallRuleGroupAssociation{fwAssoc("vpc-0other", g1, 101)},
					rules:   map[string][]rrtypes.FirewallRule{g1: {fwRuleOf("block-all", 1, l2, rrtypes.ActionBlock, rrtypes.BlockResponseNxdomain)}},
					domains: map[string][]string{l2: {"*"}}}
			},
			absent: []string{CodeDNSFirewallFailClosed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := build(t, e, options{})
			c := e.clients()
			c.DNSFirewall = tc.fw(w.vpc)
			rep, err := Subnet(ctx, c, w.task, []string{w.taskSG}, defaultServices(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range all {
				if got, want := has(rep, CodeDNSFirewallBlocks, Fail, k, ""), slices.Contains(tc.blocked, k); got != want {
					t.Errorf("%s: %s is %t, want %t", k, CodeDNSFirewallBlocks, got, want)
				}
			}
			judge(t, rep, tc.wants, tc.absent)
		})
	}
}

// TestBlockPublicAccess: a NAT gateway is no way out in block-bidirectional mode unless its
// subnet (or VPC) is excluded and exclusions are allowed; block-ingress leaves NAT traffic alone
// but blocks an internet gateway route; a shared VPC follows its owner's setting. EC2 and NAT
// gateways in moto; Block Public Access in memory (moto has no such API).
func TestBlockPublicAccess(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const owner = "123456789012" // moto's account
	opts := func(mode ec2types.InternetGatewayBlockMode, allowed bool, account string) ec2types.VpcBlockPublicAccessOptions {
		a := ec2types.VpcBlockPublicAccessExclusionsAllowedAllowed
		if !allowed {
			a = ec2types.VpcBlockPublicAccessExclusionsAllowedNotAllowed
		}
		return ec2types.VpcBlockPublicAccessOptions{AwsAccountId: aws.String(account), AwsRegion: aws.String(region), InternetGatewayBlockMode: mode,
			ExclusionsAllowed: a, State: ec2types.VpcBlockPublicAccessStateUpdateComplete}
	}
	bidi, ingress := ec2types.InternetGatewayBlockModeBlockBidirectional, ec2types.InternetGatewayBlockModeBlockIngress
	done := ec2types.VpcBlockPublicAccessExclusionStateCreateComplete
	cases := []struct {
		name   string
		igw    bool // an internet gateway route instead of the NAT
		opts   ec2types.VpcBlockPublicAccessOptions
		excl   func(w *world) []ec2types.VpcBlockPublicAccessExclusion
		wants  []wantF
		absent []string
	}{
		{name: "bidirectional blocks the NAT", opts: opts(bidi, true, owner),
			wants: []wantF{{CodeBPABlocksNAT, Fail, "", ""}, {CodeEndpointViaNAT, Fail, "logs", ""}}},
		{name: "bidirectional with the NAT's subnet excluded", opts: opts(bidi, true, owner),
			excl: func(w *world) []ec2types.VpcBlockPublicAccessExclusion {
				return []ec2types.VpcBlockPublicAccessExclusion{exclusion("vpcbpa-exclude-1", owner, w.otherAZ, done)}
			},
			wants:  []wantF{{CodeEndpointViaNAT, Warn, "logs", ""}},
			absent: []string{CodeBPABlocksNAT}},
		{name: "bidirectional with the VPC excluded (on the second page)", opts: opts(bidi, true, owner),
			excl: func(w *world) []ec2types.VpcBlockPublicAccessExclusion {
				return []ec2types.VpcBlockPublicAccessExclusion{exclusion("vpcbpa-exclude-1", owner, "subnet-0other1", done),
					exclusion("vpcbpa-exclude-2", owner, "subnet-0other2", done), exclusion("vpcbpa-exclude-3", owner, w.vpc, done)}
			},
			absent: []string{CodeBPABlocksNAT}},
		{name: "an exclusion being deleted does not apply", opts: opts(bidi, true, owner),
			excl: func(w *world) []ec2types.VpcBlockPublicAccessExclusion {
				return []ec2types.VpcBlockPublicAccessExclusion{exclusion("vpcbpa-exclude-1", owner, w.otherAZ, ec2types.VpcBlockPublicAccessExclusionStateDeleteInProgress)}
			},
			wants: []wantF{{CodeBPABlocksNAT, Fail, "", ""}}},
		{name: "exclusions not allowed: the excluded subnet is blocked all the same", opts: opts(bidi, false, owner),
			excl: func(w *world) []ec2types.VpcBlockPublicAccessExclusion {
				return []ec2types.VpcBlockPublicAccessExclusion{exclusion("vpcbpa-exclude-1", owner, w.otherAZ, done)}
			},
			wants: []wantF{{CodeBPABlocksNAT, Fail, "", ""}, {CodeS3GatewayMissing, Fail, "s3", ""}}},
		{name: "ingress-only leaves the NAT working", opts: opts(ingress, true, owner),
			wants: []wantF{{CodeEndpointViaNAT, Warn, "logs", ""}}, absent: []string{CodeBPABlocksNAT, CodeBPABlocksIGW}},
		{name: "ingress-only blocks the internet gateway route", igw: true, opts: opts(ingress, true, owner),
			wants: []wantF{{CodeBPABlocksIGW, Fail, "", ""}, {CodeEndpointViaIGW, Fail, "logs", ""}}},
		{name: "off", opts: opts(ec2types.InternetGatewayBlockModeOff, true, owner),
			absent: []string{CodeBPABlocksNAT, CodeBPABlocksIGW, CodeBPAOwner}},
		{name: "a shared VPC follows its owner's setting", opts: opts(bidi, true, "111122223333"),
			wants: []wantF{{CodeBPAOwner, Warn, "", ""}, {CodeEndpointViaNAT, Warn, "logs", ""}}, absent: []string{CodeBPABlocksNAT}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := build(t, e, options{skip: []string{"logs", "s3"}})
			via := ""
			if tc.igw {
				via = w.igwRoute()
			} else {
				via = w.natRoute()
			}
			f := &fakeEgress{nat: e.reader, options: tc.opts}
			if tc.excl != nil {
				f.exclusions = tc.excl(w)
			}
			c := e.clients()
			c.Egress = f
			rep, err := Subnet(ctx, c, w.task, []string{w.taskSG}, defaultServices(t))
			if err != nil {
				t.Fatal(err)
			}
			wants := slices.Clone(tc.wants)
			if has(rep, CodeBPABlocksNAT, Fail, "", "") {
				// The finding names the NAT gateway and the subnet to exclude, with the command.
				wants = append(wants, wantF{CodeBPABlocksNAT, Fail, "", via}, wantF{CodeBPABlocksNAT, Fail, "", w.otherAZ})
			}
			judge(t, rep, wants, tc.absent)
		})
	}
}

// TestHubEndpoints: a spoke VPC without endpoints of its own, a hub VPC of the same account with
// interface endpoints and an S3 gateway endpoint, a transit gateway route and private hosted
// zones (all in moto: EC2 and Route 53, whose ListHostedZonesByVPC lists the caller's own zones).
func TestHubEndpoints(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r53 := newRoute53(e)
	cases := []struct {
		name    string
		route   string // the spoke's route through the transit gateway; "" none
		hubFrom string // the CIDR the hub endpoints' group allows TCP 443 from
		wants   []wantF
		absent  []string
	}{
		{name: "healthy: zone associated, route to the hub, group allows the spoke", route: "10.100.0.0/16", hubFrom: "10.0.0.0/16",
			wants:  []wantF{{CodeHubZone, Info, "ecr.api", ""}, {CodeHubNoZone, Fail, "logs", ""}, {CodeHubGateway, Fail, "s3", ""}},
			absent: []string{CodeHubNoRoute, CodeHubSGIngress}},
		{name: "the hub endpoint's group lacks the spoke's CIDR", route: "10.100.0.0/16", hubFrom: "10.200.0.0/16",
			wants: []wantF{{CodeHubSGIngress, Fail, "ecr.api", ""}}, absent: []string{CodeHubNoRoute}},
		{name: "the route leads elsewhere", route: "10.200.0.0/16", hubFrom: "10.0.0.0/16",
			wants: []wantF{{CodeHubNoRoute, Fail, "ecr.api", ""}}, absent: []string{CodeHubZone}},
		{name: "no route out of the VPC at all", hubFrom: "10.0.0.0/16",
			wants: []wantF{{CodeHubNoRoute, Fail, "ecr.api", ""}}, absent: []string{CodeHubZone, CodeHubGateway}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Every hub of the account is read: one account, one hub per case.
			if err := e.srv.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			w := build(t, e, options{skip: []string{"ecr.api", "ecr.dkr", "logs", "s3"}})
			hub := w.hubVPC(tc.hubFrom)
			if tc.route != "" {
				tgw, err := e.ec2.CreateTransitGateway(ctx, &ec2.CreateTransitGatewayInput{})
				w.must(err)
				_, err = e.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(w.rtb), DestinationCidrBlock: aws.String(tc.route), TransitGatewayId: tgw.TransitGateway.TransitGatewayId})
				w.must(err)
			}
			zone := r53.privateZone(t, "api.ecr."+region+".amazonaws.com", w.vpc)
			c := e.clients()
			c.Route53 = r53.client
			rep, err := Subnet(ctx, c, w.task, []string{w.taskSG}, defaultServices(t))
			if err != nil {
				t.Fatal(err)
			}
			wants := slices.Clone(tc.wants)
			if has(rep, CodeHubZone, Info, "ecr.api", "") {
				wants = append(wants, wantF{CodeHubZone, Info, "ecr.api", zone}, wantF{CodeHubZone, Info, "ecr.api", hub.endpoints["ecr.api"]})
			}
			if has(rep, CodeHubSGIngress, Fail, "ecr.api", "") {
				wants = append(wants, wantF{CodeHubSGIngress, Fail, "ecr.api", hub.sg})
			}
			if has(rep, CodeHubNoZone, Fail, "logs", "") {
				wants = append(wants, wantF{CodeHubNoZone, Fail, "logs", hub.endpoints["logs"]})
			}
			judge(t, rep, wants, tc.absent)
		})
	}
}

// TestSharedVPCView: a participant of a shared VPC reads the owner's endpoints but not their
// security groups; their ingress is not judged a fail, and a finding says what was not read (a
// read VPC in memory: moto's DescribeSecurityGroups shows every account's groups to every caller).
func TestSharedVPCView(t *testing.T) {
	sub := subnet{id: "subnet-0a", az: "eu-west-1a", cidr: netip.MustParsePrefix("10.0.1.0/24")}
	v := &vpc{region: "eu-west-1", id: "vpc-0a", owner: "111122223333", subnets: map[string]subnet{sub.id: sub}, endpointsRead: true,
		groups: map[string]group{"sg-0task": {id: "sg-0task", name: "task", egress: []perm{{proto: "-1", cidrs: []netip.Prefix{anyIPv4}}}}},
		endpoints: []ec2types.VpcEndpoint{{VpcEndpointId: aws.String("vpce-0logs"), VpcEndpointType: "Interface", ServiceName: aws.String("com.amazonaws.eu-west-1.logs"),
			State: "available", PrivateDnsEnabled: aws.Bool(true), SubnetIds: []string{sub.id}, Groups: []ec2types.SecurityGroupIdentifier{{GroupId: aws.String("sg-0owner")}}}}}
	svcs, _ := catalogue.ParseServices("logs")
	rep := v.inspect(Target{SubnetID: sub.id, SecurityGroups: []string{"sg-0task"}}, svcs)
	judge(t, rep, []wantF{{CodeSharedVPC, Warn, "", "sg-0owner"}, {CodeSGEndpointIngress, Warn, "logs", "sg-0owner"}}, nil)
	if has(rep, CodeSGEndpointIngress, Fail, "logs", "") {
		t.Errorf("an unreadable group is judged closed")
	}
}

// TestCrossRegion: what a task needs in another region is matched to cross-region interface
// endpoints by service name and service region; what cross-region PrivateLink does not serve is
// said not private, and an image from the other region's registry pulls its layers over public
// addresses (a read VPC in memory: moto's endpoints have no ServiceRegion).
func TestCrossRegion(t *testing.T) {
	const other = "us-west-2"
	sub := subnet{id: "subnet-0a", az: "eu-west-1a", cidr: netip.MustParsePrefix("10.0.1.0/24")}
	base := func(routes ...ec2types.Route) *vpc {
		return &vpc{region: "eu-west-1", id: "vpc-0a", owner: "123456789012", subnets: map[string]subnet{sub.id: sub}, endpointsRead: true, tablesRead: true,
			tables: []ec2types.RouteTable{{RouteTableId: aws.String("rtb-0a"), Associations: []ec2types.RouteTableAssociation{{SubnetId: aws.String(sub.id)}}, Routes: routes}},
			endpoints: []ec2types.VpcEndpoint{
				{VpcEndpointId: aws.String("vpce-0xapi"), VpcEndpointType: "Interface", ServiceName: aws.String("com.amazonaws." + other + ".ecr.api"),
					ServiceRegion: aws.String(other), State: "available", PrivateDnsEnabled: aws.Bool(true), SubnetIds: []string{sub.id}},
				{VpcEndpointId: aws.String("vpce-0xkms"), VpcEndpointType: "Interface", ServiceName: aws.String("com.amazonaws." + other + ".kms"),
					ServiceRegion: aws.String(other), State: "available", PrivateDnsEnabled: aws.Bool(false), SubnetIds: []string{sub.id}},
			}}
	}
	need, _ := catalogue.ParseServices("ecr.api,ecr.dkr,s3,logs,secretsmanager,kms")
	local, _ := catalogue.ParseServices("ecr.api")
	target := Target{SubnetID: sub.id, OtherRegions: map[string][]catalogue.Service{other: need}}

	rep := base().inspect(target, local)
	judge(t, rep, []wantF{
		{CodeCrossRegionEndpoint, Info, "ecr.api", "vpce-0xapi"},
		{CodeCrossRegionEndpoint, Fail, "kms", "vpce-0xkms"}, // private DNS off, and no way out
		{CodeCrossRegionMissing, Fail, "ecr.dkr", other},
		{CodeCrossRegionUnsupported, Fail, "logs", other},
		{CodeCrossRegionUnsupported, Fail, "secretsmanager", other},
		{CodeCrossRegionLayers, Fail, "s3", other},
		// The other region's endpoint is no endpoint of this region's ecr.api.
		{CodeEndpointMissing, Fail, "ecr.api", ""},
	}, nil)
	for _, f := range rep.Findings {
		if f.Code == CodeCrossRegionMissing && !strings.Contains(f.Command, "--service-region "+other) {
			t.Errorf("%s command %q lacks --service-region %s", f.Code, f.Command, other)
		}
	}

	// With a NAT the same needs are reached over public addresses: warnings.
	rep = base(ec2types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-0a")}).inspect(target, local)
	judge(t, rep, []wantF{{CodeCrossRegionUnsupported, Warn, "logs", other}, {CodeCrossRegionLayers, Warn, "s3", other}, {CodeCrossRegionMissing, Warn, "ecr.dkr", other}}, nil)
}

// TestNetworkFirewall: the way out crosses a Network Firewall endpoint (a NAT whose subnet routes
// 0.0.0.0/0 to it, or the task's own default route); the firewall's stateful domain lists decide
// which hosts' TLS it drops. A read VPC in memory and Network Firewall in memory: moto models
// firewalls but not their policies or rule groups.
func TestNetworkFirewall(t *testing.T) {
	const fwEP = "vpce-0fw1"
	task := subnet{id: "subnet-0a5c", az: "eu-west-1a", cidr: netip.MustParsePrefix("10.0.1.0/24")}
	natSub := subnet{id: "subnet-0ba7", az: "eu-west-1a", cidr: netip.MustParsePrefix("10.0.0.0/24")}
	table := func(id, sub string, r ec2types.Route) ec2types.RouteTable {
		return ec2types.RouteTable{RouteTableId: aws.String(id), Associations: []ec2types.RouteTableAssociation{{SubnetId: aws.String(sub)}}, Routes: []ec2types.Route{r}}
	}
	viaNAT := func() *vpc {
		return &vpc{region: region, id: "vpc-0a", owner: "123456789012", subnets: map[string]subnet{task.id: task, natSub.id: natSub}, endpointsRead: true, tablesRead: true,
			tables: []ec2types.RouteTable{
				table("rtb-0ta5c", task.id, ec2types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-0a")}),
				table("rtb-0na7", natSub.id, ec2types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(fwEP)}),
			},
			x: extra{egress: &egress{nats: map[string]string{"nat-0a": natSub.id}}}}
	}
	direct := func() *vpc {
		v := viaNAT()
		v.tables = []ec2types.RouteTable{table("rtb-0ta5c", task.id, ec2types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(fwEP)})}
		v.x.egress = nil
		return v
	}
	layer := "prod-" + region + "-starport-layer-bucket.s3." + region + ".amazonaws.com"
	allowECR := domainList(nftypes.GeneratedRulesTypeAllowlist, "api.ecr."+region+".amazonaws.com", ".dkr.ecr."+region+".amazonaws.com", "logs."+region+".amazonaws.com")
	policy := func(strict bool, defaults []string, refs ...string) nftypes.FirewallPolicy {
		p := nftypes.FirewallPolicy{StatelessDefaultActions: []string{"aws:forward_to_sfe"}, StatefulDefaultActions: defaults}
		if strict {
			p.StatefulEngineOptions = &nftypes.StatefulEngineOptions{RuleOrder: nftypes.RuleOrderStrictOrder}
		}
		for i, r := range refs {
			p.StatefulRuleGroupReferences = append(p.StatefulRuleGroupReferences, nftypes.StatefulRuleGroupReference{ResourceArn: aws.String(nfARN("stateful-rulegroup", r)), Priority: aws.Int32(int32(i + 1))})
		}
		return p
	}
	firewall := func(p nftypes.FirewallPolicy, groups map[string]nftypes.RuleGroup) *fakeNetworkFirewall {
		f := &fakeNetworkFirewall{firewalls: []nfFake{{name: "other", policy: "other", endpoints: map[string]string{"eu-west-1a": "vpce-0elsewhere"}},
			{name: "egress-fw", policy: "egress", endpoints: map[string]string{"eu-west-1a": fwEP, "eu-west-1b": "vpce-0fw2"}}},
			policies: map[string]nftypes.FirewallPolicy{nfARN("firewall-policy", "egress"): p}, groups: map[string]nftypes.RuleGroup{}}
		for name, g := range groups {
			f.groups[nfARN("stateful-rulegroup", name)] = g
		}
		return f
	}
	suricata := nftypes.RuleGroup{RulesSource: &nftypes.RulesSource{RulesString: aws.String(`drop tls $HOME_NET any -> $EXTERNAL_NET 443 (tls.sni; content:"evil.example"; sid:1;)`)}}
	cases := []struct {
		name    string
		vpc     func() *vpc
		api     *fakeNetworkFirewall
		blocked []string
		wants   []wantF
		absent  []string
	}{
		{name: "an allow list without the layer bucket (through the NAT's subnet)", vpc: viaNAT,
			api: firewall(policy(false, nil, "allow-aws"), map[string]nftypes.RuleGroup{"allow-aws": allowECR}), blocked: []string{"s3"},
			wants: []wantF{{CodeNFWBlocks, Fail, "s3", "allow-aws"}, {CodeNFWBlocks, Fail, "s3", "egress-fw"}}, absent: []string{CodeNFWUnseen, CodeNFWUnevaluated}},
		{name: "the task's own default route to the firewall endpoint", vpc: direct,
			api: firewall(policy(false, nil, "allow-aws"), map[string]nftypes.RuleGroup{"allow-aws": allowECR}), blocked: []string{"s3"},
			// The firewall endpoint is a way out: no endpoint is a NAT-like warning, not "unreachable".
			wants: []wantF{{CodeEndpointViaNAT, Warn, "logs", fwEP}}, absent: []string{CodeEndpointMissing}},
		{name: "default order: an allow list wins over a deny list", vpc: viaNAT,
			api: firewall(policy(false, nil, "deny-aws", "allow-all"), map[string]nftypes.RuleGroup{
				"deny-aws": domainList(nftypes.GeneratedRulesTypeDenylist, ".amazonaws.com"), "allow-all": domainList(nftypes.GeneratedRulesTypeAllowlist, ".amazonaws.com")}),
			blocked: nil},
		{name: "strict order: the deny list first", vpc: viaNAT,
			api: firewall(policy(true, []string{"aws:drop_established"}, "deny-logs", "allow-all"), map[string]nftypes.RuleGroup{
				"deny-logs": domainList(nftypes.GeneratedRulesTypeRejectlist, "logs."+region+".amazonaws.com"), "allow-all": domainList(nftypes.GeneratedRulesTypeAllowlist, ".amazonaws.com")}),
			blocked: []string{"logs"}, wants: []wantF{{CodeNFWBlocks, Fail, "logs", "deny-logs"}}},
		{name: "strict order: nothing passes and the default drops", vpc: viaNAT,
			api:     firewall(policy(true, []string{"aws:drop_strict", "aws:alert_strict"}, "rules"), map[string]nftypes.RuleGroup{"rules": suricata}),
			blocked: []string{"ecr.api", "ecr.dkr", "s3", "logs"}, wants: []wantF{{CodeNFWBlocks, Fail, "logs", "aws:drop_strict"}, {CodeNFWUnevaluated, Warn, "", "rules"}}},
		{name: "the endpoint is no firewall of this account", vpc: viaNAT,
			api:   &fakeNetworkFirewall{firewalls: []nfFake{{name: "other", policy: "other", endpoints: map[string]string{"eu-west-1a": "vpce-0elsewhere"}}}},
			wants: []wantF{{CodeNFWUnseen, Warn, "", fwEP}}},
		{name: "Network Firewall denied", vpc: viaNAT, api: &fakeNetworkFirewall{denied: true},
			wants: []wantF{{CodeNFWUnseen, Warn, "", fwEP}, {CodePermission, Warn, "", ""}}},
	}
	svcs := func() []catalogue.Service { s, _ := catalogue.ParseServices("ecr.api,ecr.dkr,s3,logs"); return s }()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.vpc()
			v.x.nfw = readNetFirewalls(context.Background(), tc.api, v)
			rep := v.inspect(Target{SubnetID: task.id}, svcs)
			for _, s := range svcs {
				if got, want := has(rep, CodeNFWBlocks, Fail, s.Key, ""), slices.Contains(tc.blocked, s.Key); got != want {
					t.Errorf("%s: %s is %t, want %t", s.Key, CodeNFWBlocks, got, want)
				}
			}
			judge(t, rep, tc.wants, tc.absent)
			if slices.Contains(tc.blocked, "s3") && !slices.ContainsFunc(rep.Findings, func(f Finding) bool {
				return f.Code == CodeNFWBlocks && strings.Contains(f.Diagnosis, layer)
			}) {
				t.Errorf("the blocked layer bucket host %s is not named", layer) // naming the missing domain is the feature
			}
		})
	}

	// A transit gateway default route: an inspection VPC beyond it cannot be seen from here.
	v := viaNAT()
	v.tables[0].Routes = []ec2types.Route{{DestinationCidrBlock: aws.String("0.0.0.0/0"), TransitGatewayId: aws.String("tgw-0a")}}
	judge(t, v.inspect(Target{SubnetID: task.id}, svcs), []wantF{{CodeNFWUnseen, Info, "", "tgw-0a"}}, nil)
}

// TestCodes2026Documented: every finding code of the VPC of 2026 is in Codes, in the schema's
// examples and in README.md's table, so the contract names what inspect can say.
func TestCodes2026Documented(t *testing.T) {
	schema, err := os.ReadFile("../schema/inspect.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{CodeDNSFirewallBlocks, CodeDNSFirewallUnread, CodeDNSFirewallFailClosed, CodeBPABlocksNAT, CodeBPABlocksIGW, CodeBPAOwner,
		CodeHubZone, CodeHubNoZone, CodeHubNoRoute, CodeHubSGIngress, CodeHubGateway, CodeSharedVPC,
		CodeCrossRegionEndpoint, CodeCrossRegionMissing, CodeCrossRegionUnsupported, CodeCrossRegionLayers, CodeNFWBlocks, CodeNFWUnseen, CodeNFWUnevaluated} {
		if codeRank(code) < 0 {
			t.Errorf("%s is not in Codes", code)
		}
		if !strings.Contains(string(schema), `"`+code+`"`) {
			t.Errorf("%s is not in schema/inspect.schema.json", code)
		}
		if !strings.Contains(string(readme), "`"+code+"`") {
			t.Errorf("%s is not in README.md", code)
		}
	}
}
