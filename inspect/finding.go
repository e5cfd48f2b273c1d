package inspect

import (
	"slices"

	"github.com/vpcprobe/vpcprobe/report"
)

// Severity of a finding: report.Severity (fail, warn, info), named here so that inspect's rules
// and their readers keep writing inspect.Fail.
type Severity = report.Severity

// Severities, as CONTRACT.md spells them.
const (
	Fail = report.SeverityFail
	Warn = report.SeverityWarn
	Info = report.SeverityInfo
)

// Finding is one thing in the VPC's configuration that breaks or bypasses a service's path: the
// one finding value of report, which the join and the probe's text share. Its Fix, when set, is
// an *Fix (fixOf reads it).
type Finding = report.Finding

// fixOf returns f's fix as inspect made it, or nil.
func fixOf(f Finding) *Fix {
	x, _ := f.Fix.(*Fix)
	return x
}

// Code describes one finding code: its usual severity and what it means. Severity is the one
// the code carries when the path has no other way out; some codes drop to warn when a NAT or
// internet gateway still carries the traffic (see each rule).
type Code struct {
	Code     string
	Severity Severity
	What     string
}

// Finding codes. They are stable: add, never rename.
const (
	CodeEndpointMissing      = "endpoint-missing"
	CodeEndpointViaNAT       = "endpoint-missing-nat"
	CodeEndpointViaIGW       = "endpoint-missing-igw"
	CodeEndpointCentral      = "endpoint-maybe-central"
	CodeEndpointNotAvailable = "endpoint-not-available"
	CodePrivateDNSOff        = "endpoint-private-dns-off"
	// CodeNoFIPSEndpoint: the FIPS host the application calls has no VPC endpoint service.
	CodeNoFIPSEndpoint  = "endpoint-no-fips-service"
	CodeEndpointOtherAZ = "endpoint-other-az"
	CodeDNSSupportOff   = "vpc-dns-support-off"
	CodeDNSHostnamesOff = "vpc-dns-hostnames-off"
	CodeDHCPCustomDNS   = "dhcp-custom-dns"
	CodeResolverForward = "resolver-forward-rule"
	// CodeResolverForwardPublic: a FORWARD rule covers a name no endpoint here serves.
	CodeResolverForwardPublic = "resolver-forward-no-endpoint"
	CodeSGEndpointIngress     = "sg-endpoint-no-ingress-443"
	CodeSGTaskEgress          = "sg-task-no-egress-443"
	CodeSGTaskEgressS3        = "sg-task-no-egress-s3"
	CodeS3GatewayMissing      = "s3-gateway-missing"
	CodeS3RouteMissing        = "s3-gateway-route-missing"
	CodeS3PolicyDenies        = "s3-gateway-policy-denies-layer-bucket"
	// CodeS3InterfaceLayers: an S3 interface endpoint answers the layer bucket's name inside the VPC.
	CodeS3InterfaceLayers = "s3-interface-endpoint-takes-layers"
	CodePolicyCustom      = "endpoint-policy-custom"
	CodeRouteNAT          = "route-nat"
	CodeRouteIGW          = "route-igw"
	CodeRouteBlackhole    = "route-blackhole"
	CodeACLTaskOut        = "nacl-task-blocks-443-out"
	CodeACLTaskIn         = "nacl-task-blocks-ephemeral-in"
	CodeACLEndpointIn     = "nacl-endpoint-blocks-443-in"
	CodeACLEndpointOut    = "nacl-endpoint-blocks-ephemeral-out"
	// CodeACLEphemeralNarrow: the ACL lets the workload's ephemeral ports through, not all of
	// 1024-65535 (a Lambda function's).
	CodeACLEphemeralNarrow = "nacl-ephemeral-narrower-than-lambda"
	CodePermission         = "permission-denied"
	// CodeSubnetFewAddresses: the task subnet has fewer free addresses than a few tasks need.
	CodeSubnetFewAddresses = "subnet-few-free-addresses"
	CodeReadFailed         = "read-failed"
)

// Codes lists every finding code in report order (the order findings are sorted in).
var Codes = []Code{
	{CodePermission, Warn, "a kind of configuration could not be read: the IAM action is named; its checks were skipped"},
	{CodeReadFailed, Warn, "a kind of configuration could not be read (API error); its checks were skipped"},
	{CodeDNSSupportOff, Fail, "the VPC's enableDnsSupport is off: the Amazon resolver does not answer"},
	{CodeDNSHostnamesOff, Fail, "the VPC's enableDnsHostnames is off: interface endpoints' private DNS does not work"},
	{CodeDHCPCustomDNS, Warn, "the DHCP option set names custom DNS servers: they must forward AWS names to the VPC resolver"},
	{CodeResolverForward, Fail, "a Route 53 Resolver FORWARD rule for the same or a more specific name than the endpoint's private zone wins over it"},
	{CodeResolverForwardPublic, Warn, "a Route 53 Resolver FORWARD rule (\".\", amazonaws.com, …) decides who resolves a name no endpoint here serves"},
	{CodeDNSFirewallBlocks, Fail, "a Route 53 Resolver DNS Firewall rule blocks the service's name (NODATA, NXDOMAIN or a CNAME override); the Amazon resolver agrees"},
	{CodeDNSFirewallUnread, Warn, "a DNS Firewall rule's domain list could not be read (AWS-managed or denied) and may block the service's name"},
	{CodeBPABlocksNAT, Fail, "VPC Block Public Access (bidirectional) blocks the NAT gateway's way out: its subnet is not excluded"},
	{CodeBPABlocksIGW, Fail, "VPC Block Public Access blocks the internet gateway route, even for a task with a public IP"},
	{CodeNFWBlocks, Fail, "AWS Network Firewall on the way out drops TLS to the service's host (a domain list without it)"},
	{CodeEndpointMissing, Fail, "no interface endpoint for the service and no other way out of the subnet"},
	{CodeEndpointViaNAT, Warn, "no interface endpoint: the traffic leaves through a NAT gateway (paid per GB)"},
	{CodeEndpointViaIGW, Warn, "no interface endpoint: only a task with a public IP reaches the service (a Lambda function never does)"},
	{CodeEndpointCentral, Warn, "no endpoint here but a transit gateway or peering route: the endpoint may live in a hub VPC"},
	{CodeNoFIPSEndpoint, Fail, "the application uses FIPS endpoints and AWS has no FIPS endpoint service for the service: its FIPS host is reached only at public addresses (warn with a NAT)"},
	{CodeHubNoZone, Fail, "a hub VPC's endpoint serves the service, but no private hosted zone for its name is associated with this VPC (warn: no hub endpoint seen)"},
	{CodeHubNoRoute, Fail, "a private hosted zone answers the hub's endpoint, but the subnet has no route to the hub through a transit gateway or peering"},
	{CodeHubSGIngress, Fail, "the hub endpoint's security groups do not allow TCP 443 from this VPC"},
	{CodeHubGateway, Fail, "a hub VPC's S3 gateway (or S3 interface) endpoint does not serve this VPC: image layers need a gateway endpoint here"},
	{CodeCrossRegionMissing, Fail, "the task needs a service of another region and no cross-region interface endpoint serves it (warn: a NAT carries it)"},
	{CodeCrossRegionUnsupported, Fail, "the task needs a service of another region that cross-region PrivateLink does not serve (warn: a NAT carries it)"},
	{CodeCrossRegionLayers, Fail, "an image from another region's registry downloads layers from that region's bucket, which nothing serves privately (warn: a NAT carries it)"},
	{CodeEndpointNotAvailable, Fail, "the interface endpoint exists but is not available"},
	{CodePrivateDNSOff, Fail, "the interface endpoint has private DNS off: the service name resolves to public addresses"},
	{CodeEndpointOtherAZ, Warn, "the interface endpoint has no network interface in the task's zone: traffic crosses zones"},
	{CodeS3GatewayMissing, Fail, "no S3 gateway endpoint: image layers cannot be downloaded privately"},
	{CodeS3RouteMissing, Fail, "the S3 gateway endpoint is not on the subnet's route table"},
	{CodeS3InterfaceLayers, Fail, "an S3 interface endpoint's private DNS answers inside the VPC (PrivateDnsOnlyForInboundResolverEndpoint off): layer downloads go to it, which ECR cannot use"},
	{CodeS3PolicyDenies, Fail, "the S3 gateway endpoint's policy does not allow the ECR layer bucket"},
	{CodePolicyCustom, Info, "the endpoint's policy is not the default full access: what it allows"},
	{CodeSGEndpointIngress, Fail, "the endpoint's security groups do not allow inbound TCP 443 from the task"},
	{CodeSGTaskEgress, Fail, "the task's security groups do not allow outbound TCP 443 to the endpoint"},
	{CodeSGTaskEgressS3, Fail, "the task's security groups do not allow outbound TCP 443 to the S3 prefix list"},
	{CodeACLTaskOut, Fail, "the task subnet's network ACL blocks outbound TCP 443"},
	{CodeACLTaskIn, Fail, "the task subnet's network ACL blocks the answers (inbound TCP on the workload's ephemeral ports: Linux 32768-60999, Windows 49152-65535, Lambda 1024-65535)"},
	{CodeACLEndpointIn, Fail, "the endpoint subnet's network ACL blocks inbound TCP 443 from the task"},
	{CodeACLEndpointOut, Fail, "the endpoint subnet's network ACL blocks the answers (outbound TCP on the workload's ephemeral ports) to the task"},
	{CodeACLEphemeralNarrow, Info, "the network ACL lets the workload's ephemeral ports through but not all of 1024-65535: a Lambda function there would fail"},
	{CodeSubnetFewAddresses, Warn, "the task subnet has fewer free addresses than a few tasks need (none: a fail, SubnetOutOfIPAddresses)"},
	{CodeRouteBlackhole, Fail, "a route of the subnet's table is a blackhole (its target was deleted)"},
	{CodeRouteNAT, Warn, "0.0.0.0/0 goes through a NAT gateway: AWS traffic without an endpoint pays per GB"},
	{CodeRouteIGW, Warn, "0.0.0.0/0 goes to an internet gateway: only tasks with a public IP get out"},
	{CodeNFWUnseen, Warn, "the way out crosses a firewall endpoint (or a transit gateway to an inspection VPC, info) whose rules could not be read"},
	{CodeNFWUnevaluated, Warn, "the firewall on the way out has rule groups that are not domain lists, or unreadable ones: not evaluated"},
	{CodeBPAOwner, Warn, "a shared VPC follows its owner's Block Public Access setting, which this account cannot read"},
	{CodeSharedVPC, Warn, "a shared VPC's owner's security groups are not readable from this account: the endpoints' ingress was not judged"},
	{CodeHubZone, Info, "the service is answered by a private hosted zone associated with this VPC and served by a hub's endpoint"},
	{CodeCrossRegionEndpoint, Info, "a cross-region interface endpoint serves the service of another region"},
	{CodeDNSFirewallFailClosed, Info, "DNS Firewall is associated with fail-open off: when it cannot evaluate a query every name answers SERVFAIL"},
}

// codeRank orders findings as Codes does.
func codeRank(code string) int {
	return slices.IndexFunc(Codes, func(c Code) bool { return c.Code == code })
}

// Report is what inspect says of one subnet: the VPC's configuration as it bears on the paths of
// the services a task there needs.
type Report struct {
	Schema         string    `json:"schema"`
	Region         string    `json:"region"`
	VPCID          string    `json:"vpc_id"`
	SubnetID       string    `json:"subnet_id"`
	AZ             string    `json:"availability_zone,omitempty"`
	SubnetCIDR     string    `json:"subnet_cidr,omitempty"`
	SubnetIPv6CIDR string    `json:"subnet_ipv6_cidr,omitempty"` // the first IPv6 CIDR block (families.go)
	SecurityGroups []string  `json:"security_groups"`
	Services       []string  `json:"services"`
	Findings       []Finding `json:"findings"`
}

// Schema names the JSON document's version.
const Schema = "vpcprobe-inspect/v1"

// Failed reports whether any finding is a fail.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity == Fail })
}

// For returns the findings that bear on service key, in report order.
func (r *Report) For(key string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Affects(key) {
			out = append(out, f)
		}
	}
	return out
}
