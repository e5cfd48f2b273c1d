package lambdafn

import (
	"context"
	"encoding/json"
	"net/netip"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestLambdaFamilies: a dual-stack task's function gets Ipv6AllowedForDualStack (without it a
// function in a VPC sends no IPv6: Lambda API Reference, VpcConfig) and its probe is told the
// families; an IPv4 task's function does not; an IPv6-only task gets no function at all, since
// "Lambda doesn't support outbound IPv6 connections for IPv6-only subnets in a VPC" (Lambda
// Developer Guide, IPv6 support).
func TestLambdaFamilies(t *testing.T) {
	for _, tc := range []struct {
		name     string
		families []string
		ipv6     bool   // Ipv6AllowedForDualStack on the function
		event    string // address-families in the probe's event
		created  bool
	}{
		{"dual-stack", []string{"ipv4", "ipv6"}, true, "ipv4,ipv6", true},
		{"IPv4", []string{"ipv4"}, false, "ipv4", true},
		{"unknown", nil, false, "", true},
		{"IPv6-only", []string{"ipv6"}, false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, _, l := lambdaWorld(t)
			var mu sync.Mutex
			var seen []fakeaws.Function
			var events []map[string]any
			fake.RunFunctions(func(ctx context.Context, fn fakeaws.Function, payload []byte) (fakeaws.InvokeResult, error) {
				var ev map[string]any
				json.Unmarshal(payload, &ev)
				mu.Lock()
				seen, events = append(seen, fn), append(events, ev)
				mu.Unlock()
				rep := &report.Report{Schema: report.Schema, RunID: ev["run-id"].(string), Verdict: checks.Pass}
				return fakeaws.InvokeResult{Payload: rep.JSON()}, nil
			})
			c := lambdaConfig("subnet-0000000a")
			c.Families = tc.families
			rep, _ := l.Run(context.Background(), c)
			if created := len(fake.FunctionsCreated()) > 0; created != tc.created {
				t.Fatalf("function created %v, want %v", created, tc.created)
			}
			if !tc.created {
				d := rep.Subnets[0].Diagnoses
				if len(d) != 1 || d[0].Error != LambdaIPv6Only || d[0].Cause != CauseLambda {
					t.Errorf("diagnoses %+v, want one %s", d, LambdaIPv6Only)
				}
				return
			}
			if len(seen) != 1 {
				t.Fatalf("%d invocations", len(seen))
			}
			if seen[0].IPv6ForDualStack != tc.ipv6 {
				t.Errorf("Ipv6AllowedForDualStack %v, want %v", seen[0].IPv6ForDualStack, tc.ipv6)
			}
			if got, _ := events[0]["address-families"].(string); got != tc.event {
				t.Errorf("event address-families %q, want %q", got, tc.event)
			}
		})
	}
}

// TestRunLambdaIPv6CIDR: a dual-stack launch tells each function its subnet's IPv6 CIDR from the
// inspection (moto assigns the VPC an Amazon-provided /56 and the subnet a /64 of it), so that
// the probe counts the subnet's own IPv6 addresses as private, as task metadata's
// IPv6SubnetCIDRBlock does for a task.
func TestRunLambdaIPv6CIDR(t *testing.T) {
	mo := moto.Start(t)
	client := ec2.NewFromConfig(mo.Config(nil))
	ctx := context.Background()
	v, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Vpc.Ipv6CidrBlockAssociationSet) == 0 {
		t.Fatalf("moto gave the VPC no IPv6 block: %+v", v.Vpc)
	}
	vpcBlock := netip.MustParsePrefix(aws.ToString(v.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock))
	subnetBlock := netip.PrefixFrom(vpcBlock.Addr(), 64).String()
	s, err := client.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"),
		Ipv6CidrBlock: aws.String(subnetBlock), AvailabilityZone: aws.String("eu-west-1a")})
	if err != nil {
		t.Fatal(err)
	}
	fake, _, l := lambdaWorld(t)
	l.Inspect = &inspect.Clients{EC2: client, Region: moto.Region}
	var events []map[string]any
	var mu sync.Mutex
	fake.RunFunctions(func(ctx context.Context, fn fakeaws.Function, payload []byte) (fakeaws.InvokeResult, error) {
		var ev map[string]any
		json.Unmarshal(payload, &ev)
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		rep := &report.Report{Schema: report.Schema, RunID: ev["run-id"].(string), Verdict: checks.Pass}
		return fakeaws.InvokeResult{Payload: rep.JSON()}, nil
	})
	c := lambdaConfig(aws.ToString(s.Subnet.SubnetId))
	c.Families = []string{"ipv4", "ipv6"}
	if _, err := l.Run(ctx, c); err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0]["subnet-ipv6-cidr"] != subnetBlock || events[0]["subnet-cidr"] != "10.0.1.0/24" {
		t.Errorf("events %v, want subnet-ipv6-cidr %s from the inspection", events, subnetBlock)
	}
}
