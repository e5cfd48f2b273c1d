// Package readsonce checks that a text report reads once (issue 16): no long line said twice,
// no prose past the width; the lab's scenarios and README's examples are held to it.
package readsonce

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Problems returns what makes a text report read more than once, one sentence each: a line of
// over 60 characters that appears twice, or a prose line wider than width. Not prose, so not
// bound by the width: a command ("$ …", one paste-able line), the rows of a table (the block
// under a SERVICE or SUBNET header: one column per subnet), and a line that is one word after
// its label (an ARN or a host name is never cut).
func Problems(text []byte, width int) []string {
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
