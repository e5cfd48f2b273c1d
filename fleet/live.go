package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// LiveRunner runs live probes in subnets of one account and region, every one with the same
// security groups, and returns each subnet's result. The Lambda runner, behind an adapter in
// cmd/vpcprobe, is the one in use; it deletes every function it created before it returns. A
// non-nil error means no subnet could be tested (the launcher was refused): the account-region
// is untested, and ActionError names the action when the runner knows it.
type LiveRunner interface {
	Run(ctx context.Context, subnets, groups []string) (map[string]Live, error)
}

// Live is one subnet's live result.
type Live struct {
	Verdict  checks.Status
	Services []report.ServiceReport
	// Diagnoses are the launcher's findings when the probe could not report, and the report's
	// own failed and warned services otherwise.
	Diagnoses []stopped.Diagnosis
}

// Runners returns the LiveRunner of one account and region, with that account's configuration
// (cfg.Region is the region).
type Runners func(account string, cfg aws.Config) LiveRunner

// ActionError is an error of a LiveRunner that names the IAM action it was refused, for the
// untested entry.
func ActionError(action string, err error) error { return &actionError{action: action, err: err} }

// Fan-out bounds of a launch, each per account or account-region, from Lambda's quotas
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
const (
	// DefaultPerRegion is how many live probes run at once in one account-region: Lambda's
	// concurrency quota is 1,000 per region and account, shared with the account's own
	// functions, and each function in a VPC holds a network interface while it is created
	// (250 per VPC by default): 20 takes a sliver of either.
	DefaultPerRegion = 20
	// DefaultCreateRate is how many functions a launch creates per second in one account (the
	// token bucket, shared by its regions): Lambda's control-plane APIs (CreateFunction,
	// DeleteFunction) allow 15 requests per second per account and region; 10 leaves room for
	// the deletes and the account's own deployments. Throttling still met is retried by the
	// SDK's adaptive mode.
	DefaultCreateRate = 10
)

// LaunchConfig is a fleet launch: the inspection of Config, then one live probe per shape.
type LaunchConfig struct {
	Config
	LaunchID string
	// EverySubnet probes every subnet instead of one per shape.
	EverySubnet bool
	Runners     Runners
	PerRegion   int     // live probes at once per account-region (default DefaultPerRegion)
	CreateRate  float64 // live probes started per second per account (default DefaultCreateRate)
}

// Launch inspects the fleet, then probes one live subnet per shape (every subnet with
// EverySubnet) through c.Runners, and judges each subnet by the live result of the subnet that
// stands for it (MeasuredBy). The report is never nil.
func Launch(ctx context.Context, c LaunchConfig) *Report {
	places := read(ctx, c.Config)
	rep := assemble(c.Config, places, ModeLaunch)
	rep.LaunchID = c.LaunchID
	per := c.PerRegion
	if per <= 0 {
		per = DefaultPerRegion
	}
	rps := c.CreateRate
	if rps <= 0 {
		rps = DefaultCreateRate
	}
	cfgs := map[[2]string]aws.Config{}
	for _, p := range places {
		if p.read {
			cfgs[[2]string{p.account.ID, p.region}] = p.cfg
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range rep.Accounts {
		a := &rep.Accounts[i]
		bucket := rate.NewLimiter(rate.Limit(rps), per)
		for j := range a.Regions {
			rg := &a.Regions[j]
			runner := c.Runners(a.Account, cfgs[[2]string{a.Account, rg.Region}])
			sem := semaphore.NewWeighted(int64(per))
			for _, b := range batches(rg, c.EverySubnet, per) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := b.run(ctx, runner, sem, bucket)
					mu.Lock()
					defer mu.Unlock()
					rep.Probes += len(b.subnets)
					if err != nil {
						rep.Untested = append(rep.Untested, untested(a.Account, rg.Region, "", "lambda:CreateFunction", err))
					}
					b.apply(res, err)
				}()
			}
		}
	}
	wg.Wait()
	rep.finish()
	return rep
}

// batch is up to PerRegion subnets of one account-region probed in one Run: the subnets that
// stand for their shapes, all with the same security groups.
type batch struct {
	groups  []string
	subnets []string
	members map[string][]*Subnet // probed subnet → the subnets it stands for (itself included)
}

// batches groups the region's subnets by shape, picks the first subnet (by id) of each shape
// as its probe, and cuts the probes into batches of at most per subnets sharing security groups.
func batches(rg *Region, every bool, per int) []*batch {
	byGroups := map[string]*batch{}
	var order []string
	standsFor := map[string]string{} // shape → its probed subnet
	for k := range rg.VPCs {
		for l := range rg.VPCs[k].Subnets {
			s := &rg.VPCs[k].Subnets[l]
			key := s.shape
			if every {
				key = s.SubnetID
			}
			gk := strings.Join(s.SecurityGroups, ",")
			b, ok := byGroups[gk]
			if !ok {
				b = &batch{groups: s.SecurityGroups, members: map[string][]*Subnet{}}
				byGroups[gk] = b
				order = append(order, gk)
			}
			probe, ok := standsFor[key]
			if !ok {
				probe = s.SubnetID
				standsFor[key] = probe
				b.subnets = append(b.subnets, probe)
			}
			b.members[probe] = append(b.members[probe], s)
		}
	}
	var out []*batch
	for _, gk := range order {
		b := byGroups[gk]
		for chunk := range slices.Chunk(b.subnets, per) {
			nb := &batch{groups: b.groups, subnets: chunk, members: map[string][]*Subnet{}}
			for _, s := range chunk {
				nb.members[s] = b.members[s]
			}
			out = append(out, nb)
		}
	}
	return out
}

// run waits for room in the account-region and tokens of the account, then runs the batch.
func (b *batch) run(ctx context.Context, r LiveRunner, sem *semaphore.Weighted, bucket *rate.Limiter) (map[string]Live, error) {
	n := len(b.subnets)
	if err := sem.Acquire(ctx, int64(n)); err != nil {
		return nil, fmt.Errorf("fleet: waiting to probe: %w", err)
	}
	defer sem.Release(int64(n))
	if err := bucket.WaitN(ctx, n); err != nil {
		return nil, fmt.Errorf("fleet: waiting to probe: %w", err)
	}
	return r.Run(ctx, b.subnets, b.groups)
}

// apply judges every member of the batch by its probe's live result.
func (b *batch) apply(res map[string]Live, err error) {
	for probe, members := range b.members {
		l, ok := res[probe]
		if !ok {
			why := "the runner returned no result for it"
			if err != nil {
				why = err.Error()
			}
			code := stopped.Unknown
			if err != nil {
				code = checks.Classify(err)
			}
			l = Live{Verdict: checks.Skip, Diagnoses: []stopped.Diagnosis{{Verdict: checks.Skip, Error: code, Cause: "lambda-function", Source: "launcher",
				Diagnosis:   "Subnet " + probe + " was not probed: " + why + ".",
				Remediation: "See the untested entry of its account and region; run the launch again once the launcher may create functions there."}}}
		}
		for _, s := range members {
			s.MeasuredBy = probe
			s.Verdict = l.Verdict
			s.Services = append([]report.ServiceReport{}, l.Services...)
			s.Diagnoses = l.Diagnoses
		}
	}
}
