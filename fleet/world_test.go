package fleet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/vpcprobe/vpcprobe/internal/moto"
)

// The regions of the test fleets: moto's own and a second one.
var testRegions = []string{moto.Region, "eu-central-1"}

// roleName is the role the tests assume in each account (moto needs none to exist).
const roleName = "vpcprobe-fleet"

// calls counts the SDK's calls by service and operation, through a middleware of the SDK's own
// stack: what the fleet really sends, retries aside.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c.mu.Lock()
		c.n[awsmiddleware.GetServiceID(ctx)+":"+awsmiddleware.GetOperationName(ctx)]++
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// service sums the counted calls of service (EC2, Route53Resolver, STS).
func (c *calls) service(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.n {
		if strings.HasPrefix(k, name+":") {
			n += v
		}
	}
	return n
}

func (c *calls) reset() {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
}

// denier answers, for the account-regions it is told, AWS's real error documents instead of
// moto's: moto's AssumeRole never fails and it has no service control policies. The documents
// are STS's and EC2's error shapes (STS: ErrorResponse/Error/Code AccessDenied, HTTP 403, as in
// https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html; EC2:
// Response/Errors/Error/Code UnauthorizedOperation, HTTP 403, as in
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html#api-error-response).
type denier struct {
	next    http.RoundTripper
	roles   map[string]bool // accounts whose role may not be assumed
	regions map[string]bool // regions whose EC2 DescribeVpcs is denied (an SCP's region deny)
	denied  atomic.Int64
}

func (d *denier) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	scope := r.Header.Get("Authorization") // Credential=AKID/date/<region>/<service>/aws4_request
	switch {
	case form.Get("Action") == "AssumeRole":
		arn := form.Get("RoleArn")
		for acct := range d.roles {
			if strings.Contains(arn, "::"+acct+":") {
				d.denied.Add(1)
				return xmlError(r, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>`+
					`<Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: `+arn+`</Message></Error>`+
					`<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>`), nil
			}
		}
	case form.Get("Action") == "DescribeVpcs":
		for rg := range d.regions {
			if strings.Contains(scope, "/"+rg+"/ec2/") {
				d.denied.Add(1)
				return xmlError(r, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code>`+
					`<Message>You are not authorized to perform this operation. User: arn:aws:sts::222222222222:assumed-role/vpcprobe-fleet/vpcprobe-t is not authorized to perform: ec2:DescribeVpcs with an explicit deny in a service control policy</Message>`+
					`</Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`), nil
			}
		}
	}
	return d.next.RoundTrip(r)
}

func xmlError(r *http.Request, doc string) *http.Response {
	return &http.Response{StatusCode: http.StatusForbidden, Status: "403 Forbidden", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(doc)), Request: r}
}

// kit is one moto_server holding an organisation, with the SDK configuration the fleet reads
// with (counted and with the denier in its transport).
type kit struct {
	srv   *moto.Server
	base  aws.Config // what the fleet reads with
	build aws.Config // what the tests build with (uncounted, no retries)
	deny  *denier
	calls *calls
}

// shared is the package's one moto_server (TestMain): starting one per test costs seconds.
var shared *moto.Server

func TestMain(m *testing.M) {
	// Nothing here reads the machine's AWS setup (every configuration is moto.ConfigFor's), but
	// the SDK must never reach instance metadata.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv, err := moto.Run(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // ErrNotFound's text is the install command
		os.Exit(1)
	}
	shared = srv
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// newKit is the shared server for one test. It is not reset (moto's reset of a large state
// takes seconds): each test builds in member accounts of its own, which nothing else reads.
func newKit(t testing.TB) *kit {
	t.Helper()
	srv := shared
	k := &kit{srv: srv, calls: &calls{n: map[string]int{}}}
	k.deny = &denier{next: &http.Transport{Proxy: nil}, roles: map[string]bool{}, regions: map[string]bool{}}
	k.base = srv.Config(&http.Client{Transport: k.deny})
	k.base.APIOptions = append(k.base.APIOptions, k.calls.add)
	k.build = srv.Config(nil)
	k.build.RetryMaxAttempts = 1
	return k
}

// opener assumes roleName in each account through the denier.
func (k *kit) opener() Opener {
	return AssumeRole(k.base, sts.NewFromConfig(k.base), "aws", roleName, SessionName("test"))
}

var (
	orgOnce    sync.Once
	orgErr     error
	accountSeq atomic.Int64
)

// org creates n member accounts of the shared organisation in moto and returns them (the
// management account, moto's own, is not among them).
func (k *kit) org(t testing.TB, n int) []Member {
	t.Helper()
	ctx := context.Background()
	oc := organizations.NewFromConfig(k.build)
	orgOnce.Do(func() { _, orgErr = oc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}) })
	if orgErr != nil {
		t.Fatal(orgErr)
	}
	var ms []Member
	for range n {
		name := fmt.Sprintf("team-%03d", accountSeq.Add(1))
		out, err := oc.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, Member{ID: aws.ToString(out.CreateAccountStatus.AccountId), Name: name})
	}
	return ms
}

// ec2In returns a builder's EC2 client acting in account (through moto's AssumeRole) in region.
func (k *kit) ec2In(t testing.TB, account, region string) *ec2.Client {
	t.Helper()
	cfg := k.build.Copy()
	cfg.Region = region
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(k.build), RoleARN("aws", account, "builder")))
	return ec2.NewFromConfig(cfg)
}

// built is what vpcs created in one account-region.
type built struct {
	vpcs    []string
	subnets [][]string // by VPC
}

// vpcs creates n VPCs of m subnets each (10.<i>.<j>.0/24, all in zone a, on the VPC's main
// route table and default ACL: one shape per VPC) in account and region.
func (k *kit) vpcs(t testing.TB, account, region string, n, m int) built {
	t.Helper()
	ctx := context.Background()
	c := k.ec2In(t, account, region)
	var b built
	for i := range n {
		v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", i))})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(v.Vpc.VpcId)
		b.vpcs = append(b.vpcs, id)
		var subs []string
		for j := range m {
			s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(id), CidrBlock: aws.String(fmt.Sprintf("10.%d.%d.0/24", i, j)),
				AvailabilityZone: aws.String(region + "a")})
			if err != nil {
				t.Fatal(err)
			}
			subs = append(subs, aws.ToString(s.Subnet.SubnetId))
		}
		b.subnets = append(b.subnets, subs)
	}
	return b
}

// dropDefaultVPC deletes the default VPC moto gives every account-region, so a fleet holds only
// what the test built.
func (k *kit) dropDefaultVPC(t testing.TB, account, region string) {
	t.Helper()
	ctx := context.Background()
	c := k.ec2In(t, account, region)
	out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Vpcs {
		subs, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{aws.ToString(v.VpcId)}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subs.Subnets {
			if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: s.SubnetId}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: v.VpcId}); err != nil {
			t.Fatal(err)
		}
	}
}
