// Package schema ships the JSON Schemas of vpcprobe's documents: the probe's report
// (vpcprobe/v1), the launcher's combined report (vpcprobe-launch/v1), inspect's findings
// (vpcprobe-inspect/v1), explain-stopped's explanations (vpcprobe-explain/v1), the responder's
// diagnoses (vpcprobe-diagnosis/v1) and the fleet's map of every subnet (vpcprobe-fleet/v1). They are the
// contract in machine-readable form; every report a test produces is validated against them
// (internal/schematest).
package schema

import "embed"

// Files holds the schema documents, named <name>.schema.json.
//
//go:embed *.schema.json
var Files embed.FS

// Names of the schema documents, by the "schema" member of the document they describe.
var Names = map[string]string{
	"vpcprobe/v1":           "report.schema.json",
	"vpcprobe-launch/v1":    "launch.schema.json",
	"vpcprobe-inspect/v1":   "inspect.schema.json",
	"vpcprobe-explain/v1":   "explain.schema.json",
	"vpcprobe-diagnosis/v1": "diagnosis.schema.json",
	"vpcprobe-fleet/v1":     "fleet.schema.json",
}
