package inspect

import "fmt"

// Workload is what runs in the subnet: it decides the ephemeral ports the answers to its
// connections come back to, which a stateless network ACL must let in (VPC user guide, "Network
// ACLs", ephemeral ports).
type Workload string

// Workloads. The zero value is a Linux task, the common case.
const (
	WorkloadLinux   Workload = "linux"   // a Linux task or instance: 32768-60999 (AWS's example ACL allows 32768-65535)
	WorkloadWindows Workload = "windows" // Windows Server 2008 and later: 49152-65535
	WorkloadLambda  Workload = "lambda"  // a Lambda function (and NAT gateways, ELB): 1024-65535
)

// Workloads lists the values --workload accepts.
var Workloads = []Workload{WorkloadLinux, WorkloadWindows, WorkloadLambda}

// ephemeralRanges are the client ports each workload's connections use (VPC user guide, network
// ACLs: "Linux kernels use 32768-60999", "Windows Server 2008 and later 49152-65535", "NAT
// gateways, Elastic Load Balancing and AWS Lambda 1024-65535").
var ephemeralRanges = map[Workload]portRange{
	WorkloadLinux:   {32768, 60999},
	WorkloadWindows: {49152, 65535},
	WorkloadLambda:  {1024, 65535},
}

// ParseWorkload returns the workload named s ("" is a Linux task).
func ParseWorkload(s string) (Workload, error) {
	if s == "" {
		return WorkloadLinux, nil
	}
	for _, w := range Workloads {
		if string(w) == s {
			return w, nil
		}
	}
	return "", fmt.Errorf("%q is not a workload: linux, windows or lambda", s)
}

// ephemeral returns the workload's ephemeral range and how the findings name it.
func (w Workload) ephemeral() (portRange, string) {
	if w == "" {
		w = WorkloadLinux
	}
	r := ephemeralRanges[w]
	return r, fmt.Sprintf("%s, the ephemeral ports of a %s workload", r, w)
}
