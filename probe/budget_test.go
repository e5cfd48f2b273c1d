package probe

import (
	"testing"
	"time"
)

// TestBudgetsFit proves the nested budgets add up: the probe, delivery, the cancellation grace
// and the output reserve fit inside --deadline for every legal --timeout/--deadline pair, so
// CONTRACT.md's "ends within --deadline plus one second" holds by construction.
func TestBudgetsFit(t *testing.T) {
	for _, timeout := range []time.Duration{100 * time.Millisecond, time.Second, 5 * time.Second, 30 * time.Second} {
		for _, deadline := range []time.Duration{timeout, 2 * timeout, 60 * time.Second, 10 * time.Minute} {
			if deadline < timeout {
				continue
			}
			for _, deliver := range []bool{false, true} {
				b := Plan(timeout, deadline, deliver)
				total := b.Probe + b.Delivery + cancelGrace + outputReserve
				if b.Probe > 0 && total > deadline {
					t.Errorf("timeout %s deadline %s deliver %v: %s > deadline", timeout, deadline, deliver, total)
				}
				if b.Delivery > deadline/3 {
					t.Errorf("delivery %s takes more than a third of %s", b.Delivery, deadline)
				}
				if deliver && b.Delivery == 0 {
					t.Errorf("no delivery budget for %s/%s", timeout, deadline)
				}
				if deadline >= 10*timeout && b.Probe < deadline/2 {
					t.Errorf("probe budget %s is less than half of %s", b.Probe, deadline)
				}
			}
		}
	}
	// The defaults leave the checks several steps.
	if b := Plan(5*time.Second, 60*time.Second, true); b.Probe < 40*time.Second || b.Delivery != 10*time.Second {
		t.Errorf("defaults: %+v", b)
	}
	if maxSecondOpinion > 5*time.Second/2 {
		t.Errorf("the second opinion may hold a default run for %s", maxSecondOpinion)
	}
	if s := transportSlack(5 * time.Second); s <= 0 || s > maxTransportSlack {
		t.Errorf("slack %s", s)
	}
}
