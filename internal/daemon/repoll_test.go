package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/jobs"
)

// statusRequests counts the simulator's status requests per FP order.
func (s *stack) statusRequests() map[string]int {
	n := map[string]int{}
	for _, r := range s.Sim.Requests() {
		if uuid, ok := strings.CutPrefix(r.Path, "/api/v1/connect/orders/status/"); ok && r.Method == "GET" {
			n[uuid]++
		}
	}
	return n
}

// repoll inserts a run of the status poll with the worker's River client and
// waits until River completed it.
func (s *stack) repoll(t *testing.T, slot time.Time) {
	t.Helper()
	ctx := context.Background()
	res, err := s.D.River().Insert(ctx, jobargs.RepollArgs{Slot: slot}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := s.D.River().JobGet(ctx, res.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == rivertype.JobStateCompleted {
			return
		}
		if j.State != rivertype.JobStateAvailable && j.State != rivertype.JobStateRunning || time.Now().After(deadline) {
			t.Fatalf("repoll job %s, errors %v", j.State, j.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type repollEvent struct{ Type, Source, FPStatus, Result string }

func (s *stack) repollEvents(t *testing.T, ref string) []repollEvent {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT e.type, coalesce(e.detail->>'source', ''), coalesce(e.detail->>'fp_status', ''),
		coalesce(e.detail->>'result', '') FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.order_ref = $1 AND e.type IN ('callback', 'repoll_not_found') ORDER BY e.id`, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []repollEvent
	for rows.Next() {
		var e repollEvent
		if err := rows.Scan(&e.Type, &e.Source, &e.FPStatus, &e.Result); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A callback that never comes: the status poll asks FP, through the
// throttle, for every submitted or sent order FP has been silent about for
// REPOLL_AFTER, and applies the answer as the callback would have; an order
// FP does not know is left for a human; a settled order is not asked for.
func TestRepollFindsLostCallbacks(t *testing.T) {
	t.Parallel()
	s := startStackWith(t, fpfake.Config{Plan: fpfake.NoCallbacks}, func(c *daemon.Config) { c.RepollAfter = time.Millisecond })
	ctx := context.Background()
	start := time.Now()
	s.ImportCSV(t, "orders.csv", daemontest.E2EFile)
	s.WaitSettled(t, start, false)
	before := s.View(t)
	for ref, v := range before {
		if v.Status != "submitted" || v.FPUUID == "" {
			t.Fatalf("%s: %+v, want submitted with an FP order", ref, v)
		}
	}
	// E-1 was paid, E-2 moved to a status we do not know, both callbacks
	// lost. FP never heard of E-3's order id. E-4 is settled (its
	// callback arrived).
	if err := s.Sim.LoseCallback(before["E-1"].FPUUID, "PAID"); err != nil {
		t.Fatal(err)
	}
	if err := s.Sim.LoseCallback(before["E-2"].FPUUID, "ON HOLD"); err != nil {
		t.Fatal(err)
	}
	const unknown = "ODR0000000001"
	if _, err := s.Pool.Exec(ctx, `UPDATE orders SET fp_order_uuid = $1 WHERE order_ref = 'E-3'`, unknown); err != nil {
		t.Fatal(err)
	}
	if err := s.Sim.SetStatus(ctx, before["E-4"].FPUUID, "PAID"); err != nil {
		t.Fatal(err)
	}
	s.waitCallbacksApplied(t)
	if v := s.View(t)["E-4"]; v.Status != "paid" {
		t.Fatalf("E-4 after its callback: %+v", v)
	}

	s.repoll(t, time.Now())

	got := s.View(t)
	for ref, want := range map[string]struct{ status, fpStatus string }{
		"E-1": {"paid", "PAID"},
		"E-2": {"submitted", "ON HOLD"}, // unknown FP status: kept, our status unchanged
		"E-3": {"submitted", ""},
		"E-4": {"paid", "PAID"},
	} {
		if g := got[ref]; g.Status != want.status || g.FPStatus != want.fpStatus {
			t.Errorf("%s: status %s, fp_status %q; want %s, %q", ref, g.Status, g.FPStatus, want.status, want.fpStatus)
		}
	}
	for ref, want := range map[string][]repollEvent{
		"E-1": {{"callback", "repoll", "PAID", "moved submitted → paid"}},
		"E-2": {{"callback", "repoll", "ON HOLD", "unknown FP status kept; our status unchanged"}},
		"E-3": {{"repoll_not_found", "repoll", "", ""}},
		"E-4": {{"callback", "callback", "PAID", "moved submitted → paid"}},
	} {
		if g := s.repollEvents(t, ref); len(g) != len(want) || g[0] != want[0] {
			t.Errorf("%s events: %+v, want %+v", ref, g, want)
		}
	}
	var lastError string
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce(last_error, '') FROM orders WHERE order_ref = 'E-3'`).Scan(&lastError); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lastError, "FP does not know order "+unknown) {
		t.Errorf("E-3 last_error %q", lastError)
	}
	asked := s.statusRequests()
	for uuid, want := range map[string]int{before["E-1"].FPUUID: 1, before["E-2"].FPUUID: 1, unknown: 1, before["E-4"].FPUUID: 0} {
		if asked[uuid] != want {
			t.Errorf("status of %s asked %d times, want %d (all: %v)", uuid, asked[uuid], want, asked)
		}
	}

	// The next run asks again only for what is still open: E-1 is paid now.
	s.repoll(t, time.Now().Add(time.Hour))
	asked = s.statusRequests()
	for uuid, want := range map[string]int{before["E-1"].FPUUID: 1, before["E-2"].FPUUID: 2, unknown: 2, before["E-4"].FPUUID: 0} {
		if asked[uuid] != want {
			t.Errorf("second run: status of %s asked %d times, want %d", uuid, asked[uuid], want)
		}
	}
	if g := s.repollEvents(t, "E-2"); len(g) != 2 || g[1].Result != "unknown FP status kept; our status unchanged" {
		t.Errorf("E-2 events after the second run: %+v", g)
	}
}

// Orders FP spoke about within REPOLL_AFTER are not asked for, and a paused
// throttle ends the run before any request.
func TestRepollWaitsAndStopsWhenPaused(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	start := time.Now()
	s.ImportCSV(t, "orders.csv", daemontest.E2EFile)
	s.WaitSettled(t, start, false)
	fp, err := fpclient.New(fpclient.Config{BaseURL: s.Cfg.FPBaseURL, Token: s.Cfg.FPToken})
	if err != nil {
		t.Fatal(err)
	}
	job := &river.Job[jobargs.RepollArgs]{JobRow: &rivertype.JobRow{ID: 1}, Args: jobargs.RepollArgs{Slot: start}}

	recent := &jobs.RepollWorker{Pool: s.Pool, FP: fp, Throttle: s.D.Throttle(), After: time.Hour, Logger: daemontest.Logger(t)}
	if err := recent.Work(t.Context(), job); err != nil {
		t.Fatal(err)
	}
	if n := len(s.statusRequests()); n != 0 {
		t.Errorf("%d orders asked for within REPOLL_AFTER", n)
	}

	if _, err := s.D.Throttle().Pause(t.Context(), "test pause"); err != nil {
		t.Fatal(err)
	}
	due := &jobs.RepollWorker{Pool: s.Pool, FP: fp, Throttle: s.D.Throttle(), After: time.Millisecond, Logger: daemontest.Logger(t)}
	if err := due.Work(t.Context(), job); err != nil {
		t.Fatal(err)
	}
	if n := len(s.statusRequests()); n != 0 {
		t.Errorf("%d orders asked for while paused", n)
	}
	if _, err := s.D.Throttle().Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := due.Work(t.Context(), job); err != nil {
		t.Fatal(err)
	}
	if n := len(s.statusRequests()); n != 4 {
		t.Errorf("%d orders asked for after the pause, want 4", n)
	}
}

// REPOLL_AFTER and REPOLL_EVERY: defaults, "off", and one line per mistake.
func TestRepollConfig(t *testing.T) {
	t.Parallel()
	c, err := daemon.LoadConfig(daemontest.Env(nil), daemon.Need{})
	if err != nil || c.RepollAfter != 24*time.Hour || c.RepollEvery != time.Hour {
		t.Errorf("defaults: after %s, every %s, %v", c.RepollAfter, c.RepollEvery, err)
	}
	c, err = daemon.LoadConfig(daemontest.Env(map[string]string{"REPOLL_AFTER": "36h", "REPOLL_EVERY": "off"}), daemon.Need{})
	if err != nil || c.RepollAfter != 36*time.Hour || c.RepollEvery != 0 {
		t.Errorf("36h, off: after %s, every %s, %v", c.RepollAfter, c.RepollEvery, err)
	}
	_, err = daemon.LoadConfig(daemontest.Env(map[string]string{"REPOLL_AFTER": "0s", "REPOLL_EVERY": "10s"}), daemon.Need{})
	if err == nil || !strings.Contains(err.Error(), "REPOLL_AFTER: must be") || !strings.Contains(err.Error(), "REPOLL_EVERY: must be") {
		t.Errorf("bad values: %v", err)
	}
}

// Every process names a run by the same slot, however early or late River
// fires it.
func TestRepollArgsAtNamesTheSlot(t *testing.T) {
	t.Parallel()
	for now, want := range map[string]string{
		"2026-11-23T10:00:00Z":    "2026-11-23T10:00:00Z",
		"2026-11-23T09:59:59.9Z":  "2026-11-23T10:00:00Z",
		"2026-11-23T10:00:03Z":    "2026-11-23T10:00:00Z",
		"2026-11-23T10:59:58.00Z": "2026-11-23T10:00:00Z",
	} {
		n, _ := time.Parse(time.RFC3339Nano, now)
		if got := jobs.RepollArgsAt(time.Hour, n).Slot.Format(time.RFC3339); got != want {
			t.Errorf("at %s: slot %s, want %s", now, got, want)
		}
	}
}
