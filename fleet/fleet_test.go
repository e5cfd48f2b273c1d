package fleet

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/inspect"
	"github.com/vpcprobe/vpcprobe/internal/moto"
	"github.com/vpcprobe/vpcprobe/internal/schematest"
	"github.com/vpcprobe/vpcprobe/report"
)

func services(t testing.TB) []catalogue.Service {
	t.Helper()
	s, err := catalogue.ParseServices("ecr.api,ecr.dkr,s3,logs")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ids(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// TestOrganization: ListAccounts in moto; an account closed (CloseAccount: State SUSPENDED) is
// not in the fleet, the management account and the active members are.
func TestOrganization(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 3)
	oc := organizations.NewFromConfig(k.build)
	if _, err := oc.CloseAccount(context.Background(), &organizations.CloseAccountInput{AccountId: aws.String(ms[1].ID)}); err != nil {
		t.Fatal(err)
	}
	got, err := Organization(context.Background(), organizations.NewFromConfig(k.base))
	if err != nil {
		t.Fatal(err)
	}
	// moto's management account and the active members, not the closed one (other tests'
	// accounts may be there too).
	g := ids(got)
	for _, id := range []string{"123456789012", ms[0].ID, ms[2].ID} {
		if !slices.Contains(g, id) {
			t.Errorf("accounts %v lack %s", g, id)
		}
	}
	if slices.Contains(g, ms[1].ID) {
		t.Errorf("accounts %v hold %s, which was closed (State SUSPENDED)", g, ms[1].ID)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// TestInspectFleet: three accounts through assumed roles in two regions; one account's role
// cannot be assumed (STS AccessDenied) and one region is denied by an SCP (EC2
// UnauthorizedOperation): both are untested with the action named, and the rest is read.
func TestInspectFleet(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 3)
	want := map[string][]string{} // account → its subnets in eu-west-1
	for _, m := range ms[:2] {
		for _, r := range testRegions {
			k.dropDefaultVPC(t, m.ID, r)
		}
		b := k.vpcs(t, m.ID, moto.Region, 2, 2)
		want[m.ID] = slices.Concat(b.subnets...)
		k.vpcs(t, m.ID, "eu-central-1", 1, 1)
	}
	k.deny.roles[ms[2].ID] = true
	k.deny.regions["eu-central-1"] = true

	rep := Inspect(context.Background(), Config{Accounts: ms, Regions: testRegions, Services: services(t), Open: k.opener()})
	if err := schematest.Validate(rep.JSON()); err != nil {
		t.Fatalf("schema: %v", err)
	}
	if !rep.Read() || rep.Mode != ModeInspect {
		t.Fatalf("read = %v, mode %q", rep.Read(), rep.Mode)
	}
	got := map[string][]string{}
	rep.Subnets(func(a *Account, rg *Region, v *VPC, s *Subnet) {
		got[a.Account] = append(got[a.Account], s.SubnetID)
		if rg.Region != moto.Region {
			t.Errorf("subnet %s read in denied region %s", s.SubnetID, rg.Region)
		}
		if s.GroupsFrom != GroupsVPCDefault || len(s.SecurityGroups) != 1 || !strings.HasPrefix(s.SecurityGroups[0], "sg-") {
			t.Errorf("%s: groups %v from %q, want the VPC's default group", s.SubnetID, s.SecurityGroups, s.GroupsFrom)
		}
		if s.RouteTable == "" || s.NetworkACL == "" || s.Zone != moto.Region+"a" {
			t.Errorf("%s: route table %q, ACL %q, zone %q", s.SubnetID, s.RouteTable, s.NetworkACL, s.Zone)
		}
		// No endpoint and no NAT: the configuration fails (inspect's endpoint-missing).
		if s.Verdict != checks.Fail || !slices.ContainsFunc(s.Findings, func(f inspect.Finding) bool { return f.Code == "endpoint-missing" }) {
			t.Errorf("%s: verdict %s, findings %v", s.SubnetID, s.Verdict, s.Findings)
		}
	})
	for _, m := range ms[:2] {
		if !sameSet(got[m.ID], want[m.ID]) {
			t.Errorf("account %s: subnets %v, want %v", m.ID, got[m.ID], want[m.ID])
		}
	}
	wantUntested := []string{
		ms[2].ID + "||sts:AssumeRole|AccessDenied",
		ms[0].ID + "|eu-central-1|ec2:DescribeVpcs|UnauthorizedOperation",
		ms[1].ID + "|eu-central-1|ec2:DescribeVpcs|UnauthorizedOperation",
	}
	var gotUntested []string
	for _, u := range rep.Untested {
		code, _, _ := strings.Cut(u.Error, ":")
		gotUntested = append(gotUntested, u.Account+"|"+u.Region+"|"+u.Action+"|"+code)
	}
	if !sameSet(gotUntested, wantUntested) {
		t.Errorf("untested = %v, want %v", gotUntested, wantUntested)
	}
	if rep.Verdict != checks.Fail {
		t.Errorf("verdict %s, want fail (the worst subnet's)", rep.Verdict)
	}

	// Nothing readable at all: no account, every entry untested (exit 3 in cmd).
	for _, m := range ms {
		k.deny.roles[m.ID] = true
	}
	none := Inspect(context.Background(), Config{Accounts: ms, Regions: testRegions, Services: services(t), Open: k.opener()})
	if none.Read() || len(none.Untested) != 3 || none.Verdict != checks.Skip {
		t.Errorf("all denied: read %v, untested %d, verdict %s", none.Read(), len(none.Untested), none.Verdict)
	}
}

// TestGroupsGiven: --security-groups are judged in every subnet and the report says so.
func TestGroupsGiven(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 1)
	k.dropDefaultVPC(t, ms[0].ID, moto.Region)
	b := k.vpcs(t, ms[0].ID, moto.Region, 1, 1)
	c := k.ec2In(t, ms[0].ID, moto.Region)
	sg, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{GroupName: aws.String("task"), Description: aws.String("task"), VpcId: aws.String(b.vpcs[0])})
	if err != nil {
		t.Fatal(err)
	}
	g := aws.ToString(sg.GroupId)
	rep := Inspect(context.Background(), Config{Accounts: ms, Regions: []string{moto.Region}, SecurityGroups: []string{g}, Services: services(t), Open: k.opener()})
	n := 0
	rep.Subnets(func(_ *Account, _ *Region, _ *VPC, s *Subnet) {
		n++
		if s.GroupsFrom != GroupsGiven || !slices.Equal(s.SecurityGroups, []string{g}) {
			t.Errorf("%s: groups %v from %q, want [%s] given", s.SubnetID, s.SecurityGroups, s.GroupsFrom, g)
		}
	})
	if n != 1 {
		t.Fatalf("%d subnets, want 1", n)
	}
}

// TestCallsGrowWithVPCs: the EC2 and Resolver calls of an inspection depend on accounts ×
// regions × VPCs, not on subnets: the same fleet with six times the subnets costs the same
// calls, and twice the VPCs costs more.
func TestCallsGrowWithVPCs(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 2)
	var worlds []built
	for _, m := range ms {
		for _, r := range testRegions {
			k.dropDefaultVPC(t, m.ID, r)
			worlds = append(worlds, k.vpcs(t, m.ID, r, 2, 1))
		}
	}
	measure := func() (int, int) {
		k.calls.reset()
		rep := Inspect(context.Background(), Config{Accounts: ms, Regions: testRegions, Services: services(t), Open: k.opener()})
		if len(rep.Untested) > 0 {
			t.Fatalf("untested: %+v", rep.Untested)
		}
		return k.calls.service("EC2"), k.calls.service("Route53Resolver")
	}
	ec2One, rrOne := measure()
	// Five more subnets in every VPC.
	i := 0
	for _, m := range ms {
		for _, r := range testRegions {
			c := k.ec2In(t, m.ID, r)
			for vi, v := range worlds[i].vpcs {
				for j := 1; j < 6; j++ {
					if _, err := c.CreateSubnet(context.Background(), &ec2.CreateSubnetInput{VpcId: aws.String(v),
						CidrBlock: aws.String(cidr(vi, j)), AvailabilityZone: aws.String(r + "a")}); err != nil {
						t.Fatal(err)
					}
				}
			}
			i++
		}
	}
	ec2Six, rrSix := measure()
	if ec2One == 0 || rrOne == 0 || ec2Six != ec2One || rrSix != rrOne {
		t.Errorf("1 subnet per VPC: %d EC2 and %d Resolver calls; 6 subnets per VPC: %d and %d; want equal", ec2One, rrOne, ec2Six, rrSix)
	}
	// Per account-region: one DescribeVpcs, then per VPC a fixed set of calls.
	perVPC := (ec2One - 2*len(testRegions)) / (2 * len(testRegions) * 2)
	if (ec2One-2*len(testRegions))%(2*len(testRegions)*2) != 0 || perVPC > 12 {
		t.Errorf("%d EC2 calls for 8 VPCs in 4 account-regions: not 4 + 8 × a few", ec2One)
	}
}

func cidr(vpc, sub int) string { return fmt.Sprintf("10.%d.%d.0/24", vpc, sub) }

// TestAdaptiveRetry: the clients of an assumed account retry in the SDK's adaptive mode.
func TestAdaptiveRetry(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 1)
	cfg, err := k.opener()(context.Background(), ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Retryer().(*retry.AdaptiveMode); !ok {
		t.Fatalf("retryer %T, want *retry.AdaptiveMode", cfg.Retryer())
	}
	// The account's credentials are the assumed role's, not the launcher's.
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || got.AccessKeyID == "" || got.AccessKeyID == moto.AccessKey || got.SessionToken == "" {
		t.Fatalf("credentials %q (session token %v), %v: want the assumed role's", got.AccessKeyID, got.SessionToken != "", err)
	}
}

// fakeRunner is a LiveRunner that records what it was asked and answers pass for every subnet,
// tracking how many subnets were in flight at once.
type fakeRunner struct {
	mu       sync.Mutex
	runs     [][]string
	groups   [][]string
	inFlight int
	max      int
	err      error
	hold     time.Duration // how long a Run takes, so that runs overlap
}

func (f *fakeRunner) Run(ctx context.Context, subnets, groups []string) (map[string]Live, error) {
	f.mu.Lock()
	f.runs = append(f.runs, slices.Clone(subnets))
	f.groups = append(f.groups, slices.Clone(groups))
	f.inFlight += len(subnets)
	f.max = max(f.max, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight -= len(subnets)
		f.mu.Unlock()
	}()
	time.Sleep(f.hold)
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]Live{}
	for _, s := range subnets {
		out[s] = Live{Verdict: checks.Pass, Services: []report.ServiceReport{{Service: "ecr.api", Host: "api.ecr.eu-west-1.amazonaws.com",
			EndpointService: "com.amazonaws.eu-west-1.ecr.api", EndpointType: "interface", Verdict: checks.Pass, Route: report.RoutePrivate,
			Addresses: []string{"10.0.1.51"}, Checks: []report.CheckReport{{Name: "dns", Status: checks.Pass}}}}}
	}
	return out, nil
}

func (f *fakeRunner) probed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Concat(f.runs...)
}

// shapeWorld builds one VPC: three subnets in zone a on the main route table, one in zone a on
// a route table of its own, one in zone b; it returns the VPC and the subnets in that order.
func shapeWorld(t *testing.T, k *kit, account string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	k.dropDefaultVPC(t, account, moto.Region)
	b := k.vpcs(t, account, moto.Region, 1, 4)
	c := k.ec2In(t, account, moto.Region)
	vpc, subs := b.vpcs[0], b.subnets[0]
	rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(subs[3])}); err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZone: aws.String(moto.Region + "b")})
	if err != nil {
		t.Fatal(err)
	}
	return vpc, append(subs, aws.ToString(s.Subnet.SubnetId))
}

// TestLaunchOnePerShape: five subnets of three shapes (route table, zone) are probed three
// times, each result standing for its shape's subnets (measured_by); --every-subnet probes all
// five. Without s3 no finding names the route table: the shape's own route table tells the
// subnet on its own table apart.
func TestLaunchOnePerShape(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 1)
	_, subs := shapeWorld(t, k, ms[0].ID)
	svcs, err := catalogue.ParseServices("ecr.api,logs")
	if err != nil {
		t.Fatal(err)
	}
	mainA := slices.Clone(subs[:3])
	slices.Sort(mainA)
	for _, every := range []bool{false, true} {
		f := &fakeRunner{}
		rep := Launch(context.Background(), LaunchConfig{Config: Config{Accounts: ms, Regions: []string{moto.Region}, Services: svcs, Open: k.opener()},
			LaunchID: "t1", EverySubnet: every, Runners: func(string, aws.Config) LiveRunner { return f }})
		if err := schematest.Validate(rep.JSON()); err != nil {
			t.Fatalf("schema: %v", err)
		}
		want := []string{mainA[0], subs[3], subs[4]}
		if every {
			want = subs
		}
		if got := f.probed(); !sameSet(got, want) {
			t.Errorf("every=%v: probed %v, want %v", every, got, want)
		}
		if rep.Probes != len(want) {
			t.Errorf("every=%v: probes %d, want %d", every, rep.Probes, len(want))
		}
		rep.Subnets(func(_ *Account, _ *Region, _ *VPC, s *Subnet) {
			wantBy := s.SubnetID
			if !every && slices.Contains(mainA, s.SubnetID) {
				wantBy = mainA[0]
			}
			if s.MeasuredBy != wantBy || s.Verdict != checks.Pass || len(s.Services) != 1 {
				t.Errorf("every=%v: %s measured by %q (verdict %s, %d services), want %s", every, s.SubnetID, s.MeasuredBy, s.Verdict, len(s.Services), wantBy)
			}
		})
		if rep.Verdict != checks.Pass {
			t.Errorf("verdict %s", rep.Verdict)
		}
	}
}

// TestLaunchBounded: with --every-subnet over twelve subnets and at most five probes per
// account-region, no more than five subnets are ever in flight, in batches of at most five.
func TestLaunchBounded(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 1)
	k.dropDefaultVPC(t, ms[0].ID, moto.Region)
	k.vpcs(t, ms[0].ID, moto.Region, 2, 6)
	f := &fakeRunner{hold: 100 * time.Millisecond}
	rep := Launch(context.Background(), LaunchConfig{Config: Config{Accounts: ms, Regions: []string{moto.Region}, Services: services(t), Open: k.opener()},
		LaunchID: "t2", EverySubnet: true, PerRegion: 5, CreateRate: 1000, Runners: func(string, aws.Config) LiveRunner { return f }})
	if got := len(f.probed()); got != 12 || rep.Probes != 12 {
		t.Fatalf("probed %d subnets (report: %d), want 12", got, rep.Probes)
	}
	for _, r := range f.runs {
		if len(r) > 5 {
			t.Errorf("a batch of %d subnets", len(r))
		}
	}
	if f.max > 5 || f.max < 2 {
		t.Errorf("%d subnets in flight at once, want at most 5 (and runs overlapping)", f.max)
	}
	// Each VPC's default group: one group set per VPC, never mixed in one batch.
	if len(f.groups) < 4 {
		t.Errorf("%d batches for two VPCs of six subnets in fives, want at least 4", len(f.groups))
	}
}

// TestLaunchRefused: a runner refused everywhere leaves the account-region untested with the
// action it names, and its subnets skip.
func TestLaunchRefused(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 1)
	k.dropDefaultVPC(t, ms[0].ID, moto.Region)
	k.vpcs(t, ms[0].ID, moto.Region, 1, 2)
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::222222222222:assumed-role/vpcprobe-fleet/vpcprobe-t3 is not authorized to perform: lambda:CreateFunction"}
	f := &fakeRunner{err: ActionError("lambda:CreateFunction", denied)}
	rep := Launch(context.Background(), LaunchConfig{Config: Config{Accounts: ms, Regions: []string{moto.Region}, Services: services(t), Open: k.opener()},
		LaunchID: "t3", Runners: func(string, aws.Config) LiveRunner { return f }})
	if len(rep.Untested) != 1 || rep.Untested[0].Action != "lambda:CreateFunction" || !strings.HasPrefix(rep.Untested[0].Error, "AccessDeniedException:") {
		t.Fatalf("untested = %+v", rep.Untested)
	}
	rep.Subnets(func(_ *Account, _ *Region, _ *VPC, s *Subnet) {
		if s.Verdict != checks.Skip || len(s.Diagnoses) != 1 || s.Diagnoses[0].Error != checks.AccessDenied {
			t.Errorf("%s: verdict %s, diagnoses %+v", s.SubnetID, s.Verdict, s.Diagnoses)
		}
	})
	if rep.Verdict != checks.Skip {
		t.Errorf("verdict %s, want skip", rep.Verdict)
	}
	if err := schematest.Validate(rep.JSON()); err != nil {
		t.Fatalf("schema: %v", err)
	}
}

// TestShapeByFindings: two subnets of one VPC and zone on the same route table, network ACL and
// group are still two shapes when a rule names one's CIDR: the default group, judged as the
// endpoints' group too, allows TCP 443 from 10.0.0.0/24 only, so only 10.0.1.0/24 has
// sg-endpoint-no-ingress-443, and each subnet gets its own probe.
func TestShapeByFindings(t *testing.T) {
	k := newKit(t)
	ms := k.org(t, 1)
	k.dropDefaultVPC(t, ms[0].ID, moto.Region)
	b := k.vpcs(t, ms[0].ID, moto.Region, 1, 2) // 10.0.0.0/24, 10.0.1.0/24
	c := k.ec2In(t, ms[0].ID, moto.Region)
	ctx := context.Background()
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: b.vpcs}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(groups.SecurityGroups) != 1 {
		t.Fatalf("default group: %v", err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: groups.SecurityGroups[0].GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.0.0.0/24")}}}}}); err != nil {
		t.Fatal(err)
	}
	svcs, err := catalogue.ParseServices("ecr.api")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRunner{}
	rep := Launch(ctx, LaunchConfig{Config: Config{Accounts: ms, Regions: []string{moto.Region}, Services: svcs, Open: k.opener()},
		LaunchID: "t4", Runners: func(string, aws.Config) LiveRunner { return f }})
	codes := map[string][]string{}
	rep.Subnets(func(_ *Account, _ *Region, _ *VPC, s *Subnet) {
		for _, fd := range s.Findings {
			codes[s.CIDR] = append(codes[s.CIDR], fd.Code)
		}
	})
	if slices.Contains(codes["10.0.0.0/24"], inspect.CodeSGEndpointIngress) || !slices.Contains(codes["10.0.1.0/24"], inspect.CodeSGEndpointIngress) {
		t.Fatalf("findings %v: the rule should let only 10.0.0.0/24 in", codes)
	}
	if got := f.probed(); !sameSet(got, b.subnets[0]) {
		t.Errorf("probed %v, want both subnets %v: their findings differ", got, b.subnets[0])
	}
}

// TestOrganizationReadsState: Organizations' Status is retired (2026-09-09) and may disagree with
// State; the fleet keeps the accounts whose State is ACTIVE. The answer is ListAccounts' JSON as
// the API documents it (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html:
// State ACTIVE | SUSPENDED | PENDING_CLOSURE | PENDING_ACTIVATION | CLOSED), served on loopback,
// in two pages to exercise the paginator.
func TestOrganizationReadsState(t *testing.T) {
	page := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AWSOrganizationsV20161128.ListAccounts" {
			http.Error(w, "unexpected call", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		page++
		acct := func(id, state, status string) string {
			return `{"Arn":"arn:aws:organizations::123456789012:account/o-exampleorgid/` + id + `","Email":"` + id + `@example.com","Id":"` + id +
				`","JoinedMethod":"CREATED","JoinedTimestamp":1.7e9,"Name":"a` + id + `","State":"` + state + `","Status":"` + status + `"}`
		}
		if page == 1 {
			w.Write([]byte(`{"Accounts":[` + acct("111111111111", "ACTIVE", "ACTIVE") + `,` + acct("222222222222", "SUSPENDED", "ACTIVE") + `],"NextToken":"p2"}`))
			return
		}
		w.Write([]byte(`{"Accounts":[` + acct("333333333333", "PENDING_CLOSURE", "ACTIVE") + `,` + acct("444444444444", "ACTIVE", "SUSPENDED") + `,` +
			acct("555555555555", "CLOSED", "SUSPENDED") + `]}`))
	}))
	defer srv.Close()
	cfg := moto.ConfigFor(srv.URL, nil)
	cfg.Region = "us-east-1"
	got, err := Organization(context.Background(), organizations.NewFromConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if g := ids(got); !slices.Equal(g, []string{"111111111111", "444444444444"}) {
		t.Errorf("accounts %v, want the two whose State is ACTIVE", g)
	}
}
