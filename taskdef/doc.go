// Package taskdef holds what it takes to run vpcprobe on ECS, as files users copy: Fargate task
// definitions (the probe alone, with awslogs, as a preflight container and as a sidecar), the
// IAM policies of its roles, and a CloudFormation template for the scheduled health check. See
// README.md. The package has no code; its tests validate the files against the ECS API's shapes,
// IAM's grammar and the probe's own flags, so that they cannot drift from the program.
package taskdef
