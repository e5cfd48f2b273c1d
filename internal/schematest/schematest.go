// Package schematest validates documents against the JSON Schemas in schema/, for tests: every
// report a test produces goes through Check, so the shipped schemas and the code cannot drift.
package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vpcprobe/vpcprobe/schema"
)

const base = "https://github.com/vpcprobe/vpcprobe/schema/"

var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := fs.Glob(schema.Files, "*.schema.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := schema.Files.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if err := c.AddResource(base+f, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for id, f := range schema.Names {
		s, err := c.Compile(base + f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out[id] = s
	}
	return out, nil
})

// Validate checks doc against the schema its own "schema" member names; a document naming no
// known schema is an error.
func Validate(doc []byte) error {
	schemas, err := compiled()
	if err != nil {
		return fmt.Errorf("schematest: compile: %w", err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return fmt.Errorf("schematest: not a JSON object: %w", err)
	}
	s, ok := schemas[head.Schema]
	if !ok {
		return fmt.Errorf("schematest: document names schema %q, which schema/ does not ship", head.Schema)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("schematest: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("schematest: %s: %w", head.Schema, err)
	}
	return nil
}

// Check fails t when doc does not validate against its schema.
func Check(t testing.TB, doc []byte) {
	t.Helper()
	if err := Validate(doc); err != nil {
		t.Errorf("report does not match its JSON Schema: %v\n%s", err, doc)
	}
}
