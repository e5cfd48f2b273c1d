package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// hello is the tiny command these tests build (testdata is no package of ./...).
var hello = Spec{Pkg: "./internal/testbin/testdata/hello", Flags: []string{"-trimpath"}}

// TestMain doubles as the child process of TestSharedAcrossProcesses: with childEnv set it
// prints Path(hello) and the binary's inode, and exits.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		p, err := Path(hello)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(p, inode(p))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const childEnv = "TESTBIN_CHILD"

func inode(p string) uint64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestSharedAcrossProcesses starts three test processes at once on an empty cache, as
// `go test ./...` starts package processes: one builds, the others wait on the lock and get the
// same file (a second build would rename a new file, a new inode, over it).
func TestSharedAcrossProcesses(t *testing.T) {
	cache := t.TempDir()
	var wg sync.WaitGroup
	outs := make([]string, 3)
	errs := make([]error, 3)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), childEnv+"=1", CacheEnv+"="+cache)
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = strings.TrimSpace(string(out)), err
		}()
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("child %d: %v\n%s", i, errs[i], outs[i])
		}
		if outs[i] != outs[0] {
			t.Errorf("child %d got %q, child 0 %q: built twice", i, outs[i], outs[0])
		}
	}
	// And this process, asking the same cache, runs what they built.
	t.Setenv(CacheEnv, cache)
	p := T(t, hello)
	if got := fmt.Sprint(p, " ", inode(p)); got != outs[0] {
		t.Errorf("this process got %q, the children %q", got, outs[0])
	}
	out, err := exec.Command(p).Output()
	if err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Errorf("%s: %q, %v; want hello", p, out, err)
	}
}

// TestKeyFollowsFlags: another -ldflags is another binary, in another cache entry.
func TestKeyFollowsFlags(t *testing.T) {
	t.Setenv(CacheEnv, t.TempDir())
	plain := T(t, hello)
	other := hello
	other.Flags = append([]string{"-ldflags=-X main.greeting=bonjour"}, hello.Flags...)
	stamped := T(t, other)
	if plain == stamped {
		t.Fatalf("both specs built to %s", plain)
	}
	for p, want := range map[string]string{plain: "hello", stamped: "bonjour"} {
		out, err := exec.Command(p).Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s: %q, %v; want %s", p, out, err, want)
		}
	}
}

// TestKeyFollowsSource: a change to a non-test source file changes the key; a test file's
// does not (go build never reads it).
func TestKeyFollowsSource(t *testing.T) {
	root := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(root+"/"+name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module x\n")
	write("main.go", "package main\nfunc main() {}\n")
	k1, err := keyOf(root, hello)
	if err != nil {
		t.Fatal(err)
	}
	write("main_test.go", "package main\n")
	if k2, _ := keyOf(root, hello); k2 != k1 {
		t.Errorf("a test file changed the key")
	}
	write("main.go", "package main\nfunc main() { println() }\n")
	if k3, _ := keyOf(root, hello); k3 == k1 {
		t.Errorf("a source change kept the key")
	}
}
