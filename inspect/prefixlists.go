package inspect

import (
	"context"
	"net/netip"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Security group rules may name a managed prefix list (pl-…) as their peer: a customer-managed
// list of the task subnets is a common way to allow 443 to the endpoints. Such a rule lets
// through what the list's entries cover, so inspect reads the entries of every list a rule of
// the VPC's groups names (GetManagedPrefixListEntries, one paginated call per list).

// readPrefixLists reads the entries of every prefix list the VPC's security group rules name,
// except the S3 list (public addresses, matched by its id). A list that cannot be read is
// recorded in unread and left out: its rules then count as allowing nothing.
func (v *vpc) readPrefixLists(ctx context.Context, c EC2API) {
	if v.groups == nil {
		return
	}
	var ids []string
	for _, g := range v.groups {
		for _, p := range slices.Concat(g.ingress, g.egress) {
			for _, l := range p.lists {
				if l != v.s3List && !slices.Contains(ids, l) {
					ids = append(ids, l)
				}
			}
		}
	}
	slices.Sort(ids)
	v.prefixLists = map[string][]netip.Prefix{}
	for _, id := range ids {
		p := ec2.NewGetManagedPrefixListEntriesPaginator(c, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(id)})
		entries := []netip.Prefix{}
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				v.unread = append(v.unread, classify("managed prefix list "+id, "ec2:GetManagedPrefixListEntries", err))
				entries = nil
				break
			}
			for _, e := range out.Entries {
				if c, err := netip.ParsePrefix(aws.ToString(e.Cidr)); err == nil {
					entries = append(entries, c)
				}
			}
		}
		if entries != nil {
			v.prefixLists[id] = entries
		}
	}
}

// peerCovers reports whether a rule's peers (its CIDRs and the entries of its prefix lists)
// include all of want, or the address addr when it is valid.
func (v *vpc) peerCovers(p perm, want netip.Prefix, addr netip.Addr) bool {
	match := func(c netip.Prefix) bool {
		return coversPrefix(c, want) || (addr.IsValid() && c.Contains(addr))
	}
	if slices.ContainsFunc(p.cidrs, match) {
		return true
	}
	for _, l := range p.lists {
		if slices.ContainsFunc(v.prefixLists[l], match) {
			return true
		}
	}
	return false
}
