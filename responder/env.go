package responder

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/launch"
)

// The responder's settings are its function's environment (the template and the Terraform module
// set them); none is a flag, since nobody runs the responder by hand.
const (
	EnvTable         = "VPCPROBE_RESPONDER_TABLE"          // the claims table: required
	EnvLogGroup      = "VPCPROBE_RESPONDER_LOG_GROUP"      // where diagnoses are written: required
	EnvProbeRole     = "VPCPROBE_RESPONDER_PROBE_ROLE"     // the probe functions' execution role: required
	EnvEventBus      = "VPCPROBE_RESPONDER_EVENT_BUS"      // default "default"
	EnvWindow        = "VPCPROBE_RESPONDER_WINDOW"         // default 15m
	EnvMaxAlive      = "VPCPROBE_RESPONDER_MAX_ALIVE"      // default 10
	EnvProbeDeadline = "VPCPROBE_RESPONDER_PROBE_DEADLINE" // default 30s
)

// EnvNames are the variables ConfigFromEnv reads, for the unknown-variable warning.
var EnvNames = []string{EnvTable, EnvLogGroup, EnvProbeRole, EnvEventBus, EnvWindow, EnvMaxAlive, EnvProbeDeadline}

// ConfigFromEnv reads the responder's settings. The error names the variable and the fix.
func ConfigFromEnv(getenv func(string) (string, bool)) (Config, error) {
	get := func(name string) string { v, _ := getenv(name); return v }
	c := Config{Table: get(EnvTable), LogGroup: get(EnvLogGroup), Role: get(EnvProbeRole), EventBus: get(EnvEventBus), Region: get("AWS_REGION"),
		Name: get("AWS_LAMBDA_FUNCTION_NAME")}
	for name, v := range map[string]string{EnvTable: c.Table, EnvLogGroup: c.LogGroup, EnvProbeRole: c.Role} {
		if v == "" {
			return c, fmt.Errorf("%s: required: the responder's deployment sets it (taskdef/template.json, deploy/terraform/responder)", name)
		}
	}
	for name, dst := range map[string]*time.Duration{EnvWindow: &c.Window, EnvProbeDeadline: &c.ProbeDeadline} {
		if v := get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("%s: %q is not a duration such as 15m or 30s", name, v)
			}
			*dst = d
		}
	}
	if v := get(EnvMaxAlive); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("%s: %q is not a whole number of at least 1", EnvMaxAlive, v)
		}
		c.MaxAlive = n
	}
	return c, nil
}

// New returns the responder of c with clients of cfg: the ECS, Lambda, DynamoDB, Logs and
// EventBridge APIs, and EC2 and Route 53 Resolver for the inspection joined to each probe.
func New(cfg aws.Config, c Config) *Responder {
	return &Responder{
		Config:   c,
		ECS:      ecs.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg),
		Lambda:   lambda.NewFromConfig(cfg),
		Logs:     cloudwatchlogs.NewFromConfig(cfg),
		Events:   eventbridge.NewFromConfig(cfg),
		Shared:   launch.Shared{Inspect: inspect.NewClients(cfg)},
	}
}
