package throttle

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/testdb"
)

// While an answer is held, nothing new goes out: Acquire says come back
// later, and a request with its attempt committed waits in Go until the
// answer is released.
func TestHoldAnswerStopsSending(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	th := New(pool, Config{Concurrency: 2, Heartbeat: 50 * time.Millisecond})
	start(t, th)
	ctx := context.Background()
	staged, err := th.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	release := th.HoldAnswer(Answer{OrderID: 1, OrderRef: "R-1", Outcome: "created", FPOrderUUID: "ODR1"})
	var wait *Wait
	if _, err := th.Acquire(ctx); !errors.As(err, &wait) || !wait.Holding {
		t.Fatalf("Acquire while holding: %v, want a Wait for the held answer", err)
	}
	gone := make(chan error, 1)
	go func() { gone <- staged.Go(ctx) }()
	select {
	case err := <-gone:
		t.Fatalf("Go returned (%v) while an answer was held", err)
	case <-time.After(300 * time.Millisecond):
	}
	if got := th.Held(); len(got) != 1 || got[0].FPOrderUUID != "ODR1" {
		t.Fatalf("Held: %+v", got)
	}
	release()
	release() // twice is harmless
	select {
	case err := <-gone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Go still waiting after the answer was released")
	}
	staged.Release()
	if th.Holding() != 0 {
		t.Fatalf("Holding: %d after release", th.Holding())
	}
	s, err := th.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	s.Release()
}

// A sender is taken to hold its open attempt while it says so (holding > 0,
// recent heartbeat); this process knows its own attempts exactly; an
// attempt without sender (an earlier version) is never held.
func TestSenderAlive(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	th := New(pool, Config{Concurrency: 2, Heartbeat: 50 * time.Millisecond, HoldGrace: 5 * time.Second})
	ctx := context.Background()
	alive := func(sender string, attemptID int64) bool {
		t.Helper()
		ok, err := th.SenderAlive(ctx, pool, sender, attemptID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	var recentStart bool
	if err := pool.QueryRow(ctx, `SELECT pg_postmaster_start_time() > now() - interval '5 seconds'`).Scan(&recentStart); err != nil {
		t.Fatal(err)
	}
	if recentStart {
		t.Skip("the server started less than the grace ago: every sender counts as alive")
	}
	if alive("", 1) {
		t.Error("an attempt without sender was taken for held")
	}
	untrack := th.Track(7)
	if !alive(th.ID(), 7) || alive(th.ID(), 8) {
		t.Error("own attempts: want 7 (tracked) held, 8 not")
	}
	untrack()
	if alive(th.ID(), 7) {
		t.Error("own attempt 7 held after its run ended")
	}
	for _, c := range []struct {
		holding int
		age     string
		want    bool
	}{{1, "0 seconds", true}, {0, "0 seconds", false}, {1, "1 minute", false}} {
		if _, err := pool.Exec(ctx, `INSERT INTO fp_senders (id, holding, seen_at) VALUES ('other', $1, now() - $2::interval)
			ON CONFLICT (id) DO UPDATE SET holding = $1, seen_at = now() - $2::interval`, c.holding, c.age); err != nil {
			t.Fatal(err)
		}
		if got := alive("other", 1); got != c.want {
			t.Errorf("holding %d, heartbeat %s old: alive %v, want %v", c.holding, c.age, got, c.want)
		}
	}
	// After an outage of its own, this process takes every sender for alive
	// for the grace.
	th.DatabaseAway()
	if !alive("other", 1) {
		t.Error("a stale sender judged dead while this process itself had lost the database")
	}
}
