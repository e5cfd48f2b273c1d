package lab

import (
	"testing"

	"github.com/vpcprobe/vpcprobe/internal/readsonce"
)

// readsOnce fails t when a text report repeats itself or runs past the width (issue 16, item
// 2): see readsonce.Problems.
func readsOnce(t *testing.T, what string, text []byte, width int) {
	t.Helper()
	for _, p := range readsonce.Problems(text, width) {
		t.Errorf("%s: %s\n%s", what, p, text)
	}
}
