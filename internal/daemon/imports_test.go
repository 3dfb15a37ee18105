package daemon_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// Two worker processes on one database, both with the schedule: River's
// leader inserts each slot's import job once, a file is imported once, and
// when the leader stops the other process takes over the schedule, still
// one job per slot.
func TestScheduledImportOncePerSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	sim := fpfake.New(fpfake.Config{Token: "test-token", Plan: fpfake.NoCallbacks})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	put := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("a.csv", daemontest.CorporateCSV("S-1", "S-2"))
	loc, _ := time.LoadLocation("Europe/Oslo")
	// Every second: robfig's @every gives whole-second slots, so each slot is
	// the same instant for both processes.
	sched, spec, err := jobs.ParseSchedule("@every 1s")
	if err != nil {
		t.Fatal(err)
	}

	type proc struct {
		d    *daemon.Daemon
		pool *pgxpool.Pool
		stop func()
	}
	var procs []*proc
	for range 2 {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg := &daemon.Config{
			FPBaseURL: simURL, FPToken: "test-token", ListenAddr: ln.Addr().String(),
			CallbackBaseURL: "http://" + ln.Addr().String(), CallbackSecret: "test-callback-secret-0123456789",
			SuccessURL: "https://shop.example.no/ok", FailureURL: "https://shop.example.no/fail",
			Concurrency: 2, FPTimeout: 5 * time.Second, Location: loc,
			ImportSchedule: spec, ImportCron: sched, InboxDir: dir, ImportKind: fpclient.KindInvoice,
		}
		d, err := daemon.New(ctx, cfg, pool, daemontest.Logger(t), ln)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		served := make(chan error, 1)
		go func() { served <- d.Serve(runCtx) }()
		p := &proc{d: d, pool: pool}
		stopped := false
		p.stop = func() {
			if !stopped {
				stopped = true
				cancel()
				if err := <-served; err != nil {
					t.Errorf("serve: %v", err)
				}
			}
		}
		t.Cleanup(p.stop)
		procs = append(procs, p)
	}
	db := procs[1].pool
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	processed := func(name string) func() bool {
		return func() bool {
			_, err := os.Stat(filepath.Join(dir, "processed", name))
			return err == nil
		}
	}
	completed := func() int {
		return count(`SELECT count(*) FROM river_job WHERE kind = 'scheduled_import' AND state = 'completed'`)
	}

	began := time.Now()
	waitFor("a.csv imported", processed("a.csv"))
	t.Logf("%s: a.csv imported", time.Since(began))
	n := completed()
	waitFor("three more scheduled runs", func() bool { return completed() >= n+3 })

	// Stop the leader; the other process takes over the schedule.
	var leader string
	if err := db.QueryRow(ctx, `SELECT leader_id FROM river_leader`).Scan(&leader); err != nil {
		t.Fatal(err)
	}
	survivor := -1
	for i, p := range procs {
		if p.d.River().ID() == leader {
			p.stop()
		} else {
			survivor = i
		}
	}
	if survivor < 0 {
		t.Fatalf("no process is not the leader %q", leader)
	}
	t.Logf("%s: leader stopped", time.Since(began))
	put("b.csv", daemontest.CorporateCSV("S-3"))
	waitFor("b.csv imported after the change of leader", processed("b.csv"))
	n = completed()
	t.Logf("%s: b.csv imported by the new leader", time.Since(began))
	waitFor("two more scheduled runs", func() bool { return completed() >= n+2 })
	t.Logf("%s: %d import jobs completed", time.Since(began), completed())
	var newLeader string
	if err := db.QueryRow(ctx, `SELECT leader_id FROM river_leader`).Scan(&newLeader); err != nil || newLeader != procs[survivor].d.River().ID() {
		t.Errorf("leader after the stop: %q, %v; want %q", newLeader, err, procs[survivor].d.River().ID())
	}

	if dup := count(`SELECT count(*) FROM (SELECT args->>'slot' FROM river_job WHERE kind = 'scheduled_import'
			GROUP BY args->>'source', args->>'slot' HAVING count(*) > 1) d`); dup != 0 {
		t.Errorf("%d slots have more than one import job", dup)
	}
	if bad := count(`SELECT count(*) FROM river_job WHERE kind = 'scheduled_import' AND state NOT IN ('completed', 'available', 'running', 'scheduled')`); bad != 0 {
		t.Errorf("%d import jobs failed", bad)
	}
	if n := count(`SELECT count(*) FROM batches`); n != 2 {
		t.Errorf("batches = %d, want 2 (a.csv, b.csv), each once", n)
	}
	if n := count(`SELECT count(*) FROM orders`); n != 3 {
		t.Errorf("orders = %d, want 3", n)
	}

	// Two processes inserting the same slot (a leader that had not yet
	// noticed losing its term, and its successor): one job.
	slot := jobs.ImportArgsAt(jobargs.ImportInbox, sched, time.Date(2026, 1, 1, 2, 0, 0, 300_000_000, time.UTC))
	other, err := river.NewClient(riverpgxv5.New(db), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := procs[survivor].d.River().Insert(ctx, slot, nil)
	if err != nil || first.UniqueSkippedAsDuplicate {
		t.Fatalf("first insert: %+v %v", first, err)
	}
	again, err := other.Insert(ctx, jobs.ImportArgsAt(jobargs.ImportInbox, sched, time.Date(2026, 1, 1, 2, 0, 0, 100_000_000, time.UTC)), nil)
	if err != nil || !again.UniqueSkippedAsDuplicate || again.Job.ID != first.Job.ID {
		t.Errorf("second insert of the same slot: %+v %v", again, err)
	}
}
