package main

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/needs"
	"github.com/vpcprobe/vpcprobe/probe"
)

// forTaskDefinition parses args and resolves the probe's configuration with the task
// definition, as run does before probing.
func forTaskDefinition(t *testing.T, getenv func(string) (string, bool), args ...string) (probe.Config, string, error) {
	t.Helper()
	o, err := parseArgs(append([]string{"--resolver", "127.0.0.1:1", "--amazon-dns", ""}, args...), getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.config(getenv, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cfg, err = o.withTaskDefinition(cfg, getenv, "", "", &stderr)
	return cfg, stderr.String(), err
}

func keys(c probe.Config) []string {
	var out []string
	for _, s := range c.Services {
		out = append(out, s.Key)
	}
	return out
}

// TestForTaskDefinitionFile: --for-task-definition file://… gives the probe the task
// definition's services, image, secrets and parameters, joined to the ones given.
func TestForTaskDefinitionFile(t *testing.T) {
	awstest.IsolateSDK(t)
	const file = "file://testdata/app-taskdef.json"
	const image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2.3.0"
	secret := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf:password::"
	tests := []struct {
		name       string
		env        []string
		args       []string
		services   []string
		image      string
		secrets    []string
		parameters []string
	}{
		{"derived only", nil, nil,
			[]string{"ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager", "ssm"}, image, []string{secret}, []string{"/app/api-key"}},
		{"joined to --services and --secret", nil, []string{"--services", "sts,kms", "--secret", "other"},
			[]string{"ecr.api", "ecr.dkr", "s3", "logs", "sts", "secretsmanager", "ssm", "kms"}, image, []string{"other", secret}, []string{"/app/api-key"}},
		{"joined to VPCPROBE_SERVICES", []string{"VPCPROBE_SERVICES", "ssmmessages"}, nil,
			[]string{"ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager", "ssm", "ssmmessages"}, image, []string{secret}, []string{"/app/api-key"}},
		{"the given image wins", nil, []string{"--image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/other:1"},
			[]string{"ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager", "ssm"}, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/other:1", []string{secret}, []string{"/app/api-key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--region", "eu-west-1", "--for-task-definition", file}, tt.args...)
			cfg, notes, err := forTaskDefinition(t, env(tt.env...), args...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(keys(cfg), tt.services) || cfg.Image != tt.image || cfg.Account != "123456789012" ||
				!slices.Equal(cfg.Secrets, tt.secrets) || !slices.Equal(cfg.Parameters, tt.parameters) {
				t.Errorf("services %q image %q account %q secrets %q parameters %q", keys(cfg), cfg.Image, cfg.Account, cfg.Secrets, cfg.Parameters)
			}
			if !strings.Contains(notes, needs.NoteInternetRegistry) {
				t.Errorf("the ghcr.io image was not noted on stderr:\n%s", notes)
			}
		})
	}
}

// TestForTaskDefinitionErrors: a task definition the ECS API does not give is "could not test"
// (exit 3) with one line saying how to do without the API; a bad file is a usage error.
func TestForTaskDefinitionErrors(t *testing.T) {
	t.Run("denied", func(t *testing.T) {
		fake, _, _ := fakeAWS(t)
		fake.Configure(func(c *fakeaws.Config) { c.Deny = map[string]bool{"ecs:DescribeTaskDefinition": true} })
		code, out, errs := runCmd(t, env(), "--resolver", "127.0.0.1:1", "--region", "eu-west-1", "--timeout", "3s", "--for-task-definition", "app:12")
		if code != exitUntested || out != "" {
			t.Fatalf("exit %d, want 3; stdout %q stderr %q", code, out, errs)
		}
		if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "file://") || !strings.Contains(errs, "vpcprobe launch --for-task-definition") {
			t.Errorf("stderr %q: want one line naming file:// and the launcher", errs)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		fakeAWS(t)                                          // the SDK environment; the world is not needed
		t.Setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:1") // nothing listens: no route to the ECS API
		_, _, err := forTaskDefinition(t, env(), "--region", "eu-west-1", "--timeout", "2s", "--for-task-definition", "app")
		if !errors.Is(err, needs.ErrUnreadable) {
			t.Errorf("%v, want needs.ErrUnreadable", err)
		}
	})
	dir := t.TempDir()
	os.WriteFile(dir+"/other-region.json", []byte(`{"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/x:1", "containerDefinitions": []}`), 0o600)
	for _, tt := range []struct{ name, ref, want string }{
		{"missing file", "file://testdata/none.json", "--for-task-definition"},
		{"not a task definition", "file://testdata/../needs.go", "--for-task-definition"},
		{"other region", "file://" + dir + "/other-region.json", "--region us-east-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, env(), "--resolver", "127.0.0.1:1", "--region", "eu-west-1", "--for-task-definition", tt.ref)
			if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d stdout %q stderr %q", code, out, errs)
			}
		})
	}
}

// TestForTaskDefinitionAPI reads a registered task definition through the ECS API.
func TestForTaskDefinitionAPI(t *testing.T) {
	fake, _, _ := fakeAWS(t)
	if _, err := fake.RegisterTaskDefinition([]byte(`{"family": "app", "containerDefinitions": [{"name": "app",
		"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2.3.0", "secrets": [{"name": "K", "valueFrom": "/app/api-key"}]}]}`)); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := forTaskDefinition(t, env(), "--region", "eu-west-1", "--for-task-definition", "app")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(cfg), []string{"ecr.api", "ecr.dkr", "s3", "ssm"}) || cfg.Image != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2.3.0" || !slices.Equal(cfg.Parameters, []string{"/app/api-key"}) {
		t.Errorf("services %q image %q parameters %q", keys(cfg), cfg.Image, cfg.Parameters)
	}
}
