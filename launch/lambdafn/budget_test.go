package lambdafn

import (
	"testing"
	"time"
)

// TestBudget: the run ends before the invocation's deadline, whatever --deadline says.
func TestBudget(t *testing.T) {
	tests := []struct {
		name                     string
		timeout, deadline, left  time.Duration
		wantTimeout, wantDeadine time.Duration
	}{
		{"deadline first", 5 * time.Second, 60 * time.Second, 70 * time.Second, 5 * time.Second, 60 * time.Second},
		{"invocation first", 5 * time.Second, 60 * time.Second, 10 * time.Second, 5 * time.Second, 10*time.Second - Margin},
		{"timeout shrinks", 5 * time.Second, 60 * time.Second, 3 * time.Second, 3*time.Second - Margin, 3*time.Second - Margin},
		{"no time", 5 * time.Second, 60 * time.Second, Margin / 2, 0, -Margin / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to, dl := Budget(tt.timeout, tt.deadline, tt.left)
			if to != tt.wantTimeout || dl != tt.wantDeadine {
				t.Errorf("Budget = %s, %s; want %s, %s", to, dl, tt.wantTimeout, tt.wantDeadine)
			}
		})
	}
}
