package probe

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/internal/awstest"
	"github.com/vpcprobe/vpcprobe/report"
)

// TestRunElsewhere: the services a task needs in another region are probed there too, at that
// region's host names, with their network checks only, each entry naming its region; one that
// cross-region PrivateLink does not serve says so when it fails.
func TestRunElsewhere(t *testing.T) {
	awstest.IsolateSDK(t)
	const other = "us-west-2"
	var hosts []string
	for _, s := range catalogue.All() {
		hosts = append(hosts, s.Host(testRegion, testAccount))
	}
	reachable := []string{"ecr.api", "ecr.dkr"}
	for _, k := range reachable {
		s, _ := catalogue.Lookup(k)
		hosts = append(hosts, s.Host(other, testAccount))
	}
	zone := awstest.Zone(hosts...) // logs and s3 of us-west-2 do not resolve: NXDOMAIN
	w := &world{zone: zone, resolver: awstest.Resolver(t, zone), front: awstest.Front(t, http.HandlerFunc(awstest.Unsigned), hosts...)}
	p := w.prober("logs", time.Second, 5*time.Second)
	e, err := ParseElsewhere(other + ":ecr.api+ecr.dkr+logs+s3")
	if err != nil {
		t.Fatal(err)
	}
	p.Elsewhere = []Elsewhere{e}
	rep := checkedRun(t, p, time.Now())
	got := map[string]report.ServiceReport{}
	for _, s := range rep.Services {
		if s.Region == other {
			got[s.Service] = s
		} else if s.Region != "" || s.Service != "logs" {
			t.Errorf("unexpected entry %s in %q", s.Service, s.Region)
		}
	}
	for _, k := range reachable {
		s, ok := got[k]
		svc, _ := catalogue.Lookup(k)
		if !ok || s.Verdict != checks.Pass || s.Host != svc.Host(other, testAccount) || s.EndpointService != svc.EndpointService(other) {
			t.Errorf("%s in %s: %+v", k, other, s)
		}
		for _, c := range s.Checks {
			if !strings.Contains("dns tcp tls http", c.Name) {
				t.Errorf("%s in %s ran %s: only the network checks run in another region", k, other, c.Name)
			}
		}
	}
	if s := got["logs"]; s.Verdict != checks.Fail || !strings.Contains(s.Diagnosis, "Cross-region PrivateLink does not serve") {
		t.Errorf("logs in %s: %s %s", other, s.Verdict, s.Diagnosis)
	}
	if s := got["s3"]; s.Verdict != checks.Fail || !strings.Contains(s.Diagnosis, "never private") {
		t.Errorf("s3 in %s: %s %s", other, s.Verdict, s.Diagnosis)
	}
	if rep.Verdict != checks.Fail {
		t.Errorf("verdict %s: another region's failure counts", rep.Verdict)
	}
}

// TestParseElsewhere: REGION:KEY[+KEY...].
func TestParseElsewhere(t *testing.T) {
	e, err := ParseElsewhere("us-west-2:ecr.api+s3")
	if err != nil || e.Region != "us-west-2" || len(e.Services) != 2 || e.String() != "us-west-2:ecr.api+s3" {
		t.Errorf("ParseElsewhere = %+v, %v", e, err)
	}
	for _, bad := range []string{"us-west-2", ":ecr.api", "us-west-2:", "nowhere-1:ecr.api", "us-west-2:ecr.nope"} {
		if _, err := ParseElsewhere(bad); err == nil {
			t.Errorf("ParseElsewhere(%q) accepted", bad)
		}
	}
}
