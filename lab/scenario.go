package lab

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/report"
)

// Scenario is one simulated VPC and what the probe must report about it.
type Scenario struct {
	Name    string
	Summary string // one line for `vpclab list`

	Net  Network
	AWS  func(*fakeaws.Config) // changes to the fake AWS APIs (denials, throttling); nil: none
	Args []string              // probe flags beyond the lab's own (--log-group, --services, …)

	// Timeout and Deadline are the probe's --timeout and --deadline; zero means 1s and 10s,
	// small enough to keep the suite fast, large enough for a loaded CI machine.
	Timeout, Deadline time.Duration

	// Instance runs the probe as on an ECS container instance instead of in a task: no task
	// metadata, instance metadata (IMDSv2) at 169.254.169.254 inside the VPC namespace, and
	// the agent's ecs.config naming the cluster (instance.go).
	Instance bool
	// ECSClusterUnset leaves ECS_CLUSTER out of the instance's ecs.config: the agent then
	// registers into "default" (issue17_scenarios.go). Only with Instance.
	ECSClusterUnset bool

	Expect Expect
}

// Network is the shape of a simulated VPC. The zero value is an isolated subnet: no endpoint, no
// S3 gateway, no NAT, the Amazon-provided resolver answering public addresses.
type Network struct {
	Endpoints     []string // services with an interface endpoint (two ENIs, private DNS on)
	PrivateDNSOff []string // of those, the ones whose private DNS is disabled
	S3Gateway     bool     // the S3 gateway endpoint is on the subnet's route table
	NAT           bool     // a default route to a NAT gateway
	Egress        Egress   // what happens to traffic leaving through the NAT

	SGNo443  []string // endpoints whose security group does not allow TCP 443 (drops)
	ZoneDown []string // endpoints whose ENI in the second AZ drops TCP 443 (that subnet's ACL)
	Silent   []string // endpoints whose ENIs accept TCP and never speak

	// IMDSHopLimit simulates an instance whose http-put-response-hop-limit is 1, seen from a
	// container in bridge mode: instance metadata accepts connections, and the token PUT's
	// answer never arrives. Only with Scenario.Instance.
	IMDSHopLimit bool

	// ReturnACL is a network ACL on the task's subnet that lets TCP answers from 443 back in only
	// to ports 32768-65535, as AWS's example ACL does (lambda_ports.go).
	ReturnACL bool
	// IPv6 (ipv6.go): the task's families; with IPv6, the endpoints' ENIs have IPv6 addresses
	// too. DNS64 makes the resolver answer IPv4-only names with 64:ff9b::/96 addresses, NAT64
	// routes 64:ff9b::/96 to the NAT gateway, EgressOnlyIGW routes ::/0 out, and IPv6BlackHole
	// drops every IPv6 packet the task sends to an endpoint or out of the subnet.
	IPv6          IPv6Mode
	DNS64         bool
	NAT64         bool
	EgressOnlyIGW bool
	IPv6BlackHole bool

	DNS DNSMode // which resolver the task's resolv.conf names
	// Shadow are records of a hand-made private hosted zone in the VPC resolver: name to
	// addresses; no address is a name with no A record.
	Shadow map[string][]string

	// The VPC of 2026 (scenarios2026.go).

	// DNSFirewall is what a Route 53 Resolver DNS Firewall rule answers for a service's name,
	// by key: at the VPC resolver and the Amazon-provided one alike (both sit behind it).
	DNSFirewall map[string]FirewallAnswer
	// Hub are services whose interface endpoint lives in a hub VPC (HubCIDR) reached through a
	// transit gateway: the VPC resolver answers the hub's addresses (HubENI), as a private
	// hosted zone associated from the hub makes it; the router carries them.
	Hub []string
	// HubDown: the hub's endpoints drop TCP 443 from this VPC (their security group lacks this
	// VPC's CIDR, or the hub has no route back).
	HubDown bool
	// EgressDrop are services whose TLS a firewall behind the NAT drops once it sees the name
	// (SNI): an AWS Network Firewall domain allow list without them. Only with NAT.
	EgressDrop []string
	// CrossRegion are services of OtherRegion with a cross-region interface endpoint here
	// (CrossENI, private DNS on); OtherRegion's other names answer unrouted public addresses.
	// The probe is asked for them with --other-region in the scenario's Args.
	CrossRegion []string
}

// FirewallAnswer is how a DNS Firewall rule answers a blocked name (its BlockResponse), or a
// firewall that fails closed.
type FirewallAnswer int

// FirewallAnswer values.
const (
	FirewallNXDomain FirewallAnswer = iota + 1 // BLOCK NXDOMAIN
	FirewallNoData                             // BLOCK NODATA: NOERROR without records
	FirewallServFail                           // fail-open off and the query not evaluated: SERVFAIL
	FirewallOverride                           // BLOCK OVERRIDE: a CNAME to OverrideDomain
)

// Egress is what a firewall behind the NAT gateway does with HTTPS to the internet.
type Egress int

// Egress values.
const (
	EgressOpen      Egress = iota // passes
	EgressReject                  // rejects with a TCP reset
	EgressIntercept               // terminates TLS with its own CA (TLS inspection)
	// EgressBlocked: VPC Block Public Access (block-bidirectional) closes the internet gateway
	// the NAT's subnet routes through, so the NAT carries nothing: every packet is dropped.
	EgressBlocked
)

// DNSMode is the resolver the task's resolv.conf names.
type DNSMode int

// DNSMode values.
const (
	DNSVPC        DNSMode = iota // the Amazon-provided resolver, 10.0.0.2
	DNSCustom                    // a custom DNS server that forwards to public DNS: it never sees the endpoints' private zone
	DNSCustomDead                // a custom DNS server that is gone: its address drops everything
)

// Expect is what the report must say.
type Expect struct {
	Exit     int                      // the probe's exit status
	Verdict  checks.Status            // the report's overall verdict
	Services map[string]ServiceExpect // every service of the report, by key
	Delivery string                   // delivery.cloudwatch; empty means "disabled"
	Events   int                      // CloudWatch events delivered to the --log-group (0: none)
	Within   time.Duration            // bound on the probe process's wall time
	// InstanceMetadata is context.instance_metadata as "<status>" or "<status> <error>"; empty:
	// not judged (and absent in a task).
	InstanceMetadata string
}

// ServiceExpect is what one service's entry must say. Check is the first check with the
// service's verdict (fail or warn), empty when the service passed; Error is the service's code.
type ServiceExpect struct {
	Verdict checks.Status
	Route   string
	Check   string
	Error   checks.Code
	// AmazonDNS, when set, is the route of the second opinion from 169.254.169.253.
	AmazonDNS string
	// Families, when set, is services[].families: per family "status", or "status check
	// error" for a fail or warn, "absent" for a family the report does not have.
	Families map[string]string
}

// Outcome is one expectation and whether the report met it.
type Outcome struct {
	What string // "exit", "verdict", "ecr.api", "delivery", "events", "time"
	Want string
	Got  string
	OK   bool
}

// Run is one probe process's result.
type Run struct {
	Args   []string
	Exit   int
	Stdout []byte
	Stderr []byte
	Wall   time.Duration  // from start to exit, as the caller saw it
	CPU    time.Duration  // user + system time of the probe process
	MaxRSS int64          // peak resident set size in bytes
	Report *report.Report // decoded stdout; nil when it was not one JSON report
}

// Judge compares a run, and the events the lab's CloudWatch Logs received, with the scenario's
// expectations. Every expectation yields one Outcome, met or not.
func (sc Scenario) Judge(r Run, events []fakeaws.Event) []Outcome {
	e := sc.Expect
	var out []Outcome
	add := func(what, want, got string) {
		out = append(out, Outcome{What: what, Want: want, Got: got, OK: want == got})
	}
	add("exit", fmt.Sprint(e.Exit), fmt.Sprint(r.Exit))
	if r.Report == nil {
		add("report", "one JSON report on stdout", "none: "+firstLine(r.Stderr))
		return out
	}
	rep := r.Report
	add("verdict", string(e.Verdict), string(rep.Verdict))

	seen := map[string]bool{}
	for _, s := range rep.Services {
		key := s.Service
		if s.Region != "" { // another region's service (--other-region): "logs@us-west-2"
			key += "@" + s.Region
		}
		seen[key] = true
		want, ok := e.Services[key]
		if !ok {
			add(key, "not in the report", describe(s))
			continue
		}
		got := describeAs(s, want.AmazonDNS != "")
		if want.Families != nil {
			got += familiesGot(s)
		}
		add(key, want.String(), got)
	}
	for _, k := range sortedKeys(e.Services) {
		if !seen[k] {
			add(k, e.Services[k].String(), "missing from the report")
		}
	}

	delivery := e.Delivery
	if delivery == "" {
		delivery = report.Disabled
	}
	got := rep.Delivery.CloudWatch
	if rep.Delivery.Error != "" {
		got += " (" + firstLine([]byte(rep.Delivery.Error)) + ")"
		if delivery == report.Failed && rep.Delivery.CloudWatch == report.Failed {
			got = report.Failed // the error text is not part of the contract
		}
	}
	add("delivery", delivery, got)
	if e.InstanceMetadata != "" {
		got := "absent"
		if im := rep.Context.InstanceMetadata; im != nil {
			got = strings.TrimSpace(string(im.Status) + " " + string(im.Error))
		}
		add("instance_metadata", e.InstanceMetadata, got)
	}
	if e.Events > 0 || len(events) > 0 {
		add("events", eventsWant(e.Events), eventsGot(events, rep))
	}
	if e.Within > 0 {
		ok := r.Wall <= e.Within
		out = append(out, Outcome{What: "time", Want: "≤ " + e.Within.String(),
			Got: r.Wall.Round(time.Millisecond).String(), OK: ok})
	}
	return out
}

// String renders an expectation the way describe renders a report entry, so the two compare.
func (w ServiceExpect) String() string {
	s := string(w.Verdict) + ", route " + w.Route
	if w.Check != "" {
		s += ", " + w.Check + " " + string(w.Error)
	} else if w.Error != "" {
		s += ", " + string(w.Error)
	}
	if w.AmazonDNS != "" {
		s += ", amazon-dns " + w.AmazonDNS
	}
	if w.Families != nil {
		s += familiesWant(w.Families)
	}
	return s
}

func describe(s report.ServiceReport) string { return describeAs(s, false) }

// describeAs renders a report entry in ServiceExpect's form; withSecond adds the second
// opinion's route.
func describeAs(s report.ServiceReport, withSecond bool) string {
	w := ServiceExpect{Verdict: s.Verdict, Route: s.Route, Error: s.Error}
	if s.Verdict == checks.Fail || s.Verdict == checks.Warn {
		for _, c := range s.Checks {
			if c.Status == s.Verdict {
				w.Check = c.Name
				break
			}
		}
	}
	if withSecond {
		w.AmazonDNS = "none"
		if s.AmazonDNS != nil {
			w.AmazonDNS = s.AmazonDNS.Route
		}
	}
	return w.String()
}

func eventsWant(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d events, one per service then the summary, of this run", n)
}

// eventsGot checks the delivered events against the report: each a JSON object with the
// report's schema and run id, "service" events first and one "summary" last.
func eventsGot(events []fakeaws.Event, rep *report.Report) string {
	if len(events) == 0 {
		return "none"
	}
	var problems []string
	for i, ev := range events {
		var doc struct {
			Schema string `json:"schema"`
			RunID  string `json:"run_id"`
			Type   string `json:"type"`
		}
		if err := json.Unmarshal([]byte(ev.Message), &doc); err != nil {
			problems = append(problems, fmt.Sprintf("event %d is not JSON", i))
			continue
		}
		want := "service"
		if i == len(events)-1 {
			want = "summary"
		}
		if doc.Schema != rep.Schema || doc.RunID != rep.RunID || doc.Type != want {
			problems = append(problems, fmt.Sprintf("event %d: schema %q run_id %q type %q", i, doc.Schema, doc.RunID, doc.Type))
		}
	}
	if len(problems) > 0 {
		return fmt.Sprintf("%d events: %s", len(events), strings.Join(problems, "; "))
	}
	return eventsWant(len(events))
}

// Met reports whether every outcome held.
func Met(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if !o.OK {
			return false
		}
	}
	return true
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validate reports a scenario whose network names unknown services or contradicts itself.
func (sc Scenario) validate() error {
	// S3 has interface endpoints too (AWS PrivateLink for Amazon S3), beside its gateway.
	known := append(interfaceKeys(), "s3")
	for _, list := range [][]string{sc.Net.Endpoints, sc.Net.PrivateDNSOff, sc.Net.SGNo443, sc.Net.ZoneDown, sc.Net.Silent} {
		for _, k := range list {
			if !slices.Contains(known, k) {
				return fmt.Errorf("lab: scenario %s: %q is not an interface endpoint service", sc.Name, k)
			}
		}
	}
	for _, k := range sc.Net.Hub {
		if !slices.Contains(known, k) || slices.Contains(sc.Net.Endpoints, k) {
			return fmt.Errorf("lab: scenario %s: hub service %q is not an interface service without an endpoint here", sc.Name, k)
		}
	}
	for k := range sc.Net.DNSFirewall {
		if _, ok := catalogue.Lookup(k); !ok {
			return fmt.Errorf("lab: scenario %s: DNS Firewall for unknown service %q", sc.Name, k)
		}
	}
	if len(sc.Net.EgressDrop) > 0 && !sc.Net.NAT {
		return fmt.Errorf("lab: scenario %s: EgressDrop without a NAT", sc.Name)
	}
	for _, list := range [][]string{sc.Net.PrivateDNSOff, sc.Net.SGNo443, sc.Net.ZoneDown, sc.Net.Silent} {
		for _, k := range list {
			if !slices.Contains(sc.Net.Endpoints, k) {
				return fmt.Errorf("lab: scenario %s: %s has no endpoint to configure", sc.Name, k)
			}
		}
	}
	return nil
}
