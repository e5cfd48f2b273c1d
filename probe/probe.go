package probe

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// Config is what a run was asked to do: CONTRACT.md's flags, validated.
type Config struct {
	Services       []catalogue.Service
	Region         string
	Account        string   // registry account for ecr.dkr; empty: learn it
	Image          string   // ECR image whose pull path is verified; empty: none
	Secrets        []string // Secrets Manager secrets (names or ARNs) fetched as a task would
	Parameters     []string // SSM parameters (names or ARNs) fetched as a task would
	Timeout        time.Duration
	Deadline       time.Duration
	Resolvers      []string // host:port
	AmazonDNS      string   // host:port of the second-opinion resolver; empty: not asked
	LogGroup       string
	LogStream      string
	RequirePrivate bool
	ECSCluster     string // the cluster the ECS agent joins (ECS_CLUSTER of /etc/ecs/ecs.config); empty: unknown, "default" is asked
	// ECSClusterDefaulted: ecs.config does not set ECS_CLUSTER, so the agent registers into
	// "default" and creates it when missing (AgentConfig.Defaulted).
	ECSClusterDefaulted bool
	NoAuth              bool   // --no-auth: the authenticated checks are skipped on purpose
	RunID               string // identifier of the run; empty: a random one
	Version             string
	// Runner is report.RunnerLambda in a Lambda function (its diagnoses then say what differs
	// from a task); empty means an ECS task when task metadata names one, else a host.
	Runner         string
	FunctionName   string   // the Lambda function's name, with Runner "lambda"
	SubnetID       string   // the subnet the probe was put in, when the launcher says
	SecurityGroups []string // its security groups, when the launcher says
	// AddressFamilies are the task's families when no metadata says them (--address-families:
	// a Lambda function the launcher put in a dual-stack subnet); nil: task metadata's.
	AddressFamilies []string
	// Elsewhere are services probed in other regions too (a task definition's other regions):
	// their network checks only (regions.go).
	Elsewhere []Elsewhere
}

// Prober runs probes. Everything it touches in the outside world is a field, so tests and the
// lab give it loopback servers.
type Prober struct {
	Config
	Dialer   checks.Dialer    // connections of every check
	Roots    *x509.CertPool   // trust roots of the TLS checks and the HTTP client; nil: system roots
	Port     uint16           // the port every "443" goes to; 0 means 443
	Now      func() time.Time // clock; nil means time.Now
	Proxy    ProxyFunc        // HTTPS proxy of the HTTP checks and SDK calls (HTTPS_PROXY, NO_PROXY); nil: none
	Metadata Metadata         // task metadata, already fetched; zero outside ECS
	MetaErr  error            // why task metadata could not be read, if it could not

	// Steps returns the checks to run for a service after the unsigned HTTP check has shown
	// that an AWS endpoint answers: the authenticated calls. Nil means none.
	Steps func(svc catalogue.Service) []Step

	// Identity, when set, returns the caller's account and ARN as STS says them, waiting for
	// the answer until ctx ends (empty strings when unknown). When neither Account nor the task
	// ARN names the registry's account, ecr.dkr waits for it up to one --timeout; the report's
	// context carries whatever it returns for an already ended ctx.
	Identity func(ctx context.Context) (account, arn string)

	// Done, when set, is called as each service's checks end, with its results: checks of other
	// services that wait for this one's (the layer check waits for the manifest) learn it.
	Done func(svc catalogue.Service, results []checks.Result)

	// LearnHost, when set, returns the host of a service whose host another check learns —
	// ecs-agent and ecs-telemetry probe the hosts ecs:DiscoverPollEndpoint names — waiting
	// until ctx ends; an empty host comes with why none is known, and the service is skipped.
	// Nil (no AWS half): the catalogue's regional name.
	LearnHost func(ctx context.Context, svc catalogue.Service) (host, why string)

	// Instance, when set, reads EC2 instance metadata (FetchInstance). Run asks it in the
	// background from its start, bounded by InstanceBudget, and fills the report's context
	// with the answer. Nil: task metadata describes the task, or AWS_EC2_METADATA_DISABLED.
	Instance func(ctx context.Context) (Instance, error)

	pins   *pinDialer
	aws    *awsRun     // the SDK clients and per-run shared calls of UseAWS; nil without
	direct directHosts // the platform's hosts: never through the proxy (path.go)

	// sdkHost, set by UseAWS, is the host the SDK calls for a service with the loaded
	// configuration (FIPS, dual-stack, AWS_ENDPOINT_URL_*); "" leaves the catalogue's.
	sdkHost func(svc catalogue.Service, account string) string
}

// Step is one check of a service that runs after the network checks passed.
type Step struct {
	Name string
	Run  func(ctx context.Context, t Target) checks.Result
}

// Target is what a Step may use: the service, its host, and an HTTP client whose connections
// go to the addresses the DNS check found.
type Target struct {
	Service catalogue.Service
	Host    string
	Region  string
	Client  *http.Client
	Earlier []checks.Result // the checks of this service that already ran, in order
}

func (p *Prober) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Transport returns an HTTP transport whose dials go through the run's pinned addresses, for
// clients outside the probe whose calls must take the path the checks measured (UseAWS builds
// the SDK's own, on the same pinned dialer).
func (p *Prober) Transport() *http.Transport {
	p.init()
	return newTransport(p.pins, p.Roots, p.pathProxy, p.Timeout)
}

func (p *Prober) init() {
	if p.pins != nil {
		return
	}
	port := p.Port
	if port == 0 {
		port = 443
	}
	p.Port = port
	d := p.Dialer
	if d == nil {
		d = &net.Dialer{}
		p.Dialer = d
	}
	p.pins = &pinDialer{dialer: d, port: port,
		resolver: dnsResolver(p.Resolvers, p.Timeout)}
}

// state is one service's progress. The run's deadline may fall while it is being written, so
// every access holds mu and the report is built from a snapshot.
type state struct {
	svc  catalogue.Service
	host string
	skip string // why none of the service's checks can run (its host is unknown); empty: they run
	path string // PathDirect or "proxy URL": the path every check of the service takes

	mu      sync.Mutex
	plan    []string        // check names, in order
	results []checks.Result // finished checks, a prefix of plan
	second  *checks.Result  // the Amazon-provided resolver's answer
	ports   *portMix        // a Lambda probe's burst that both answered and timed out (lambdaports.go)
	other   []checks.Result // a dual-stack task's IPv6 tcp and tls (families.go)

	region string // another region's service (regions.go), "" the run's Region: set before its checks start, never written after
}

func (s *state) add(r checks.Result) {
	s.mu.Lock()
	s.results = append(s.results, r)
	s.mu.Unlock()
}

// Run probes every configured service concurrently and returns the report. It returns when
// every service finished or the probe budget ran out, whichever comes first; started marks the
// beginning of the run (the process start, so that metadata reading counts).
func (p *Prober) Run(ctx context.Context, started time.Time) *report.Report {
	p.init()
	budget := Plan(p.Timeout, p.Deadline, p.LogGroup != "")
	ctx, cancel := context.WithDeadlineCause(ctx, started.Add(budget.Probe), checks.ErrDeadline)
	defer cancel()
	ctx = withRun(ctx) // the calls several checks share run under it (shared)

	rep := &report.Report{
		Schema:    report.Schema,
		RunID:     p.RunID,
		StartedAt: report.Timestamp(started),
		Context:   p.context(),
		Delivery:  report.Delivery{CloudWatch: report.Disabled},
		Version:   p.Version,
	}
	if rep.RunID == "" {
		rep.RunID = report.NewRunID()
	}
	account := p.account()
	var inst Instance
	var instErr error
	instDone := make(chan struct{})
	if p.Instance != nil {
		go func() {
			defer close(instDone)
			ictx, cancel := context.WithTimeout(ctx, InstanceBudget(p.Timeout))
			defer cancel()
			inst, instErr = p.Instance(ictx)
		}()
	} else {
		close(instDone)
	}
	p.markPlatform(account)
	p.prepareDelivery(started)

	states := make([]*state, len(p.Services))
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i, svc := range p.Services {
		st := &state{svc: svc, host: p.hostOf(svc, account)}
		st.plan = p.plan(svc)
		states[i] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct := account
			// STS is asked only when nothing else names the account: in a task, the task ARN
			// does, and it is the caller's account too (ECS passes only roles of the task's
			// own account). Waiting for STS there would cost a black-holed subnet a second
			// --timeout before the registry's own checks even start.
			if svc.Key == "ecr.dkr" && account == "" && p.Instance != nil {
				// On an instance the identity document names the account, bounded by
				// InstanceBudget: no STS call, no credentials needed.
				<-instDone
				if instErr == nil && catalogue.ValidAccount(inst.Account) {
					acct = inst.Account
					st.mu.Lock()
					st.host = p.hostOf(svc, acct)
					st.mu.Unlock()
					p.markPlatform(acct)
				}
			}
			if svc.Key == "ecr.dkr" && acct == "" && p.Identity != nil {
				acct = p.learnAccount(ctx, account)
				st.mu.Lock()
				st.host = p.hostOf(svc, acct)
				st.mu.Unlock()
				p.markPlatform(acct)
			}
			if learnt(svc.Key) && p.LearnHost != nil {
				host, why := p.LearnHost(ctx, svc)
				st.mu.Lock()
				st.host, st.skip = host, why
				st.mu.Unlock()
				if svc.Platform && host != "" {
					p.direct.add(host) // the agent's own channel: never through the task's proxy
				}
			}
			p.probe(ctx, st, acct)
			p.checkPorts(ctx, st)
		}()
	}
	states = append(states, p.elsewhere(ctx, &wg, account)...)
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Checks watch ctx and return "deadline" results themselves; give them a moment.
		select {
		case <-done:
		case <-time.After(cancelGrace):
		}
	}

	<-instDone // bounded by InstanceBudget and the run's ctx
	p.withInstance(&rep.Context, inst, instErr)
	own := p.ownPrefixes(inst)
	for _, st := range states {
		rep.Services = append(rep.Services, p.serviceReport(st, own, inst))
	}
	p.familyContext(&rep.Context, inst, rep.Services)
	if p.runner() == report.RunnerLambda {
		asLambda(rep)
	}
	if p.Identity != nil {
		ended, cancel := context.WithCancel(ctx)
		cancel() // only what is known by now: the report waits for nothing
		if acct, arn := p.Identity(ended); acct != "" {
			rep.Context.Account, rep.Context.CallerARN = acct, arn
		}
	}
	rep.Finish()
	rep.DurationMS = p.now().Sub(started).Milliseconds()
	return rep
}

// learnAccount returns the caller's account for ecr.dkr's registry host, waiting at most one
// --timeout for STS; fallback (the task ARN's account, or "") when STS does not tell.
func (p *Prober) learnAccount(ctx context.Context, fallback string) string {
	wctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	if acct, _ := p.Identity(wctx); acct != "" {
		return acct
	}
	return fallback
}

// plan lists the checks a service will get, in order.
func (p *Prober) plan(svc catalogue.Service) []string {
	names := []string{"dns", "tcp", "tls", "http"}
	if p.Steps != nil {
		for _, s := range p.Steps(svc) {
			names = append(names, s.Name)
		}
	}
	return names
}

// probe runs one service's checks in order, each bounded by one --timeout; a failure skips the
// rest. The second-opinion DNS query runs beside them.
func (p *Prober) probe(ctx context.Context, st *state, account string) {
	if p.Done != nil && st.region == "" { // another region's checks are no one's input
		defer func() {
			st.mu.Lock()
			results := append([]checks.Result(nil), st.results...)
			st.mu.Unlock()
			p.Done(st.svc, results)
		}()
	}
	if st.svc.Key == "ecr.dkr" && account == "" {
		st.mu.Lock()
		st.host = "" // without its account there is no registry host: never ".dkr.ecr…"
		st.mu.Unlock()
		st.skip = "registry account unknown: pass --account 123456789012 or give the probe credentials"
	}
	if st.skip != "" {
		for _, name := range st.plan {
			st.add(checks.Skipped(name, st.skip))
		}
		return
	}
	var second sync.WaitGroup
	if p.AmazonDNS != "" {
		second.Add(1)
		go func() {
			defer second.Done()
			r := checks.DNS(ctx, checks.Resolver{Servers: []string{p.secondResolver()}, Timeout: min(p.Timeout, maxSecondOpinion)}, st.host)
			st.mu.Lock()
			st.second = &r
			st.mu.Unlock()
		}()
	}
	defer second.Wait()

	proxy := p.proxyFor(st.svc, st.host)
	st.mu.Lock()
	st.path = pathName(proxy)
	st.mu.Unlock()

	// One step for the whole DNS check, whatever the number of resolvers (dnsResolver).
	dctx, cancel := context.WithTimeout(ctx, p.Timeout)
	dnsRes := checks.DNS(dctx, dnsResolver(p.Resolvers, p.Timeout), st.host)
	cancel()
	if dnsRes.Status == checks.Fail && proxy != nil && dnsRes.Code != checks.Deadline {
		// The proxy resolves the name on this path: what the resolver here says is not measured
		// on it.
		dnsRes = checks.Result{Name: "dns", Status: checks.Skip, Duration: dnsRes.Duration, Resolver: dnsRes.Resolver,
			Detail: checks.Bound(fmt.Sprintf("the proxy resolves %s on this path; the resolver here: %s (%s)", st.host, dnsRes.Code, dnsRes.Detail))}
	}
	st.add(dnsRes)
	if dnsRes.Status == checks.Fail {
		p.skipRest(st, "dns failed")
		return
	}
	if dnsRes.Status == checks.Pass {
		p.pins.pin(st.host, dnsRes.Addrs)
	}

	step := func(f func(context.Context) checks.Result) checks.Result {
		sctx, cancel := context.WithTimeout(ctx, p.Timeout)
		defer cancel()
		r := f(sctx)
		st.add(r)
		return r
	}
	var tcp, tlsRes checks.Result
	if proxy != nil {
		target := net.JoinHostPort(st.host, "443")
		tcp = step(func(c context.Context) checks.Result { return checks.Tunnel(c, p.Dialer, proxy, target) })
		if tcp.Status == checks.Fail {
			p.skipRest(st, "tcp failed")
			return
		}
		tunnel := checks.TunnelDialer{Dialer: p.Dialer, Proxy: proxy, Target: target}
		tlsRes = step(func(c context.Context) checks.Result {
			return checks.TLSVia(c, tunnel, target+" through "+checks.ProxyName(proxy), st.host, p.Roots)
		})
	} else {
		addrs, other, missing := p.chainAddrs(dnsRes.Addrs)
		if missing {
			st.add(noIPv6(st.host, dnsRes.Addrs))
			p.skipRest(st, "no IPv6 address")
			return
		}
		p.pins.pin(st.host, addrs)
		if len(other) > 0 {
			var fam sync.WaitGroup
			defer fam.Wait()
			fam.Go(func() {
				rs := p.familyChain(ctx, st.host, other)
				st.mu.Lock()
				st.other = rs
				st.mu.Unlock()
			})
		}
		tcp = step(func(c context.Context) checks.Result { return checks.TCP(c, p.Dialer, addrs, p.Port) })
		if len(tcp.Addrs) == 0 {
			p.skipRest(st, "tcp failed")
			return
		}
		answering := tcp.Addrs
		p.pins.pin(st.host, answering)
		tlsRes = step(func(c context.Context) checks.Result {
			return checks.TLS(c, p.Dialer, netip.AddrPortFrom(answering[0], p.Port), st.host, p.Roots)
		})
	}
	if tlsRes.Status == checks.Fail {
		p.skipRest(st, "tls failed")
		return
	}

	tr := newTransport(p.pins, p.Roots, p.pathProxy, p.Timeout)
	// Every connection ends with the service's checks: closing idle ones is not enough, since a
	// connection whose body was just closed returns to the pool a moment later, and a sidecar
	// probing every few seconds would keep them.
	conns := &connSet{}
	tr.DialContext = conns.track(tr.DialContext)
	defer conns.closeAll()
	client := &http.Client{Transport: tr, CheckRedirect: noRedirects}
	httpRes := checks.Skipped("http", "no unsigned request tells this endpoint apart; the verified certificate is the proof")
	if st.svc.Path != "" {
		httpRes = step(func(c context.Context) checks.Result {
			return checks.HTTP(c, client, "https://"+st.host+st.svc.Path)
		})
	} else {
		st.add(httpRes)
	}
	if httpRes.Status == checks.Fail {
		p.skipRest(st, "http failed")
		return
	}
	if p.Steps == nil || st.region != "" { // the run's SDK clients are of its own region
		return
	}
	for _, s := range p.Steps(st.svc) {
		st.mu.Lock()
		earlier := append([]checks.Result(nil), st.results...)
		st.mu.Unlock()
		t := Target{Service: st.svc, Host: st.host, Region: p.Region, Client: client, Earlier: earlier}
		// A Step bounds its own calls: an authenticated check may take two attempts.
		r := s.Run(ctx, t)
		st.add(r)
		if r.Status == checks.Fail {
			p.skipRest(st, s.Name+" failed")
			return
		}
	}
}

// skipRest marks every planned check after the finished ones as skipped.
func (p *Prober) skipRest(st *state, why string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, name := range st.plan[len(st.results):] {
		st.results = append(st.results, checks.Skipped(name, why))
	}
}

// account returns the registry account known before any call: the flag, else the task ARN's.
func (p *Prober) account() string {
	if p.Account != "" {
		return p.Account
	}
	return p.Metadata.Account()
}

// ownPrefixes returns the task's (or the instance's) own subnet, whose addresses count as
// private.
func (p *Prober) ownPrefixes(inst Instance) []netip.Prefix {
	cidr := p.Metadata.SubnetCIDR
	if cidr == "" {
		cidr = inst.SubnetCIDR
	}
	own := p.ownV6(inst)
	if pfx, err := netip.ParsePrefix(cidr); err == nil {
		own = append([]netip.Prefix{pfx.Masked()}, own...)
	}
	return own
}

// context fills the report's context from the configuration and task metadata.
func (p *Prober) context() report.Context {
	m := p.Metadata
	c := report.Context{
		Region:           p.Region,
		Partition:        catalogue.PartitionOf(p.Region).ID,
		Account:          p.account(),
		Cluster:          cmp.Or(m.Cluster, p.ECSCluster),
		TaskARN:          m.TaskARN,
		LaunchType:       m.LaunchType,
		AvailabilityZone: m.AvailabilityZone,
		SubnetCIDR:       m.SubnetCIDR,
		PrivateIP:        m.PrivateIP,
		Resolvers:        append([]string{}, p.Resolvers...),
		AmazonDNS:        p.secondResolver(),
		Proxy:            p.proxyInUse(),
	}
	if p.MetaErr != nil {
		c.MetadataError = checks.Bound(p.MetaErr.Error())
	}
	c.Runner, c.FunctionName = p.runner(), p.FunctionName
	c.SubnetID, c.SecurityGroups = p.SubnetID, append([]string(nil), p.SecurityGroups...)
	return c
}

// proxyInUse returns the proxy of the run's AWS calls, without its credentials.
func (p *Prober) proxyInUse() string {
	if p.Proxy == nil {
		return ""
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+catalogue.Service{Key: "sts"}.Host(p.Region, "")+"/", nil)
	u, err := p.Proxy(req)
	if err != nil || u == nil {
		return ""
	}
	u.User = nil
	return strings.TrimSuffix(u.String(), "/")
}

// serviceReport snapshots a service's progress into its report, calling checks that had not
// finished when the deadline fell "deadline", and judges it.
func (p *Prober) serviceReport(st *state, own []netip.Prefix, inst Instance) report.ServiceReport {
	st.mu.Lock()
	results := append([]checks.Result(nil), st.results...)
	second := st.second
	ports := st.ports
	other := st.other
	host := st.host
	path := st.path
	st.mu.Unlock()
	if path == "" { // not started: the path it would have taken
		path = pathName(p.proxyFor(st.svc, host))
	}
	for i := len(results); i < len(st.plan); i++ {
		if i == len(results) && !hasDeadline(results) {
			results = append(results, checks.Result{Name: st.plan[i], Status: checks.Fail,
				Code: checks.Deadline, Detail: "did not finish before the run's deadline"})
			continue
		}
		results = append(results, checks.Skipped(st.plan[i], "run deadline"))
	}

	sr := report.ServiceReport{
		Service:         st.svc.Key,
		Host:            host,
		Path:            path,
		EndpointService: st.svc.EndpointService(cmp.Or(st.region, p.Region)),
		Region:          st.region,
		EndpointType:    st.svc.EndpointType(),
		Route:           report.RouteNone,
		Addresses:       []string{},
	}
	var addrs []netip.Addr
	if len(results) > 0 && results[0].Name == "dns" {
		addrs = results[0].Addrs
	}
	for _, a := range addrs {
		sr.Addresses = append(sr.Addresses, a.String())
	}
	sr.Route = RouteOf(addrs, own)
	if chain := chainOf(results); len(p.families()) > 0 && len(chain) > 0 {
		// The family the task starts on (families.go): an IPv6-only task's route is its IPv6
		// addresses', whatever IPv4 addresses the name also has.
		addrs = chain
		sr.Route = RouteOf(chain, own)
	}
	for _, r := range results {
		sr.Checks = append(sr.Checks, report.Check(r))
	}
	if second != nil {
		sr.AmazonDNS = secondOpinion(*second, addrs, own)
	}
	j := judge(finding{
		svc: st.svc, host: host, region: cmp.Or(st.region, p.Region), route: sr.Route, addrs: addrs,
		results: results, second: sr.AmazonDNS, subnet: cmp.Or(p.Metadata.SubnetCIDR, inst.SubnetCIDR),
		resolvers: p.Resolvers, requirePrivate: p.RequirePrivate, deadline: p.Deadline,
		cluster:          cmp.Or(p.ECSCluster, "default"),
		clusterDefaulted: p.ECSClusterDefaulted,
		proxy:            proxyOfPath(path),
		dualStack:        dualStackHost(host),
		vpc:              inst.VPCCIDR,
	})
	sr.Families = p.familyReports(results, other, own)
	chain := chainOf(results)
	j = finding{svc: st.svc, host: host, region: p.Region, route: RouteOf(chain, own), addrs: addrs,
		requirePrivate: p.RequirePrivate}.judgeFamilies(j, familyView{
		families: p.families(), fams: sr.Families, addrs: chain, subnetV6: p.Metadata.IPv6SubnetCIDR})
	j = finding{svc: st.svc, host: host, region: p.Region}.judgeLattice(j, chain) // lattice.go
	j = portVerdict(j, ports, host)
	if st.region != "" {
		j = elsewhereJudgement(j, st.svc, st.region, p.Region)
	}
	sr.Verdict, sr.Error, sr.Diagnosis, sr.Remediation = j.verdict, j.code, j.diagnosis, j.remediation
	return sr
}

func hasDeadline(rs []checks.Result) bool {
	for _, r := range rs {
		if r.Code == checks.Deadline {
			return true
		}
	}
	return false
}

// secondOpinion compares the Amazon-provided resolver's answer with the configured one's: they
// agree when they lead to the same place (placeOf), whatever addresses each picked.
func secondOpinion(r checks.Result, configured []netip.Addr, own []netip.Prefix) *report.SecondDNS {
	s := &report.SecondDNS{Status: r.Status, Error: r.Code, Route: RouteOf(r.Addrs, own), Addresses: []string{}}
	for _, a := range r.Addrs {
		s.Addresses = append(s.Addresses, a.String())
	}
	if r.Status == checks.Pass { // only an answer can agree or disagree
		agrees := placeOf(r.Addrs, own) == placeOf(configured, own)
		s.Agrees = &agrees
	}
	return s
}
