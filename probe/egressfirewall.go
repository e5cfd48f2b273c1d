package probe

import (
	"fmt"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// egressFirewallShape names a firewall on the way out as the likely cause when TCP 443 to an AWS
// name's public addresses connected and the TLS handshake then never completed: the shape of an
// AWS Network Firewall stateful domain list (or another firewall filtering by the ClientHello's
// server name) without that name, which lets the TCP handshake through and drops the flow once it
// reads the SNI (Network Firewall developer guide, domain list rule groups: "For HTTPS traffic,
// domain filtering is SNI-based"). Through a proxy, or to private addresses, it says nothing.
func (f finding) egressFirewallShape(j judgement) judgement {
	if j.verdict != checks.Fail || j.code != checks.TLSHandshake || f.route != report.RoutePublic || f.proxy != "" || !awsName(f.host, f.region) {
		return j
	}
	if r, ok := first(f.results, checks.Fail); !ok || r.Name != "tls" {
		return j
	}
	j.diagnosis = fmt.Sprintf("TCP 443 to %s's public addresses (%s) connected, and the TLS handshake then never completed: the shape of a firewall on the way out that filters by server name — an AWS Network Firewall domain allow list without %s, in this VPC or an inspection VPC — dropping the flow once it reads the ClientHello. %s",
		f.host, list(f.addrs), f.host, j.diagnosis)
	j.remediation = fmt.Sprintf("Add %s to the egress firewall's allow list (vpcprobe inspect names the rule group: network-firewall-blocks-domain), or create the endpoint %s here so the traffic never crosses it. %s",
		f.host, f.svc.EndpointService(f.region), j.remediation)
	return j
}
