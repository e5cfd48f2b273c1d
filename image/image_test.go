package image

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/internal/testbin"
)

// imageBudget bounds the image: its file tree must stay under 24 MiB (issue 9: image pull time,
// not megabytes, is what users feel; the SDK's current releases are worth their size).
const imageBudget = 24 << 20

// repoRoot is the module root, where the Dockerfile and its build context are.
const repoRoot = ".."

// testVersion is what the test stamps through the Dockerfile's -X main.version.
const testVersion = "v0.0.0-imagetest"

// caBundlePath is the file Go's crypto/x509 reads first for system roots on Linux; the
// Dockerfile copies the builder's bundle there and the test puts a test CA in its place.
const caBundlePath = "/etc/ssl/certs/ca-certificates.crt"

// dockerfile is what the test needs of the Dockerfile.
type dockerfile struct {
	buildStage string            // name of the stage that runs go build
	buildEnv   map[string]string // NAME=value assignments before `go build`, substituted
	buildFlags []string          // go build's arguments between "build" and the package, without -o
	buildOut   string            // the -o path inside the build stage
	buildPkg   string            // the package built
	final      []instruction     // the final stage, after its FROM
	finalFrom  string
}

type instruction struct {
	cmd  string // upper case: COPY, USER, …
	args string
}

// parseDockerfile reads the instructions of a Dockerfile: comments dropped, continuation lines
// joined.
func parseDockerfile(t *testing.T, data []byte) *dockerfile {
	t.Helper()
	var insts []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasPrefix(trimmed, "#") { // a comment inside a continued instruction
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		insts = append(insts, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}

	d := &dockerfile{}
	var stage string
	lastFrom := -1
	builds := 0
	for i, in := range insts {
		switch in.cmd {
		case "FROM":
			lastFrom = i
			words := shellWords(t, in.args)
			stage = ""
			if n := len(words); n >= 3 && strings.EqualFold(words[n-2], "AS") {
				stage = words[n-1]
			}
			d.finalFrom = words[len(words)-1]
			if stage != "" {
				d.finalFrom = words[len(words)-3]
			}
		case "RUN":
			if !strings.Contains(in.args, "go build") {
				continue
			}
			builds++
			d.buildStage = stage
			d.parseBuild(t, in.args)
		}
	}
	if builds != 1 {
		t.Fatalf("Dockerfile: %d RUN lines with `go build`, want exactly one (the test takes its flags from it)", builds)
	}
	if lastFrom < 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	d.final = insts[lastFrom+1:]
	return d
}

// buildArgs are the values the test gives the build's variables.
var buildArgs = map[string]string{"VERSION": testVersion, "REVISION": testRevision, "CREATED": testCreated,
	"TARGETOS": "linux", "TARGETARCH": runtime.GOARCH}

// testRevision and testCreated are what the test stamps through -X main.commit and main.date.
const (
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testCreated  = "2026-12-08T00:00:00Z"
)

// parseBuild takes the `go build` RUN line apart: RUN options, NAME=value assignments, go build
// and its arguments.
func (d *dockerfile) parseBuild(t *testing.T, args string) {
	t.Helper()
	words := shellWords(t, args)
	d.buildEnv = map[string]string{}
	i := 0
	for ; i < len(words) && strings.HasPrefix(words[i], "--"); i++ { // --mount=…
	}
	for ; i < len(words) && words[i] != "go"; i++ {
		name, value, ok := strings.Cut(words[i], "=")
		if !ok {
			t.Fatalf("Dockerfile: the go build RUN line runs %q before go build; keep it to NAME=value assignments", words[i])
		}
		d.buildEnv[name] = expand(t, value)
	}
	if i+1 >= len(words) || words[i+1] != "build" {
		t.Fatalf("Dockerfile: cannot find `go build` in %q", args)
	}
	rest := words[i+2:]
	if len(rest) == 0 {
		t.Fatal("Dockerfile: go build without a package")
	}
	d.buildPkg = rest[len(rest)-1]
	for j := 0; j < len(rest)-1; j++ {
		w := expand(t, rest[j])
		switch {
		case w == "-o" && j+1 < len(rest)-1:
			d.buildOut = rest[j+1]
			j++
		case strings.HasPrefix(w, "-o="):
			d.buildOut = w[3:]
		case strings.Contains(w, "&&") || strings.Contains(w, ";"):
			t.Fatalf("Dockerfile: keep the go build RUN line a single command, found %q", w)
		default:
			d.buildFlags = append(d.buildFlags, w)
		}
	}
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand substitutes the build's variables, as the shell would from the ARGs.
func expand(t *testing.T, s string) string {
	t.Helper()
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		v, ok := buildArgs[name]
		if !ok {
			t.Fatalf("Dockerfile: the go build line uses $%s, which the test does not know", name)
		}
		return v
	})
}

// shellWords splits s as a POSIX shell would for the simple lines of a Dockerfile: blanks
// separate words, single and double quotes group, backslash escapes inside double quotes.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("Dockerfile: unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// image is the final stage's file tree and how it runs.
type image struct {
	root       string
	entrypoint []string
	uid, gid   uint32
}

// buildBinary builds the binary exactly as the Dockerfile's RUN line does, for this machine's
// architecture, and checks it is what a scratch image can run.
func buildBinary(t *testing.T, d *dockerfile) string {
	t.Helper()
	for _, f := range []string{"-trimpath"} {
		if !slices.Contains(d.buildFlags, f) {
			t.Errorf("Dockerfile: go build lacks %s", f)
		}
	}
	ld := ""
	for i, f := range d.buildFlags {
		if v, ok := strings.CutPrefix(f, "-ldflags="); ok {
			ld = v
		} else if f == "-ldflags" && i+1 < len(d.buildFlags) {
			ld = d.buildFlags[i+1]
		}
	}
	ldWords := strings.Fields(ld)
	if !slices.Contains(ldWords, "-s") || !slices.Contains(ldWords, "-w") || !strings.Contains(ld, "-X main.version="+testVersion) ||
		!strings.Contains(ld, "-X main.commit="+testRevision) || !strings.Contains(ld, "-X main.date="+testCreated) {
		t.Errorf("Dockerfile: -ldflags %q must strip (-s -w) and stamp -X main.version=${VERSION}, main.commit=${REVISION} and main.date=${CREATED}", ld)
	}
	if d.buildEnv["CGO_ENABLED"] != "0" {
		t.Errorf("Dockerfile: go build without CGO_ENABLED=0: a scratch image has no libc")
	}
	if d.buildEnv["GOOS"] != "linux" || d.buildEnv["GOARCH"] != runtime.GOARCH {
		t.Errorf("Dockerfile: GOOS/GOARCH %q/%q do not come from TARGETOS/TARGETARCH", d.buildEnv["GOOS"], d.buildEnv["GOARCH"])
	}
	if d.buildPkg != "./cmd/vpcprobe" || d.buildOut == "" {
		t.Fatalf("Dockerfile: go build of %q to %q, want ./cmd/vpcprobe with -o", d.buildPkg, d.buildOut)
	}

	// Built through testbin: once per source tree and these flags, shared across test runs.
	spec := testbin.Spec{Pkg: d.buildPkg, Flags: d.buildFlags}
	for k, v := range d.buildEnv {
		spec.Env = append(spec.Env, k+"="+v)
	}
	bin := testbin.T(t, spec)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary asks for a dynamic loader: not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("the binary has a symbol table: not stripped")
	}
	return bin
}

// assemble lays out the final stage's file tree in a new directory, as the Dockerfile's COPY
// lines do, with bin for the build output and bundle for the CA bundle.
func assemble(t *testing.T, d *dockerfile, bin string, bundle []byte) *image {
	t.Helper()
	if d.finalFrom != "scratch" {
		t.Fatalf("Dockerfile: final stage FROM %s, want scratch", d.finalFrom)
	}
	root := t.TempDir()
	// Docker's root directory is 0755; the test's temporary directory is not, and the
	// non-root user must be able to reach the binary.
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	img := &image{root: root}
	labels := 0
	for _, in := range d.final {
		switch in.cmd {
		case "ARG":
		case "LABEL":
			labels += strings.Count(in.args, "org.opencontainers.image.")
		case "USER":
			u, g, ok := strings.Cut(in.args, ":")
			uid, err1 := strconv.ParseUint(u, 10, 32)
			gid, err2 := strconv.ParseUint(g, 10, 32)
			if !ok || err1 != nil || err2 != nil || uid == 0 || gid == 0 {
				t.Fatalf("Dockerfile: USER %q: want numeric non-root uid:gid, so that runAsNonRoot can check it", in.args)
			}
			img.uid, img.gid = uint32(uid), uint32(gid)
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &img.entrypoint); err != nil || len(img.entrypoint) == 0 {
				t.Fatalf("Dockerfile: ENTRYPOINT %s: want the exec (JSON) form; there is no shell", in.args)
			}
		case "COPY":
			words := shellWords(t, in.args)
			from := ""
			for len(words) > 0 && strings.HasPrefix(words[0], "--") {
				if v, ok := strings.CutPrefix(words[0], "--from="); ok {
					from = v
				} else {
					t.Fatalf("Dockerfile: COPY option %s not known to the test", words[0])
				}
				words = words[1:]
			}
			if len(words) < 2 {
				t.Fatalf("Dockerfile: COPY %s", in.args)
			}
			dest := words[len(words)-1]
			for _, src := range words[:len(words)-1] {
				var data []byte
				mode := fs.FileMode(0o644)
				switch {
				case from == d.buildStage && src == d.buildOut:
					data, mode = mustRead(t, bin), 0o755
				case from == d.buildStage && src == caBundlePath:
					data = bundle
				case from == "":
					data = mustRead(t, filepath.Join(repoRoot, filepath.FromSlash(src)))
				default:
					t.Fatalf("Dockerfile: COPY --from=%s %s: the test does not know what that is; teach it, so the tree stays the image's", from, src)
				}
				target := dest
				if strings.HasSuffix(dest, "/") {
					target = path.Join(dest, path.Base(src))
				}
				writeFile(t, filepath.Join(root, filepath.FromSlash(target)), data, mode)
			}
		default:
			t.Fatalf("Dockerfile: final stage has %s; a scratch image takes only COPY, USER, ENTRYPOINT, LABEL and ARG", in.cmd)
		}
	}
	if labels < 5 {
		t.Errorf("Dockerfile: %d OCI labels (org.opencontainers.image.*) in the final stage", labels)
	}
	if img.uid == 0 || len(img.entrypoint) == 0 {
		t.Fatal("Dockerfile: final stage without USER or ENTRYPOINT")
	}
	return img
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeFile writes data at name, creating parents 0755 as COPY does.
func writeFile(t *testing.T, name string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil { // WriteFile's mode passes through the umask
		t.Fatal(err)
	}
}

// files returns the tree's regular files by path, with their sizes.
func (img *image) files(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(img.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		rel, _ := filepath.Rel(img.root, p)
		out["/"+filepath.ToSlash(rel)] = info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// run runs the entrypoint with args inside the image: chrooted into its tree, as its user, with
// an empty environment, and inside network namespace ns unless ns is empty.
func (img *image) run(t *testing.T, ns string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append(slices.Clone(img.entrypoint[1:]), args...)
	cmd := exec.CommandContext(ctx, img.entrypoint[0], argv...)
	cmd.Env = []string{} // empty, not nil: nil would pass the test's own environment on
	cmd.Dir = "/"        // inside the chroot
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     img.root,
		Credential: &syscall.Credential{Uid: img.uid, Gid: img.gid},
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := cmd.Start
	if ns != "" {
		// The child inherits the namespace of the thread that forks it.
		start = func() error { return netns.Do(ns, cmd.Start) }
	}
	if err := start(); err != nil {
		t.Fatalf("start %v in the image: %v", argv, err)
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish in 30s; stderr: %s", argv, errOut.String())
	}
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("%v: %v", argv, err)
	}
	return out.String(), errOut.String(), code
}

// The probe's world inside the namespace: one region, one account.
const (
	region  = "eu-west-1"
	account = "123456789012"
)

// report is the part of the JSON report the test asserts on.
type report struct {
	Schema   string `json:"schema"`
	RunID    string `json:"run_id"`
	Verdict  string `json:"verdict"`
	Version  string `json:"version"`
	Services []struct {
		Service string `json:"service"`
		Host    string `json:"host"`
		Verdict string `json:"verdict"`
		Error   string `json:"error"`
		Checks  []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
			Error  string `json:"error"`
			Detail string `json:"detail"`
		} `json:"checks"`
	} `json:"services"`
	Delivery struct {
		CloudWatch string `json:"cloudwatch"`
	} `json:"delivery"`
}

var runIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestImage(t *testing.T) {
	d := parseDockerfile(t, mustRead(t, filepath.Join(repoRoot, "Dockerfile")))
	bin := buildBinary(t, d)

	// The stand-in for the bundled roots: the only roots inside the image.
	ca := awstest.NewCA(t, "vpcprobe image test roots")
	img := assemble(t, d, bin, ca.CertPEM())

	files := img.files(t)
	want := []string{img.entrypoint[0], caBundlePath, "/etc/passwd", "/etc/group"}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
		t.Errorf("image files %v, want exactly %v: no shell, no libc, nothing else", got, want)
	}
	var size int64
	for _, n := range files {
		size += n
	}
	// With the real bundle (about 220 KB) in place of the test CA: the image's own tree.
	realBundle, err := os.Stat(caBundlePath)
	if err == nil {
		size += realBundle.Size() - files[caBundlePath]
	}
	t.Logf("image file tree: %d bytes (%.2f MiB; binary %d bytes)", size, float64(size)/(1<<20), files[img.entrypoint[0]])
	if size >= imageBudget {
		t.Errorf("image file tree %d bytes, over the %d budget", size, imageBudget)
	}

	passwd := string(mustRead(t, filepath.Join(img.root, "etc/passwd")))
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^vpcprobe:x:%d:%d:`, img.uid, img.gid)).MatchString(passwd) {
		t.Errorf("/etc/passwd has no vpcprobe user with uid:gid %d:%d:\n%s", img.uid, img.gid, passwd)
	}
	group := string(mustRead(t, filepath.Join(img.root, "etc/group")))
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^vpcprobe:x:%d:`, img.gid)).MatchString(group) {
		t.Errorf("/etc/group has no vpcprobe group with gid %d:\n%s", img.gid, group)
	}

	t.Run("version", func(t *testing.T) {
		stdout, stderr, code := img.run(t, "", "--version")
		if want := "vpcprobe " + testVersion + " (commit " + testRevision + ", built " + testCreated + ")\n"; code != 0 || stdout != want {
			t.Errorf("--version: exit %d, stdout %q, stderr %q; want the stamped version", code, stdout, stderr)
		}
	})

	t.Run("help", func(t *testing.T) {
		stdout, stderr, code := img.run(t, "", "--help")
		if code != 0 || !strings.Contains(stdout, "Usage: vpcprobe") || !strings.Contains(stdout, "[$VPCPROBE_SERVICES]") {
			t.Errorf("--help: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})

	// A real probe: the binary's DNS, TCP, TLS and HTTP checks from inside the image, trusting
	// only the image's bundle. The same world with a bundle of other roots must fail at TLS,
	// which proves the bundle in the tree is what the binary trusted.
	w := awstest.InNetns(t, fmt.Sprintf("vpcprobe-img-%d", os.Getpid()), ca, http.HandlerFunc(awstest.Unsigned))
	other := awstest.NewCA(t, "some other roots")
	// The tree runs with an empty environment outside ECS, so there are no credentials: the
	// network half (dns, tcp, tls, http) must pass through the bundled roots, and the
	// authenticated half is skip, saying "no AWS credentials", at once rather than pass, fail
	// or hang; the network verdicts stand (exit 0) and one stderr line says so (issue 9).
	for _, tc := range []struct {
		name    string
		bundle  []byte
		tlsErr  string
		code    int
		verdict string
		stderr  string // what the one stderr line names; "" for none
	}{
		{"bundled roots", ca.CertPEM(), "", 0, "pass", "--no-auth"},
		{"other roots", other.CertPEM(), "tls-untrusted", 1, "fail", ""},
	} {
		t.Run("probe/"+tc.name, func(t *testing.T) {
			run := img
			if !bytes.Equal(tc.bundle, ca.CertPEM()) {
				run = assemble(t, d, bin, tc.bundle)
			}
			stdout, stderr, code := run.run(t, w.Netns,
				"--region", region, "--account", account,
				"--resolver", awstest.NetnsResolver, "--amazon-dns", "",
				"--output", "json", "--timeout", "2s", "--deadline", "10s")
			if code != tc.code || (tc.stderr == "" && stderr != "") || (tc.stderr != "" && (strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.stderr))) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, stderr, tc.stderr)
			}
			var rep report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || !strings.HasSuffix(stdout, "}\n") || strings.Count(stdout, "\n") != 1 {
				t.Fatalf("stdout is not one JSON document and a newline (%v):\n%s", err, stdout)
			}
			schematest.Check(t, []byte(stdout))
			if rep.Schema != "vpcprobe/v1" || !runIDRE.MatchString(rep.RunID) || rep.Version != testVersion || rep.Delivery.CloudWatch != "disabled" {
				t.Errorf("schema %q, run_id %q, version %q, delivery %q", rep.Schema, rep.RunID, rep.Version, rep.Delivery.CloudWatch)
			}
			if rep.Verdict != tc.verdict || len(rep.Services) != 4 {
				t.Errorf("verdict %q over %d services, want %s over the 4 default ones:\n%s", rep.Verdict, len(rep.Services), tc.verdict, stdout)
			}
			for _, s := range rep.Services {
				var names []string
				for _, c := range s.Checks {
					names = append(names, c.Name)
					switch {
					case c.Name == "auth" && tc.tlsErr == "":
						if c.Status != "skip" || c.Detail != "no AWS credentials" {
							t.Errorf("%s: auth %s %q, want skip for want of credentials", s.Service, c.Status, c.Detail)
						}
					case c.Name == "auth":
						if c.Status != "skip" {
							t.Errorf("%s: auth %s, want skip", s.Service, c.Status)
						}
					case tc.tlsErr == "":
						if c.Status != "pass" {
							t.Errorf("%s: %s %s/%q, want pass: %s", s.Service, c.Name, c.Status, c.Error, c.Detail)
						}
					case c.Name == "tls" && c.Error != tc.tlsErr:
						t.Errorf("%s: tls check error %q, want %q", s.Service, c.Error, tc.tlsErr)
					}
				}
				want := []string{"dns", "tcp", "tls", "http"}
				if s.Service == "sts" || s.Service == "ecr.api" || s.Service == "ecr.dkr" {
					want = append(want, "auth")
				}
				if !slices.Equal(names, want) {
					t.Errorf("%s: checks %v, want %v", s.Service, names, want)
				}
			}
		})
	}
	// Every default service's host reached the server over TLS, by name (SNI).
	wantHosts := []string{
		account + ".dkr.ecr." + region + ".amazonaws.com", "api.ecr." + region + ".amazonaws.com",
		"logs." + region + ".amazonaws.com", "prod-" + region + "-starport-layer-bucket.s3." + region + ".amazonaws.com",
	}
	if got := w.ServerNames(); !slices.Equal(got, wantHosts) {
		t.Errorf("hosts that reached the server: %v, want %v", got, wantHosts)
	}
}
