package lab

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vpcprobe/vpcprobe/report"
)

// readsOnce fails t when a text report repeats itself or runs past the width (issue 16, item
// 2): no line of over 60 characters appears twice, and no prose line is wider than width.
// Not prose, so not bound by the width: a command ("$ …", one paste-able line), the rows of a
// table (the block under a SERVICE or SUBNET header: one column per subnet), and a line that
// is one word after its label (an ARN or a host name is never cut).
func readsOnce(t *testing.T, what string, text []byte, width int) {
	t.Helper()
	for _, p := range repeats(text, width) {
		t.Errorf("%s: %s\n%s", what, p, text)
	}
}

// repeats returns what readsOnce fails on, one sentence each.
func repeats(text []byte, width int) []string {
	var out []string
	seen := map[string]bool{}
	table := false
	for _, line := range strings.Split(string(text), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			table = false
		case strings.HasPrefix(trimmed, "SERVICE ") || strings.HasPrefix(trimmed, "SUBNET "):
			table = true
		}
		if utf8.RuneCountInString(line) > 60 {
			if seen[line] {
				out = append(out, fmt.Sprintf("a line is said twice: %q", line))
			}
			seen[line] = true
		}
		if table || strings.HasPrefix(trimmed, "$ ") || utf8.RuneCountInString(line) <= width {
			continue
		}
		words := strings.Fields(trimmed)
		if len(words) == 1 || (len(words) == 2 && strings.HasSuffix(words[0], ":")) {
			continue
		}
		out = append(out, fmt.Sprintf("a prose line is %d characters wide, over %d: %q", utf8.RuneCountInString(line), width, line))
	}
	return out
}

// TestReadsOnceCatches holds readsOnce to what it must catch, on made-up text: a repeated long
// line, and prose past the width; and to what it must let through.
func TestReadsOnceCatches(t *testing.T) {
	long := strings.Repeat("word ", 13) // 65 characters
	for name, text := range map[string]string{
		"repeated": "  why: " + long + "\n  why: " + long + "\n",
		"too wide": "  why: " + strings.Repeat("word ", 20) + "\n",
	} {
		if len(repeats([]byte(text), report.DefaultWidth)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	ok := "SUBNET  " + strings.Repeat("subnet-0123456789abcdef0  ", 4) + "\nzone  a  b  c  d\n\n" +
		"  $ aws ec2 create-vpc-endpoint " + strings.Repeat("--opt value ", 10) + "\n" +
		"  in: arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + strings.Repeat("x", 40) + "\n"
	if p := repeats([]byte(ok), report.DefaultWidth); len(p) != 0 {
		t.Errorf("a table, a command and one long word were taken for prose: %v", p)
	}
}
