package inspect

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// strings1 is an IAM policy field that is one string or a list of them.
type strings1 []string

func (s *strings1) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// statement is one statement of an endpoint policy. Principal is kept raw: "*" or {"AWS": …}.
type statement struct {
	Effect      string          `json:"Effect"`
	Principal   json.RawMessage `json:"Principal"`
	Action      strings1        `json:"Action"`
	NotAction   strings1        `json:"NotAction"`
	Resource    strings1        `json:"Resource"`
	NotResource strings1        `json:"NotResource"`
	Condition   json.RawMessage `json:"Condition"`
}

// policyDoc is an endpoint policy; Statement may be one object or a list.
type policyDoc struct {
	Statement []statement
}

func (p *policyDoc) UnmarshalJSON(b []byte) error {
	var raw struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var one statement
	if len(raw.Statement) > 0 && raw.Statement[0] == '{' {
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return err
		}
		p.Statement = []statement{one}
		return nil
	}
	return json.Unmarshal(raw.Statement, &p.Statement)
}

// parsePolicy reads an endpoint's policy document, which EC2 may return URL-encoded.
func parsePolicy(doc string) (policyDoc, error) {
	var p policyDoc
	if strings.HasPrefix(doc, "%7B") || strings.HasPrefix(doc, "%7b") {
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = d
		}
	}
	err := json.Unmarshal([]byte(doc), &p)
	return p, err
}

// fullAccess reports whether the policy is the default: one Allow of everything to everyone.
func (p policyDoc) fullAccess() bool {
	for _, s := range p.Statement {
		if s.Effect == "Allow" && isStar(s.Principal) && len(s.NotAction) == 0 && len(s.NotResource) == 0 &&
			len(s.Condition) == 0 && len(s.Action) == 1 && s.Action[0] == "*" && len(s.Resource) == 1 && s.Resource[0] == "*" {
			return !p.denies()
		}
	}
	return false
}

func (p policyDoc) denies() bool {
	for _, s := range p.Statement {
		if s.Effect == "Deny" {
			return true
		}
	}
	return false
}

func isStar(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var m map[string]strings1
	if json.Unmarshal(raw, &m) == nil {
		return len(m["AWS"]) == 1 && m["AWS"][0] == "*"
	}
	return len(raw) == 0
}

// summary says in one line what the policy allows and denies.
func (p policyDoc) summary() string {
	var parts []string
	for _, s := range p.Statement {
		verb := "allows"
		if s.Effect == "Deny" {
			verb = "denies"
		}
		acts, res := strings.Join(s.Action, ", "), strings.Join(s.Resource, ", ")
		if len(s.NotAction) > 0 {
			acts = "everything but " + strings.Join(s.NotAction, ", ")
		}
		if len(s.NotResource) > 0 {
			res = "everything but " + strings.Join(s.NotResource, ", ")
		}
		part := fmt.Sprintf("%s %s on %s", verb, cmpOr(acts, "nothing"), cmpOr(res, "nothing"))
		if !isStar(s.Principal) {
			part += " to principals " + string(s.Principal)
		}
		if len(s.Condition) > 0 {
			part += " when " + string(s.Condition)
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "allows nothing"
	}
	return strings.Join(parts, "; ")
}

// allows reports whether some Allow statement covers action on resource and no Deny does.
// Conditions are not evaluated: an Allow under a condition counts as an allow.
func (p policyDoc) allows(action, resource string) bool {
	allowed := false
	for _, s := range p.Statement {
		if !s.matches(action, resource) {
			continue
		}
		if s.Effect == "Deny" {
			if len(s.Condition) == 0 {
				return false
			}
			continue
		}
		if s.Effect == "Allow" {
			allowed = true
		}
	}
	return allowed
}

func (s statement) matches(action, resource string) bool {
	anyOf := func(pats []string, v string) bool {
		for _, p := range pats {
			if glob(strings.ToLower(p), strings.ToLower(v)) {
				return true
			}
		}
		return false
	}
	actOK := anyOf(s.Action, action) || (len(s.NotAction) > 0 && !anyOf(s.NotAction, action))
	resOK := anyOf(s.Resource, resource) || (len(s.NotResource) > 0 && !anyOf(s.NotResource, resource))
	return actOK && resOK
}

// glob matches IAM wildcards: * any run of characters (':' and '/' included), ? one character.
func glob(pat, s string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if glob(pat[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pat[0] {
				return false
			}
		}
		pat, s = pat[1:], s[1:]
	}
	return s == ""
}

// policy reports an endpoint policy that is not the default full access, and an S3 gateway
// policy that does not let image layers through.
func (c *check) policy(s catalogue.Service, e ec2types.VpcEndpoint) {
	doc := aws.ToString(e.PolicyDocument)
	if doc == "" {
		return
	}
	id := aws.ToString(e.VpcEndpointId)
	p, err := parsePolicy(doc)
	if err != nil {
		c.add(Finding{Service: s.Key, Severity: Warn, Code: CodePolicyCustom, Resources: []string{id},
			Diagnosis:   fmt.Sprintf("the policy of endpoint %s could not be read as JSON (%v)", id, err),
			Remediation: fmt.Sprintf("check it: `aws ec2 describe-vpc-endpoints --vpc-endpoint-ids %s --query 'VpcEndpoints[0].PolicyDocument'`", id)})
		return
	}
	if p.fullAccess() {
		return
	}
	layer := catalogue.LayerBucketARN(c.v.region)
	if s.Gateway && !p.allows("s3:GetObject", layer) {
		c.add(Finding{Service: s.Key, Severity: Fail, Code: CodeS3PolicyDenies, Resources: []string{id},
			Diagnosis:   fmt.Sprintf("the policy of S3 gateway endpoint %s does not allow s3:GetObject on %s, so every image pull fails with 403 (it %s)", id, layer, p.summary()),
			Remediation: fmt.Sprintf(`add a statement to %s's policy: {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"%s"}, or reset it to full access`, id, layer),
			Command:     fmt.Sprintf("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --reset-policy", c.v.region, id)})
		return
	}
	c.add(Finding{Service: s.Key, Severity: Info, Code: CodePolicyCustom, Resources: []string{id},
		Diagnosis:   fmt.Sprintf("endpoint %s has a custom policy: it %s", id, p.summary()),
		Remediation: fmt.Sprintf("make sure it allows what %s needs: %s", s.Key, s.NeededBy)})
}
