package catalogue

import "slices"

// crossRegion are the services an interface endpoint can serve from another region (cross-region
// PrivateLink, `create-vpc-endpoint --service-region`): of the catalogue, those in the PrivateLink
// guide's "Cross-region enabled AWS services"
// (https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-cross-region-privatelink-support.html,
// read 2026-12: Amazon S3, IAM, ECR api and dkr, KMS, ECS, Lambda, Data Firehose, Managed Service
// for Apache Flink, Route 53). Not logs, sts, secretsmanager, ssm, ssmmessages, nor the agent's
// ecs-agent and ecs-telemetry.
var crossRegion = []string{"ecr.api", "ecr.dkr", "s3", "kms", "ecs"}

// CrossRegion reports whether an interface endpoint in one region can serve s of another.
func (s Service) CrossRegion() bool { return slices.Contains(crossRegion, s.Key) }
