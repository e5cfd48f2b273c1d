package stopped

import "regexp"

// A policyKind is the kind of policy an AccessDenied message names: IAM says which one refused
// the call ("because no identity-based policy allows …", "with an explicit deny in a service
// control policy"), and the kind decides who can fix it: the role's owner, the resource's
// owner, the organization's administrators or the VPC endpoint's owner. Source: IAM User Guide,
// "Troubleshoot access denied error messages"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
type policyKind struct {
	name    string // stable, for tests: identity, identity-deny, resource, scp, rcp, vpce, boundary, session
	pattern *regexp.Regexp
	denied  string // template: what refused the call
	fix     string // template: who changes what
}

// policyKinds is the policy table, first match wins; the explicit denies and the policies
// outside the account come first, as IAM evaluates them.
var policyKinds = []policyKind{
	{"scp", rx(`explicit deny in a service control policy`),
		"an explicit deny in a service control policy of AWS Organizations refuses {action}",
		"A service control policy of the organization denies {action} to {principal}: no policy in this account can override it. Ask the organization's administrators (its management account or delegated administrator) to exempt {principal} from that SCP statement, or change what the task uses so the SCP allows it."},
	{"rcp", rx(`explicit deny in a resource control policy`),
		"an explicit deny in a resource control policy of AWS Organizations refuses {action}",
		"A resource control policy of the organization denies {action} on the resource to {principal}: only the organization's administrators (management account or delegated administrator) can change it."},
	{"vpce", rx(`(explicit deny in a|no) vpc endpoint policy`),
		"the VPC endpoint's policy refuses {action} (the path is private and works)",
		"The policy of {endpoint} must allow {action} for {principal}: whoever owns the endpoint changes it (aws ec2 modify-vpc-endpoint --vpc-endpoint-id <vpce-id> --policy-document file://policy.json)."},
	{"boundary", rx(`permissions boundary`),
		"the permissions boundary of {principal} does not allow {action}",
		"The permissions boundary attached to {principal} must allow {action}: whoever sets boundaries in this account (often a platform team) changes it; a policy attached to the role alone is not enough."},
	{"session", rx(`session policy`),
		"the session policy of {principal} does not allow {action}",
		"The session policy passed when {principal} was assumed must allow {action}."},
	{"identity-deny", rx(`explicit deny in an identity-based policy`),
		"a Deny statement in a policy attached to {principal} refuses {action}",
		"Remove or narrow the Deny statement for {action} in the policies attached to {principal} (aws iam list-attached-role-policies and list-role-policies)."},
	{"resource", rx(`(no resource-based policy allows|explicit deny in a resource-based policy)`),
		"the resource's own policy does not allow {action} for {principal}",
		"The resource's policy (repository policy, secret resource policy, bucket policy or key policy) must allow {action} for {principal}; its owner changes it (across accounts, both the role's policy and the resource's must allow it)."},
	{"identity", rx(`no identity-based policy allows`),
		"no policy attached to {principal} allows {action}",
		"Allow {action} in a policy attached to {principal} (an inline policy, or a managed one attached to it)."},
}

// policyDefault is the policy row of a denial that names no policy kind.
var policyDefault = policyKind{"unknown", nil,
	"IAM or a policy on the way refuses {action}",
	"Allow {action} in a policy attached to {principal}, and check the policy of {endpoint} and any service control policy of the organization (the denial does not say which refused it)."}

// policyOf returns the kind of policy a denial names.
func policyOf(text string) policyKind {
	for _, p := range policyKinds {
		if p.pattern.MatchString(text) {
			return p
		}
	}
	return policyDefault
}
