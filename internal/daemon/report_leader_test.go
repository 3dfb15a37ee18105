package daemon_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/robfig/cron/v3"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/jobargs"
)

// Two worker daemons on one database, each with the report schedule, as
// two `worker run` processes would be: each slot of the schedule writes one
// report (one River job, one reports row, one file a day), not one per
// worker. River inserts periodic jobs on its leader only, and ReportArgs is
// unique per slot. The schedule fires every two seconds so that several
// slots pass while both run.
func TestNightlyReportOnceWithTwoWorkers(t *testing.T) {
	t.Parallel()
	every2s, err := cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow).Parse("*/2 * * * * *")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "reports")
	adjust := func(c *daemon.Config) {
		c.ReportCron, c.ReportSchedule, c.ReportDir, c.ReportFormat = every2s, "*/2 * * * * *", dir, "xlsx"
	}
	a := newStack(t, fpfake.Config{Plan: fpfake.NoCallbacks}, adjust)

	// The second worker: its own pool and listener on the same database.
	pool, err := pgxpool.New(context.Background(), a.DBURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfgB := *a.Cfg
	cfgB.ListenAddr = ln.Addr().String()
	b, err := daemon.New(context.Background(), &cfgB, pool, daemontest.Logger(t), ln)
	if err != nil {
		t.Fatal(err)
	}

	stopA, stopB := serveUntil(t, a.D), serveUntil(t, b)
	// Wait until three slots have written their report, then stop both
	// workers: nothing runs after that, so the counts below are final.
	deadline := time.Now().Add(2 * time.Minute)
	for completedReportJobs(t, a) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d report jobs completed in 2 minutes", completedReportJobs(t, a))
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopA()
	stopB()

	ctx := context.Background()
	var jobsN, slots, days int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT args->>'slot'),
			count(DISTINCT (((args->>'slot')::timestamptz AT TIME ZONE 'Europe/Oslo')::date - 1))
		FROM river_job WHERE kind = $1`, jobargs.ReportArgs{}.Kind()).Scan(&jobsN, &slots, &days); err != nil {
		t.Fatal(err)
	}
	if jobsN != slots {
		t.Errorf("%d report jobs for %d slots: a slot ran more than once", jobsN, slots)
	}
	// Every slot of a day writes the same file and row (the day before the
	// slot); the test is over within a day, save across midnight.
	if n := a.Count(t, `SELECT count(*) FROM reports`); n != days {
		t.Errorf("%d rows in reports for %d days", n, days)
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != days {
		t.Errorf("files in REPORT_DIR: %v, want %d", files, days)
	}
	for _, f := range files {
		if filepath.Ext(f.Name()) != ".xlsx" {
			t.Errorf("unexpected file %s (a temporary file left?)", f.Name())
		}
	}
}

// serveUntil runs a daemon and returns the function that stops it and
// waits until it has.
func serveUntil(t *testing.T, d *daemon.Daemon) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func completedReportJobs(t *testing.T, s *stack) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`,
		jobargs.ReportArgs{}.Kind()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
