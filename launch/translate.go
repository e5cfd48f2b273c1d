package launch

import (
	"fmt"
	"regexp"
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
}

// Task is what ECS says of a task, as far as the translation needs it.
type Task struct {
	ARN           string
	LastStatus    string
	StopCode      string
	StoppedReason string
	Containers    []Container
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
	region, account := arnRegionAccount(t.ARN)
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
		if d, ok := translateReason(c.Reason, region, account); ok {
			d.Source = "container:" + c.Name
			add(d)
		} else {
			unmatched = append(unmatched, c.Name+": "+c.Reason)
		}
	}
	if t.StoppedReason != "" {
		if d, ok := translateReason(t.StoppedReason, region, account); ok {
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
	raw := redact(strings.Join(append([]string{t.StoppedReason}, containerReasons...), "; "))
	raw = strings.TrimPrefix(raw, "; ")
	switch t.StopCode {
	case "TaskFailedToStart":
		return []Diagnosis{{Verdict: checks.Fail, Error: Unknown, Cause: CauseFailedToStart, Source: "stopped_reason", Raw: raw,
			Diagnosis:   fmt.Sprintf("The task failed to start (TaskFailedToStart): %s.", orNone(raw)),
			Remediation: "Read every container's reason: aws ecs describe-tasks --cluster <cluster> --tasks <task> --query 'tasks[0].containers[].[name,reason]'.",
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

// isExitReason reports whether a stopped reason only says that a container exited.
func isExitReason(reason string) bool {
	return strings.HasPrefix(reason, "Essential container in task exited")
}

// translateReason recognises one reason string. The rules go from the most specific (what the
// reason names: secrets, registry login, image, logger) to the generic (capacity, network
// interface, memory, start), because ECS nests reasons: "ResourceInitializationError: unable to
// pull secrets or registry auth: … unable to retrieve secret from asm: … i/o timeout".
func translateReason(reason, region, account string) (Diagnosis, bool) {
	raw := redact(reason)
	low := strings.ToLower(strings.ReplaceAll(reason, "’", "'")) // ECS's docs and console use ’
	hosts := findHosts(reason)
	code := codeOf(reason)
	d := Diagnosis{Verdict: checks.Fail, Raw: raw}

	switch {
	case containsAny(low, "failed to validate logger args", "failed to initialize logging driver",
		"failed to create cloudwatch log stream", "awslogs"):
		return translateLogger(d, low, code, hosts, region, account), true

	case containsAny(low, "retrieve secret from asm", "secrets manager", "secretsmanager:"):
		return translateSecrets(d, "secretsmanager", "Secrets Manager", low, code, hosts, region, account), true

	case containsAny(low, "retrieve secrets from ssm", "systems manager", "ssm:getparameter", "invalid ssm parameters"):
		return translateSecrets(d, "ssm", "SSM Parameter Store", low, code, hosts, region, account), true

	case containsAny(low, "ecr registry auth", "registry auth from amazon ecr", "getauthorizationtoken"):
		d.Cause = CauseRegistryAuth
		d = withService(d, "ecr.api", pickHost(hosts, "ecr.api"), region, account)
		what := "ECS could not get a registry login for the image (ecr:GetAuthorizationToken)"
		if code == checks.AccessDenied {
			d.Error = code
			d.Diagnosis = fmt.Sprintf("The task never ran: %s. The network path to ECR works; IAM or the endpoint policy denies %s.", what, deniedAction(reason, "ecr:GetAuthorizationToken"))
			d.Remediation = fmt.Sprintf("Allow ecr:GetAuthorizationToken (Resource \"*\") in the task execution role's policy (AmazonECSTaskExecutionRolePolicy has it), and check the endpoint policy of %s.", d.EndpointService)
			return d, true
		}
		return network(d, what, code), true

	case containsAny(low, "cannotpullcontainererror", "pull image manifest", "ref pull has been retried",
		"failed to resolve ref", "cannot pull", "can't pull the image", "pull access denied",
		"httpreadseeker", "httpreaderseeker", "redacted ecr url", "error pulling image", "failed to copy",
		"descriptor matching platform", "no matching manifest"):
		return translateImagePull(d, reason, low, code, hosts, region, account), true

	case containsAny(low, "network interface", "resource:eni", "elastic network interface",
		"free addresses", "insufficientfreeaddresses", "free ip address") || eniWord.MatchString(reason):
		d.Error, d.Cause = NetworkInterface, CauseENI
		d.Diagnosis = fmt.Sprintf("The task never ran: ECS could not give it a network interface in this subnet: %s.", raw)
		d.Remediation = "Check that the subnet has free IP addresses (aws ec2 describe-subnets --query 'Subnets[].[SubnetId,AvailableIpAddressCount]') and the account's network interface quota; with EC2 container instances, turn on awsvpcTrunking or use instances that take more interfaces."
		return d, true

	case containsAny(low, "capacity is unavailable", "resource:cpu", "resource:memory", "resource:gpu",
		"did not have enough", "no container instance met all of its requirements",
		"no container instances were found", "insufficient capacity", "insufficientcapacity"):
		d.Error, d.Cause = Capacity, CauseCapacity
		d.Diagnosis = fmt.Sprintf("The task never ran: ECS had no capacity to place it here: %s.", raw)
		d.Remediation = "Try again later or in a subnet of another availability zone; with EC2 capacity, add container instances with enough free CPU and memory (or let the capacity provider scale)."
		return d, true

	case strings.Contains(low, "outofmemoryerror"):
		d.Error, d.Cause = OutOfMemory, CauseMemory
		d.Diagnosis = fmt.Sprintf("A container was killed for using more memory than it was given: %s.", raw)
		d.Remediation = "Raise the container's memory (or the task's) in the task definition."
		return d, true

	case containsAny(low, "cannotstartcontainererror", "cannotcreatecontainererror", "containerruntimeerror",
		"containerruntimetimeouterror", "cannotinspectcontainererror", "failed to create shim task"):
		d.Error, d.Cause = StartFailed, CauseStart
		if containsAny(low, "exec format error") {
			d.Error = TaskConfig
			d.Diagnosis = fmt.Sprintf("The image's binary is for another CPU architecture than the task's: %s.", raw)
			d.Remediation = "Build the image for the task definition's runtimePlatform.cpuArchitecture (or a multi-platform image), or change cpuArchitecture."
			return d, true
		}
		d.Diagnosis = fmt.Sprintf("The image was pulled, but the container runtime could not start the container: %s.", raw)
		d.Remediation = "Check the container's command, entryPoint, user, mount points and linuxParameters in the task definition against the image."
		return d, true

	case strings.Contains(low, "resourceinitializationerror") || strings.Contains(low, "unable to pull secrets or registry auth"):
		d.Cause = CauseResourceInit
		d.Error = code
		if code == checks.HTTPError {
			d.Error = Unknown
		}
		d.Diagnosis = fmt.Sprintf("The task never ran: ECS could not prepare its resources (ResourceInitializationError): %s.", raw)
		d.Remediation = "The reason names the resource: secrets, registry login, log driver or volume (EFS needs TCP 2049 to its mount targets). Fargate 1.4 truncates long reasons; the containers' reasons may say more."
		return d, true

	case containsAny(low, "task failed to start"):
		d.Error, d.Cause = Unknown, CauseFailedToStart
		d.Diagnosis = fmt.Sprintf("The task failed to start: %s.", raw)
		d.Remediation = "Read every container's reason: aws ecs describe-tasks --cluster <cluster> --tasks <task> --query 'tasks[0].containers[].[name,reason]'."
		return d, true
	}
	return Diagnosis{}, false
}

// eniWord finds "ENI" as a word: "ENI provisioning", "RESOURCE:ENI".
var eniWord = regexp.MustCompile(`\bENI\b`)

// translateLogger explains a failure of the awslogs driver's setup, which ECS does with the
// execution role through the task's network interface before the container starts.
func translateLogger(d Diagnosis, low string, code checks.Code, hosts []string, region, account string) Diagnosis {
	d.Cause = CauseLogger
	d = withService(d, "logs", pickHost(hosts, "logs"), region, account)
	what := "the awslogs log driver could not set up the container's log stream"
	switch {
	case containsAny(low, "awslogs-region is required", "unable to get awslogs driver arguments", "unknown log opt", "invalid awslogs"):
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the logConfiguration options in the task definition are wrong.", what)
		d.Remediation = "Set awslogs-group, awslogs-region and awslogs-stream-prefix in the container's logConfiguration."
	case containsAny(low, "does not exist", "resourcenotfoundexception"):
		d.Error = checks.NotFound
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the log group in the task definition does not exist, and awslogs-create-group is not set.", what)
		d.Remediation = "Create the log group (aws logs create-log-group --log-group-name <awslogs-group>), or set awslogs-create-group to \"true\" and allow logs:CreateLogGroup in the task execution role."
	case code == checks.AccessDenied:
		d.Error = code
		d.Diagnosis = fmt.Sprintf("The task never ran: %s. The network path to CloudWatch Logs works; IAM or the endpoint policy denies %s.", what, deniedAction(d.Raw, "logs:CreateLogStream"))
		d.Remediation = fmt.Sprintf("Allow logs:CreateLogStream and logs:PutLogEvents on the group (and logs:CreateLogGroup with awslogs-create-group) in the task execution role, and check the endpoint policy of %s.", d.EndpointService)
	case strings.Contains(low, "signal: killed") || code == checks.Timeout:
		// "signal: killed" is the driver's validation cut short: CloudWatch Logs never answered.
		d.Error = checks.Timeout
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: CloudWatch Logs (%s) did not answer (\"signal: killed\" ends the driver's wait), so there is no interface endpoint with private DNS for logs and no NAT route, or a security group or network ACL drops TCP 443.", what, d.Host)
		d.Remediation = networkFix(d) + " If the message also says the log group cannot be found, check that it exists."
	case code == checks.HTTPError:
		// Fargate 1.4 truncates long reasons: this one stops before it says why.
		d.Error = Unknown
		d.Diagnosis = fmt.Sprintf("The task never ran: %s, and ECS's reason stops before saying why.", what)
		d.Remediation = fmt.Sprintf("Check, in this order: that the awslogs-group exists (or awslogs-create-group is set), that the task execution role may call logs:CreateLogStream and logs:PutLogEvents, and that the subnet reaches %s (the interface endpoint %s, or a NAT route).", d.Host, d.EndpointService)
	default:
		d = network(d, "the awslogs log driver could not reach CloudWatch Logs", code)
	}
	return d
}

// translateSecrets explains a failure to fetch the task definition's secrets, which ECS does
// with the execution role before the container starts.
func translateSecrets(d Diagnosis, key, name, low string, code checks.Code, hosts []string, region, account string) Diagnosis {
	d.Cause = CauseSecrets
	d = withService(d, key, pickHost(hosts, key), region, account)
	what := fmt.Sprintf("ECS could not fetch the task's secrets from %s", name)
	action := "secretsmanager:GetSecretValue"
	if key == "ssm" {
		action = "ssm:GetParameters"
	}
	switch {
	case code == checks.AccessDenied:
		denied := deniedAction(d.Raw, action)
		if strings.HasPrefix(denied, "kms:") {
			d = withService(d, "kms", "", region, account)
		}
		d.Error = code
		d.Diagnosis = fmt.Sprintf("The task never ran: %s. The network path works; IAM or the endpoint policy denies %s.", what, denied)
		d.Remediation = fmt.Sprintf("Allow %s on the secret or parameter named in the task definition in the task execution role's policy (kms:Decrypt too, for a customer managed key), and check the endpoint policy of %s.", denied, d.EndpointService)
	case containsAny(low, "marked for deletion", "invalid arn format", "invalid name", "did not contain json key", "validationexception"):
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: the task definition names a secret or key that cannot be used.", what)
		d.Remediation = "Fix the valueFrom of the task definition's secrets: the full ARN (with a json key or version only if the secret has them), or the parameter's name or ARN."
	case code == checks.NotFound || containsAny(low, "invalid ssm parameters", "can't find the specified secret"):
		d.Error = checks.NotFound
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: a secret or parameter the task definition names does not exist (in this account and region).", what)
		d.Remediation = "Create the secret or parameter, or fix the valueFrom in the task definition's secrets."
	default:
		d = network(d, what, code)
	}
	return d
}

// translateImagePull explains a failed image pull: which of the three hosts a pull talks to
// (registry API, registry, layer bucket) failed, and how.
func translateImagePull(d Diagnosis, reason, low string, code checks.Code, hosts []string, region, account string) Diagnosis {
	d.Cause = CauseImagePull
	switch {
	case containsAny(low, "starport-layer-bucket", "redacted ecr url", "httpreadseeker", "httpreaderseeker", "failed to copy"):
		d.Cause = CauseLayerDownload
		d = withService(d, "s3", pickHost(hosts, "s3"), region, account)
	case pickHost(hosts, "ecr.dkr") != "":
		d = withService(d, "ecr.dkr", pickHost(hosts, "ecr.dkr"), region, account)
	case pickHost(hosts, "ecr.api") != "":
		d.Cause = CauseRegistryAuth
		d = withService(d, "ecr.api", pickHost(hosts, "ecr.api"), region, account)
	case len(hosts) > 0:
		d.Host = hosts[0] // another registry: not an AWS endpoint
	case containsAny(low, "amazon ecr", "ecr"):
		d = withService(d, "ecr.dkr", "", region, account)
	}
	switch {
	case containsAny(low, "no matching manifest", "descriptor matching platform", "exec format error"):
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The task never ran: the image has no build for the task's platform: %s.", d.Raw)
		d.Remediation = "Build the image for the task definition's runtimePlatform (or a multi-platform image), or change cpuArchitecture."
		return d
	case containsAny(low, "toomanyrequests", "pull rate limit"):
		d.Error = checks.Throttled
		d.Diagnosis = fmt.Sprintf("The task never ran: the registry refused the pull for its rate limit: %s.", d.Raw)
		d.Remediation = "Pull the image from ECR (a pull-through cache rule for Docker Hub, or a copy in a private repository) instead of a rate-limited public registry."
		return d
	case strings.Contains(low, "no space left on device"):
		d.Error = TaskConfig
		d.Diagnosis = fmt.Sprintf("The task never ran: the image does not fit the task's storage: %s.", d.Raw)
		d.Remediation = "Raise ephemeralStorage in the task definition (Fargate), or free disk space on the container instance (EC2)."
		return d
	case code != checks.AccessDenied && (code == checks.NotFound || containsAny(low, "manifest unknown", ": not found")):
		d.Error = checks.NotFound
		d.Diagnosis = fmt.Sprintf("The task never ran: the network path to the registry works, but the image does not exist: %s.", d.Raw)
		d.Remediation = "Push the image with that tag (or fix the image in the task definition); pin a tag or digest that is not overwritten."
		return d
	case code == checks.AccessDenied || containsAny(low, "403 forbidden", "denied:", "pull access denied"):
		d.Error = checks.AccessDenied
		if d.Service == "s3" {
			d.Diagnosis = fmt.Sprintf("The task never ran: the ECR layer bucket refused the layer download: the S3 gateway endpoint's policy does not allow %s/* (or an S3 policy denies it): %s.", "arn:aws:s3:::"+catalogue.LayerBucket(region), d.Raw)
			d.Remediation = fmt.Sprintf("Allow s3:GetObject on arn:aws:s3:::%s/* in the policy of the gateway endpoint %s.", catalogue.LayerBucket(region), d.EndpointService)
			return d
		}
		d.Diagnosis = fmt.Sprintf("The task never ran: the network path to the registry works; IAM or a policy denies the pull (%s): %s.", deniedAction(reason, "ecr:BatchGetImage"), d.Raw)
		d.Remediation = "Allow ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on the repository in the task execution role's policy (and the repository policy, across accounts), and check the endpoint policy of the ecr.dkr endpoint."
		return d
	case code == checks.HTTPError && d.Service == "s3" && containsAny(low, "unexpected status code"):
		d.Diagnosis = fmt.Sprintf("The task never ran: the layer download from the ECR layer bucket got an unexpected answer: usually the S3 gateway endpoint's policy denying %s/*, or an image built for another platform: %s.", "arn:aws:s3:::"+catalogue.LayerBucket(region), d.Raw)
		d.Error = checks.HTTPError
		d.Remediation = fmt.Sprintf("Allow s3:GetObject on arn:aws:s3:::%s/* in the policy of the gateway endpoint %s, and check the image's platform against the task's runtimePlatform.", catalogue.LayerBucket(region), d.EndpointService)
		return d
	}
	what := "ECS could not pull the image"
	switch d.Cause {
	case CauseLayerDownload:
		what = "ECS could not download the image layers from the ECR layer bucket"
	case CauseRegistryAuth:
		what = "ECS could not reach the ECR API to pull the image"
	default:
		if d.Service == "ecr.dkr" {
			what = "ECS could not fetch the image manifest from the registry"
		}
	}
	if d.Service == "" && d.Host == "" {
		// "The task can't pull the image. Check your network configuration": no host named.
		d.Error = code
		if code == checks.HTTPError {
			d.Error = checks.Timeout
		}
		d.Diagnosis = fmt.Sprintf("The task never ran: %s over the network, and ECS did not say which host failed: %s.", what, d.Raw)
		d.Remediation = fmt.Sprintf("An image pull needs three paths from this subnet: the interface endpoints com.amazonaws.%s.ecr.api and com.amazonaws.%s.ecr.dkr (or a NAT route) and the S3 gateway endpoint on the subnet's route table; run vpcprobe --services ecr.api,ecr.dkr,s3 here (from an image it can pull) to see which is broken.", region, region)
		return d
	}
	return network(d, what, code)
}

// network explains a failed connection of the platform to d's service, in the probe's words.
func network(d Diagnosis, what string, code checks.Code) Diagnosis {
	if code == checks.HTTPError || code == "" {
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
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: %s refused TCP 443: whatever answers at that address is not the AWS endpoint.", what, host)
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
	default: // timeout, unreachable
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
		d.Diagnosis = fmt.Sprintf("The task never ran: %s: connecting to %s %s: %s.", what, host, verbFor(code), why)
		d.Remediation = networkFix(d)
	}
	return d
}

func verbFor(code checks.Code) string {
	if code == checks.Unreachable {
		return "found no route"
	}
	return "timed out"
}

// networkFix is the remediation of a broken path from the subnet to d's service.
func networkFix(d Diagnosis) string {
	svc, ok := catalogue.Lookup(d.Service)
	switch {
	case !ok:
		return "Give the subnet a route to a NAT gateway (private subnet) or the task a public IP (public subnet with an internet gateway), or copy the image to ECR and pull it through the ECR endpoints."
	case svc.Gateway:
		return fmt.Sprintf("Create the gateway endpoint %s and associate it with this subnet's route table (or route the subnet through a NAT gateway); allow egress TCP 443 to its prefix list in the task's security group.", d.EndpointService)
	}
	return fmt.Sprintf("Create the interface VPC endpoint %s with private DNS enabled, in this subnet's availability zone, with a security group allowing TCP 443 from the task's subnet (or route the subnet through a NAT gateway); the task's security group and network ACL must let TCP 443 out.", d.EndpointService)
}

// withService fills a diagnosis's service fields from the catalogue: the host the reason
// named, else the one the catalogue derives for region and account.
func withService(d Diagnosis, key, host, region, account string) Diagnosis {
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
	if region != "" {
		d.EndpointService = svc.EndpointService(region)
	} else {
		d.EndpointService = "com.amazonaws.<region>." + key
	}
	d.EndpointType = svc.EndpointType()
	return d
}

// codeOf classifies the error a reason's text describes, in the order of checks.Classify:
// an API error code, DNS, TLS and x509, timeouts, then refused and unreachable. It returns
// checks.HTTPError for text it does not recognise.
func codeOf(reason string) checks.Code {
	low := strings.ToLower(reason)
	switch {
	case containsAny(low, "accessdenied", "access denied", "is not authorized to perform", "unauthorizedoperation"):
		return checks.AccessDenied
	case containsAny(low, "unrecognizedclientexception", "invalidclienttokenid", "expiredtoken", "invalidsignatureexception", "signaturedoesnotmatch"):
		return checks.AuthFailed
	case containsAny(low, "throttl", "rate exceeded", "toomanyrequests", "too many requests"):
		return checks.Throttled
	case containsAny(low, "resourcenotfoundexception", "parameternotfound", "repositorynotfoundexception", "imagenotfoundexception", "manifest unknown"):
		return checks.NotFound
	case strings.Contains(low, "no such host"):
		return checks.NXDomain
	case strings.Contains(low, "server misbehaving"):
		return checks.ServFail
	case dnsTimeout.MatchString(low):
		return checks.DNSTimeout
	case containsAny(low, "x509: certificate signed by unknown authority", "certificate is not trusted", "x509: certificate has expired"):
		return checks.TLSUntrusted
	case containsAny(low, "x509: certificate is valid for", "doesn't contain any ip sans"):
		return checks.TLSHostname
	case containsAny(low, "tls handshake", "tls: ", "remote error: tls"):
		return checks.TLSHandshake
	case containsAny(low, "i/o timeout", "deadline exceeded", "client.timeout", "request canceled", "requestcanceled",
		"context canceled", "timed out", "timeout", "connection issue"):
		return checks.Timeout
	case strings.Contains(low, "connection refused"):
		return checks.Refused
	case containsAny(low, "no route to host", "network is unreachable"):
		return checks.Unreachable
	case strings.Contains(low, "connection reset by peer"):
		return checks.TLSHandshake
	case strings.Contains(low, "403 forbidden"):
		return checks.AccessDenied
	}
	return checks.HTTPError
}

// dnsTimeout matches a DNS lookup that timed out: "lookup api.ecr… on 10.0.0.2:53: i/o timeout".
var dnsTimeout = regexp.MustCompile(`lookup \S+ on \S+: (read udp \S+: )?i/o timeout`)

var (
	urlHost = regexp.MustCompile(`https?://([A-Za-z0-9.-]+)`)
	awsHost = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9.-]*\.(amazonaws\.com\.cn|amazonaws\.com|api\.aws|on\.aws)\b`)
	lookup  = regexp.MustCompile(`lookup ([A-Za-z0-9.-]+)`)
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

// serviceOfHost returns the catalogue key of an AWS host name, "" for other hosts.
func serviceOfHost(h string) string {
	switch {
	case strings.Contains(h, "starport-layer-bucket"):
		return "s3"
	case strings.Contains(h, ".dkr.ecr.") || strings.Contains(h, ".dkr-ecr."):
		return "ecr.dkr"
	case strings.HasPrefix(h, "api.ecr.") || strings.HasPrefix(h, "ecr.") || strings.HasPrefix(h, "ecr-fips."):
		return "ecr.api"
	case strings.HasPrefix(h, "s3.") || strings.Contains(h, ".s3.") || strings.Contains(h, ".s3-"):
		return "s3"
	case strings.HasPrefix(h, "ecs-a."):
		return "ecs-agent"
	case strings.HasPrefix(h, "ecs-t."):
		return "ecs-telemetry"
	}
	for _, key := range []string{"logs", "secretsmanager", "ssmmessages", "ssm", "kms", "sts", "ecs"} {
		if strings.HasPrefix(h, key+".") || strings.HasPrefix(h, key+"-fips.") {
			return key
		}
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

// arnRegionAccount reads region and account from an ARN: arn:aws:ecs:eu-west-1:123456789012:task/….
func arnRegionAccount(arn string) (string, string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	return parts[3], parts[4]
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
func redact(s string) string {
	s = urlQuery.ReplaceAllString(s, "$1?REDACTED")
	s = token.ReplaceAllString(s, "${1}REDACTED")
	s = strings.TrimSpace(s)
	if len(s) > maxRaw {
		s = s[:maxRaw] + "..."
	}
	return s
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}
