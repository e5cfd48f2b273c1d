package stopped

import (
	"regexp"

	"github.com/vpcprobe/vpcprobe/checks"
)

// A class is one row of the stopped-reason table: one kind of reason ECS (or the agent, the
// runtime, a registry) writes, and its answer. Go code only reads facts out of the reason
// (facts.go); what a reason means, which service it is about and what to do is here, as data.
// stopped/README.md lists the rows, one line each.
type class struct {
	name string // stable, for tests and the README
	// words are the phrases that recognise the class, matched against the whole reason in
	// lower case: phrases ECS writes, never a bare word an image name could contain
	// ("awslogs-router" is a repository, not the log driver).
	words *regexp.Regexp
	// when lists conditions on facts: "fact" (known), "!fact" (unknown), "fact=value",
	// "fact!=value" (see facts.value).
	when []string
	// errs are the codes of the error table the row answers; none: any.
	errs []checks.Code
	// hostDecides: the words name no step precisely (a pull, a ResourceInitializationError), so
	// an AWS host in the reason decides: the first row for that host's service answers instead.
	hostDecides bool
	cause       string
	// service is the catalogue key the step talks to; "@host": the service of the AWS host in
	// the reason; "@secrets": Secrets Manager or SSM as the words say; "@pull": the registry or
	// layer bucket of an image pull; "efs": EFS (not a probed service); "": none.
	service string
	// code is the error of every reason of the row; "" for a network row, whose code comes
	// from the error table and whose answer from the path table.
	code    checks.Code
	verdict checks.Status // "" is fail
	means   string        // what failed, in the diagnosis's words ({what} of the path table)
	// diagnosis and fix are templates: {fact} is replaced by the fact (facts.phrase).
	diagnosis, fix string
	// command is the next command to run when the answer is not the network.
	command string
	// host is a template of the host the step talks to, when the catalogue's is not it
	// (environment files come from the regional S3 host, not the ECR layer bucket).
	host string
	// facts lists the facts the row reads beyond the reason itself, for the README.
	facts []string
}

// defaultAction is the IAM action a step calls, for a denial that does not name it.
var defaultAction = map[string]string{
	CauseLogger:        "logs:CreateLogStream",
	CauseRegistryAuth:  "ecr:GetAuthorizationToken",
	CauseImagePull:     "ecr:BatchGetImage",
	CauseLayerDownload: "s3:GetObject",
	CauseEnvFiles:      "s3:GetObject",
	CausePassRole:      "iam:PassRole",
	CauseRegistryCreds: "secretsmanager:GetSecretValue",
}

// The phrases that name Secrets Manager and SSM Parameter Store as the secrets' source.
const (
	asmPhrases = `from asm|secrets manager|arn:[a-z-]+:secretsmanager:|secretsmanager:getsecretvalue`
	ssmPhrases = `retrieve secrets? from ssm|systems manager|ssm parameter store|arn:[a-z-]+:ssm:|ssm:getparameters?\b|invalid ssm parameters`
)

// Words that name the steps, shared by the rows of a step.
var (
	loggerWords  = rx(`failed to validate logger args|failed to initialize logging driver|failed to create cloudwatch log stream|unable to get awslogs driver arguments|awslogs-[a-z-]+ is required|log opt '|for awslogs driver`)
	asmWords     = rx(asmPhrases)
	ssmWords     = rx(ssmPhrases)
	secretsWords = rx(asmPhrases + `|` + ssmPhrases)
	layerWords   = rx(`starport-layer-bucket|redacted ecr url|httpreadseeker|httpreaderseeker|failed to copy`)
	pullWords    = rx(`cannotpullcontainererror|pull image manifest|ref pull has been retried|failed to resolve ref|cannot pull|can't pull the image|pull access denied|error pulling image|inspect image has been retried|toomanyrequests|pull rate limit|api error \(404\)`)
	efsWords     = rx(`efs utils|efs volumes|mount target ip address|mount\.nfs4?:`)
)

// classes is the stopped-reason table. Its order is the priority: the first row whose words,
// conditions and error codes match answers. The specific steps (log driver, secrets, registry
// login, layers, image) come before the generic ones (capacity, memory, start), and a step's
// specific outcomes (denied, not found) before its network row, because ECS nests reasons:
// "ResourceInitializationError: unable to pull secrets or registry auth: … unable to retrieve
// secret from asm: … i/o timeout".
var classes = []class{
	// --- not the network: the image or the task definition ---
	{name: "platform", cause: CauseNotNetwork, code: TaskConfig,
		words:     rx(`no matching manifest for|descriptor matching platform|descriptor for platform|no match for platform in manifest`),
		diagnosis: "This is not the network: the image has no build for the task's platform ({platform}): {raw}.",
		fix:       "Build and push the image for the task definition's runtimePlatform (docker buildx build --platform {platform_or_arch}, or a multi-platform image), or set runtimePlatform.cpuArchitecture to the image's architecture.",
		command:   "aws ecs describe-task-definition --task-definition <family:revision> --query 'taskDefinition.runtimePlatform'",
		facts:     []string{"platform"}},
	{name: "exec-format", cause: CauseNotNetwork, code: TaskConfig,
		words:     rx(`exec format error`),
		diagnosis: "This is not the network: the image was pulled and started, but its binary is for another CPU architecture than the task's: {raw}.",
		fix:       "Build the image for the task definition's runtimePlatform.cpuArchitecture (X86_64 or ARM64; docker buildx build --platform linux/amd64 or linux/arm64), or change cpuArchitecture to the image's.",
		command:   "aws ecs describe-task-definition --task-definition <family:revision> --query 'taskDefinition.runtimePlatform'"},
	{name: "out-of-memory", cause: CauseMemory, code: OutOfMemory,
		words:     rx(`outofmemoryerror|container init was oom-killed|oom-killed`),
		diagnosis: "This is not the network: a container was killed for using more memory than it was given: {raw}.",
		fix:       "Raise the container's memory (or the task's) in the task definition, or find what grows in the container's logs.",
		command:   "aws ecs describe-task-definition --task-definition <family:revision> --query 'taskDefinition.[memory,containerDefinitions[].[name,memory,memoryReservation]]'"},
	{name: "pull-disk-full", cause: CauseNotNetwork, code: TaskConfig,
		words:     rx(`no space left on device`),
		diagnosis: "This is not the network: the image does not fit the task's storage: {raw}.",
		fix:       "Raise ephemeralStorage in the task definition (Fargate), or free disk space on the container instance (EC2: old images, container logs without max-size).",
		command:   "aws ecs describe-task-definition --task-definition <family:revision> --query 'taskDefinition.ephemeralStorage'"},

	// --- stops that are not failures of the path ---
	{name: "elb-health", cause: CauseNotNetwork, code: HealthCheck,
		words:     rx(`failed elb health checks`),
		diagnosis: "This is not the task's path to AWS: the task ran and the load balancer's health checks of its target group failed: {raw}.",
		fix:       "Check the target group's health check path, port and success codes against the application, the service's healthCheckGracePeriodSeconds for a slow start, and that the task's security group allows the load balancer's security group on the container port.",
		command:   "aws elbv2 describe-target-health --target-group-arn {target_group}",
		facts:     []string{"target group"}},
	{name: "container-health", cause: CauseNotNetwork, code: HealthCheck,
		words:     rx(`failed container health checks`),
		diagnosis: "This is not the network: the task ran and an essential container's own healthCheck command failed: {raw}.",
		fix:       "Check the container definition's healthCheck command (is the tool it runs, curl or wget, in the image?), its startPeriod for a slow start, and the container's logs.",
		command:   "aws ecs describe-task-definition --task-definition <family:revision> --query 'taskDefinition.containerDefinitions[].[name,healthCheck]'"},
	{name: "spot", cause: CauseNotNetwork, code: Stopped,
		words:     rx(`spot task was interrupted`),
		diagnosis: "This is not the network: AWS reclaimed the Fargate Spot capacity the task ran on: {raw}.",
		fix:       "Run it again; for work that must not be interrupted, use the FARGATE capacity provider (or a strategy with a FARGATE base), and handle SIGTERM within the two-minute warning.",
		command:   "aws ecs describe-tasks --cluster {cluster} --tasks {task} --query 'tasks[0].[capacityProviderName,stopCode,stoppedReason]'"},
	{name: "scaling", cause: CauseStopped, code: Stopped, verdict: checks.Pass,
		words:     rx(`scaling activity initiated by`),
		diagnosis: "Not a failure: the service scheduler stopped the task to reach the service's desired count (a scale-in or a deployment replacing it): {raw}.",
		fix:       "Nothing to fix; if tasks are replaced more often than expected, read the service's events.",
		command:   "aws ecs describe-services --cluster {cluster} --services <service> --query 'services[0].events[:10].message'"},
	{name: "essential-exit", cause: CauseNotNetwork, code: ExitCode, verdict: checks.Skip,
		words:     rx(`^essential container in task exited\.?$`),
		diagnosis: "This is not the network: an essential container started and exited, so its image pull, secrets and log driver worked; its exit code and its logs say why.",
		fix:       "Read the containers' exit codes (137 is SIGKILL: memory or the stop timeout; 1 is the application) and the container's log stream.",
		command:   "aws ecs describe-tasks --cluster {cluster} --tasks {task} --query 'tasks[0].containers[].[name,exitCode,reason]'"},

	// --- the awslogs log driver ---
	{name: "logger-options", words: loggerWords, errs: []checks.Code{TaskConfig}, cause: CauseLogger, service: "logs", code: TaskConfig,
		diagnosis: "The task never ran: the awslogs log driver could not set up the container's log stream: the logConfiguration options in the task definition are wrong: {raw}.",
		fix:       "Set awslogs-group, awslogs-region and awslogs-stream-prefix in the container's logConfiguration."},
	{name: "logger-missing", words: loggerWords, errs: []checks.Code{checks.NotFound}, cause: CauseLogger, service: "logs", code: checks.NotFound,
		diagnosis: "The task never ran: the awslogs log driver could not set up the container's log stream: the log group in the task definition does not exist, and awslogs-create-group is not set.",
		fix:       "Create the log group (aws logs create-log-group --log-group-name <awslogs-group>), or set awslogs-create-group to \"true\" and allow logs:CreateLogGroup in the task execution role."},
	{name: "logger-denied", words: loggerWords, errs: []checks.Code{checks.AccessDenied}, cause: CauseLogger, service: "logs", code: checks.AccessDenied,
		diagnosis: "The task never ran: the awslogs log driver could not set up the container's log stream. The network path to CloudWatch Logs works; {denied_by}.",
		fix:       "{allow} The execution role needs logs:CreateLogStream and logs:PutLogEvents on the group (and logs:CreateLogGroup with awslogs-create-group).",
		facts:     []string{"role", "action", "policy kind"}},
	{name: "logger-truncated", words: loggerWords, errs: []checks.Code{checks.HTTPError}, cause: CauseLogger, service: "logs", code: Unknown,
		diagnosis: "The task never ran: the awslogs log driver could not set up the container's log stream, and the reason stops before saying why: {raw}.",
		fix:       "Check, in this order: that the awslogs-group exists (or awslogs-create-group is set), that {role} may call logs:CreateLogStream and logs:PutLogEvents, and that the subnet reaches {host} ({endpoint}, or a NAT route)."},
	{name: "logger", words: loggerWords, cause: CauseLogger, service: "logs",
		means: "the awslogs log driver could not set up the container's log stream{killed_note}"},

	// --- secrets and registry credentials ---
	{name: "registry-creds", cause: CauseRegistryCreds, service: "secretsmanager", code: Unknown, errs: []checks.Code{checks.HTTPError},
		words:     rx(`registry auth from asm|asm fetching (secret|authorization data|username|password)`),
		diagnosis: "The task never ran: ECS could not fetch the private registry's credentials (the container's repositoryCredentials) from Secrets Manager, and the reason stops before saying why: {raw}.",
		fix:       "Check, in this order: that the subnet reaches {host} ({endpoint}, or a NAT route), that {role} may call secretsmanager:GetSecretValue on the repositoryCredentials secret (and kms:Decrypt for a customer managed key), and that the secret holds the JSON keys username and password.",
		facts:     []string{"secret", "role"}},
	{name: "secrets-denied", words: secretsWords, errs: []checks.Code{checks.AccessDenied}, cause: CauseSecrets, service: "@secrets", code: checks.AccessDenied,
		diagnosis: "The task never ran: {secrets_what}. The network path works; {denied_by}.",
		fix:       "{allow} The resource: {secret}; a customer managed KMS key also needs kms:Decrypt.",
		facts:     []string{"role", "action", "policy kind", "secret"}},
	{name: "secrets-unusable", words: secretsWords, errs: []checks.Code{TaskConfig}, cause: CauseSecrets, service: "@secrets", code: TaskConfig,
		diagnosis: "The task never ran: {secrets_what}: the task definition names a secret or key that cannot be used: {raw}.",
		fix:       "Fix the valueFrom of the task definition's secrets: the full ARN (with a json key or version only if the secret has them), or the parameter's name or ARN."},
	{name: "secrets-missing", words: secretsWords, errs: []checks.Code{checks.NotFound}, cause: CauseSecrets, service: "@secrets", code: checks.NotFound,
		diagnosis: "The task never ran: {secrets_what}: a secret or parameter the task definition names does not exist in this account and region ({secret}).",
		fix:       "Create the secret or parameter, or fix the valueFrom in the task definition's secrets (another region or account needs the full ARN).",
		facts:     []string{"secret"}},
	{name: "secrets-truncated", words: secretsWords, errs: []checks.Code{checks.HTTPError}, cause: CauseSecrets, service: "@secrets", code: Unknown,
		diagnosis: "The task never ran: {secrets_what}, and the reason stops before saying why: {raw}.",
		fix:       "Check, in this order: that the subnet reaches {host} ({endpoint}, or a NAT route), that {role} may call {secrets_action} on the secrets the task definition names, and that they exist in this account and region."},
	{name: "secrets", words: secretsWords, cause: CauseSecrets, service: "@secrets", means: "{secrets_what}"},

	// --- the ECR registry login ---
	{name: "registry-auth", words: rx(`ecr registry auth|registry auth from amazon ecr|getauthorizationtoken`), cause: CauseRegistryAuth, service: "ecr.api",
		means: "ECS could not get a registry login for the image (ecr:GetAuthorizationToken)"},

	// --- environment files from S3 ---
	{name: "envfiles-denied", words: rx(`failed to download env files?|environment files? resource|unable to download env file`), errs: []checks.Code{checks.AccessDenied},
		cause: CauseEnvFiles, service: "s3", host: "s3.{region_dns}", code: checks.AccessDenied,
		diagnosis: "The task never ran: ECS could not download the container's environmentFiles from S3. The network path to S3 works; {denied_by}.",
		fix:       "{allow} The execution role needs s3:GetObject on each environment file's object (arn:aws:s3:::<bucket>/<key>.env) and s3:GetBucketLocation on its bucket; check the bucket policy and the S3 gateway endpoint's policy too."},
	{name: "envfiles", words: rx(`failed to download env files?|environment files? resource|unable to download env file`), cause: CauseEnvFiles, service: "s3", host: "s3.{region_dns}",
		means: "ECS could not download the container's environmentFiles from S3"},

	// --- EFS volumes ---
	{name: "efs-resolve", words: rx(`failed to resolve "fs-|lookup mount target ip address`), cause: CauseEFS, service: "efs", code: checks.NXDomain,
		diagnosis: "The task never ran: the EFS mount helper could not resolve the mount target name of {fs} in this VPC: {raw}.",
		fix:       "Create a mount target of {fs} in the task's availability zone (one per zone the service uses), and turn on the VPC's enableDnsSupport and enableDnsHostnames (a custom DNS server must forward *.efs names to the VPC resolver). efs-utils falls back to looking the mount target up through the EFS API (DescribeMountTargets), which needs {efs_endpoint} or a NAT route; Fargate's helper has no botocore, so there the mount target name must resolve.",
		facts:     []string{"file system", "region"}},
	{name: "efs-path", words: efsWords, errs: []checks.Code{checks.NotFound, checks.AccessDenied}, cause: CauseEFS, service: "efs", code: checks.NotFound,
		diagnosis: "This is not the network: the task reached {fs}'s mount target, and the file system refused the mount: {raw}.",
		fix:       "Create the directory the volume's rootDirectory names on the file system, or mount through an EFS access point whose creationInfo creates it (with the POSIX user the container runs as); with IAM authorization, allow elasticfilesystem:ClientMount (and ClientWrite) to the task role.",
		command:   "aws efs describe-access-points --file-system-id {fs_id}",
		facts:     []string{"file system"}},
	{name: "efs-network", words: efsWords, cause: CauseEFS, service: "efs", code: checks.Timeout,
		diagnosis: "The task never ran: the NFS connection to {fs}'s mount target failed (timed out or reset): {raw}.",
		fix:       "Allow inbound NFS, TCP 2049, from the task's security group (or subnet CIDR) in the security group of the file system's mount target in the task's availability zone, outbound TCP 2049 in the task's security group, and TCP 2049 plus the return ports in both subnets' network ACLs (encryption in transit uses TCP 2049 too).",
		command:   "aws efs describe-mount-targets --file-system-id {fs_id}",
		facts:     []string{"file system"}},

	// --- image pulls: the layer bucket, internet registries, ECR ---
	{name: "registry-rate-limit", words: rx(`toomanyrequests|pull rate limit|429 too many requests`), when: []string{"registry_kind!=ecr"}, cause: CauseImagePull, code: checks.Throttled,
		diagnosis: "The task never ran: {registry_name} refused the pull for its rate limit (Docker Hub limits anonymous and free pulls per six hours, per source address: a NAT gateway's address is shared by every task behind it): {raw}.",
		fix:       "Pull the image from ECR instead: an ECR pull through cache rule for Docker Hub (with Docker Hub credentials in Secrets Manager), or a copy in a private repository; or authenticate the pull with the container's repositoryCredentials (a Secrets Manager secret with a Docker Hub account).",
		facts:     []string{"registry"}},
	{name: "registry-not-found", words: rx(`pull access denied for|repository does not exist|requested access to the resource is denied`), when: []string{"registry_kind=internet"}, cause: CauseImagePull, code: checks.NotFound,
		diagnosis: "The task never ran: the network path to {registry_name} works, and it says the repository does not exist or needs a login: {raw}.",
		fix:       "Check the image name and tag in the task definition; if the repository is private, give the container repositoryCredentials: a Secrets Manager secret with the registry's username and password, and secretsmanager:GetSecretValue on it for the task execution role.",
		facts:     []string{"registry"}},
	{name: "registry-status", words: rx(`unexpected status code`), errs: []checks.Code{checks.HTTPError}, when: []string{"registry_kind=internet"}, cause: CauseImagePull, code: checks.HTTPError,
		diagnosis: "The task never ran: {registry_name} answered the manifest request with an unexpected status (the reason cuts the status off; Docker Hub answers 429 to pulls over its rate limit, 401 or 404 to a name it does not serve): {raw}.",
		fix:       "The path to {registry_name} works. Check the image name and tag, authenticate the pull (repositoryCredentials) against the rate limit, or pull through an ECR pull through cache rule.",
		facts:     []string{"registry"}},
	{name: "registry-internet", words: pullWords, when: []string{"registry_kind=internet"}, errs: []checks.Code{checks.Timeout, checks.Unreachable, checks.Refused, checks.NXDomain, checks.DNSTimeout, checks.ServFail, checks.HTTPError},
		cause: CauseImagePull, code: "",
		means: "ECS could not fetch the image manifest from {registry_name}, a registry outside AWS",
		facts: []string{"registry", "address"}},
	// A 403, or a status the reason cuts off, from the layer bucket: the S3 gateway endpoint's
	// policy is the usual cause (ECR User Guide, VPC endpoints: the policy must allow the bucket).
	{name: "layer-status", words: layerWords, errs: []checks.Code{checks.HTTPError, checks.AccessDenied}, when: []string{"registry_kind!=internet", "unexpected_status"}, cause: CauseLayerDownload, service: "s3", code: "@err",
		diagnosis: "The task never ran: the ECR layer bucket refused the layer download or answered it unexpectedly: usually the S3 gateway endpoint's policy not allowing s3:GetObject on {layer_bucket} (or an S3 policy denying it), or an image built for another platform: {raw}.",
		fix:       "Allow s3:GetObject on {layer_bucket} in the policy of {endpoint}, and check the image's platform against the task's runtimePlatform."},
	// The agent redacts the presigned layer URL to the image reference ("REDACTED ECR URL related
	// to <a>.dkr.ecr…"): these words, not that host, say it was S3.
	{name: "layer-download", words: layerWords, when: []string{"registry_kind!=internet"}, cause: CauseLayerDownload, service: "s3",
		means: "ECS could not download the image layers from the ECR layer bucket"},
	{name: "pull-killed", words: rx(`pull command failed: : signal: killed`), cause: CauseImagePull, code: checks.Timeout,
		diagnosis: "The task never ran: the image pull was killed before it finished (\"signal: killed\" is the pull giving up its wait): the registry or its layer storage answered too slowly or not at all: {raw}.",
		fix:       "An ECR pull needs three paths from this subnet: {pull_paths} (or a NAT route for all three); run vpcprobe --services ecr.api,ecr.dkr,s3 here to see which is slow or broken. A very large image also pulls for long: make it smaller or keep its layers in the same region."},
	{name: "image-not-found", words: pullWords, errs: []checks.Code{checks.NotFound}, cause: CauseImagePull, service: "@pull", code: checks.NotFound,
		diagnosis: "The task never ran: the network path to the registry works, but the image does not exist: {raw}.",
		fix:       "Push the image with that tag (or fix the image in the task definition); pin a tag or digest that is not overwritten."},
	{name: "pull-denied", words: pullWords, errs: []checks.Code{checks.AccessDenied}, cause: CauseImagePull, service: "@pull", code: checks.AccessDenied,
		diagnosis: "The task never ran: the network path to the registry works; {denied_by} (the image pull): {raw}.",
		fix:       "{allow} An ECR pull needs ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on the repository (and the repository policy must allow the role, across accounts); check the endpoint policy of the ecr.dkr endpoint too.",
		facts:     []string{"role", "action", "policy kind"}},
	{name: "pull-nohost", words: rx(`can't pull the image|cannot pull`), when: []string{"!host", "!registry"}, cause: CauseImagePull, code: checks.Timeout,
		diagnosis: "The task never ran: ECS could not pull the image over the network, and it did not say which host failed: {raw}.",
		fix:       "An image pull needs three paths from this subnet: {pull_paths} on the subnet's route table (or a NAT route for all three); run vpcprobe --services ecr.api,ecr.dkr,s3 here (from an image it can pull) to see which is broken."},
	{name: "image-pull", words: pullWords, hostDecides: true, cause: CauseImagePull, service: "@pull",
		means: "ECS could not fetch the image manifest from the registry"},

	// --- iam:PassRole for RunTask ---
	{name: "passrole", words: rx(`not authorized to perform:? iam:passrole`), cause: CausePassRole, code: checks.AccessDenied,
		diagnosis: "The task was never started: {principal} may not pass the role {passed_role} to ECS (iam:PassRole); {denied_by}.",
		fix:       "{allow} Scope it to arn:aws:iam::{account}:role/{passed_role} with the condition iam:PassedToService ecs-tasks.amazonaws.com (or ecs.amazonaws.com for the infrastructure role).{mi_note}",
		facts:     []string{"principal", "passed role", "policy kind"}},

	// --- ECS Managed Instances: the infrastructure role ---
	{name: "managed-instances", words: rx(`serviceaccessdeniedexception|ecsinfrastructurerole\[`), cause: CauseManagedInstances, code: checks.AccessDenied,
		diagnosis: "This is not the network: ECS could not use the Managed Instances capacity provider's infrastructure role (ServiceAccessDeniedException): it cannot assume the role yet, or the role may not launch the instances: {raw}.",
		fix:       "Check the infrastructure role's trust policy (ecs.amazonaws.com may assume it) and that it has AmazonECSInfrastructureRolePolicyForManagedInstances (ec2:CreateFleet and the rest); with that policy the instance profile's role name must start with ecsInstanceRole, since the policy allows iam:PassRole only on arn:aws:iam::*:role/ecsInstanceRole*. A role created seconds before may not have propagated yet: retry after a minute.",
		command:   "aws ecs describe-capacity-providers --query 'capacityProviders[].managedInstancesProvider.[infrastructureRoleArn,instanceLaunchTemplate.ec2InstanceProfileArn]'"},

	// --- placement and the network interface ---
	{name: "network-interface", cause: CauseENI, code: NetworkInterface,
		words:     rx(`network interface|resource:eni|(?-i:\bENI\b)|free addresses|insufficientfreeaddresses|free ip address`),
		diagnosis: "The task never ran: ECS could not give it a network interface in this subnet: {raw}.",
		fix:       "Check that the subnet has free IP addresses (aws ec2 describe-subnets --query 'Subnets[].[SubnetId,AvailableIpAddressCount]') and the account's network interface quota; with EC2 container instances, turn on awsvpcTrunking or use instances that take more interfaces."},
	{name: "capacity", cause: CauseCapacity, code: Capacity,
		words:     rx(`capacity is unavailable|resource:(cpu|memory|gpu)|did not have enough|no container instance met all of its requirements|no container instances were found|insufficient ?capacity|insufficient (cpu|memory)`),
		diagnosis: "The task never ran: ECS had no capacity to place it here: {raw}.",
		fix:       "Try again later or in a subnet of another availability zone; with EC2 capacity, add container instances with enough free CPU and memory (or let the capacity provider scale)."},
	{name: "container-start", cause: CauseStart, code: StartFailed,
		words:     rx(`cannotstartcontainererror|cannotcreatecontainererror|containerruntimeerror|containerruntimetimeouterror|cannotinspectcontainererror|failed to create shim task`),
		diagnosis: "The image was pulled, but the container runtime could not start the container: {raw}.",
		fix:       "Check the container's command, entryPoint, user, mount points and linuxParameters in the task definition against the image."},

	// --- the agent's own calls (EC2 container instances) and any AWS host ---
	{name: "aws-service", words: rx(`discover poll endpoint|error connecting to (acs|tcs)|unable to dial ecs-|send request failed|request send failed`), when: []string{"aws_host"}, hostDecides: true, cause: CauseAWSService, service: "@host",
		means: "a call to {service} failed"},

	// --- generic ---
	{name: "resource-init", words: rx(`resourceinitializationerror|unable to pull secrets or registry auth`), hostDecides: true, cause: CauseResourceInit, code: Unknown,
		diagnosis: "The task never ran: ECS could not prepare the task's resources (ResourceInitializationError): {raw}.",
		fix:       "The reason names the resource: secrets, registry login, log driver or volume (EFS needs TCP 2049 to its mount targets). Fargate 1.4 truncates long reasons; the containers' reasons may say more."},
	{name: "failed-to-start", words: rx(`task failed to start`), hostDecides: true, cause: CauseFailedToStart, code: Unknown,
		diagnosis: "The task failed to start, and ECS's reason says nothing more: {raw}.",
		fix:       readContainerReasons,
		command:   "aws ecs describe-tasks --cluster {cluster} --tasks {task} --query 'tasks[0].containers[].[name,reason]'"},
}

// A path is one row of the path table: how a failed connection from the task to a service
// reads, by the error's code and where the connection went. The network rows of the class
// table (code "") answer from it; {what} is the class's means.
type path struct {
	name           string
	codes          []checks.Code
	when           []string
	diagnosis, fix string
	// route: the diagnosis says where the connection went, so it carries the address and route.
	route bool
}

// paths is the path table, first match wins.
var paths = []path{
	{"nxdomain", []checks.Code{checks.NXDomain}, nil,
		"The task never ran: {what}: {host} does not resolve in this VPC.",
		"Check the region in the task definition and the VPC's enableDnsSupport and enableDnsHostnames; look for a private hosted zone or Route 53 Resolver rule that covers the name without it.", false},
	{"dns", []checks.Code{checks.DNSTimeout, checks.ServFail, checks.NoAnswer}, nil,
		"The task never ran: {what}: the DNS lookup of {lookup_host} failed{dns_server_note}: no DNS server answered for it.",
		"Turn on enableDnsSupport for this VPC; custom DNS servers (a DHCP option set) must answer, and forward AWS names to the VPC resolver (VPC CIDR base + 2).", false},
	{"refused", []checks.Code{checks.Refused}, nil,
		"The task never ran: {what}: {host} refused TCP 443{at_addr}: whatever answers at that address is not the AWS endpoint.",
		"Find what owns the address {host} resolves to: a firewall rejecting HTTPS, or a DNS record (private hosted zone, Resolver rule) pointing it elsewhere.", false},
	{"tls", []checks.Code{checks.TLSUntrusted, checks.TLSHostname, checks.TLSHandshake}, nil,
		"The task never ran: {what}: the TLS handshake with {host} failed ({code}): a proxy or firewall intercepts HTTPS on the way.",
		"Let HTTPS to {host} through without inspection, or reach it through its interface endpoint.", false},
	{"throttled", []checks.Code{checks.Throttled}, nil,
		"The task never ran: {what}: {host} throttled ECS's calls.",
		"Start fewer tasks at once, or ask for a higher quota for the API named in the raw reason.", false},
	{"auth-failed", []checks.Code{checks.AuthFailed}, nil,
		"The task never ran: {what}: the network path works, but the execution role's credentials were refused.",
		"Check the task definition's executionRoleArn and that the role trusts ecs-tasks.amazonaws.com.", false},
	{"access-denied", []checks.Code{checks.AccessDenied}, nil,
		"The task never ran: {what}: the network path works; {denied_by}.",
		"{allow}", false},
	{"internet-registry", nil, []string{"!service", "host"},
		"The task never ran: {what}: connecting to {host}{at_addr} {verb}: the subnet has no way to the internet (a registry outside AWS needs a NAT gateway, or a public IP in a public subnet).",
		"Give the subnet a route to a NAT gateway (private subnet) or the task a public IP (public subnet with an internet gateway). In a subnet that must stay isolated, copy the image to ECR, or use an ECR pull through cache rule (its first pull of an image still needs the registry reachable from ECR, not from the task), and pull through the ECR endpoints.", true},
	{"private-unreachable", []checks.Code{checks.Unreachable}, []string{"route=private"},
		"The task never ran: {what}: {host} resolves to {addr}, a private address, but this subnet has no route to it: an endpoint in another VPC (a central endpoint VPC) needs a route over the transit gateway or peering.",
		"Add a route to {addr}'s network (transit gateway or peering) in this subnet's route table, or create {endpoint} in this VPC.", true},
	{"private", nil, []string{"route=private"},
		"The task never ran: {what}: {host} resolves to {addr}, a private address, so the endpoint exists and DNS points at it, but TCP 443 to it timed out: a security group or network ACL drops it.",
		"{sg_fix}", true},
	{"public-gateway", nil, []string{"addr", "gateway"},
		"The task never ran: {what}: connecting to {host} at {addr} {verb} (a public address, as S3 always is behind a gateway endpoint): this subnet's route table has no route to an S3 gateway endpoint (and no NAT), or the task's security group egress does not allow the S3 prefix list.",
		"{network_fix}", true},
	{"public", nil, []string{"addr", "service"},
		"The task never ran: {what}: {host} resolves to {addr}, a public address, and connecting {verb}: there is no interface endpoint with private DNS for {service} answering for it (none, private DNS off, or a custom DNS server or Resolver rule answering instead of the VPC resolver), and no NAT route.",
		"{network_fix}", true},
	{"unreachable", []checks.Code{checks.Unreachable}, nil,
		"The task never ran: {what}: connecting to {host}{at_addr} found no route: there is no route from this subnet to it.",
		"{network_fix}", false},
	{"gateway", nil, []string{"gateway"},
		"The task never ran: {what}: connecting to {host}{at_addr} timed out: this subnet's route table has no route to an S3 gateway endpoint (and no NAT), or the task's security group egress does not allow the S3 prefix list.",
		"{network_fix}", false},
	{"timeout", nil, nil,
		"The task never ran: {what}: connecting to {host}{at_addr} timed out: there is no interface endpoint with private DNS for {service} and no NAT route, or a security group or network ACL drops TCP 443.",
		"{network_fix}", false},
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
	{"logger-options", []string{CauseLogger}, rx(`awslogs-[a-z-]+ is required|unable to get awslogs driver arguments|unknown log opt|invalid awslogs|must specify (a|valid) value for log opt|cannot determine region for awslogs|missingendpoint`), TaskConfig},
	{"log-group-missing", []string{CauseLogger}, rx(`does not exist|resourcenotfoundexception`), checks.NotFound},
	{"platform", []string{CauseImagePull, CauseLayerDownload, CauseStart}, rx(`no matching manifest|descriptor matching platform|exec format error`), TaskConfig},
	{"rate-limit", []string{CauseImagePull}, rx(`toomanyrequests|pull rate limit`), checks.Throttled},
	{"disk-full", []string{CauseImagePull, CauseLayerDownload}, rx(`no space left on device`), TaskConfig},
	{"access-denied", nil, rx(`accessdenied|access denied|is not authorized to perform|unauthorizedoperation`), checks.AccessDenied},
	{"auth-failed", nil, rx(`unrecognizedclientexception|invalidclienttokenid|expiredtoken|invalidsignatureexception|signaturedoesnotmatch`), checks.AuthFailed},
	{"secret-unusable", []string{CauseSecrets}, rx(`marked for deletion|invalid arn format|invalid name|did not contain json key|validationexception`), TaskConfig},
	{"not-found", nil, rx(`resourcenotfoundexception|parameternotfound|repositorynotfoundexception|imagenotfoundexception|manifest unknown|invalid (ssm )?parameters|can't find the specified secret|api error \(404\)|repository does not exist|no such file or directory`), checks.NotFound},
	{"image-not-found", []string{CauseImagePull}, rx(`: not found`), checks.NotFound},
	{"registry-denied", []string{CauseImagePull, CauseLayerDownload}, rx(`403 forbidden|denied:|pull access denied`), checks.AccessDenied},
	{"throttled", nil, rx(`throttl|rate exceeded|toomanyrequests|too many requests`), checks.Throttled},
	{"nxdomain", nil, rx(`no such host`), checks.NXDomain},
	{"servfail", nil, rx(`server misbehaving`), checks.ServFail},
	// A lookup that failed, whatever the cut reason says after it, is DNS, not a connect timeout.
	{"dns-timeout", nil, rx(`lookup \S+ on \S+`), checks.DNSTimeout},
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

// A hostRule says which catalogue service the first labels of an AWS host name belong to. Whole
// host names are read by the catalogue's one parser (catalogue.ParseHost, serviceOfHost); this
// table serves only a host a truncated reason cut short ("https://api.ecr...."), of which the
// parser, which needs the region and the suffix, can read nothing.
type hostRule struct {
	pattern *regexp.Regexp
	service string
}

// hostRules is the table of cut hosts, first match wins.
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
