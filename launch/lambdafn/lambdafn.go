// Package lambdafn runs the probe as one Lambda function per subnet (--runner lambda), for subnets
// whose tasks cannot pull the probe's image. A function with several subnets lets Lambda pick one
// per invocation, so each subnet gets its own; all are invoked at once, each report is read from
// its invocation's response (which comes back through Lambda, not the subnet), and every function
// the launch created is deleted, whatever happens.
package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// Runner runs launches through Lambda functions. Lambda is required.
type Runner struct {
	launch.Shared
	Lambda Lambda
}

// Lambda is the part of the Lambda client the launcher calls; *lambda.Client implements it.
type Lambda interface {
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, opts ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, opts ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
}

// Lambda function settings.
const (
	// LambdaRuntime and LambdaHandler: an OS-only runtime running the zip's bootstrap.
	LambdaRuntime = lambdatypes.RuntimeProvidedal2023
	LambdaHandler = "bootstrap"
	// lambdaMemoryMB: the probe needs ~40 MB, and a function's CPU share grows with its
	// memory; 256 MB keeps TLS handshakes and the SDK's start quick for a fraction of a cent.
	lambdaMemoryMB = 256
	// lambdaTimeoutSlack is added to the probe's own --deadline for the function's timeout: the
	// process's start and the response's post, so Lambda's timeout never cuts a report.
	lambdaTimeoutSlack = 10 * time.Second
	// maxLambdaTimeout is Lambda's limit on a function's timeout.
	maxLambdaTimeout = 900 * time.Second
)

// Config is one launch through Lambda.
type Config struct {
	LaunchID       string   // names the launch; each function's run id is <LaunchID>-<subnet>
	Subnets        []string // one function per subnet
	SecurityGroups []string // the functions' security groups (the task's): at least one
	Role           string   // the execution role of the functions it creates
	Code           []byte   // their zip, bootstrap inside
	Architecture   string   // ArchX86 or ArchARM, the bootstrap's
	// FunctionName, when set, is an existing function used as it is (one subnet: its own); the
	// launch neither creates nor deletes it.
	FunctionName string
	// Event is the probe's settings as event keys (flag names without --); run-id, subnet-id and
	// security-groups are added per subnet.
	Event map[string]any
	// ProbeDeadline is the probe's --deadline; the function's timeout adds lambdaTimeoutSlack.
	ProbeDeadline time.Duration
	Deadline      time.Duration // bound on the whole launch: create, wait, invoke

	// ForTask and Needs are as in Config: the application task reproduced (--for-task) and what
	// its task definition needs; the report carries them.
	ForTask *launch.Origin
	Needs   *needs.Needs

	// Families are the address families of the task reproduced ("ipv4", "ipv6"): a dual-stack
	// task's function gets Ipv6AllowedForDualStack, an IPv6-only one none (lambdafamilies.go).
	Families []string
}

// RunID returns the run id of the probe in subnet.
func (c Config) RunID(subnet string) string { return c.LaunchID + "-" + subnet }

// functionName is the function created for subnet: vpcprobe-<launch id>-<subnet>, at most 64
// characters of letters, digits, '-' and '_'.
func (c Config) functionName(subnet string) string {
	id := functionNameUnsafe.ReplaceAllString(c.LaunchID, "_")
	room := 64 - len("vpcprobe--") - len(subnet)
	if len(id) > room {
		id = id[:room]
	}
	return "vpcprobe-" + id + "-" + subnet
}

var functionNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// lambdaRun is one subnet's function as the launch follows it.
type lambdaRun struct {
	subnet, runID string
	function      string
	groups        []string
	created       bool   // CreateFunction was sent: the function may exist and is deleted at the end
	status        string // how far it got: NOT_CREATED, PENDING, FAILED, ACTIVE, INVOKED, FUNCTION_ERROR
	notTested     bool   // the launcher was refused before the probe could run
	report        *report.Report
	diags         []stopped.Diagnosis
	// onGroups, when set, is told the groups of an existing function (--function-name) once
	// they are read: the launch's inspection starts then.
	onGroups func(groups []string)
	// subnetCIDR returns the subnet's CIDR from the launch's inspection, "" when unknown: a
	// function has no task metadata to tell it.
	subnetCIDR func(ctx context.Context) string
	// subnetIPv6CIDR is the subnet's IPv6 CIDR from the inspection, "" when unknown; asked
	// after subnetCIDR, which waited for the inspection (lambdafamilies.go).
	subnetIPv6CIDR func(ctx context.Context) string
}

// Run runs the probe as a Lambda function in every subnet of c and returns the combined
// report. What goes wrong in a subnet is that subnet's diagnosis; the error is couldnottest.Err
// (wrapped, with the first cause) when no subnet could be tested because the launcher was
// refused. Every function the launch created is deleted before it returns, also when ctx ends
// (an interrupt) or c.Deadline falls.
func (l *Runner) Run(ctx context.Context, c Config) (*launch.Report, error) {
	started := l.Clock()
	deadline := launch.OrDefault(c.Deadline, launch.DefaultDeadline)
	runCtx, cancel := context.WithTimeoutCause(ctx, deadline, launch.ErrDeadline)
	defer cancel()

	runs := make([]*lambdaRun, len(c.Subnets))
	var insp *launch.Inspection // the configuration, read while the functions run
	if c.FunctionName == "" {
		insp = l.StartInspection(runCtx, c.Subnets, c.SecurityGroups, eventServices(c.Event), c.Needs)
	}
	var wg sync.WaitGroup
	for i, s := range c.Subnets {
		runs[i] = &lambdaRun{subnet: s, runID: c.RunID(s), status: "NOT_CREATED"}
		// insp is read when the function is about to be invoked: with --function-name it is
		// started (by onGroups, in the same goroutine) only once the function's groups are known.
		runs[i].subnetCIDR = func(ctx context.Context) string { return insp.SubnetCIDR(ctx, s) }
		runs[i].subnetIPv6CIDR = func(ctx context.Context) string { return insp.SubnetIPv6CIDR(ctx, s) }
		if c.FunctionName != "" { // one subnet; its groups are the function's
			runs[i].onGroups = func(groups []string) {
				insp = l.StartInspection(runCtx, []string{s}, groups, eventServices(c.Event), c.Needs)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.lambdaSubnet(runCtx, c, runs[i])
			if runCtx.Err() != nil && runs[i].report == nil && len(runs[i].diags) == 0 {
				runs[i].diags = append(runs[i].diags, l.cutShort(ctx, deadline, runs[i]))
			}
		}()
	}
	wg.Wait()
	l.deleteFunctions(runs)

	rep := &launch.Report{Schema: launch.Schema, LaunchID: c.LaunchID, Runner: launch.RunnerLambda, StartedAt: started.UTC().Format(time.RFC3339),
		Interrupted: ctx.Err() != nil, ForTask: c.ForTask, Needs: c.Needs}
	var refused []string
	for _, r := range runs {
		s := launch.SubnetReport{Subnet: r.subnet, RunID: r.runID, FunctionName: r.function, LastStatus: r.status,
			Report: r.report, Diagnoses: append([]stopped.Diagnosis{}, r.diags...)}
		if r.report != nil {
			s.Diagnoses = append(reportDiagnoses(r.report), s.Diagnoses...)
			if d, ok := publicIPNote(c.ForTask, r.report); ok {
				s.Diagnoses = append(s.Diagnoses, d)
			}
		}
		if r.notTested {
			// Not measured is not failed: as with the ECS runner, a subnet the launcher could not
			// start a probe in is skip, and the launch is judged by the subnets measured.
			for i := range s.Diagnoses {
				s.Diagnoses[i].Verdict = checks.Skip
			}
		}
		s.Verdict = launch.SubnetVerdict(s)
		rep.Subnets = append(rep.Subnets, s)
		if r.notTested && len(r.diags) > 0 {
			refused = append(refused, r.subnet+": "+r.diags[0].Diagnosis)
		}
	}
	insp.Join(&l.Shared, rep)
	rep.DurationMS = l.Clock().Sub(started).Milliseconds()
	rep.Finish()
	if len(refused) > 0 && len(refused) == len(runs) {
		// The launcher itself was refused everywhere (CreateFunction denied, a role Lambda cannot
		// use, a function that cannot be read): nothing was measured, exit 3. The report is
		// still returned, with the reasons.
		return rep, fmt.Errorf("%w: %s", couldnottest.Err, refused[0])
	}
	return rep, nil
}

// lambdaSubnet creates (or checks) the subnet's function, waits for it to be Active, invokes it
// and reads the report from the response.
func (l *Runner) lambdaSubnet(ctx context.Context, c Config, r *lambdaRun) {
	r.groups = c.SecurityGroups
	if c.FunctionName != "" {
		if !l.existingFunction(ctx, c, r) {
			return
		}
		if r.onGroups != nil {
			r.onGroups(r.groups)
		}
	} else if c.ipv6OnlyLaunch() {
		r.diags, r.notTested = []stopped.Diagnosis{ipv6OnlyDiagnosis(r.subnet)}, true
		return
	} else {
		r.function, r.created = c.functionName(r.subnet), true
		timeout := min(c.ProbeDeadline+lambdaTimeoutSlack, maxLambdaTimeout)
		_, err := l.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName:  aws.String(r.function),
			Role:          aws.String(c.Role),
			Runtime:       LambdaRuntime,
			Handler:       aws.String(LambdaHandler),
			Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(c.Architecture)},
			Code:          &lambdatypes.FunctionCode{ZipFile: c.Code},
			Timeout:       aws.Int32(int32(timeout.Seconds() + 0.999)),
			MemorySize:    aws.Int32(lambdaMemoryMB),
			VpcConfig:     c.vpcConfig(r.subnet),
			Description:   aws.String("vpcprobe launch " + c.LaunchID + ": probes " + r.subnet + "; deleted when the launch ends"),
			Tags: map[string]string{"vpcprobe:launch-id": c.LaunchID, "vpcprobe:subnet": r.subnet,
				// A function outliving this is a crashed launch's: SweepExpired deletes it.
				ExpiresTag: l.Clock().Add(launch.OrDefault(c.Deadline, launch.DefaultDeadline) + timeout).UTC().Format(time.RFC3339)},
		})
		if err != nil {
			if ctx.Err() == nil {
				r.diags, r.notTested = []stopped.Diagnosis{createError(err, c)}, true
				l.Progressf("%s: CreateFunction failed: %v", r.subnet, err)
			}
			return
		}
		r.status = "PENDING"
		l.Progressf("%s: created function %s; waiting for its network interface (Pending → Active)", r.subnet, r.function)
	}

	if !l.waitActive(ctx, r) {
		return
	}
	r.status = "ACTIVE"
	ev := map[string]any{}
	for k, v := range c.Event {
		ev[k] = v
	}
	ev["run-id"], ev["subnet-id"] = r.runID, r.subnet
	c.familiesEvent(ctx, ev, r)
	if _, given := c.Event["subnet-cidr"]; !given && r.subnetCIDR != nil {
		if cidr := r.subnetCIDR(ctx); cidr != "" {
			ev["subnet-cidr"] = cidr
		}
	}
	if len(r.groups) > 0 {
		ev["security-groups"] = strings.Join(r.groups, ",")
	}
	payload, err := json.Marshal(ev)
	if err != nil { // strings and booleans only
		panic("launch: marshal event: " + err.Error())
	}
	out, err := l.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(r.function), Payload: payload})
	if err != nil {
		if ctx.Err() == nil {
			r.diags, r.notTested = []stopped.Diagnosis{invokeError(err)}, true
			l.Progressf("%s: Invoke failed: %v", r.subnet, err)
		}
		return
	}
	if out.FunctionError != nil {
		r.status = "FUNCTION_ERROR"
		r.diags = []stopped.Diagnosis{functionError(out.Payload, c)}
		l.Progressf("%s: the function failed: %s", r.subnet, stopped.Redact(string(out.Payload)))
		return
	}
	var rep report.Report
	if err := json.Unmarshal(out.Payload, &rep); err != nil || rep.Schema == "" {
		r.status = "FUNCTION_ERROR"
		r.diags = []stopped.Diagnosis{{Verdict: checks.Fail, Error: stopped.Unknown, Cause: stopped.CauseNoReport, Source: "launcher", Raw: stopped.Redact(string(out.Payload)),
			Diagnosis:   fmt.Sprintf("Function %s answered something that is not a vpcprobe report.", r.function),
			Remediation: "Point --function-name at a vpcprobe function (handler bootstrap, the vpcprobe binary), or let the launch create one.",
		}}
		return
	}
	r.status, r.report = "INVOKED", &rep
	l.Progressf("%s: report %s, verdict %s", r.subnet, rep.RunID, rep.Verdict)
}

// existingFunction checks that --function-name is attached to the subnet, and only to it.
func (l *Runner) existingFunction(ctx context.Context, c Config, r *lambdaRun) bool {
	r.function = c.FunctionName
	out, err := l.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(c.FunctionName)})
	if err != nil {
		if ctx.Err() == nil {
			d := invokeError(err)
			d.Diagnosis = fmt.Sprintf("The launcher could not read function %s: %s.", c.FunctionName, launch.APIMessage(err))
			r.diags, r.notTested = []stopped.Diagnosis{d}, true
		}
		return false
	}
	r.status = "EXISTING"
	var subnets []string
	if conf := out.Configuration; conf != nil && conf.VpcConfig != nil {
		subnets, r.groups = conf.VpcConfig.SubnetIds, conf.VpcConfig.SecurityGroupIds
	}
	if len(subnets) == 1 && subnets[0] == r.subnet {
		return true
	}
	what := "is not attached to a VPC: it reaches AWS from Lambda's own network, not from the subnet"
	if len(subnets) > 0 {
		what = fmt.Sprintf("is attached to subnets %s: Lambda picks one of them for each invocation, so it would not test %s alone", strings.Join(subnets, ","), r.subnet)
	}
	r.diags, r.notTested = []stopped.Diagnosis{{Verdict: checks.Fail, Error: stopped.TaskConfig, Cause: CauseLambda, Source: "launcher",
		Diagnosis:   fmt.Sprintf("Function %s %s.", c.FunctionName, what),
		Remediation: fmt.Sprintf("Attach the function to %s alone: aws lambda update-function-configuration --function-name %s --vpc-config SubnetIds=%s,SecurityGroupIds=<the task's groups>; or drop --function-name and let the launch create one per subnet.", r.subnet, c.FunctionName, r.subnet),
	}}, true
	return false
}

// waitActive waits with the SDK's FunctionActiveV2 waiter until the function is Active: Lambda
// creates its network interface in the subnet meanwhile. A function that fails is the subnet's
// diagnosis, translated from its StateReasonCode.
func (l *Runner) waitActive(ctx context.Context, r *lambdaRun) bool {
	left := time.Hour
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	if left <= 0 {
		return false
	}
	w := lambda.NewFunctionActiveV2Waiter(l.Lambda, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = l.PollFirstOr(), max(l.PollMaxOr(), l.PollFirstOr())
	})
	err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(r.function)}, left)
	if err == nil {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	// The waiter says only "failure" or "max wait": the function's state says why.
	out, gerr := l.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(r.function)})
	if gerr != nil || out.Configuration == nil {
		if ctx.Err() != nil {
			return false
		}
		d := invokeError(err)
		if gerr != nil {
			d = invokeError(gerr)
		}
		r.diags, r.notTested = []stopped.Diagnosis{d}, true
		return false
	}
	conf := out.Configuration
	r.status = strings.ToUpper(string(conf.State))
	r.diags = []stopped.Diagnosis{stateDiagnosis(r, string(conf.StateReasonCode), aws.ToString(conf.StateReason))}
	r.notTested = stateUntested(string(conf.StateReasonCode))
	l.Progressf("%s: function %s is %s: %s", r.subnet, r.function, conf.State, aws.ToString(conf.StateReason))
	return false
}

// deleteFunctions deletes every function the launch created, concurrently, each with a fresh
// bounded context: the launch's own may be over (interrupt, deadline). A function that cannot
// be deleted is its subnet's diagnosis, with the command that deletes it.
func (l *Runner) deleteFunctions(runs []*lambdaRun) {
	var wg sync.WaitGroup
	for _, r := range runs {
		if !r.created {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), l.StopTimeoutOr())
			defer cancel()
			_, err := l.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(r.function)})
			var nf *lambdatypes.ResourceNotFoundException
			switch {
			case err == nil:
				l.Progressf("%s: deleted function %s", r.subnet, r.function)
			case errors.As(err, &nf): // never created: CreateFunction was cut short or refused
			default:
				l.Progressf("%s: DeleteFunction %s failed: %v", r.subnet, r.function, err)
				r.diags = append(r.diags, stopped.Diagnosis{Verdict: checks.Warn, Error: checks.Classify(err), Cause: CauseLambda, Source: "launcher", Raw: stopped.Redact(err.Error()),
					Diagnosis:   fmt.Sprintf("The launcher could not delete function %s: %s.", r.function, launch.APIMessage(err)),
					Remediation: fmt.Sprintf("Delete it: aws lambda delete-function --function-name %s (and allow the launcher lambda:DeleteFunction).", r.function),
				})
			}
		}()
	}
	wg.Wait()
}

// cutShort is the diagnosis of a subnet whose function had not answered when the launch's
// context ended: an interrupt (parent ended) or the launch's --deadline.
func (l *Runner) cutShort(parent context.Context, deadline time.Duration, r *lambdaRun) stopped.Diagnosis {
	if parent.Err() != nil {
		return stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.Interrupted, Cause: stopped.CauseInterrupted, Source: "launcher",
			Diagnosis:   fmt.Sprintf("The launch was interrupted while function %s was %s; it was deleted.", stopped.OrDash(r.function), strings.ToLower(r.status)),
			Remediation: "Run the launch again and let it finish.",
		}
	}
	return stopped.Diagnosis{Verdict: checks.Fail, Error: checks.Deadline, Cause: stopped.CausePending, Source: "launcher",
		Diagnosis:   fmt.Sprintf("The launch's --deadline (%s) fell while function %s was %s.", deadline, stopped.OrDash(r.function), strings.ToLower(r.status)),
		Remediation: "Raise --deadline: a function's first network interface in a subnet can take a minute or two to create.",
	}
}

// reportDiagnoses are a probe report's failed and warned services, as diagnoses.
func reportDiagnoses(rep *report.Report) []stopped.Diagnosis {
	var ds []stopped.Diagnosis
	for _, sr := range rep.Services {
		if sr.Verdict == checks.Fail || sr.Verdict == checks.Warn {
			ds = append(ds, stopped.Diagnosis{
				Service: sr.Service, Host: sr.Host, EndpointService: sr.EndpointService, EndpointType: sr.EndpointType,
				Verdict: sr.Verdict, Error: sr.Error, Cause: stopped.CauseProbe, Source: "report",
				Diagnosis: sr.Diagnosis, Remediation: sr.Remediation,
			})
		}
	}
	if rep.Delivery.CloudWatch == report.Failed {
		ds = append(ds, stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.NoReport, Cause: stopped.CauseNoReport, Source: "report", Raw: rep.Delivery.Error,
			Diagnosis:   "The probe could not deliver its report to CloudWatch Logs: " + rep.Delivery.Error + "; the launcher read it from the invocation's response.",
			Remediation: "Fix the logs path (the logs service above) or the function role's logs:PutLogEvents permission, or drop --log-group.",
		})
	}
	return ds
}

// publicIPNote warns, when the task the launch reproduces had a public IP, that a public route
// the function found black-holed may be the task's way out: an internet gateway carries a task
// with assignPublicIp, never a function.
func publicIPNote(origin *launch.Origin, rep *report.Report) (stopped.Diagnosis, bool) {
	if origin == nil || origin.AssignPublicIP != string(ecstypes.AssignPublicIpEnabled) {
		return stopped.Diagnosis{}, false
	}
	for _, sr := range rep.Services {
		if sr.Route == report.RoutePublic && sr.Error == checks.Timeout {
			return stopped.Diagnosis{Verdict: checks.Warn, Error: checks.Timeout, Cause: CauseLambda, Source: "launcher",
				Diagnosis:   fmt.Sprintf("Task %s ran with a public IP (assignPublicIp ENABLED) and the function has none: public routes that timed out here (%s first) may still carry the task through an internet gateway.", origin.TaskARN, sr.Service),
				Remediation: "Read the public-route timeouts above as what a task without a public IP meets; for the task itself, check that its subnet's route table sends 0.0.0.0/0 to an internet gateway, or add the endpoints and drop the public IP.",
			}, true
		}
	}
	return stopped.Diagnosis{}, false
}

// CauseLambda is the cause of what the launcher saw of a Lambda function: its creation, its
// state, its invocation, its deletion.
const CauseLambda = "lambda-function"

// createError explains a CreateFunction the launcher was refused.
func createError(err error, c Config) stopped.Diagnosis {
	d := stopped.Diagnosis{Verdict: checks.Fail, Cause: CauseLambda, Source: "create_function", Raw: stopped.Redact(err.Error())}
	var ae smithy.APIError
	code := checks.Classify(err)
	switch {
	case code == checks.AccessDenied:
		d.Error = code
		d.Diagnosis = fmt.Sprintf("The launcher may not create the probe's function: %s.", launch.APIMessage(err))
		d.Remediation = fmt.Sprintf("Allow the launcher's identity lambda:CreateFunction, lambda:GetFunction, lambda:InvokeFunction and lambda:DeleteFunction on functions named vpcprobe-*, and iam:PassRole on %s.", c.Role)
	case code == checks.AuthFailed:
		d.Error = code
		d.Diagnosis = fmt.Sprintf("The launcher's credentials were refused: %s.", launch.APIMessage(err))
		d.Remediation = "Check the launcher's AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, the pipeline's role) and the machine's clock."
	case errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "cannot be assumed by Lambda"):
		d.Error = stopped.TaskConfig
		d.Diagnosis = fmt.Sprintf("Lambda cannot assume --lambda-role %s: %s.", c.Role, ae.ErrorMessage())
		d.Remediation = "Give the role the trust policy of taskdef/iam/lambda-trust.json (principal lambda.amazonaws.com); a role just created takes a few seconds to become usable."
	case errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "CreateNetworkInterface"):
		d.Error = checks.AccessDenied
		d.Diagnosis = fmt.Sprintf("--lambda-role %s may not create the function's network interface: %s.", c.Role, ae.ErrorMessage())
		d.Remediation = "Attach the policy of taskdef/iam/lambda-execution-role.json (or the managed AWSLambdaVPCAccessExecutionRole) to the role."
	case errors.As(err, &ae):
		d.Error = stopped.TaskConfig
		d.Diagnosis = fmt.Sprintf("Lambda refused to create the function (%s): %s.", ae.ErrorCode(), ae.ErrorMessage())
		d.Remediation = "Check --subnets and --security-groups (same VPC, this region), --lambda-role and --lambda-zip."
	default:
		d.Error = code
		d.Diagnosis = fmt.Sprintf("CreateFunction failed: %s.", stopped.Redact(err.Error()))
		d.Remediation = "Check the launcher's network path to the Lambda API and run the launch again."
	}
	return d
}

// invokeError explains an Invoke (or GetFunction) call the launcher was refused.
func invokeError(err error) stopped.Diagnosis {
	d := stopped.Diagnosis{Verdict: checks.Fail, Error: checks.Classify(err), Cause: CauseLambda, Source: "invoke", Raw: stopped.Redact(err.Error()),
		Diagnosis:   fmt.Sprintf("The launcher could not invoke the function: %s.", launch.APIMessage(err)),
		Remediation: "Allow the launcher's identity lambda:InvokeFunction and lambda:GetFunction on the function, and check its path to the Lambda API.",
	}
	return d
}

// functionError explains an invocation that answered a function error instead of a report.
func functionError(payload []byte, c Config) stopped.Diagnosis {
	var doc struct{ ErrorType, ErrorMessage string }
	json.Unmarshal(payload, &doc)
	d := stopped.Diagnosis{Verdict: checks.Fail, Cause: CauseLambda, Source: "function_error", Raw: stopped.Redact(string(payload))}
	switch {
	case doc.ErrorType == UsageErrorType:
		d.Error = stopped.TaskConfig
		d.Diagnosis = fmt.Sprintf("The probe rejected its configuration and measured nothing: %s.", stopped.Redact(doc.ErrorMessage))
		d.Remediation = "Fix the setting named: the launch passes the probe's flags (--services, --timeout, --probe-env, …) as the invocation's event keys."
	case doc.ErrorType == "Sandbox.Timedout" || strings.Contains(doc.ErrorMessage, "Task timed out"):
		d.Error = checks.Deadline
		d.Diagnosis = "The function timed out before the probe answered: " + stopped.Redact(doc.ErrorMessage) + "."
		d.Remediation = "Raise the function's timeout above --probe-deadline (the launch sets it to --probe-deadline plus 10s)."
	default:
		d.Error = stopped.StartFailed
		d.Diagnosis = fmt.Sprintf("The function's bootstrap failed (%s): %s.", stopped.OrDash(doc.ErrorType), stopped.Redact(doc.ErrorMessage))
		d.Remediation = "Build the zip as the README shows (GOOS=linux GOARCH=" + goarch(c.Architecture) + " go build -o bootstrap ./cmd/vpcprobe), with bootstrap at its top level."
	}
	return d
}

// UsageErrorType is the errorType of the probe's function error for a bad event or variable
// (cmd/vpcprobe answers it).
const UsageErrorType = "vpcprobe.UsageError"

func goarch(arch string) string {
	if arch == ArchARM {
		return "arm64"
	}
	return "amd64"
}

// functionStates translates a function's StateReasonCode when it did not become Active. Lambda's
// codes, not text: the table is the rules, StateReason is kept as raw.
// The codes are the FunctionConfiguration.StateReasonCode values of the Lambda API reference
// (the SDK's lambdatypes.StateReasonCode). untested marks the launcher's own setup failing
// (its role, the ids it was given): the subnet was not measured, as when CreateFunction itself
// is refused; a subnet out of addresses or an account out of interfaces fails a task there too.
var functionStates = []stateRule{
	{string(lambdatypes.StateReasonCodeInsufficientRolePermissions), checks.AccessDenied, true,
		"Lambda could not attach function %[1]s to %[2]s: its execution role lacks the EC2 network-interface permissions.",
		"Attach the policy of taskdef/iam/lambda-execution-role.json (or the managed AWSLambdaVPCAccessExecutionRole) to --lambda-role."},
	{string(lambdatypes.StateReasonCodeSubnetOutOfIPAddresses), stopped.NetworkInterface, false,
		"Subnet %[2]s has no free IP address for function %[1]s's network interface: a task there fails the same way.",
		"Free addresses in %[2]s (stop unused tasks, delete unused network interfaces) or move the workload to a larger subnet."},
	{string(lambdatypes.StateReasonCodeEniLimitExceeded), stopped.NetworkInterface, false,
		"The account's network interface quota is used up: Lambda could not create one for function %[1]s in %[2]s.",
		"Delete unused network interfaces or raise the EC2 quota 'Network interfaces per Region'."},
	{string(lambdatypes.StateReasonCodeInvalidSubnet), stopped.TaskConfig, true,
		"Lambda rejected subnet %[2]s for function %[1]s.",
		"Check the subnet id and that it is in this region and in the security groups' VPC."},
	{string(lambdatypes.StateReasonCodeInvalidSecurityGroup), stopped.TaskConfig, true,
		"Lambda rejected the security groups of function %[1]s.",
		"Check --security-groups: ids of this region, in the subnet's VPC."},
}

// stateRule is one row of functionStates.
type stateRule struct {
	code        string
	err         checks.Code
	untested    bool   // the launcher's setup failed, not the subnet: could not test
	diagnosis   string // %[1]s is the function, %[2]s the subnet
	remediation string
}

// stateUntested reports whether a function that did not become Active for code says nothing
// of the subnet (functionStates' untested).
func stateUntested(code string) bool {
	i := slices.IndexFunc(functionStates, func(s stateRule) bool { return s.code == code })
	return i >= 0 && functionStates[i].untested
}

// stateDiagnosis explains a function that did not become Active.
func stateDiagnosis(r *lambdaRun, code, reason string) stopped.Diagnosis {
	d := stopped.Diagnosis{Verdict: checks.Fail, Error: stopped.Unknown, Cause: CauseLambda, Source: "function_state", Raw: stopped.Redact(code + ": " + reason),
		Diagnosis:   fmt.Sprintf("Function %s did not become Active in %s (%s): %s.", r.function, r.subnet, stopped.OrDash(code), stopped.Redact(reason)),
		Remediation: "See the function's state reason in the Lambda console; Lambda needs the subnet's and groups' ids to be valid and an address free in the subnet.",
	}
	if i := slices.IndexFunc(functionStates, func(s stateRule) bool { return s.code == code }); i >= 0 {
		s := functionStates[i]
		d.Error = s.err
		d.Diagnosis = fmt.Sprintf(s.diagnosis, r.function, r.subnet)
		d.Remediation = fmt.Sprintf(s.remediation, r.function, r.subnet)
	}
	return d
}

// eventServices is the services event key of a Lambda launch, else the probe's default.
func eventServices(ev map[string]any) string {
	if s, ok := ev["services"].(string); ok && strings.TrimSpace(s) != "" {
		return s
	}
	return catalogue.DefaultServices
}
