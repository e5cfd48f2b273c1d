package probe

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/fakeaws"
)

// TestFetchInstanceIdentityDocument: the instance's id, account, region, zone and private IP
// come from one read of the instance identity document (/latest/dynamic/instance-identity/
// document, EC2 user guide "Instance identity documents"), not one request per field; only the
// network paths, which the document does not hold, are asked one by one. Issue 17, item 6.
func TestFetchInstanceIdentityDocument(t *testing.T) {
	in := testInstance()
	in.Account = "210987654321"
	m := &fakeaws.IMDS{Instance: in}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	got, err := FetchInstance(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got.Account != "210987654321" || got.ID != "i-0lab" || got.Region != "eu-west-1" || got.AvailabilityZone != "eu-west-1a" || got.PrivateIP != "10.0.1.17" {
		t.Errorf("%+v", got)
	}
	gets := m.Gets()
	if n := len(slices.DeleteFunc(slices.Clone(gets), func(p string) bool { return p != identityDocument })); n != 1 {
		t.Errorf("identity document read %d times, want once: %q", n, gets)
	}
	for _, field := range []string{"/latest/meta-data/instance-id", "/latest/meta-data/placement/region", "/latest/meta-data/placement/availability-zone", "/latest/meta-data/local-ipv4"} {
		if slices.Contains(gets, field) {
			t.Errorf("asked %s, which the identity document holds: %q", field, gets)
		}
	}
	if m.TokenRequests() != 1 {
		t.Errorf("%d token requests, want 1", m.TokenRequests())
	}
}

const identityDocument = "/latest/dynamic/instance-identity/document"

// TestRunOnInstanceKnowsTheAccount: on an instance without credentials (no STS path), ecr.dkr's
// registry is the identity document's account, not skipped with "pass --account".
func TestRunOnInstanceKnowsTheAccount(t *testing.T) {
	w := newWorld(t, nil)
	in := testInstance()
	in.Account = testAccount
	m := &fakeaws.IMDS{Instance: in}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	p := w.prober("ecr.dkr", time.Second, 5*time.Second)
	p.Account = "" // nothing names it: not a flag, not a task ARN, no STS
	p.ECSCluster = "prod"
	p.Instance = func(ctx context.Context) (Instance, error) { return FetchInstance(ctx, srv.URL) }
	rep := checkedRun(t, p, time.Now())
	s := serviceOf(t, rep, "ecr.dkr")
	if s.Verdict != checks.Pass || s.Host != testAccount+".dkr.ecr.eu-west-1.amazonaws.com" {
		t.Errorf("ecr.dkr %s host %q: %s", s.Verdict, s.Host, rep.Text(false))
	}
	if rep.Context.Account != testAccount {
		t.Errorf("context account %q", rep.Context.Account)
	}
}
