package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/netns"
	"github.com/vpcprobe/vpcprobe/lab"
)

// TestDescribe: `vpclab describe` prints the scenario's VPC as the EC2 API shows it, with the
// ids and what the configuration cannot show; it needs no root.
func TestDescribe(t *testing.T) {
	old := checkPrivilege
	t.Cleanup(func() { checkPrivilege = old })
	checkPrivilege = func() error { return netns.ErrPrivilege }

	t.Run("text", func(t *testing.T) {
		code, out, errs := runCmd(context.Background(), "describe", "silent-peer")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{"task subnet", "subnet-", "endpoint logs", "vpce-", "com.amazonaws.eu-west-1.logs",
			"in tcp 443 from " + lab.TaskSubnet, "not in the configuration", "logs: "} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		code, out, errs := runCmd(context.Background(), "describe", "--json", "eni-zone-down")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var doc struct {
			IDs lab.VPCIDs  `json:"ids"`
			VPC lab.VPCView `json:"vpc"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		e, ok := doc.VPC.Endpoint(doc.IDs.Endpoints["ecr.api"])
		if !ok || !slices.Contains(e.Subnets, doc.IDs.ZoneDownSubnet) || doc.IDs.ZoneDownSubnet == "" {
			t.Errorf("ecr.api endpoint %+v, want it in the zone-down subnet %q", e, doc.IDs.ZoneDownSubnet)
		}
		if acl, ok := doc.VPC.ACL(doc.IDs.NetworkACL); !ok || !slices.Contains(acl.Entries, "in 90 deny tcp 443-443 "+lab.TaskSubnet) {
			t.Errorf("ACL %q: %+v", doc.IDs.NetworkACL, acl)
		}
	})

	t.Run("usage", func(t *testing.T) {
		code, out, errs := runCmd(context.Background(), "describe")
		if code != exitUsage || out != "" || !strings.Contains(errs, "scenario") {
			t.Errorf("exit %d stdout %q stderr %q", code, out, errs)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the command's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var endpointRE = regexp.MustCompile(`AWS_ENDPOINT_URL_EC2=(\S+) .* --subnet (subnet-\S+) --security-groups (sg-\S+)`)

// TestUpEC2: `vpclab up --ec2` serves the lab's VPC through the EC2 API while it is up, prints
// how to inspect it, and stops that server with the lab.
func TestUpEC2(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"up", "--ec2", "--probe", probeBin, "nat-only"}, &out, &errb) }()

	var m []string
	for deadline := time.Now().Add(time.Minute); m == nil; {
		select {
		case code := <-done:
			t.Fatalf("up ended with %d: %s %s", code, out.String(), errb.String())
		case <-time.After(100 * time.Millisecond):
		}
		m = endpointRE.FindStringSubmatch(out.String())
		if m == nil && time.Now().After(deadline) {
			cancel()
			t.Fatalf("no inspect line in a minute:\n%s", out.String())
		}
	}
	url, subnet, group := m[1], m[2], m[3]
	client := ec2.NewFromConfig(moto.ConfigFor(url, nil))
	sub, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	if err != nil || len(sub.Subnets) != 1 || aws.ToString(sub.Subnets[0].CidrBlock) != lab.TaskSubnet {
		t.Errorf("DescribeSubnets %s: %+v, %v; want the task subnet %s", subnet, sub, err, lab.TaskSubnet)
	}
	if _, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{group}}); err != nil {
		t.Errorf("DescribeSecurityGroups %s: %v", group, err)
	}
	if !strings.Contains(out.String(), "NAT gateway") {
		t.Errorf("up --ec2 lacks the NAT gateway's id:\n%s", out.String())
	}

	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("up: exit %d: %s", code, errb.String())
	}
	if _, err := client.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err == nil {
		t.Error("the lab's moto_server still answers after up ended")
	}
	if left := ours(t); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
