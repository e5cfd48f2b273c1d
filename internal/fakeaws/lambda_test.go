package fakeaws_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestMain doubles as a function's bootstrap: started by the fake's Sandbox with
// AWS_LAMBDA_RUNTIME_API set, this test binary runs aws-lambda-go's real runtime loop with
// echoFunction as its handler, so the tests below invoke real Lambda runtime code.
func TestMain(m *testing.M) {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		awslambda.Start(echoFunction)
		return
	}
	os.Exit(m.Run())
}

// echoFunction answers what it was asked and what its environment says; {"fail": msg} is a
// function error, {"exit": code} exits without answering, {"sleep": "5s"} outlasts a timeout.
func echoFunction(ctx context.Context, ev map[string]any) (map[string]any, error) {
	if msg, ok := ev["fail"].(string); ok {
		return nil, errors.New(msg)
	}
	if code, ok := ev["exit"].(float64); ok {
		os.Exit(int(code))
	}
	if d, ok := ev["sleep"].(string); ok {
		dur, _ := time.ParseDuration(d)
		time.Sleep(dur)
	}
	dl, _ := ctx.Deadline()
	return map[string]any{
		"event":     ev,
		"function":  os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		"region":    os.Getenv("AWS_REGION"),
		"key":       os.Getenv("AWS_ACCESS_KEY_ID"),
		"left_ms":   time.Until(dl).Milliseconds(),
		"test_vars": os.Getenv("FROM_CONFIG"),
	}, nil
}

// selfZip is this test binary zipped as a function's bootstrap (stored: deflating it would
// only cost time).
func selfZip(t *testing.T) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Store}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (e *env) lambda() *lambda.Client {
	return lambda.NewFromConfig(e.aws, func(o *lambda.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
}

const testRole = "arn:aws:iam::123456789012:role/vpcprobe-lambda"

func createInput(name string, code []byte) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(testRole), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureX8664},
		Code: &lambdatypes.FunctionCode{ZipFile: code}, Timeout: aws.Int32(2), MemorySize: aws.Int32(256),
		Environment: &lambdatypes.Environment{Variables: map[string]string{"FROM_CONFIG": "yes"}},
		VpcConfig:   &lambdatypes.VpcConfig{SubnetIds: []string{"subnet-0a1b2c3d"}, SecurityGroupIds: []string{"sg-0d4e5f6a"}},
	}
}

// TestLambdaLifecycle: the SDK's client creates a function (Pending, then Active through the
// SDK's own waiter), invokes it — the real runtime loop answering through the Runtime API —
// and deletes it; every failure answers Lambda's error code on the wire.
func TestLambdaLifecycle(t *testing.T) {
	e := newEnv(t, fakeaws.DefaultConfig())
	sb := &fakeaws.Sandbox{}
	t.Cleanup(func() { sb.Close() })
	e.fake.RunFunctions(sb.Invoke)
	e.fake.SetFunctionPending(2)
	c := e.lambda()
	ctx := context.Background()
	code := selfZip(t)

	out, err := c.CreateFunction(ctx, createInput("probe-a", code))
	if err != nil {
		t.Fatal(err)
	}
	if out.State != lambdatypes.StatePending || out.VpcConfig == nil || out.VpcConfig.SubnetIds[0] != "subnet-0a1b2c3d" {
		t.Fatalf("CreateFunction = state %s, vpc %+v; want Pending in subnet-0a1b2c3d", out.State, out.VpcConfig)
	}
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("probe-a")}); errorCode(t, err) != "ResourceConflictException" {
		t.Fatalf("Invoke while Pending: %v, want ResourceConflictException", err)
	}
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("probe-a")}, 10*time.Second); err != nil {
		t.Fatalf("FunctionActiveV2 waiter: %v", err)
	}
	conf, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("probe-a")})
	if err != nil || conf.State != lambdatypes.StateActive || aws.ToString(conf.Role) != testRole {
		t.Fatalf("GetFunctionConfiguration = %+v, %v; want Active with the role", conf, err)
	}

	tests := []struct {
		name      string
		payload   string
		fnError   string
		errorType string
	}{
		{"answer", `{"hello": "world"}`, "", ""},
		{"function error", `{"fail": "no such thing"}`, "Unhandled", "errorString"},
		{"exit", `{"exit": 3}`, "Unhandled", "Runtime.ExitError"},
		{"timeout", `{"sleep": "10s"}`, "Unhandled", "Sandbox.Timedout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("probe-a"), Payload: []byte(tt.payload),
				LogType: lambdatypes.LogTypeTail})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(res.FunctionError); got != tt.fnError {
				t.Fatalf("FunctionError = %q, want %q; payload %s", got, tt.fnError, res.Payload)
			}
			var doc map[string]any
			if err := json.Unmarshal(res.Payload, &doc); err != nil {
				t.Fatalf("payload %q: %v", res.Payload, err)
			}
			if tt.fnError != "" {
				if doc["errorType"] != tt.errorType {
					t.Errorf("errorType = %v, want %s (%s)", doc["errorType"], tt.errorType, res.Payload)
				}
				return
			}
			// The function ran with its own name, region, role credentials and configured
			// variables, under the function's timeout.
			key, _ := doc["key"].(string)
			if doc["function"] != "probe-a" || doc["region"] != "eu-west-1" || doc["test_vars"] != "yes" || len(key) < 4 || key[:4] != "ASIA" {
				t.Errorf("function environment = %s", res.Payload)
			}
			if left, _ := doc["left_ms"].(float64); left <= 0 || left > 2000 {
				t.Errorf("deadline left %vms, want within the 2s timeout", left)
			}
		})
	}

	if _, err := c.CreateFunction(ctx, createInput("probe-a", code)); errorCode(t, err) != "ResourceConflictException" {
		t.Errorf("second CreateFunction: %v, want ResourceConflictException", err)
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("probe-a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("probe-a")}); errorCode(t, err) != "ResourceNotFoundException" {
		t.Errorf("GetFunction after delete: %v, want ResourceNotFoundException", err)
	}
	if got := e.fake.Functions(); len(got) != 0 {
		t.Errorf("functions left: %v", got)
	}
}

// TestLambdaErrors: refusals answer the codes Lambda answers, before anything is created.
func TestLambdaErrors(t *testing.T) {
	code := []byte("PK\x05\x06" + string(make([]byte, 18))) // an empty zip
	tests := []struct {
		name string
		cfg  func(*fakeaws.Config)
		in   func(*lambda.CreateFunctionInput)
		want string
	}{
		{"denied", func(c *fakeaws.Config) { c.Deny = map[string]bool{"lambda:CreateFunction": true} }, nil, "AccessDeniedException"},
		{"pass role denied", func(c *fakeaws.Config) { c.Deny = map[string]bool{"iam:PassRole": true} }, nil, "AccessDeniedException"},
		{"bad role", nil, func(in *lambda.CreateFunctionInput) { in.Role = aws.String("vpcprobe-lambda") }, "ValidationException"},
		{"no groups", nil, func(in *lambda.CreateFunctionInput) { in.VpcConfig.SecurityGroupIds = nil }, "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fakeaws.DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			e := newEnv(t, cfg)
			in := createInput("probe-b", code)
			if tt.in != nil {
				tt.in(in)
			}
			_, err := e.lambda().CreateFunction(context.Background(), in)
			if got := errorCode(t, err); got != tt.want {
				t.Errorf("CreateFunction: %v, want %s", err, tt.want)
			}
			if got := e.fake.FunctionsCreated(); len(got) != 0 {
				t.Errorf("created %v", got)
			}
		})
	}
	e := newEnv(t, fakeaws.DefaultConfig())
	_, err := e.lambda().Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:nope")})
	if got := errorCode(t, err); got != "ResourceNotFoundException" {
		t.Errorf("Invoke of a missing function: %v", fmt.Sprint(err))
	}
}
