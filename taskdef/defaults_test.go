package taskdef

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// TestDefaultsAgree: the default services, as the code has them, are what the shipped task
// definitions, the template, README.md and CONTRACT.md say; and no shipped file pulls a floating
// image tag. A default changed in one place and not the others fails here.
func TestDefaultsAgree(t *testing.T) {
	want := catalogue.DefaultServices
	for _, name := range []string{"vpcprobe.json", "vpcprobe-awslogs.json"} {
		var td struct {
			ContainerDefinitions []struct {
				Name        string
				Environment []struct{ Name, Value string }
			}
		}
		if err := json.Unmarshal(readSubst(t, name), &td); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range td.ContainerDefinitions {
			for _, e := range c.Environment {
				if e.Name == "VPCPROBE_SERVICES" && e.Value != want {
					t.Errorf("%s: VPCPROBE_SERVICES %q, the default is %q", name, e.Value, want)
				}
			}
		}
	}
	var tpl struct {
		Parameters map[string]struct{ Default any }
	}
	data, err := os.ReadFile("template.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &tpl); err != nil {
		t.Fatal(err)
	}
	if got := tpl.Parameters["Services"].Default; got != want {
		t.Errorf("template.json: Services default %v, the default is %q", got, want)
	}
	row := regexp.MustCompile("(?m)^\\| `--services LIST` \\| `([^`]*)`")
	for _, doc := range []string{"../README.md", "../CONTRACT.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		m := row.FindSubmatch(b)
		if m == nil || string(m[1]) != want {
			t.Errorf("%s: the --services row says %q, the default is %q", doc, m, want)
		}
	}
	for _, f := range jsonFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "vpcprobe:latest") {
			t.Errorf("%s pulls vpcprobe:latest: pin ${IMAGE_TAG}", f)
		}
	}
}
