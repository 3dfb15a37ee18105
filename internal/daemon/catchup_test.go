package daemon_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// waitOrderStatus waits until the order is in want, for up to a minute.
func (s *stack) waitOrderStatus(t *testing.T, id int64, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var st string
		err := s.Pool.QueryRow(context.Background(), `SELECT status FROM orders WHERE id = $1`, id).Scan(&st)
		if err == nil && st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %d is %q (%v) after a minute, want %s", id, st, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// catchupJobs lists the reasons of the catch-up polls queued.
func (s *stack) catchupJobs(t *testing.T) []string {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT args->>'reason' FROM river_job WHERE kind = 'catchup_poll' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The database goes away; FP's PAID callback is refused (503) and FP gives
// up on it. Once the database is back, the worker asks FP for the orders
// that could have been called back meanwhile, soon (the daily status poll
// is a day away), and the order becomes paid.
func TestCatchupAfterRefusedCallbacks(t *testing.T) {
	t.Parallel()
	outage, dbURL := testdb.NewOutage(t, testdb.URL(t))
	daemontest.WithOptions(t, daemontest.Options{DBURL: dbURL})
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks, CallbackRetries: -1})
	id, uuid := s.submittedInvoice(t)
	if got := s.catchupJobs(t); len(got) != 0 {
		t.Fatalf("catch-up polls before any outage: %v", got)
	}

	outage.Down()
	if err := s.Sim.SetStatus(context.Background(), uuid, "PAID"); err == nil {
		t.Fatal("the callback was taken while the database was down")
	}
	if n := s.statusRequests()[uuid]; n != 0 {
		t.Fatalf("FP asked %d times before the database is back", n)
	}
	if err := outage.Up(); err != nil {
		t.Fatal(err)
	}

	s.waitOrderStatus(t, id, "paid")
	if got := s.catchupJobs(t); len(got) != 1 || got[0] != "callbacks refused" {
		t.Errorf("catch-up polls %v, want one for the refused callbacks", got)
	}
	if n := s.statusRequests()[uuid]; n != 1 {
		t.Errorf("FP asked %d times, want 1", n)
	}
}

// No worker ran for ten minutes (every heartbeat is that old): FP's
// callbacks of that time went nowhere. The next worker to start asks FP for
// the orders open then, and the one paid meanwhile becomes paid. A restart
// within a few heartbeats is no gap.
func TestCatchupAfterWorkerDowntime(t *testing.T) {
	t.Parallel()
	s := newStack(t, fpfake.Config{Plan: fpfake.NoCallbacks}, nil)
	ctx, stopFirst := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.D.Serve(ctx) }()
	id, uuid := s.submittedInvoice(t)
	stopFirst()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if got := s.catchupJobs(t); len(got) != 0 {
		t.Fatalf("catch-up polls after a first start: %v", got)
	}

	// Restarted at once: no gap, nothing to ask.
	second := s.startAnotherDaemon(t)
	second.stop(t)
	if got := s.catchupJobs(t); len(got) != 0 {
		t.Fatalf("catch-up polls after a quick restart: %v", got)
	}

	// FP's PAID went nowhere while no worker ran.
	if err := s.Sim.LoseCallback(uuid, "PAID"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(context.Background(), `UPDATE workers_alive SET beat_at = now() - interval '10 minutes'`); err != nil {
		t.Fatal(err)
	}
	third := s.startAnotherDaemon(t)
	defer third.stop(t)
	s.waitOrderStatus(t, id, "paid")
	if got := s.catchupJobs(t); len(got) != 1 || got[0] != "no worker running" {
		t.Errorf("catch-up polls %v, want one for the gap", got)
	}
	if n := s.statusRequests()[uuid]; n != 1 {
		t.Errorf("FP asked %d times, want 1", n)
	}
}

type runningDaemon struct {
	cancel context.CancelFunc
	served chan error
}

// startAnotherDaemon starts a worker on the stack's database and
// configuration, as another `worker run` would be, and waits until its
// first heartbeat check is done.
func (s *stack) startAnotherDaemon(t *testing.T) *runningDaemon {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(context.Background(), s.Cfg, s.Pool, daemontest.Logger(t), ln)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningDaemon{cancel: cancel, served: make(chan error, 1)}
	go func() { r.served <- d.Serve(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM workers_alive WHERE worker_id = $1`, daemon.WorkerID(d)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker wrote no heartbeat in 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *runningDaemon) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.served; err != nil {
		t.Errorf("serve: %v", err)
	}
}
