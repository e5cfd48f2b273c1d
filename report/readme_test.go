package report_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/internal/readsonce"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestReadmeExamples (issue 16): the report examples in README.md (the code blocks that start
// with a "vpcprobe " line: the probe's, the launch's and inspect's text, regenerated from the
// lab) read once: no long line twice, no prose past 80 columns, no sentence said twice.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := 0
	for _, block := range fencedBlocks(string(readme)) {
		if !strings.HasPrefix(block, "vpcprobe ") {
			continue
		}
		examples++
		head, _, _ := strings.Cut(block, "\n")
		for _, p := range readsonce.Problems([]byte(block), report.DefaultWidth) {
			t.Errorf("README example %q: %s", head, p)
		}
		var prose []string
		for _, l := range strings.Split(block, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "$ ") {
				prose = append(prose, l)
			}
		}
		seen := map[string]bool{}
		for _, s := range report.Sentences(strings.Join(strings.Fields(strings.Join(prose, " ")), " ")) {
			if len(s) > 60 && seen[s] {
				t.Errorf("README example %q says twice: %q", head, s)
			}
			seen[s] = true
		}
	}
	if examples < 3 {
		t.Errorf("%d report examples in README.md, want the probe's, the launch's and inspect's", examples)
	}
}

// fencedBlocks returns the contents of the Markdown file's fenced code blocks that a bare ```
// opens (a ```sh or ```json block holds commands or documents, not a report's text).
func fencedBlocks(md string) []string {
	var blocks []string
	var cur []string
	in, bare := false, false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !in && strings.HasPrefix(line, "```"):
			in, bare, cur = true, strings.TrimSpace(line) == "```", nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			if bare {
				blocks = append(blocks, strings.Join(cur, "\n")+"\n")
			}
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}
