package stopped

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
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
)

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
	var out []Diagnosis
	var unmatched []string // reasons the table does not know, for the fallback
	add := func(d Diagnosis) {
		for i, o := range out {
			if o.Cause == d.Cause && o.Service == d.Service && o.Error == d.Error {
				if len(d.Raw) > len(o.Raw) { // keep ECS's fuller wording
					out[i].Raw = d.Raw
				}
				return
			}
		}
		out = append(out, d)
	}
	for _, c := range t.Containers {
		if c.Reason == "" {
			continue
		}
		if d, ok := TranslateReason(c.Reason, region, account); ok {
			d.Source = "container:" + c.Name
			add(d)
		} else {
			unmatched = append(unmatched, c.Name+": "+c.Reason)
		}
	}
	if t.StoppedReason != "" {
		if d, ok := TranslateReason(t.StoppedReason, region, account); ok {
			d.Source = "stopped_reason"
			add(d)
		}
	}
	// A generic "Task failed to start" next to a specific reason adds nothing.
	if len(out) > 1 {
		kept := out[:0]
		for _, d := range out {
			if d.Error != Unknown {
				kept = append(kept, d)
			}
		}
		if len(kept) > 0 {
			out = kept
		}
	}
	if len(out) > 0 {
		return out
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
			Diagnosis:   fmt.Sprintf("The task failed to start (TaskFailedToStart): %s.", orNone(raw)),
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
			Diagnosis:   fmt.Sprintf("The task stopped: %s.", raw),
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

// A reasonRule is one line of the stopped-reason table: the words of ECS (or of the agent, the
// runtime, the registry) that name a step of the task's start, what that step means, and how
// to explain its failure. Patterns are matched against the whole reason in lower case, so they
// are phrases ECS writes, never a bare word an image name could contain ("awslogs-router" is a
// repository, not the log driver).
type reasonRule struct {
	name    string         // stable, for tests
	pattern *regexp.Regexp // the phrases that name the step
	cause   string         // the step, as Diagnosis.Cause
	service string         // the catalogue key the step talks to; "" when it is not one service
	// hostDecides: the reason's words name no step precisely (a pull, a ResourceInitializationError),
	// so an AWS host named in it decides the step: the rule of that host's service replaces this one.
	hostDecides bool
	means       string      // what failed, in the diagnosis's words
	code        checks.Code // for explainFixed: the code of every failure of the step
	fix         string      // for explainFixed: the remediation
	explain     func(d Diagnosis, f *facts, r reasonRule) Diagnosis
}

// reasonRules is the stopped-reason table. Its order is the priority: the first rule whose
// pattern matches wins, and the specific rules (what the reason names: the log driver, secrets,
// the registry login, the layers, the image) come before the generic ones (capacity, network
// interface, memory, start), because ECS nests reasons: "ResourceInitializationError: unable to
// pull secrets or registry auth: … unable to retrieve secret from asm: … i/o timeout".
var reasonRules = []reasonRule{
	{name: "logger", cause: CauseLogger, service: "logs", explain: explainLogger,
		pattern: rx(`failed to validate logger args|failed to initialize logging driver|failed to create cloudwatch log stream|unable to get awslogs driver arguments|awslogs-[a-z-]+ is required`),
		means:   "the awslogs log driver could not set up the container's log stream"},
	{name: "secrets-asm", cause: CauseSecrets, service: "secretsmanager", explain: explainSecrets,
		pattern: rx(`retrieve secrets? from asm|secrets manager|arn:[a-z-]+:secretsmanager:|secretsmanager:getsecretvalue`),
		means:   "ECS could not fetch the task's secrets from Secrets Manager"},
	{name: "secrets-ssm", cause: CauseSecrets, service: "ssm", explain: explainSecrets,
		pattern: rx(`retrieve secrets? from ssm|systems manager|arn:[a-z-]+:ssm:|ssm:getparameters?\b|invalid ssm parameters`),
		means:   "ECS could not fetch the task's secrets from SSM Parameter Store"},
	{name: "registry-auth", cause: CauseRegistryAuth, service: "ecr.api", explain: explainRegistryAuth,
		pattern: rx(`ecr registry auth|registry auth from amazon ecr|getauthorizationtoken`),
		means:   "ECS could not get a registry login for the image (ecr:GetAuthorizationToken)"},
	// The agent redacts the presigned layer URL to the image reference ("REDACTED ECR URL related
	// to <a>.dkr.ecr…", or the bare reference): these words, not that host, say it was S3.
	{name: "layer-download", cause: CauseLayerDownload, service: "s3", explain: explainPull,
		pattern: rx(`starport-layer-bucket|redacted ecr url|httpreadseeker|httpreaderseeker|failed to copy`),
		means:   "ECS could not download the image layers from the ECR layer bucket"},
	{name: "image-pull", cause: CauseImagePull, service: "ecr.dkr", hostDecides: true, explain: explainPull,
		pattern: rx(`cannotpullcontainererror|pull image manifest|ref pull has been retried|failed to resolve ref|cannot pull|can't pull the image|pull access denied|error pulling image|descriptor matching platform|no matching manifest`),
		means:   "ECS could not fetch the image manifest from the registry"},
	{name: "network-interface", cause: CauseENI, code: NetworkInterface, explain: explainFixed,
		pattern: rx(`network interface|resource:eni|(?-i:\bENI\b)|free addresses|insufficientfreeaddresses|free ip address`),
		means:   "The task never ran: ECS could not give it a network interface in this subnet",
		fix:     "Check that the subnet has free IP addresses (aws ec2 describe-subnets --query 'Subnets[].[SubnetId,AvailableIpAddressCount]') and the account's network interface quota; with EC2 container instances, turn on awsvpcTrunking or use instances that take more interfaces."},
	{name: "capacity", cause: CauseCapacity, code: Capacity, explain: explainFixed,
		pattern: rx(`capacity is unavailable|resource:(cpu|memory|gpu)|did not have enough|no container instance met all of its requirements|no container instances were found|insufficient ?capacity`),
		means:   "The task never ran: ECS had no capacity to place it here",
		fix:     "Try again later or in a subnet of another availability zone; with EC2 capacity, add container instances with enough free CPU and memory (or let the capacity provider scale)."},
	{name: "out-of-memory", cause: CauseMemory, code: OutOfMemory, explain: explainFixed,
		pattern: rx(`outofmemoryerror`),
		means:   "A container was killed for using more memory than it was given",
		fix:     "Raise the container's memory (or the task's) in the task definition."},
	{name: "container-start", cause: CauseStart, code: StartFailed, explain: explainFixed,
		pattern: rx(`cannotstartcontainererror|cannotcreatecontainererror|containerruntimeerror|containerruntimetimeouterror|cannotinspectcontainererror|failed to create shim task`),
		means:   "The image was pulled, but the container runtime could not start the container",
		fix:     "Check the container's command, entryPoint, user, mount points and linuxParameters in the task definition against the image."},
	{name: "resource-init", cause: CauseResourceInit, hostDecides: true, explain: explainResourceInit,
		pattern: rx(`resourceinitializationerror|unable to pull secrets or registry auth`),
		means:   "ECS could not prepare the task's resources (ResourceInitializationError)"},
	{name: "failed-to-start", cause: CauseFailedToStart, code: Unknown, hostDecides: true, explain: explainFixed,
		pattern: rx(`task failed to start`),
		means:   "The task failed to start",
		fix:     readContainerReasons},
}

// An errorRule says which error a reason's text describes, for the steps it names (every step
// when causes is empty). Like checks.Classify, the table goes from what the server said (an
// API error code) to DNS, TLS and x509, timeouts, then refused and unreachable; rules about one
// step's own words come before the general ones.
type errorRule struct {
	name    string
	causes  []string
	pattern *regexp.Regexp
	code    checks.Code
}

// errorRules is the error table; its order is the priority.
var errorRules = []errorRule{
	{"logger-options", []string{CauseLogger}, rx(`awslogs-[a-z-]+ is required|unable to get awslogs driver arguments|unknown log opt|invalid awslogs`), TaskConfig},
	{"log-group-missing", []string{CauseLogger}, rx(`does not exist|resourcenotfoundexception`), checks.NotFound},
	{"platform", []string{CauseImagePull, CauseLayerDownload, CauseStart}, rx(`no matching manifest|descriptor matching platform|exec format error`), TaskConfig},
	{"rate-limit", []string{CauseImagePull}, rx(`toomanyrequests|pull rate limit`), checks.Throttled},
	{"disk-full", []string{CauseImagePull, CauseLayerDownload}, rx(`no space left on device`), TaskConfig},
	{"access-denied", nil, rx(`accessdenied|access denied|is not authorized to perform|unauthorizedoperation`), checks.AccessDenied},
	{"auth-failed", nil, rx(`unrecognizedclientexception|invalidclienttokenid|expiredtoken|invalidsignatureexception|signaturedoesnotmatch`), checks.AuthFailed},
	{"secret-unusable", []string{CauseSecrets}, rx(`marked for deletion|invalid arn format|invalid name|did not contain json key|validationexception`), TaskConfig},
	{"not-found", nil, rx(`resourcenotfoundexception|parameternotfound|repositorynotfoundexception|imagenotfoundexception|manifest unknown|invalid ssm parameters|can't find the specified secret`), checks.NotFound},
	{"image-not-found", []string{CauseImagePull}, rx(`: not found`), checks.NotFound},
	{"registry-denied", []string{CauseImagePull, CauseLayerDownload}, rx(`403 forbidden|denied:|pull access denied`), checks.AccessDenied},
	{"throttled", nil, rx(`throttl|rate exceeded|toomanyrequests|too many requests`), checks.Throttled},
	{"nxdomain", nil, rx(`no such host`), checks.NXDomain},
	{"servfail", nil, rx(`server misbehaving`), checks.ServFail},
	{"dns-timeout", nil, rx(`lookup \S+ on \S+: (read udp \S+: )?i/o timeout`), checks.DNSTimeout},
	{"tls-untrusted", nil, rx(`x509: certificate signed by unknown authority|certificate is not trusted|x509: certificate has expired`), checks.TLSUntrusted},
	{"tls-hostname", nil, rx(`x509: certificate is valid for|doesn't contain any ip sans`), checks.TLSHostname},
	{"tls-handshake", nil, rx(`tls handshake|tls: |remote error: tls`), checks.TLSHandshake},
	// "signal: killed" is the log driver's validation cut short: CloudWatch Logs never answered.
	{"logger-killed", []string{CauseLogger}, rx(`signal: killed`), checks.Timeout},
	{"timeout", nil, rx(`i/o timeout|deadline exceeded|client\.timeout|request canceled|requestcanceled|context canceled|timed out|timeout|connection issue`), checks.Timeout},
	{"refused", nil, rx(`connection refused`), checks.Refused},
	{"unreachable", nil, rx(`no route to host|network is unreachable`), checks.Unreachable},
	{"reset", nil, rx(`connection reset by peer`), checks.TLSHandshake},
	{"forbidden", nil, rx(`403 forbidden`), checks.AccessDenied},
}

// A hostRule says which catalogue service an AWS host name belongs to: the host a failed call
// went to decides the service, FIPS and numbered agent hosts included.
type hostRule struct {
	pattern *regexp.Regexp
	service string
}

// hostRules is the host table, first match wins; hosts outside AWS's DNS suffixes never match.
var hostRules = []hostRule{
	{rx(`^prod-[a-z0-9-]+-starport-layer-bucket\.s3[.-]`), "s3"},
	{rx(`^[^.]+\.dkr[.-]ecr(-fips)?\.`), "ecr.dkr"},
	{rx(`^(api\.ecr|api\.ecr-fips|ecr|ecr-fips)\.`), "ecr.api"},
	{rx(`^ecs-a(-[0-9]+)?\.`), "ecs-agent"},
	{rx(`^ecs-t(-[0-9]+)?\.`), "ecs-telemetry"},
	{rx(`^(s3|s3-fips)[.-]|\.s3[.-]`), "s3"},
	{rx(`^(logs|secretsmanager|ssmmessages|ssm|kms|sts|ecs)(-fips)?\.`), ""}, // the first label, less -fips
}

// rx compiles a pattern of the tables, case-insensitive.
func rx(pattern string) *regexp.Regexp { return regexp.MustCompile(`(?i)` + pattern) }

// facts is what a reason says, read once: the text, the first AWS host it names and that host's
// service, the address it dialled, and the task's region and account.
type facts struct {
	reason  string // as ECS wrote it
	text    string // lower case, ’ read as '
	raw     string // redacted, for the report
	hosts   []string
	host    string // the first host that belongs to a catalogue service
	service string // that host's service
	addr    netip.Addr
	region  string // the task's region, else the reason's host's; "" unknown
	account string
	code    checks.Code // the first matching errorRule's code for the step; checks.HTTPError when none
	errRule string      // that rule's name
}

func readReason(reason, region, account string) *facts {
	f := &facts{reason: reason, text: strings.ToLower(strings.ReplaceAll(reason, "’", "'")), raw: Redact(reason),
		hosts: findHosts(reason), region: region, account: account}
	for _, h := range f.hosts {
		if s := serviceOfHost(h); s != "" {
			f.host, f.service = h, s
			break
		}
	}
	if f.region == "" {
		for _, h := range f.hosts {
			if f.region = regionOfHost(h); f.region != "" {
				break
			}
		}
	}
	if m := dialAddr.FindStringSubmatch(reason); m != nil {
		f.addr, _ = netip.ParseAddr(strings.Trim(m[1], "[]"))
	}
	return f
}

// classify sets f's code from the error table, for the step cause.
func (f *facts) classify(cause string) {
	f.code, f.errRule = checks.HTTPError, ""
	for _, r := range errorRules {
		if (len(r.causes) == 0 || slices.Contains(r.causes, cause)) && r.pattern.MatchString(f.text) {
			f.code, f.errRule = r.code, r.name
			return
		}
	}
}

// dialAddr finds the address a connection went to: "dial tcp 10.0.1.5:443: i/o timeout".
var dialAddr = regexp.MustCompile(`dial tcp (\[[0-9A-Fa-f:.]+\]|[0-9.]+):[0-9]+`)

// matchRule returns the rule of the table that explains f: the first whose pattern matches,
// unless its words are generic and an AWS host says which step failed; else the rule of the
// host's service when the reason names one.
func matchRule(f *facts) (reasonRule, bool) {
	for _, r := range reasonRules {
		if !r.pattern.MatchString(f.text) {
			continue
		}
		if hr, ok := ruleOfService(f.service); r.hostDecides && ok {
			return hr, true
		}
		return r, true
	}
	return ruleOfService(f.service)
}

// ruleOfService returns the rule of the step that talks to service key.
func ruleOfService(key string) (reasonRule, bool) {
	if key == "" {
		return reasonRule{}, false
	}
	for _, r := range reasonRules {
		if r.service == key {
			return r, true
		}
	}
	return reasonRule{}, false
}

// translateReason recognises one reason string with the tables.
func TranslateReason(reason, region, account string) (Diagnosis, bool) {
	f := readReason(reason, region, account)
	r, ok := matchRule(f)
	if !ok {
		return Diagnosis{}, false
	}
	f.classify(r.cause)
	d := r.explain(Diagnosis{Verdict: checks.Fail, Cause: r.cause, Raw: f.raw}, f, r)
	d = withNext(d, f.region, f.account)
	if (d.Service != "" || d.Cause == CauseImagePull) && endpointName("logs", f.region) == "" {
		d.Remediation += " " + namesLeftOut(f.region) // said once, after every name left out
	}
	return d, true
}

// explainFixed explains a step whose every failure means the same: capacity, network
// interfaces, memory, a container that would not start.
func explainFixed(d Diagnosis, f *facts, r reasonRule) Diagnosis {
	d.Error = r.code
	d.Diagnosis = fmt.Sprintf("%s: %s.", r.means, strings.TrimSuffix(f.raw, "."))
	d.Remediation = r.fix
	if r.cause == CauseStart && f.errRule == "platform" {
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The image's binary is for another CPU architecture than the task's: %s.", f.raw)
		d.Remediation = "Build the image for the task definition's runtimePlatform.cpuArchitecture (or a multi-platform image), or change cpuArchitecture."
	}
	return d
}

// explainResourceInit explains a ResourceInitializationError that names no step the table
// knows: a network failure towards a service the host names, else the truncated reason.
func explainResourceInit(d Diagnosis, f *facts, r reasonRule) Diagnosis {
	if f.service != "" && f.code != checks.HTTPError {
		d = WithService(d, f.service, f.host, f.region, f.account)
		return network(d, f, r.means)
	}
	d.Error = f.code
	if f.code == checks.HTTPError {
		d.Error = Unknown
	}
	d.Diagnosis = fmt.Sprintf("The task never ran: %s: %s.", r.means, f.raw)
	d.Remediation = "The reason names the resource: secrets, registry login, log driver or volume (EFS needs TCP 2049 to its mount targets). Fargate 1.4 truncates long reasons; the containers' reasons may say more."
	return d
}

// explainRegistryAuth explains a failed ecr:GetAuthorizationToken, which ECS calls with the
// execution role before it pulls.
func explainRegistryAuth(d Diagnosis, f *facts, r reasonRule) Diagnosis {
	d = WithService(d, "ecr.api", pickHost(f.hosts, "ecr.api"), f.region, f.account)
	if f.code == checks.AccessDenied {
		d.Error = f.code
		d.Diagnosis = fmt.Sprintf("The task never ran: %s. The network path to ECR works; IAM or the endpoint policy denies %s.", r.means, deniedAction(f.reason, "ecr:GetAuthorizationToken"))
		d.Remediation = fmt.Sprintf("Allow ecr:GetAuthorizationToken (Resource \"*\") in the task execution role's policy (AmazonECSTaskExecutionRolePolicy has it), and check the endpoint policy of %s.", endpointPhrase(d))
		return d
	}
	return network(d, f, r.means)
}

// explainLogger explains a failure of the awslogs driver's setup, which ECS does with the
// execution role through the task's network interface before the container starts.
func explainLogger(d Diagnosis, f *facts, r reasonRule) Diagnosis {
	d = WithService(d, "logs", pickHost(f.hosts, "logs"), f.region, f.account)
	what := r.means
	switch {
	case f.errRule == "logger-options":
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the logConfiguration options in the task definition are wrong.", what)
		d.Remediation = "Set awslogs-group, awslogs-region and awslogs-stream-prefix in the container's logConfiguration."
	case f.code == checks.NotFound:
		d.Error = checks.NotFound
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the log group in the task definition does not exist, and awslogs-create-group is not set.", what)
		d.Remediation = "Create the log group (aws logs create-log-group --log-group-name <awslogs-group>), or set awslogs-create-group to \"true\" and allow logs:CreateLogGroup in the task execution role."
	case f.code == checks.AccessDenied:
		d.Error = f.code
		d.Diagnosis = fmt.Sprintf("The task never ran: %s. The network path to CloudWatch Logs works; IAM or the endpoint policy denies %s.", what, deniedAction(f.raw, "logs:CreateLogStream"))
		d.Remediation = fmt.Sprintf("Allow logs:CreateLogStream and logs:PutLogEvents on the group (and logs:CreateLogGroup with awslogs-create-group) in the task execution role, and check the endpoint policy of %s.", endpointPhrase(d))
	case f.code == checks.HTTPError:
		// Fargate 1.4 truncates long reasons: this one stops before it says why.
		d.Error = Unknown
		d.Diagnosis = fmt.Sprintf("The task never ran: %s, and ECS's reason stops before saying why.", what)
		d.Remediation = fmt.Sprintf("Check, in this order: that the awslogs-group exists (or awslogs-create-group is set), that the task execution role may call logs:CreateLogStream and logs:PutLogEvents, and that the subnet reaches %s (%s, or a NAT route).", orService(d), endpointPhrase(d))
	case f.errRule == "logger-killed":
		d = network(d, f, what+` ("signal: killed" is the driver giving up its wait for CloudWatch Logs)`)
	default:
		d = network(d, f, what)
	}
	return d
}

// explainSecrets explains a failure to fetch the task definition's secrets, which ECS does
// with the execution role before the container starts.
func explainSecrets(d Diagnosis, f *facts, r reasonRule) Diagnosis {
	d = WithService(d, r.service, pickHost(f.hosts, r.service), f.region, f.account)
	action := "secretsmanager:GetSecretValue"
	if r.service == "ssm" {
		action = "ssm:GetParameters"
	}
	switch {
	case f.code == checks.AccessDenied:
		denied := deniedAction(f.raw, action)
		if strings.HasPrefix(denied, "kms:") {
			d = WithService(d, "kms", "", f.region, f.account)
		}
		d.Error = f.code
		d.Diagnosis = fmt.Sprintf("The task never ran: %s. The network path works; IAM or the endpoint policy denies %s.", r.means, denied)
		d.Remediation = fmt.Sprintf("Allow %s on the secret or parameter named in the task definition in the task execution role's policy (kms:Decrypt too, for a customer managed key), and check the endpoint policy of %s.", denied, endpointPhrase(d))
	case f.code == TaskConfig:
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the task definition names a secret or key that cannot be used.", r.means)
		d.Remediation = "Fix the valueFrom of the task definition's secrets: the full ARN (with a json key or version only if the secret has them), or the parameter's name or ARN."
	case f.code == checks.NotFound:
		d.Error = checks.NotFound
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: a secret or parameter the task definition names does not exist (in this account and region).", r.means)
		d.Remediation = "Create the secret or parameter, or fix the valueFrom in the task definition's secrets."
	default:
		d = network(d, f, r.means)
	}
	return d
}

// explainPull explains a failed image pull: which of the three hosts a pull talks to (registry
// API, registry, layer bucket) failed, and how.
func explainPull(d Diagnosis, f *facts, r reasonRule) Diagnosis {
	what := r.means
	switch {
	case r.cause == CauseLayerDownload:
		d = WithService(d, "s3", pickHost(f.hosts, "s3"), f.region, f.account)
	case f.service == "ecr.dkr":
		d = WithService(d, "ecr.dkr", f.host, f.region, f.account)
	case len(f.hosts) > 0:
		d.Host = f.hosts[0] // another registry: not an AWS endpoint
	case ecrWord.MatchString(f.text):
		d = WithService(d, "ecr.dkr", "", f.region, f.account)
	default:
		what = "ECS could not pull the image"
	}
	switch {
	case f.errRule == "platform":
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The task never ran: the image has no build for the task's platform: %s.", f.raw)
		d.Remediation = "Build the image for the task definition's runtimePlatform (or a multi-platform image), or change cpuArchitecture."
	case f.errRule == "rate-limit":
		d.Error = checks.Throttled
		d.Diagnosis = fmt.Sprintf("The task never ran: the registry refused the pull for its rate limit: %s.", f.raw)
		d.Remediation = "Pull the image from ECR (a pull-through cache rule for Docker Hub, or a copy in a private repository) instead of a rate-limited public registry."
	case f.errRule == "disk-full":
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The task never ran: the image does not fit the task's storage: %s.", f.raw)
		d.Remediation = "Raise ephemeralStorage in the task definition (Fargate), or free disk space on the container instance (EC2)."
	case f.code == checks.NotFound:
		d.Error = checks.NotFound
		d.Diagnosis = fmt.Sprintf("The task never ran: the network path to the registry works, but the image does not exist: %s.", f.raw)
		d.Remediation = "Push the image with that tag (or fix the image in the task definition); pin a tag or digest that is not overwritten."
	case f.code == checks.AccessDenied && d.Service == "s3":
		d.Error = checks.AccessDenied
		d.Diagnosis = fmt.Sprintf("The task never ran: the ECR layer bucket refused the layer download: the S3 gateway endpoint's policy does not allow s3:GetObject on %s (or an S3 policy denies it): %s.", layerBucketPhrase(f.region), f.raw)
		d.Remediation = fmt.Sprintf("Allow s3:GetObject on %s in the policy of %s.", layerBucketPhrase(f.region), endpointPhrase(d))
	case f.code == checks.AccessDenied:
		d.Error = checks.AccessDenied
		d.Diagnosis = fmt.Sprintf("The task never ran: the network path to the registry works; IAM or a policy denies the pull (%s): %s.", deniedAction(f.reason, "ecr:BatchGetImage"), f.raw)
		d.Remediation = "Allow ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on the repository in the task execution role's policy (and the repository policy, across accounts), and check the endpoint policy of the ecr.dkr endpoint."
	case f.code == checks.HTTPError && d.Service == "s3" && strings.Contains(f.text, "unexpected status code"):
		d.Error = checks.HTTPError
		d.Diagnosis = fmt.Sprintf("The task never ran: the layer download from the ECR layer bucket got an unexpected answer: usually the S3 gateway endpoint's policy denying s3:GetObject on %s, or an image built for another platform: %s.", layerBucketPhrase(f.region), f.raw)
		d.Remediation = fmt.Sprintf("Allow s3:GetObject on %s in the policy of %s, and check the image's platform against the task's runtimePlatform.", layerBucketPhrase(f.region), endpointPhrase(d))
	case d.Service == "" && d.Host == "":
		// "The task can't pull the image. Check your network configuration": no host named.
		d.Error = f.code
		if f.code == checks.HTTPError {
			d.Error = checks.Timeout
		}
		d.Diagnosis = fmt.Sprintf("The task never ran: %s over the network, and ECS did not say which host failed: %s.", what, f.raw)
		d.Remediation = fmt.Sprintf("An image pull needs three paths from this subnet: %s, %s and %s on the subnet's route table (or a NAT route for all three); run vpcprobe --services ecr.api,ecr.dkr,s3 here (from an image it can pull) to see which is broken.",
			keyEndpointPhrase("ecr.api", f.region), keyEndpointPhrase("ecr.dkr", f.region), keyEndpointPhrase("s3", f.region))
	default:
		d = network(d, f, what)
	}
	return d
}

// ecrWord finds ECR named as a word ("Amazon ECR", "the ECR repository"), not inside another.
var ecrWord = regexp.MustCompile(`\becr\b`)

// network explains a failed connection of the platform to d's service, in the probe's words:
// the address the reason dialled says whether the endpoint exists. A private address answered
// DNS from inside a VPC, so the endpoint (or a proxy) is there and a security group or network
// ACL drops TCP 443; a public address means the name did not resolve to an interface endpoint.
func network(d Diagnosis, f *facts, what string) Diagnosis {
	code := f.code
	if code == checks.HTTPError || code == "" || code == TaskConfig || code == checks.NotFound {
		code = checks.Timeout // ECS words most connection failures as "connection issue" or "canceled"
	}
	d.Error = code
	host := d.Host
	switch {
	case host == "" && d.Service != "":
		host = "the " + d.Service + " endpoint"
	case host == "":
		host = "the registry"
	}
	svc, known := catalogue.Lookup(d.Service)
	switch code {
	case checks.NXDomain:
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: %s does not resolve in this VPC.", what, host)
		d.Remediation = "Check the region in the task definition and the VPC's enableDnsSupport and enableDnsHostnames; look for a private hosted zone or Route 53 Resolver rule that covers the name without it."
	case checks.DNSTimeout, checks.ServFail, checks.NoAnswer:
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: no DNS server answered for %s.", what, host)
		d.Remediation = "Turn on enableDnsSupport for this VPC; custom DNS servers (a DHCP option set) must answer, and forward AWS names to the VPC resolver (VPC CIDR base + 2)."
	case checks.Refused:
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: %s refused TCP 443%s: whatever answers at that address is not the AWS endpoint.", what, host, atAddr(f))
		d.Remediation = fmt.Sprintf("Find what owns the address %s resolves to: a firewall rejecting HTTPS, or a DNS record (private hosted zone, Resolver rule) pointing it elsewhere.", host)
	case checks.TLSUntrusted, checks.TLSHostname, checks.TLSHandshake:
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the TLS handshake with %s failed (%s): a proxy or firewall intercepts HTTPS on the way.", what, host, code)
		d.Remediation = fmt.Sprintf("Let HTTPS to %s through without inspection, or reach it through its interface endpoint.", host)
	case checks.Throttled:
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: %s throttled ECS's calls.", what, host)
		d.Remediation = "Start fewer tasks at once, or ask for a higher quota for the API named in the raw reason."
	case checks.AuthFailed:
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the network path works, but the execution role's credentials were refused.", what)
		d.Remediation = "Check the task definition's executionRoleArn and that the role trusts ecs-tasks.amazonaws.com."
	case checks.AccessDenied:
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the network path works; IAM or the endpoint policy denies %s.", what, deniedAction(f.reason, "the call"))
		d.Remediation = fmt.Sprintf("Allow the action in the task execution role's policy, and check the endpoint policy of %s.", endpointPhrase(d))
	default: // timeout, unreachable
		private := f.addr.IsValid() && vpcAddress(f.addr)
		if f.addr.IsValid() {
			d.Address, d.Route = f.addr.String(), report.RoutePublic
			if private {
				d.Route = report.RoutePrivate
			}
		}
		switch {
		case private && code == checks.Unreachable:
			d.Diagnosis = fmt.Sprintf("The task never ran: %s: %s resolves to %s, a private address, but this subnet has no route to it: an endpoint in another VPC (a central endpoint VPC) needs a route over the transit gateway or peering.", what, host, f.addr)
			d.Remediation = fmt.Sprintf("Add a route to %s's network (transit gateway or peering) in this subnet's route table, or create %s in this VPC.", f.addr, endpointPhrase(d))
		case private:
			d.Diagnosis = fmt.Sprintf("The task never ran: %s: %s resolves to %s, a private address, so the endpoint exists and DNS points at it, but TCP 443 to it timed out: a security group or network ACL drops it.", what, host, f.addr)
			d.Remediation = securityGroupFix(d, f.addr)
		case f.addr.IsValid() && known && svc.Gateway:
			d.Diagnosis = fmt.Sprintf("The task never ran: %s: connecting to %s at %s %s (a public address, as S3 always is behind a gateway endpoint): this subnet's route table has no route to an S3 gateway endpoint (and no NAT), or the task's security group egress does not allow the S3 prefix list.", what, host, f.addr, verbFor(code))
			d.Remediation = NetworkFix(d)
		case f.addr.IsValid() && d.Service != "":
			d.Diagnosis = fmt.Sprintf("The task never ran: %s: %s resolves to %s, a public address, and connecting %s: there is no interface endpoint with private DNS for %s answering for it (none, private DNS off, or a custom DNS server or Resolver rule answering instead of the VPC resolver), and no NAT route.", what, host, f.addr, verbFor(code), d.Service)
			d.Remediation = NetworkFix(d)
		default:
			why := "there is no interface endpoint with private DNS for " + d.Service + " and no NAT route, or a security group or network ACL drops TCP 443"
			if known && svc.Gateway {
				why = "this subnet's route table has no route to an S3 gateway endpoint (and no NAT), or the task's security group egress does not allow the S3 prefix list"
			}
			if code == checks.Unreachable {
				why = "there is no route from this subnet to it"
			}
			if d.Service == "" {
				why = "the subnet has no route to it (a registry outside AWS needs a NAT gateway, or a public IP in a public subnet)"
			}
			d.Diagnosis = fmt.Sprintf("The task never ran: %s: connecting to %s%s %s: %s.", what, host, atAddr(f), verbFor(code), why)
			d.Remediation = NetworkFix(d)
		}
	}
	return d
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

var (
	urlHost = regexp.MustCompile(`https?://([A-Za-z0-9.-]+)`)
	awsHost = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9.-]*\.(amazonaws\.com\.cn|amazonaws\.com|amazonaws\.eu|api\.aws|on\.aws)\b`)
	lookup  = regexp.MustCompile(`lookup ([A-Za-z0-9.-]+)`)
	awsDNS  = regexp.MustCompile(`\.(amazonaws\.com\.cn|amazonaws\.com|amazonaws\.eu|api\.aws|on\.aws)$`)
)

// findHosts returns the host names a reason mentions, in order, without duplicates.
func findHosts(reason string) []string {
	var out []string
	seen := map[string]bool{}
	for _, re := range []*regexp.Regexp{urlHost, lookup} {
		for _, m := range re.FindAllStringSubmatch(reason, -1) {
			// A truncated reason ends in "https://api.ecr...": not a host.
			if h := strings.ToLower(strings.TrimSuffix(m[1], ".")); !seen[h] && !strings.Contains(h, "..") && !strings.HasSuffix(h, ".") {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	for _, m := range awsHost.FindAllString(reason, -1) {
		if h := strings.ToLower(m); !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// pickHost returns the first host that belongs to service key, "" when none does.
func pickHost(hosts []string, key string) string {
	for _, h := range hosts {
		if serviceOfHost(h) == key {
			return h
		}
	}
	return ""
}

// serviceOfHost returns the catalogue key of an AWS host name from the host table, "" for
// other hosts.
func serviceOfHost(h string) string {
	if !awsDNS.MatchString(h) {
		return ""
	}
	for _, r := range hostRules {
		if !r.pattern.MatchString(h) {
			continue
		}
		if r.service != "" {
			return r.service
		}
		return strings.TrimSuffix(strings.SplitN(h, ".", 2)[0], "-fips")
	}
	return ""
}

// regionOfHost reads the region out of an AWS host name: api.ecr.eu-west-1.amazonaws.com.
func regionOfHost(h string) string {
	for _, label := range strings.Split(h, ".") {
		if catalogue.ValidRegion(label) {
			return label
		}
	}
	return ""
}

// arnRegionAccount reads region and account from a task ARN, in any partition.
func ARNRegionAccount(arn string) (string, string) {
	_, _, region, account, _, ok := catalogue.ParseARN(arn)
	if !ok {
		return "", ""
	}
	return region, account
}

// deniedAction returns the IAM action a denial names ("… not authorized to perform:
// ecr:GetAuthorizationToken …"), or def.
func deniedAction(reason, def string) string {
	if m := deniedRE.FindStringSubmatch(reason); m != nil {
		return m[1]
	}
	return def
}

var deniedRE = regexp.MustCompile(`not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9]+)`)

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
