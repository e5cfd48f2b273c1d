// Command slowtests reads `go test -json` on stdin, writes go test's own output on stdout as it
// comes, and ends with the ten slowest tests (top-level tests; a subtest's time is inside its
// parent's). .ci/run pipes the suite through it; with `set -o pipefail` the exit status stays go
// test's.
//
//	go test -json ./... | go run ./internal/slowtests
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json: Time, Action, Package, Test, Elapsed,
// Output; build failures come as Action "build-output" with ImportPath).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64 // seconds
	Output  string
}

// timing is one finished test.
type timing struct {
	pkg, test, result string
	elapsed           time.Duration
}

// top is how many tests the summary lists.
const top = 10

func main() {
	if err := run(os.Stdin, os.Stdout, top); err != nil {
		fmt.Fprintln(os.Stderr, "slowtests:", err)
		os.Exit(1)
	}
}

// run copies the output of the events on in to out and appends the n slowest tests. A line that
// is not an event (go test's own complaints) is copied as it is.
func run(in io.Reader, out io.Writer, n int) error {
	w := bufio.NewWriter(out)
	defer w.Flush()
	var done []timing
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			w.Write(line)
			w.WriteByte('\n')
			w.Flush()
			continue
		}
		if e.Output != "" {
			w.WriteString(e.Output)
			if strings.HasSuffix(e.Output, "\n") {
				w.Flush() // as go test prints: a line at a time
			}
		}
		switch e.Action {
		case "pass", "fail", "skip":
			if e.Test != "" && !strings.Contains(e.Test, "/") {
				done = append(done, timing{e.Package, e.Test, e.Action, time.Duration(e.Elapsed * float64(time.Second))})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	slices.SortStableFunc(done, func(a, b timing) int {
		switch {
		case a.elapsed > b.elapsed:
			return -1
		case a.elapsed < b.elapsed:
			return 1
		}
		return strings.Compare(a.pkg+" "+a.test, b.pkg+" "+b.test)
	})
	if len(done) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nslowest %d tests:\n", min(n, len(done)))
	for _, t := range done[:min(n, len(done))] {
		fmt.Fprintf(w, "%8.1fs  %s  %s %s\n", t.elapsed.Seconds(), t.result, t.pkg, t.test)
	}
	return nil
}
