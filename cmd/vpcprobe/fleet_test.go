package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/fleet"
	"github.com/vpcprobe/vpcprobe/internal/moto"
)

// motoVPC creates a VPC of subnets (CIDR → zone) in account through moto's AssumeRole and
// returns its id and the subnets' ids.
func motoVPC(t *testing.T, srv *moto.Server, account string, subnets [][2]string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	cfg := srv.Config(nil)
	cfg.RetryMaxAttempts = 1
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(srv.Config(nil)), fleet.RoleARN("aws", account, "builder")))
	c := ec2.NewFromConfig(cfg)
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range subnets {
		out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(s[0]), AvailabilityZone: aws.String(s[1])})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.Subnet.SubnetId))
	}
	return aws.ToString(v.Vpc.VpcId), ids
}

// TestInspectFleetCommand: inspect --organization and --accounts against moto, through assumed
// roles: the fleet document (schema-checked), the health map, the text view, exit 3 when no role
// can be assumed (an STS answering AccessDenied), and exit 2 for every bad combination.
func TestInspectFleetCommand(t *testing.T) {
	srv := moto.Start(t)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	ctx := context.Background()
	oc := organizations.NewFromConfig(srv.Config(nil))
	if _, err := oc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	var accounts, vpcs []string
	subnets := map[string]bool{}
	for _, name := range []string{"payments", "search"} {
		out, err := oc.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		v, subs := motoVPC(t, srv, id, [][2]string{{"10.0.1.0/24", moto.Region + "a"}, {"10.0.2.0/24", moto.Region + "b"}})
		accounts, vpcs = append(accounts, id), append(vpcs, v)
		for _, s := range subs {
			subnets[s] = true
		}
	}
	getenv := env("AWS_REGION", moto.Region)

	var stdout, stderr bytes.Buffer
	code := run([]string{"inspect", "--organization", "--vpcs", strings.Join(vpcs, ","), "--output", "json"}, getenv, &stdout, &stderr)
	if code != exitFail { // no endpoint, no way out: the configuration fails
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	checkDocuments(t, stdout.Bytes())
	var rep fleet.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	rep.Subnets(func(a *fleet.Account, _ *fleet.Region, _ *fleet.VPC, s *fleet.Subnet) {
		seen[s.SubnetID] = true
		if s.Verdict != checks.Fail || s.GroupsFrom != fleet.GroupsVPCDefault {
			t.Errorf("%s/%s: verdict %s, groups from %s", a.Account, s.SubnetID, s.Verdict, s.GroupsFrom)
		}
	})
	if len(seen) != len(subnets) || rep.Schema != fleet.Schema || len(rep.Untested) != 0 {
		t.Errorf("subnets %v, want %v; untested %+v", seen, subnets, rep.Untested)
	}

	stdout.Reset()
	code = run([]string{"inspect", "--accounts", accounts[0], "--vpcs", vpcs[0], "--output", "html"}, getenv, &stdout, &stderr)
	page := stdout.String()
	if code != exitFail || !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, `data-account="`+accounts[0]+`"`) || strings.Contains(page, accounts[1]) {
		t.Errorf("html: exit %d, page head %.200q", code, page)
	}
	// One subnet of the caller's own account: the same map, one row.
	_, own := motoVPC(t, srv, "123456789012", [][2]string{{"10.0.7.0/24", moto.Region + "a"}})
	stdout.Reset()
	code = run([]string{"inspect", "--subnet", own[0], "--output", "html"}, getenv, &stdout, &stderr)
	if page := stdout.String(); code != exitFail || strings.Count(page, `<tr class="subnet"`) != 1 || !strings.Contains(page, `data-subnet="`+own[0]+`" data-verdict="fail"`) {
		t.Errorf("inspect --subnet --output html: exit %d, page %.300q", code, page)
	}
	stdout.Reset()
	code = run([]string{"inspect", "--accounts", accounts[1], "--all-subnets", "--output", "text"}, getenv, &stdout, &stderr)
	if code != exitFail || !strings.Contains(stdout.String(), "endpoint-missing") || !strings.Contains(stdout.String(), accounts[1]) {
		t.Errorf("text: exit %d:\n%s", code, stdout.String())
	}

	// STS refusing every AssumeRole (its real error document): nothing read, exit 3.
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
			`<Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::` + accounts[0] + `:role/vpcprobe-fleet</Message></Error>` +
			`<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>`))
	}))
	defer deny.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", deny.URL)
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"inspect", "--accounts", accounts[0], "--all-subnets", "--output", "json"}, getenv, &stdout, &stderr)
	if code != exitUntested || !strings.Contains(stderr.String(), "sts:AssumeRole: AccessDenied") {
		t.Errorf("denied: exit %d, want 3; stderr:\n%s", code, stderr.String())
	}
	checkDocuments(t, stdout.Bytes())

	for _, args := range [][]string{
		{"inspect", "--organization", "--accounts", accounts[0], "--all-subnets"},
		{"inspect", "--accounts", accounts[0]},
		{"inspect", "--accounts", "1234", "--all-subnets"},
		{"inspect", "--subnet", "subnet-0a1b2c3d", "--all-subnets"},
		{"inspect", "--all-subnets", "--vpcs", vpcs[0]},
		{"inspect", "--all-subnets", "--regions", "mars-1"},
		{"inspect", "--all-subnets", "--output", "yaml"},
		{"launch", "--all-subnets", "--cluster", "c", "--task-definition", "td"},
		{"launch", "--runner", "lambda", "--all-subnets", "--subnets", "subnet-0a1b2c3d"},
		{"launch", "--runner", "lambda", "--all-subnets", "--lambda-role", testLambdaRole},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := run(args, getenv, &stdout, &stderr); code != exitUsage || stdout.Len() > 0 || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, want 2 and one line; stderr %q", args, code, stderr.String())
		}
	}
}

// TestLaunchFleetLambda: launch --runner lambda --vpcs in the caller's account, end to end: the
// VPC read from moto, the functions created, run (this binary in Lambda mode) and deleted by
// fakeaws's Lambda; two shapes (zones) of three subnets take two functions, and each subnet
// says which probe stands for it.
func TestLaunchFleetLambda(t *testing.T) {
	srv := moto.Start(t)
	fake, _, w := fakeAWS(t) // Lambda and STS; moto is EC2 and Route 53 Resolver
	t.Setenv("AWS_ENDPOINT_URL_EC2", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_ROUTE53RESOLVER", srv.URL)
	lambdaSandbox(t, fake)
	vpc, subs := motoVPC(t, srv, "123456789012", [][2]string{{"10.0.1.0/24", moto.Region + "a"}, {"10.0.2.0/24", moto.Region + "a"}, {"10.0.3.0/24", moto.Region + "b"}})
	args := lambdaArgs(t, "x")
	args = append(args[:3:3], args[5:]...) // no --subnets: the fleet's
	for i, a := range args {
		if a == "--lambda-role" { // each account's own role, by name
			args[i], args[i+1] = "--lambda-role-name", "vpcprobe-lambda"
		}
	}
	args = append(args, "--vpcs", vpc)
	code, out, errs := launchCmd(t, w, env(), args...)
	if code != exitFail { // ecr.api does not resolve: measured, and failed
		t.Fatalf("exit %d, want 1; stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	var rep fleet.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Probes != 2 || rep.Mode != fleet.ModeLaunch {
		t.Errorf("probes %d (mode %s), want 2: one per shape", rep.Probes, rep.Mode)
	}
	by := map[string]string{}
	rep.Subnets(func(_ *fleet.Account, _ *fleet.Region, _ *fleet.VPC, s *fleet.Subnet) {
		by[s.SubnetID] = s.MeasuredBy
		if s.Verdict != checks.Fail || len(s.Services) != 1 || s.Services[0].Error != checks.NXDomain {
			t.Errorf("%s: verdict %s, services %+v, diagnoses %+v", s.SubnetID, s.Verdict, s.Services, s.Diagnoses)
		}
	})
	first := min(subs[0], subs[1])
	if by[subs[0]] != first || by[subs[1]] != first || by[subs[2]] != subs[2] {
		t.Errorf("measured by %v; want %s for both zone-a subnets and itself for %s", by, first, subs[2])
	}
	if created := fake.FunctionsCreated(); len(created) != 2 {
		t.Errorf("functions created %v, want 2", created)
	}
	if left := fake.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}

	// One subnet, --output html: the launch report as a map of one row, measured by itself.
	one := lambdaArgs(t, "subnet-0000000a")
	one[len(one)-1] = "html"
	code, out, errs = launchCmd(t, w, env(), one...)
	if code != exitFail || strings.Count(out, `<tr class="subnet"`) != 1 || !strings.Contains(out, `data-subnet="subnet-0000000a" data-verdict="fail"`) ||
		!strings.Contains(out, `data-hop="resolver"`) {
		t.Errorf("launch --subnets --output html: exit %d, stderr %s, page %.300q", code, errs, out)
	}
}
