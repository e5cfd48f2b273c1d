package needs

import (
	"strings"
	"testing"
)

// TestParseAsPeopleKeepThem: task-level cpu and memory given as numbers (terraform's
// aws_ecs_task_definition takes cpu = 1024, and JSON rendered from it keeps the number; seen in
// ChenChihChiang/terraform-cloud task_definition.tf) are read as the API's strings; a definition
// that cannot be read names the field in plain words, never Go's decoder's (issue 17, item 14).
func TestParseAsPeopleKeepThem(t *testing.T) {
	t.Run("numbers for task cpu and memory", func(t *testing.T) {
		for _, doc := range []string{
			`{"family": "web", "cpu": 1024, "memory": 2048, "containerDefinitions": [{"name": "web", "image": "nginx", "cpu": 512, "memory": 1024}]}`,
			`{"taskDefinition": {"family": "web", "cpu": 1024, "memory": 2048, "containerDefinitions": [{"name": "web", "image": "nginx"}]}}`,
		} {
			td, err := Parse([]byte(doc))
			if err != nil {
				t.Fatalf("%s: %v", doc, err)
			}
			if td.Cpu == nil || *td.Cpu != "1024" || td.Memory == nil || *td.Memory != "2048" {
				t.Errorf("cpu %v memory %v, want 1024 and 2048", td.Cpu, td.Memory)
			}
		}
	})
	tests := []struct {
		name, doc string
		field     string // the words the message must hold
	}{
		{"container memory as text", `{"containerDefinitions": [{"name": "web", "image": "nginx", "memory": "512"}]}`, "containerDefinitions.memory is text"},
		{"essential as text", `{"containerDefinitions": [{"name": "web", "essential": "yes"}]}`, "containerDefinitions.essential is text"},
		{"containers as an object", `{"containerDefinitions": {"name": "web"}}`, "containerDefinitions is an object"},
		{"task cpu as a list", `{"cpu": [256], "containerDefinitions": []}`, "cpu is a list"},
		{"cut short", `{"containerDefinitions": [{"name": "web"`, "not valid JSON"},
		{"stray comma", `{"containerDefinitions": [],}`, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatal("read, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.field) {
				t.Errorf("%q does not say %q", msg, tt.field)
			}
			for _, goWord := range []string{"unmarshal", "Go struct", "types.", "int32", "*string", "invalid character"} {
				if strings.Contains(msg, goWord) {
					t.Errorf("%q speaks Go (%q)", msg, goWord)
				}
			}
		})
	}
}
