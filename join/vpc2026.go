package join

import (
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/probe"
	"github.com/vpcprobe/vpcprobe/report"
)

// The join rules of the VPC of 2026 (issue 19): what DNS Firewall, Block Public Access, a hub
// VPC's endpoints and zones, and a firewall on the way out explain of a live failure.
var (
	// dnsFirewallCodes answer an AWS name NXDOMAIN, NODATA, SERVFAIL (failing closed) or a CNAME
	// to an override, for both resolvers alike.
	dnsFirewallCodes = []string{inspect.CodeDNSFirewallBlocks, inspect.CodeDNSFirewallUnread, inspect.CodeDNSFirewallFailClosed}
	// egressCodes close or filter the way out through a NAT or internet gateway.
	egressCodes = []string{inspect.CodeBPABlocksNAT, inspect.CodeBPABlocksIGW, inspect.CodeBPAOwner,
		inspect.CodeNFWBlocks, inspect.CodeNFWUnseen, inspect.CodeNFWUnevaluated}
	// firewallCodes drop TLS to a name on the way out after TCP connected (or reset it).
	firewallCodes = []string{inspect.CodeNFWBlocks, inspect.CodeNFWUnseen, inspect.CodeNFWUnevaluated}
	// hubCodes explain a private answer outside the VPC (a hub's endpoint) that does not connect.
	hubCodes = []string{inspect.CodeHubNoRoute, inspect.CodeHubSGIngress, inspect.CodeHubZone, inspect.CodeSharedVPC}
)

// rules2026 are added to joinRules.
var rules2026 = []joinRule{
	// A blocked name: NXDOMAIN, NODATA, SERVFAIL.
	{check: "dns", errs: dnsErrs, codes: dnsFirewallCodes},
	// A CNAME override leads to an address that does not answer, or to a certificate for
	// another name.
	{check: "tcp", errs: connectErrs, codes: []string{inspect.CodeDNSFirewallBlocks}},
	{check: "tls", errs: []checks.Code{checks.TLSHostname, checks.TLSUntrusted}, codes: []string{inspect.CodeDNSFirewallBlocks}},
	// A public address that times out or is refused: Block Public Access closed the NAT or
	// the internet gateway, a firewall on the way out dropped it; the hub's zone is missing, or
	// the hub's S3 gateway does not serve this VPC.
	{check: "tcp", route: report.RoutePublic, errs: connectErrs, codes: append(append([]string{}, egressCodes...), inspect.CodeHubNoZone, inspect.CodeHubGateway)},
	// A domain list drops TLS once it sees the SNI: the handshake times out or is reset.
	{check: "tls", route: report.RoutePublic, codes: firewallCodes},
	// An image layer download that gets no answer (or a reset): the same, for the layer bucket.
	{check: "layer", errs: []checks.Code{checks.Timeout, checks.Refused, checks.Unreachable, checks.TLSHandshake},
		codes: append(append([]string{}, egressCodes...), inspect.CodeHubGateway)},
	// A hub's private address that does not connect: no route to the hub, its endpoint's group.
	{check: "tcp", route: report.RoutePrivate, errs: connectErrs, codes: hubCodes},
	// Reached over public addresses although a hub serves the name: its zone is not associated.
	{errs: []checks.Code{probe.PublicRoute}, codes: []string{inspect.CodeHubNoZone, inspect.CodeHubGateway}},
}

func init() { joinRules = append(joinRules, rules2026...) }
