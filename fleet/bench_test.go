package fleet

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// BenchmarkInspectFleet inspects fleets of accounts × 2 regions × 5 VPCs × 10 subnets in moto,
// through an assumed role per account: 200 subnets (2 accounts) and 2,000 (20 accounts). It
// reports the wall time of one run, the peak heap while it ran, and the EC2, Resolver and STS
// calls, which grow with account-regions and VPCs, not subnets. Building the fleet in moto (a
// few minutes for 2,000 subnets) is outside the timer. Run it with
//
//	go test -run '^$' -bench InspectFleet -benchtime 1x ./fleet/
func BenchmarkInspectFleet(b *testing.B) {
	for _, accounts := range []int{2, 20} {
		const vpcs, subnets = 5, 10
		n := accounts * len(testRegions) * vpcs * subnets
		b.Run(fmt.Sprintf("subnets=%d", n), func(b *testing.B) {
			k := newKit(b)
			ms := k.org(b, accounts)
			var wg sync.WaitGroup
			for _, m := range ms {
				for _, r := range testRegions {
					wg.Add(1)
					go func() { // moto serves requests concurrently; a fleet of 2,000 builds in minutes
						defer wg.Done()
						k.dropDefaultVPC(b, m.ID, r)
						k.vpcs(b, m.ID, r, vpcs, subnets)
					}()
				}
			}
			wg.Wait()
			c := Config{Accounts: ms, Regions: testRegions, Services: services(b), Open: k.opener()}
			b.ResetTimer()
			for range b.N {
				k.calls.reset()
				runtime.GC()
				stop := peakHeap()
				start := time.Now()
				rep := Inspect(context.Background(), c)
				wall := time.Since(start)
				peak := stop()
				got := 0
				rep.Subnets(func(*Account, *Region, *VPC, *Subnet) { got++ })
				if got != n || len(rep.Untested) > 0 {
					b.Fatalf("%d subnets read, want %d; untested %+v", got, n, rep.Untested)
				}
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(k.calls.service("EC2")), "ec2-calls")
				b.ReportMetric(float64(k.calls.service("Route53Resolver")), "resolver-calls")
				b.ReportMetric(float64(k.calls.service("STS")), "sts-calls")
				b.Logf("%d subnets (%d accounts × %d regions × %d VPCs × %d): %.1f s, peak heap %.1f MiB, %d EC2 + %d Resolver + %d STS calls",
					n, accounts, len(testRegions), vpcs, subnets, wall.Seconds(), float64(peak)/(1<<20),
					k.calls.service("EC2"), k.calls.service("Route53Resolver"), k.calls.service("STS"))
			}
		})
	}
}

// peakHeap samples the live heap (runtime/metrics) every 5 ms until the returned function is
// called, which returns the highest sample.
func peakHeap() func() uint64 {
	done := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}
