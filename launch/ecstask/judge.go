package ecstask

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// judge turns what the launch saw of one subnet's task into its report: the probe's report when
// it was found, else the translation of why the task never ran, else its exit code.
func judge(c Config, r *run, deadline time.Duration) launch.SubnetReport {
	s := launch.SubnetReport{Subnet: r.subnet, RunID: r.runID, TaskARN: r.arn, Diagnoses: []stopped.Diagnosis{}}
	if r.task != nil {
		t := r.task
		s.AvailabilityZone = aws.ToString(t.AvailabilityZone)
		s.LastStatus = aws.ToString(t.LastStatus)
		s.StopCode = string(t.StopCode)
		s.StoppedReason = stopped.Redact(aws.ToString(t.StoppedReason))
		s.ExitCode = probeExit(c, t)
	}
	switch {
	case r.arn == "":
		s.LastStatus = "NOT_STARTED"
		s.Diagnoses = append(s.Diagnoses, r.startDiag...)
	case len(r.endDiag) > 0:
		// Stopped by the launcher (deadline, interrupt) or lost: whatever ECS already said comes
		// first, since it is the cause when there is one.
		if s.ExitCode == nil {
			for _, d := range stopped.Translate(stopped.TaskFacts(r.task)) {
				if d.Cause != stopped.CauseStopped { // our own StopTask
					s.Diagnoses = append(s.Diagnoses, d)
				}
			}
		}
		s.Diagnoses = append(s.Diagnoses, r.endDiag...)
	case s.ExitCode == nil:
		s.Diagnoses = append(s.Diagnoses, stopped.Translate(stopped.TaskFacts(r.task))...)
		if len(s.Diagnoses) == 0 {
			s.Diagnoses = append(s.Diagnoses, stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.Unknown, Cause: stopped.CauseUnknown, Source: "exit_code",
				Raw:         s.StoppedReason,
				Diagnosis:   fmt.Sprintf("The task stopped without the probe container %q having run, and ECS gave no reason.", c.Container),
				Remediation: "Check --container: it must name the probe's container in the task definition.",
			})
		}
	case r.report != nil:
		s.Report = r.report
		for _, sr := range r.report.Services {
			if sr.Verdict == checks.Fail || sr.Verdict == checks.Warn {
				s.Diagnoses = append(s.Diagnoses, stopped.Diagnosis{
					Service: sr.Service, Host: sr.Host, EndpointService: sr.EndpointService, EndpointType: sr.EndpointType,
					Verdict: sr.Verdict, Error: sr.Error, Cause: stopped.CauseProbe, Source: "report",
					Diagnosis: sr.Diagnosis, Remediation: sr.Remediation,
				})
			}
		}
		if r.report.Delivery.CloudWatch == report.Failed {
			s.Diagnoses = append(s.Diagnoses, stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.NoReport, Cause: stopped.CauseNoReport, Source: "report",
				Raw: r.report.Delivery.Error, Diagnosis: "The probe could not deliver its report to CloudWatch Logs: " + r.report.Delivery.Error + ".",
				Remediation: "Fix the logs path (the logs service above) or the task role's logs:PutLogEvents permission."})
		}
	default:
		s.Diagnoses = append(s.Diagnoses, exitDiagnoses(c, r, *s.ExitCode)...)
	}
	s.Verdict = launch.SubnetVerdict(s)
	if s.Verdict == checks.Skip {
		s.Untested = r.untested
	}
	return s
}

// exitDiagnoses explains a probe that ran but whose report was not found: its exit status is
// CONTRACT.md's (0 pass or warn, 1 a failure or a failed delivery, 2 bad configuration).
func exitDiagnoses(c Config, r *run, code int32) []stopped.Diagnosis {
	region, account := stopped.ARNRegionAccount(r.arn)
	note := r.reportNote
	if note == "" {
		note = "not found"
	}
	where := "log group " + c.LogGroup
	if c.LogGroup == "" {
		where = "CloudWatch Logs"
	}
	switch code {
	case 0:
		// Exit 0 is CONTRACT.md's "passed or warned", but nothing here was measured by the
		// launcher: without the report it cannot tell which services passed, so the subnet
		// warns (never passes) and says where the report should have been.
		return []stopped.Diagnosis{{Verdict: checks.Warn, Error: stopped.NoReport, Cause: stopped.CauseNoReport, Source: "exit_code", Raw: note,
			Diagnosis: fmt.Sprintf("No report: the probe exited 0 (every service passed or warned, by its own account), but the report of run %s was not read from %s (%s), so nothing it measured is known here.", r.runID, where, note),
			Remediation: fmt.Sprintf("Look for run id %s in %s (aws logs filter-log-events --log-group-name %s --filter-pattern '\"%s\"'); make --log-group name the group the probe writes to (its VPCPROBE_LOG_GROUP), and let the launcher call logs:FilterLogEvents and logs:GetLogEvents on it; with an awslogs task definition the probe's stdout, report included, is in its awslogs stream (give --awslogs-stream-prefix to read it from there).",
				r.runID, where, stopped.OrText(c.LogGroup, "<log-group>"), r.runID),
		}}
	case 1:
		d := stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.NoReport, Cause: stopped.CauseNoReport, Source: "exit_code", Raw: note,
			Diagnosis: fmt.Sprintf("The probe exited 1: a service failed, or its report could not be delivered; no report of run %s is in %s (%s), so the delivery itself most likely failed: the logs path from this subnet is the first suspect.", r.runID, where, note),
		}
		d = stopped.WithService(d, "logs", "", region, account)
		d.Remediation = stopped.NetworkFix(d) + " Also check the probe's task role allows logs:CreateLogStream and logs:PutLogEvents on the group; the awslogs task definition keeps the probe's stdout, whole report included, when its own delivery fails."
		return []stopped.Diagnosis{d}
	case 2:
		return []stopped.Diagnosis{{Verdict: checks.Fail, Error: stopped.TaskConfig, Cause: stopped.CauseExit, Source: "exit_code",
			Diagnosis:   "The probe exited 2: it rejected its configuration (a flag or VPCPROBE_* variable) and printed no report; its one-line reason is on stderr, which only a task definition with a log driver keeps.",
			Remediation: "Check the VPCPROBE_* variables of the task definition and of this launch's flags (vpcprobe --help lists them); the awslogs task definition shows the reason.",
		}}
	}
	ds := stopped.Translate(stopped.TaskFacts(r.task))
	kept := ds[:0]
	for _, d := range ds {
		if d.Cause != stopped.CauseStopped {
			kept = append(kept, d)
		}
	}
	if len(kept) > 0 {
		return kept
	}
	why := "an unexpected exit status"
	switch code {
	case 137:
		why = "killed (SIGKILL): out of memory, or not stopped within the stop timeout"
	case 139:
		why = "a crash (SIGSEGV)"
	case 143:
		why = "terminated (SIGTERM): the task was stopped"
	}
	return []stopped.Diagnosis{{Verdict: checks.Fail, Error: stopped.ExitCode, Cause: stopped.CauseExit, Source: "exit_code", Raw: stopped.Redact(aws.ToString(r.task.StoppedReason)),
		Diagnosis:   fmt.Sprintf("The probe exited %d, %s, and left no report.", code, why),
		Remediation: "Give the task more memory if it was killed, and run it again.",
	}}
}

// taskFacts is the translation's view of an SDK task.

// runTaskFailure translates a RunTask failures[] reason: capacity, network interfaces, a
// missing cluster or task definition.
func runTaskFailure(reason string) stopped.Diagnosis {
	d, ok := stopped.TranslateReason(reason, "", "")
	if !ok {
		d = stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.Unknown, Cause: stopped.CauseRunTask, Raw: stopped.Redact(reason),
			Diagnosis:   fmt.Sprintf("ECS did not start the task: %s.", stopped.Redact(reason)),
			Remediation: "See the API failure reasons in the ECS developer guide; MISSING means the cluster or task definition does not exist in this region.",
		}
		if reason == "MISSING" {
			d.Error = stopped.TaskConfig
		}
	}
	d.Source = "run_task"
	return d
}

// runTaskError explains a RunTask call that failed: the launcher's permissions, or a task
// definition, cluster or subnet that is not what the flags say. Nothing ran, so nothing about
// the subnet was measured: the diagnosis is skip, and says so.
func runTaskError(err error, c Config) stopped.Diagnosis {
	d := runTaskErrorText(err, c)
	d.Verdict = checks.Skip
	d.Diagnosis = "Not measured: " + d.Diagnosis
	return d
}

func runTaskErrorText(err error, c Config) stopped.Diagnosis {
	d := stopped.Diagnosis{Verdict: checks.Fail, Cause: stopped.CauseRunTask, Source: "run_task", Raw: stopped.Redact(err.Error())}
	var ae smithy.APIError
	code := checks.Classify(err)
	switch {
	case code == checks.AccessDenied:
		d.Error = code
		d.Diagnosis = fmt.Sprintf("The launcher may not run the task: %s.", launch.APIMessage(err))
		d.Remediation = "Allow the launcher's identity ecs:RunTask on the task definition and iam:PassRole on the task definition's task and execution roles."
	case code == checks.AuthFailed:
		d.Error = code
		d.Diagnosis = fmt.Sprintf("The launcher's credentials were refused: %s.", launch.APIMessage(err))
		d.Remediation = "Check the launcher's AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, the pipeline's role) and the machine's clock."
	case errors.As(err, &ae) && (ae.ErrorCode() == "ClusterNotFoundException" || ae.ErrorCode() == "InvalidParameterException" ||
		ae.ErrorCode() == "ClientException" || ae.ErrorCode() == "PlatformUnknownException" || ae.ErrorCode() == "PlatformTaskDefinitionIncompatibilityException"):
		d.Error = stopped.TaskConfig
		d.Diagnosis = fmt.Sprintf("ECS refused to run the task (%s): %s.", ae.ErrorCode(), ae.ErrorMessage())
		d.Remediation = fmt.Sprintf("Check --cluster %s, --task-definition %s, the subnet and security groups (same VPC, this region) and --container %s (a container of the task definition).", c.Cluster, c.TaskDefinition, c.Container)
	default:
		d.Error = code
		d.Diagnosis = fmt.Sprintf("RunTask failed: %s.", stopped.Redact(err.Error()))
		d.Remediation = "Check the launcher's network path to the ECS API and run the launch again."
	}
	return d
}

// describeError explains a wait that ended because DescribeTasks kept failing: the task's
// outcome is unknown, so the subnet was not measured (skip).
func describeError(err error, c Config) stopped.Diagnosis {
	d := stopped.Diagnosis{Verdict: checks.Skip, Error: checks.Classify(err), Cause: stopped.CauseDescribe, Source: "launcher", Raw: stopped.Redact(err.Error()),
		Diagnosis:   fmt.Sprintf("Not measured: the launcher could not follow the task: DescribeTasks failed %d times in a row: %s.", describeAttempts, launch.APIMessage(err)),
		Remediation: fmt.Sprintf("Allow the launcher ecs:DescribeTasks on the tasks of cluster %s; the task itself ends within the probe's deadline.", c.Cluster),
	}
	return d
}

// apiMessage is an API error's code and message, or the error's text.
