package stopped

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// Reason codes for what only a task's stopped reason can say. They extend CONTRACT.md's codes
// (timeout, nxdomain, access-denied, tls-*, not-found, throttled, deadline, …), which are used
// whenever the reason names a network or IAM failure.
const (
	Capacity         checks.Code = "capacity"          // ECS had no Fargate or EC2 capacity to place the task
	NetworkInterface checks.Code = "network-interface" // the task's network interface could not be created or attached
	OutOfMemory      checks.Code = "out-of-memory"     // a container was killed for exceeding its memory
	StartFailed      checks.Code = "start-failed"      // the container runtime could not create or start a container
	TaskConfig       checks.Code = "task-config"       // the task definition or its overrides are wrong
	ExitCode         checks.Code = "exit-code"         // a container ran and exited non-zero
	Stopped          checks.Code = "stopped"           // stopped by a user, a scheduler or AWS before it finished
	NoReport         checks.Code = "no-report"         // the probe ran but its report was not found in CloudWatch Logs
	Interrupted      checks.Code = "interrupted"       // the launcher was interrupted and stopped the task
	Unknown          checks.Code = "unknown"           // a reason the translation does not recognise; see raw
	HealthCheck      checks.Code = "health-check"      // the task ran and failed its load balancer's or its own health checks
)

// Causes: which step of a task's start a diagnosis is about. Stable, like the codes, so that
// scripts and tests can match on them.
const (
	CauseRegistryAuth  = "registry-auth"  // ECS's ecr:GetAuthorizationToken for the image
	CauseImagePull     = "image-pull"     // the image manifest from the registry
	CauseLayerDownload = "layer-download" // the image layers from the S3 layer bucket
	CauseSecrets       = "secrets"        // secrets from Secrets Manager or SSM Parameter Store
	CauseLogger        = "logger"         // the awslogs log driver's setup
	CauseResourceInit  = "resource-init"  // another ResourceInitializationError (volumes, …)
	CauseCapacity      = "capacity"
	CauseENI           = "network-interface"
	CauseMemory        = "memory"
	CauseStart         = "container-start"
	CauseExit          = "container-exit"
	CauseStopped       = "stopped"
	CauseFailedToStart = "failed-to-start" // TaskFailedToStart with no reason the table knows
	CausePending       = "pending"         // the launcher's --deadline fell before the task stopped
	CauseInterrupted   = "interrupted"
	CauseNoReport      = "no-report"
	CauseProbe         = "probe" // a failed service of the probe's own report
	CauseRunTask       = "run-task"
	CauseDescribe      = "describe-tasks"
	CauseUnknown       = "unknown"
	// CauseNotNetwork is the answer "this is not the network": the image, the task definition,
	// the application or AWS's capacity stopped the task, and no service is blamed; the
	// diagnosis's command is the next one to run. (Out of memory keeps CauseMemory, and a
	// container that would not start CauseStart: both are not the network either.)
	CauseNotNetwork    = "not-network"
	CauseRegistryCreds = "registry-credentials" // repositoryCredentials from Secrets Manager (a registry outside ECR)
	CauseEnvFiles      = "env-files"            // environmentFiles from S3
	CauseEFS           = "efs"                  // an EFS volume's mount
	CausePassRole      = "pass-role"            // the caller of RunTask may not pass a role to ECS
	CauseAWSService    = "aws-service"          // another AWS call of the platform (the ECS agent's, …)
	// CauseManagedInstances is ECS Managed Instances' infrastructure role refused or not usable.
	CauseManagedInstances = "managed-instances"
)

// notNetwork lists the causes whose answer is "this is not the network".
var notNetwork = []string{CauseNotNetwork, CauseMemory, CauseStart, CauseExit, CauseCapacity, CauseStopped, CausePassRole, CauseManagedInstances}

// NotNetwork reports whether a diagnosis's cause is one that is not the network: such a
// diagnosis names no service.
func NotNetwork(cause string) bool { return slices.Contains(notNetwork, cause) }

// Diagnosis is one finding about a task: a translated stopped or container reason, a service
// the probe's report failed, or what the launcher itself saw. Service, host, error, diagnosis
// and remediation mean what they mean in the probe's report; raw keeps ECS's own words.
type Diagnosis struct {
	Service         string        `json:"service,omitempty"`
	Host            string        `json:"host,omitempty"`
	EndpointService string        `json:"endpoint_service,omitempty"`
	EndpointType    string        `json:"endpoint_type,omitempty"`
	Verdict         checks.Status `json:"verdict"`
	Error           checks.Code   `json:"error"`
	Cause           string        `json:"cause"`
	Diagnosis       string        `json:"diagnosis"`
	Remediation     string        `json:"remediation"`
	Source          string        `json:"source"` // stopped_reason, container:<name>, exit_code, run_task, report, launcher
	Raw             string        `json:"raw,omitempty"`
	// Route and Address say where the failed connection went, when the reason names the address
	// it dialled: "private" (an endpoint exists: a security group or network ACL is the cause) or
	// "public" (no interface endpoint answers for the name), as route in the probe's report.
	Route   string `json:"route,omitempty"`
	Address string `json:"address,omitempty"`
	// Next lists the services the task still needs after this step, each with its endpoint: in
	// a subnet without NAT, fixing one endpoint only moves the failure to the next.
	Next []Hop `json:"next,omitempty"`
	// Command is the next command to run, when the answer is not the network (the task
	// definition, the container's exit codes, the target group's health).
	Command string `json:"command,omitempty"`
}

// Task is what ECS says of a task, as far as the translation needs it.
type Task struct {
	ARN           string
	LastStatus    string
	StopCode      string
	StoppedReason string
	Containers    []Container
	// Region is the task's region when no ARN says it (explain-stopped --region); it names the
	// endpoints, in the region's partition.
	Region string
}

// Container is one container of a task.
type Container struct {
	Name     string
	Reason   string
	ExitCode *int32 // nil: the container never ran (or ECS does not know)
}

// Translate turns a task's stopped reason and container reasons into diagnoses, most specific
// first, without duplicates. A task that never ran is always explained: when no reason is
// recognised, the diagnosis says so and keeps the raw reason. Exit codes of containers that ran
// are not judged here: what they mean depends on the container (see Launcher and Explain).
func Translate(t Task) []Diagnosis {
	region, account := ARNRegionAccount(t.ARN)
	if region == "" {
		region = t.Region
	}
	ctx := taskContext{task: t.ARN, cluster: ClusterOfTaskARN(t.ARN)}
	exited := false // a container ran and ECS knows its exit code: that code is the story
	for _, c := range t.Containers {
		exited = exited || c.ExitCode != nil
	}
	type found struct {
		d    Diagnosis
		rich int
	}
	var out []found
	var unmatched []string // reasons the table does not know, for the fallback
	add := func(d Diagnosis, rich int) {
		for i, o := range out {
			if o.d.Cause == d.Cause && o.d.Service == d.Service && o.d.Error == d.Error {
				// The same step said twice (a container's reason and the stopped reason): keep
				// the one with more facts (a host, an address, a role), and ECS's fuller wording.
				if rich > o.rich {
					raw := o.d.Raw
					out[i] = found{d, rich}
					if len(raw) > len(d.Raw) {
						out[i].d.Raw = raw
					}
				} else if len(d.Raw) > len(o.d.Raw) {
					out[i].d.Raw = d.Raw
				}
				return
			}
		}
		out = append(out, found{d, rich})
	}
	for _, c := range t.Containers {
		if c.Reason == "" {
			continue
		}
		if d, rich, ok := translate(c.Reason, region, account, ctx); ok {
			d.Source = "container:" + c.Name
			add(d, rich)
		} else {
			unmatched = append(unmatched, c.Name+": "+c.Reason)
		}
	}
	if t.StoppedReason != "" {
		if d, rich, ok := translate(t.StoppedReason, region, account, ctx); ok {
			d.Source = "stopped_reason"
			add(d, rich)
		}
	}
	// A generic "Task failed to start" or "Essential container in task exited" next to a
	// specific reason adds nothing; neither does an exit with its exit code known.
	var ds []Diagnosis
	for _, o := range out {
		if o.d.Cause == CauseNotNetwork && o.d.Error == ExitCode && (exited || len(out) > 1) {
			continue
		}
		ds = append(ds, o.d)
	}
	if len(ds) > 1 {
		kept := ds[:0:0]
		for _, d := range ds {
			if d.Error != Unknown {
				kept = append(kept, d)
			}
		}
		if len(kept) > 0 {
			ds = kept
		}
	}
	if len(ds) > 0 || exited && len(out) > 0 {
		return ds
	}
	return stopCodeDiagnosis(t, unmatched)
}

// stopCodeDiagnosis explains a stopped task whose reasons the table does not recognise, from its
// stop code; the containers' unrecognised reasons join the raw reason. It returns nothing for a
// task whose essential container simply exited: its exit code is the story.
func stopCodeDiagnosis(t Task, containerReasons []string) []Diagnosis {
	raw := Redact(strings.Join(append([]string{t.StoppedReason}, containerReasons...), "; "))
	raw = strings.TrimPrefix(raw, "; ")
	switch t.StopCode {
	case "TaskFailedToStart":
		return []Diagnosis{{Verdict: checks.Fail, Error: Unknown, Cause: CauseFailedToStart, Source: "stopped_reason", Raw: raw,
			Diagnosis:   fmt.Sprintf("The task failed to start (TaskFailedToStart), for a reason no rule of vpcprobe's table knows; ECS says: %s.", orNone(raw)),
			Remediation: readContainerReasons,
		}}
	case "UserInitiated":
		return []Diagnosis{{Verdict: checks.Fail, Error: Stopped, Cause: CauseStopped, Source: "stopped_reason", Raw: raw,
			Diagnosis:   fmt.Sprintf("The task was stopped with StopTask before it finished: %s.", orNone(raw)),
			Remediation: "Run it again, and find who stops it (CloudTrail StopTask events) if that was not you.",
		}}
	case "SpotInterruption", "TerminationNotice", "InfrastructureHealth", "ServiceSchedulerInitiated":
		return []Diagnosis{{Verdict: checks.Fail, Error: Stopped, Cause: CauseStopped, Source: "stopped_reason", Raw: raw,
			Diagnosis:   fmt.Sprintf("ECS stopped the task (%s) before it finished: %s.", t.StopCode, orNone(raw)),
			Remediation: "Run it again; on Fargate Spot, run it on FARGATE capacity to avoid interruptions.",
		}}
	}
	if raw != "" && (!isExitReason(raw) || len(containerReasons) > 0) {
		return []Diagnosis{{Verdict: checks.Fail, Error: Unknown, Cause: CauseUnknown, Source: "stopped_reason", Raw: raw,
			Diagnosis:   fmt.Sprintf("The task stopped, for a reason no rule of vpcprobe's table knows; ECS says: %s.", raw),
			Remediation: "This stopped reason is not in vpcprobe's table; the raw reason is ECS's own account of it.",
		}}
	}
	return nil
}

const readContainerReasons = "Read every container's reason: `aws ecs describe-tasks --cluster <cluster> --tasks <task> --query 'tasks[0].containers[].[name,reason]'`."

// isExitReason reports whether a stopped reason only says that a container exited.
func isExitReason(reason string) bool {
	return strings.HasPrefix(reason, "Essential container in task exited")
}

// vpcAddress reports whether a is an address a VPC can use privately: RFC 1918, the shared
// range 100.64.0.0/10 and 198.19.0.0/16 (both allowed as VPC CIDRs), or IPv6 ULA.
func vpcAddress(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsPrivate() || netip.MustParsePrefix("100.64.0.0/10").Contains(a) || netip.MustParsePrefix("198.19.0.0/16").Contains(a)
}

func atAddr(f *facts) string {
	if !f.addr.IsValid() {
		return ""
	}
	return " at " + f.addr.String()
}

func verbFor(code checks.Code) string {
	if code == checks.Unreachable {
		return "found no route"
	}
	return "timed out"
}

// securityGroupFix is the remediation of a timeout to an endpoint that exists: both security
// groups on the way and the network ACLs.
func securityGroupFix(d Diagnosis, addr netip.Addr) string {
	return fmt.Sprintf("Allow inbound TCP 443 from the task's subnet CIDR (or its security group) in the security group of %s (the network interface at %s: `aws ec2 describe-network-interfaces --filters Name=addresses.private-ip-address,Values=%s`); allow outbound TCP 443 to it in the task's security group; the network ACLs of both subnets must allow TCP 443 and the return ports 1024-65535.",
		endpointPhrase(d), addr, addr)
}

// networkFix is the remediation of a broken path from the subnet to d's service.
func NetworkFix(d Diagnosis) string {
	svc, ok := catalogue.Lookup(d.Service)
	fix := ""
	switch {
	case !ok:
		return "Give the subnet a route to a NAT gateway (private subnet) or the task a public IP (public subnet with an internet gateway), or copy the image to ECR and pull it through the ECR endpoints."
	case svc.Gateway:
		fix = fmt.Sprintf("Create %s and associate it with this subnet's route table (or route the subnet through a NAT gateway); allow egress TCP 443 to its prefix list in the task's security group.", endpointPhrase(d))
	default:
		fix = fmt.Sprintf("Create %s with private DNS enabled, in this subnet's availability zone, with a security group allowing TCP 443 from the task's subnet (or route the subnet through a NAT gateway); the task's security group and network ACL must let TCP 443 out.", endpointPhrase(d))
	}
	return fix
}

// regionUnknown is said once wherever a name needs the region and neither the task nor the
// reason gives it.
const regionUnknown = "The region is unknown (neither a task ARN nor the reason names it), so endpoint names are left out: give --region to have them."

// namesLeftOut says why endpoint names are missing for region: unknown, or in a partition
// whose names vpcprobe cannot verify.
func namesLeftOut(region string) string {
	if err := catalogue.CheckRegion(region); region != "" && err != nil {
		return "Endpoint names are left out: " + err.Error() + "."
	}
	return regionUnknown
}

// endpointName is the VPC endpoint service name of key in region, in the region's partition;
// "" when the region is unknown or its partition's names cannot be verified.
func endpointName(key, region string) string {
	svc, ok := catalogue.Lookup(key)
	if !ok || region == "" || catalogue.CheckRegion(region) != nil {
		return ""
	}
	return svc.EndpointService(region)
}

// endpointPhrase names d's endpoint for a sentence: "the interface endpoint com.amazonaws.…",
// or "the ecr.api interface endpoint" when its name is unknown.
func endpointPhrase(d Diagnosis) string {
	if d.EndpointService == "" {
		return fmt.Sprintf("the %s %s endpoint", OrText(d.Service, "service's"), OrText(d.EndpointType, "interface"))
	}
	return fmt.Sprintf("the %s endpoint %s", d.EndpointType, d.EndpointService)
}

// keyEndpointPhrase is endpointPhrase for a catalogue key in region.
func keyEndpointPhrase(key, region string) string {
	svc, _ := catalogue.Lookup(key)
	return endpointPhrase(Diagnosis{Service: key, EndpointService: endpointName(key, region), EndpointType: svc.EndpointType()})
}

// layerBucketPhrase names every object of the ECR layer bucket, as an ARN in the region's
// partition when the region is known.
func layerBucketPhrase(region string) string {
	if region == "" || catalogue.CheckRegion(region) != nil {
		return "every object of the ECR layer bucket prod-<region>-starport-layer-bucket of the task's region"
	}
	return catalogue.LayerBucketARN(region)
}

func orService(d Diagnosis) string {
	if d.Host != "" {
		return d.Host
	}
	return OrText(d.Service, "the service")
}

func OrText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// withService fills a diagnosis's service fields from the catalogue: the host the reason
// named, else the one the catalogue derives for region and account. The endpoint service name
// stays empty when the region is unknown; the remediation then says so.
func WithService(d Diagnosis, key, host, region, account string) Diagnosis {
	svc, ok := catalogue.Lookup(key)
	if !ok {
		return d
	}
	d.Service = key
	if region == "" {
		region = regionOfHost(host)
	}
	if host == "" && region != "" && (key != "ecr.dkr" || account != "") {
		host = svc.Host(region, account)
	}
	d.Host = host
	d.EndpointService = endpointName(key, region)
	d.EndpointType = svc.EndpointType()
	return d
}

// Hop is a service a task still needs after the step a diagnosis is about, with the endpoint
// that gives a subnet without NAT its path.
type Hop struct {
	Service         string `json:"service"`
	Host            string `json:"host,omitempty"`
	EndpointService string `json:"endpoint_service,omitempty"` // empty when the region is unknown
	EndpointType    string `json:"endpoint_type"`
}

// startPath is what a task with an ECR image and the awslogs driver needs before it runs;
// provenBy says which of them a failure at a later step proves working (a manifest request
// follows a registry login, a layer download a manifest). The order in which Fargate sets up
// the log driver and the pull is not documented, so a failure proves nothing about logs.
var (
	startPath  = []string{"ecr.api", "ecr.dkr", "s3", "logs"}
	provenBy   = map[string][]string{CauseImagePull: {"ecr.api"}, CauseLayerDownload: {"ecr.api", "ecr.dkr"}}
	startCause = []string{CauseRegistryAuth, CauseImagePull, CauseLayerDownload, CauseSecrets, CauseLogger}
)

// withNext lists in d the hops of the start path the task will still need once d's step is
// fixed, and says so in the remediation: fixing one endpoint in a subnet without NAT only moves
// the failure to the next.
func withNext(d Diagnosis, region, account string) Diagnosis {
	if d.Service == "" || !slices.Contains(startCause, d.Cause) {
		return d
	}
	var names, keys []string
	for _, key := range startPath {
		if key == d.Service || slices.Contains(provenBy[d.Cause], key) {
			continue
		}
		h := WithService(Diagnosis{}, key, "", region, account)
		d.Next = append(d.Next, Hop{Service: key, Host: h.Host, EndpointService: h.EndpointService, EndpointType: h.EndpointType})
		names = append(names, fmt.Sprintf("%s (%s)", key, endpointPhrase(h)))
		keys = append(keys, key)
	}
	if len(names) == 0 {
		return d
	}
	list := names[len(names)-1]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " and " + list
	}
	d.Remediation += fmt.Sprintf(" Next, before it runs, the task needs %s, through endpoints or a NAT route; vpcprobe --services %s in this subnet checks them all at once.",
		list, strings.Join(append([]string{d.Service}, keys...), ","))
	return d
}

// presigned matches the query of a URL (presigned URLs carry credentials and signatures there)
// and a security token anywhere: neither is ever printed.
var (
	urlQuery = regexp.MustCompile(`(https?://[^\s"'?]+)\?[^\s"']*`)
	token    = regexp.MustCompile(`(?i)(X-Amz-(Security-Token|Signature|Credential)=)[^&\s"']+`)
)

// maxRaw bounds a raw reason in reports; ECS's own reasons are shorter.
const maxRaw = 2000

// redact removes secrets from a reason ECS wrote: URL queries (presigned layer URLs carry a
// security token and a signature) and stray token parameters; it bounds the length.
func Redact(s string) string {
	s = urlQuery.ReplaceAllString(s, "$1?REDACTED")
	s = token.ReplaceAllString(s, "${1}REDACTED")
	s = strings.TrimSpace(s)
	if len(s) > maxRaw {
		s = s[:maxRaw] + "..."
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}
