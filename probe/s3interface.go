package probe

import (
	"fmt"
	"net/netip"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// S3 through an interface endpoint. A gateway endpoint is a route: through it S3's names keep
// resolving to S3's public addresses. So an S3 answer at private addresses is an S3 interface
// endpoint whose private DNS serves in-VPC names (PrivateDnsOnlyForInboundResolverEndpoint off),
// and its security group and its subnets' network ACLs decide, not the gateway. And ECR does not
// take image layers through it: "The interface endpoints for Amazon S3 can't be used with Amazon
// ECR" (ECS developer guide, "Amazon ECS interface VPC endpoints (AWS PrivateLink)").

// S3Interface is the service-level reason code of S3 answered by an S3 interface endpoint (an
// extension of CONTRACT.md's codes): the layer path ECR cannot use.
const S3Interface checks.Code = "s3-interface-endpoint"

// s3InterfaceNote is AWS's own sentence, which every S3-interface verdict carries.
const s3InterfaceNote = "ECR cannot take image layers through it: AWS says \"The interface endpoints for Amazon S3 can't be used with Amazon ECR\" (ECS developer guide, interface VPC endpoints), so image pulls need the S3 gateway endpoint."

// s3Interface re-judges S3 answered at private addresses: the interface endpoint's path, and
// why ECR needs the gateway anyway. Other services and routes are left as judged.
func (f finding) s3Interface(j judgement) judgement {
	if f.svc.Key != "s3" || f.route != report.RoutePrivate || f.proxy != "" || j.verdict == checks.Skip || !onENI(f.addrs) {
		return j
	}
	es := f.svc.EndpointService(f.region)
	fix := fmt.Sprintf("Associate the gateway endpoint %s with this subnet's route table, and turn on PrivateDnsOnlyForInboundResolverEndpoint on the S3 interface endpoint (aws ec2 modify-vpc-endpoint --vpc-endpoint-id <vpce-…> --dns-options PrivateDnsOnlyForInboundResolverEndpoint=true) so that names resolved inside the VPC go to the gateway; allow outbound TCP 443 to the prefix list %s in the task's security group.", es, es)
	what := fmt.Sprintf("%s resolves to private addresses (%s): that is an S3 interface endpoint, not the gateway endpoint (through a gateway S3 keeps its public addresses), so the interface endpoint's security group and its subnets' network ACLs decide this path.", f.host, list(f.addrs))
	r, failed := first(f.results, checks.Fail)
	switch {
	case failed && r.Name == "tcp" && r.Code == checks.Timeout:
		return judgement{verdict: checks.Fail, code: r.Code,
			diagnosis:   what + " TCP 443 to it timed out: the interface endpoint's security group or a network ACL of its subnets drops it. " + s3InterfaceNote,
			remediation: fix + fmt.Sprintf(" To keep the interface endpoint for other clients, allow inbound TCP 443 from %s in its security group.", f.from())}
	case j.verdict == checks.Fail || j.verdict == checks.Warn:
		j.diagnosis = what + " " + j.diagnosis + " " + s3InterfaceNote
		j.remediation = fix + " " + j.remediation
		return j
	}
	return judgement{verdict: checks.Warn, code: S3Interface,
		diagnosis:   what + " The probe's own request went through, but " + s3InterfaceNote,
		remediation: fix}
}

// onENI reports whether addrs could be a network interface's in a VPC: not loopback (a local
// proxy or a test world answers there; no endpoint does).
func onENI(addrs []netip.Addr) bool {
	if len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if a.IsLoopback() {
			return false
		}
	}
	return true
}
