package lab

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/internal/moto"
)

// One moto_server for the test binary: every Describe makes a VPC of its own in it (the same
// CIDR, as in separate AWS accounts' VPCs), so tests need no reset and pay moto's start once.
var (
	motoOnce   sync.Once
	motoServer *moto.Server
	motoErr    error
)

// sharedMoto returns the test binary's moto_server, started on first use; TestMain closes it.
func sharedMoto(t *testing.T) *moto.Server {
	t.Helper()
	motoOnce.Do(func() { motoServer, motoErr = moto.Run(context.Background()) })
	if motoErr != nil {
		t.Fatalf("moto_server: %v", motoErr)
	}
	return motoServer
}

func closeMoto() {
	if motoServer != nil {
		motoServer.Close()
	}
}

// describeT describes n in the shared moto and reads it back.
func describeT(t *testing.T, n Network) (VPCIDs, VPCView) {
	t.Helper()
	client := ec2.NewFromConfig(sharedMoto(t).Config(nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids, err := Describe(ctx, client, n)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ReadVPC(ctx, client, ids.VPC)
	if err != nil {
		t.Fatal(err)
	}
	return ids, v
}

func endpointService(k string) string {
	s, _ := catalogue.Lookup(k)
	return s.EndpointService(Region)
}

// TestDescribe builds scenario networks through the EC2 API and asserts what a reader of the
// configuration sees: endpoint services, states and private DNS, security group rules, routes,
// DHCP servers and ACL entries.
func TestDescribe(t *testing.T) {
	tests := []struct {
		name  string
		net   Network
		check func(t *testing.T, ids VPCIDs, v VPCView)
	}{
		{"healthy", allEndpoints(), func(t *testing.T, ids VPCIDs, v VPCView) {
			if len(v.Endpoints) != len(interfaceKeys())+1 {
				t.Errorf("%d endpoints, want %d interface and the S3 gateway", len(v.Endpoints), len(interfaceKeys()))
			}
			for _, k := range interfaceKeys() {
				e := endpoint(t, v, ids, k)
				if e.Service != endpointService(k) || e.Type != "Interface" || e.State != "available" || !e.PrivateDNS {
					t.Errorf("%s: %+v, want %s Interface available with private DNS", k, e, endpointService(k))
				}
				if !slices.Equal(sorted(e.Subnets), sorted([]string{ids.TaskSubnet, ids.EndpointSubnet})) {
					t.Errorf("%s: subnets %v, want the task's and %s's", k, e.Subnets, AZB)
				}
				wantRules(t, v, ids.EndpointGroups[k], "in tcp 443 from "+TaskSubnet)
			}
			s3 := endpoint(t, v, ids, "s3")
			if s3.Type != "Gateway" || !slices.Equal(s3.Tables, []string{ids.RouteTable}) {
				t.Errorf("s3: %+v, want a Gateway endpoint on %s", s3, ids.RouteTable)
			}
			wantRoute(t, v, ids, ids.PrefixList+" -> "+ids.Endpoints["s3"]+" active")
			noRoute(t, v, ids, "0.0.0.0/0")
			wantRules(t, v, ids.TaskGroup, "out tcp 443 to "+VPCCIDR, "out tcp 443 to "+ids.PrefixList)
			noRule(t, v, ids.TaskGroup, "out all to 0.0.0.0/0")
			if !v.DNSSupport || !v.DNSHostnames || len(v.DHCPServers) > 0 && v.DHCPServers[0] != "AmazonProvidedDNS" {
				t.Errorf("DNS support %t, hostnames %t, servers %v; want both on and the Amazon-provided resolver",
					v.DNSSupport, v.DNSHostnames, v.DHCPServers)
			}
			if len(ids.Unexplained) > 0 {
				t.Errorf("Unexplained = %v, want none", ids.Unexplained)
			}
		}},
		{"isolated", Network{}, func(t *testing.T, ids VPCIDs, v VPCView) {
			if len(v.Endpoints) != 0 || len(v.NATs) != 0 {
				t.Errorf("endpoints %v, NATs %v: want none", v.Endpoints, v.NATs)
			}
			table := routeTable(t, v, ids)
			if !slices.Equal(table.Routes, []string{VPCCIDR + " -> local active"}) {
				t.Errorf("task route table: %v, want only the local route", table.Routes)
			}
			if table.Main || !slices.Equal(table.Subnets, []string{ids.TaskSubnet}) {
				t.Errorf("task route table: main %t subnets %v, want an explicit association", table.Main, table.Subnets)
			}
			wantRules(t, v, ids.TaskGroup, "out tcp 443 to "+VPCCIDR)
		}},
		{"nat-only", Network{NAT: true}, func(t *testing.T, ids VPCIDs, v VPCView) {
			if ids.NAT == "" || !slices.Equal(v.NATs, []string{ids.NAT + " in " + ids.PublicSubnet + " available"}) {
				t.Errorf("NATs %v, want %s in the public subnet %s", v.NATs, ids.NAT, ids.PublicSubnet)
			}
			wantRoute(t, v, ids, "0.0.0.0/0 -> "+ids.NAT+" active")
			wantRules(t, v, ids.TaskGroup, "out tcp 443 to 0.0.0.0/0")
			for _, rt := range v.RouteTables {
				if slices.Contains(rt.Subnets, ids.PublicSubnet) && !slices.Contains(rt.Routes, "0.0.0.0/0 -> "+ids.InternetGW+" active") {
					t.Errorf("public route table %s: %v, want 0.0.0.0/0 via %s", rt.ID, rt.Routes, ids.InternetGW)
				}
			}
		}},
		{"endpoint-sg-no-443", withNet(allEndpoints(), func(n *Network) { n.SGNo443 = []string{"ecr.dkr"} }),
			func(t *testing.T, ids VPCIDs, v VPCView) {
				noRule(t, v, ids.EndpointGroups["ecr.dkr"], "in tcp 443 from "+TaskSubnet)
				wantRules(t, v, ids.EndpointGroups["ecr.api"], "in tcp 443 from "+TaskSubnet)
				if e := endpoint(t, v, ids, "ecr.dkr"); !slices.Equal(e.Groups, []string{ids.EndpointGroups["ecr.dkr"]}) {
					t.Errorf("ecr.dkr groups %v, want %s", e.Groups, ids.EndpointGroups["ecr.dkr"])
				}
			}},
		{"private-dns-off", withNet(allEndpoints(), func(n *Network) { n.PrivateDNSOff = []string{"ecr.api"} }),
			func(t *testing.T, ids VPCIDs, v VPCView) {
				if endpoint(t, v, ids, "ecr.api").PrivateDNS {
					t.Error("ecr.api: private DNS on, want off")
				}
				if !endpoint(t, v, ids, "ecr.dkr").PrivateDNS {
					t.Error("ecr.dkr: private DNS off, want on")
				}
			}},
		{"eni-zone-down", withNet(allEndpoints(), func(n *Network) { n.ZoneDown = []string{"ecr.api"} }),
			func(t *testing.T, ids VPCIDs, v VPCView) {
				if e := endpoint(t, v, ids, "ecr.api"); !slices.Contains(e.Subnets, ids.ZoneDownSubnet) {
					t.Errorf("ecr.api subnets %v, want the zone-down subnet %s", e.Subnets, ids.ZoneDownSubnet)
				}
				if e := endpoint(t, v, ids, "sts"); slices.Contains(e.Subnets, ids.ZoneDownSubnet) {
					t.Errorf("sts subnets %v: only ecr.api's zone is down", e.Subnets)
				}
				acl, ok := v.ACL(ids.NetworkACL)
				if !ok || !slices.Equal(acl.Subnets, []string{ids.ZoneDownSubnet}) {
					t.Fatalf("ACL %s: %+v, want it on %s alone", ids.NetworkACL, acl, ids.ZoneDownSubnet)
				}
				if !slices.Contains(acl.Entries, "in 90 deny tcp 443-443 "+TaskSubnet) {
					t.Errorf("ACL entries %v, want 443 in from the task subnet denied", acl.Entries)
				}
				for _, a := range v.ACLs {
					if a.ID != ids.NetworkACL && slices.Contains(a.Subnets, ids.ZoneDownSubnet) {
						t.Errorf("the zone-down subnet is still on ACL %s", a.ID)
					}
				}
			}},
		{"custom-dns", withNet(allEndpoints(), func(n *Network) { n.DNS = DNSCustom }),
			func(t *testing.T, ids VPCIDs, v VPCView) {
				if !slices.Equal(v.DHCPServers, []string{CustomDNSIP}) {
					t.Errorf("DHCP servers %v, want [%s]", v.DHCPServers, CustomDNSIP)
				}
				wantRules(t, v, ids.TaskGroup, "out udp 53 to "+CustomDNSIP+"/32", "out tcp 53 to "+CustomDNSIP+"/32")
				if len(ids.Unexplained) != 0 {
					t.Errorf("Unexplained = %v: a custom DNS server is in the configuration", ids.Unexplained)
				}
			}},
		{"unexplained", Network{NAT: true, Egress: EgressIntercept, Endpoints: []string{"logs"}, Silent: []string{"logs"},
			DNS: DNSCustomDead, Shadow: map[string][]string{Host("sts"): nil}},
			func(t *testing.T, ids VPCIDs, v VPCView) {
				if len(ids.Unexplained) != 4 {
					t.Errorf("Unexplained = %q, want the silent logs endpoint, the egress firewall, the dead DNS server and the shadow zone", ids.Unexplained)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, v := describeT(t, tt.net)
			if v.CIDR != VPCCIDR {
				t.Errorf("VPC CIDR %s, want %s", v.CIDR, VPCCIDR)
			}
			subnetAt(t, v, ids.TaskSubnet, TaskSubnet, AZ)
			subnetAt(t, v, ids.EndpointSubnet, EndpointSubnetB, AZB)
			tt.check(t, ids, v)
			if t.Failed() {
				var b strings.Builder
				v.Write(&b)
				t.Logf("ids %+v\n%s", ids, b.String())
			}
		})
	}
}

// TestDescribeRejects: a network naming an unknown service creates nothing.
func TestDescribeRejects(t *testing.T) {
	client := ec2.NewFromConfig(sharedMoto(t).Config(nil))
	ids, err := Describe(context.Background(), client, Network{Endpoints: []string{"nosuch"}})
	if err == nil || ids.VPC != "" {
		t.Fatalf("Describe: ids %+v, err %v; want an error before any call", ids, err)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func endpoint(t *testing.T, v VPCView, ids VPCIDs, k string) EndpointView {
	t.Helper()
	e, ok := v.Endpoint(ids.Endpoints[k])
	if !ok {
		t.Fatalf("endpoint %s (%q) not described", k, ids.Endpoints[k])
	}
	return e
}

func subnetAt(t *testing.T, v VPCView, id, cidr, az string) {
	t.Helper()
	for _, s := range v.Subnets {
		if s.ID == id {
			if s.CIDR != cidr || s.AZ != az {
				t.Errorf("subnet %s: %s in %s, want %s in %s", id, s.CIDR, s.AZ, cidr, az)
			}
			return
		}
	}
	t.Errorf("subnet %s (%s) not described", id, cidr)
}

func wantRules(t *testing.T, v VPCView, group string, rules ...string) {
	t.Helper()
	g, ok := v.Group(group)
	if !ok {
		t.Fatalf("group %q not described", group)
	}
	for _, r := range rules {
		if !slices.Contains(g.Rules, r) {
			t.Errorf("group %s: rules %v, want %q", g.Name, g.Rules, r)
		}
	}
}

func noRule(t *testing.T, v VPCView, group, rule string) {
	t.Helper()
	g, ok := v.Group(group)
	if !ok {
		t.Fatalf("group %q not described", group)
	}
	if slices.Contains(g.Rules, rule) {
		t.Errorf("group %s: rules %v, want no %q", g.Name, g.Rules, rule)
	}
}

func routeTable(t *testing.T, v VPCView, ids VPCIDs) RouteTableView {
	t.Helper()
	rt, ok := v.RouteTable(ids.RouteTable)
	if !ok {
		t.Fatalf("route table %q not described", ids.RouteTable)
	}
	return rt
}

func wantRoute(t *testing.T, v VPCView, ids VPCIDs, route string) {
	t.Helper()
	if rt := routeTable(t, v, ids); !slices.Contains(rt.Routes, route) {
		t.Errorf("task route table %s: %v, want %q", rt.ID, rt.Routes, route)
	}
}

func noRoute(t *testing.T, v VPCView, ids VPCIDs, dst string) {
	t.Helper()
	for _, r := range routeTable(t, v, ids).Routes {
		if strings.HasPrefix(r, dst+" ") {
			t.Errorf("task route table has %q", r)
		}
	}
}

// TestDescribeScenarios describes every scenario's network and checks that the configuration
// says what the lab's packet filter does: one endpoint per interface service plus the gateway,
// private DNS off exactly for PrivateDNSOff, 443 allowed in exactly where SGNo443 does not drop
// it, the NAT route exactly with NAT. The figures (-v) are describe's time per scenario.
func TestDescribeScenarios(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			start := time.Now()
			ids, v := describeT(t, sc.Net)
			t.Logf("describe and read back: %s", time.Since(start).Round(time.Millisecond))
			n := sc.Net
			want := len(n.Endpoints)
			if n.S3Gateway {
				want++
			}
			if len(v.Endpoints) != want {
				t.Errorf("%d endpoints, want %d", len(v.Endpoints), want)
			}
			for _, k := range n.Endpoints {
				e := endpoint(t, v, ids, k)
				if e.PrivateDNS == slices.Contains(n.PrivateDNSOff, k) {
					t.Errorf("%s: private DNS %t, PrivateDNSOff %v", k, e.PrivateDNS, n.PrivateDNSOff)
				}
				g, _ := v.Group(ids.EndpointGroups[k])
				if slices.Contains(g.Rules, "in tcp 443 from "+TaskSubnet) == slices.Contains(n.SGNo443, k) {
					t.Errorf("%s: group rules %v, SGNo443 %v", k, g.Rules, n.SGNo443)
				}
			}
			rt := routeTable(t, v, ids)
			if hasNAT := slices.Contains(rt.Routes, "0.0.0.0/0 -> "+ids.NAT+" active"); hasNAT != n.NAT {
				t.Errorf("routes %v, NAT %t", rt.Routes, n.NAT)
			}
		})
	}
}

// TestStartWithEC2 starts labs that serve their VPC's configuration: in the test binary's shared
// moto_server, or in one of the lab's own that Close stops; without the option there is none.
func TestStartWithEC2(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("shared", func(t *testing.T) {
		// The live run and the configuration tell the same story: ecr.api warns (its second zone
		// times out), and its AZB ENI sits in a subnet whose ACL denies 443 from the task.
		sc, err := Lookup("eni-zone-down")
		if err != nil {
			t.Fatal(err)
		}
		url := sharedMoto(t).URL
		l := startLab(t, sc, WithEC2(url))
		if l.EC2Endpoint() != url {
			t.Errorf("EC2Endpoint = %q, want the shared %q", l.EC2Endpoint(), url)
		}
		if !slices.Contains(l.AWSEnv(), "AWS_ENDPOINT_URL_EC2="+url) {
			t.Errorf("AWSEnv = %v, want AWS_ENDPOINT_URL_EC2=%s", l.AWSEnv(), url)
		}
		ids := l.VPCIDs()
		v, err := l.ReadVPC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e := endpoint(t, v, ids, "ecr.api"); !slices.Contains(e.Subnets, ids.ZoneDownSubnet) {
			t.Errorf("ecr.api subnets %v, want %s", e.Subnets, ids.ZoneDownSubnet)
		}
		if acl, ok := v.ACL(ids.NetworkACL); !ok || !slices.Contains(acl.Entries, "in 90 deny tcp 443-443 "+TaskSubnet) {
			t.Errorf("ACL %s: %+v, want 443 from the task denied", ids.NetworkACL, acl)
		}
		r, err := l.RunProbe(ctx, probeBin)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range sc.Judge(r, l.Events()) {
			if !o.OK {
				t.Errorf("%s: want %s, got %s", o.What, o.Want, o.Got)
			}
		}
	})

	t.Run("own", func(t *testing.T) {
		sc, _ := Lookup("nat-only")
		l := startLab(t, sc, WithEC2(""))
		if l.EC2Endpoint() == "" || motoServer != nil && l.EC2Endpoint() == motoServer.URL {
			t.Fatalf("EC2Endpoint = %q, want a moto_server of the lab's own", l.EC2Endpoint())
		}
		client := ec2.NewFromConfig(moto.ConfigFor(l.EC2Endpoint(), nil))
		v, err := ReadVPC(ctx, client, l.VPCIDs().VPC)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(v.NATs, []string{l.VPCIDs().NAT + " in " + l.VPCIDs().PublicSubnet + " available"}) {
			t.Errorf("NATs %v, want %s", v.NATs, l.VPCIDs().NAT)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err == nil {
			t.Error("the lab's moto_server still answers after Close")
		}
	})

	t.Run("without", func(t *testing.T) {
		sc, _ := Lookup("isolated")
		l := startLab(t, sc)
		if l.EC2Endpoint() != "" || l.AWSEnv() != nil || l.VPCIDs().VPC != "" {
			t.Errorf("EC2Endpoint %q, AWSEnv %v, VPC %q: want none without WithEC2", l.EC2Endpoint(), l.AWSEnv(), l.VPCIDs().VPC)
		}
		if _, err := l.ReadVPC(ctx); err == nil {
			t.Error("ReadVPC without WithEC2 succeeded")
		}
	})
}
