package inspect

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Finding codes of VPC Block Public Access.
const (
	CodeBPABlocksNAT = "bpa-blocks-nat"
	CodeBPABlocksIGW = "bpa-blocks-igw"
	CodeBPAOwner     = "bpa-owner-setting-unread"
)

// egress is what lies beyond the subnet's route table on the way out: the NAT gateways' subnets
// and the account's Block Public Access setting.
type egress struct {
	nats           map[string]string // nat-… → the subnet it lives in; nil: not read
	bpa            *bpaOptions       // nil: not read
	exclusions     []bpaExclusion
	exclusionsRead bool
}

// bpaOptions is the account's VPC Block Public Access setting in the region.
type bpaOptions struct {
	mode              ec2types.InternetGatewayBlockMode
	exclusionsAllowed bool
	account           string // the account the setting is of: the caller's
	managedBy         string
}

// bpaExclusion is one exclusion from Block Public Access: a VPC or a subnet.
type bpaExclusion struct {
	id, resource string // resource: vpc-… or subnet-…
	mode         ec2types.InternetGatewayExclusionMode
}

// readEgress reads the VPC's NAT gateways (DescribeNatGateways) and the account's Block Public
// Access options and exclusions. What fails is recorded in v.unread and left nil.
func readEgress(ctx context.Context, api EgressAPI, v *vpc) *egress {
	fail := func(kind, action string, err error) { v.unread = append(v.unread, classify(kind, action, err)) }
	e := &egress{}
	np := ec2.NewDescribeNatGatewaysPaginator(api, &ec2.DescribeNatGatewaysInput{Filter: vpcFilter(v.id)})
	e.nats = map[string]string{}
	for np.HasMorePages() {
		out, err := np.NextPage(ctx)
		if err != nil {
			fail("NAT gateways", "ec2:DescribeNatGateways", err)
			e.nats = nil
			break
		}
		for _, n := range out.NatGateways {
			e.nats[aws.ToString(n.NatGatewayId)] = aws.ToString(n.SubnetId)
		}
	}
	out, err := api.DescribeVpcBlockPublicAccessOptions(ctx, &ec2.DescribeVpcBlockPublicAccessOptionsInput{})
	if err != nil {
		fail("VPC Block Public Access options", "ec2:DescribeVpcBlockPublicAccessOptions", err)
		return e
	}
	if o := out.VpcBlockPublicAccessOptions; o != nil {
		e.bpa = &bpaOptions{mode: o.InternetGatewayBlockMode, account: aws.ToString(o.AwsAccountId), managedBy: string(o.ManagedBy),
			// exclusionsAllowed is "allowed" or "not-allowed" (a declarative policy can forbid them).
			exclusionsAllowed: o.ExclusionsAllowed != ec2types.VpcBlockPublicAccessExclusionsAllowedNotAllowed}
	}
	if e.bpa == nil || e.bpa.mode == "" || e.bpa.mode == ec2types.InternetGatewayBlockModeOff {
		return e
	}
	var token *string
	for {
		page, err := api.DescribeVpcBlockPublicAccessExclusions(ctx, &ec2.DescribeVpcBlockPublicAccessExclusionsInput{NextToken: token})
		if err != nil {
			fail("VPC Block Public Access exclusions", "ec2:DescribeVpcBlockPublicAccessExclusions", err)
			return e
		}
		for _, x := range page.VpcBlockPublicAccessExclusions {
			switch x.State {
			case ec2types.VpcBlockPublicAccessExclusionStateCreateComplete, ec2types.VpcBlockPublicAccessExclusionStateUpdateComplete,
				ec2types.VpcBlockPublicAccessExclusionStateUpdateInProgress:
			default:
				continue // being created, deleted, disabled, or failed: it does not apply
			}
			arn := aws.ToString(x.ResourceArn)
			e.exclusions = append(e.exclusions, bpaExclusion{id: aws.ToString(x.ExclusionId), resource: arn[strings.LastIndex(arn, "/")+1:], mode: x.InternetGatewayExclusionMode})
		}
		if token = page.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	e.exclusionsRead = true
	return e
}

// blocks reports whether Block Public Access stops traffic that subnet (of vpc) sends out through
// an internet gateway. Both modes do: block-ingress allows only NAT gateways' and egress-only
// internet gateways' traffic (EC2 API reference, BlockPublicAccessStates), so a public IP's own
// traffic is blocked as in block-bidirectional; an exclusion of the subnet or its VPC, either mode
// (allow-egress or allow-bidirectional), lets it out, unless exclusions are not allowed. known is
// false when the exclusions could not be read.
func (e *egress) blocks(vpcID, subnet string, natSubnet bool) (blocked, known bool, excl string) {
	if e == nil || e.bpa == nil || e.bpa.mode == "" || e.bpa.mode == ec2types.InternetGatewayBlockModeOff {
		return false, e != nil && e.bpa != nil, ""
	}
	if natSubnet && e.bpa.mode != ec2types.InternetGatewayBlockModeBlockBidirectional {
		return false, true, "" // block-ingress lets NAT gateways' traffic through
	}
	if !e.bpa.exclusionsAllowed {
		return true, true, ""
	}
	if !e.exclusionsRead {
		return false, false, ""
	}
	for _, x := range e.exclusions {
		if x.resource == vpcID || (subnet != "" && x.resource == subnet) {
			return false, true, x.id
		}
	}
	return true, true, ""
}

// blockPublicAccess explains a way out that Block Public Access closes: a NAT gateway whose
// subnet is not excluded in block-bidirectional mode (the NAT's own subnet routes through the
// internet gateway), or an internet gateway route in either mode. The findings that counted on
// that way out (endpoint-missing-nat, endpoint-missing-igw, and S3's) become fails.
func (c *check) blockPublicAccess() {
	e := c.v.x.egress
	if e == nil || e.bpa == nil || e.bpa.mode == "" || e.bpa.mode == ec2types.InternetGatewayBlockModeOff {
		return
	}
	all := keys(c.services, nil)
	if e.bpa.account != "" && c.v.owner != "" && e.bpa.account != c.v.owner {
		// A shared (RAM) subnet follows the owner's setting, which this account cannot read.
		c.add(Finding{Services: all, Severity: Warn, Code: CodeBPAOwner, Resources: []string{c.v.id, c.sub.id},
			Diagnosis: fmt.Sprintf("%s belongs to account %s and is shared with this account (%s): Block Public Access follows the owner's setting, which this account cannot read (its own is %s), so whether a NAT or internet gateway still carries traffic was not judged",
				c.v.id, c.v.owner, e.bpa.account, e.bpa.mode),
			Remediation: fmt.Sprintf("ask the owner of %s (account %s) for its Block Public Access mode and exclusions (aws ec2 describe-vpc-block-public-access-options), or run inspect with its credentials", c.v.id, c.v.owner)})
		return
	}
	mode := string(e.bpa.mode)
	noExcl := ""
	if !e.bpa.exclusionsAllowed {
		noExcl = fmt.Sprintf(" and exclusions are not allowed (managed by %s)", cmpOr(e.bpa.managedBy, "the account"))
	}
	var code, via, what string
	var res []string
	switch {
	case c.out.kind == exitNAT && strings.HasPrefix(c.out.via, "nat-"):
		natSub := ""
		if e.nats != nil {
			natSub = e.nats[c.out.via]
		}
		blocked, known, _ := e.blocks(c.v.id, natSub, true)
		if !blocked || !known || (natSub == "" && e.bpa.exclusionsAllowed && len(e.exclusions) > 0) {
			return
		}
		code, via = CodeBPABlocksNAT, c.out.via
		res = nonEmpty(c.out.via, natSub, c.v.id)
		what = fmt.Sprintf("VPC Block Public Access is %s in %s%s: it blocks traffic through internet gateways, and %s's own subnet %s routes through one, so the NAT gateway carries nothing: a timeout through %s is this", mode, c.v.region, noExcl, c.out.via, cmpOr(natSub, "(not read)"), c.out.via)
		fix := "create the interface endpoints and the S3 gateway endpoint the findings name: no NAT path can exist while exclusions are not allowed"
		cmd := ""
		if e.bpa.exclusionsAllowed && natSub != "" {
			fix = fmt.Sprintf("exclude the NAT gateway's subnet %s from Block Public Access (allow-egress), or create the endpoints the findings name", natSub)
			cmd = fmt.Sprintf("aws ec2 create-vpc-block-public-access-exclusion --region %s --subnet-id %s --internet-gateway-exclusion-mode allow-egress", c.v.region, natSub)
		}
		c.add(Finding{Services: all, Severity: Fail, Code: code, Resources: res, Diagnosis: what, Remediation: fix, Command: cmd})
	case c.out.kind == exitIGW:
		blocked, known, _ := e.blocks(c.v.id, c.sub.id, false)
		if !blocked || !known {
			return
		}
		code, via = CodeBPABlocksIGW, c.out.via
		what = fmt.Sprintf("VPC Block Public Access is %s in %s%s: a task's traffic through internet gateway %s is blocked even with a public IP (only NAT gateways and egress-only internet gateways pass in block-ingress mode)", mode, c.v.region, noExcl, c.out.via)
		fix, cmd := "create the interface endpoints and the S3 gateway endpoint the findings name", ""
		if e.bpa.exclusionsAllowed {
			fix = fmt.Sprintf("exclude %s from Block Public Access (allow-egress), or create the endpoints the findings name", c.sub.id)
			cmd = fmt.Sprintf("aws ec2 create-vpc-block-public-access-exclusion --region %s --subnet-id %s --internet-gateway-exclusion-mode allow-egress", c.v.region, c.sub.id)
		}
		c.add(Finding{Services: all, Severity: Fail, Code: code, Resources: nonEmpty(c.out.via, c.sub.id, c.v.id), Diagnosis: what, Remediation: fix, Command: cmd})
	default:
		return
	}
	// What counted on that way out has none.
	for i := range c.findings {
		f := &c.findings[i]
		switch f.Code {
		case CodeEndpointViaNAT, CodeEndpointViaIGW, CodeS3GatewayMissing, CodeS3RouteMissing, CodeSGEndpointIngress, CodeSGTaskEgress:
			if f.Severity == Warn && f.Service != "" {
				f.Severity = Fail
				f.Diagnosis += fmt.Sprintf("; and %s carries nothing: VPC Block Public Access (%s) blocks it (%s)", via, mode, code)
			}
		}
	}
}
