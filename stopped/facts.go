package stopped

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// facts is what a reason says, read once: the words, every host, address, ARN, role, secret,
// file system and registry in it, and the task's region and account. The class table
// (classes.go) decides what the reason means from them; this file only extracts.
type facts struct {
	reason string // as ECS wrote it
	text   string // lower case, ’ read as '
	raw    string // redacted, for the report

	hosts   []string
	host    string // the first host that belongs to a catalogue service
	service string // that host's service
	addr    netip.Addr

	region, account string // the task's, else the first the reason's ARNs and hosts say
	truncated       bool   // the reason ends in "..." or "…": ECS or a console cut it

	role      string // the role of an assumed-role ARN: the principal that was denied
	principal string // the denied principal's ARN
	action    string // the IAM action a denial names
	policy    policyKind
	passed    string // the role iam:PassRole was denied on

	secret    string // a Secrets Manager secret's or SSM parameter's ARN, or a parameter name
	fs        string // an EFS file system id
	fsHost    string // its mount target DNS name, as far as the reason has it
	registry  string // the registry host an image pull talked to
	regKind   string // "ecr" (a private ECR registry), "internet" (any other), "" unknown
	tg        string // a target group ARN (ELB health checks)
	platform  string // linux/amd64, …
	lookup    string // the name a failed DNS lookup asked for
	dnsServer string // the server it asked

	code    checks.Code // the error table's code for the step being explained
	errRule string      // that rule's name

	d    *Diagnosis  // the diagnosis being written, for the phrases that name its endpoint
	what string      // the row's means, expanded: {what} of the path table
	ctx  taskContext // the task's ARN and cluster, for commands
}

var (
	urlHost = regexp.MustCompile(`https?://([A-Za-z0-9.-]+)`)
	awsHost = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9.-]*\.(amazonaws\.com\.cn|amazonaws\.com|amazonaws\.eu|api\.aws|on\.aws)\b`)
	lookup  = regexp.MustCompile(`lookup ([A-Za-z0-9.-]+)(?: on ([0-9A-Fa-f.:\[\]]+))?`)
	awsDNS  = regexp.MustCompile(`\.(amazonaws\.com\.cn|amazonaws\.com|amazonaws\.eu|api\.aws|on\.aws)$`)
	// dialAddr finds the address a connection went to: "dial tcp 10.0.1.5:443: i/o timeout".
	dialAddr = regexp.MustCompile(`dial tcp (\[[0-9A-Fa-f:.]+\]|[0-9.]+):[0-9]+`)
	anyARN   = regexp.MustCompile(`arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9*]*:[^\s"',)]+`)
	// assumedRole finds an assumed-role principal: arn:aws:sts::123456789012:assumed-role/NAME/SESSION.
	assumedRole = regexp.MustCompile(`(arn:aws[a-z-]*:sts::[0-9*x]+:assumed-role/([\w+=,.@-]+))(?:/[^\s]*)?`)
	userARN     = regexp.MustCompile(`arn:aws[a-z-]*:iam::[0-9]+:(?:user|role)/[\w+=,.@/-]+`)
	passedRole  = regexp.MustCompile(`iam:PassRole on resource: arn:aws[a-z-]*:iam::[0-9]*:role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)`)
	fileSystem  = regexp.MustCompile(`\b(fs-[0-9a-f]{8,17})\b`)
	fsHostRE    = regexp.MustCompile(`\bfs-[0-9a-f]{8,17}\.efs\.[A-Za-z0-9.-]*`)
	targetGroup = regexp.MustCompile(`arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[\w-]+/[0-9a-f]+`)
	platformRE  = regexp.MustCompile(`\b(linux|windows)/(amd64|arm64|arm)(/v[0-9])?\b`)
	// pullFor finds the image of "pull access denied for NAME": a name without a host is Docker Hub's.
	pullFor = regexp.MustCompile(`pull access denied for ([^\s,]+)`)
	// refHost finds the registry of an image reference ECS resolves: "failed to resolve ref docker.io/…".
	refHost = regexp.MustCompile(`(?:resolve ref|resolve reference) "?([A-Za-z0-9.-]+\.[A-Za-z]{2,})/`)
	// truncation: ECS (Fargate 1.4), the console and people cut long reasons.
	truncation = regexp.MustCompile(`(\.\.\.|…)["')\]]*\s*$`)
	// paramRE finds an SSM parameter a reason names: "invalid parameters: /app/db".
	paramRE = regexp.MustCompile(`(?:invalid (?:ssm )?parameters:?) (\S+)`)
)

// readReason reads every fact of a reason; region and account are the task's ("" unknown).
func readReason(reason, region, account string) *facts {
	f := &facts{reason: reason, text: strings.ToLower(strings.ReplaceAll(reason, "’", "'")), raw: Redact(reason),
		region: region, account: account, truncated: truncation.MatchString(reason)}
	f.hosts = findHosts(reason)
	for _, h := range f.hosts {
		if s := serviceOfHost(h); s != "" {
			f.host, f.service = h, s
			break
		}
	}
	if f.service == "" && f.truncated {
		f.service = serviceOfPartialHost(reason)
	}
	arns := anyARN.FindAllString(reason, -1)
	if f.region == "" {
		f.region = regionOfText(f.hosts, arns, reason)
	}
	if f.account == "" {
		for _, a := range arns {
			if _, _, _, acct, _, ok := catalogue.ParseARN(a); ok && catalogue.ValidAccount(acct) {
				f.account = acct
				break
			}
		}
	}
	if m := dialAddr.FindStringSubmatch(reason); m != nil {
		f.addr, _ = netip.ParseAddr(strings.Trim(m[1], "[]"))
	}
	if m := assumedRole.FindStringSubmatch(reason); m != nil {
		f.principal, f.role = m[1], m[2]
	} else if m := userARN.FindString(reason); m != "" && !strings.Contains(reason, "on resource: "+m) {
		f.principal = m
	}
	if m := deniedRE.FindStringSubmatch(reason); m != nil {
		f.action = m[1]
	}
	if m := passedRole.FindStringSubmatch(reason); m != nil {
		f.passed = m[1]
	}
	f.policy = policyOf(f.text)
	for _, a := range arns {
		if strings.Contains(a, ":secretsmanager:") || strings.Contains(a, ":ssm:") {
			f.secret = strings.TrimRight(a, ".")
			break
		}
	}
	if m := paramRE.FindStringSubmatch(reason); m != nil && f.secret == "" {
		f.secret = strings.TrimRight(m[1], ".,")
	}
	if m := fileSystem.FindStringSubmatch(reason); m != nil {
		f.fs = m[1]
		f.fsHost = strings.TrimRight(fsHostRE.FindString(reason), ".:")
	}
	f.tg = targetGroup.FindString(reason)
	if m := platformRE.FindString(reason); m != "" {
		f.platform = m
	}
	if m := lookup.FindStringSubmatch(reason); m != nil {
		f.lookup, f.dnsServer = strings.TrimSuffix(m[1], "."), strings.TrimRight(m[2], ".:")
	}
	f.registry, f.regKind = registryOf(f)
	return f
}

// regionOfText returns the first region an AWS host or an ARN of the reason names.
func regionOfText(hosts, arns []string, reason string) string {
	for _, h := range hosts {
		if r := regionOfHost(h); r != "" {
			return r
		}
	}
	for _, a := range arns {
		if _, _, r, _, _, ok := catalogue.ParseARN(a); ok && catalogue.ValidRegion(r) {
			return r
		}
	}
	// "… from SSM Parameter Store in ap-northeast-1: …", the agent's wording.
	if m := regexp.MustCompile(`\bin ([a-z]{2}(?:-[a-z]+)+-[0-9])\b`).FindStringSubmatch(reason); m != nil && catalogue.ValidRegion(m[1]) {
		return m[1]
	}
	return ""
}

// dockerHub is Docker Hub's registry host, and the names that stand for it.
const dockerHub = "registry-1.docker.io"

var dockerHubHosts = []string{"registry-1.docker.io", "docker.io", "index.docker.io", "www.docker.com", "docs.docker.com", "auth.docker.io", "production.cloudflare.docker.com"}

// registryOf returns the registry an image pull talked to and its kind: a host in a URL or
// an image reference, else Docker Hub when the words are Docker Hub's (toomanyrequests with its
// docker.com link, an image name without a host in "pull access denied for").
func registryOf(f *facts) (string, string) {
	for _, h := range f.hosts {
		switch {
		case serviceOfHost(h) == "ecr.dkr" || serviceOfHost(h) == "ecr.api":
			return h, "ecr"
		case slices.Contains(dockerHubHosts, h):
			return dockerHub, "internet"
		}
	}
	if m := pullFor.FindStringSubmatch(f.reason); m != nil {
		name := strings.TrimRight(m[1], ",:")
		first, _, _ := strings.Cut(name, "/")
		switch {
		case serviceOfHost(first) == "ecr.dkr":
			return first, "ecr"
		case !strings.ContainsAny(first, ".:") || first == "docker.io":
			return dockerHub, "internet"
		default:
			return first, "internet"
		}
	}
	if m := refHost.FindStringSubmatch(f.reason); m != nil {
		h := strings.ToLower(m[1])
		if serviceOfHost(h) != "" {
			return h, "ecr"
		}
		if slices.Contains(dockerHubHosts, h) {
			return dockerHub, "internet"
		}
		return h, "internet"
	}
	for _, h := range f.hosts {
		if !awsDNS.MatchString(h) && h != "169.254.170.2" && !strings.HasSuffix(h, ".aws.amazon.com") {
			return h, "internet"
		}
	}
	if strings.Contains(f.text, "toomanyrequests") {
		return dockerHub, "internet"
	}
	return "", ""
}

// findHosts returns the host names a reason mentions, in order, without duplicates. A host a
// truncated reason cut ("https://api.ecr....") is not a host; serviceOfPartialHost reads it.
func findHosts(reason string) []string {
	var out []string
	seen := map[string]bool{}
	for _, re := range []*regexp.Regexp{urlHost, lookup} {
		for _, m := range re.FindAllStringSubmatch(reason, -1) {
			if h := strings.ToLower(strings.TrimSuffix(m[1], ".")); !seen[h] && !strings.Contains(h, "..") && !strings.HasSuffix(h, ".") && strings.Contains(h, ".") {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	for _, m := range awsHost.FindAllString(reason, -1) {
		if h := strings.ToLower(m); !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// partialHost finds the start of a host a truncated reason cut: "Post https://api.ecr....".
var partialHost = regexp.MustCompile(`https?://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)\.{2,}`)

// serviceOfPartialHost returns the service of a host a truncated reason cut, when what is left
// of it is enough: api.ecr, logs, secretsmanager, ssm.
func serviceOfPartialHost(reason string) string {
	m := partialHost.FindStringSubmatch(reason)
	if m == nil {
		return ""
	}
	h := strings.ToLower(m[1]) + "."
	for _, r := range hostRules {
		if r.pattern.MatchString(h) {
			if r.service != "" {
				return r.service
			}
			return strings.TrimSuffix(strings.SplitN(h, ".", 2)[0], "-fips")
		}
	}
	return ""
}

// pickHost returns the first host that belongs to service key, "" when none does.
func pickHost(hosts []string, key string) string {
	for _, h := range hosts {
		if serviceOfHost(h) == key {
			return h
		}
	}
	return ""
}

// serviceOfHost returns the catalogue key of an AWS host name, read by the catalogue's one
// host parser, "" for other hosts.
func serviceOfHost(h string) string {
	if p, ok := catalogue.ParseHost(h); ok && p.Known() {
		return p.Service
	}
	return ""
}

// regionOfHost reads the region out of an AWS host name: api.ecr.eu-west-1.amazonaws.com.
func regionOfHost(h string) string {
	for _, label := range strings.Split(h, ".") {
		if catalogue.ValidRegion(label) {
			return label
		}
	}
	return ""
}

// ARNRegionAccount reads region and account from a task ARN, in any partition.
func ARNRegionAccount(arn string) (string, string) {
	_, _, region, account, _, ok := catalogue.ParseARN(arn)
	if !ok {
		return "", ""
	}
	return region, account
}

// ClusterOfTaskARN returns the cluster a task ARN names (arn:aws:ecs:r:a:task/CLUSTER/ID, the
// long ARN format ECS uses since 2018); "" for a task id or an ARN of the old format.
func ClusterOfTaskARN(arn string) string {
	_, service, _, _, res, ok := catalogue.ParseARN(arn)
	if !ok || service != "ecs" {
		return ""
	}
	parts := strings.Split(res, "/")
	if len(parts) != 3 || parts[0] != "task" || parts[1] == "" {
		return ""
	}
	return parts[1]
}

// deniedAction returns the IAM action a denial names ("… not authorized to perform:
// ecr:GetAuthorizationToken …"), or def.
func deniedAction(reason, def string) string {
	if m := deniedRE.FindStringSubmatch(reason); m != nil {
		return m[1]
	}
	return def
}

var deniedRE = regexp.MustCompile(`not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9]+)`)

// classify sets f's code from the error table, for the step cause.
func (f *facts) classify(cause string) {
	f.code, f.errRule = checks.HTTPError, ""
	for _, r := range errorRules {
		if (len(r.causes) == 0 || slices.Contains(r.causes, cause)) && r.pattern.MatchString(f.text) {
			f.code, f.errRule = r.code, r.name
			return
		}
	}
}

// richness counts the facts a reason gave, to keep the richer of two reasons that say the same.
func (f *facts) richness() int {
	n := 0
	for _, s := range []string{f.host, f.region, f.role, f.secret, f.fs, f.registry, f.tg, f.lookup, f.action} {
		if s != "" {
			n++
		}
	}
	if f.addr.IsValid() {
		n++
	}
	if f.truncated {
		n--
	}
	return n
}
