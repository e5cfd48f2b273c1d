// Package testbin builds the repository's commands for tests once per source tree and flags, and
// shares the binary between every test process of a `go test ./...` run.
//
// `go test ./...` runs one process per package, several at a time. Each package that ran the
// binary used to build it (five packages, five ways); a link of vpcprobe with the SDK takes
// seconds of a shared 2-core machine. Here a build is keyed by the hash of what `go build` reads
// (the module's non-test files, the flags, the build environment, the Go version) and stored
// in a cache directory; a lock file makes concurrent processes wait for the first build instead
// of repeating it, and a process asks the cache at most once per key.
package testbin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Spec is one way to build one command.
type Spec struct {
	// Pkg is the package to build, relative to the module root: "./cmd/vpcprobe".
	Pkg string
	// Flags are go build's flags between "build" and "-o" ("-trimpath", "-ldflags=-s -w").
	Flags []string
	// Env are NAME=value settings added to the environment of go build (CGO_ENABLED=0,
	// GOOS=linux…); the cache key holds them.
	Env []string
	// Name is the binary's file name; the package's last element when empty.
	Name string
}

// ShippedFlags are the flags vpcprobe ships with (Dockerfile, scripts/release, lab.BuildProbe):
// paths trimmed, symbols and DWARF stripped.
var ShippedFlags = []string{"-trimpath", "-ldflags=-s -w"}

// Probe is ./cmd/vpcprobe built as it ships: static (CGO_ENABLED=0), -trimpath, stripped. Every
// test that runs the probe binary and needs nothing special of its build uses this one.
var Probe = Spec{Pkg: "./cmd/vpcprobe", Flags: ShippedFlags, Env: []string{"CGO_ENABLED=0"}}

// CacheEnv names a directory that replaces the default cache directory
// ($XDG_CACHE_HOME/vpcprobe-testbin, else ~/.cache/vpcprobe-testbin, else one under $TMPDIR).
const CacheEnv = "VPCPROBE_TESTBIN_CACHE"

// keep is how long an unused cached build stays: older entries are removed after each new build,
// so that the cache holds the few trees a developer works on, not every edit of the day.
const keep = 24 * time.Hour

var (
	mu    sync.Mutex
	built = map[string]string{} // cache directory/key → binary path, for this process
)

// Path returns the path of the binary s describes, building it unless this or another test
// process already did for the same source tree. The binary is shared: run it, never write it.
func Path(s Spec) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	key, err := keyOf(root, s)
	if err != nil {
		return "", err
	}
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[dir+"/"+key]; ok {
		return p, nil
	}
	p, err := buildLocked(root, dir, key, s)
	if err != nil {
		return "", err
	}
	built[dir+"/"+key] = p
	return p, nil
}

// T is Path for a test: it fails the test with go build's output when the build fails.
func T(t testing.TB, s Spec) string {
	t.Helper()
	p, err := Path(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ModuleRoot returns the directory of the go.mod above the working directory (a test runs in
// its package's directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testbin: no go.mod above the working directory")
		}
		dir = parent
	}
}

// cacheDir is where builds are kept.
func cacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil { // no $HOME (a bare CI container): the temporary directory, one per user
		return filepath.Join(os.TempDir(), fmt.Sprintf("vpcprobe-testbin-%d", os.Getuid())), nil
	}
	return filepath.Join(d, "vpcprobe-testbin"), nil
}

// keyOf hashes what go build reads for s in root: every file of the module but tests, testdata
// and dot-directories (go build ignores them), s itself, the variables that change a build and
// the Go version. Module dependencies are pinned by go.sum, which is hashed.
func keyOf(root string, s Spec) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "go %s %s/%s\npkg %s\nname %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, s.Pkg, s.Name)
	for _, f := range s.Flags {
		fmt.Fprintf(h, "flag %q\n", f)
	}
	env := slices.Clone(s.Env)
	for _, name := range []string{"GOFLAGS", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "CGO_ENABLED", "GOEXPERIMENT", "GOTOOLCHAIN"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, "outer "+name+"="+v)
		}
	}
	slices.Sort(env)
	for _, e := range env {
		fmt.Fprintf(h, "env %q\n", e)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "file %q\n", filepath.ToSlash(rel))
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("testbin: hashing the source tree: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// buildLocked returns the cached binary of key, building it under the key's lock file when
// absent: a second process waits on the lock and then finds the first one's binary.
func buildLocked(root, dir, key string, s Spec) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, key+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("testbin: locking %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	name := s.Name
	if name == "" {
		name = filepath.Base(s.Pkg)
	}
	entry := filepath.Join(dir, key)
	bin := filepath.Join(entry, name)
	if _, err := os.Stat(bin); err == nil {
		now := time.Now()
		os.Chtimes(entry, now, now) // in use: not pruned
		return bin, nil
	}
	if err := os.MkdirAll(entry, 0o755); err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	tmp := bin + ".tmp"
	args := append([]string{"build"}, s.Flags...)
	args = append(args, "-o", tmp, s.Pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), s.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("testbin: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	// The rename is atomic: a binary in the cache is always whole.
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	prune(dir, key)
	return bin, nil
}

// prune removes the cache entries other than key not used for a day. An entry in use by another
// process is under its lock, which prune takes without waiting (and skips when it cannot); the
// lock files stay, so that two processes never lock two different files of one name.
func prune(dir, key string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == key {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < keep {
			continue
		}
		lock, err := os.OpenFile(filepath.Join(dir, e.Name()+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			continue
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
		lock.Close()
	}
}
