package main

import (
	"bytes"
	"strings"
	"testing"
)

// stream is the shape of `go test -json` output (cmd/test2json's documented events), trimmed
// to what slowtests reads, with a subtest, a failure and a line that is no event.
const stream = `{"Action":"start","Package":"example.com/a"}
{"Action":"run","Package":"example.com/a","Test":"TestFast"}
{"Action":"output","Package":"example.com/a","Test":"TestFast","Output":"=== RUN   TestFast\n"}
{"Action":"output","Package":"example.com/a","Test":"TestFast","Output":"--- PASS: TestFast (0.01s)\n"}
{"Action":"pass","Package":"example.com/a","Test":"TestFast","Elapsed":0.01}
{"Action":"run","Package":"example.com/a","Test":"TestSlow"}
{"Action":"run","Package":"example.com/a","Test":"TestSlow/sub"}
{"Action":"pass","Package":"example.com/a","Test":"TestSlow/sub","Elapsed":40}
{"Action":"output","Package":"example.com/a","Test":"TestSlow","Output":"--- PASS: TestSlow (42.00s)\n"}
{"Action":"pass","Package":"example.com/a","Test":"TestSlow","Elapsed":42}
{"Action":"output","Package":"example.com/a","Output":"PASS\n"}
{"Action":"output","Package":"example.com/a","Output":"ok  \texample.com/a\t42.1s\n"}
{"Action":"pass","Package":"example.com/a","Elapsed":42.1}
go: warning: not an event
{"Action":"run","Package":"example.com/b","Test":"TestBroken"}
{"Action":"output","Package":"example.com/b","Test":"TestBroken","Output":"=== RUN   TestBroken\n"}
{"Action":"output","Package":"example.com/b","Test":"TestBroken","Output":"    b_test.go:9: boom\n"}
{"Action":"run","Package":"example.com/b","Test":"TestFine"}
{"Action":"output","Package":"example.com/b","Test":"TestFine","Output":"--- PASS: TestFine (0.00s)\n"}
{"Action":"pass","Package":"example.com/b","Test":"TestFine","Elapsed":0}
{"Action":"output","Package":"example.com/b","Test":"TestBroken","Output":"--- FAIL: TestBroken (3.50s)\n"}
{"Action":"fail","Package":"example.com/b","Test":"TestBroken","Elapsed":3.5}
{"Action":"output","Package":"example.com/b","Output":"FAIL\n"}
{"Action":"output","Package":"example.com/b","Output":"FAIL\texample.com/b\t3.6s\n"}
{"Action":"fail","Package":"example.com/b","Elapsed":3.6}
{"Action":"output","Package":"example.com/c","Output":"?   \texample.com/c\t[no test files]\n"}
{"Action":"skip","Package":"example.com/c","Elapsed":0}
{"ImportPath":"example.com/d","Action":"build-output","Output":"d.go:3:1: syntax error\n"}
{"Action":"output","Package":"example.com/e","Test":"TestHung","Output":"panic: test timed out after 14m0s\n"}
`

// TestSlowest: the text is what go test prints without -json (a passing package's ok line, a
// failing package's failed tests and FAIL lines, no -v progress), and the summary lists
// top-level tests, slowest first, at most n.
func TestSlowest(t *testing.T) {
	var out bytes.Buffer
	if err := run(strings.NewReader(stream), &out, 2); err != nil {
		t.Fatal(err)
	}
	want := "ok  \texample.com/a\t42.1s\n" +
		"go: warning: not an event\n" +
		"    b_test.go:9: boom\n--- FAIL: TestBroken (3.50s)\nFAIL\nFAIL\texample.com/b\t3.6s\n" +
		"?   \texample.com/c\t[no test files]\n" +
		"d.go:3:1: syntax error\n" +
		"panic: test timed out after 14m0s\n" +
		"\nslowest 2 tests:\n" +
		"    42.0s  pass  example.com/a TestSlow\n" +
		"     3.5s  fail  example.com/b TestBroken\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
