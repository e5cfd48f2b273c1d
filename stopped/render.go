package stopped

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// taskContext is what the task, not the reason, says: its ARN and cluster, for the commands a
// diagnosis names.
type taskContext struct{ task, cluster string }

// TranslateReason recognises one reason string with the tables; region and account are the
// task's ("" unknown: the reason's own ARNs and hosts may say them).
func TranslateReason(reason, region, account string) (Diagnosis, bool) {
	d, _, ok := translate(reason, region, account, taskContext{})
	return d, ok
}

// translate recognises one reason and writes its diagnosis; rich counts the facts it had.
func translate(reason, region, account string, ctx taskContext) (Diagnosis, int, bool) {
	f := readReason(reason, region, account)
	r, ok := matchClass(f)
	if !ok {
		return Diagnosis{}, 0, false
	}
	d := render(f, r, ctx)
	return d, f.richness(), true
}

// matchClass returns the row of the class table that answers f: the first whose words,
// conditions and error codes match, unless its words are generic and an AWS host says which
// step failed; else the first row of the host's service.
func matchClass(f *facts) (class, bool) {
	for _, r := range classes {
		if !r.words.MatchString(f.text) || !f.fits(r) {
			continue
		}
		if r.hostDecides && f.service != "" && (r.service == "@host" || f.serviceOf(r) != f.service) {
			if hr, ok := classOfService(f, f.service, r.name); ok {
				return hr, true
			}
		}
		return r, true
	}
	if f.service != "" {
		return classOfService(f, f.service, "")
	}
	return class{}, false
}

// classOfService returns the first row about service key whose conditions and codes fit f
// (rows that take any AWS host last); not the row named except.
func classOfService(f *facts, key, except string) (class, bool) {
	var anyHost []class
	for _, r := range classes {
		if r.name == except {
			continue
		}
		if r.service == "@host" {
			anyHost = append(anyHost, r)
			continue
		}
		if r.hostDecides || f.serviceOf(r) != key || !f.fits(r) {
			continue
		}
		return r, true
	}
	for _, r := range anyHost {
		if f.fits(r) {
			return r, true
		}
	}
	return class{}, false
}

// fits reports whether f meets a row's conditions and error codes; it classifies f's error
// for the row's step.
func (f *facts) fits(r class) bool {
	f.classify(r.cause)
	if len(r.errs) > 0 && !slices.Contains(r.errs, f.code) {
		return false
	}
	for _, c := range r.when {
		if !f.holds(c) {
			return false
		}
	}
	return true
}

// holds evaluates one condition of the table: "fact", "!fact", "fact=value", "fact!=value".
func (f *facts) holds(c string) bool {
	if name, want, ok := strings.Cut(c, "!="); ok {
		return f.value(name) != want
	}
	if name, want, ok := strings.Cut(c, "="); ok {
		return f.value(name) == want
	}
	if name, ok := strings.CutPrefix(c, "!"); ok {
		return f.value(name) == ""
	}
	return f.value(c) != ""
}

// value returns a fact as the conditions read it ("" unknown).
func (f *facts) value(name string) string {
	switch name {
	case "registry_kind":
		return f.regKind
	case "registry":
		return f.registry
	case "host":
		if f.d != nil {
			return f.d.Host
		}
		return f.host
	case "aws_host":
		return f.service
	case "service":
		if f.d != nil {
			return f.d.Service
		}
		return f.service
	case "addr":
		if f.addr.IsValid() {
			return f.addr.String()
		}
		return ""
	case "route":
		if !f.addr.IsValid() {
			return ""
		}
		if vpcAddress(f.addr) {
			return report.RoutePrivate
		}
		return report.RoutePublic
	case "gateway":
		if f.d != nil {
			if svc, ok := catalogue.Lookup(f.d.Service); ok && svc.Gateway {
				return "yes"
			}
		}
		return ""
	case "unexpected_status":
		if strings.Contains(f.text, "unexpected status") || strings.Contains(f.text, "403 forbidden") {
			return "yes"
		}
		return ""
	case "truncated":
		if f.truncated {
			return "yes"
		}
		return ""
	case "err_rule":
		return f.errRule
	case "code":
		return string(f.code)
	}
	panic("stopped: a condition of the table names an unknown fact: " + name)
}

// serviceOf returns the catalogue key a row's step talks to, for f.
func (f *facts) serviceOf(r class) string {
	switch r.service {
	case "@host":
		return f.service
	case "@secrets":
		if asmWords.MatchString(f.text) || f.service == "secretsmanager" {
			return "secretsmanager"
		}
		return "ssm"
	case "@pull":
		switch {
		case f.service == "ecr.dkr":
			return "ecr.dkr"
		case f.regKind == "internet":
			return ""
		case f.regKind == "ecr" || ecrWord.MatchString(f.text):
			return "ecr.dkr"
		}
		return ""
	}
	return r.service
}

// ecrWord finds ECR named as a word ("Amazon ECR", "the ECR repository"), not inside another.
var ecrWord = rx(`\becr\b`)

// render writes the diagnosis of f by row r: the row's templates, or for a network row the
// path table's, with f's facts.
func render(f *facts, r class, ctx taskContext) Diagnosis {
	f.classify(r.cause)
	f.ctx = ctx
	d := Diagnosis{Verdict: checks.Fail, Cause: r.cause, Raw: f.raw, Error: r.code}
	if r.verdict != "" {
		d.Verdict = r.verdict
	}
	f.d = &d
	switch key := f.serviceOf(r); {
	case key == "efs":
		d.Service, d.Host, d.EndpointType = "efs", f.fsHost, "interface"
		d.EndpointService = efsEndpointName(f.region)
	case key != "":
		host := pickHost(f.hosts, key)
		if r.host != "" && f.region != "" {
			host = f.expand(r.host)
		}
		if host == "" && f.host != "" && serviceOfHost(f.host) == key {
			host = f.host
		}
		d = WithService(d, key, host, f.region, f.account)
	case f.registry != "" && r.cause == CauseImagePull:
		d.Host = f.registry
	}
	f.d = &d
	f.what = f.expand(r.means)
	switch r.code {
	case "":
		d.Error = f.netCode()
		p := f.path(d.Error)
		d.Diagnosis, d.Remediation = f.expand(p.diagnosis), f.expand(p.fix)
		if f.addr.IsValid() && p.route {
			d.Address, d.Route = f.addr.String(), f.value("route")
		}
	case "@err":
		d.Error = f.code
		d.Diagnosis, d.Remediation = f.expand(r.diagnosis), f.expand(r.fix)
	default:
		d.Diagnosis, d.Remediation = f.expand(r.diagnosis), f.expand(r.fix)
	}
	if r.command != "" {
		d.Command = f.expand(r.command)
	}
	d = withNext(d, f.region, f.account)
	if d.Service != "" && d.Service != "efs" || d.Cause == CauseImagePull && f.regKind != "internet" {
		if endpointName("logs", f.region) == "" {
			d.Remediation += " " + namesLeftOut(f.region) // said once, after every name left out
		}
	}
	return d
}

// netCode is the code of a failed connection: ECS words most of them as "connection issue"
// or "canceled", and a reason that stops before its error is still a failed call.
func (f *facts) netCode() checks.Code {
	switch f.code {
	case checks.HTTPError, "", TaskConfig, checks.NotFound:
		return checks.Timeout
	}
	return f.code
}

// path returns the row of the path table for a failed connection with code.
func (f *facts) path(code checks.Code) path {
	for _, p := range paths {
		if len(p.codes) > 0 && !slices.Contains(p.codes, code) {
			continue
		}
		ok := true
		for _, c := range p.when {
			ok = ok && f.holds(c)
		}
		if ok {
			return p
		}
	}
	return paths[len(paths)-1]
}

// expand replaces every {fact} of a template by the fact's phrase.
func (f *facts) expand(tpl string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		j := strings.IndexByte(tpl[i:], '}')
		name := ""
		if j > 0 {
			name = tpl[i+1 : i+j]
		}
		if j < 0 || !factName(name) {
			b.WriteString(tpl[:i+1]) // a brace that is no placeholder ({"username":…})
			tpl = tpl[i+1:]
			continue
		}
		b.WriteString(tpl[:i])
		b.WriteString(f.phrase(name))
		tpl = tpl[i+j+1:]
	}
}

// factName reports whether name can be a placeholder: lower case letters and underscores.
func factName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// phrase returns a fact as a template says it: the fact itself, or what to say without it.
func (f *facts) phrase(name string) string {
	d := f.d
	switch name {
	case "raw":
		return strings.TrimSuffix(f.raw, ".")
	case "what":
		return f.what
	case "host":
		switch {
		case d.Host != "":
			return d.Host
		case d.Service != "":
			return "the " + d.Service + " endpoint"
		}
		return "the registry"
	case "service":
		return OrText(d.Service, "the service")
	case "endpoint":
		return endpointPhrase(*d)
	case "addr":
		return f.addr.String()
	case "at_addr":
		return atAddr(f)
	case "verb":
		return verbFor(f.netCode())
	case "code":
		return string(d.Error)
	case "sg_fix":
		return securityGroupFix(*d, f.addr)
	case "network_fix":
		return NetworkFix(*d)
	case "region_dns":
		return f.region + "." + catalogue.PartitionOf(f.region).DNSSuffix
	case "registry_name":
		switch f.registry {
		case "":
			return "the registry"
		case dockerHub:
			return "Docker Hub (" + dockerHub + ")"
		}
		return f.registry
	case "role":
		if f.role != "" {
			return "the task execution role " + f.role
		}
		return "the task execution role"
	case "principal":
		switch {
		case f.role != "":
			return "the role " + f.role
		case f.principal != "":
			return f.principal
		case d.Cause == CausePassRole:
			return "the caller"
		}
		return "the task execution role"
	case "passed_role":
		return OrText(f.passed, "<role>")
	case "action":
		return f.deniedAction()
	case "denied_by":
		return f.expand(f.policy.denied)
	case "allow":
		return f.expand(f.policy.fix)
	case "endpoint_check":
		if d.Service == "" {
			return ""
		}
		return ", check the policy of " + endpointPhrase(*d)
	case "secret":
		return OrText(f.secret, "the secrets and parameters the task definition names")
	case "secrets_what":
		if f.serviceOf(class{service: "@secrets"}) == "secretsmanager" {
			return "ECS could not fetch the task's secrets from Secrets Manager"
		}
		return "ECS could not fetch the task's secrets from SSM Parameter Store"
	case "secrets_action":
		if f.serviceOf(class{service: "@secrets"}) == "secretsmanager" {
			return "secretsmanager:GetSecretValue"
		}
		return "ssm:GetParameters"
	case "killed_note":
		if f.errRule == "logger-killed" {
			return ` ("signal: killed" is the driver giving up its wait for CloudWatch Logs)`
		}
		return ""
	case "fs":
		if f.fs != "" {
			return "file system " + f.fs
		}
		return "the file system"
	case "fs_id":
		return OrText(f.fs, "<fs-id>")
	case "efs_endpoint":
		if n := efsEndpointName(f.region); n != "" {
			return "the interface endpoint " + n
		}
		return "the elasticfilesystem interface endpoint"
	case "target_group":
		return OrText(f.tg, "<target-group-arn>")
	case "platform":
		return OrText(f.platform, "the task's runtimePlatform")
	case "platform_or_arch":
		return OrText(f.platform, "linux/amd64 or linux/arm64")
	case "layer_bucket":
		return layerBucketPhrase(f.region)
	case "pull_paths":
		return fmt.Sprintf("%s, %s and %s", keyEndpointPhrase("ecr.api", f.region), keyEndpointPhrase("ecr.dkr", f.region), keyEndpointPhrase("s3", f.region))
	case "lookup_host":
		if f.lookup != "" {
			return f.lookup
		}
		return f.phrase("host")
	case "dns_server_note":
		switch {
		case f.dnsServer == "":
			return ""
		case f.truncated && strings.HasSuffix(f.reason, f.dnsServer+"..."):
			return " (the resolver asked: " + f.dnsServer + "…, as far as the reason goes)"
		}
		return " (the resolver asked: " + f.dnsServer + ")"
	case "account":
		return OrText(f.account, "<account>")
	case "cluster":
		return OrText(f.ctx.cluster, "<cluster>")
	case "task":
		return OrText(f.ctx.task, "<task>")
	case "mi_note":
		if f.passed != "" && !strings.HasPrefix(f.passed, "ecsInstanceRole") && miRole.MatchString(f.passed) {
			return " With ECS Managed Instances and the AmazonECSInfrastructureRolePolicyForManagedInstances policy, the instance role's name must start with ecsInstanceRole: that policy allows iam:PassRole (to ec2.amazonaws.com) only on arn:aws:iam::*:role/ecsInstanceRole*; use a role (and instance profile) named so, or give the infrastructure role a policy that allows iam:PassRole on " + f.passed + "."
		}
		return ""
	}
	panic("stopped: a template names an unknown fact: " + name)
}

// miRole finds the name of an instance role: the role ECS Managed Instances' infrastructure
// role passes to EC2.
var miRole = rx(`instance`)

// deniedAction is the IAM action a denial names, else the one the step calls.
func (f *facts) deniedAction() string {
	if f.action != "" {
		return f.action
	}
	if f.d != nil {
		switch f.d.Cause {
		case CauseSecrets:
			return f.phrase("secrets_action")
		case CauseImagePull:
			if f.d.Service == "s3" {
				return "s3:GetObject"
			}
		}
		if a := defaultAction[f.d.Cause]; a != "" {
			return a
		}
	}
	return "the call"
}

// efsEndpointName is the interface endpoint service of the EFS API in region, "" when the
// region is unknown or its partition's names are not verified (China's differ).
func efsEndpointName(region string) string {
	if region == "" || catalogue.CheckRegion(region) != nil || catalogue.PartitionOf(region).ID == "aws-cn" {
		return ""
	}
	return "com.amazonaws." + region + ".elasticfilesystem"
}
