package readsonce

import (
	"strings"
	"testing"
)

// TestProblemsCatches holds Problems to what it must catch, on made-up text: a repeated long
// line, and prose past the width; and to what it must let through.
func TestProblemsCatches(t *testing.T) {
	long := strings.Repeat("word ", 13) // 65 characters
	for name, text := range map[string]string{
		"repeated": "  why: " + long + "\n  why: " + long + "\n",
		"too wide": "  why: " + strings.Repeat("word ", 20) + "\n",
	} {
		if len(Problems([]byte(text), 80)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	ok := "SUBNET  " + strings.Repeat("subnet-0123456789abcdef0  ", 4) + "\nzone  a  b  c  d\n\n" +
		"  $ aws ec2 create-vpc-endpoint " + strings.Repeat("--opt value ", 10) + "\n" +
		"  in: arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + strings.Repeat("x", 40) + "\n" +
		"  " + long + "\n"
	if p := Problems([]byte(ok), 80); len(p) != 0 {
		t.Errorf("a table, a command, one long word and one long line were refused: %v", p)
	}
}
