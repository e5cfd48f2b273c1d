package fakeaws

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The ECS fake answers RunTask, DescribeTasks and StopTask. Each task lives a scripted life,
// PROVISIONING → PENDING → RUNNING → (DEPROVISIONING →) STOPPED, advancing one step per
// DescribeTasks answer that includes it, so tests decide exactly what a poller sees without
// waiting on a clock. A task that reaches RUNNING calls its script's OnRunning hook: a test's
// fake probe, which writes its report into the fake Logs store under the run id it was given.

// ecsOps are the ECS operations the fake answers.
var ecsOps = map[string]jsonOp{
	"RunTask":       (*Server).ecsRunTask,
	"DescribeTasks": (*Server).ecsDescribeTasks,
	"StopTask":      (*Server).ecsStopTask,
}

// Forever, as a TaskScript phase length, holds the task in that status until StopTask.
const Forever = -1

// TaskScript is the life of one task RunTask starts.
type TaskScript struct {
	// Reject answers RunTask with InvalidParameterException and this message, starting nothing
	// (a subnet that does not exist, an override naming no container of the task definition).
	Reject string
	// Failure answers RunTask with this reason in failures[] instead of a task, as ECS does when
	// it cannot place one ("Capacity is unavailable at this time. …", "RESOURCE:ENI").
	Failure string

	// DescribeTasks answers that see the task in each status before it moves on; Forever holds
	// it there. RunTask's own answer always says PROVISIONING.
	Provisioning, Pending, Running, Deprovisioning int
	// NeverRuns makes the task go from PENDING to STOPPED without running: a start failure.
	NeverRuns bool

	// StopCode and StoppedReason once STOPPED. Defaults: EssentialContainerExited and
	// "Essential container in task exited" for a task that ran, TaskFailedToStart otherwise.
	StopCode, StoppedReason string
	// ExitCode of every container once a task that ran has stopped, unless Containers says
	// otherwise.
	ExitCode int
	// Containers are what DescribeTasks says of each container once STOPPED. Empty means one
	// container per override (or one named "app"), with ExitCode when the task ran.
	Containers []ContainerScript
	// AvailabilityZone of the task; default the region's "a" zone.
	AvailabilityZone string

	// OnRunning is called once, outside the fake's locks, when the task first reaches RUNNING
	// (or stops after running without a poll having seen it RUNNING).
	OnRunning func(ECSTask)
}

// ContainerScript is one container of a stopped task.
type ContainerScript struct {
	Name     string
	Reason   string // containers[].reason: "CannotPullContainerError: …", "OutOfMemoryError: …"
	ExitCode *int   // nil: the container never ran
}

// ECSTask is one task the fake started: what RunTask was given, and where it is now.
type ECSTask struct {
	ARN              string
	Cluster          string // cluster name
	TaskDefinition   string
	LaunchType       string
	CapacityProvider string
	PlatformVersion  string
	Subnets          []string
	SecurityGroups   []string
	AssignPublicIP   string // ENABLED or DISABLED
	StartedBy        string
	Overrides        []ContainerOverride
	// Group is RunTask's group: service:NAME for a service's task.
	Group                string
	EnableExecuteCommand bool

	LastStatus string
	StopCalled bool   // StopTask was called for it
	StopReason string // the reason StopTask was given
}

// ContainerOverride is one containerOverrides entry of a RunTask call.
type ContainerOverride struct {
	Name        string
	Command     []string
	Environment map[string]string
}

// Env returns the value an override gave the environment variable name of container.
func (t ECSTask) Env(container, name string) string {
	for _, o := range t.Overrides {
		if o.Name == container {
			return o.Environment[name]
		}
	}
	return ""
}

// ecsState is one Server's ECS tasks. It lives beside Server, not in it, so that ECS stays one
// file of the fake; it has its own lock, never held while taking s.mu.
type ecsState struct {
	mu      sync.Mutex
	script  func(ECSTask) TaskScript
	tasks   []*fakeTask
	byARN   map[string]*fakeTask
	byToken map[string][]*fakeTask // RunTask clientToken → the tasks it started (idempotency)

	definitions *ecsDefs // task definitions and services (ecsdefs.go)
}

// fakeTask is one task and its progress through its script.
type fakeTask struct {
	ECSTask
	script    TaskScript
	polls     int    // DescribeTasks answers that included it
	shown     string // the status the latest answer gave
	ran       bool   // reached RUNNING (OnRunning was or is being called)
	stopped   bool
	created   time.Time
	startedAt time.Time
	stoppedAt time.Time
	stopCode  string
	reason    string
	exitCodes map[string]int // set by StopTask on a running task
}

var ecsStates sync.Map // *Server → *ecsState

func (s *Server) ecs() *ecsState {
	v, _ := ecsStates.LoadOrStore(s, &ecsState{byARN: map[string]*fakeTask{}, byToken: map[string][]*fakeTask{}})
	return v.(*ecsState)
}

// ScriptTasks makes fn decide the life of every task RunTask starts from now on, from what the
// task was started with. Without it a task passes one poll in each status and exits 0.
func (s *Server) ScriptTasks(fn func(ECSTask) TaskScript) {
	st := s.ecs()
	st.mu.Lock()
	st.script = fn
	st.mu.Unlock()
}

// ECSTasks returns the tasks started so far, oldest first.
func (s *Server) ECSTasks() []ECSTask {
	st := s.ecs()
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]ECSTask, len(st.tasks))
	for i, t := range st.tasks {
		out[i] = t.ECSTask
		out[i].LastStatus = t.status()
	}
	return out
}

// WriteLogEvents appends messages to a log stream as CloudWatch Logs would store them, creating
// the group and stream when missing: how a test's fake probe task delivers its report.
func (s *Server) WriteLogEvents(group, stream string, messages ...string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[group]
	if g == nil {
		g = &logGroup{created: now.UnixMilli(), streams: map[string]*logStream{}}
		s.groups[group] = g
	}
	st := g.streams[stream]
	if st == nil {
		st = &logStream{created: now.UnixMilli()}
		g.streams[stream] = st
	}
	for _, m := range messages {
		st.events = append(st.events, Event{Timestamp: now.UnixMilli(), IngestionTime: now.UnixMilli(), Message: m})
	}
}

// ecsTaskOut is a Task as DescribeTasks, RunTask and StopTask answer it.
type ecsTaskOut struct {
	TaskArn           string             `json:"taskArn"`
	ClusterArn        string             `json:"clusterArn"`
	TaskDefinitionArn string             `json:"taskDefinitionArn"`
	LastStatus        string             `json:"lastStatus"`
	DesiredStatus     string             `json:"desiredStatus"`
	LaunchType        string             `json:"launchType,omitempty"`
	CapacityProvider  string             `json:"capacityProviderName,omitempty"`
	PlatformVersion   string             `json:"platformVersion,omitempty"`
	AvailabilityZone  string             `json:"availabilityZone"`
	StartedBy         string             `json:"startedBy,omitempty"`
	CreatedAt         float64            `json:"createdAt"`
	StartedAt         *float64           `json:"startedAt,omitempty"`
	StoppingAt        *float64           `json:"stoppingAt,omitempty"`
	StoppedAt         *float64           `json:"stoppedAt,omitempty"`
	StopCode          string             `json:"stopCode,omitempty"`
	StoppedReason     string             `json:"stoppedReason,omitempty"`
	Containers        []ecsContainerOut  `json:"containers"`
	Overrides         ecsOverridesOut    `json:"overrides"`
	Attachments       []ecsAttachmentOut `json:"attachments"`
	Version           int                `json:"version"`
	Group             string             `json:"group,omitempty"`
	EnableExecCommand bool               `json:"enableExecuteCommand"`
}

type ecsContainerOut struct {
	ContainerArn string `json:"containerArn"`
	TaskArn      string `json:"taskArn"`
	Name         string `json:"name"`
	LastStatus   string `json:"lastStatus"`
	ExitCode     *int   `json:"exitCode,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

type ecsKeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type ecsOverrideIn struct {
	Name        string        `json:"name"`
	Command     []string      `json:"command,omitempty"`
	Environment []ecsKeyValue `json:"environment,omitempty"`
}

type ecsOverridesOut struct {
	ContainerOverrides []ecsOverrideIn `json:"containerOverrides"`
}

type ecsAttachmentOut struct {
	ID      string        `json:"id"`
	Type    string        `json:"type"`
	Status  string        `json:"status"`
	Details []ecsKeyValue `json:"details"`
}

type ecsFailure struct {
	Arn    string `json:"arn,omitempty"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// ecsClusterName reads a cluster given as a name or an ARN; ECS's default is "default".
func ecsClusterName(cluster string) string {
	if i := strings.LastIndex(cluster, "/"); i >= 0 {
		cluster = cluster[i+1:]
	}
	if cluster == "" {
		return "default"
	}
	return cluster
}

func ecsInvalid(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException", msg}
}

func (s *Server) ecsRunTask(c *call) (any, *apiError) {
	var in struct {
		Cluster                  string `json:"cluster"`
		TaskDefinition           string `json:"taskDefinition"`
		Count                    int    `json:"count"`
		LaunchType               string `json:"launchType"`
		PlatformVersion          string `json:"platformVersion"`
		StartedBy                string `json:"startedBy"`
		ClientToken              string `json:"clientToken"`
		Group                    string `json:"group"`
		EnableExecuteCommand     bool   `json:"enableExecuteCommand"`
		CapacityProviderStrategy []struct {
			CapacityProvider string `json:"capacityProvider"`
		} `json:"capacityProviderStrategy"`
		NetworkConfiguration struct {
			AwsvpcConfiguration *struct {
				Subnets        []string `json:"subnets"`
				SecurityGroups []string `json:"securityGroups"`
				AssignPublicIP string   `json:"assignPublicIp"`
			} `json:"awsvpcConfiguration"`
		} `json:"networkConfiguration"`
		Overrides struct {
			ContainerOverrides []ecsOverrideIn `json:"containerOverrides"`
		} `json:"overrides"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	cfg := s.config()
	cluster := ecsClusterName(in.Cluster)
	tdARN := in.TaskDefinition
	if !strings.HasPrefix(tdARN, "arn:") {
		tdARN = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s", cfg.Region, cfg.Account, in.TaskDefinition)
	}
	if aerr := c.authorize(s, "ecs:RunTask", tdARN); aerr != nil {
		return nil, aerr
	}
	// RunTask hands the task definition's roles to ECS: the caller needs iam:PassRole on them.
	if aerr := c.authorize(s, "iam:PassRole", fmt.Sprintf("arn:aws:iam::%s:role/vpcprobe-task", cfg.Account)); aerr != nil {
		return nil, aerr
	}
	switch {
	case in.Count > 10:
		return nil, ecsInvalid("count must be between 1 and 10.")
	case in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0:
		return nil, ecsInvalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	case in.NetworkConfiguration.AwsvpcConfiguration == nil:
		return nil, ecsInvalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	case len(in.NetworkConfiguration.AwsvpcConfiguration.Subnets) == 0:
		return nil, ecsInvalid("subnets can not be empty.")
	case len(in.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups) > 5:
		return nil, ecsInvalid("At most 5 security groups can be specified.")
	}
	if in.Count == 0 {
		in.Count = 1
	}
	vpc := in.NetworkConfiguration.AwsvpcConfiguration
	if vpc.AssignPublicIP == "" {
		vpc.AssignPublicIP = "DISABLED"
	}
	base := ECSTask{
		Cluster: cluster, TaskDefinition: in.TaskDefinition, LaunchType: in.LaunchType,
		PlatformVersion: in.PlatformVersion, Subnets: vpc.Subnets, SecurityGroups: vpc.SecurityGroups,
		AssignPublicIP: vpc.AssignPublicIP, StartedBy: in.StartedBy,
		Group: in.Group, EnableExecuteCommand: in.EnableExecuteCommand,
	}
	if len(in.CapacityProviderStrategy) > 0 {
		base.CapacityProvider = in.CapacityProviderStrategy[0].CapacityProvider
	}
	for _, o := range in.Overrides.ContainerOverrides {
		env := map[string]string{}
		for _, kv := range o.Environment {
			env[kv.Name] = kv.Value
		}
		base.Overrides = append(base.Overrides, ContainerOverride{Name: o.Name, Command: o.Command, Environment: env})
	}

	st := s.ecs()
	st.mu.Lock()
	defer st.mu.Unlock()
	if prev, ok := st.byToken[in.ClientToken]; ok && in.ClientToken != "" {
		return map[string]any{"tasks": s.ecsOutAll(prev), "failures": []ecsFailure{}}, nil
	}
	script := TaskScript{Provisioning: 1, Pending: 1, Running: 1}
	if st.script != nil {
		script = st.script(base)
	}
	if script.Reject != "" {
		return nil, ecsInvalid(script.Reject)
	}
	if script.Failure != "" {
		return map[string]any{"tasks": []ecsTaskOut{}, "failures": []ecsFailure{{Reason: script.Failure}}}, nil
	}
	var started []*fakeTask
	for i := 0; i < in.Count; i++ {
		t := &fakeTask{ECSTask: base, script: script, created: s.now(), shown: "PROVISIONING"}
		t.ARN = fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", cfg.Region, cfg.Account, cluster, ecsRandomID())
		st.tasks = append(st.tasks, t)
		st.byARN[t.ARN] = t
		started = append(started, t)
	}
	if in.ClientToken != "" {
		st.byToken[in.ClientToken] = started
	}
	return map[string]any{"tasks": s.ecsOutAll(started), "failures": []ecsFailure{}}, nil
}

func (s *Server) ecsDescribeTasks(c *call) (any, *apiError) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	if len(in.Tasks) == 0 {
		return nil, ecsInvalid("Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, ecsInvalid("The number of tasks exceeds the limit of 100.")
	}
	cluster := ecsClusterName(in.Cluster)
	if aerr := c.authorize(s, "ecs:DescribeTasks", s.ecsClusterARN(cluster)); aerr != nil {
		return nil, aerr
	}
	st := s.ecs()
	st.mu.Lock()
	tasks := []ecsTaskOut{}
	failures := []ecsFailure{}
	var hooks []func()
	for _, arn := range in.Tasks {
		t := st.find(cluster, arn)
		if t == nil {
			failures = append(failures, ecsFailure{Arn: arn, Reason: "MISSING"})
			continue
		}
		if h := t.advance(s.now()); h != nil {
			hooks = append(hooks, h)
		}
		tasks = append(tasks, s.ecsOut(t))
	}
	st.mu.Unlock()
	// The fake probe writes to the Logs store under s.mu: never while holding the ECS lock.
	for _, h := range hooks {
		h()
	}
	return map[string]any{"tasks": tasks, "failures": failures}, nil
}

func (s *Server) ecsStopTask(c *call) (any, *apiError) {
	var in struct {
		Cluster string `json:"cluster"`
		Task    string `json:"task"`
		Reason  string `json:"reason"`
	}
	if aerr := c.decode(&in); aerr != nil {
		return nil, aerr
	}
	cluster := ecsClusterName(in.Cluster)
	if aerr := c.authorize(s, "ecs:StopTask", s.ecsClusterARN(cluster)); aerr != nil {
		return nil, aerr
	}
	st := s.ecs()
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.find(cluster, in.Task)
	if t == nil {
		return nil, ecsInvalid("The referenced task was not found.")
	}
	t.StopCalled, t.StopReason = true, in.Reason
	if !t.stopped {
		running := t.ran
		t.stopped, t.stoppedAt = true, s.now()
		t.stopCode = "UserInitiated"
		t.reason = in.Reason
		if t.reason == "" {
			t.reason = "Task stopped by user"
		}
		if running {
			// SIGTERM, then SIGKILL after the stop timeout; the probe exits on SIGTERM.
			t.exitCodes = map[string]int{}
			for _, name := range t.containerNames() {
				t.exitCodes[name] = 143
			}
		}
	}
	return map[string]any{"task": s.ecsOut(t)}, nil
}

// find returns the task named by a full ARN or a task id, in cluster.
func (st *ecsState) find(cluster, task string) *fakeTask {
	if t := st.byARN[task]; t != nil && t.Cluster == cluster {
		return t
	}
	for _, t := range st.tasks {
		if t.Cluster == cluster && strings.HasSuffix(t.ARN, "/"+task) {
			return t
		}
	}
	return nil
}

// ecsPhase is one status of a task's scripted life and how many polls see it.
type ecsPhase struct {
	status string
	n      int
}

// phases are the scripted statuses a task passes through before STOPPED.
func (t *fakeTask) phases() []ecsPhase {
	p := []ecsPhase{{"PROVISIONING", t.script.Provisioning}, {"PENDING", t.script.Pending}}
	if !t.script.NeverRuns {
		p = append(p, ecsPhase{"RUNNING", t.script.Running})
	}
	return append(p, ecsPhase{"DEPROVISIONING", t.script.Deprovisioning})
}

// status is the status the latest answer gave.
func (t *fakeTask) status() string {
	if t.stopped {
		return "STOPPED"
	}
	return t.shown
}

// scripted is where the script puts the task after t.polls DescribeTasks answers.
func (t *fakeTask) scripted() string {
	seen := 0
	for _, p := range t.phases() {
		if p.n == Forever || t.polls < seen+p.n {
			return p.status
		}
		seen += p.n
	}
	return "STOPPED"
}

// advance moves the task one poll on and returns the OnRunning hook to call, if the task has
// just reached RUNNING or gone past it.
func (t *fakeTask) advance(now time.Time) func() {
	if t.stopped {
		return nil
	}
	status := t.scripted()
	t.polls++
	t.shown = status
	var hook func()
	if !t.script.NeverRuns && !t.ran && (status == "RUNNING" || status == "DEPROVISIONING" || status == "STOPPED") {
		t.ran, t.startedAt = true, now
		if fn := t.script.OnRunning; fn != nil {
			task := t.ECSTask
			task.LastStatus = status
			hook = func() { fn(task) }
		}
	}
	if status == "STOPPED" {
		t.stopped, t.stoppedAt = true, now
		t.stopCode, t.reason = t.script.StopCode, t.script.StoppedReason
		if t.stopCode == "" {
			t.stopCode = "EssentialContainerExited"
			if t.script.NeverRuns {
				t.stopCode = "TaskFailedToStart"
			}
		}
		if t.reason == "" && !t.script.NeverRuns {
			t.reason = "Essential container in task exited"
		}
	}
	return hook
}

// containerNames are the task's containers: the overridden ones, else one named "app".
func (t *fakeTask) containerNames() []string {
	var names []string
	for _, c := range t.script.Containers {
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		for _, o := range t.Overrides {
			names = append(names, o.Name)
		}
	}
	if len(names) == 0 {
		names = []string{"app"}
	}
	return names
}

func (s *Server) ecsClusterARN(cluster string) string {
	cfg := s.config()
	return fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", cfg.Region, cfg.Account, cluster)
}

func (s *Server) ecsOutAll(ts []*fakeTask) []ecsTaskOut {
	out := make([]ecsTaskOut, len(ts))
	for i, t := range ts {
		out[i] = s.ecsOut(t)
	}
	return out
}

// ecsOut renders a task as the API answers it.
func (s *Server) ecsOut(t *fakeTask) ecsTaskOut {
	cfg := s.config()
	status := t.status()
	epoch := func(tm time.Time) *float64 {
		v := float64(tm.UnixMilli()) / 1000
		return &v
	}
	zone := t.script.AvailabilityZone
	if zone == "" {
		zone = cfg.Region + "a"
	}
	out := ecsTaskOut{
		TaskArn: t.ARN, ClusterArn: s.ecsClusterARN(t.Cluster), LastStatus: status,
		DesiredStatus: "RUNNING", LaunchType: t.LaunchType, CapacityProvider: t.CapacityProvider,
		PlatformVersion: t.PlatformVersion, AvailabilityZone: zone, StartedBy: t.StartedBy,
		CreatedAt: *epoch(t.created), Version: t.polls + 1,
		Group: t.Group, EnableExecCommand: t.EnableExecuteCommand,
		Overrides: ecsOverridesOut{ContainerOverrides: []ecsOverrideIn{}},
	}
	out.TaskDefinitionArn = t.TaskDefinition
	if !strings.HasPrefix(out.TaskDefinitionArn, "arn:") {
		out.TaskDefinitionArn = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s", cfg.Region, cfg.Account, t.TaskDefinition)
	}
	for _, o := range t.Overrides {
		oo := ecsOverrideIn{Name: o.Name, Command: o.Command}
		for _, k := range sortedKeys(o.Environment) {
			oo.Environment = append(oo.Environment, ecsKeyValue{k, o.Environment[k]})
		}
		out.Overrides.ContainerOverrides = append(out.Overrides.ContainerOverrides, oo)
	}
	if len(t.Subnets) > 0 {
		out.Attachments = []ecsAttachmentOut{{
			ID: stableUUID("eni/" + t.ARN), Type: "ElasticNetworkInterface", Status: "ATTACHED",
			Details: []ecsKeyValue{{"subnetId", t.Subnets[0]}, {"networkInterfaceId", "eni-" + stableUUID(t.ARN)[:17]}},
		}}
	}
	if t.ran {
		out.StartedAt = epoch(t.startedAt)
	}
	if t.stopped || status == "DEPROVISIONING" {
		out.DesiredStatus = "STOPPED"
	}
	if t.stopped {
		out.StoppingAt, out.StoppedAt = epoch(t.stoppedAt), epoch(t.stoppedAt)
		out.StopCode, out.StoppedReason = t.stopCode, t.reason
	}
	containerStatus := "PENDING"
	switch {
	case t.stopped:
		containerStatus = "STOPPED"
	case status == "RUNNING" || status == "DEPROVISIONING":
		containerStatus = "RUNNING"
	}
	scripted := map[string]ContainerScript{}
	for _, c := range t.script.Containers {
		scripted[c.Name] = c
	}
	for _, name := range t.containerNames() {
		c := ecsContainerOut{
			ContainerArn: fmt.Sprintf("arn:aws:ecs:%s:%s:container/%s/%s/%s", cfg.Region, cfg.Account, t.Cluster, t.ARN[strings.LastIndex(t.ARN, "/")+1:], stableUUID(t.ARN+name)),
			TaskArn:      t.ARN, Name: name, LastStatus: containerStatus,
		}
		if t.stopped {
			sc, ok := scripted[name]
			c.Reason = sc.Reason
			switch {
			case t.exitCodes != nil:
				code := t.exitCodes[name]
				c.ExitCode = &code
			case ok:
				c.ExitCode = sc.ExitCode
			case t.ran:
				code := t.script.ExitCode
				c.ExitCode = &code
			}
		}
		out.Containers = append(out.Containers, c)
	}
	return out
}

// ecsRandomID returns a task id: 32 hex digits, as ECS's.
func ecsRandomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
