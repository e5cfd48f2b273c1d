package inspect

import (
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

func entry(n int32, egress bool, action ec2types.RuleAction, cidr string, proto string, from, to int32) ec2types.NetworkAclEntry {
	return ec2types.NetworkAclEntry{RuleNumber: aws.Int32(n), Egress: aws.Bool(egress), RuleAction: action, CidrBlock: aws.String(cidr),
		Protocol: aws.String(proto), PortRange: &ec2types.PortRange{From: aws.Int32(from), To: aws.Int32(to)}}
}

// TestEvalACL: rule-number order, first match wins, per port, for the peer's CIDR.
func TestEvalACL(t *testing.T) {
	allow, deny := ec2types.RuleActionAllow, ec2types.RuleActionDeny
	peer := netip.MustParsePrefix("10.0.2.0/24")
	eph := portRange{ephemeralLo, ephemeralHi}
	cases := []struct {
		name    string
		entries []ec2types.NetworkAclEntry
		want    portRange
		denied  []portRange
		rule    int32
	}{
		{"default allow all", []ec2types.NetworkAclEntry{entry(100, false, allow, "0.0.0.0/0", "-1", 0, 0), entry(32767, false, deny, "0.0.0.0/0", "-1", 0, 0)}, eph, nil, 0},
		{"deny before allow", []ec2types.NetworkAclEntry{entry(200, false, allow, "0.0.0.0/0", "-1", 0, 0), entry(100, false, deny, "10.0.0.0/16", "6", 1024, 65535)}, eph, []portRange{eph}, 100},
		{"allow before deny", []ec2types.NetworkAclEntry{entry(100, false, allow, "10.0.2.0/24", "6", 1024, 65535), entry(200, false, deny, "0.0.0.0/0", "-1", 0, 0)}, eph, nil, 0},
		{"only Linux's ephemeral range allowed", []ec2types.NetworkAclEntry{entry(100, false, allow, "0.0.0.0/0", "6", 32768, 60999)}, eph,
			[]portRange{{1024, 32767}, {61000, 65535}}, implicitRule},
		{"allow for part of the peer does not count", []ec2types.NetworkAclEntry{entry(100, false, allow, "10.0.2.0/25", "6", 1024, 65535)}, eph, []portRange{eph}, implicitRule},
		{"other direction ignored", []ec2types.NetworkAclEntry{entry(100, true, deny, "0.0.0.0/0", "-1", 0, 0), entry(110, false, allow, "0.0.0.0/0", "-1", 0, 0)}, eph, nil, 0},
		{"udp rule ignored", []ec2types.NetworkAclEntry{entry(100, false, deny, "0.0.0.0/0", "17", 0, 65535), entry(110, false, allow, "0.0.0.0/0", "6", 0, 65535)}, eph, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := evalACL(tc.entries, false, peer, tc.want)
			if !slices.Equal(v.denied, tc.denied) || (len(tc.denied) > 0 && v.rule != tc.rule) {
				t.Errorf("denied %v by rule %d, want %v by rule %d", v.denied, v.rule, tc.denied, tc.rule)
			}
		})
	}
	// S3's public addresses: a deny of private addresses says nothing of them.
	v := evalACL([]ec2types.NetworkAclEntry{entry(90, false, deny, "10.0.0.0/16", "6", 1024, 65535), entry(100, false, allow, "0.0.0.0/0", "-1", 0, 0)}, false, anyIPv4, eph)
	if len(v.denied) > 0 {
		t.Errorf("a private deny blocks S3: %v", v.denied)
	}
}

// TestBlackhole: moto keeps routes to deleted NAT gateways active, so the blackhole rule is
// tested on a read VPC built in memory.
func TestBlackhole(t *testing.T) {
	sub := subnet{id: "subnet-0a", az: "eu-west-1a", cidr: netip.MustParsePrefix("10.0.1.0/24")}
	v := &vpc{region: "eu-west-1", id: "vpc-0a", subnets: map[string]subnet{sub.id: sub}, tablesRead: true, endpointsRead: true,
		tables: []ec2types.RouteTable{{RouteTableId: aws.String("rtb-0a"), Associations: []ec2types.RouteTableAssociation{{SubnetId: aws.String(sub.id)}},
			Routes: []ec2types.Route{{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-0dead"), State: ec2types.RouteStateBlackhole}}}}}
	svcs, _ := catalogue.ParseServices("logs")
	rep := v.inspect(Target{SubnetID: sub.id}, svcs)
	i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeRouteBlackhole })
	if i < 0 || rep.Findings[i].Severity != Fail || !slices.Contains(rep.Findings[i].Resources, "nat-0dead") {
		t.Fatalf("no fail %s naming nat-0dead:\n%s", CodeRouteBlackhole, rep.Text())
	}
	// The dead NAT is no way out: the missing endpoint is a fail, not a NAT warning.
	if !slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Code == CodeEndpointMissing && f.Severity == Fail }) {
		t.Errorf("no fail %s behind a blackholed default route:\n%s", CodeEndpointMissing, rep.Text())
	}
}

// TestPolicy: what counts as the default policy and what lets image layers through.
func TestPolicy(t *testing.T) {
	layer := catalogue.LayerBucketARN("eu-west-1")
	cases := []struct {
		doc          string
		full, layers bool
	}{
		{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, true, true},
		{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}}`, true, true},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"}]}`, false, true},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::prod-*"}]}`, false, false},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}`, false, false},
		{`%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%22%2A%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D`, true, true},
	}
	for _, tc := range cases {
		p, err := parsePolicy(tc.doc)
		if err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		if p.fullAccess() != tc.full || p.allows("s3:GetObject", layer) != tc.layers {
			t.Errorf("%s: full %t layers %t, want %t %t", tc.doc, p.fullAccess(), p.allows("s3:GetObject", layer), tc.full, tc.layers)
		}
	}
}

// TestActions: Actions names exactly one IAM action per method of the client interfaces, so the
// read-only policy cannot miss a call inspect makes.
func TestActions(t *testing.T) {
	var want []string
	for _, api := range []struct {
		prefix string
		typ    reflect.Type
	}{
		{"ec2:", reflect.TypeFor[EC2API]()},
		{"route53resolver:", reflect.TypeFor[ResolverAPI]()},
		{"route53resolver:", reflect.TypeFor[DNSFirewallAPI]()},
		{"ec2:", reflect.TypeFor[EgressAPI]()},
		{"route53:", reflect.TypeFor[Route53API]()},
		{"network-firewall:", reflect.TypeFor[NetworkFirewallAPI]()},
	} {
		for i := range api.typ.NumMethod() {
			want = append(want, api.prefix+api.typ.Method(i).Name)
		}
	}
	slices.Sort(want)
	if !slices.Equal(Actions, want) {
		t.Errorf("Actions = %v, want %v", Actions, want)
	}
}

// TestEndpointNotAvailable: moto's endpoints are always available, so a pending one is tested on
// a read VPC built in memory.
func TestEndpointNotAvailable(t *testing.T) {
	sub := subnet{id: "subnet-0a", az: "eu-west-1a", cidr: netip.MustParsePrefix("10.0.1.0/24")}
	v := &vpc{region: "eu-west-1", id: "vpc-0a", subnets: map[string]subnet{sub.id: sub}, endpointsRead: true,
		endpoints: []ec2types.VpcEndpoint{{VpcEndpointId: aws.String("vpce-0pending"), VpcEndpointType: "Interface", ServiceName: aws.String("com.amazonaws.eu-west-1.logs"),
			State: "pendingAcceptance", PrivateDnsEnabled: aws.Bool(true), SubnetIds: []string{sub.id}}}}
	svcs, _ := catalogue.ParseServices("logs")
	rep := v.inspect(Target{SubnetID: sub.id}, svcs)
	if !slices.ContainsFunc(rep.Findings, func(f Finding) bool {
		return f.Code == CodeEndpointNotAvailable && f.Severity == Fail && slices.Contains(f.Resources, "vpce-0pending")
	}) {
		t.Errorf("no fail %s naming vpce-0pending:\n%s", CodeEndpointNotAvailable, rep.Text())
	}
}

// TestCodesDocumented: every finding code is in README.md's table of inspect's codes, where
// users and scripts look them up.
func TestCodesDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Codes {
		if !strings.Contains(string(readme), "`"+c.Code+"`") {
			t.Errorf("finding code %s is not in README.md", c.Code)
		}
	}
}
