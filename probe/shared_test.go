package probe

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestSharedOutlivesFirstCaller: a shared call started by a caller whose context ends early (a
// short step) still answers a second caller: it runs under the run's context, not the first
// caller's.
func TestSharedOutlivesFirstCaller(t *testing.T) {
	t.Parallel()
	run, endRun := context.WithCancel(context.Background())
	defer endRun()
	run = withRun(run)

	s := newShared[string]()
	release := make(chan struct{})
	first, endFirst := context.WithCancel(run)
	s.start(first, func(ctx context.Context) string {
		<-release // the call is still in flight when its first caller gives up
		if ctx.Err() != nil {
			return "cancelled with its first caller"
		}
		return "answer"
	})
	endFirst()
	if _, ok := s.wait(first); ok {
		t.Fatal("the first caller got an answer after its context ended")
	}
	second, endSecond := context.WithCancel(run)
	defer endSecond()
	s.start(second, func(context.Context) string { return "a second call" }) // runs nothing: started
	close(release)
	if v, ok := s.wait(second); !ok || v != "answer" {
		t.Errorf("second caller got %q, %v; want the call's answer", v, ok)
	}
}

// TestSharedEndsWithRun: the call still ends with the run.
func TestSharedEndsWithRun(t *testing.T) {
	t.Parallel()
	run, endRun := context.WithCancel(context.Background())
	run = withRun(run)
	s := newShared[bool]()
	step, endStep := context.WithCancel(run)
	defer endStep()
	s.start(step, func(ctx context.Context) bool { <-ctx.Done(); return true })
	endRun()
	if v, ok := s.wait(context.Background()); !ok || !v {
		t.Errorf("the call did not end with the run: %v %v", v, ok)
	}
}

// TestRunMarksItsContext: the contexts a run hands its shared calls' callers (here the short
// wait for ecr.dkr's account) derive from a context marked as the run's, so the calls they
// start outlive them.
func TestRunMarksItsContext(t *testing.T) {
	w := newWorld(t, nil)
	p := w.prober("ecr.dkr", time.Second, 5*time.Second)
	p.Account = ""
	var mu sync.Mutex
	marked := false
	p.Identity = func(ctx context.Context) (string, string) {
		if ctx.Err() == nil {
			mu.Lock()
			marked = runOf(ctx) != ctx && runOf(ctx).Err() == nil
			mu.Unlock()
		}
		return "123456789012", ""
	}
	p.Run(context.Background(), time.Now())
	mu.Lock()
	defer mu.Unlock()
	if !marked {
		t.Error("the account wait's context does not derive from the run's marked context")
	}
}
