package main

import (
	"os"
	"strings"
	"testing"
)

// TestForTaskDefinitionAsPeopleKeepIt: a file whose task-level cpu and memory are numbers is
// read; one whose container memory is text is exit 2 with one line naming the field, in the
// words of the file (issue 17, item 14).
func TestForTaskDefinitionAsPeopleKeepIt(t *testing.T) {
	dir := t.TempDir()
	numbers := dir + "/numbers.json"
	os.WriteFile(numbers, []byte(`{"family": "web", "cpu": 256, "memory": 512, "containerDefinitions": [{"name": "web",
		"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1"}]}`), 0o600)
	cfg, _, err := forTaskDefinition(t, env(), "--region", "eu-west-1", "--for-task-definition", "file://"+numbers)
	if err != nil || cfg.Image != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1" {
		t.Fatalf("numbers for cpu and memory: %v (image %q)", err, cfg.Image)
	}
	bad := dir + "/bad.json"
	os.WriteFile(bad, []byte(`{"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx", "memory": "512"}]}`), 0o600)
	code, out, errs := runCmd(t, env(), "--resolver", "127.0.0.1:1", "--region", "eu-west-1", "--for-task-definition", "file://"+bad)
	if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "containerDefinitions.memory") || strings.Contains(errs, "unmarshal") {
		t.Errorf("exit %d stdout %q stderr %q, want 2 and one line naming containerDefinitions.memory", code, out, errs)
	}
}
