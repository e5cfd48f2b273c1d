package lab

import (
	"bytes"
	"context"
	"crypto/tls"
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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/internal/testca"
	"github.com/vpcprobe/vpcprobe/launch"
)

// The Lambda runner in the lab: `vpcprobe launch --runner lambda` runs in the root namespace, as an
// operator's laptop or pipeline would, against the lab's AWS APIs served on loopback; the lab's
// Lambda API runs each function's bootstrap (the zip the launcher uploaded) inside the task
// namespace, behind a Runtime API on that namespace's loopback, so every report is measured from
// the simulated subnet. Every subnet the launch names is that one subnet.

// LambdaRole is the execution role of the functions a lab launch creates.
const LambdaRole = "arn:aws:iam::" + Account + ":role/vpcprobe-lambda"

// LambdaGroup is the security group a lab launch gives its functions.
const LambdaGroup = "sg-0123456789abcdef0"

// LambdaRun is one Lambda launch in a lab.
type LambdaRun struct {
	Args   []string
	Exit   int
	Stdout []byte
	Stderr []byte
	Wall   time.Duration  // the whole launch: zip, create, wait, invoke, delete
	Report *launch.Report // decoded stdout; nil when it was not one
}

// serveLambda makes the lab's Lambda API run functions in the task namespace and serves the lab's
// AWS APIs over TLS on the root namespace's loopback, once.
func (l *Lab) serveLambda() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.apiURL != "" {
		return nil
	}
	// The functions draw their source ports from Lambda's range, not Linux's (lambda_ports.go).
	if err := netns.WriteSysctl(l.TaskNS, "net/ipv4/ip_local_port_range", lambdaPortRange); err != nil {
		return err
	}
	home := filepath.Join(l.Dir, "lambda-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	sb := &fakeaws.Sandbox{
		Dir:    filepath.Join(l.Dir, "lambda"),
		Listen: func() (net.Listener, error) { return netns.Listen(l.TaskNS, "tcp4", "127.0.0.1:0") },
		Command: func(ctx context.Context, path string, env []string) *exec.Cmd {
			cmd := netns.Command(ctx, l.TaskNS, path)
			// Lambda's environment, plus the lab CA a real function finds in its system roots.
			cmd.Env = append(env, "SSL_CERT_FILE="+l.CAFile(), "AWS_CA_BUNDLE="+l.CAFile(),
				"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
				"HOME="+home, "NO_COLOR=1")
			return cmd
		},
	}
	l.AWS.RunFunctions(sb.Invoke)
	l.closers = append(l.closers, sb.Close)

	ca, err := testca.New("vpclab launcher API")
	if err != nil {
		return err
	}
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		return err
	}
	if err := os.WriteFile(l.apiCAFile(), ca.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("lab: launcher API: %w", err)
	}
	srv := &http.Server{Handler: l.AWS, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	l.closers = append(l.closers, func() error { return shutdown(srv) })
	l.apiURL = "https://" + ln.Addr().String()
	return nil
}

// apiCAFile is the CA of the launcher's API front end.
func (l *Lab) apiCAFile() string { return filepath.Join(l.Dir, "api-ca.pem") }

// LaunchEnv is the launcher's environment: the lab's AWS APIs on loopback, the lab's test
// credentials, nothing from the host's AWS configuration.
func (l *Lab) LaunchEnv() ([]string, error) {
	if err := l.serveLambda(); err != nil {
		return nil, err
	}
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + l.Dir,
		"AWS_REGION=" + Region,
		"AWS_ENDPOINT_URL=" + l.apiURL,
		"AWS_CA_BUNDLE=" + l.apiCAFile(),
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=vpclab-launcher",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"NO_COLOR=1",
	}, nil
}

// LambdaArgs returns the launcher's command line for the scenario in subnets: the Lambda runner,
// JSON output, the scenario's --timeout and --deadline (as --probe-deadline), and its probe
// flags as --probe-env settings, then extra.
func (sc Scenario) LambdaArgs(subnets []string, extra ...string) []string {
	probe := sc.ProbeArgs() // --output json --timeout T --deadline D, then the scenario's flags
	args := []string{"launch", "--runner", "lambda", "--subnets", strings.Join(subnets, ","),
		"--security-groups", LambdaGroup, "--lambda-role", LambdaRole, "--output", "json",
		"--timeout", probe[3], "--probe-deadline", probe[5], "--deadline", "2m"}
	rest := probe[6:]
	for i := 0; i < len(rest); i++ {
		name := strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(rest[i], "--"), "-", "_"))
		value := "true" // a switch
		if i+1 < len(rest) && !strings.HasPrefix(rest[i+1], "--") {
			value = rest[i+1]
			i++
		}
		args = append(args, "--probe-env", name+"="+value)
	}
	return append(args, extra...)
}

// LaunchLambda runs `vpcprobe launch --runner lambda` (probePath is the launcher and, zipped, the
// functions' code) for the scenario in subnets, and measures it. A non-zero exit is part of the
// run, not an error. In a lab started WithEC2 the launcher reads the lab's VPC configuration
// from its EC2 API (launch's inspection, joined with the live result), and the functions get
// the described task group: pass VPCIDs().TaskSubnet as the subnet to have it inspected.
func (l *Lab) LaunchLambda(ctx context.Context, probePath string, subnets []string, extra ...string) (LambdaRun, error) {
	env, err := l.LaunchEnv()
	if err != nil {
		return LambdaRun{}, err
	}
	args := l.Scenario.LambdaArgs(subnets, extra...)
	if l.ec2Endpoint != "" {
		for i := range args {
			if args[i] == LambdaGroup {
				args[i] = l.vpcIDs.TaskGroup
			}
		}
		// Only the endpoints of what inspect reads (EC2, Route 53 Resolver, Route 53, Network
		// Firewall): the credentials stay the lab's.
		env = append(env, "AWS_ENDPOINT_URL_EC2="+l.ec2Endpoint, "AWS_ENDPOINT_URL_ROUTE53RESOLVER="+l.ec2Endpoint,
			"AWS_ENDPOINT_URL_ROUTE_53="+l.ec2Endpoint, "AWS_ENDPOINT_URL_NETWORK_FIREWALL="+l.ec2Endpoint)
	}
	cmd := exec.CommandContext(ctx, probePath, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := LambdaRun{Args: args}
	start := time.Now()
	err = cmd.Run()
	r.Wall = time.Since(start)
	r.Stdout, r.Stderr = stdout.Bytes(), stderr.Bytes()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return r, fmt.Errorf("lab: run %s launch: %w", probePath, err)
	}
	r.Exit = cmd.ProcessState.ExitCode()
	var rep launch.Report
	if json.Unmarshal(r.Stdout, &rep) == nil && rep.Schema != "" {
		r.Report = &rep
	}
	return r, nil
}

// Subnets returns n distinct subnet ids for a lab launch; the lab has one subnet, and every id
// names it.
func Subnets(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("subnet-0a1b2c3d%09x", i+1)
	}
	return ids
}

// LambdaBench is the wall time of Lambda launches of one scenario with Subnets subnets each.
type LambdaBench struct {
	Scenario string
	Subnets  int
	Runs     []LambdaRun
}

// Wall is the spread of the launches' wall times, in seconds.
func (b LambdaBench) Wall() Spread {
	xs := make([]float64, len(b.Runs))
	for i, r := range b.Runs {
		xs[i] = r.Wall.Seconds()
	}
	return spread(xs)
}

// BenchLambda starts sc's lab once and runs `launch --runner lambda` rounds times for each
// subnet count of counts, after one uncounted warm-up launch (it pays for the page cache and the
// sandbox's first unpacking). Every launch must return a report for every subnet.
func BenchLambda(ctx context.Context, probePath string, sc Scenario, counts []int, rounds int) ([]LambdaBench, error) {
	l, err := Start(ctx, sc)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	check := func(r LambdaRun, n int) error {
		if r.Report == nil || len(r.Report.Subnets) != n {
			return fmt.Errorf("lab: launch of %d subnets gave no report: %s", n, firstLine(r.Stderr))
		}
		for _, s := range r.Report.Subnets {
			if s.Report == nil {
				return fmt.Errorf("lab: launch of %d subnets: %s has no report", n, s.Subnet)
			}
		}
		return nil
	}
	r, err := l.LaunchLambda(ctx, probePath, Subnets(1))
	if err == nil {
		err = check(r, 1)
	}
	if err != nil {
		return nil, err
	}
	var out []LambdaBench
	for _, n := range counts {
		b := LambdaBench{Scenario: sc.Name, Subnets: n}
		for i := 0; i < rounds; i++ {
			r, err := l.LaunchLambda(ctx, probePath, Subnets(n))
			if err == nil {
				err = check(r, n)
			}
			if err != nil {
				return out, err
			}
			r.Stdout, r.Stderr = nil, nil
			b.Runs = append(b.Runs, r)
		}
		out = append(out, b)
	}
	return out, nil
}

// WriteLambdaBench prints the launches' wall times and each count's median against the first
// count's: concurrent invokes make N subnets cost about one.
func WriteLambdaBench(w io.Writer, results []LambdaBench) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tsubnets\tlaunches\twall\tvs first")
	for _, b := range results {
		ratio := b.Wall().Median / results[0].Wall().Median
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.2f×\n", b.Scenario, b.Subnets, len(b.Runs), seconds(b.Wall()), ratio)
	}
	tw.Flush()
}
