// Package catalogue is what vpcprobe knows of AWS as data: the services a task needs, the host
// names clients really call, their VPC endpoint service names, and the partitions they live in.
// It makes no call and holds no state; the probe, launch and inspect all read it.
package catalogue

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Service is one entry of the catalogue: a key users name in --services and what a task needs
// of it.
type Service struct {
	Key      string // what users write in --services: "ecr.api"
	Gateway  bool   // the endpoint to create is a gateway endpoint (S3), not an interface endpoint
	NeededBy string // what breaks without it, for diagnoses
	Path     string // path of the unsigned HTTP check; empty: no unsigned request tells this endpoint apart
	EC2Only  bool   // only the EC2 launch type needs it (the ECS agent's own endpoints)
	// Platform: the ECS platform (Fargate) or agent calls it itself — image pulls, awslogs,
	// secrets, the agent's channels — and ignores the task's HTTPS_PROXY (the agent on EC2 uses
	// a proxy only when /etc/ecs/ecs.config sets one). The probe takes the direct path for these.
	Platform bool
	// OnlyWhen, for a service a task itself never needs, says when it is needed after all: its
	// diagnoses say it, so that nobody builds an endpoint the workload never calls.
	OnlyWhen string
}

// catalogue lists every known service in report order. Host names are derived by Host, exactly
// as the SDK's endpoint resolvers do (a test compares the two for every region family).
var catalogue = []Service{
	{Key: "ecr.api", Platform: true, NeededBy: "image pulls (ecr:GetAuthorizationToken, BatchGetImage)", Path: "/"},
	{Key: "ecr.dkr", Platform: true, NeededBy: "image pulls (the registry's /v2/ API)", Path: "/v2/"},
	{Key: "s3", Platform: true, Gateway: true, NeededBy: "image pulls (ECR keeps image layers in S3)", Path: "/"},
	{Key: "logs", Platform: true, NeededBy: "the awslogs log driver and this report", Path: "/"},
	{Key: "sts", NeededBy: "role assumption and caller identity", Path: "/",
		OnlyWhen: "A task never needs STS for its own credentials (ECS serves them at 169.254.170.2): an STS endpoint matters only when the application calls STS itself (AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity)."},
	{Key: "secretsmanager", Platform: true, NeededBy: "secrets from Secrets Manager in task definitions", Path: "/"},
	{Key: "ssm", Platform: true, NeededBy: "secrets from SSM Parameter Store in task definitions", Path: "/"},
	{Key: "ssmmessages", NeededBy: "ECS Exec", Path: "/"},
	{Key: "kms", NeededBy: "the application's own KMS calls", Path: "/",
		OnlyWhen: "Secrets Manager and SSM decrypt on the server side, so task secrets never need a KMS endpoint: it matters only when the application calls KMS itself (Decrypt, GenerateDataKey)."},
	{Key: "ecs", Platform: true, EC2Only: true, NeededBy: "the ECS agent (EC2 launch type): DiscoverPollEndpoint", Path: "/"},
	// The agent's control and telemetry channels are websockets whose answer to a plain GET is
	// not documented: their http check is skipped and the verified certificate is the proof.
	{Key: "ecs-agent", Platform: true, EC2Only: true, NeededBy: "the ECS agent's control channel (EC2 launch type)"},
	{Key: "ecs-telemetry", Platform: true, EC2Only: true, NeededBy: "the ECS agent's telemetry (EC2 launch type)"},
}

// DefaultServices is the --services default of CONTRACT.md: what every Fargate task that pulls
// from ECR and logs with awslogs needs, and nothing more. STS is not in it: tasks take their
// credentials from 169.254.170.2, and only an application that calls STS itself needs it.
const DefaultServices = "ecr.api,ecr.dkr,s3,logs"

// groups are the names --services accepts for a set of keys: what one kind of machine needs.
var groups = map[string][]string{
	// What an ECS container instance needs to register and run tasks: the agent's own path
	// (ecs, and the hosts ecs:DiscoverPollEndpoint names) and the image pull and awslogs path.
	"ec2-instance": {"ecs", "ecs-agent", "ecs-telemetry", "ecr.api", "ecr.dkr", "s3", "logs"},
}

// Group returns the keys of the --services group name.
func Group(name string) ([]string, bool) {
	keys, ok := groups[name]
	return slices.Clone(keys), ok
}

// Keys returns every known service key in catalogue order.
func Keys() []string {
	keys := make([]string, len(catalogue))
	for i, s := range catalogue {
		keys[i] = s.Key
	}
	return keys
}

// All returns every known service in catalogue order.
func All() []Service { return append([]Service(nil), catalogue...) }

// Lookup returns the catalogue entry for key.
func Lookup(key string) (Service, bool) {
	for _, s := range catalogue {
		if s.Key == key {
			return s, true
		}
	}
	return Service{}, false
}

// ParseServices turns a --services value into catalogue entries, in catalogue order without
// duplicates. "all" selects every key, a group name (ec2-instance) its keys. An unknown key is
// an error naming the known ones.
func ParseServices(list string) ([]Service, error) {
	var want []string
	for _, k := range strings.Split(list, ",") {
		k = strings.ToLower(strings.TrimSpace(k))
		switch {
		case k == "":
			continue
		case k == "all":
			want = append(want, Keys()...)
		case groups[k] != nil:
			want = append(want, groups[k]...)
		default:
			if _, ok := Lookup(k); !ok {
				return nil, fmt.Errorf("unknown service %q (known: all, ec2-instance, %s)", k, strings.Join(Keys(), ", "))
			}
			want = append(want, k)
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("no service named")
	}
	var out []Service
	for _, s := range catalogue {
		if slices.Contains(want, s.Key) {
			out = append(out, s)
		}
	}
	return out, nil
}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// ValidAccount reports whether id is a 12-digit AWS account id.
func ValidAccount(id string) bool { return accountRE.MatchString(id) }

// Host returns the host name a client in region connects to for s: the name that gets private
// DNS from an interface endpoint. For ecr.dkr it needs the registry's account.
func (s Service) Host(region, account string) string {
	suffix := PartitionOf(region).DNSSuffix
	switch s.Key {
	case "ecr.api":
		// Only api.ecr.<r> gets private DNS; ecr.<r> stays public even when all is well.
		return "api.ecr." + region + "." + suffix
	case "ecr.dkr":
		return account + ".dkr.ecr." + region + "." + suffix
	case "s3":
		// The bucket every image layer download really uses.
		return LayerBucket(region) + ".s3." + region + "." + suffix
	case "ecs-agent":
		return "ecs-a." + region + "." + suffix
	case "ecs-telemetry":
		return "ecs-t." + region + "." + suffix
	}
	return s.Key + "." + region + "." + suffix
}

// Variant is the endpoint variant a client's configuration asks for: AWS_USE_FIPS_ENDPOINT and
// AWS_USE_DUALSTACK_ENDPOINT (or use_fips_endpoint and use_dualstack_endpoint in a profile).
type Variant struct {
	FIPS      bool
	DualStack bool
}

// dualStackSuffix is the DNS suffix of a partition's dual-stack API names.
var dualStackSuffix = map[string]string{"aws": "api.aws", "aws-us-gov": "api.aws", "aws-cn": "api.amazonwebservices.com.cn"}

// fipsByDefault lists, per partition, the services whose standard IPv4 name is already their
// FIPS endpoint: the SDK asked for FIPS there keeps the standard name (not the dual-stack one).
var fipsByDefault = map[string][]string{"aws-us-gov": {"logs", "sts", "ssm"}}

// noDualStack lists, per partition, the services without dual-stack names (the SDK keeps the
// IPv4 ones); dualStackWithFIPS, those that have them only together with FIPS.
var (
	noDualStack       = map[string][]string{"aws": {"secretsmanager"}, "aws-us-gov": {"secretsmanager"}, "aws-cn": {"secretsmanager"}}
	dualStackWithFIPS = map[string][]string{"aws-cn": {"secretsmanager"}}
)

// HostFor returns the host a client in region connects to for s with variant v, as the SDK's
// endpoint resolvers derive it (a test compares the two for every key, partition and variant);
// "" when the SDK refuses the combination (S3 FIPS in China). For ecr.dkr it needs the
// registry's account. The agent's hosts (ecs-agent, ecs-telemetry) have no variant names here:
// the agent learns them from DiscoverPollEndpoint.
func (s Service) HostFor(region, account string, v Variant) string {
	if v == (Variant{}) {
		return s.Host(region, account)
	}
	part := PartitionOf(region)
	suffix := part.DNSSuffix
	if slices.Contains(noDualStack[part.ID], s.Key) && !(v.FIPS && slices.Contains(dualStackWithFIPS[part.ID], s.Key)) {
		v.DualStack = false
	}
	if !v.DualStack && slices.Contains(fipsByDefault[part.ID], s.Key) {
		v.FIPS = false
	}
	fips := ""
	if v.FIPS {
		fips = "-fips"
	}
	ds := dualStackSuffix[part.ID]
	switch s.Key {
	case "ecr.api":
		if v.DualStack {
			return "ecr" + fips + "." + region + "." + ds
		}
		return "api.ecr" + fips + "." + region + "." + suffix
	case "ecr.dkr":
		if v.DualStack { // ECR's dual-stack registry names; PrivateLink does not serve them
			return account + ".dkr-ecr" + fips + "." + region + ".on.aws"
		}
		return account + ".dkr.ecr" + fips + "." + region + "." + suffix
	case "s3":
		if v.FIPS && part.ID == "aws-cn" {
			return ""
		}
		if v.DualStack {
			return LayerBucket(region) + ".s3" + fips + ".dualstack." + region + "." + suffix
		}
		return LayerBucket(region) + ".s3" + fips + "." + region + "." + suffix
	case "ecs-agent", "ecs-telemetry":
		return s.Host(region, account)
	}
	if v.DualStack {
		return s.Key + fips + "." + region + "." + ds
	}
	return s.Key + fips + "." + region + "." + suffix
}

// LayerBucket returns the name of the S3 bucket ECR serves image layers from in region.
func LayerBucket(region string) string { return "prod-" + region + "-starport-layer-bucket" }

// EndpointService returns the VPC endpoint service name a user creates for s in region: of the
// kind EndpointType names (S3's gateway endpoint, the others' interface endpoints).
func (s Service) EndpointService(region string) string {
	name, _ := s.EndpointServiceOf(region, s.EndpointType(), Variant{})
	return name
}

// EndpointType returns "gateway" or "interface": the kind of VPC endpoint to create for s.
func (s Service) EndpointType() string {
	if s.Gateway {
		return "gateway"
	}
	return "interface"
}
