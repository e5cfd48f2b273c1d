package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/vpcprobe/vpcprobe/checks"
)

// An ECS container instance has no task metadata: where it is comes from the EC2 instance
// metadata service (IMDSv2), and the cluster its agent joins from /etc/ecs/ecs.config.

// Instance is what instance metadata tells about the EC2 instance the probe runs on. Every
// field may be empty when its path did not answer.
type Instance struct {
	ID               string // i-0123…
	Account          string // the instance's account (the identity document's accountId)
	Region           string
	AvailabilityZone string
	PrivateIP        string
	SubnetID         string
	VPCID            string
	SubnetCIDR       string // the subnet's IPv4 CIDR block, of the primary interface
	VPCCIDR          string // the VPC's primary IPv4 CIDR block
	IPv6             string // the primary interface's IPv6 addresses, one a line ("" without IPv6)
	SubnetIPv6CIDRs  string // the subnet's IPv6 CIDR blocks, one a line
	VPCIPv6CIDRs     string // the VPC's IPv6 CIDR blocks, one a line
}

// DefaultIMDS is the instance metadata endpoint of every EC2 instance.
const DefaultIMDS = "http://169.254.169.254"

// IMDSError is why instance metadata could not be read: its reason code, and whether the TCP
// connection to the service was accepted (the mark of a hop limit that drops the token's answer
// on its way to a container, as opposed to no metadata service at all).
type IMDSError struct {
	Code      checks.Code
	Connected bool
	Err       error
}

func (e *IMDSError) Error() string { return "instance metadata: " + e.Err.Error() }
func (e *IMDSError) Unwrap() error { return e.Err }

// HopLimited reports whether the failure looks like an http-put-response-hop-limit of 1 seen
// from a container: the service accepted the connection, and the token PUT got no answer.
func (e *IMDSError) HopLimited() bool { return e.Connected && e.Code == checks.Timeout }

// FetchInstance reads the instance's identity and network from the IMDSv2 service at endpoint
// (DefaultIMDS on EC2; tests give a loopback server), bounded by ctx: one token PUT, the
// instance identity document once (id, account, region, zone, private IP: EC2 user guide,
// "Instance identity documents"), then one GET per network path with the token, through the
// SDK's own client. It never reads the environment
// (the caller decides whether AWS_EC2_METADATA_DISABLED forbids the call) and never falls back
// to IMDSv1. Failures are *IMDSError.
func FetchInstance(ctx context.Context, endpoint string) (Instance, error) {
	// The SDK's token error does not wrap its cause (it formats it), so the dial's own outcome
	// is kept here: it tells "nothing there" from "connected, then no answer".
	var connected atomic.Bool
	var dialErr atomic.Pointer[error]
	dialer := &net.Dialer{}
	tr := &http.Transport{ // link-local: never through a proxy
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				connected.Store(true)
			} else {
				dialErr.Store(&err)
			}
			return c, err
		},
	}
	defer tr.CloseIdleConnections()
	c := imds.New(imds.Options{
		Endpoint:              endpoint,
		ClientEnableState:     imds.ClientEnabled,
		EnableFallback:        aws.FalseTernary,
		HTTPClient:            &http.Client{Transport: tr},
		Retryer:               aws.NopRetryer{}, // the caller's ctx is the whole budget: no second try
		DisableDefaultTimeout: true,
	})
	get := func(path string) (string, error) {
		out, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
		if err != nil {
			return "", err
		}
		defer out.Content.Close()
		b, err := io.ReadAll(io.LimitReader(out.Content, 4096))
		return strings.TrimSpace(string(b)), err
	}
	fail := func(err error) (Instance, error) {
		var code checks.Code
		switch de := dialErr.Load(); {
		case ctx.Err() != nil && errors.Is(context.Cause(ctx), checks.ErrDeadline):
			code = checks.Deadline
		case de != nil && !connected.Load():
			code = checks.ClassifyIn(ctx, *de)
		case ctx.Err() != nil:
			code = checks.Timeout
		default:
			code = checks.ClassifyIn(ctx, err)
		}
		return Instance{}, &IMDSError{Code: code, Connected: connected.Load(), Err: err}
	}
	var in Instance
	doc, err := c.GetInstanceIdentityDocument(ctx, &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		return fail(err)
	}
	in.ID, in.Account, in.Region = doc.InstanceID, doc.AccountID, doc.Region
	in.AvailabilityZone, in.PrivateIP = doc.AvailabilityZone, doc.PrivateIP
	mac, err := get("mac")
	if err != nil {
		return fail(err)
	}
	base := "network/interfaces/macs/" + mac + "/"
	for _, f := range []struct {
		path string
		to   *string
	}{
		{base + "subnet-id", &in.SubnetID},
		{base + "vpc-id", &in.VPCID},
		{base + "subnet-ipv4-cidr-block", &in.SubnetCIDR},
		{base + "vpc-ipv4-cidr-block", &in.VPCCIDR},
		{base + "ipv6s", &in.IPv6},
		{base + "subnet-ipv6-cidr-blocks", &in.SubnetIPv6CIDRs},
		{base + "vpc-ipv6-cidr-blocks", &in.VPCIPv6CIDRs},
	} {
		v, err := get(f.path)
		var notFound interface{ HTTPStatusCode() int }
		if errors.As(err, &notFound) && notFound.HTTPStatusCode() == http.StatusNotFound {
			continue // a path this instance does not have (no IPv4, say): unknown, not a failure
		}
		if err != nil {
			return fail(err)
		}
		*f.to = v
	}
	return in, nil
}

// maxInstanceMetadata bounds the read of instance metadata when the region is already known.
// On EC2 the service answers in about a millisecond; elsewhere (a laptop) 169.254.169.254
// usually never answers, and a probe whose checks took 30 ms must not wait a whole --timeout.
const maxInstanceMetadata = time.Second

// InstanceBudget is how long a run gives instance metadata for a --timeout.
func InstanceBudget(timeout time.Duration) time.Duration { return min(timeout, maxInstanceMetadata) }

// DefaultECSConfig is where the ECS agent reads its configuration on a container instance.
const DefaultECSConfig = "/etc/ecs/ecs.config"

// ReadECSConfig returns the cluster the ECS agent joins according to its configuration file at
// path: ECS_CLUSTER, or "default" when the file does not set it, as the agent does. An
// unreadable file is an error (the cluster is then unknown to the report).
func ReadECSConfig(path string) (string, error) {
	c, err := ReadAgentConfig(path)
	return c.Cluster, err
}
