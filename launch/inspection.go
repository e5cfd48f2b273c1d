package launch

import (
	"context"
	"fmt"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/join"
	"github.com/vpcprobe/vpcprobe/needs"
)

// The launch's inspection: while the probes run, the launcher reads the configuration of every
// subnet's VPC with its own credentials (one inspect.Subnets call: each VPC is read once), for
// the services the probes were asked for and the groups the probes run with; the results are
// joined with the live ones (join.go). An inspection that fails never fails the launch.

// Inspection is one launch's read of its subnets' VPCs, running in the background.
type Inspection struct {
	done    chan struct{}
	reports map[string]*inspect.Report // by subnet
	err     error
	took    time.Duration
}

// StartInspection inspects subnets (with groups, for services, and for what n says the task
// needs in other regions, when n is not nil) under ctx, in the background; nil when there are no
// inspection clients.
func (l *Shared) StartInspection(ctx context.Context, subnets, groups []string, services string, n *needs.Needs) *Inspection {
	if l.Inspect == nil {
		return nil
	}
	in := &Inspection{done: make(chan struct{}), reports: map[string]*inspect.Report{}}
	go func() {
		defer close(in.done)
		start := time.Now()
		defer func() { in.took = time.Since(start) }()
		keys, err := catalogue.ParseServices(services)
		if err != nil {
			in.err = fmt.Errorf("inspect: --services: %w", err)
			return
		}
		other := otherRegions(n)
		targets := make([]inspect.Target, len(subnets))
		for i, s := range subnets {
			targets[i] = inspect.Target{SubnetID: s, SecurityGroups: groups, OtherRegions: other}
		}
		reps, err := inspect.Subnets(ctx, *l.Inspect, targets, keys)
		if err != nil {
			in.err = err
			return
		}
		for i, s := range subnets {
			in.reports[s] = reps[i]
		}
	}()
	return in
}

// otherRegions are the catalogue services a task definition needs in regions other than its
// own (needs.OtherRegions), for inspect's cross-region endpoints; nil without needs.
func otherRegions(n *needs.Needs) map[string][]catalogue.Service {
	if n == nil || len(n.OtherRegions) == 0 {
		return nil
	}
	out := map[string][]catalogue.Service{}
	for _, r := range n.OtherRegions {
		for _, k := range r.Services {
			if s, ok := catalogue.Lookup(k); ok {
				out[r.Region] = append(out[r.Region], s)
			}
		}
	}
	return out
}

// Join waits for the inspection and joins each subnet's report with it; a failed inspection is
// the report's InspectError, in one place.
func (in *Inspection) Join(l *Shared, rep *Report) {
	if in == nil {
		return
	}
	<-in.done
	if in.err != nil {
		rep.InspectError = in.err.Error()
		l.Progressf("inspection failed after %s: %v", in.took.Round(time.Millisecond), in.err)
		return
	}
	for i := range rep.Subnets {
		if r := in.reports[rep.Subnets[i].Subnet]; r != nil {
			rep.Subnets[i].Inspection = join.Join(rep.Subnets[i].Report, rep.Subnets[i].Diagnoses, r)
			if rep.Subnets[i].AvailabilityZone == "" { // a Lambda function's: the subnet's zone
				rep.Subnets[i].AvailabilityZone = r.AZ
			}
		}
	}
	l.Progressf("inspected %d subnet(s) in %s", len(in.reports), in.took.Round(time.Millisecond))
}

// cidrWait bounds how long a function's invocation waits for the inspection to name its subnet's
// CIDR. The inspection usually ends while the function is still becoming Active (seconds); a slow
// EC2 API must not hold the probe back by more than this.
const cidrWait = 2 * time.Second

// SubnetCIDR returns the IPv4 CIDR of subnet as the inspection read it, waiting for it at most
// cidrWait; "" when there is no inspection, it failed, or it is late. The probe counts that
// block's addresses as private and names it in its remediations, as task metadata lets a task.
func (in *Inspection) SubnetCIDR(ctx context.Context, subnet string) string {
	if in == nil {
		return ""
	}
	t := time.NewTimer(cidrWait)
	defer t.Stop()
	select {
	case <-in.done:
	case <-t.C:
		return ""
	case <-ctx.Done():
		return ""
	}
	if r := in.reports[subnet]; in.err == nil && r != nil {
		return r.SubnetCIDR
	}
	return ""
}

// SubnetIPv6CIDR returns the subnet's IPv6 CIDR from the inspection, waiting for it as
// SubnetCIDR does.
func (in *Inspection) SubnetIPv6CIDR(ctx context.Context, subnet string) string {
	if in == nil || in.SubnetCIDR(ctx, subnet) == "" && !in.finished() {
		return ""
	}
	if r := in.reports[subnet]; in.err == nil && r != nil {
		return r.SubnetIPv6CIDR
	}
	return ""
}

// finished reports whether the inspection has ended.
func (in *Inspection) finished() bool {
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}
