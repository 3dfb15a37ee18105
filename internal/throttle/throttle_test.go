package throttle

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

func start(t *testing.T, th *Throttle) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = th.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for th.Share() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no share after 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Two processes share one rate: slots taken by both are spaced 1/rate apart.
func TestRateHoldsAcrossThrottles(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	cfg := Config{RatePerSecond: 50, Concurrency: 8, Heartbeat: 50 * time.Millisecond}
	a, b := New(pool, cfg), New(pool, cfg)
	start(t, a)
	start(t, b)
	var mu sync.Mutex
	var times []time.Time
	var wg sync.WaitGroup
	for _, th := range []*Throttle{a, b} {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					s, err := th.Acquire(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					times = append(times, time.Now())
					mu.Unlock()
					s.Release()
				}
			}()
		}
	}
	wg.Wait()
	if len(times) != 80 {
		t.Fatalf("%d sends", len(times))
	}
	first, last := times[0], times[0]
	for _, tm := range times {
		if tm.Before(first) {
			first = tm
		}
		if tm.After(last) {
			last = tm
		}
	}
	// 80 slots 20.1 ms apart span at least 79 intervals, whoever took them.
	if span, want := last.Sub(first), time.Duration(78)*a.interval; span < want-30*time.Millisecond { // one late first wake-up allowed
		t.Fatalf("80 sends in %s; a shared rate of 50/s needs at least %s", span, want)
	}
}

// The concurrency is shared out: two processes never have more than
// Concurrency requests in flight together, and a process that leaves gives
// its share back.
func TestConcurrencyIsShared(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	// A process is counted while its heartbeat is under 3 beats old; with
	// 30 ms beats a test machine under load (CI beside other builds) let
	// one beat slip past 90 ms, the other process took the whole limit,
	// and 4 requests ran at once. 250 ms beats: the test is about sharing,
	// not about how fast a stalled process is written off.
	cfg := Config{Concurrency: 3, Heartbeat: 250 * time.Millisecond}
	a := New(pool, cfg)
	start(t, a)
	if got := a.Share(); got != 3 {
		t.Fatalf("alone: share %d, want 3", got)
	}
	b := New(pool, cfg)
	ctxB, stopB := context.WithCancel(context.Background())
	doneB := make(chan struct{})
	go func() { defer close(doneB); _ = b.Run(ctxB) }()
	waitFor(t, func() bool { return a.Share()+b.Share() == 3 && b.Share() > 0 })
	if a.Share() != 2 || b.Share() != 1 {
		t.Fatalf("shares %d + %d, want 2 + 1 (the older process gets the remainder)", a.Share(), b.Share())
	}

	var inFlight, peak atomic.Int32
	var wg sync.WaitGroup
	for _, th := range []*Throttle{a, b} {
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					s, err := th.Acquire(context.Background())
					if err == nil {
						err = s.Go(context.Background())
					}
					if err != nil {
						t.Error(err)
						return
					}
					n := inFlight.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					time.Sleep(2 * time.Millisecond)
					inFlight.Add(-1)
					s.Release()
				}
			}()
		}
	}
	wg.Wait()
	if peak.Load() > 3 {
		t.Fatalf("%d requests in flight at once; the shared limit is 3", peak.Load())
	}
	stopB()
	<-doneB
	waitFor(t, func() bool { return a.Share() == 3 })
}

// A refused token pauses everyone; after the pause one caller probes, the
// others keep waiting; Resume ends it.
func TestPauseAndProbe(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	th := New(pool, Config{Concurrency: 4, Pause: 200 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	start(t, th)
	ctx := context.Background()
	started, err := th.Pause(ctx, "FP refused the token (HTTP 401)")
	if err != nil || !started {
		t.Fatalf("Pause: %v %v", started, err)
	}
	if again, _ := th.Pause(ctx, "FP refused the token (HTTP 401)"); again {
		t.Fatal("a second Pause reported a new pause")
	}
	_, err = th.Acquire(ctx)
	var w *Wait
	if !errors.As(err, &w) || !w.Paused || w.For <= 0 {
		t.Fatalf("Acquire while paused: %v", err)
	}
	st, _ := ReadState(ctx, pool)
	if st.PausedSince == nil || st.PauseReason == "" {
		t.Fatalf("state while paused: %+v", st)
	}
	time.Sleep(250 * time.Millisecond)
	probe, err := th.Acquire(ctx)
	if err != nil || !probe.Probe {
		t.Fatalf("first Acquire after the pause: %+v %v, want the probe", probe, err)
	}
	probe.Release()
	if _, err := th.Acquire(ctx); !errors.As(err, &w) {
		t.Fatalf("second Acquire during the probe: %v, want to wait", err)
	}
	if resumed, err := th.Resume(ctx); err != nil || !resumed {
		t.Fatalf("Resume: %v %v", resumed, err)
	}
	s, err := th.Acquire(ctx)
	if err != nil || s.Probe {
		t.Fatalf("Acquire after Resume: %+v %v", s, err)
	}
	s.Release()
	if st, _ := ReadState(ctx, pool); st.PausedSince != nil {
		t.Fatalf("still paused: %+v", st)
	}
}

// FP's budget: with none left, nothing is sent before FP's window ends (the
// caller is told to come back); a low budget spreads over the window.
func TestFPBudgetSlowsDown(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	th := New(pool, Config{Concurrency: 2, Heartbeat: 50 * time.Millisecond, MaxWait: 2 * time.Second})
	start(t, th)
	ctx := context.Background()
	remaining := func() int {
		var r int
		if err := pool.QueryRow(ctx, `SELECT fp_remaining FROM fp_throttle`).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	th.Observe(fpclient.RateLimit{Limit: 240, Remaining: 0})
	_, err := th.Acquire(ctx)
	var w *Wait
	if !errors.As(err, &w) || w.Paused || w.For < 50*time.Second {
		t.Fatalf("Acquire with FP's budget spent: %v; want to come back when FP's minute ends", err)
	}
	// A new window (remaining jumps up): 30 requests left for ~60 s is one
	// every ~2 s, so after one request the next slot is about 2 s away.
	th.Observe(fpclient.RateLimit{Limit: 240, Remaining: 30})
	s1, err := th.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s1.Release()
	var gap float64
	if err := pool.QueryRow(ctx, `SELECT extract(epoch FROM next_send_at - clock_timestamp())::float8 FROM fp_throttle`).Scan(&gap); err != nil {
		t.Fatal(err)
	}
	if gap < 1.5 {
		t.Fatalf("next send in %.2f s; with 30 requests left for a minute it should be ~2 s", gap)
	}
	if got := remaining(); got != 29 {
		t.Fatalf("remaining %d after one request of 30; want 29", got)
	}
	// Answers out of order never raise the budget within a window; a jump
	// by more than can be in flight is FP's next window. (Acquire writes
	// what was observed; the slot it asks for is beyond MaxWait here.)
	th.Observe(fpclient.RateLimit{Limit: 240, Remaining: 30})
	th.Acquire(ctx)
	if got := remaining(); got > 29 {
		t.Fatalf("remaining %d after a stale answer; want it to stay at the lower estimate", got)
	}
	th.Observe(fpclient.RateLimit{Limit: 240, Remaining: 239})
	if s, err := th.Acquire(ctx); err == nil {
		s.Release()
	}
	if got := remaining(); got != 238 && got != 239 {
		t.Fatalf("remaining %d after FP's new window; want 239 (238 once a slot is taken)", got)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
