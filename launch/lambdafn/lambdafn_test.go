package lambdafn

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/couldnottest"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// elfHeader is the start of a 64-bit little-endian ELF file for machine with OS ABI abi.
func elfHeader(class, data, abi byte, machine uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6], h[7] = class, data, 1, abi
	binary.LittleEndian.PutUint16(h[18:], machine)
	return h
}

// TestELFArchitecture: only Linux ELF executables of Lambda's two architectures are code.
func TestELFArchitecture(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"x86_64", elfHeader(2, 1, 0, 62), ArchX86},
		{"arm64", elfHeader(2, 1, 0, 183), ArchARM},
		{"linux abi", elfHeader(2, 1, 3, 183), ArchARM},
		{"32-bit", elfHeader(1, 1, 0, 3), ""},
		{"big-endian", elfHeader(2, 2, 0, 62), ""},
		{"freebsd", elfHeader(2, 1, 9, 62), ""},
		{"riscv", elfHeader(2, 1, 0, 243), ""},
		{"mach-o", []byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00\x10\x00\x00\x00"), ""},
		{"windows", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00\x00\x00"), ""},
		{"short", []byte("\x7fELF"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ELFArchitecture(tt.head)
			if got != tt.want || (tt.want == "") != errors.Is(err, ErrNotLambdaBinary) {
				t.Errorf("ELFArchitecture = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// This test binary itself, when it is a Linux one.
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
		exe, _ := os.Executable()
		z, arch, err := SelfCode(exe)
		want := map[string]string{"amd64": ArchX86, "arm64": ArchARM}[runtime.GOARCH]
		if err != nil || arch != want {
			t.Fatalf("SelfCode = %q, %v; want %s", arch, err, want)
		}
		if got, err := ZipCode(z); got != want || err != nil {
			t.Errorf("ZipCode(SelfCode) = %q, %v", got, err)
		}
	}
}

// TestZipCode: a --lambda-zip must hold an executable bootstrap of a Lambda architecture.
func TestZipCode(t *testing.T) {
	arm, _ := ZipBootstrap(elfHeader(2, 1, 0, 183))
	var other bytes.Buffer
	zw := zip.NewWriter(&other)
	w, _ := zw.Create("vpcprobe")
	w.Write(elfHeader(2, 1, 0, 183))
	zw.Close()
	script, _ := ZipBootstrap([]byte("#!/bin/sh\nexec ./vpcprobe\n"))
	tests := []struct {
		name string
		zip  []byte
		want string
	}{
		{"arm64", arm, ArchARM},
		{"no bootstrap", other.Bytes(), ""},
		{"script", script, ""},
		{"not a zip", []byte("hello"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ZipCode(tt.zip)
			if got != tt.want || (tt.want == "") == (err == nil) {
				t.Errorf("ZipCode = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	zr, _ := zip.NewReader(bytes.NewReader(arm), int64(len(arm)))
	if mode := zr.File[0].Mode(); mode.Perm()&0o111 == 0 {
		t.Errorf("bootstrap mode %v: Lambda runs it only when executable", mode)
	}
}

// TestFunctionName: names fit Lambda's 64 characters and alphabet, one per subnet.
func TestFunctionName(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	for _, id := range []string{"build-42", "0cd53b62-760a-42e1-a205-ff56e104f49c", "a:b.c/d" + string(make([]byte, 80))} {
		c := Config{LaunchID: id}
		a, b := c.functionName("subnet-0a1b2c3d4e5f60718"), c.functionName("subnet-0a1b2c3d4e5f60719")
		if !valid.MatchString(a) || a == b {
			t.Errorf("launch %q: names %q, %q", id, a, b)
		}
	}
}

// TestStateDiagnosis: a function that did not become Active is translated by its reason code.
func TestStateDiagnosis(t *testing.T) {
	tests := []struct {
		code string
		want checks.Code
	}{
		{"InsufficientRolePermissions", checks.AccessDenied},
		{"SubnetOutOfIPAddresses", stopped.NetworkInterface},
		{"EniLimitExceeded", stopped.NetworkInterface},
		{"InvalidSubnet", stopped.TaskConfig},
		{"InvalidSecurityGroup", stopped.TaskConfig},
		{"SomethingNew", stopped.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			d := stateDiagnosis(&lambdaRun{function: "vpcprobe-x", subnet: "subnet-0a1b2c3d"}, tt.code, "reason")
			if d.Error != tt.want || d.Cause != CauseLambda || d.Remediation == "" {
				t.Errorf("diagnosis %+v, want %s", d, tt.want)
			}
		})
	}
}

// lambdaWorld is the fake Lambda API behind TLS, the SDK's client aimed at it, and a launcher
// with millisecond polls.
func lambdaWorld(t *testing.T) (*fakeaws.Server, *lambda.Client, *Runner) {
	t.Helper()
	awstest.IsolateSDK(t)
	fake := fakeaws.New(fakeaws.DefaultConfig())
	srv := awstest.Front(t, fake)
	c := lambda.NewFromConfig(srv.SDKConfig(3), func(o *lambda.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	return fake, c, &Runner{Lambda: c, Shared: launch.Shared{PollFirst: time.Millisecond, PollMax: 5 * time.Millisecond, StopTimeout: 5 * time.Second}}
}

func lambdaConfig(subnets ...string) Config {
	code, _ := ZipBootstrap(elfHeader(2, 1, 0, 62))
	return Config{LaunchID: "t1", Subnets: subnets, SecurityGroups: []string{"sg-0d4e5f6a"},
		Role: "arn:aws:iam::123456789012:role/vpcprobe-lambda", Code: code, Architecture: ArchX86,
		ProbeDeadline: 10 * time.Second, Deadline: 30 * time.Second}
}

// TestRunLambdaReports: each subnet's report is its function's response; a function error is a
// diagnosis by its errorType; the functions are deleted.
func TestRunLambdaReports(t *testing.T) {
	fake, _, l := lambdaWorld(t)
	fake.RunFunctions(func(ctx context.Context, fn fakeaws.Function, payload []byte) (fakeaws.InvokeResult, error) {
		var ev map[string]any
		json.Unmarshal(payload, &ev)
		switch ev["subnet-id"] {
		case "subnet-0000000b":
			return fakeaws.InvokeResult{FunctionError: "Unhandled", Payload: []byte(`{"errorType":"vpcprobe.UsageError","errorMessage":"--services: unknown key \"dynamo\""}`)}, nil
		case "subnet-0000000c":
			return fakeaws.InvokeResult{FunctionError: "Unhandled", Payload: []byte(`{"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 20.00 seconds"}`)}, nil
		}
		rep := &report.Report{Schema: report.Schema, RunID: ev["run-id"].(string), Verdict: checks.Pass,
			Services: []report.ServiceReport{{Service: "ecr.api", Verdict: checks.Pass}}}
		return fakeaws.InvokeResult{Payload: rep.JSON()}, nil
	})
	rep, err := l.Run(context.Background(), lambdaConfig("subnet-0000000a", "subnet-0000000b", "subnet-0000000c"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		verdict checks.Status
		code    checks.Code
	}{
		"subnet-0000000a": {checks.Pass, ""},
		"subnet-0000000b": {checks.Fail, stopped.TaskConfig},
		"subnet-0000000c": {checks.Fail, checks.Deadline},
	}
	for _, s := range rep.Subnets {
		w := want[s.Subnet]
		if s.Verdict != w.verdict || (w.code == "") != (len(s.Diagnoses) == 0) || (w.code != "" && s.Diagnoses[0].Error != w.code) {
			t.Errorf("%s: verdict %s, diagnoses %+v; want %s %s", s.Subnet, s.Verdict, s.Diagnoses, w.verdict, w.code)
		}
		if s.Subnet == "subnet-0000000a" && (s.Report == nil || s.Report.RunID != "t1-subnet-0000000a") {
			t.Errorf("report %+v", s.Report)
		}
	}
	if left := fake.Functions(); len(left) != 0 {
		t.Errorf("functions left: %v", left)
	}
}

// TestRunLambdaDeadline: --deadline falls while the functions are still Pending: each subnet
// says so, and the functions are deleted all the same.
func TestRunLambdaDeadline(t *testing.T) {
	fake, _, l := lambdaWorld(t)
	fake.SetFunctionPending(1 << 30)
	c := lambdaConfig("subnet-0000000a", "subnet-0000000b")
	c.Deadline = 200 * time.Millisecond
	rep, err := l.Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Subnets {
		if s.Verdict != checks.Fail || len(s.Diagnoses) != 1 || s.Diagnoses[0].Error != checks.Deadline || s.LastStatus != "PENDING" {
			t.Errorf("%s: %s %s %+v", s.Subnet, s.Verdict, s.LastStatus, s.Diagnoses)
		}
	}
	if n := len(fake.FunctionsCreated()); n != 2 {
		t.Errorf("%d created", n)
	}
	if left := fake.Functions(); len(left) != 0 {
		t.Errorf("functions left after the deadline: %v", left)
	}
}

// TestRunLambdaExistingFunction: --function-name attached to several subnets (or another one)
// cannot test the subnet asked for: nothing is measured, and the function is not deleted.
func TestRunLambdaExistingFunction(t *testing.T) {
	fake, client, l := lambdaWorld(t)
	c := lambdaConfig()
	_, err := client.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("team-probe"), Role: aws.String(c.Role), Runtime: LambdaRuntime, Handler: aws.String(LambdaHandler),
		Code:      &lambdatypes.FunctionCode{ZipFile: c.Code},
		VpcConfig: &lambdatypes.VpcConfig{SubnetIds: []string{"subnet-0000000a", "subnet-0000000b"}, SecurityGroupIds: []string{"sg-0d4e5f6a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c = Config{LaunchID: "t2", Subnets: []string{"subnet-0000000a"}, FunctionName: "team-probe", Deadline: 10 * time.Second}
	rep, err := l.Run(context.Background(), c)
	if !errors.Is(err, couldnottest.Err) {
		t.Errorf("error %v, want couldnottest.Err", err)
	}
	if d := rep.Subnets[0].Diagnoses; len(d) != 1 || d[0].Error != stopped.TaskConfig || d[0].Cause != CauseLambda {
		t.Errorf("diagnoses %+v", d)
	}
	if left := fake.Functions(); len(left) != 1 {
		t.Errorf("the user's function was deleted: %v", left)
	}
}

// TestPublicIPNote: a reproduced task with a public IP makes a public-route timeout of the
// function a warning about the difference, and nothing else does.
func TestPublicIPNote(t *testing.T) {
	timedOut := &report.Report{Services: []report.ServiceReport{{Service: "ecr.api", Route: report.RoutePublic, Error: checks.Timeout, Verdict: checks.Fail}}}
	private := &report.Report{Services: []report.ServiceReport{{Service: "ecr.api", Route: report.RoutePrivate, Error: checks.Timeout, Verdict: checks.Fail}}}
	tests := []struct {
		name   string
		origin *launch.Origin
		rep    *report.Report
		want   bool
	}{
		{"public task, public timeout", &launch.Origin{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/shop/abc", AssignPublicIP: "ENABLED"}, timedOut, true},
		{"private task", &launch.Origin{AssignPublicIP: "DISABLED"}, timedOut, false},
		{"private route", &launch.Origin{AssignPublicIP: "ENABLED"}, private, false},
		{"no task", nil, timedOut, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := publicIPNote(tt.origin, tt.rep)
			if ok != tt.want || (ok && (d.Verdict != checks.Warn || d.Cause != CauseLambda)) {
				t.Errorf("publicIPNote = %+v, %v; want %v", d, ok, tt.want)
			}
		})
	}
}
