package ecstask

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
)

// countingEC2 counts inspect's calls by method and tells started when the first one comes.
type countingEC2 struct {
	inspect.EC2API
	mu      sync.Mutex
	calls   map[string]int
	once    sync.Once
	started chan struct{}
}

func (c *countingEC2) count(name string) {
	c.once.Do(func() { close(c.started) })
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
}

func (c *countingEC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, o ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	c.count("DescribeSubnets")
	return c.EC2API.DescribeSubnets(ctx, in, o...)
}

func (c *countingEC2) DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, o ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	c.count("DescribeVpcEndpoints")
	return c.EC2API.DescribeVpcEndpoints(ctx, in, o...)
}

func (c *countingEC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, o ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	c.count("DescribeRouteTables")
	return c.EC2API.DescribeRouteTables(ctx, in, o...)
}

// TestRunInspects: an ECS launch of three subnets of one VPC inspects them while the tasks run
// (each task waits, in its RUNNING hook, for the inspection to have started), reads the VPC
// once (as many DescribeSubnets, DescribeVpcEndpoints and DescribeRouteTables calls as for one),
// and joins each subnet's live timeouts with the missing endpoints; the report validates.
func TestRunInspects(t *testing.T) {
	mo := moto.Start(t)
	client := ec2.NewFromConfig(mo.Config(nil))
	vpc, subnets, group := moto.IsolatedVPC(t, client, 3)
	w := newWorld(t, fakeaws.DefaultConfig())
	counted := &countingEC2{EC2API: client, calls: map[string]int{}, started: make(chan struct{})}
	w.l.Inspect = &inspect.Clients{EC2: counted, Region: moto.Region}
	var concurrent atomic.Int32
	w.fake.ScriptTasks(func(fakeaws.ECSTask) fakeaws.TaskScript {
		s := w.probeTask(1, "ecr.api")
		ran := s.OnRunning
		s.OnRunning = func(task fakeaws.ECSTask) {
			select { // the inspection does not wait for the probes
			case <-counted.started:
				concurrent.Add(1)
			case <-time.After(10 * time.Second):
			}
			ran(task)
		}
		return s
	})
	c := config(subnets...)
	c.SecurityGroups = []string{group}
	rep := w.l.Run(context.Background(), c)
	schematest.Check(t, rep.JSON())
	if int(concurrent.Load()) != len(subnets) {
		t.Errorf("%d of %d tasks ran while the inspection was under way", concurrent.Load(), len(subnets))
	}
	one := &countingEC2{EC2API: client, calls: map[string]int{}, started: make(chan struct{})}
	if _, err := inspect.Subnet(context.Background(), inspect.Clients{EC2: one, Region: moto.Region}, subnets[0], []string{group}, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"DescribeSubnets", "DescribeVpcEndpoints", "DescribeRouteTables"} {
		if got, want := counted.calls[name], one.calls[name]; got != want || got == 0 {
			t.Errorf("%s called %d times for %d subnets of one VPC, %d for one subnet", name, got, len(subnets), want)
		}
	}
	if rep.InspectError != "" {
		t.Fatalf("inspect_error %s", rep.InspectError)
	}
	for _, s := range rep.Subnets {
		in := s.Inspection
		if in == nil || in.VPCID != vpc || !slices.Equal(in.SecurityGroups, []string{group}) {
			t.Fatalf("%s: inspection %+v", s.Subnet, in)
		}
		if len(in.Services) != 1 || in.Services[0].Service != "ecr.api" ||
			!slices.ContainsFunc(in.Services[0].Findings, func(f inspect.Finding) bool { return f.Code == inspect.CodeEndpointMissing }) {
			// probeReport's timeouts are on a private route: the missing endpoint is attached as
			// the fail finding that bears on the service when no rule matches.
			t.Errorf("%s: joined %+v", s.Subnet, in.Services)
		}
		if !slices.ContainsFunc(in.ConfigOnly, func(f inspect.Finding) bool { return f.Code == inspect.CodeEndpointMissing && f.Service == "sts" }) {
			t.Errorf("%s: config only %+v: want sts's missing endpoint", s.Subnet, in.ConfigOnly)
		}
	}
	if rep.Verdict != checks.Fail {
		t.Errorf("verdict %s", rep.Verdict)
	}
}
