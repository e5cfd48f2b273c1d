package probe

import (
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// runner is what the probe runs as: the configured runner (the Lambda wiring sets "lambda"), else
// an ECS task when task metadata named one, else a host.
func (p *Prober) runner() string {
	switch {
	case p.Runner != "":
		return p.Runner
	case p.Metadata.TaskARN != "":
		return report.RunnerECSTask
	}
	return report.RunnerHost
}

// Sentences added to a Lambda function's diagnoses where the function and the task it stands in
// for differ (AWS-NOTES.md, "Lambda in a VPC").
const (
	// lambdaNoPublicIP: a task with assignPublicIp reaches the internet through an internet
	// gateway; a function's ENIs never get a public address, so only a NAT or an endpoint serves it.
	lambdaNoPublicIP = "This probe ran as a Lambda function, which never has a public IP: if this subnet's only way out is an internet gateway, a Fargate task with assignPublicIp reaches the public address and the function does not; an interface endpoint (or a NAT gateway) serves both."
	// lambdaRole: the probe signs with the function's execution role, not the task's roles.
	lambdaRole = "These IAM results are the Lambda function's execution role's, not your task's: the network path is what this run proves; check the permission on the task's own role."
)

// asLambda adds to the report's diagnoses what differs when the probe ran as a Lambda function:
// a public route that timed out may work for a task with a public IP, and IAM answers are the
// function's role's. Verdicts and codes stay what was measured.
func asLambda(rep *report.Report) {
	for i := range rep.Services {
		sr := &rep.Services[i]
		if (sr.Verdict != checks.Fail && sr.Verdict != checks.Warn) || sr.Error == LambdaPortRange {
			continue // a port-range verdict already says what differs from a task
		}
		switch {
		case sr.Route == report.RoutePublic && hasCode(sr.Checks, checks.Timeout):
			sr.Diagnosis = join(sr.Diagnosis, lambdaNoPublicIP)
		case hasCode(sr.Checks, checks.AccessDenied) || hasCode(sr.Checks, checks.AuthFailed):
			sr.Diagnosis = join(sr.Diagnosis, lambdaRole)
		}
	}
}

func hasCode(cs []report.CheckReport, code checks.Code) bool {
	for _, c := range cs {
		if c.Error == code {
			return true
		}
	}
	return false
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}
