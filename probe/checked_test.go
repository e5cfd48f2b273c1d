package probe

import (
	"context"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/report"
)

// checkedRun runs p from started and fails t when the report does not match the shipped JSON
// Schema (schema/report.schema.json): every report a probe test makes is validated.
func checkedRun(t testing.TB, p *Prober, started time.Time) *report.Report {
	t.Helper()
	rep := p.Run(context.Background(), started)
	schematest.Check(t, rep.JSON())
	return rep
}
