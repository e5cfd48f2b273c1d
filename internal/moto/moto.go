// Package moto runs Python moto's server (moto_server) as a child process on a loopback port: a
// real emulator of the EC2, Route 53 Resolver, ECS and Lambda control-plane APIs, speaking their
// wire protocols, for tests and for vpclab. A test calls Start(t); other code (vpclab) calls Run
// and Close. Point SDK clients at URL (Config does); Reset empties the server between uses.
//
// It never talks to AWS: moto answers every call itself, and the SDK configuration it hands out
// has static test credentials and no way to reach instance metadata.
package moto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Version is the moto release the project tests against; Install is the command that gets it.
const (
	Version = "5.2.1"
	Install = "pip install 'moto[server]==" + Version + "'"
)

// The SDK configuration Config returns: the lab's region and the static test credentials that
// moto accepts (it does not check signatures) and that can never be real ones.
const (
	Region    = "eu-west-1"
	AccessKey = "AKIDTEST"
	SecretKey = "secret"
	// Account is moto's default account: the one the test credentials act in.
	Account = "123456789012"
)

// Budgets of Run, Close and Config's client.
const (
	// startTimeout bounds moto_server's start: it imports every moto backend (about 0.5 s on an
	// idle machine, seconds on a shared 2-core one), so it is generous.
	startTimeout = 30 * time.Second
	// pollInterval is how often Run asks whether the server answers yet.
	pollInterval = 50 * time.Millisecond
	// pollTimeout bounds one readiness request, well inside startTimeout.
	pollTimeout = time.Second
	// stopTimeout is how long Close waits after SIGTERM before SIGKILL: werkzeug stops at once.
	stopTimeout = 3 * time.Second
	// clientTimeout bounds one call of Config's default client: moto answers in milliseconds,
	// its first EC2 call (loading the backend) in a few seconds on a busy machine.
	clientTimeout = 30 * time.Second
	// startAttempts: the free port Run picks may be taken by another process before moto binds
	// it; a server that exits at once is started again on another port.
	startAttempts = 3
)

// knownPaths are where moto_server is installed on the project's machines when it is not on
// PATH (pyenv's shims directory is on root's login PATH only).
var knownPaths = pyenvShims()

func pyenvShims() []string {
	paths := []string{"/root/.pyenv/shims/moto_server"}
	if home, err := os.UserHomeDir(); err == nil && home != "/root" {
		paths = append([]string{filepath.Join(home, ".pyenv/shims/moto_server")}, paths...)
	}
	return paths
}

// ErrNotFound is returned by Binary and Run when moto_server is neither on PATH nor in a known
// place.
var ErrNotFound = errors.New("moto_server not found: " + Install)

// Server is a running moto_server.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT: the BaseEndpoint of every SDK
	// client, or AWS_ENDPOINT_URL_EC2 of a program.
	URL string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and waitErr is set
	out  *tail         // the end of the server's output, for errors

	waitErr   error
	closeOnce sync.Once
}

// Binary returns the moto_server executable Run starts: PATH first, then pyenv's shims; or
// ErrNotFound.
func Binary() (string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	for _, p := range knownPaths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Run starts moto_server on a free loopback port and returns once it answers. The caller must
// Close it. ctx bounds the start only, not the server's life.
func Run(ctx context.Context) (*Server, error) {
	path, err := Binary()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var errs []error
	for range startAttempts {
		s, err := start(ctx, path)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// start runs one moto_server and waits for it to answer or exit.
func start(ctx context.Context, path string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("moto: %w", err)
	}
	s := &Server{
		URL:  "http://127.0.0.1:" + strconv.Itoa(port),
		done: make(chan struct{}),
		out:  &tail{max: 4096},
	}
	// Not CommandContext: ctx bounds the start, and the server outlives it.
	s.cmd = exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.Env = serverEnv()
	// Its own process group, so that Close stops pyenv's shim and the Python process it runs, and
	// a Ctrl-C meant for vpclab does not reach it first; SIGKILL when we die without closing it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("moto: run %s: %w", path, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.wait(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// wait polls GET /moto-api/ until the server answers 200, exits, or ctx ends.
func (s *Server) wait(ctx context.Context) error {
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: pollTimeout}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	// Until this server says it listens, an answer on its port may come from another server
	// that took the port first (tests of several packages start servers at once): ask only then.
	listening := false
	for {
		listening = listening || strings.Contains(s.out.String(), "Running on "+s.URL)
		if listening {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/", nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("moto: moto_server exited before answering (%v): %s", s.waitErr, s.out.String())
		case <-ctx.Done():
			return fmt.Errorf("moto: moto_server did not answer on %s within %s: %w", s.URL, startTimeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops the server's process group (SIGTERM, then SIGKILL after stopTimeout) and waits for
// it. It is safe to call more than once. It returns nil: how a test server dies is no error.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		pgid := s.cmd.Process.Pid
		select {
		case <-s.done:
			return // it already exited; Run reports why
		default:
		}
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
		// Anything of the group left behind (a shim's child that ignored SIGTERM) goes too.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
	return nil
}

// Reset empties every backend of the server (POST /moto-api/reset): the next caller sees a new
// account with only moto's defaults (the default VPC, AWS's prefix lists, …).
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("moto: reset: %w", err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("moto: reset: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto: reset: %s", resp.Status)
	}
	return nil
}

// ConfigFor returns an SDK configuration for clients of the moto_server at url: Region, the
// static test credentials, BaseEndpoint url, and client as the HTTP client (nil: one that uses no
// proxy). Built by hand rather than by config.LoadDefaultConfig, so nothing of the machine's AWS
// setup (profiles, instance metadata, AWS_ENDPOINT_URL) is read.
func ConfigFor(url string, client aws.HTTPClient) aws.Config {
	if client == nil {
		client = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: clientTimeout}
	}
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   client,
		// Moto answers at once or not at all: one retry covers a dropped connection.
		RetryMaxAttempts: 2,
	}
}

// Config returns ConfigFor(s.URL, client).
func (s *Server) Config(client aws.HTTPClient) aws.Config { return ConfigFor(s.URL, client) }

// Env returns the environment a program (vpcprobe inspect, launch) needs to call this server's
// EC2 and Route 53 Resolver APIs with the test credentials and nothing of the machine's AWS
// setup: to be appended to a minimal environment.
func Env(url string) []string {
	return []string{
		"AWS_ENDPOINT_URL_EC2=" + url,
		"AWS_ENDPOINT_URL_ROUTE53RESOLVER=" + url,
		"AWS_ENDPOINT_URL_ROUTE_53=" + url,
		"AWS_ENDPOINT_URL_NETWORK_FIREWALL=" + url,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}

// serverEnv is moto_server's environment: ours without proxies or AWS settings, which it has no
// use for, and refusing regions that do not exist.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.EqualFold(k, "HTTP_PROXY") || strings.EqualFold(k, "HTTPS_PROXY") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "MOTO_ALLOW_NONEXISTENT_REGION=false")
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last max bytes written to it: moto logs every request, and only the end says
// why it stopped.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// IsolatedVPC creates in moto a VPC with n subnets and nothing else (no endpoint, no route out)
// and returns the subnets and the VPC's default group.
func IsolatedVPC(t *testing.T, client *ec2.Client, n int) (vpc string, subnets []string, group string) {
	t.Helper()
	ctx := context.Background()
	v, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpc = aws.ToString(v.Vpc.VpcId)
	for i := range n {
		s, err := client.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", i+1)), AvailabilityZone: aws.String("eu-west-1a")})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	g, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(g.SecurityGroups) != 1 {
		t.Fatalf("default group: %v %v", err, g)
	}
	return vpc, subnets, aws.ToString(g.SecurityGroups[0].GroupId)
}
