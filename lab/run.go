package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/report"
)

// Default probe bounds in the lab: short, so that a black-holed scenario ends in about a
// second, with room for a busy CI machine.
const (
	DefaultTimeout  = time.Second
	DefaultDeadline = 10 * time.Second
)

// ProbeArgs returns the probe's command line for the scenario: JSON output, its --timeout and
// --deadline, its own flags, then extra (later flags win, so extra can override any of them).
func (sc Scenario) ProbeArgs(extra ...string) []string {
	timeout, deadline := sc.Timeout, sc.Deadline
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if deadline == 0 {
		deadline = DefaultDeadline
	}
	args := []string{"--output", "json", "--timeout", timeout.String(), "--deadline", deadline.String()}
	args = append(args, sc.Args...)
	return append(args, extra...)
}

// Command returns the probe command inside the task namespace with the lab's environment. The
// `ip netns exec` in front execs the probe in place, so the process waited for is the probe.
func (l *Lab) Command(ctx context.Context, probePath string, args ...string) *exec.Cmd {
	cmd := netns.Command(ctx, l.TaskNS, probePath, args...)
	cmd.Env = l.Env()
	return cmd
}

// RunProbe runs the probe binary once inside the lab with the scenario's arguments and extra,
// and measures it. A non-zero exit is not an error: it is part of the Run.
func (l *Lab) RunProbe(ctx context.Context, probePath string, extra ...string) (Run, error) {
	args := l.Scenario.ProbeArgs(extra...)
	cmd := l.Command(ctx, probePath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := Run{Args: args}
	start := time.Now()
	err := cmd.Run()
	r.Wall = time.Since(start)
	r.Stdout, r.Stderr = stdout.Bytes(), stderr.Bytes()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return r, fmt.Errorf("lab: run %s: %w", probePath, err)
	}
	ps := cmd.ProcessState
	r.Exit = ps.ExitCode()
	r.CPU = ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	var rep report.Report
	if json.Unmarshal(r.Stdout, &rep) == nil && rep.Schema != "" {
		r.Report = &rep
	}
	return r, nil
}

// BuildProbe builds cmd/vpcprobe stripped (-trimpath -ldflags='-s -w'), as it ships, into dir
// and returns the binary's path. It runs `go build` in the module that holds this package's
// source, so it works from `go test` and from `go run ./cmd/vpclab` in the repository.
func BuildProbe(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "vpcprobe")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/vpcprobe")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lab: go build ./cmd/vpcprobe: %w: %s", err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// moduleRoot finds the vpcprobe module's directory: `go env GOMOD` from the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("lab: go env GOMOD: %w (is the go command installed?)", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("lab: not inside the vpcprobe module: run vpclab from the repository, or pass --probe")
	}
	return filepath.Dir(gomod), nil
}
