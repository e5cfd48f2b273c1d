// Package report holds the report value and the finding value, and their views: the JSON
// document of CONTRACT.md, the text for a person, and the CloudWatch events with their Embedded
// Metric Format metrics.
//
// Every output of vpcprobe is built from these values; every text view writes through one
// Writer (prose wrapped at the width, each sentence once, commands one line) and prints a
// finding with one function, WriteFinding, whoever found it: the probe, inspect, the join.
package report

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
)

// Schema names the report's shape; fields may be added, never renamed or removed, without a new one.
const Schema = "vpcprobe/v1"

// Report is one run's findings. The JSON document, the text table, the CloudWatch events and
// the metrics are all views of this one value.
type Report struct {
	Schema     string          `json:"schema"`
	RunID      string          `json:"run_id"`
	Verdict    checks.Status   `json:"verdict"`
	StartedAt  string          `json:"started_at"`
	DurationMS int64           `json:"duration_ms"`
	Counts     Counts          `json:"counts"`
	Context    Context         `json:"context"`
	Services   []ServiceReport `json:"services"`
	Delivery   Delivery        `json:"delivery"`
	Version    string          `json:"version,omitempty"`
}

// Counts is how many services ended with each verdict.
type Counts struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// Context is where the probe ran, as far as it could tell. Unknown values are empty strings,
// never guesses.
type Context struct {
	Region           string   `json:"region"`
	Partition        string   `json:"partition"`
	Account          string   `json:"account"`
	CallerARN        string   `json:"caller_arn,omitempty"`
	Cluster          string   `json:"cluster"`
	TaskARN          string   `json:"task_arn"`
	LaunchType       string   `json:"launch_type,omitempty"`
	AvailabilityZone string   `json:"availability_zone"`
	SubnetCIDR       string   `json:"subnet_cidr"`
	PrivateIP        string   `json:"private_ip"`
	Resolvers        []string `json:"resolvers"`
	AmazonDNS        string   `json:"amazon_dns,omitempty"`
	Proxy            string   `json:"proxy,omitempty"`
	MetadataError    string   `json:"metadata_error,omitempty"`

	// Runner is what the probe ran as: "ecs-task", "lambda", "ec2-instance" (instance metadata
	// described the machine) or "host". A Lambda function never has a public IP and calls AWS
	// with its execution role, so its diagnoses say so.
	Runner string `json:"runner,omitempty"`

	// On an EC2 container instance (no task metadata), what instance metadata says, and the
	// outcome of reading it.
	InstanceID       string        `json:"instance_id,omitempty"`
	VPCID            string        `json:"vpc_id,omitempty"`
	SubnetID         string        `json:"subnet_id,omitempty"` // instance metadata's, or --subnet-id (a launcher's Lambda function)
	VPCCIDR          string        `json:"vpc_cidr,omitempty"`
	InstanceMetadata *ContextCheck `json:"instance_metadata,omitempty"`
	FunctionName     string        `json:"function_name,omitempty"`   // the Lambda function, when Runner is "lambda"
	SecurityGroups   []string      `json:"security_groups,omitempty"` // --security-groups: the probe's groups, as the launcher gave them

	// AddressFamilies are the families the task has addresses in (["ipv4"], ["ipv4","ipv6"] or
	// ["ipv6"]), from task or instance metadata or --address-families; absent when unknown.
	// IPv6SubnetCIDR and PrivateIPv6 are the IPv6 side of SubnetCIDR and PrivateIP; NAT64Seen,
	// for an IPv6-only task, whether any answer was DNS64's (64:ff9b::/96).
	AddressFamilies []string `json:"address_families,omitempty"`
	IPv6SubnetCIDR  string   `json:"ipv6_subnet_cidr,omitempty"`
	PrivateIPv6     string   `json:"private_ipv6,omitempty"`
	NAT64Seen       *bool    `json:"nat64_seen,omitempty"`
}

// ContextCheck is the outcome of reading where the probe runs (instance metadata): not a
// service, but a finding with its own diagnosis. A warn or fail raises the report's verdict.
type ContextCheck struct {
	Status      checks.Status `json:"status"`
	Error       checks.Code   `json:"error,omitempty"`
	Detail      string        `json:"detail,omitempty"`
	Diagnosis   string        `json:"diagnosis,omitempty"`
	Remediation string        `json:"remediation,omitempty"`
}

// Runner values of Context.Runner.
const (
	RunnerECSTask = "ecs-task" // an ECS task: task metadata named it
	RunnerLambda  = "lambda"   // a Lambda function attached to the subnet
	RunnerHost    = "host"     // anything else: a laptop, a bastion (probe.RunnerEC2Instance: an EC2 container instance)
)

// ServiceReport is one service's findings.
type ServiceReport struct {
	Service         string `json:"service"`
	Host            string `json:"host"`
	Path            string `json:"path,omitempty"` // "direct" or "proxy URL": the path every check of the service took
	EndpointService string `json:"endpoint_service"`
	EndpointType    string `json:"endpoint_type"`
	// Region is set for a service of another region than the run's (--other-region): the task
	// needs it there, and only its network checks ran.
	Region      string        `json:"region,omitempty"`
	Verdict     checks.Status `json:"verdict"`
	Error       checks.Code   `json:"error,omitempty"`
	Route       string        `json:"route"`
	Addresses   []string      `json:"addresses"`
	AmazonDNS   *SecondDNS    `json:"amazon_dns,omitempty"`
	Checks      []CheckReport `json:"checks"`
	Families    *Families     `json:"families,omitempty"` // per address family: see Families
	Diagnosis   string        `json:"diagnosis,omitempty"`
	Remediation string        `json:"remediation,omitempty"`
}

// SecondDNS is the Amazon-provided resolver's answer for the same name, when it was asked.
type SecondDNS struct {
	Status    checks.Status `json:"status"`
	Error     checks.Code   `json:"error,omitempty"`
	Route     string        `json:"route"`
	Addresses []string      `json:"addresses"`
	Agrees    *bool         `json:"agrees,omitempty"` // absent when it did not answer
}

// CheckReport is one check of one service.
type CheckReport struct {
	Name       string        `json:"name"`
	Status     checks.Status `json:"status"`
	DurationMS int64         `json:"duration_ms"`
	Error      checks.Code   `json:"error,omitempty"`
	Detail     string        `json:"detail,omitempty"`
}

// Delivery says where the report went besides stdout.
type Delivery struct {
	CloudWatch string `json:"cloudwatch"` // delivered, failed or disabled
	Error      string `json:"error,omitempty"`
	LogGroup   string `json:"log_group,omitempty"`
	LogStream  string `json:"log_stream,omitempty"`
}

// Route values of CONTRACT.md.
const (
	RoutePrivate = "private" // every address is private: an interface endpoint
	RoutePublic  = "public"  // a public address: NAT, internet gateway or (S3) a gateway endpoint
	RouteNone    = "none"    // the name did not resolve
)

// Delivery states.
const (
	Delivered = "delivered"
	Failed    = "failed"
	Disabled  = "disabled"
)

// Check turns a check result into its report form.
func Check(r checks.Result) CheckReport {
	return CheckReport{
		Name: r.Name, Status: r.Status, DurationMS: r.Duration.Milliseconds(),
		Error: r.Code, Detail: checks.Bound(r.Detail),
	}
}

// JSON returns the report as one JSON document followed by a newline.
func (r *Report) JSON() []byte {
	b, err := json.Marshal(r)
	if err != nil { // only plain values in here; cannot fail
		panic("report: marshal report: " + err.Error())
	}
	return append(b, '\n')
}

// NewRunID returns a random identifier for one run (a UUID version 4 in its usual form).
func NewRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Timestamp formats t as CONTRACT.md's started_at: RFC 3339 in UTC, to the millisecond.
func Timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// Finish sets the counts and the overall verdict from the services.
func (r *Report) Finish() {
	r.Counts = Counts{}
	r.Verdict = checks.Pass
	for _, s := range r.Services {
		switch s.Verdict {
		case checks.Pass:
			r.Counts.Pass++
		case checks.Warn:
			r.Counts.Warn++
			if r.Verdict == checks.Pass {
				r.Verdict = checks.Warn
			}
		case checks.Fail:
			r.Counts.Fail++
			r.Verdict = checks.Fail
		case checks.Skip:
			r.Counts.Skip++
		}
	}
	if im := r.Context.InstanceMetadata; im != nil {
		switch {
		case im.Status == checks.Fail:
			r.Verdict = checks.Fail
		case im.Status == checks.Warn && r.Verdict == checks.Pass:
			r.Verdict = checks.Warn
		}
	}
}

// Failed reports whether the run must exit 1: a service failed, or a requested delivery failed.
func (r *Report) Failed() bool {
	return r.Verdict == checks.Fail || r.Delivery.CloudWatch == Failed
}
