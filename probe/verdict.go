package probe

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// PublicRoute is the service-level reason code for a service reached over public addresses
// when an interface endpoint would keep the traffic inside the VPC (an extension of CONTRACT.md's
// codes: no check failed, the path itself is the finding).
const PublicRoute checks.Code = "public-route"

// ResolverMismatch is the service-level reason code for a configured resolver whose answer
// differs from the Amazon-provided resolver's (an extension of CONTRACT.md's codes).
const ResolverMismatch checks.Code = "resolver-mismatch"

// finding is everything the verdict of one service depends on.
type finding struct {
	svc              catalogue.Service
	host, region     string
	route            string
	addrs            []netip.Addr
	results          []checks.Result
	second           *report.SecondDNS
	subnet           string
	resolvers        []string
	requirePrivate   bool
	deadline         time.Duration
	cluster          string // the cluster the ECS agent joins, for the ecs diagnoses (ec2.go)
	clusterDefaulted bool   // ECS_CLUSTER unset: the agent registers into default, creating it (agentcluster.go)
	proxy            string // the proxy every check went through (its URL); "" on the direct path
	dualStack        bool   // the host probed is a dual-stack name (an image from dkr-ecr.<r>.on.aws, say)
	vpc              string // the VPC's CIDR when known (instance metadata); "" otherwise
}

// judgement is a service's verdict with the reason a person reads.
type judgement struct {
	verdict     checks.Status
	code        checks.Code
	diagnosis   string
	remediation string
}

// judge decides a service's verdict: the first failed check decides, then the first warning,
// then the route; a resolver disagreement is layered on top, since it is usually the cause.
func judge(f finding) judgement {
	if allSkipped(f.results) {
		why := "not probed"
		if len(f.results) > 0 {
			why = f.results[0].Detail
		}
		j := judgement{verdict: checks.Skip, diagnosis: "Not probed: " + why + "."}
		if f.svc.Key == "ecr.dkr" {
			j.remediation = "Pass --account 123456789012 (the registry's account id; VPCPROBE_ACCOUNT in a task definition), or give the probe AWS credentials so that it learns it from STS."
		}
		return j
	}
	j := judgement{verdict: checks.Pass}
	for _, st := range []checks.Status{checks.Fail, checks.Warn} {
		if r, ok := first(f.results, st); ok {
			j = judgement{verdict: st, code: r.Code}
			j.diagnosis, j.remediation = f.explain(r)
			j.diagnosis, j.remediation = f.agentPath(r, j.diagnosis, j.remediation)
			break
		}
	}
	if j.verdict == checks.Pass && f.route == report.RoutePublic && !f.svc.Gateway && f.proxy == "" {
		j = judgement{verdict: checks.Warn, code: PublicRoute,
			diagnosis: fmt.Sprintf("%s is reached over public addresses (%s): the traffic leaves the VPC through a NAT or internet gateway, is billed per GB ($0.045/GB on a NAT gateway), and breaks when that egress is removed.",
				f.host, list(f.addrs)),
			remediation: fmt.Sprintf("Create the interface VPC endpoint %s with private DNS enabled in this VPC, in this subnet's availability zone, with a security group allowing TCP 443 from %s.",
				f.svc.EndpointService(f.region), f.from()),
		}
		if f.requirePrivate {
			j.verdict = checks.Fail
			j.diagnosis += " --require-private makes that a failure."
		}
	}
	j = f.layerMismatch(j)
	j = f.s3Interface(j)
	j = f.dnsFirewallShape(j)
	j = f.egressFirewallShape(j)
	if j.verdict != checks.Pass && j.verdict != checks.Skip && f.svc.OnlyWhen != "" {
		j.diagnosis += " " + f.svc.OnlyWhen
	}
	if j.verdict != checks.Pass && j.verdict != checks.Skip && f.dualStack && strings.HasPrefix(f.svc.Key, "ecr.") {
		j.diagnosis += fmt.Sprintf(" The registry is reached by its dual-stack name %s (the image URI names it), and ECR PrivateLink does not serve the dual-stack names (*.api.aws, *.on.aws): no interface endpoint can carry it. Name the image by its IPv4 registry (<account>.dkr.ecr.<region>…) to use the %s endpoint.", f.host, f.svc.EndpointService(f.region))
	}
	return j
}

// layerMismatch explains a disagreement between the configured resolver and the Amazon-provided
// one. When the Amazon-provided resolver sees the endpoint's private addresses and the configured
// one does not, the endpoint exists and DNS is the whole cause: that explanation replaces the
// network one, whose "create the endpoint" would send the user the wrong way. Other
// disagreements are added in front of the check's own explanation.
func (f finding) layerMismatch(j judgement) judgement {
	if f.second == nil || f.second.Agrees == nil || *f.second.Agrees {
		return j
	}
	mine := "no address"
	if len(f.addrs) > 0 {
		mine = fmt.Sprintf("%s addresses (%s)", f.route, list(f.addrs))
	}
	why := fmt.Sprintf("The configured resolver %s answers %s for %s, but the Amazon-provided resolver answers %s addresses (%s)",
		strings.Join(f.resolvers, ", "), mine, f.host, f.second.Route, strings.Join(f.second.Addresses, ", "))
	fix := fmt.Sprintf("Make the custom DNS servers forward %s (or all of %s) to the VPC resolver at the VPC CIDR base + 2, or delete the Route 53 Resolver rule that covers it.",
		f.host, catalogue.PartitionOf(f.region).DNSSuffix)
	shadowed := f.second.Route == report.RoutePrivate && f.route != report.RoutePrivate
	switch {
	case len(f.addrs) == 0:
		// The configured resolver failed where the Amazon-provided one answered: it is down,
		// unreachable or broken, whatever it would have said. One cause, one fix, also when the
		// run's deadline is what finally cut the wait short: a resolver silent for the whole run
		// is down, and "raise --deadline" would send the user the wrong way.
		what := fmt.Sprintf("gave no address for %s (%s)", f.host, j.code)
		state := "down, unreachable or failing"
		if silentDNS(j.code) {
			what, state = fmt.Sprintf("did not answer for %s", f.host), "down or unreachable"
		}
		return judgement{verdict: checks.Fail, code: j.code,
			diagnosis: fmt.Sprintf("The configured resolver %s %s, while the Amazon-provided resolver answers it (%s addresses %s): the custom DNS server is %s.",
				strings.Join(f.resolvers, ", "), what, f.second.Route, strings.Join(f.second.Addresses, ", "), state),
			remediation: fmt.Sprintf("Repair the custom DNS server, allow UDP and TCP 53 to it from %s, and make it forward %s to the VPC resolver (VPC CIDR base + 2) — or set the VPC's DHCP options back to AmazonProvidedDNS.",
				f.from(), catalogue.PartitionOf(f.region).DNSSuffix)}
	case shadowed && j.verdict == checks.Fail && j.code != checks.Deadline:
		why += fmt.Sprintf(": the interface endpoint exists, but custom DNS servers (a DHCP option set) or a Route 53 Resolver forwarding rule do not see its private hosted zone, so traffic goes to %s and fails there (%s).", mine, j.code)
		return judgement{verdict: checks.Fail, code: j.code, diagnosis: why, remediation: fix}
	case shadowed:
		why += ": custom DNS servers (a DHCP option set) or a Route 53 Resolver forwarding rule do not see the endpoint's private hosted zone, so traffic bypasses the endpoint."
	default:
		why += "."
	}
	if j.verdict == checks.Pass || j.code == PublicRoute {
		v := checks.Warn
		if j.verdict == checks.Fail { // --require-private
			v = checks.Fail
		}
		return judgement{verdict: v, code: ResolverMismatch, diagnosis: why, remediation: fix}
	}
	j.diagnosis = why + " " + j.diagnosis
	j.remediation = fix + " " + j.remediation
	return j
}

// silentDNS reports whether a DNS failure code means no server answered at all: within its
// --timeout, or before the run's deadline cut the wait short.
func silentDNS(c checks.Code) bool { return c == checks.DNSTimeout || c == checks.Deadline }

// explain returns the diagnosis and remediation of one failed or warning check.
func (f finding) explain(r checks.Result) (string, string) {
	if r.Code == checks.Deadline && r.Name != "dns" {
		return fmt.Sprintf("The %s check of %s did not finish before the run's --deadline (%s).", r.Name, f.host, f.deadline),
			"Raise --deadline or lower --timeout; if a single step hangs, the checks before it show where."
	}
	switch r.Name {
	case "dns":
		return f.explainDNS(r)
	case "tcp":
		if f.proxy != "" {
			return fmt.Sprintf("The proxy %s did not open a tunnel to %s:443 (%s): %s.", f.proxy, f.host, r.Code, r.Detail),
				fmt.Sprintf("Let %s reach the proxy %s and the proxy allow CONNECT to %s:443; or, to go without it, add %s to NO_PROXY and give this subnet an endpoint %s.",
					f.from(), f.proxy, f.host, f.host, f.svc.EndpointService(f.region))
		}
		return f.explainTCP(r)
	case "tls":
		return f.explainTLS(r)
	case "http":
		return f.explainHTTP(r)
	case "manifest":
		return f.explainManifest(r)
	case "layer":
		return f.explainLayer(r)
	}
	return f.explainCall(r)
}

func (f finding) explainDNS(r checks.Result) (string, string) {
	who := r.Resolver
	if who == "" {
		who = strings.Join(f.resolvers, ", ")
	}
	es := f.svc.EndpointService(f.region)
	switch r.Code {
	case checks.NXDomain:
		return fmt.Sprintf("%s does not exist according to %s.", f.host, who),
			fmt.Sprintf("Check the region (%s); if it is right, look for a private hosted zone or Route 53 Resolver rule in this VPC that covers %s without this name.", f.region, catalogue.PartitionOf(f.region).DNSSuffix)
	case checks.NoAnswer:
		return fmt.Sprintf("%s exists but has no address record at %s.", f.host, who),
			fmt.Sprintf("A private hosted zone or Resolver rule overrides %s without A records: delete it and enable private DNS on the endpoint %s instead.", f.host, es)
	case checks.DNSTimeout, checks.Deadline:
		// A resolver still silent when the run's deadline fell is down or unreachable, like
		// one silent for a --timeout: one diagnosis and one fix, not a deadline's as well.
		return fmt.Sprintf("No DNS server answered for %s (asked %s): it is down or unreachable (%s).", f.host, who, r.Detail),
			fmt.Sprintf("Turn on enableDnsSupport for this VPC; if the resolvers are custom DNS servers, allow UDP and TCP 53 to them from %s in security groups and network ACLs.", f.from())
	default: // servfail and anything a resolver may say
		return fmt.Sprintf("The resolver failed to answer for %s: %s.", f.host, r.Detail),
			"If the resolver is a custom DNS server, make it forward AWS names to the VPC resolver (VPC CIDR base + 2); otherwise check the VPC's enableDnsSupport attribute."
	}
}

func (f finding) explainTCP(r checks.Result) (string, string) {
	es := f.svc.EndpointService(f.region)
	silent, answered := peers(r)
	if r.Status == checks.Warn {
		return fmt.Sprintf("%s did not answer on TCP 443 while %s did: one of the endpoint's network interfaces is unreachable from this subnet, so some connections hang.", list(silent), list(answered)),
			fmt.Sprintf("Check the network ACL and route table of the subnet holding %s, and the security group of the endpoint %s; or remove the endpoint from that subnet.", list(silent), es)
	}
	switch {
	case r.Code == checks.Timeout && f.route == report.RoutePrivate && f.beyond():
		// Centralised endpoints: a hub VPC's endpoint, its private hosted zone shared over a
		// transit gateway or peering. The endpoint exists; "create it here" is the wrong fix.
		return fmt.Sprintf("%s resolves to private addresses outside %s (%s) and TCP 443 timed out: the endpoint lives in another subnet or in a hub VPC (centralised endpoints over a transit gateway or peering), and a route, security group or network ACL on the way drops it.", f.host, f.from(), list(f.addrs)),
			// The addresses are said once, in parentheses, so that services failing alike read as
			// one paragraph (report's groups drop each service's own address list).
			fmt.Sprintf("If the endpoint's addresses (%s) are in a hub VPC, give this subnet's route table a route to them through the transit gateway or peering connection (and the hub's route back); allow inbound TCP 443 from %s in the security group of that endpoint %s; allow outbound TCP 443 to them in the task's security group; let the network ACLs pass TCP 443 out and ports 1024-65535 back.", list(f.addrs), f.from(), es)
	case r.Code == checks.Timeout && f.route == report.RoutePrivate:
		return fmt.Sprintf("%s resolves to the interface endpoint (%s) but TCP 443 timed out: a security group or network ACL drops it.", f.host, list(f.addrs)),
			fmt.Sprintf("Allow inbound TCP 443 from %s in the security group of the endpoint %s, and outbound TCP 443 to %s in the task's security group; let the network ACLs pass TCP 443 out and ports 1024-65535 back.", f.from(), es, list(f.addrs))
	case r.Code == checks.Timeout && f.svc.Gateway:
		return fmt.Sprintf("The ECR layer bucket %s resolves to S3's public addresses and TCP 443 timed out: this subnet's route table has no route to an S3 gateway endpoint (and no NAT), or the task's security group egress does not allow the S3 prefix list.", f.host),
			fmt.Sprintf("Create the gateway endpoint %s and associate it with this subnet's route table; allow outbound TCP 443 to the prefix list %s in the task's security group (its pl- id: `aws ec2 describe-managed-prefix-lists --region %s --filters Name=prefix-list-name,Values=%s --query PrefixLists[0].PrefixListId --output text`).", es, es, f.region, es)
	case r.Code == checks.Timeout:
		return fmt.Sprintf("%s resolves to public addresses (%s) and TCP 443 timed out: this VPC has no interface endpoint for %s with private DNS enabled, and no NAT route.", f.host, list(f.addrs), f.svc.Key),
			fmt.Sprintf("Create the interface VPC endpoint %s in this VPC with private DNS enabled (or enable private DNS on the existing one: it needs the VPC's enableDnsSupport and enableDnsHostnames), in this subnet's availability zone, with a security group allowing TCP 443 from %s.", es, f.from())
	case r.Code == checks.Refused:
		return fmt.Sprintf("%s refused TCP 443: whatever answers at that address is not the AWS endpoint.", list(silent)),
			fmt.Sprintf("Find what owns %s: a firewall rejecting HTTPS egress, or a DNS record (private hosted zone, Resolver rule) pointing %s at the wrong address.", list(silent), f.host)
	case r.Code == checks.Unreachable && f.route == report.RoutePrivate:
		return fmt.Sprintf("There is no route from this subnet to %s: the addresses are outside this VPC's local route (a hub VPC's endpoint, or a private hosted zone pointing %s elsewhere).", list(silent), f.host),
			fmt.Sprintf("If the endpoint %s is centralised in a hub VPC, add a route to %s through the transit gateway or peering connection to this subnet's route table; otherwise find the private hosted zone or Resolver rule that points %s there.", es, list(silent), f.host)
	case r.Code == checks.Unreachable:
		return fmt.Sprintf("There is no route from this subnet to %s (public addresses).", list(silent)),
			fmt.Sprintf("Create the %s endpoint %s (private DNS on), or add a default route to a NAT gateway in this subnet's route table.", f.svc.EndpointType(), es)
	}
	return fmt.Sprintf("TCP 443 to %s failed: %s.", f.host, r.Detail),
		fmt.Sprintf("Check security groups, network ACLs and routes between %s and %s.", f.from(), list(f.addrs))
}

func (f finding) explainTLS(r checks.Result) (string, string) {
	es := f.svc.EndpointService(f.region)
	switch r.Code {
	case checks.TLSUntrusted:
		return fmt.Sprintf("TLS to %s is intercepted: %s.", f.host, r.Detail),
			"Exempt *." + catalogue.PartitionOf(f.region).DNSSuffix + " from TLS inspection in the firewall or proxy; if inspection is policy, give the task its CA with AWS_CA_BUNDLE."
	case checks.TLSHostname:
		return fmt.Sprintf("The certificate at %s does not name %s: DNS points the name at something that is not the %s endpoint (%s).", list(f.addrs), f.host, f.svc.Key, r.Detail),
			fmt.Sprintf("Look for a private hosted zone or Resolver rule overriding %s; delete it and enable private DNS on the endpoint %s instead.", f.host, es)
	case checks.Timeout, checks.Refused, checks.Unreachable:
		return fmt.Sprintf("%s stopped answering between the TCP and TLS checks: %s.", f.host, r.Detail),
			fmt.Sprintf("Run again; if it repeats, check the security group of %s and any firewall between %s and it.", es, f.from())
	}
	return fmt.Sprintf("%s accepted TCP 443 but the TLS handshake failed: %s. A middlebox or a service that is not the AWS endpoint holds the port.", f.host, r.Detail),
		"Look for a firewall, proxy or appliance on the path that terminates 443, and for DNS records pointing " + f.host + " at it."
}

func (f finding) explainHTTP(r checks.Result) (string, string) {
	if r.Code == checks.HTTPError {
		return fmt.Sprintf("Something other than AWS answered for %s: %s.", f.host, r.Detail),
			fmt.Sprintf("A proxy, firewall or captive portal intercepts HTTPS: add .%s to NO_PROXY if HTTPS_PROXY is set, or fix the rule that answers for %s.", catalogue.PartitionOf(f.region).DNSSuffix, f.host)
	}
	return fmt.Sprintf("%s completed TLS but the HTTP request failed: %s.", f.host, r.Detail),
		fmt.Sprintf("Check HTTPS_PROXY/NO_PROXY and any proxy or firewall between %s and %s.", f.from(), f.host)
}

// explainCall explains a failed authenticated check (auth, manifest, layer, secret, parameter);
// their Detail already names the API action.
func (f finding) explainCall(r checks.Result) (string, string) {
	es := f.svc.EndpointService(f.region)
	switch r.Code {
	case checks.AccessDenied:
		return fmt.Sprintf("The network path to %s works; IAM or the endpoint policy denies it: %s.", f.svc.Key, r.Detail),
			fmt.Sprintf("Allow the action in the task role's policy (the probe tests its own task role; run it with the application's execution role as task role to test that one), and check the endpoint policy of %s.", es)
	case checks.AuthFailed:
		why := fmt.Sprintf("The network path to %s works, but the credentials were missing or refused: %s.", f.svc.Key, r.Detail)
		switch {
		case strings.Contains(r.Detail, "clock skew"):
			return why, "Sync this machine's clock (NTP; on EC2 the Amazon Time Sync catalogue.Service at 169.254.169.123): AWS refuses signatures more than 15 minutes off."
		case strings.Contains(r.Detail, "no task role"):
			return why, "Give the task definition a task role (taskRoleArn) trusting ecs-tasks.amazonaws.com, with the permissions README lists for the probe."
		}
		return why, "Give the task a task role (taskRoleArn), or check the credentials in the environment and the machine's clock."
	case checks.Throttled:
		return fmt.Sprintf("%s throttled every attempt: %s.", f.host, r.Detail),
			"Run the probe less often, or ask for a higher quota for the API named."
	case checks.NotFound:
		return fmt.Sprintf("The network path to %s works, but the resource does not exist: %s.", f.svc.Key, r.Detail),
			"Check the name, the account and the region of what was asked for."
	}
	return fmt.Sprintf("The %s check of %s failed: %s.", r.Name, f.host, r.Detail),
		fmt.Sprintf("Check the path between %s and %s.", f.from(), f.host)
}

// explainManifest explains a failed read of the image's manifest from the registry.
func (f finding) explainManifest(r checks.Result) (string, string) {
	switch r.Code {
	case checks.NotFound:
		return fmt.Sprintf("The network path to the registry works, but the image cannot be pulled: %s.", r.Detail),
			"Check the repository, tag or digest of --image and that an image for this platform was pushed: a task definition naming it fails with CannotPullContainerError."
	case checks.AccessDenied:
		return fmt.Sprintf("The network path to the registry works; IAM, the repository policy or the endpoint policy denies the pull: %s.", r.Detail),
			fmt.Sprintf("Allow ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on the repository in the task role's policy (the probe tests its own task role; run it with the application's execution role as task role to test that one); for another account's registry its repository policy must allow the role; check the endpoint policy of %s.", f.svc.EndpointService(f.region))
	case checks.AuthFailed:
		return fmt.Sprintf("The registry refused the token from ecr:GetAuthorizationToken: %s.", r.Detail),
			"Check the machine's clock; if a proxy sits between the task and the registry, exempt ." + catalogue.PartitionOf(f.region).DNSSuffix + " from it (NO_PROXY)."
	}
	return f.explainCall(r)
}

// explainLayer explains a failed read of an image layer from the layer bucket, the step of a
// pull that S3 gateway endpoints and their policies break.
func (f finding) explainLayer(r checks.Result) (string, string) {
	es := f.svc.EndpointService(f.region)
	bucket := catalogue.LayerBucketARN(f.region)
	switch r.Code {
	case checks.AccessDenied:
		return fmt.Sprintf("The layer bucket refused the presigned download of an image layer (%s): the S3 gateway endpoint's policy does not allow %s, so every image pull fails.", r.Detail, bucket),
			fmt.Sprintf("Add to the policy of the gateway endpoint %s a statement allowing s3:GetObject on %s for any principal.", es, bucket)
	case checks.Timeout, checks.Refused, checks.Unreachable, checks.TLSHandshake:
		return fmt.Sprintf("Downloading an image layer from the layer bucket got no answer (%s): this subnet's route table has no route to an S3 gateway endpoint (and no NAT), or the task's security group egress does not allow the S3 prefix list.", r.Detail),
			fmt.Sprintf("Create the gateway endpoint %s and associate it with this subnet's route table; allow egress TCP 443 to the prefix list %s in the task's security group.", es, es)
	case checks.AuthFailed:
		return fmt.Sprintf("The layer bucket refused the presigned URL the registry gave (%s): the machine's clock is off, or something on the path rewrote the URL.", r.Detail),
			"Check the clock, and exempt ." + catalogue.PartitionOf(f.region).DNSSuffix + " from any proxy (NO_PROXY)."
	}
	return f.explainCall(r)
}

// beyond reports whether every address lies outside the task's subnet, when it is known, and
// outside the VPC, when that is known too: the endpoint is in a hub VPC (or, with the VPC
// unknown, possibly in another subnet of this one), never "to be created here".
func (f finding) beyond() bool {
	pfx, err := netip.ParsePrefix(f.subnet)
	if err != nil || len(f.addrs) == 0 {
		return false
	}
	if placeOf(f.addrs, []netip.Prefix{pfx.Masked()}) != placeElsewhere {
		return false
	}
	if vpc, err := netip.ParsePrefix(f.vpc); err == nil {
		return placeOf(f.addrs, []netip.Prefix{vpc.Masked()}) == placeElsewhere
	}
	return true
}

// from names where the task's traffic comes from, as precisely as metadata allows.
func (f finding) from() string {
	if f.subnet != "" {
		return "the task subnet " + f.subnet
	}
	return "the task's subnet"
}

func first(rs []checks.Result, st checks.Status) (checks.Result, bool) {
	for _, r := range rs {
		if r.Status == st {
			return r, true
		}
	}
	return checks.Result{}, false
}

func allSkipped(rs []checks.Result) bool {
	for _, r := range rs {
		if r.Status != checks.Skip {
			return false
		}
	}
	return true
}

// peers splits a tcp result's addresses into those that stayed silent and those that answered.
func peers(r checks.Result) (silent, answered []netip.Addr) {
	for _, p := range r.Peers {
		if p.Code == "" {
			answered = append(answered, p.Addr)
		} else {
			silent = append(silent, p.Addr)
		}
	}
	return silent, answered
}

// list writes addresses as "a, b and c" for sentences.
func list(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	switch len(s) {
	case 0:
		return "no address"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
