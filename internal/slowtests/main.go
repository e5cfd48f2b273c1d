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
	"maps"
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

// outputLine is one piece of output, of a test or (test "") of its package.
type outputLine struct{ test, text string }

// pkgOutput is a package's output until it ends, and how each of its tests ended.
type pkgOutput struct {
	lines  []outputLine
	result map[string]string // test → pass, fail or skip
}

// write writes p as go test prints a package by default: the output of every test that failed
// or never ended (a panic, a timeout), without the -v progress lines, when the package failed;
// the package's own lines ("ok …", "FAIL …", "? … [no test files]") but -v's "PASS" always.
func (p *pkgOutput) write(w io.Writer, failed bool) {
	for _, l := range p.lines {
		switch {
		case l.test == "":
			if l.text == "PASS\n" && !failed {
				continue
			}
		case !failed || p.result[l.test] == "pass" || p.result[l.test] == "skip":
			continue
		}
		if strings.HasPrefix(l.text, "=== ") {
			continue // === RUN, === PAUSE, === CONT, === NAME: verbose progress
		}
		io.WriteString(w, l.text)
	}
}

// top is how many tests the summary lists.
const top = 10

func main() {
	if err := run(os.Stdin, os.Stdout, top); err != nil {
		fmt.Fprintln(os.Stderr, "slowtests:", err)
		os.Exit(1)
	}
}

// run writes to out what `go test` without -json would have printed for the events on in, and
// appends the n slowest tests. `go test -json` runs tests verbosely (test2json needs -v), so the
// output of each package is held until the package ends and then written as go test prints it
// by default: a passing package's "ok" line, a failing one's failed tests (their "=== RUN" lines
// dropped) and "FAIL" lines; build errors and lines that are no event pass at once.
func run(in io.Reader, out io.Writer, n int) error {
	w := bufio.NewWriter(out)
	defer w.Flush()
	var done []timing
	pkgs := map[string]*pkgOutput{}
	of := func(pkg string) *pkgOutput {
		if pkgs[pkg] == nil {
			pkgs[pkg] = &pkgOutput{result: map[string]string{}}
		}
		return pkgs[pkg]
	}
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
		switch {
		case e.Action == "build-output":
			w.WriteString(e.Output)
			w.Flush()
		case e.Action == "output" && e.Package != "":
			p := of(e.Package)
			p.lines = append(p.lines, outputLine{e.Test, e.Output})
		case (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") && e.Test != "":
			of(e.Package).result[e.Test] = e.Action
			if !strings.Contains(e.Test, "/") {
				done = append(done, timing{e.Package, e.Test, e.Action, time.Duration(e.Elapsed * float64(time.Second))})
			}
		case e.Action == "pass" || e.Action == "fail" || e.Action == "skip":
			if p := pkgs[e.Package]; p != nil {
				p.write(w, e.Action == "fail")
				delete(pkgs, e.Package)
			}
			w.Flush()
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// A package that never ended (go test killed, the stream cut) shows everything it printed.
	for _, pkg := range slices.Sorted(maps.Keys(pkgs)) {
		pkgs[pkg].write(w, true)
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
