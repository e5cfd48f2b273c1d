package fakeaws

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runtime is the Lambda Runtime API (version 2018-06-01) of one execution environment, the
// HTTP interface a custom runtime's bootstrap polls at AWS_LAMBDA_RUNTIME_API: GET
// /runtime/invocation/next hands out the next event with its Lambda-Runtime-Aws-Request-Id and
// Lambda-Runtime-Deadline-Ms headers, POST /runtime/invocation/{id}/response and …/error end
// it, POST /runtime/init/error reports a bootstrap that could not start. Invoke queues an event
// and waits for its answer. Serve it on a listener the bootstrap can reach.
type Runtime struct {
	FunctionARN string // Lambda-Runtime-Invoked-Function-Arn of every invocation

	once    sync.Once
	queue   chan *invocation
	mu      sync.Mutex
	pending map[string]*invocation // handed out, not yet answered
	initErr []byte                 // the body of /runtime/init/error, if the bootstrap posted one
}

// invocation is one queued event.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan InvokeResult // buffered: the answer never blocks the runtime's POST
}

// InvokeResult is a function's answer to one invocation, as Lambda's Invoke returns it.
type InvokeResult struct {
	Payload []byte // the response, or the error document {"errorMessage", "errorType", …}
	// FunctionError is "" for a response and "Unhandled" for an error, as the X-Amz-Function-Error
	// header says it.
	FunctionError string
	Log           []byte // what the function wrote on stdout and stderr (the tail of its log)
}

// Runtime API paths (after the version prefix).
const (
	runtimePrefix = "/2018-06-01/runtime/"
	// maxResponse is Lambda's limit on a synchronous response payload.
	maxResponse = 6 << 20
)

func (rt *Runtime) init() {
	rt.once.Do(func() {
		rt.queue = make(chan *invocation, 16)
		rt.pending = map[string]*invocation{}
	})
}

// ServeHTTP answers the Runtime API.
func (rt *Runtime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.init()
	path, ok := strings.CutPrefix(r.URL.Path, runtimePrefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case path == "invocation/next" && r.Method == http.MethodGet:
		rt.next(w, r)
	case path == "init/error" && r.Method == http.MethodPost:
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxResponse))
		rt.mu.Lock()
		rt.initErr = body
		rt.mu.Unlock()
		writeRuntimeStatus(w, http.StatusAccepted)
	case strings.HasPrefix(path, "invocation/") && r.Method == http.MethodPost:
		id, kind, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		rt.answer(w, r, id, kind)
	default:
		http.NotFound(w, r)
	}
}

// next blocks until an event is queued (or the runtime's connection goes) and hands it out.
func (rt *Runtime) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-rt.queue:
		rt.mu.Lock()
		rt.pending[inv.id] = inv
		rt.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", rt.FunctionARN)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+randomHex(4)+"-"+randomHex(12)+";Sampled=0")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

// answer ends invocation id with its response (kind "response") or error (kind "error").
func (rt *Runtime) answer(w http.ResponseWriter, r *http.Request, id, kind string) {
	if kind != "response" && kind != "error" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponse+1))
	if err != nil {
		writeRuntimeStatus(w, http.StatusBadRequest)
		return
	}
	rt.mu.Lock()
	inv := rt.pending[id]
	delete(rt.pending, id)
	rt.mu.Unlock()
	if inv == nil {
		// The real API answers 400 InvalidRequestID for an id it did not hand out.
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	res := InvokeResult{Payload: body}
	switch {
	case kind == "error":
		res.FunctionError = "Unhandled"
	case len(body) > maxResponse:
		res = InvokeResult{FunctionError: "Unhandled", Payload: errorDoc("Function.ResponseSizeTooLarge",
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponse))}
	}
	inv.done <- res
	writeRuntimeStatus(w, http.StatusAccepted)
}

// Invoke queues payload as a new invocation and waits for the function's answer, at most
// timeout (the function's configured timeout: its answer after that is "Task timed out"). A
// bootstrap that exits first is exited; ctx ending is an error.
func (rt *Runtime) Invoke(ctx context.Context, payload []byte, timeout time.Duration, exited <-chan error) (InvokeResult, error) {
	rt.init()
	inv := &invocation{id: requestID(), payload: payload, deadline: time.Now().Add(timeout), done: make(chan InvokeResult, 1)}
	rt.queue <- inv
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-inv.done:
		return res, nil
	case <-timer.C:
		return InvokeResult{FunctionError: "Unhandled", Payload: errorDoc("Sandbox.Timedout",
			fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, timeout.Seconds()))}, nil
	case err := <-exited:
		rt.mu.Lock()
		initErr := rt.initErr
		rt.mu.Unlock()
		if len(initErr) > 0 {
			return InvokeResult{FunctionError: "Unhandled", Payload: initErr}, nil
		}
		return InvokeResult{FunctionError: "Unhandled", Payload: errorDoc("Runtime.ExitError",
			fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %v", inv.id, err))}, nil
	case <-ctx.Done():
		return InvokeResult{}, ctx.Err()
	}
}

// errorDoc is the error document Lambda returns as the payload of a failed invocation.
func errorDoc(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return b
}

func writeRuntimeStatus(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write([]byte(`{"status":"OK"}`))
}

func writeRuntimeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(errorDoc(typ, msg))
}

// Sandbox runs a function's code the way Lambda's execution environment does: the zip unpacked,
// its bootstrap started with the function's environment, the role's credentials and
// AWS_LAMBDA_RUNTIME_API pointing at a Runtime API host, and fed one event. Each invocation is a
// cold start in a fresh process (Lambda may also reuse a warm one; a probe's answer does not
// depend on it). Where the Runtime API listens and how the process starts are fields, so the lab
// runs both inside its task namespace: the function's traffic then really leaves from the
// simulated subnet.
type Sandbox struct {
	// Listen opens the Runtime API's listener where the bootstrap can reach it: nil means
	// 127.0.0.1 on a free port.
	Listen func() (net.Listener, error)
	// Command returns the process that runs path with env; nil means exec.CommandContext. The
	// lab wraps it in `ip netns exec` and adds its CA bundle to env.
	Command func(ctx context.Context, path string, env []string) *exec.Cmd
	// Dir is where code is unpacked; empty means a directory under os.TempDir, removed by Close.
	Dir string

	mu       sync.Mutex
	unpacked map[string]string // code SHA-256 → its bootstrap's path
	tmp      string
}

// maxLogTail is how much of a function's output Invoke keeps, like LogType Tail's 4 KB.
const maxLogTail = 4096

// Invoke runs fn's bootstrap for one invocation with payload and returns its answer.
func (sb *Sandbox) Invoke(ctx context.Context, fn Function, payload []byte) (InvokeResult, error) {
	path, err := sb.unpack(fn.Code)
	if err != nil {
		return InvokeResult{FunctionError: "Unhandled", Payload: errorDoc("Runtime.InvalidEntrypoint", err.Error())}, nil
	}
	listen := sb.Listen
	if listen == nil {
		listen = func() (net.Listener, error) { return net.Listen("tcp4", "127.0.0.1:0") }
	}
	ln, err := listen()
	if err != nil {
		return InvokeResult{}, fmt.Errorf("fakeaws: runtime API listener: %w", err)
	}
	rt := &Runtime{FunctionARN: fn.ARN}
	srv := &http.Server{Handler: rt, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	defer srv.Close()

	env := fn.env(ln.Addr().String(), filepath.Dir(path))
	runCtx, cancel := context.WithCancel(context.Background()) // killed below, whatever ctx does
	defer cancel()
	var cmd *exec.Cmd
	if sb.Command != nil {
		cmd = sb.Command(runCtx, path, env)
	} else {
		cmd = exec.CommandContext(runCtx, path)
		cmd.Env = env
	}
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return InvokeResult{FunctionError: "Unhandled", Payload: errorDoc("Runtime.InvalidEntrypoint", err.Error())}, nil
	}
	exited := make(chan error, 1)
	waited := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(waited) }()
	res, err := rt.Invoke(ctx, payload, fn.timeout(), exited)
	cancel() // the environment is frozen after its answer; this one is thrown away
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
	}
	res.Log = out.bytes()
	return res, err
}

// unpack extracts the zip's bootstrap, once per distinct code, and returns its path.
func (sb *Sandbox) unpack(code []byte) (string, error) {
	sum := sha256.Sum256(code)
	key := hex.EncodeToString(sum[:])
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if p, ok := sb.unpacked[key]; ok {
		return p, nil
	}
	zr, err := zip.NewReader(bytes.NewReader(code), int64(len(code)))
	if err != nil {
		return "", fmt.Errorf("Could not unzip the function's code: %v", err)
	}
	f, err := zr.Open("bootstrap")
	if err != nil {
		return "", errors.New("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]")
	}
	defer f.Close()
	dir := sb.Dir
	if dir == "" {
		if sb.tmp == "" {
			if sb.tmp, err = os.MkdirTemp("", "fakeaws-lambda-"); err != nil {
				return "", err
			}
		}
		dir = sb.tmp
	}
	task := filepath.Join(dir, key[:16])
	if err := os.MkdirAll(task, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(task, "bootstrap")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, f); err != nil {
		dst.Close()
		return "", err
	}
	if err := dst.Close(); err != nil {
		return "", err
	}
	if sb.unpacked == nil {
		sb.unpacked = map[string]string{}
	}
	sb.unpacked[key] = path
	return path, nil
}

// Close removes the code the sandbox unpacked into its own directory.
func (sb *Sandbox) Close() error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.unpacked = nil
	if sb.tmp == "" {
		return nil
	}
	err := os.RemoveAll(sb.tmp)
	sb.tmp = ""
	return err
}

// tailBuffer keeps the last maxLogTail bytes written to it; safe for the two writers of a
// process's stdout and stderr.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > maxLogTail {
		t.b = append([]byte(nil), t.b[len(t.b)-maxLogTail:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.b...)
}
