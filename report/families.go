package report

import "github.com/vpcprobe/vpcprobe/checks"

// Address families of Context.AddressFamilies and the keys of Families.
const (
	IPv4 = "ipv4"
	IPv6 = "ipv6"
)

// Families is what a service's checks found on each address family the task would use
// (CONTRACT.md, "IPv4 and IPv6"): a dual-stack task whose IPv6 path is black-holed while IPv4
// works reads as such. A family the run did not test is absent.
type Families struct {
	IPv4 *FamilyReport `json:"ipv4,omitempty"`
	IPv6 *FamilyReport `json:"ipv6,omitempty"`
}

// FamilyReport is one address family of one service: the addresses of that family the name
// resolved to, where they lead, and the first check that failed on them.
type FamilyReport struct {
	Status    checks.Status `json:"status"` // pass, warn (some addresses failed), fail, or skip (not tested: no address of the family)
	Addresses []string      `json:"addresses"`
	Route     string        `json:"route"`
	// NAT64 is set when the addresses are DNS64's (64:ff9b::/96): they lead through NAT64, that
	// is a NAT gateway, to an IPv4-only name.
	NAT64  bool        `json:"nat64,omitempty"`
	Check  string      `json:"check,omitempty"` // the first check that failed or warned on this family
	Error  checks.Code `json:"error,omitempty"` // its reason code
	Detail string      `json:"detail,omitempty"`
}

// Family returns the report of family f (IPv4 or IPv6), nil when it was not tested.
func (fs *Families) Family(f string) *FamilyReport {
	if fs == nil {
		return nil
	}
	switch f {
	case IPv4:
		return fs.IPv4
	case IPv6:
		return fs.IPv6
	}
	return nil
}
