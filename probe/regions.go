package probe

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// Elsewhere is what a task needs in a region other than the run's: those services are probed
// there too (DNS, TCP, TLS and the unsigned HTTP check; the authenticated calls use the run's own
// region's clients and are not made), each report entry naming its region.
type Elsewhere struct {
	Region   string
	Services []catalogue.Service
}

// ParseElsewhere reads one --other-region value: REGION:KEY[+KEY...], such as
// "us-west-2:ecr.api+ecr.dkr+s3" (the keys are --services keys; "+" because a repeatable
// setting's variable is a comma-separated list).
func ParseElsewhere(v string) (Elsewhere, error) {
	region, list, ok := strings.Cut(strings.TrimSpace(v), ":")
	if !ok || region == "" || list == "" {
		return Elsewhere{}, fmt.Errorf("%q: want REGION:KEY[+KEY...], such as us-west-2:ecr.api+ecr.dkr+s3", v)
	}
	if err := catalogue.CheckRegion(region); err != nil {
		return Elsewhere{}, fmt.Errorf("%q: %w", v, err)
	}
	svcs, err := catalogue.ParseServices(strings.ReplaceAll(list, "+", ","))
	if err != nil {
		return Elsewhere{}, fmt.Errorf("%q: %w", v, err)
	}
	return Elsewhere{Region: region, Services: svcs}, nil
}

// String is the --other-region form of e.
func (e Elsewhere) String() string {
	keys := make([]string, len(e.Services))
	for i, s := range e.Services {
		keys[i] = s.Key
	}
	return e.Region + ":" + strings.Join(keys, "+")
}

// elsewhere starts the checks of every other region's service, as Run does its own, and returns
// their states (in report order: after the run's own services, by region as given).
func (p *Prober) elsewhere(ctx context.Context, wg *sync.WaitGroup, account string) []*state {
	var out []*state
	for _, e := range p.Elsewhere {
		if e.Region == "" || e.Region == p.Region {
			continue
		}
		for _, svc := range e.Services {
			st := &state{svc: svc, host: svc.Host(e.Region, account), region: e.Region, plan: []string{"dns", "tcp", "tls", "http"}}
			out = append(out, st)
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.probe(ctx, st, account)
			}()
		}
	}
	return out
}

// elsewhereJudgement adds to the judgement of another region's service what reaching it from home
// takes: a cross-region interface endpoint (for the services cross-region PrivateLink serves),
// or a way out, since the others cannot be reached privately from here; and an image's layers
// from that region's bucket, which no endpoint here serves.
func elsewhereJudgement(j judgement, svc catalogue.Service, region, home string) judgement {
	if j.verdict != checks.Fail && j.verdict != checks.Warn {
		return j
	}
	switch {
	case svc.Gateway:
		j.diagnosis += fmt.Sprintf(" This is %s's layer bucket, needed by an image from %s's registry: no gateway endpoint serves another region's bucket and ECR cannot use an S3 interface endpoint, so from %s it is never private.", region, region, home)
		j.remediation = fmt.Sprintf("Replicate the image into %s's registry (ECR cross-region replication) and pull it there, or keep a NAT path for %s.", home, catalogue.LayerBucket(region))
	case svc.CrossRegion():
		j.remediation = fmt.Sprintf("Create in this VPC (%s) a cross-region interface endpoint for %s with private DNS: aws ec2 create-vpc-endpoint --region %s --vpc-endpoint-type Interface --service-name %s --service-region %s --private-dns-enabled --vpc-id … --subnet-ids … --security-group-ids …; or keep a NAT path.",
			home, svc.EndpointService(region), home, svc.EndpointService(region), region)
	default:
		j.diagnosis += fmt.Sprintf(" Cross-region PrivateLink does not serve %s: from %s it can be reached only over public addresses.", svc.EndpointService(region), home)
		j.remediation = fmt.Sprintf("Keep a NAT path for %s, or use %s in %s instead (replicate the secret, copy the parameter, log to a group in %s).", svc.Host(region, ""), svc.Key, home, home)
	}
	return j
}
