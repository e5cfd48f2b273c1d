package probe

import (
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// WithoutCredentials reports whether rep's run skipped an authenticated check because the host
// has no AWS credentials at all (a check skipped with detail NoCredentials).
func WithoutCredentials(rep *report.Report) bool {
	for _, s := range rep.Services {
		for _, c := range s.Checks {
			if c.Status == checks.Skip && c.Detail == NoCredentials {
				return true
			}
		}
	}
	return false
}

// Unmeasured says why nothing was measured when every check of every service in rep was skipped
// (the registry account unknown for an ecr.dkr probed alone, say): the first skip's service and
// detail, or "no service was probed". It is empty when something was measured.
func Unmeasured(rep *report.Report) string {
	why := "no service was probed"
	for _, s := range rep.Services {
		for _, c := range s.Checks {
			if c.Status != checks.Skip {
				return ""
			}
			if why == "no service was probed" && c.Detail != "" {
				why = s.Service + ": " + c.Detail
			}
		}
	}
	return why
}
