package schema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/fleet"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/launch"
	"github.com/vpcprobe/vpcprobe/report"
	"github.com/vpcprobe/vpcprobe/responder"
	"github.com/vpcprobe/vpcprobe/schema"
	"github.com/vpcprobe/vpcprobe/stopped"
)

// decoders are the Go types each schema's documents are printed from.
var decoders = map[string]func() any{
	report.Schema:         func() any { return new(report.Report) },
	launch.Schema:         func() any { return new(launch.Report) },
	inspect.Schema:        func() any { return new(inspect.Report) },
	stopped.ExplainSchema: func() any { return new(stopped.Explanation) },
	responder.Schema:      func() any { return new(responder.Diagnosis) },
	fleet.Schema:          func() any { return new(fleet.Report) },
}

// TestGolden (issue 16, item 1): the documents vpcprobe printed when the golden files were saved
// (testdata/README.md says how) still validate against the shipped schemas, one at least per
// schema, and today's types read them back without losing a member: a field renamed or removed
// in the code, or in a schema, fails here.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := schematest.Validate(doc); err != nil {
				t.Fatal(err)
			}
			var head struct{ Schema string }
			if err := json.Unmarshal(doc, &head); err != nil {
				t.Fatal(err)
			}
			covered[head.Schema] = true
			mk, ok := decoders[head.Schema]
			if !ok {
				t.Fatalf("no Go type for schema %s", head.Schema)
			}
			v := mk()
			if err := json.Unmarshal(doc, v); err != nil {
				t.Fatalf("today's %T does not read it: %v", v, err)
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			want, got := paths(t, doc), paths(t, again)
			for _, p := range want {
				if _, ok := slices.BinarySearch(got, p); !ok {
					t.Errorf("member %s is lost by today's %T", p, v)
				}
			}
		})
	}
	for name := range schema.Names {
		if !covered[name] {
			t.Errorf("no golden document of %s in testdata", name)
		}
	}
}

// paths lists the member paths of a JSON document ("subnets[].report.services[].checks[].name"),
// sorted, each once.
func paths(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := strings.TrimPrefix(prefix+"."+k, ".")
				seen[p] = true
				walk(p, e)
			}
		case []any:
			for _, e := range x {
				walk(prefix+"[]", e)
			}
		}
	}
	walk("", v)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
