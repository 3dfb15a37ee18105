package daemon_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/store"
)

// startKeylessStack is a stack whose worker has no FP_CHECKSUM_KEY (and whose
// simulator signs with none), as the seeds describe.
func startKeylessStack(t *testing.T, simCfg fpfake.Config) *stack {
	t.Helper()
	daemontest.WithOptions(t, daemontest.Options{Keyless: true})
	s := startStack(t, simCfg)
	if s.Cfg.ChecksumKey != "" {
		t.Fatal("keyless stack has a checksum key")
	}
	return s
}

// getStatus calls u and returns the HTTP status.
func getStatus(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// leakedCallback is the callback anyone holding the order's callbackUrl (as
// FP keeps it) can send: the seeds' checksum under key, a valid token.
func (s *stack) leakedCallback(t *testing.T, uuid, status string, createdAt int64) string {
	t.Helper()
	o, ok := s.Sim.Order(uuid)
	if !ok || o.CallbackURL == "" {
		t.Fatalf("the simulator has no callbackUrl for %s", uuid)
	}
	return fpfake.CallbackURL(o.CallbackURL, uuid, status, createdAt, createdAt, s.Cfg.ChecksumKey)
}

type verdictRow struct {
	Verdict, FPStatus, Result string
}

// waitVerdicts waits until no callback of the order awaits FP any more and
// returns the callbacks' verdicts in arrival order.
func (s *stack) waitVerdicts(t *testing.T, orderID int64) []verdictRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var awaiting int
		if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM callbacks WHERE order_id = $1 AND verdict = $2`,
			orderID, store.VerdictAwaitingFP).Scan(&awaiting); err != nil {
			t.Fatal(err)
		}
		if awaiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callbacks still await FP's confirmation", awaiting)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rows, err := s.Pool.Query(context.Background(), `SELECT verdict, fp_status, coalesce(result, '') FROM callbacks WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []verdictRow
	for rows.Next() {
		var v verdictRow
		if err := rows.Scan(&v.Verdict, &v.FPStatus, &v.Result); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A leaked callbackUrl: PAID with the seeds' (keyless) checksum, correct,
// while FP says SENT. It is stored and answered 200, but the order is not
// marked paid: FP is asked, FP's SENT is what is applied, and the callback
// is recorded as not confirmed.
func TestKeylessLeakedCallbackURLDoesNotMarkPaid(t *testing.T) {
	t.Parallel()
	s := startKeylessStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	if code := getStatus(t, s.leakedCallback(t, uuid, "PAID", time.Now().Unix())); code != http.StatusOK {
		t.Fatalf("forged PAID: HTTP %d, want 200 (stored, awaiting FP)", code)
	}
	got := s.waitVerdicts(t, id)
	if len(got) != 1 || got[0].Verdict != store.VerdictNotConfirmed {
		t.Fatalf("callbacks %+v, want one %s", got, store.VerdictNotConfirmed)
	}
	if st, fp, _ := s.orderState(t, id); st != "sent" || fp != "SENT" {
		t.Errorf("order %s/%s, want sent/SENT (FP's word, not the callback's)", st, fp)
	}
	if n := s.statusRequests()[uuid]; n != 1 {
		t.Errorf("FP asked %d times, want 1", n)
	}
}

// A genuine keyless callback: FP confirms PAID, and the order is paid.
func TestKeylessGenuineCallbackIsAppliedAfterFPConfirms(t *testing.T) {
	t.Parallel()
	s := startKeylessStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	if err := s.Sim.SetStatus(context.Background(), uuid, "PAID"); err != nil {
		t.Fatal(err)
	}
	got := s.waitVerdicts(t, id)
	if len(got) != 1 || got[0].Verdict != store.VerdictAccepted {
		t.Fatalf("callbacks %+v, want one accepted", got)
	}
	if st, fp, _ := s.orderState(t, id); st != "paid" || fp != "PAID" {
		t.Errorf("order %s/%s, want paid/PAID", st, fp)
	}
	if n := s.statusRequests()[uuid]; n != 1 {
		t.Errorf("FP asked %d times, want 1", n)
	}
	var source string
	if err := s.Pool.QueryRow(context.Background(), `SELECT detail->>'source' FROM order_events WHERE order_id = $1 AND type = 'callback'`, id).
		Scan(&source); err != nil || source != "confirm" {
		t.Errorf("callback event source %q (%v), want confirm", source, err)
	}
}

// REFUNDED with createdAt=9999999999 (year 2286) would, once applied,
// outrank every later callback for ever: refused 403, with and without a
// key, and the order does not move. A createdAt a minute ahead (clock skew)
// is taken.
func TestFarFutureCreatedAtIsRefused(t *testing.T) {
	t.Parallel()
	for _, keyless := range []bool{false, true} {
		t.Run("keyless="+strconv.FormatBool(keyless), func(t *testing.T) {
			t.Parallel()
			daemontest.WithOptions(t, daemontest.Options{Keyless: keyless})
			s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
			id, uuid := s.submittedInvoice(t)
			if code := getStatus(t, s.leakedCallback(t, uuid, "REFUNDED", 9999999999)); code != http.StatusForbidden {
				t.Fatalf("REFUNDED at 9999999999: HTTP %d, want 403", code)
			}
			if st, _, _ := s.orderState(t, id); st != "submitted" {
				t.Errorf("order %s after the refused callback, want submitted", st)
			}
			if c := s.lastCallback(t); c.Verdict != store.VerdictFutureCreatedAt {
				t.Errorf("verdict %q, want %s", c.Verdict, store.VerdictFutureCreatedAt)
			}
			if code := getStatus(t, s.leakedCallback(t, uuid, "SENT", time.Now().Add(time.Minute).Unix())); code != http.StatusOK {
				t.Errorf("SENT a minute ahead: HTTP %d, want 200", code)
			}
			if keyless {
				s.waitVerdicts(t, id)
			}
			s.waitCallbacksApplied(t)
			if st, _, _ := s.orderState(t, id); st != "sent" {
				t.Errorf("order %s after SENT, want sent", st)
			}
		})
	}
}

// Many keyless callbacks of one order cost one FP request: the first job
// asks, its answer settles every callback stored before the request, and
// the others' jobs find theirs settled. The test holds the order's confirm
// lock while the callbacks arrive, so all of them are stored before any job
// asks (without it, how many are stored by then would be up to timing).
func TestKeylessCallbacksOfOneOrderCostOneRequest(t *testing.T) {
	t.Parallel()
	s := startKeylessStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	if err := s.Sim.LoseCallback(uuid, "PAID"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hold, err := s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx) //nolint:errcheck
	if err := store.LockConfirm(ctx, hold, id); err != nil {
		t.Fatal(err)
	}
	const n = 8
	t0 := time.Now().Unix() - 60
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		status := "PAID"
		if i%2 == 0 {
			status = "SENT" // FP went on from SENT to PAID: borne out
		}
		u := s.leakedCallback(t, uuid, status, t0+int64(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(u)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("callback %d: HTTP %d", i, c)
		}
	}
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := s.waitVerdicts(t, id)
	if len(got) != n {
		t.Fatalf("%d callbacks stored, want %d", len(got), n)
	}
	for i, v := range got {
		if v.Verdict != store.VerdictAccepted {
			t.Errorf("callback %d: %+v, want accepted", i, v)
		}
	}
	if asked := s.statusRequests()[uuid]; asked != 1 {
		t.Errorf("FP asked %d times for %d callbacks, want 1", asked, n)
	}
	if st, _, _ := s.orderState(t, id); st != "paid" {
		t.Errorf("order %s, want paid", st)
	}
}

// Keyless from import to paid: FP calls back SENT then PAID at once, often
// before the submit job has stored FP's answer; each callback is confirmed
// with FP (a confirmation that finds no FP order id yet tries again later),
// every order ends paid, and no genuine callback is taken for a forgery.
func TestKeylessEndToEnd(t *testing.T) {
	t.Parallel()
	s := startKeylessStack(t, fpfake.Config{CallbackDelay: time.Nanosecond})
	start := time.Now()
	s.ImportCSV(t, "orders.csv", daemontest.E2EFile)
	s.WaitSettled(t, start, true)
	for ref, v := range s.View(t) {
		if v.Status != "paid" || v.FPStatus != "PAID" {
			t.Errorf("%s: %s/%s, want paid/PAID", ref, v.Status, v.FPStatus)
		}
	}
	var verdicts []string
	rows, err := s.Pool.Query(context.Background(), `SELECT verdict || ' ' || fp_status || ': ' || coalesce(result, '') FROM callbacks ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		verdicts = append(verdicts, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 2*len(s.View(t)) {
		t.Errorf("%d callbacks stored, want two per order", len(verdicts))
	}
	for _, v := range verdicts {
		if !strings.HasPrefix(v, store.VerdictAccepted+" ") {
			t.Errorf("callback %s, want accepted", v)
		}
	}
}

// Confirmations go through the throttle shared with submissions: while
// sending is paused the confirm job asks nothing and snoozes; once the pause
// is over it asks, and the callback is applied.
func TestKeylessConfirmationWaitsForTheThrottle(t *testing.T) {
	t.Parallel()
	daemontest.WithOptions(t, daemontest.Options{Keyless: true})
	s := startStackWith(t, fpfake.Config{Plan: fpfake.NoCallbacks}, func(c *daemon.Config) { c.AuthPause = 2 * time.Second })
	id, uuid := s.submittedInvoice(t)
	ctx := context.Background()
	if _, err := s.D.Throttle().Pause(ctx, "test pause"); err != nil {
		t.Fatal(err)
	}
	if err := s.Sim.SetStatus(ctx, uuid, "PAID"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Snoozed and waiting (River keeps a short snooze 'available' with
		// a later scheduled_at).
		var snoozed int
		if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'confirm_callbacks'
			AND (metadata->>'snoozes')::int >= 1 AND state IN ('available', 'scheduled')`).Scan(&snoozed); err != nil {
			t.Fatal(err)
		}
		if snoozed == 1 {
			break
		}
		if time.Now().After(deadline) {
			var states string
			if err := s.Pool.QueryRow(ctx, `SELECT string_agg(kind || ':' || state || ':' || metadata::text, ', ') FROM river_job`).Scan(&states); err != nil {
				states = err.Error()
			}
			t.Fatalf("the confirm job did not snooze while sending was paused: %s", states)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.statusRequests()[uuid]; n != 0 {
		t.Fatalf("FP asked %d times while sending was paused", n)
	}
	if st, _, _ := s.orderState(t, id); st != "submitted" {
		t.Fatalf("order %s before FP confirmed, want submitted", st)
	}
	got := s.waitVerdicts(t, id)
	if len(got) != 1 || got[0].Verdict != store.VerdictAccepted {
		t.Fatalf("callbacks %+v, want one accepted", got)
	}
	if st, _, _ := s.orderState(t, id); st != "paid" {
		t.Errorf("order %s, want paid", st)
	}
	if n := s.statusRequests()[uuid]; n != 1 {
		t.Errorf("FP asked %d times, want 1", n)
	}
}
