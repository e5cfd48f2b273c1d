package moto

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestServer starts moto_server, creates a VPC through the EC2 API, resets the server (the VPC
// is gone) and closes it (its whole process group is gone and the port refuses). Start(t) cuts
// the test's SDK off from the machine.
func TestServer(t *testing.T) {
	s := Start(t)
	if os.Getenv("AWS_EC2_METADATA_DISABLED") != "true" || os.Getenv("AWS_REGION") != Region ||
		os.Getenv("AWS_ACCESS_KEY_ID") != AccessKey {
		t.Errorf("the SDK is not isolated: AWS_EC2_METADATA_DISABLED=%q AWS_REGION=%q AWS_ACCESS_KEY_ID=%q",
			os.Getenv("AWS_EC2_METADATA_DISABLED"), os.Getenv("AWS_REGION"), os.Getenv("AWS_ACCESS_KEY_ID"))
	}
	// Config must not read the machine's settings: a global endpoint here would send the calls
	// elsewhere.
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := ec2.NewFromConfig(s.Config(nil))

	out, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatalf("CreateVpc: %v", err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	if n := countVPCs(ctx, t, client, id); n != 1 {
		t.Fatalf("DescribeVpcs %s: %d VPCs, want 1", id, n)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countVPCs(ctx, t, client, id); n != 0 {
		t.Fatalf("after Reset, DescribeVpcs %s: %d VPCs, want 0", id, n)
	}

	pgid := s.cmd.Process.Pid
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("after Close, process group %d: %v, want ESRCH (no process left)", pgid, err)
	}
	if _, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err == nil {
		t.Error("after Close, DescribeVpcs succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func countVPCs(ctx context.Context, t *testing.T, client *ec2.Client, id string) int {
	t.Helper()
	out, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{id}}},
	})
	if err != nil {
		t.Fatalf("DescribeVpcs: %v", err)
	}
	return len(out.Vpcs)
}

// withPath makes Path see only dir on PATH and known instead of the machine's known places.
func withPath(t *testing.T, dir string, known ...string) {
	t.Setenv("PATH", dir)
	old := knownPaths
	knownPaths = known
	t.Cleanup(func() { knownPaths = old })
}

// recorder is a testing.TB that records Fatalf instead of ending the test.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(r) // Fatalf must not return; Start's caller never sees its result
}

// TestAbsent: without moto_server, Run says ErrNotFound and Start(t) fails (never skips) with
// the install command.
func TestAbsent(t *testing.T) {
	withPath(t, t.TempDir(), filepath.Join(t.TempDir(), "moto_server"))
	if _, err := Run(context.Background()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Run: %v, want ErrNotFound", err)
	}
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != any(r) {
				panic(p)
			}
		}()
		Start(r)
	}()
	if r.fatal != ErrNotFound.Error() {
		t.Errorf("Start(t) failed with %q, want %q", r.fatal, ErrNotFound.Error())
	}
	if r.Skipped() {
		t.Error("Start(t) skipped")
	}
}

// TestExitsEarly: a moto_server that dies before answering is an error carrying its output,
// not a wait until the start budget runs out.
func TestExitsEarly(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "moto_server")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'No module named moto' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	withPath(t, "/usr/bin:/bin", script)
	_, err := Run(context.Background())
	if err == nil {
		t.Fatal("Run succeeded")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run waited out its budget: %v", err)
	}
	if !strings.Contains(err.Error(), "No module named moto") {
		t.Errorf("Run: %v: the server's output is missing", err)
	}
}
