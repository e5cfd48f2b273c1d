package join

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/report"
)

// A live failure the configuration does not explain gets the next tool: VPC Reachability
// Analyzer, which evaluates the path hop by hop with what the EC2 API does not show this join
// (a firewall's routes, the order of effects). The commands create a path from the task's
// network interface to the endpoint's (or to the service's address) for TCP 443 and start its
// analysis (aws ec2 create-network-insights-path: --source required, --destination and
// --destination-ip optional; then start-network-insights-analysis).
//
// A probe task's interface is deleted when the task stops, so the path's source is the task's
// interface when it is known (Source.ENI), else a stand-in created in the task's subnet with the
// task's security groups: Reachability Analyzer judges its groups, ACL and routes, which are the
// task's.

// Source is what the join knows of the task whose path it explains: its network interface,
// when it still exists.
type Source struct {
	ENI string
}

// reachability returns the Reachability Analyzer commands for a live failure to address addr
// (private: an interface endpoint's address inside the VPC), or nil when no address was measured.
func reachability(rep *inspect.Report, src Source, addr string, private bool) []string {
	a, err := netip.ParseAddr(addr)
	if err != nil || rep.SubnetID == "" {
		return nil
	}
	r := rep.Region
	var cmds []string
	source := src.ENI
	if source == "" {
		groups := ""
		if len(rep.SecurityGroups) > 0 {
			groups = " --groups " + strings.Join(rep.SecurityGroups, " ")
		}
		cmds = append(cmds, fmt.Sprintf("SRC=$(aws ec2 create-network-interface --region %s --subnet-id %s%s --description vpcprobe-reachability --query NetworkInterface.NetworkInterfaceId --output text)", r, rep.SubnetID, groups))
		source = `"$SRC"`
	}
	dest := "--destination-ip " + a.String()
	if private {
		cmds = append(cmds, fmt.Sprintf("DST=$(aws ec2 describe-network-interfaces --region %s --filters Name=vpc-id,Values=%s Name=addresses.private-ip-address,Values=%s --query 'NetworkInterfaces[0].NetworkInterfaceId' --output text)", r, rep.VPCID, a))
		dest = `--destination "$DST"`
	}
	cmds = append(cmds,
		fmt.Sprintf("PATH_ID=$(aws ec2 create-network-insights-path --region %s --source %s %s --protocol tcp --destination-port 443 --query NetworkInsightsPath.NetworkInsightsPathId --output text)", r, source, dest),
		fmt.Sprintf(`aws ec2 start-network-insights-analysis --region %s --network-insights-path-id "$PATH_ID"`, r))
	if src.ENI == "" {
		cmds = append(cmds, fmt.Sprintf(`aws ec2 delete-network-interface --region %s --network-interface-id "$SRC"   # after the analysis: the stand-in for the task's interface`, r))
	}
	return cmds
}

// firstAddress is the first address a live service resolved to, and whether it is private
// (the route the probe judged).
func firstAddress(sr report.ServiceReport) (string, bool) {
	if len(sr.Addresses) == 0 {
		return "", false
	}
	return sr.Addresses[0], sr.Route == report.RoutePrivate
}
