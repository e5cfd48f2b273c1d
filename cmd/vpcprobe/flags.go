package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/probe"
)

// options are the command line as given, before the environment and defaults are resolved.
type options struct {
	services       string
	region         string
	account        string
	image          string
	secrets        []string
	parameters     []string
	otherRegions   []string // --other-region REGION:KEY[+KEY...]
	timeout        time.Duration
	deadline       time.Duration
	resolvers      []string
	amazonDNS      string
	logGroup       string
	logStream      string
	output         string
	requirePrivate bool
	every          time.Duration
	runID          string
	ecsConfig      string
	noAuth         bool
	version        bool

	// forTaskDefinition is --for-task-definition; servicesGiven says whether --services (or its
	// variable) was given, so that derived services join it instead of the default.
	forTaskDefinition string
	servicesGiven     bool

	// Where the launcher put the probe; a Lambda function has no task metadata to say it.
	subnetID, subnetCIDR, securityGroups string
	subnetIPv6CIDR, addressFamilies      string
	resolvConf                           string         // where the system's resolvers are read from; empty means /etc/resolv.conf
	fs                                   *pflag.FlagSet // the parsed flags: which came from the environment (fromEnv)
}

// usageError is bad usage or configuration: exit 2 with one line naming the flag and the fix.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// envPrefix starts the environment variable of every flag: --log-group is VPCPROBE_LOG_GROUP.
const envPrefix = "VPCPROBE_"

// envName returns the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// newFlagSet defines CONTRACT.md's flags on a fresh set writing help to out.
func newFlagSet(o *options, out io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("vpcprobe", pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.StringVar(&o.services, "services", catalogue.DefaultServices, "service keys to probe, comma-separated; all = "+strings.Join(catalogue.Keys(), ",")+"; ec2-instance = what an ECS container instance needs")
	fs.StringVar(&o.region, "region", "", "region whose hostnames are probed (default: AWS_REGION, AWS_DEFAULT_REGION, task metadata)")
	fs.StringVar(&o.account, "account", "", "registry account for ecr.dkr (default: the --image URI's, else the task ARN's or the Lambda function's, else the STS caller's)")
	fs.StringVar(&o.image, "image", "", "ECR image URI whose whole pull path is verified: registry login, manifest, first byte of a layer (adds ecr.api, ecr.dkr and s3)")
	fs.StringArrayVar(&o.secrets, "secret", nil, "a task definition's secret as valueFrom names it, fetched as the ECS agent does, repeatable: a Secrets Manager name or ARN, optionally ARN:json-key:version-stage:version-id (adds secretsmanager), or an SSM parameter ARN (adds ssm); the value is dropped")
	fs.StringArrayVar(&o.otherRegions, "other-region", nil, "also probe services of another region the task needs, as REGION:KEY[+KEY...] (us-west-2:ecr.api+ecr.dkr+s3), repeatable: network checks only, each entry naming its region")
	fs.StringArrayVar(&o.parameters, "parameter", nil, "SSM parameter (name or ARN) fetched with decryption as a task's secrets are, repeatable; the value is dropped (adds ssm)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "bound on each network step (one DNS query, connect, handshake or call)")
	fs.DurationVar(&o.deadline, "deadline", 60*time.Second, "bound on the whole probe, delivery included")
	fs.StringArrayVar(&o.resolvers, "resolver", nil, "DNS server to ask, host[:port], repeatable (default: nameservers of /etc/resolv.conf)")
	fs.StringVar(&o.amazonDNS, "amazon-dns", "169.254.169.253", "Amazon-provided resolver asked as a second opinion; empty disables")
	fs.StringVar(&o.logGroup, "log-group", "", "CloudWatch Logs group the report is written to (default: no delivery)")
	fs.StringVar(&o.logStream, "log-stream", "", "log stream within the group (default: task id or host name, and start time)")
	outputFlag(fs, &o.output, "what stdout carries: text or json (default: text on a terminal, else json)", "text", "json")
	fs.BoolVar(&o.requirePrivate, "require-private", false, "fail a service reached over a public address instead of warning")
	fs.DurationVar(&o.every, "every", 0, "sidecar mode: probe again every D; SIGTERM ends it after the round in flight")
	fs.StringVar(&o.forTaskDefinition, "for-task-definition", "", "probe what an application's task definition needs: ARN, family[:revision] (read with ecs:DescribeTaskDefinition) or file://path.json; adds its services, image, secrets and parameters")
	fs.StringVar(&o.runID, "run-id", "", "identifier of this run in the report and its CloudWatch events (default: random; with --every, suffixed -1, -2, …)")
	fs.StringVar(&o.ecsConfig, "ecs-config", probe.DefaultECSConfig, "the ECS agent's configuration on a container instance, read for ECS_CLUSTER when there is no task metadata")
	fs.StringVar(&o.subnetID, "subnet-id", "", "the subnet the probe runs in, for the report (the launcher passes it to a Lambda function)")
	fs.StringVar(&o.subnetCIDR, "subnet-cidr", "", "the subnet's IPv4 CIDR block, whose addresses count as private (default: task metadata's)")
	fs.StringVar(&o.subnetIPv6CIDR, "subnet-ipv6-cidr", "", "the subnet's IPv6 CIDR block, whose addresses count as private (default: task metadata's)")
	fs.StringVar(&o.addressFamilies, "address-families", "", "the task's address families: ipv4, ipv6 or dualstack (default: task metadata's; unknown: every address is tried)")
	fs.StringVar(&o.securityGroups, "security-groups", "", "the probe's security groups, comma-separated, for the report and its remediations")
	fs.BoolVar(&o.noAuth, "no-auth", false, "skip the authenticated checks (STS, ECR token, registry login): network checks only, no credentials needed")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	annotateEnv(fs, "version")
	fs.Usage = func() {
		var subs strings.Builder
		for _, sc := range subcommands() {
			fmt.Fprintf(&subs, "  %-16s %s\n", sc.name, sc.summary)
		}
		fmt.Fprintf(out, "Usage: vpcprobe [flags]\n       vpcprobe SUBCOMMAND [flags]\n       vpcprobe help [SUBCOMMAND]\n\n"+
			"Probes the AWS service endpoints an ECS task needs from this subnet and reports what to fix.\n"+
			"Every flag can also be set as VPCPROBE_<NAME>; the flag wins. A subcommand's flags are\n"+
			"VPCPROBE_<SUBCOMMAND>_<NAME> (VPCPROBE_LAUNCH_DEADLINE). Exit 0: every service passed or warned;\n"+
			"1: a service or the delivery failed; 2: bad usage; 3: could not test (nothing was measured).\n\n"+
			"Subcommands (each with its own --help):\n%s\nFlags:\n%s", subs.String(), fs.FlagUsages())
	}
	return fs
}

// parseArgs parses args and the environment into o. A flag given on the command line wins over
// its environment variable; a repeatable flag's variable holds a comma-separated list.
func parseArgs(args []string, getenv func(string) (string, bool), out io.Writer) (*options, error) {
	o := &options{}
	fs := newFlagSet(o, out)
	o.fs = fs
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		return nil, flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q: vpcprobe takes only flags (see --help)", fs.Arg(0))
	}
	var envErr error
	fs.VisitAll(func(f *pflag.Flag) {
		v, ok := getenv(envName(f.Name))
		if !ok || f.Changed || envErr != nil || f.Name == "version" {
			return
		}
		if f.Value.Type() == "stringArray" {
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					if err := f.Value.Set(item); err != nil {
						envErr = envValueError(fs, f, v)
					}
				}
			}
			fs.SetAnnotation(f.Name, envAnnotation, []string{v})
			return
		}
		envErr = setFromEnv(fs, f, v)
	})
	_, servicesEnv := getenv(envName("services"))
	o.servicesGiven = fs.Changed("services") || servicesEnv
	if envErr != nil {
		return o, envErr
	}
	var err error
	o.forTaskDefinition, err = taskDefinitionRef(o.forTaskDefinition) // tdref.go
	return o, fromEnv(err, fs)
}

// minEvery is the shortest --every. Every round of a sidecar signs STS and ECR calls, queries
// DNS, and with --log-group opens a log stream of its own (CreateLogStream is limited to 50
// calls per second per account and region, shared by every task of every service); a fleet of
// sidecars probing every second would spend those quotas and fill the group with streams for
// no gain: a path that breaks is reported within 10s either way, and a round that waits out a
// black hole already takes about one --timeout. It is a string so that the sidecar tests, which
// need rounds of milliseconds, can lower it at build time (-ldflags "-X main.minEvery=10ms");
// a release build never does.
var minEvery = "10s"

// minEveryDuration is minEvery as a duration (10s if it does not parse).
func minEveryDuration() time.Duration {
	if d, err := time.ParseDuration(minEvery); err == nil && d >= 0 {
		return d
	}
	return 10 * time.Second
}

// resolverAddr turns a host[:port] resolver address into ip:port; resolvers are IP literals,
// because vpcprobe would need a resolver to find them.
func resolverAddr(flag, s string) (string, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a, 53).String(), nil
	}
	return "", usagef("--%s %q: not an IP address or IP:port (example: 10.0.0.2 or 10.0.0.2:53)", flag, s)
}

// config validates the options and resolves what they leave open into a probe configuration.
// region, when o gives none, comes from the environment and task metadata (metaRegion). The
// task's account (metaAccount) is not filled in here: the probe takes it from the task ARN and
// asks STS only when nothing names the account (probe.Prober.account, learnAccount).
func (o *options) config(getenv func(string) (string, bool), metaRegion, metaAccount string) (probe.Config, error) {
	var c probe.Config
	var err error
	// --secret takes what a task definition's secrets[].valueFrom holds: a Secrets Manager
	// secret (name, ARN, or ARN:json-key:version-stage:version-id) or an SSM parameter's ARN,
	// which is fetched as --parameter is.
	for _, s := range o.secrets {
		s = strings.TrimSpace(s)
		if s == "" || strings.ContainsAny(s, " \t\n") {
			return c, usagef("--secret %q: a secret's ARN or name, without spaces", s)
		}
		_, err := checks.ParseSecretRef(s)
		switch {
		case errors.Is(err, checks.ErrNotSecretsManager):
			if _, svc, _, _, _, _ := catalogue.ParseARN(s); svc != "ssm" {
				return c, usagef("--secret %q: neither a Secrets Manager secret nor an SSM parameter ARN", s)
			}
			c.Parameters = append(c.Parameters, s)
		case err != nil:
			return c, usagef("--secret %v", err)
		default:
			c.Secrets = append(c.Secrets, s)
		}
	}
	for _, s := range o.parameters {
		if s = strings.TrimSpace(s); s == "" || strings.ContainsAny(s, " \t\n") {
			return c, usagef("--parameter %q: a parameter's name or ARN, without spaces", s)
		}
		c.Parameters = append(c.Parameters, s)
	}
	// What --image, --secret and --parameter check needs its services probed.
	services := o.services
	if o.image != "" {
		services += ",ecr.api,ecr.dkr,s3"
	}
	if len(c.Secrets) > 0 {
		services += ",secretsmanager"
	}
	if len(c.Parameters) > 0 {
		services += ",ssm"
	}
	if c.Services, err = catalogue.ParseServices(services); err != nil {
		return c, usagef("--services: %v", err)
	}
	for _, v := range o.otherRegions {
		e, err := probe.ParseElsewhere(v)
		if err != nil {
			return c, usagef("--other-region %v", err)
		}
		c.Elsewhere = append(c.Elsewhere, e)
	}
	if o.timeout <= 0 {
		return c, usagef("--timeout %s: must be positive (example: 5s)", o.timeout)
	}
	if o.deadline < o.timeout {
		return c, usagef("--deadline %s is shorter than --timeout %s: raise --deadline or lower --timeout", o.deadline, o.timeout)
	}
	if o.every < 0 {
		return c, usagef("--every %s: must be zero (probe once) or positive", o.every)
	}
	if least := minEveryDuration(); o.every > 0 && o.every < least {
		return c, usagef("--every %s: the minimum is %s (example: --every 5m)", o.every, least)
	}
	c.Timeout, c.Deadline = o.timeout, o.deadline
	if o.noAuth {
		// What needs credentials cannot run without them: say so now rather than skip it.
		for _, needs := range []struct {
			flag  string
			given bool
		}{{"--image", o.image != ""}, {"--secret", len(o.secrets) > 0}, {"--parameter", len(o.parameters) > 0}, {"--log-group", o.logGroup != ""}} {
			if needs.given {
				return c, usagef("--no-auth: %s needs credentials; drop one of them", needs.flag)
			}
		}
		c.NoAuth = true
	}

	c.Region = o.region
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if c.Region == "" {
			c.Region, _ = getenv(name)
		}
	}
	if c.Region == "" {
		c.Region = metaRegion
	}
	if c.Region == "" {
		return c, usagef("--region: no region known; pass --region or set AWS_REGION")
	}
	if err := catalogue.CheckRegion(c.Region); err != nil {
		return c, usagef("--region: %v", err)
	}

	c.Account = o.account
	if c.Account != "" && !catalogue.ValidAccount(c.Account) {
		return c, usagef("--account %q: an account id is 12 digits", c.Account)
	}
	// Without --account (or --image naming one) the probe takes the registry account from the
	// task ARN (metaAccount), else learns it from STS while it runs.
	if o.image != "" {
		img, err := checks.ParseImage(o.image)
		switch {
		case err != nil:
			return c, usagef("--image %q: %v", o.image, err)
		case img.Region != c.Region:
			return c, usagef("--image %q: its registry is in %s, not %s; pass --region %s", o.image, img.Region, c.Region, img.Region)
		case c.Account != "" && img.Account != c.Account:
			return c, usagef("--image %q: its registry account %s is not --account %s; drop --account", o.image, img.Account, c.Account)
		}
		c.Image, c.Account = o.image, img.Account
	}

	for _, r := range o.resolvers {
		addr, err := resolverAddr("resolver", r)
		if err != nil {
			return c, err
		}
		c.Resolvers = append(c.Resolvers, addr)
	}
	if len(c.Resolvers) == 0 {
		path := o.resolvConf
		if path == "" {
			path = defaultResolvConf
		}
		rs, err := checks.SystemResolvers(path)
		if err != nil || len(rs) == 0 {
			return c, usagef("--resolver: none given and %s names no nameserver; pass --resolver 10.0.0.2", path)
		}
		c.Resolvers = rs
	}
	if o.amazonDNS != "" {
		if c.AmazonDNS, err = resolverAddr("amazon-dns", o.amazonDNS); err != nil {
			return c, err
		}
	}
	switch o.output {
	case "", "text", "json":
	default:
		return c, usagef("--output %q: must be text or json", o.output)
	}
	c.LogGroup, c.LogStream = o.logGroup, o.logStream
	c.RequirePrivate = o.requirePrivate
	if len(o.runID) > 128 || strings.ContainsAny(o.runID, "\"\\ \t\n") {
		return c, usagef("--run-id %q: at most 128 characters, no quotes, backslashes or spaces", o.runID)
	}
	c.RunID = o.runID
	if o.subnetID != "" && !subnetRE.MatchString(o.subnetID) {
		return c, usagef("--subnet-id %q: not a subnet id (example: subnet-0a1b2c3d)", o.subnetID)
	}
	c.SubnetID = o.subnetID
	if o.subnetCIDR != "" {
		if pfx, err := netip.ParsePrefix(o.subnetCIDR); err != nil || !pfx.Addr().Is4() {
			return c, usagef("--subnet-cidr %q: not an IPv4 CIDR block (example: 10.0.1.0/24)", o.subnetCIDR)
		}
	}
	if o.subnetIPv6CIDR != "" {
		if pfx, err := netip.ParsePrefix(o.subnetIPv6CIDR); err != nil || !pfx.Addr().Is6() {
			return c, usagef("--subnet-ipv6-cidr %q: not an IPv6 CIDR block (example: 2001:db8:10:1::/64)", o.subnetIPv6CIDR)
		}
	}
	fams, err := probe.ParseFamilies(o.addressFamilies)
	if err != nil {
		return c, usagef("%v", err)
	}
	c.AddressFamilies = fams
	for _, g := range strings.Split(o.securityGroups, ",") {
		if g = strings.TrimSpace(g); g == "" {
			continue
		} else if !sgRE.MatchString(g) {
			return c, usagef("--security-groups: %q is not a security group id (example: sg-0d4e5f6a)", g)
		}
		c.SecurityGroups = append(c.SecurityGroups, g)
	}
	return c, nil
}

// defaultResolvConf is where the system's resolvers are read from.
const defaultResolvConf = "/etc/resolv.conf"

// proxyVars are the variables net/http's proxy rules read.
var proxyVars = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"}

// proxyFrom returns the proxy of the run's HTTP checks and SDK calls: net/http's own rules
// (HTTPS_PROXY, NO_PROXY, …) when the environment sets a proxy, nil (direct) when it does not.
// net/http reads the process environment, once: that is getenv in a real run. The rules are not
// rebuilt from getenv with golang.org/x/net/http/httpproxy because that module's copy would link
// a second set of the IDNA and Unicode tables net/http already vendors (+200 KB).
func proxyFrom(getenv func(string) (string, bool)) probe.ProxyFunc {
	for _, name := range proxyVars {
		if v, ok := getenv(name); ok && v != "" {
			return http.ProxyFromEnvironment
		}
	}
	return nil
}

// envLookup is os.LookupEnv, the environment of a real run.
func envLookup(name string) (string, bool) { return os.LookupEnv(name) }
