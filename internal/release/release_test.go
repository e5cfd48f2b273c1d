package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The release's fixed inputs in the test.
const (
	testVersion = "v0.0.0-repro"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	testEpoch   = "1765152000" // 2025-12-08T00:00:00Z
	testDate    = "2025-12-08T00:00:00Z"
)

// copyTree copies the module at root (not .git, not dist) to a new directory, as a second
// checkout would be: another path, files written under this process's umask.
func copyTree(t *testing.T, root string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "checkout")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && (d.Name() == ".git" || rel == "dist") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// runRelease runs scripts/release in dir under umask, for the machine's architecture, into a new
// directory whose path it returns.
func runRelease(t *testing.T, dir, umask string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist")
	cmd := exec.Command("bash", "-c", "umask "+umask+" && exec bash scripts/release --out \"$1\" -arch "+runtime.GOARCH, "release", out)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VERSION="+testVersion, "COMMIT="+testCommit, "SOURCE_DATE_EPOCH="+testEpoch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release (umask %s, in %s): %v\n%s", umask, dir, err, b)
	}
	return out
}

// TestReproducible runs scripts/release twice, from two copies of the tree in different
// directories and under umasks 022 and 077, and asserts that every artefact is byte-identical;
// then that they are what they claim: a stamped static binary, a Lambda zip with an executable
// bootstrap dated SOURCE_DATE_EPOCH, the image's file tree, sums that verify, an SBOM.
//
// It builds the machine's architecture only: the other one's cold compile of the SDK takes
// minutes of a 2-core machine, and what differs between the two is GOARCH alone (the zip, the
// tar, the sums and the SBOM are written by the same code). scripts/release builds both.
func TestReproducible(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Fatalf("the release builds linux/amd64 and linux/arm64; this machine is %s", runtime.GOARCH)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	a := runRelease(t, copyTree(t, root), "022")
	b := runRelease(t, copyTree(t, root), "077")

	names := map[string]bool{}
	for _, dir := range []string{a, b} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names[e.Name()] = true
		}
	}
	bin := "vpcprobe-linux-" + runtime.GOARCH
	for _, want := range []string{bin, "vpcprobe-" + runtime.GOARCH + ".zip", "vpcprobe-image-linux-" + runtime.GOARCH + ".tar", bin + ".sbom.txt", "SHA256SUMS"} {
		if !names[want] {
			t.Errorf("no %s among %v", want, names)
		}
	}
	for name := range names {
		x, errA := os.ReadFile(filepath.Join(a, name))
		y, errB := os.ReadFile(filepath.Join(b, name))
		if errA != nil || errB != nil {
			t.Errorf("%s: in one release only (%v, %v)", name, errA, errB)
			continue
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between the two builds (%d and %d bytes)", name, len(x), len(y))
		}
	}

	// The binary: runs here, says its stamps.
	out, err := exec.Command(filepath.Join(a, bin), "--version").Output()
	if want := "vpcprobe " + testVersion + " (commit " + testCommit + ", built " + testDate + ")\n"; err != nil || string(out) != want {
		t.Errorf("--version: %q, %v; want %q", out, err, want)
	}
	binData, err := os.ReadFile(filepath.Join(a, bin))
	if err != nil {
		t.Fatal(err)
	}
	when, _ := time.Parse(time.RFC3339, testDate)

	// The zip: bootstrap alone, executable, dated SOURCE_DATE_EPOCH, the binary's bytes.
	zr, err := zip.OpenReader(filepath.Join(a, "vpcprobe-"+runtime.GOARCH+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("zip holds %d files, want bootstrap alone", len(zr.File))
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 || !f.Modified.Equal(when) {
		t.Errorf("bootstrap: mode %v, modified %v; want 0755 and %v", f.Mode(), f.Modified, when)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	inZip, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(inZip, binData) {
		t.Errorf("bootstrap is not the release binary")
	}

	// The image tree: the Dockerfile's final stage.
	tf, err := os.Open(filepath.Join(a, "vpcprobe-image-linux-"+runtime.GOARCH+".tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	tr := tar.NewReader(tf)
	seen := map[string]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[h.Name] = h.Mode
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(when) {
			t.Errorf("%s: owner %d:%d, mtime %v; want 0:0 and %v", h.Name, h.Uid, h.Gid, h.ModTime, when)
		}
		if h.Name == "vpcprobe" {
			data, _ := io.ReadAll(tr)
			if !bytes.Equal(data, binData) {
				t.Errorf("the image's /vpcprobe is not the release binary")
			}
		}
	}
	for name, mode := range map[string]int64{"vpcprobe": 0o755, "etc/passwd": 0o644, "etc/group": 0o644, "etc/ssl/certs/ca-certificates.crt": 0o644} {
		if got, ok := seen[name]; !ok || got != mode {
			t.Errorf("image tree: %s mode %o (present %v), want %o", name, got, ok, mode)
		}
	}
	// The same files as the Dockerfile's final stage copies, no more, no fewer.
	for _, dst := range finalCopies(t, filepath.Join(root, "Dockerfile")) {
		if _, ok := seen[strings.TrimPrefix(dst, "/")]; !ok {
			t.Errorf("the Dockerfile's final stage copies %s; the release's image tree lacks it", dst)
		}
	}
	for name := range seen {
		if !strings.HasSuffix(name, "/") && !slices.Contains(finalCopies(t, filepath.Join(root, "Dockerfile")), "/"+name) {
			t.Errorf("the release's image tree has %s, which the Dockerfile's final stage does not copy", name)
		}
	}

	// The sums verify, as sha256sum -c would.
	sums, err := os.ReadFile(filepath.Join(a, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	if len(lines) != len(names)-1 {
		t.Errorf("SHA256SUMS has %d lines for %d artefacts", len(lines), len(names)-1)
	}
	for _, l := range lines {
		sum, name, ok := strings.Cut(l, "  ")
		data, err := os.ReadFile(filepath.Join(a, name))
		got := sha256.Sum256(data)
		if !ok || err != nil || hex.EncodeToString(got[:]) != sum {
			t.Errorf("SHA256SUMS line %q does not verify (%v)", l, err)
		}
	}

	// The SBOM is go version -m: the module, its dependencies, the build settings.
	sbom, err := os.ReadFile(filepath.Join(a, bin+".sbom.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{bin + ": go", "\tmod\tgithub.com/vpcprobe/vpcprobe\t", "\tdep\tgithub.com/aws/aws-sdk-go-v2\t", "\tbuild\t-trimpath=true", "\tbuild\tCGO_ENABLED=0", "\tbuild\tGOARCH=" + runtime.GOARCH} {
		if !strings.Contains(string(sbom), want) {
			t.Errorf("SBOM lacks %q:\n%s", want, sbom)
		}
	}
}

// finalCopies are the destinations of the COPY lines after the Dockerfile's last FROM.
func finalCopies(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dsts []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "FROM":
			dsts = nil
		case len(f) > 2 && f[0] == "COPY":
			dsts = append(dsts, f[len(f)-1])
		}
	}
	return dsts
}
