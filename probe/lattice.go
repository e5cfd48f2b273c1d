package probe

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vpcprobe/vpcprobe/checks"
)

// latticeRange is where VPC Lattice answers inside a VPC: "VPC Lattice uses the link-local range
// 169.254.171.0/24" reached through the managed prefix list com.amazonaws.<region>.vpc-lattice
// (VPC Lattice User Guide, "Manage VPC associations"; AWS-NOTES "The VPC of 2026"). Traffic there
// never follows the subnet's route table to an endpoint or a NAT.
var latticeRange = netip.MustParsePrefix("169.254.171.0/24")

// LatticePath is the reason code of a service whose name leads into VPC Lattice and fails there:
// the service network or its security group, not a missing endpoint or route of the subnet (an
// extension of CONTRACT.md's codes).
const LatticePath checks.Code = "lattice-path"

// IsLattice reports whether a is a VPC Lattice address.
func IsLattice(a netip.Addr) bool { return latticeRange.Contains(a.Unmap()) }

// judgeLattice replaces the subnet's diagnosis of a failed connection when every address is VPC
// Lattice's: the subnet has no part in that path, so "create the endpoint" or "route to the hub"
// would send the user the wrong way.
func (f finding) judgeLattice(j judgement, chain []netip.Addr) judgement {
	if len(chain) == 0 || slices.ContainsFunc(chain, func(a netip.Addr) bool { return !IsLattice(a) }) {
		return j
	}
	if j.verdict != checks.Fail || (j.code != checks.Timeout && j.code != checks.Refused && j.code != checks.Unreachable && j.code != checks.TLSHandshake) {
		return j
	}
	j.code = LatticePath
	j.diagnosis = fmt.Sprintf("%s resolves to VPC Lattice (%s, in 169.254.171.0/24), and the connection failed there: the traffic goes to a Lattice service network, not through this subnet's routes or endpoints, so the subnet is not what is broken.", f.host, list(chain))
	j.remediation = fmt.Sprintf("Allow outbound TCP 443 to the prefix list com.amazonaws.%s.vpc-lattice in the task's security group; check the VPC's association with the service network (and its security groups), the service's listener and the auth policy.", f.region)
	return j
}
