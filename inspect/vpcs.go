package inspect

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Placed is one subnet's report with the parts of its place that its report does not carry: the
// route table and network ACL that apply to it (explicit or the VPC's main table and default
// ACL; empty when they could not be read). A fleet groups subnets by them.
type Placed struct {
	Report     *Report
	RouteTable string
	NetworkACL string
}

// VPC inspects every subnet of VPC vpcID for tasks with security groups sgIDs (empty: the VPC's
// default group), reading the VPC once (one call per kind, as Subnets does), so that a VPC of
// fifty subnets costs what one subnet does. Subnets come in the order of their ids; a VPC
// without subnets answers none. The error, wrapping ErrUnreadable, means the subnets could not
// be read.
func VPC(ctx context.Context, c Clients, vpcID string, sgIDs []string, services []catalogue.Service) ([]Placed, error) {
	v, err := readVPC(ctx, c, vpcID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(v.subnets))
	for id := range v.subnets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Placed, 0, len(ids))
	for _, id := range ids {
		p := Placed{Report: v.inspect(Target{SubnetID: id, SecurityGroups: sgIDs}, services)}
		if t, ok := v.tableOf(id); ok && v.tablesRead {
			p.RouteTable = aws.ToString(t.RouteTableId)
		}
		if a, ok := v.aclOf(id); ok && v.aclsRead {
			p.NetworkACL = aws.ToString(a.NetworkAclId)
		}
		out = append(out, p)
	}
	return out, nil
}

// Shape is what makes two subnets of a fleet behave alike for a probe: the same VPC, zone, route
// table, network ACL and security groups, and the same findings once each subnet's own id is
// left out of their resources (ACL and security group rules can name CIDRs, so the findings must
// agree too). Subnets of one Shape need one live probe between them.
func (p Placed) Shape() string {
	r := p.Report
	var b strings.Builder
	groups := slices.Clone(r.SecurityGroups)
	slices.Sort(groups)
	b.WriteString(strings.Join([]string{r.Region, r.VPCID, r.AZ, p.RouteTable, p.NetworkACL, strings.Join(groups, ",")}, "|"))
	for _, f := range r.Findings {
		res := slices.DeleteFunc(slices.Clone(f.Resources), func(s string) bool { return s == r.SubnetID })
		b.WriteString("\n" + strings.Join([]string{f.Service, strings.Join(f.Services, ","), string(f.Severity), f.Code, strings.Join(res, ",")}, "|"))
	}
	return b.String()
}
