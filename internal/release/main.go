// Command release builds vpcprobe's release artefacts reproducibly: the linux/amd64 and
// linux/arm64 binaries, the two Lambda zips (the binary as bootstrap), the container image's file
// tree as a tar per architecture, their SHA-256 sums and an SBOM (`go version -m`) per binary.
// Two runs of one commit give the same bytes, whatever the checkout's directory, the umask or the
// clock. scripts/release runs it; see README.md, "Releasing".
//
// What makes the bytes equal:
//   - go build -trimpath (no directory in the binary), -buildvcs=false (no VCS stamp that
//     differs between a checkout and an export; the commit is stamped with -X instead),
//     -ldflags=-buildid= and the build environment set here, not inherited (GOFLAGS, GOAMD64,
//     GOARM64, CGO_ENABLED);
//   - every date is SOURCE_DATE_EPOCH (https://reproducible-builds.org/specs/source-date-epoch/),
//     by default the commit's time: the stamped build date, and every mtime in the zips and tars;
//   - the zips and tars are written here with archive/zip and archive/tar, with fixed modes,
//     owners and order, never with a zip or tar binary, whose output follows the file system.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// arch is one of the release's architectures: Go's name and Lambda's.
type arch struct{ goarch, lambda string }

// arches are the release's architectures.
var arches = []arch{{"amd64", "x86_64"}, {"arm64", "arm64"}}

// defaultBundle is where a Debian or Ubuntu build machine (and the Dockerfile's golang image)
// keeps the CA bundle the image carries.
const defaultBundle = "/etc/ssl/certs/ca-certificates.crt"

// settings are what one release is made of.
type settings struct {
	out      string    // the directory the artefacts are written to
	version  string    // stamped as main.version
	commit   string    // stamped as main.commit
	date     time.Time // SOURCE_DATE_EPOCH: the build date and every mtime
	caBundle string    // the image's /etc/ssl/certs/ca-certificates.crt
	arches   []arch    // what to build
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	s := settings{}
	fs.StringVar(&s.out, "out", "dist", "directory the artefacts are written to (emptied first)")
	fs.StringVar(&s.version, "version", os.Getenv("VERSION"), "version stamped in the binaries [$VERSION] (default: git describe --tags --always --dirty)")
	fs.StringVar(&s.commit, "commit", os.Getenv("COMMIT"), "commit stamped in the binaries [$COMMIT] (default: git rev-parse HEAD)")
	fs.StringVar(&s.caBundle, "ca-bundle", envOr("CA_BUNDLE", defaultBundle), "CA bundle the image carries [$CA_BUNDLE]")
	archList := fs.String("arch", "amd64,arm64", "the architectures to build, comma-separated (a test builds one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, a := range strings.Split(*archList, ",") {
		i := slices.IndexFunc(arches, func(x arch) bool { return x.goarch == strings.TrimSpace(a) })
		if i < 0 {
			return fmt.Errorf("-arch %q: want amd64 or arm64", a)
		}
		s.arches = append(s.arches, arches[i])
	}
	var err error
	if s.date, err = sourceDate(); err != nil {
		return err
	}
	if s.version == "" {
		if s.version, err = git("describe", "--tags", "--always", "--dirty"); err != nil {
			return fmt.Errorf("no version: set VERSION or run in a git checkout (%w)", err)
		}
	}
	if s.commit == "" {
		if s.commit, err = git("rev-parse", "HEAD"); err != nil {
			return fmt.Errorf("no commit: set COMMIT or run in a git checkout (%w)", err)
		}
	}
	return release(s, stdout)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// sourceDate is SOURCE_DATE_EPOCH, else the time of the commit checked out.
func sourceDate() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		var err error
		if v, err = git("log", "-1", "--format=%ct"); err != nil {
			return time.Time{}, fmt.Errorf("no date: set SOURCE_DATE_EPOCH or run in a git checkout (%w)", err)
		}
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 315532800 { // zip's dates start in 1980
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970, after 1980", v)
	}
	return time.Unix(secs, 0).UTC(), nil
}

func git(args ...string) (string, error) {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// release builds everything into s.out.
func release(s settings, stdout io.Writer) error {
	bundle, err := os.ReadFile(s.caBundle)
	if err != nil {
		return fmt.Errorf("CA bundle for the image: %w (apt-get install ca-certificates, or set CA_BUNDLE)", err)
	}
	passwd, err := os.ReadFile("image/passwd")
	if err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	group, err := os.ReadFile("image/group")
	if err != nil {
		return err
	}
	if err := os.RemoveAll(s.out); err != nil {
		return err
	}
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return err
	}
	var names []string
	for _, a := range s.arches {
		bin := "vpcprobe-linux-" + a.goarch
		if err := build(s, a.goarch, filepath.Join(s.out, bin)); err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(s.out, bin))
		if err != nil {
			return err
		}
		z, err := lambdaZip(data, s.date)
		if err != nil {
			return err
		}
		zipName := "vpcprobe-" + a.goarch + ".zip" // the name taskdef/README.md uses
		if err := write(s.out, zipName, z); err != nil {
			return err
		}
		tree, err := imageTree(data, bundle, passwd, group, s.date)
		if err != nil {
			return err
		}
		treeName := "vpcprobe-image-linux-" + a.goarch + ".tar"
		if err := write(s.out, treeName, tree); err != nil {
			return err
		}
		sbom, err := sbomOf(s.out, bin)
		if err != nil {
			return err
		}
		if err := write(s.out, bin+".sbom.txt", sbom); err != nil {
			return err
		}
		names = append(names, bin, zipName, treeName, bin+".sbom.txt")
	}
	slices.Sort(names)
	var sums bytes.Buffer
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(s.out, n))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), n) // sha256sum -c reads this
	}
	if err := write(s.out, "SHA256SUMS", sums.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vpcprobe %s (commit %s, built %s) in %s:\n%s", s.version, s.commit, s.date.Format(time.RFC3339), s.out, sums.String())
	return nil
}

// build runs go build for linux/goarch with the release's flags and an environment of its own:
// nothing the caller's shell sets may change the bytes.
func build(s settings, goarch, out string) error {
	ld := fmt.Sprintf("-s -w -buildid= -X main.version=%s -X main.commit=%s -X main.date=%s",
		s.version, s.commit, s.date.Format(time.RFC3339))
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags="+ld, "-o", out, "./cmd/vpcprobe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOFLAGS=-mod=readonly",
		"GOAMD64=v1", "GOARM64=v8.0", "GOEXPERIMENT=", "GOTOOLCHAIN=local")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build linux/%s: %w", goarch, err)
	}
	return os.Chmod(out, 0o755) // whatever the umask
}

// write writes data to dir/name, mode 0644 whatever the umask.
func write(dir, name string, data []byte) error {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	return os.Chmod(p, 0o644)
}

// lambdaZip is a provided.al2023 function's code: the executable bootstrap at the top level,
// mode 0755 (Lambda runs the file with the mode the zip gives it), dated when.
func lambdaZip(bin []byte, when time.Time) ([]byte, error) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: when}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(bin)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("lambda zip: %w", err)
	}
	return b.Bytes(), nil
}

// imageTree is the Dockerfile's final stage as a tar of its file tree, what `docker import`
// takes: the CA bundle, passwd and group from image/, and the binary at /vpcprobe, owned by
// root, with the modes COPY gives them, dated when.
func imageTree(bin, bundle, passwd, group []byte, when time.Time) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	entries := []struct {
		name string
		mode int64
		data []byte
	}{
		{"etc/", 0o755, nil},
		{"etc/group", 0o644, group},
		{"etc/passwd", 0o644, passwd},
		{"etc/ssl/", 0o755, nil},
		{"etc/ssl/certs/", 0o755, nil},
		{"etc/ssl/certs/ca-certificates.crt", 0o644, bundle},
		{"vpcprobe", 0o755, bin},
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: when, Format: tar.FormatUSTAR}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image tree: %w", err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("image tree: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image tree: %w", err)
	}
	return b.Bytes(), nil
}

// sbomOf is `go version -m` of dir/bin, run in dir so that it names the file, not the path: the
// Go version, the module and every dependency with its version and go.sum hash, and the build
// settings.
func sbomOf(dir, bin string) ([]byte, error) {
	cmd := exec.Command("go", "version", "-m", bin)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("go version -m %s: %w: %s", bin, err, ee.Stderr)
		}
		return nil, fmt.Errorf("go version -m %s: %w", bin, err)
	}
	return out, nil
}
