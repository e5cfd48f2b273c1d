package taskdef

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/responder"
)

const responderModule = "../deploy/terraform/responder"

// TestTerraformResponder: the module is HCL terraform parses and formats as written (providers
// cannot be downloaded here, so fmt's parse is the check), its responder role allows exactly
// responder.Actions and inspect.Actions, its rule matches what the template's does, its function
// sets the responder's required settings, and its README documents every input and output.
func TestTerraformResponder(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatalf("terraform is not installed: apt-get install terraform, or unzip HashiCorp's release onto PATH (%v)", err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "terraformrc")
	os.WriteFile(cfg, nil, 0o644)
	cmd := exec.Command(bin, "fmt", "-check", "-diff", "-recursive", responderModule)
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cfg, "CHECKPOINT_DISABLE=1", "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("terraform fmt -check: %v\n%s", err, out)
	}
	// The check must catch a broken file: fmt refuses HCL it cannot parse.
	broken := filepath.Join(dir, "broken.tf")
	os.WriteFile(broken, []byte("resource \"aws_lambda_function\" \"x\" {\n  name = \n"), 0o644)
	if out, err := exec.Command(bin, "fmt", "-check", broken).CombinedOutput(); err == nil {
		t.Errorf("terraform fmt accepted broken HCL: %s", out)
	}

	main := read(t, filepath.Join(responderModule, "main.tf"))
	// The responder's role: the locals its policy names, and the actions it spells out.
	role := between(t, main, `resource "aws_iam_role_policy" "responder"`, `resource "aws_lambda_function"`)
	locals := between(t, main, "locals {", `resource "aws_dynamodb_table"`)
	action := regexp.MustCompile(`"([a-z0-9-]+:[A-Za-z]+)"`)
	var got []string
	for _, block := range []string{role, locals} {
		for _, m := range action.FindAllStringSubmatch(block, -1) {
			if !slices.Contains(got, m[1]) && !strings.HasPrefix(m[1], "iam:PassedToService") {
				got = append(got, m[1])
			}
		}
	}
	got = slices.DeleteFunc(got, func(a string) bool { return a == "sts:AssumeRole" || a == "aws:SourceAccount" })
	slices.Sort(got)
	want := sorted(append(slices.Clone(responder.Actions), inspect.Actions...))
	if !slices.Equal(got, want) {
		t.Errorf("responder role actions\n %v\nwant exactly\n %v", got, want)
	}
	for _, v := range []string{responder.EnvTable, responder.EnvLogGroup, responder.EnvProbeRole} {
		if !strings.Contains(main, v+" ") {
			t.Errorf("the function does not set %s", v)
		}
	}
	for _, s := range []string{`source        = ["aws.ecs"]`, `"detail-type" = ["ECS Task State Change"]`, `lastStatus = ["STOPPED"]`, `stopCode   = ["TaskFailedToStart"]`} {
		if !strings.Contains(main, s) {
			t.Errorf("the rule's pattern lacks %s", s)
		}
	}
	readme := read(t, filepath.Join(responderModule, "README.md"))
	for file, re := range map[string]*regexp.Regexp{"variables.tf": regexp.MustCompile(`variable "([a-z_]+)"`), "outputs.tf": regexp.MustCompile(`output "([a-z_]+)"`)} {
		for _, m := range re.FindAllStringSubmatch(read(t, filepath.Join(responderModule, file)), -1) {
			if !strings.Contains(readme, "| `"+m[1]+"` |") {
				t.Errorf("README.md does not document %s's %s", file, m[1])
			}
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	j := strings.Index(s[max(i, 0):], to)
	if i < 0 || j < 0 {
		t.Fatalf("no %q … %q in the module", from, to)
	}
	return s[i : i+j]
}
