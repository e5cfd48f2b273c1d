package taskdef

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/testbin"
	"github.com/vpcprobe/vpcprobe/responder"
)

// The probe's command line, learned from `vpcprobe --help` of the binary built from this tree, so
// that a task definition naming a flag that does not exist fails here and not in a user's task.
var (
	flagEnv  map[string]bool // VPCPROBE_* environment names
	flagName map[string]bool // long flag names, without "--"
	services map[string]bool // service keys --services accepts
	// subFlags are the long flag names of the subcommands the fleet template runs.
	subFlags map[string]map[string]bool
)

func TestMain(m *testing.M) {
	if err := learnFlags(); err != nil {
		fmt.Fprintln(os.Stderr, "taskdef:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// learnFlags builds ./cmd/vpcprobe and parses its --help.
func learnFlags() error {
	bin, err := testbin.Path(testbin.Probe)
	if err != nil {
		return err
	}
	help := exec.Command(bin, "--help")
	help.Env = []string{}
	out, err := help.Output()
	if err != nil {
		return fmt.Errorf("vpcprobe --help: %w", err)
	}
	flagEnv, flagName, services = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, m := range regexp.MustCompile(`\[\$(VPCPROBE_[A-Z0-9_]+)\]`).FindAllStringSubmatch(string(out), -1) {
		flagEnv[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flagName[m[1]] = true
	}
	m := regexp.MustCompile(`all = ([a-z0-9.,-]+)`).FindStringSubmatch(string(out))
	if m == nil || len(flagEnv) < 10 {
		return fmt.Errorf("vpcprobe --help: no flag list or service list in:\n%s", out)
	}
	for _, k := range strings.Split(m[1], ",") {
		services[k] = true
	}
	subFlags = map[string]map[string]bool{}
	for _, sub := range []string{"inspect", "launch"} {
		help := exec.Command(bin, sub, "--help")
		help.Env = []string{}
		out, err := help.Output()
		if err != nil {
			return fmt.Errorf("vpcprobe %s --help: %w", sub, err)
		}
		subFlags[sub] = map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
			subFlags[sub][m[1]] = true
		}
	}
	return nil
}

// placeholders are the ${NAME}s the plain files carry for envsubst (README.md), with the values
// the tests substitute.
var placeholders = map[string]string{
	"AWS_ACCOUNT_ID":   "123456789012",
	"AWS_REGION":       "eu-west-1",
	"IMAGE_TAG":        "v1.2.3",
	"IMAGE_REPOSITORY": "team/app",
	"SECRET_NAME":      "prod/db",
	"PARAMETER_NAME":   "prod/app/db-url",
	"KMS_KEY_ID":       "1234abcd-12ab-34cd-56ef-1234567890ab",
}

var placeholderRE = regexp.MustCompile(`\$\{([^}]*)\}`)

// readSubst reads a plain (non-CloudFormation) file and substitutes its placeholders; an unknown
// one is an error, because envsubst would leave it in place or blank it.
func readSubst(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var unknown []string
	out := placeholderRE.ReplaceAllFunc(data, func(m []byte) []byte {
		key := string(m[2 : len(m)-1])
		v, ok := placeholders[key]
		if !ok {
			unknown = append(unknown, key)
			return m
		}
		return []byte(v)
	})
	if len(unknown) > 0 {
		t.Fatalf("%s: unknown placeholders %v (known: see placeholders)", name, unknown)
	}
	return out
}

// jsonFiles lists every JSON file under this directory.
func jsonFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// taskDefinitionFiles are the files users register with `aws ecs register-task-definition
// --cli-input-json`.
var taskDefinitionFiles = []string{"vpcprobe.json", "vpcprobe-awslogs.json", "preflight.json", "sidecar.json"}

// policyFiles are the IAM policy documents, by role.
var (
	taskRolePolicies = map[string][]string{ // file: the actions the feature needs, exactly
		"iam/task-role-report.json":  {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
		"iam/task-role-image.json":   {"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
		"iam/task-role-secrets.json": {"secretsmanager:GetSecretValue", "ssm:GetParameters", "kms:Decrypt"},
	}
	executionRolePolicy  = "iam/execution-role.json"
	executionRoleActions = []string{"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"}
	trustPolicy          = "iam/ecs-tasks-trust.json"
	// inspectPolicy is what "vpcprobe inspect" needs: read-only Describe calls, on "*" because
	// EC2's Describe actions take no resource-level permissions.
	inspectPolicy = "iam/inspect-readonly.json"

	// The Lambda runner's execution role (launch --runner lambda, and the template's variant):
	// AWSLambdaVPCAccessExecutionRole's network-interface actions, its own logs, and what the
	// probe calls.
	lambdaExecutionPolicy = "iam/lambda-execution-role.json"
	lambdaVPCActions      = []string{"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}
	lambdaTrustPolicy     = "iam/lambda-trust.json"
)

// lambdaExecutionActions is every action the Lambda runner's role needs: the VPC attachment,
// and the probe's own calls.
func lambdaExecutionActions() []string {
	return sorted(append(slices.Clone(lambdaVPCActions), taskRoleActions()...))
}

// taskRoleActions is every action the probe's own calls need (sts:GetCallerIdentity needs no
// permission, so it is not here).
func taskRoleActions() []string {
	var all []string
	for _, acts := range taskRolePolicies {
		all = append(all, acts...)
	}
	return sorted(all)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return slices.Compact(s)
}

func TestEveryFileParsesAndIsDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	files := jsonFiles(t)
	want := append(append([]string{"template.json", "fleet-member.json", "fleet-central.json", executionRolePolicy, trustPolicy, inspectPolicy, lambdaExecutionPolicy, lambdaTrustPolicy}, taskDefinitionFiles...), keys(taskRolePolicies)...)
	for _, w := range want {
		if !slices.Contains(files, w) {
			t.Errorf("%s is missing", w)
		}
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkJSON(data); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(want, name) {
				t.Errorf("%s is not known to these tests: add it to a list above so that it is validated", name)
			}
			if !bytes.Contains(readme, []byte(filepath.ToSlash(name))) {
				t.Errorf("README.md does not mention %s", name)
			}
		})
	}
	// YAML would need a YAML library to check, and the module takes none: CloudFormation reads
	// JSON just as well.
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			t.Errorf("%s: write it as JSON, which these tests can parse without a YAML library", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// checkJSON reports whether data is exactly one JSON value with no object repeating a key:
// encoding/json would silently keep the last of two, and so would AWS, hiding an edit.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkValue(dec, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

func checkValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			k := kt.(string)
			if seen[k] {
				return fmt.Errorf("%s: key %q appears twice", path, k)
			}
			seen[k] = true
			if err := checkValue(dec, path+"."+k); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := checkValue(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}

// decodeTaskDefinition decodes a task definition in its API (CLI input) form into the SDK's
// RegisterTaskDefinitionInput. encoding/json matches keys to the SDK's PascalCase field names
// case-insensitively, so strictKeys first demands the exact camelCase spelling the API uses,
// and DisallowUnknownFields then catches keys the API does not have at all (such as the
// revision, status or taskDefinitionArn of a describe-task-definition output).
func decodeTaskDefinition(data []byte) (*ecs.RegisterTaskDefinitionInput, error) {
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	var in ecs.RegisterTaskDefinitionInput
	if err := strictKeys("", raw, reflect.TypeOf(in)); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, err
	}
	return &in, nil
}

// strictKeys walks raw beside the Go type t and requires every object key to be the camelCase
// form of one of t's exported fields: "networkMode" for NetworkMode. Keys of maps (dockerLabels,
// log driver options) are the user's and are not checked.
func strictKeys(path string, raw any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := raw.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for k, item := range v {
				if err := strictKeys(path+"."+k, item, t.Elem()); err != nil {
					return err
				}
			}
			return nil
		case reflect.Struct:
		default:
			return fmt.Errorf("%s: an object where the API has %s", path, t)
		}
		for k, item := range v {
			f, ok := t.FieldByName(pascal(k))
			if !ok || !f.IsExported() || k != camel(f.Name) {
				return fmt.Errorf("%s: unknown field %q", path, k)
			}
			if err := strictKeys(path+"."+k, item, f.Type); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return fmt.Errorf("%s: a list where the API has %s", path, t)
		}
		for i, item := range v {
			if err := strictKeys(fmt.Sprintf("%s[%d]", path, i), item, t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

func pascal(s string) string {
	if s == "" {
		return s
	}
	return string(unicode.ToUpper(rune(s[0]))) + s[1:]
}

func camel(s string) string {
	if s == "" {
		return s
	}
	return string(unicode.ToLower(rune(s[0]))) + s[1:]
}

func TestStrictKeysCatchWhatTheAPIRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"describe output field": `{"family": "x", "revision": 3, "containerDefinitions": []}`,
		"wrong case":            `{"family": "x", "NetworkMode": "awsvpc", "containerDefinitions": []}`,
		"misspelt nested":       `{"family": "x", "containerDefinitions": [{"name": "a", "readOnlyRootFilesystem": true}]}`,
		"object for a string":   `{"family": {"name": "x"}, "containerDefinitions": []}`,
	} {
		if _, err := decodeTaskDefinition([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	in, err := decodeTaskDefinition([]byte(`{"family": "x", "containerDefinitions": [{"name": "a", "dockerLabels": {"AnyKey": "v"}}]}`))
	if err != nil || *in.Family != "x" || in.ContainerDefinitions[0].DockerLabels["AnyKey"] != "v" {
		t.Errorf("a valid document: %v, %+v", err, in)
	}
}

// fargateMemory reports whether memory (MiB) is valid for cpu (units) on Fargate.
func fargateMemory(cpu, memory int) bool {
	between := func(lo, hi, step int) bool { return memory >= lo && memory <= hi && (memory-lo)%step == 0 }
	switch cpu {
	case 256:
		return memory == 512 || memory == 1024 || memory == 2048
	case 512:
		return between(1024, 4096, 1024)
	case 1024:
		return between(2048, 8192, 1024)
	case 2048:
		return between(4096, 16384, 1024)
	case 4096:
		return between(8192, 30720, 1024)
	case 8192:
		return between(16384, 61440, 4096)
	case 16384:
		return between(32768, 122880, 8192)
	}
	return false
}

// fargateLimit is the largest startTimeout and stopTimeout Fargate accepts, in seconds.
const fargateLimit = 120

// probeEnvAllowed are the variables besides VPCPROBE_* a probe container may set: those
// CONTRACT.md says it honours.
var probeEnvAllowed = map[string]bool{
	"AWS_REGION": true, "AWS_DEFAULT_REGION": true, "AWS_CA_BUNDLE": true, "SSL_CERT_FILE": true,
	"HTTPS_PROXY": true, "NO_PROXY": true, "NO_COLOR": true,
}

// checkProbeEnv checks a probe container's environment: names that exist, values the probe
// accepts. It returns the durations it found, by variable name.
func checkProbeEnv(env map[string]string) (map[string]time.Duration, error) {
	durations := map[string]time.Duration{"VPCPROBE_TIMEOUT": 5 * time.Second, "VPCPROBE_DEADLINE": 60 * time.Second}
	var errs []error
	for name, value := range env {
		switch {
		case strings.HasPrefix(name, "VPCPROBE_") && !flagEnv[name]:
			errs = append(errs, fmt.Errorf("%s is not a vpcprobe flag's variable (vpcprobe --help)", name))
		case !strings.HasPrefix(name, "VPCPROBE_") && !probeEnvAllowed[name]:
			errs = append(errs, fmt.Errorf("%s: vpcprobe does not read it", name))
		}
		switch name {
		case "VPCPROBE_TIMEOUT", "VPCPROBE_DEADLINE", "VPCPROBE_EVERY":
			d, err := time.ParseDuration(value)
			if err != nil || d < 0 {
				errs = append(errs, fmt.Errorf("%s=%q: not a duration", name, value))
			}
			durations[name] = d
		case "VPCPROBE_OUTPUT":
			if value != "json" {
				errs = append(errs, fmt.Errorf("%s=%q: a task's stdout is read by machines: json", name, value))
			}
		case "VPCPROBE_REQUIRE_PRIVATE":
			if _, err := strconv.ParseBool(value); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: not a boolean", name, value))
			}
		case "VPCPROBE_SERVICES":
			for _, k := range strings.Split(value, ",") {
				if !services[k] && k != "all" {
					errs = append(errs, fmt.Errorf("%s: unknown service %q", name, k))
				}
			}
		}
	}
	if durations["VPCPROBE_DEADLINE"] < durations["VPCPROBE_TIMEOUT"] {
		errs = append(errs, fmt.Errorf("VPCPROBE_DEADLINE is shorter than VPCPROBE_TIMEOUT"))
	}
	return durations, errors.Join(errs...)
}

func TestTaskDefinitions(t *testing.T) {
	type shape struct {
		probeEssential bool // the probe is the task (one-off, scheduled), not a helper beside an app
		awslogs        bool // the probe container has the awslogs driver
		every          bool // the probe runs in sidecar mode
		gate           bool // an application container waits for the probe's SUCCESS
	}
	shapes := map[string]shape{
		"vpcprobe.json":         {probeEssential: true},
		"vpcprobe-awslogs.json": {probeEssential: true, awslogs: true},
		"preflight.json":        {awslogs: true, gate: true},
		"sidecar.json":          {every: true},
	}
	for _, name := range taskDefinitionFiles {
		t.Run(name, func(t *testing.T) {
			want := shapes[name]
			in, err := decodeTaskDefinition(readSubst(t, name))
			if err != nil {
				t.Fatalf("does not decode as RegisterTaskDefinitionInput: %v", err)
			}
			if in.Family == nil || !regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`).MatchString(*in.Family) {
				t.Errorf("family %v: letters, digits, - and _ only", in.Family)
			}
			if in.NetworkMode != types.NetworkModeAwsvpc {
				t.Errorf("networkMode %q, want awsvpc: the probe must own an ENI in the subnet it tests", in.NetworkMode)
			}
			if !slices.Equal(in.RequiresCompatibilities, []types.Compatibility{types.CompatibilityFargate}) {
				t.Errorf("requiresCompatibilities %v, want [FARGATE]", in.RequiresCompatibilities)
			}
			cpu, _ := strconv.Atoi(deref(in.Cpu))
			memory, _ := strconv.Atoi(deref(in.Memory))
			if !fargateMemory(cpu, memory) {
				t.Errorf("cpu %q with memory %q is not a Fargate size", deref(in.Cpu), deref(in.Memory))
			}
			if want.probeEssential && (cpu != 256 || memory != 512) {
				t.Errorf("the probe alone needs 0.25 vCPU and 512 MiB, not cpu %d memory %d", cpu, memory)
			}
			rp := in.RuntimePlatform
			if rp == nil || rp.OperatingSystemFamily != types.OSFamilyLinux ||
				(rp.CpuArchitecture != types.CPUArchitectureX8664 && rp.CpuArchitecture != types.CPUArchitectureArm64) {
				t.Errorf("runtimePlatform %+v: want LINUX on X86_64 or ARM64", rp)
			}
			for _, arn := range []*string{in.TaskRoleArn, in.ExecutionRoleArn} {
				if arn == nil || !regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`).MatchString(*arn) {
					t.Errorf("role ARN %v is not an IAM role ARN", deref(arn))
				}
			}

			containers := map[string]types.ContainerDefinition{}
			var cpuSum, memSum int32
			for _, c := range in.ContainerDefinitions {
				n := deref(c.Name)
				if _, dup := containers[n]; dup || n == "" {
					t.Errorf("container name %q empty or repeated", n)
				}
				containers[n] = c
				cpuSum += c.Cpu
				if c.Memory != nil {
					memSum += *c.Memory
				} else if c.MemoryReservation != nil {
					memSum += *c.MemoryReservation
				}
				if c.Image == nil || *c.Image == "" {
					t.Errorf("container %s has no image", n)
				}
				if c.MemoryReservation != nil && c.Memory != nil && *c.MemoryReservation > *c.Memory {
					t.Errorf("container %s: memoryReservation above memory", n)
				}
				for _, to := range []*int32{c.StartTimeout, c.StopTimeout} {
					if to != nil && (*to < 1 || *to > fargateLimit) {
						t.Errorf("container %s: start or stop timeout %d outside Fargate's 1..%d", n, *to, fargateLimit)
					}
				}
				if lc := c.LogConfiguration; lc != nil {
					if lc.LogDriver != types.LogDriverAwslogs || lc.Options["awslogs-group"] == "" || lc.Options["awslogs-region"] == "" || lc.Options["awslogs-stream-prefix"] == "" {
						t.Errorf("container %s: awslogs needs awslogs-group, awslogs-region and awslogs-stream-prefix: %+v", n, lc)
					}
				}
			}
			if int(cpuSum) > cpu || int(memSum) > memory {
				t.Errorf("containers ask for cpu %d and memory %d, more than the task's %d and %d", cpuSum, memSum, cpu, memory)
			}
			for _, c := range in.ContainerDefinitions {
				for _, d := range c.DependsOn {
					if _, ok := containers[deref(d.ContainerName)]; !ok || d.Condition == "" {
						t.Errorf("container %s depends on unknown container %q or without condition", deref(c.Name), deref(d.ContainerName))
					}
				}
			}

			probe, ok := containers["vpcprobe"]
			if !ok {
				t.Fatalf("no container named vpcprobe")
			}
			if !strings.Contains(deref(probe.Image), "/vpcprobe:") {
				t.Errorf("vpcprobe container image %q is not the vpcprobe image", deref(probe.Image))
			}
			if probe.ReadonlyRootFilesystem == nil || !*probe.ReadonlyRootFilesystem {
				t.Errorf("vpcprobe container: readonlyRootFilesystem must be true; the probe writes nothing")
			}
			if deref(probe.User) != "65532:65532" {
				t.Errorf("vpcprobe container user %q, want the image's 65532:65532", deref(probe.User))
			}
			if essential := probe.Essential == nil || *probe.Essential; essential != want.probeEssential {
				t.Errorf("vpcprobe container essential %v, want %v", essential, want.probeEssential)
			}
			if got := probe.LogConfiguration != nil; got != want.awslogs {
				t.Errorf("vpcprobe container has a log driver: %v, want %v (README.md: why not by default)", got, want.awslogs)
			}
			for _, arg := range append(slices.Clone(probe.Command), probe.EntryPoint...) {
				if f, ok := strings.CutPrefix(arg, "--"); ok && !flagName[strings.SplitN(f, "=", 2)[0]] {
					t.Errorf("vpcprobe container command: %s is not a vpcprobe flag", arg)
				}
			}
			env := map[string]string{}
			for _, kv := range probe.Environment {
				env[deref(kv.Name)] = deref(kv.Value)
			}
			durations, err := checkProbeEnv(env)
			if err != nil {
				t.Errorf("vpcprobe container environment: %v", err)
			}
			if env["VPCPROBE_LOG_GROUP"] == "" {
				t.Errorf("vpcprobe container: no VPCPROBE_LOG_GROUP, so the report goes nowhere but stdout")
			}
			_, every := env["VPCPROBE_EVERY"]
			if every != want.every {
				t.Errorf("VPCPROBE_EVERY set: %v, want %v", every, want.every)
			}
			if want.every {
				// SIGTERM lets the round in flight finish: the stop timeout must outlast a round, or
				// the agent's SIGKILL cuts it and its report short.
				if probe.StopTimeout == nil || time.Duration(*probe.StopTimeout)*time.Second < durations["VPCPROBE_DEADLINE"]+time.Second {
					t.Errorf("sidecar stopTimeout %ds shorter than VPCPROBE_DEADLINE %s plus a second", deref(probe.StopTimeout), durations["VPCPROBE_DEADLINE"])
				}
				if durations["VPCPROBE_EVERY"] <= durations["VPCPROBE_DEADLINE"] {
					t.Errorf("VPCPROBE_EVERY %s not longer than a round (VPCPROBE_DEADLINE %s)", durations["VPCPROBE_EVERY"], durations["VPCPROBE_DEADLINE"])
				}
			}
			gated := false
			for _, c := range in.ContainerDefinitions {
				for _, d := range c.DependsOn {
					if deref(d.ContainerName) == "vpcprobe" && d.Condition == types.ContainerConditionSuccess {
						gated = true
						if c.StartTimeout == nil || time.Duration(*c.StartTimeout)*time.Second < durations["VPCPROBE_DEADLINE"]+time.Second {
							t.Errorf("container %s waits for vpcprobe with startTimeout %ds, shorter than VPCPROBE_DEADLINE %s plus a second", deref(c.Name), deref(c.StartTimeout), durations["VPCPROBE_DEADLINE"])
						}
					}
				}
			}
			if gated != want.gate {
				t.Errorf("an application container waits for vpcprobe's SUCCESS: %v, want %v", gated, want.gate)
			}
		})
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// policy is an IAM policy document, decoded strictly.
type policy struct {
	Version   string
	Id        string `json:",omitempty"`
	Statement []statement
}

type statement struct {
	Sid       string
	Effect    string
	Principal map[string]any
	Action    any // a string or a list of strings
	Resource  any // a string or a list; in the template also intrinsic functions
	Condition map[string]map[string]any
}

var (
	actionRE = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9*]+$`)
	arnRE    = regexp.MustCompile(`^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]*):(\d{12})?:\S+$`)
	sidRE    = regexp.MustCompile(`^[A-Za-z0-9]*$`)
)

// parsePolicy decodes and validates an IAM policy document. trust is true for a role's trust
// policy (Principal, no Resource). Resources must be "*" or ARNs, unless intrinsic is set: in a
// CloudFormation template they may be Fn::Sub, Fn::GetAtt or Ref.
func parsePolicy(data []byte, trust, intrinsic bool) (*policy, []string, error) {
	var p policy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, nil, err
	}
	if p.Version != "2012-10-17" {
		return nil, nil, fmt.Errorf("Version %q, want 2012-10-17 (the older version lacks policy variables)", p.Version)
	}
	if len(p.Statement) == 0 {
		return nil, nil, fmt.Errorf("no Statement list")
	}
	var actions []string
	sids := map[string]bool{}
	for i, s := range p.Statement {
		where := fmt.Sprintf("Statement[%d]", i)
		if !sidRE.MatchString(s.Sid) || (s.Sid != "" && sids[s.Sid]) {
			return nil, nil, fmt.Errorf("%s: Sid %q must be alphanumeric and unique", where, s.Sid)
		}
		sids[s.Sid] = true
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return nil, nil, fmt.Errorf("%s: Effect %q", where, s.Effect)
		}
		acts, err := stringList(s.Action)
		if err != nil || len(acts) == 0 {
			return nil, nil, fmt.Errorf("%s: Action: want a string or a list of strings", where)
		}
		for _, a := range acts {
			if !actionRE.MatchString(a) {
				return nil, nil, fmt.Errorf("%s: Action %q is not service:Action", where, a)
			}
		}
		actions = append(actions, acts...)
		if trust {
			if s.Principal == nil || s.Resource != nil {
				return nil, nil, fmt.Errorf("%s: a trust policy names a Principal and no Resource", where)
			}
			continue
		}
		if s.Principal != nil {
			return nil, nil, fmt.Errorf("%s: an identity policy has no Principal", where)
		}
		if err := checkResources(s.Resource, intrinsic); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		for op, kv := range s.Condition {
			if len(kv) == 0 || op == "" {
				return nil, nil, fmt.Errorf("%s: empty Condition %q", where, op)
			}
		}
	}
	return &p, sorted(actions), nil
}

func checkResources(r any, intrinsic bool) error {
	items, ok := r.([]any)
	if !ok {
		items = []any{r}
	}
	if r == nil || len(items) == 0 {
		return fmt.Errorf("no Resource")
	}
	for _, item := range items {
		switch v := item.(type) {
		case string:
			if v != "*" && !arnRE.MatchString(v) {
				return fmt.Errorf("Resource %q is neither * nor an ARN", v)
			}
		case map[string]any:
			if !intrinsic || len(v) != 1 || (v["Fn::Sub"] == nil && v["Fn::GetAtt"] == nil && v["Ref"] == nil) {
				return fmt.Errorf("Resource %v is not a string", v)
			}
			if s, ok := v["Fn::Sub"].(string); ok && !strings.HasPrefix(s, "arn:${AWS::Partition}:") {
				return fmt.Errorf("Resource %q: build ARNs with ${AWS::Partition}", s)
			}
		default:
			return fmt.Errorf("Resource %v is not a string", v)
		}
	}
	return nil
}

func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		var out []string
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("not a string: %v", item)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a string or list: %v", v)
}

func TestPolicies(t *testing.T) {
	var union []string
	for _, name := range keys(taskRolePolicies) {
		t.Run(name, func(t *testing.T) {
			_, actions, err := parsePolicy(readSubst(t, name), false, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := sorted(taskRolePolicies[name]); !slices.Equal(actions, want) {
				t.Errorf("actions %v, want exactly %v", actions, want)
			}
			union = append(union, actions...)
		})
	}
	want := []string{
		"ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer",
		"kms:Decrypt", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
		"secretsmanager:GetSecretValue", "ssm:GetParameters",
	}
	if got := sorted(union); !slices.Equal(got, want) {
		t.Errorf("the task role policies together allow %v, want exactly what the probe calls: %v", got, want)
	}

	t.Run(executionRolePolicy, func(t *testing.T) {
		_, actions, err := parsePolicy(readSubst(t, executionRolePolicy), false, false)
		if err != nil {
			t.Fatal(err)
		}
		if want := sorted(executionRoleActions); !slices.Equal(actions, want) {
			t.Errorf("actions %v, want exactly %v (AmazonECSTaskExecutionRolePolicy's)", actions, want)
		}
	})

	t.Run(inspectPolicy, func(t *testing.T) {
		_, actions, err := parsePolicy(readSubst(t, inspectPolicy), false, false)
		if err != nil {
			t.Fatal(err)
		}
		if want := sorted(inspect.Actions); !slices.Equal(actions, want) {
			t.Errorf("actions %v, want exactly what inspect calls: %v", actions, want)
		}
	})

	t.Run(trustPolicy, func(t *testing.T) {
		p, actions, err := parsePolicy(readSubst(t, trustPolicy), true, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkTrust(p, actions, "ecs-tasks.amazonaws.com", "123456789012"); err != nil {
			t.Error(err)
		}
	})

	t.Run(lambdaExecutionPolicy, func(t *testing.T) {
		_, actions, err := parsePolicy(readSubst(t, lambdaExecutionPolicy), false, false)
		if err != nil {
			t.Fatal(err)
		}
		if want := lambdaExecutionActions(); !slices.Equal(actions, want) {
			t.Errorf("actions %v, want exactly %v (the VPC attachment and the probe's calls)", actions, want)
		}
	})

	t.Run(lambdaTrustPolicy, func(t *testing.T) {
		p, actions, err := parsePolicy(readSubst(t, lambdaTrustPolicy), true, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkTrust(p, actions, "lambda.amazonaws.com", "123456789012"); err != nil {
			t.Error(err)
		}
	})

	t.Run("logs resources", func(t *testing.T) {
		// The report's log group, and only it: a typo here shows only as AccessDenied in a task.
		data := readSubst(t, "iam/task-role-report.json")
		for _, arn := range regexp.MustCompile(`"(arn:[^"]+)"`).FindAllSubmatch(data, -1) {
			if !strings.HasPrefix(string(arn[1]), "arn:aws:logs:eu-west-1:123456789012:log-group:/vpcprobe") {
				t.Errorf("%s is not the /vpcprobe log group", arn[1])
			}
		}
	})
}

// checkTrust checks a trust policy lets only service assume the role, from account only.
func checkTrust(p *policy, actions []string, service string, account any) error {
	if !slices.Equal(actions, []string{"sts:AssumeRole"}) || len(p.Statement) != 1 {
		return fmt.Errorf("one statement allowing sts:AssumeRole, not %v", actions)
	}
	s := p.Statement[0]
	if s.Effect != "Allow" || !reflect.DeepEqual(s.Principal, map[string]any{"Service": service}) {
		return fmt.Errorf("Principal %v, want the service %s", s.Principal, service)
	}
	if got := s.Condition["StringEquals"]["aws:SourceAccount"]; !reflect.DeepEqual(got, account) {
		return fmt.Errorf("aws:SourceAccount condition %v, want %v (confused deputy)", got, account)
	}
	return nil
}

// template is a CloudFormation template, decoded strictly at the top level.
type template struct {
	AWSTemplateFormatVersion string
	Description              string
	Metadata                 map[string]any
	Parameters               map[string]struct {
		Type               string
		Default            any
		Description        string
		AllowedValues      []any
		AllowedPattern     string
		MinValue, MaxValue any
	}
	Rules      map[string]any
	Conditions map[string]any
	Resources  map[string]struct {
		Type       string
		Condition  string
		DependsOn  any
		Properties map[string]any
	}
	Outputs map[string]struct {
		Description string
		Value       any
		Condition   string
		Export      any
	}
}

// pseudo are CloudFormation's pseudo parameters.
var pseudo = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

// attributes are the Fn::GetAtt attributes of the resource types the template may use.
var attributes = map[string][]string{
	"AWS::DynamoDB::Table":       {"Arn", "StreamArn"},
	"AWS::IAM::Role":             {"Arn", "RoleId"},
	"AWS::Logs::LogGroup":        {"Arn"},
	"AWS::ECS::TaskDefinition":   {"TaskDefinitionArn"},
	"AWS::Scheduler::Schedule":   {"Arn"},
	"AWS::CloudWatch::Alarm":     {"Arn"},
	"AWS::Lambda::Function":      {"Arn"},
	"AWS::Events::Rule":          {"Arn"},
	"AWS::Lambda::Permission":    {},
	"AWS::CloudWatch::Dashboard": {}, // Ref is its name; it has no attributes
}

func loadTemplate(t *testing.T) *template {
	t.Helper()
	data, err := os.ReadFile("template.json")
	if err != nil {
		t.Fatal(err)
	}
	var tpl template
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tpl); err != nil {
		t.Fatalf("template.json: %v", err)
	}
	return &tpl
}

// references checks every Ref, Fn::GetAtt, Fn::Sub variable, Fn::If and Condition in v against
// what tpl defines; locals are an enclosing Fn::Sub's own variables.
func (tpl *template) references(path string, v any, locals map[string]bool) []error {
	var errs []error
	isParam := func(n string) bool { _, ok := tpl.Parameters[n]; return ok }
	isRes := func(n string) bool { _, ok := tpl.Resources[n]; return ok }
	isCond := func(n string) bool { _, ok := tpl.Conditions[n]; return ok }
	getAtt := func(res, attr string) {
		r, ok := tpl.Resources[res]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: Fn::GetAtt of unknown resource %q", path, res))
		case !slices.Contains(attributes[r.Type], attr):
			errs = append(errs, fmt.Errorf("%s: Fn::GetAtt %s.%s: %s has no such attribute here", path, res, attr, r.Type))
		}
	}
	switch x := v.(type) {
	case []any:
		for i, item := range x {
			errs = append(errs, tpl.references(fmt.Sprintf("%s[%d]", path, i), item, locals)...)
		}
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				switch fn {
				case "Ref":
					n, _ := arg.(string)
					if !isParam(n) && !isRes(n) && !pseudo[n] {
						errs = append(errs, fmt.Errorf("%s: Ref to undefined %q", path, n))
					}
					return errs
				case "Fn::GetAtt":
					parts, _ := stringList(arg)
					if s, ok := arg.(string); ok {
						parts = strings.SplitN(s, ".", 2)
					}
					if len(parts) != 2 {
						return append(errs, fmt.Errorf("%s: Fn::GetAtt %v", path, arg))
					}
					getAtt(parts[0], parts[1])
					return errs
				case "Fn::Sub":
					str, ok := arg.(string)
					vars := map[string]bool{}
					if list, isList := arg.([]any); isList && len(list) == 2 {
						str, ok = list[0].(string)
						m, _ := list[1].(map[string]any)
						for k, val := range m {
							vars[k] = true
							errs = append(errs, tpl.references(path+".Fn::Sub."+k, val, locals)...)
						}
					}
					if !ok {
						return append(errs, fmt.Errorf("%s: Fn::Sub %v", path, arg))
					}
					for _, m := range placeholderRE.FindAllStringSubmatch(str, -1) {
						name := m[1]
						if strings.HasPrefix(name, "!") {
							continue // ${!Literal}
						}
						if res, attr, dotted := strings.Cut(name, "."); dotted && !pseudo[name] {
							getAtt(res, attr)
							continue
						}
						if !vars[name] && !isParam(name) && !isRes(name) && !pseudo[name] {
							errs = append(errs, fmt.Errorf("%s: Fn::Sub ${%s} is undefined", path, name))
						}
					}
					return errs
				case "Fn::If":
					list, _ := arg.([]any)
					if len(list) != 3 {
						return append(errs, fmt.Errorf("%s: Fn::If needs [condition, then, else]", path))
					}
					if c, _ := list[0].(string); !isCond(c) {
						errs = append(errs, fmt.Errorf("%s: Fn::If on undefined condition %v", path, list[0]))
					}
					return append(errs, tpl.references(path+".Fn::If", list[1:], locals)...)
				case "Condition":
					if c, ok := arg.(string); ok && !isCond(c) {
						errs = append(errs, fmt.Errorf("%s: undefined condition %q", path, c))
					}
					return errs
				}
			}
		}
		for _, k := range keys(x) {
			errs = append(errs, tpl.references(path+"."+k, x[k], locals)...)
		}
	}
	return errs
}

func TestTemplateReferences(t *testing.T) {
	tpl := loadTemplate(t)
	if tpl.AWSTemplateFormatVersion != "2010-09-09" {
		t.Errorf("AWSTemplateFormatVersion %q", tpl.AWSTemplateFormatVersion)
	}
	for name := range tpl.Parameters {
		if _, clash := tpl.Resources[name]; clash {
			t.Errorf("%s is both a parameter and a resource", name)
		}
	}
	var errs []error
	for name, c := range tpl.Conditions {
		errs = append(errs, tpl.references("Conditions."+name, c, nil)...)
	}
	for _, name := range keys(tpl.Resources) {
		r := tpl.Resources[name]
		if _, known := attributes[r.Type]; !known {
			t.Errorf("resource %s: type %s not known to this test (add its attributes)", name, r.Type)
		}
		if r.Condition != "" {
			if _, ok := tpl.Conditions[r.Condition]; !ok {
				t.Errorf("resource %s: undefined condition %q", name, r.Condition)
			}
		}
		deps, _ := stringList(r.DependsOn)
		for _, d := range deps {
			if _, ok := tpl.Resources[d]; !ok {
				t.Errorf("resource %s depends on undefined %q", name, d)
			}
		}
		errs = append(errs, tpl.references("Resources."+name, r.Properties, nil)...)
	}
	for _, name := range keys(tpl.Outputs) {
		errs = append(errs, tpl.references("Outputs."+name, tpl.Outputs[name].Value, nil)...)
	}
	for _, err := range errs {
		t.Error(err)
	}

	// The checker itself must catch what it is there to catch.
	bad := &template{Parameters: tpl.Parameters, Resources: tpl.Resources, Conditions: tpl.Conditions}
	for name, doc := range map[string]string{
		"ref":        `{"Ref": "NoSuchParameter"}`,
		"getatt":     `{"Fn::GetAtt": ["NoSuchResource", "Arn"]}`,
		"attribute":  `{"Fn::GetAtt": "TaskRole.NoSuchAttribute"}`,
		"sub":        `{"Fn::Sub": "arn:${AWS::Partition}:x:${NoSuchThing}"}`,
		"sub getatt": `{"Fn::Sub": "${NoSuchResource.Arn}"}`,
		"if":         `{"Fn::If": ["NoSuchCondition", "a", "b"]}`,
		"nested":     `{"A": [{"B": {"Ref": "Nope"}}]}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if len(bad.references(name, v, nil)) == 0 {
			t.Errorf("reference checker missed %s: %s", name, doc)
		}
	}
}

func TestTemplateContents(t *testing.T) {
	tpl := loadTemplate(t)
	for _, p := range []string{"ClusterName", "Subnets", "SecurityGroups", "ProbeImage", "ScheduleExpression", "Services"} {
		if _, ok := tpl.Parameters[p]; !ok {
			t.Errorf("parameter %s missing", p)
		}
	}
	if typ := tpl.Parameters["Subnets"].Type; typ != "List<AWS::EC2::Subnet::Id>" {
		t.Errorf("Subnets type %s", typ)
	}
	if typ := tpl.Parameters["SecurityGroups"].Type; typ != "List<AWS::EC2::SecurityGroup::Id>" {
		t.Errorf("SecurityGroups type %s", typ)
	}
	if _, err := checkProbeEnv(map[string]string{"VPCPROBE_SERVICES": fmt.Sprint(tpl.Parameters["Services"].Default)}); err != nil {
		t.Errorf("Services default: %v", err)
	}
	byType := map[string][]string{}
	for _, name := range keys(tpl.Resources) {
		byType[tpl.Resources[name].Type] = append(byType[tpl.Resources[name].Type], name)
	}
	// The responder (HasResponder) adds two log groups, two roles, a function, a rule, a
	// permission and a table.
	for typ, n := range map[string]int{"AWS::Logs::LogGroup": 3, "AWS::IAM::Role": 6, "AWS::ECS::TaskDefinition": 1, "AWS::Scheduler::Schedule": 1,
		"AWS::Lambda::Function": 2, "AWS::Events::Rule": 2, "AWS::Lambda::Permission": 2, "AWS::DynamoDB::Table": 1} {
		if len(byType[typ]) != n {
			t.Errorf("%d resources of type %s, want %d", len(byType[typ]), typ, n)
		}
	}

	// Roles: trust and exactly the actions of the plain policy files.
	roles := map[string]struct {
		service string
		actions []string
	}{
		"TaskRole":           {"ecs-tasks.amazonaws.com", sorted(append(slices.Clone(taskRolePolicies["iam/task-role-report.json"]), taskRolePolicies["iam/task-role-image.json"]...))},
		"ExecutionRole":      {"ecs-tasks.amazonaws.com", sorted(executionRoleActions)},
		"SchedulerRole":      {"scheduler.amazonaws.com", []string{"ecs:RunTask", "iam:PassRole"}},
		"ResponderRole":      {"lambda.amazonaws.com", sorted(append(slices.Clone(responder.Actions), inspect.Actions...))},
		"ResponderProbeRole": {"lambda.amazonaws.com", sorted(append(slices.Clone(lambdaVPCActions), "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"))},
		"LambdaRole": {"lambda.amazonaws.com", sorted(append(append(slices.Clone(lambdaVPCActions),
			taskRolePolicies["iam/task-role-report.json"]...), taskRolePolicies["iam/task-role-image.json"]...))},
	}
	for name, want := range roles {
		t.Run(name, func(t *testing.T) {
			props := tpl.Resources[name].Properties
			trust, _ := json.Marshal(props["AssumeRolePolicyDocument"])
			p, actions, err := parsePolicy(trust, true, true)
			if err != nil {
				t.Fatalf("trust policy: %v", err)
			}
			if err := checkTrust(p, actions, want.service, map[string]any{"Ref": "AWS::AccountId"}); err != nil {
				t.Error(err)
			}
			var all []string
			for _, doc := range policyDocuments(props["Policies"]) {
				data, _ := json.Marshal(doc)
				_, actions, err := parsePolicy(data, false, true)
				if err != nil {
					t.Fatalf("policy: %v", err)
				}
				all = append(all, actions...)
			}
			if got := sorted(all); !slices.Equal(got, want.actions) {
				t.Errorf("actions %v, want exactly %v", got, want.actions)
			}
		})
	}

	// The task definition: what the plain files promise, in CloudFormation's spelling.
	td := tpl.Resources[byType["AWS::ECS::TaskDefinition"][0]].Properties
	if td["NetworkMode"] != "awsvpc" || !reflect.DeepEqual(td["RequiresCompatibilities"], []any{"FARGATE"}) {
		t.Errorf("task definition: NetworkMode %v, RequiresCompatibilities %v", td["NetworkMode"], td["RequiresCompatibilities"])
	}
	cpu, _ := strconv.Atoi(fmt.Sprint(td["Cpu"]))
	memory, _ := strconv.Atoi(fmt.Sprint(td["Memory"]))
	if cpu != 256 || memory != 512 || !fargateMemory(cpu, memory) {
		t.Errorf("task definition: Cpu %v Memory %v, want 256 and 512", td["Cpu"], td["Memory"])
	}
	if rp, _ := td["RuntimePlatform"].(map[string]any); rp["OperatingSystemFamily"] != "LINUX" || rp["CpuArchitecture"] == nil {
		t.Errorf("task definition: RuntimePlatform %v", td["RuntimePlatform"])
	}
	containers, _ := td["ContainerDefinitions"].([]any)
	if len(containers) != 1 {
		t.Fatalf("task definition: %d containers, want the probe alone", len(containers))
	}
	c := containers[0].(map[string]any)
	if c["ReadonlyRootFilesystem"] != true || c["LogConfiguration"] != nil || c["User"] != "65532:65532" {
		t.Errorf("probe container: ReadonlyRootFilesystem %v, LogConfiguration %v, User %v", c["ReadonlyRootFilesystem"], c["LogConfiguration"], c["User"])
	}
	env := map[string]string{}
	for _, item := range flattenIf(c["Environment"]) {
		kv := item.(map[string]any)
		name := kv["Name"].(string)
		value, literal := kv["Value"].(string)
		if !literal {
			value = sampleValue(name) // a Ref: check the name, and the value a parameter might hold
		}
		env[name] = value
	}
	if _, err := checkProbeEnv(env); err != nil {
		t.Errorf("probe container environment: %v", err)
	}

	// Alarms watch metrics the probe emits, named in README.md for the code that emits them.
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var failed bool
	for _, name := range byType["AWS::CloudWatch::Alarm"] {
		a := tpl.Resources[name].Properties
		if a["Namespace"] != "VPCProbe" {
			t.Errorf("alarm %s: namespace %v, want VPCProbe", name, a["Namespace"])
		}
		metric, _ := a["MetricName"].(string)
		if !bytes.Contains(readme, []byte("`"+metric+"`")) {
			t.Errorf("alarm %s watches %s, which README.md's metric list does not name", name, metric)
		}
		dims, _ := json.Marshal(a["Dimensions"])
		want := `[{"Name":"Cluster","Value":{"Ref":"ClusterName"}}]`
		switch tpl.Resources[name].Condition {
		case "HasLambda":
			want = `[{"Name":"Cluster","Value":"none"}]` // report.ClusterName outside an ECS task
		case "HasResponder":
			want = `[{"Name":"Responder","Value":{"Fn::Sub":"${AWS::StackName}-vpcprobe-responder"}}]` // the function's name
		}
		if string(dims) != want {
			t.Errorf("alarm %s: dimensions %s, want %s", name, dims, want)
		}
		if metric == "ServicesFailed" && a["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" && a["Threshold"] == 1.0 {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no alarm on ServicesFailed >= 1")
	}
}

// policyDocuments returns the PolicyDocument of every entry of an IAM role's Policies, both
// branches of an Fn::If included.
func policyDocuments(policies any) []any {
	var docs []any
	for _, p := range flattenIf(policies) {
		if m, ok := p.(map[string]any); ok {
			docs = append(docs, m["PolicyDocument"])
		}
	}
	return docs
}

// flattenIf returns the items of a list, replacing each {"Fn::If": [c, a, b]} with a and b
// (AWS::NoValue dropped).
func flattenIf(v any) []any {
	list, _ := v.([]any)
	var out []any
	for _, item := range list {
		m, ok := item.(map[string]any)
		if branches, isIf := m["Fn::If"].([]any); ok && isIf && len(branches) == 3 {
			out = append(out, flattenIf(branches[1:])...)
			continue
		}
		if ok && m["Ref"] == "AWS::NoValue" {
			continue
		}
		out = append(out, item)
	}
	return out
}

// sampleValue returns a value a template parameter could give the variable name.
func sampleValue(name string) string {
	switch name {
	case "VPCPROBE_SERVICES":
		return "ecr.api,ecr.dkr,s3,logs,sts"
	case "VPCPROBE_REQUIRE_PRIVATE":
		return "false"
	case "VPCPROBE_SUBNET_ID":
		return "subnet-0a1b2c3d"
	case "VPCPROBE_SECURITY_GROUPS":
		return "sg-0d4e5f6a,sg-0e5f6a7b"
	}
	return "x"
}

// TestTemplateLambda: the optional Lambda variant of the scheduled check — all of it under one
// condition, code from the S3 zip, the custom runtime, one subnet (a function with several lets
// Lambda pick one per invocation), the schedule allowed to invoke it, and an environment the
// probe accepts.
func TestTemplateLambda(t *testing.T) {
	tpl := loadTemplate(t)
	var lambdaRes []string
	for _, name := range keys(tpl.Resources) {
		r := tpl.Resources[name]
		isLambda := strings.HasPrefix(name, "Lambda")
		if isLambda != (r.Condition == "HasLambda") {
			t.Errorf("resource %s: condition %q; every Lambda* resource, and only those, needs HasLambda", name, r.Condition)
		}
		if isLambda {
			lambdaRes = append(lambdaRes, name)
		}
	}
	if cond, _ := json.Marshal(tpl.Conditions["HasLambda"]); string(cond) != `{"Fn::Not":[{"Fn::Equals":[{"Ref":"LambdaCodeBucket"},""]}]}` {
		t.Errorf("HasLambda = %s, want LambdaCodeBucket set", cond)
	}
	if d := tpl.Parameters["LambdaCodeBucket"].Default; d != "" {
		t.Errorf("LambdaCodeBucket default %v: the variant must be off unless asked for", d)
	}
	fn := tpl.Resources["LambdaFunction"].Properties
	if fn["Runtime"] != "provided.al2023" || fn["Handler"] != "bootstrap" {
		t.Errorf("function runtime %v handler %v", fn["Runtime"], fn["Handler"])
	}
	code, _ := json.Marshal(fn["Code"])
	if string(code) != `{"S3Bucket":{"Ref":"LambdaCodeBucket"},"S3Key":{"Ref":"LambdaCodeKey"}}` {
		t.Errorf("code %s", code)
	}
	vpc, _ := fn["VpcConfig"].(map[string]any)
	subnets, _ := json.Marshal(vpc["SubnetIds"])
	if string(subnets) != `[{"Fn::Select":["0",{"Ref":"Subnets"}]}]` || vpc["SecurityGroupIds"] == nil {
		t.Errorf("VpcConfig %v: want one subnet and the security groups", vpc)
	}
	if timeout, _ := fn["Timeout"].(float64); timeout <= 60 {
		t.Errorf("function timeout %v s: must exceed the probe's 60s --deadline", fn["Timeout"])
	}
	vars, _ := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	env := map[string]string{}
	for name, v := range vars {
		value, literal := v.(string)
		if !literal {
			value = sampleValue(name)
		}
		env[name] = value
	}
	for _, need := range []string{"VPCPROBE_LOG_GROUP", "VPCPROBE_SUBNET_ID", "VPCPROBE_SECURITY_GROUPS", "VPCPROBE_SERVICES"} {
		if _, ok := env[need]; !ok {
			t.Errorf("function environment lacks %s", need)
		}
	}
	if _, err := checkProbeEnv(env); err != nil {
		t.Errorf("function environment: %v", err)
	}
	perm := tpl.Resources["LambdaSchedulePermission"].Properties
	src, _ := json.Marshal(perm["SourceArn"])
	if perm["Principal"] != "events.amazonaws.com" || perm["Action"] != "lambda:InvokeFunction" || string(src) != `{"Fn::GetAtt":["LambdaScheduleRule","Arn"]}` {
		t.Errorf("permission %v: want the schedule rule allowed to invoke", perm)
	}
	targets, _ := json.Marshal(tpl.Resources["LambdaScheduleRule"].Properties["Targets"])
	if !strings.Contains(string(targets), `"Fn::GetAtt":["LambdaFunction","Arn"]`) {
		t.Errorf("schedule targets %s", targets)
	}
	if !slices.Contains(lambdaRes, "LambdaFailureAlarm") {
		t.Errorf("no failure alarm for the Lambda variant")
	}
}

// TestTemplateCfnLint runs cfn-lint, which knows every resource type's properties, on the
// templates (the scheduled check and the fleet's member and central): errors and warnings fail.
func TestTemplateCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if _, serr := os.Stat("/root/.pyenv/shims/cfn-lint"); serr == nil {
			bin = "/root/.pyenv/shims/cfn-lint"
		} else {
			t.Fatalf("cfn-lint is not installed: pip install cfn-lint (%v)", err)
		}
	}
	for _, file := range []string{"template.json", "fleet-member.json", "fleet-central.json"} {
		out, err := exec.Command(bin, "--format", "parseable", file).CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit) && exit.ExitCode()&(2|4) == 0: // informational findings only
			t.Logf("cfn-lint %s:\n%s", file, out)
		default:
			t.Errorf("cfn-lint %s: %v\n%s", file, err, out)
		}
	}
}
