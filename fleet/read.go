package fleet

import (
	"context"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53resolver"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
)

// Config is one fleet run: where to read and what to judge.
type Config struct {
	Accounts []Member // the accounts, in report order
	Regions  []string
	// VPCs, when set, limits the run to these VPCs (in whichever account and region holds
	// them); empty: every VPC (--all-subnets).
	VPCs []string
	// SecurityGroups are the groups judged in every subnet; empty: each VPC's default group.
	SecurityGroups []string
	Services       []catalogue.Service
	Open           Opener
	// Parallel bounds how many account-regions are read at once (default DefaultParallel).
	Parallel int
}

// DefaultParallel is how many account-regions are read at once: each reads its VPCs one after
// another (about a dozen Describe calls each), so EC2's per-account request rate is never the
// limit, and the launcher's memory holds this many regions' configurations at most.
const DefaultParallel = 8

// place is one account-region's read: its VPCs' subnets as inspect placed them.
type place struct {
	account  Member
	region   string
	cfg      aws.Config
	vpcs     []string
	placed   map[string][]inspect.Placed
	untested []Untested
	read     bool // DescribeVpcs answered
}

// Inspect reads every VPC of every account and region of c and judges each subnet by its
// configuration. What cannot be read is untested and the rest goes on; the report is never nil.
func Inspect(ctx context.Context, c Config) *Report {
	places := read(ctx, c)
	rep := assemble(c, places, ModeInspect)
	rep.finish()
	return rep
}

// read opens each account and reads its regions, at most c.Parallel account-regions at once.
func read(ctx context.Context, c Config) []*place {
	par := c.Parallel
	if par <= 0 {
		par = DefaultParallel
	}
	var places []*place
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, m := range c.Accounts {
		cfg, err := c.Open(ctx, m.ID)
		if err != nil {
			p := &place{account: m, untested: []Untested{untested(m.ID, "", "", "sts:AssumeRole", err)}}
			places = append(places, p)
			continue
		}
		for _, r := range c.Regions {
			p := &place{account: m, region: r, cfg: cfg.Copy(), placed: map[string][]inspect.Placed{}}
			p.cfg.Region = r
			places = append(places, p)
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				p.readRegion(ctx, c) // writes only its own place
			}()
		}
	}
	wg.Wait()
	return places
}

// readRegion lists the region's VPCs (one paginated DescribeVpcs) and inspects each, one
// VPC after another: a region's calls grow with its VPCs, never with its subnets.
func (p *place) readRegion(ctx context.Context, c Config) {
	e := ec2.NewFromConfig(p.cfg)
	clients := inspect.Clients{EC2: e, Resolver: route53resolver.NewFromConfig(p.cfg), Region: p.region}
	in := &ec2.DescribeVpcsInput{}
	if len(c.VPCs) > 0 {
		// A filter, not VpcIds: VPCs of other accounts and regions are absent, not an error.
		in.Filters = []ec2types.Filter{{Name: aws.String("vpc-id"), Values: c.VPCs}}
	}
	pg := ec2.NewDescribeVpcsPaginator(e, in)
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			p.untested = append(p.untested, untested(p.account.ID, p.region, "", "ec2:DescribeVpcs", err))
			return
		}
		for _, v := range out.Vpcs {
			p.vpcs = append(p.vpcs, aws.ToString(v.VpcId))
		}
	}
	p.read = true
	slices.Sort(p.vpcs)
	for _, id := range p.vpcs {
		placed, err := inspect.VPC(ctx, clients, id, c.SecurityGroups, c.Services)
		if err != nil {
			p.untested = append(p.untested, untested(p.account.ID, p.region, id, "ec2:DescribeSubnets", err))
			continue
		}
		p.placed[id] = placed
	}
}

// assemble builds the report of what was read, in the order of accounts, regions and VPC ids.
func assemble(c Config, places []*place, mode string) *Report {
	rep := &Report{Schema: Schema, Mode: mode, Accounts: []Account{}, Untested: []Untested{}, Services: []string{}}
	for _, s := range c.Services {
		rep.Services = append(rep.Services, s.Key)
	}
	from := GroupsGiven
	if len(c.SecurityGroups) == 0 {
		from = GroupsVPCDefault
	}
	idx := map[string]int{}
	for _, p := range places {
		rep.Untested = append(rep.Untested, p.untested...)
		if !p.read {
			continue
		}
		i, ok := idx[p.account.ID]
		if !ok {
			i = len(rep.Accounts)
			idx[p.account.ID] = i
			rep.Accounts = append(rep.Accounts, Account{Account: p.account.ID, Name: p.account.Name, Regions: []Region{}})
		}
		rg := Region{Region: p.region, VPCs: []VPC{}}
		for _, id := range p.vpcs {
			placed, ok := p.placed[id]
			if !ok {
				continue
			}
			v := VPC{VPCID: id, Subnets: []Subnet{}}
			for _, pl := range placed {
				r := pl.Report
				v.Subnets = append(v.Subnets, Subnet{SubnetID: r.SubnetID, Zone: r.AZ, CIDR: r.SubnetCIDR,
					Verdict: findingsVerdict(r.Findings), SecurityGroups: append([]string{}, r.SecurityGroups...), GroupsFrom: from,
					RouteTable: pl.RouteTable, NetworkACL: pl.NetworkACL, Services: []report.ServiceReport{}, Findings: r.Findings,
					shape: pl.Shape()})
			}
			rg.VPCs = append(rg.VPCs, v)
		}
		rep.Accounts[i].Regions = append(rep.Accounts[i].Regions, rg)
	}
	return rep
}
