package needs

import (
	"slices"
	"strings"
)

// MergeServices is the --services value of a probe for n: the derived keys, after the given
// ones when given (given says whether services was given or is the default). A task definition
// that needs none of the catalogue's services in its region (only internet images, say) keeps
// the default rather than probing nothing.
func MergeServices(services string, given bool, n *Needs) string {
	derived := strings.Join(n.Services, ",")
	switch {
	case given && derived != "":
		return services + "," + derived
	case given || derived == "":
		return services
	}
	return derived
}

// Union returns a followed by the items of b it lacks: given secrets or parameters joined by
// the derived ones.
func Union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
