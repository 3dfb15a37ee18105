package orders_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// orderRow is what a move leaves on the order: its status, version and
// events, and the submit jobs River holds for it.
type orderRow struct {
	Status  string
	Version int
	Events  []string // type/status, oldest first
	Jobs    []int    // versions of its submit jobs
}

func readOrder(t *testing.T, ctx context.Context, db store.DB, id int64) orderRow {
	t.Helper()
	var r orderRow
	err := db.QueryRow(ctx, `SELECT status, version,
			coalesce((SELECT array_agg(type || '/' || coalesce(status, '') ORDER BY id) FROM order_events WHERE order_id = $1), '{}'),
			coalesce((SELECT array_agg((args->>'version')::int ORDER BY id) FROM river_job
				WHERE kind = 'submit_order' AND (args->>'order_id')::bigint = $1), '{}')
		FROM orders WHERE id = $1`, id).Scan(&r.Status, &r.Version, &r.Events, &r.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A retry requeues: status, new version, event and the submit job of the
// new version in one transaction; rolled back, none of them stays. Only a
// failed order is retried.
func TestRetryRequeuesWithItsJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	id := addOrder(t, pool, "invoice", "R-1", "failed", "", "")
	q := queue(t, pool)
	d := store.RetryDecision{ReviewDecision: store.ReviewDecision{By: "kari"}}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, jobID, err := orders.RetryFailed(ctx, tx, q, id, d)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 2 || jobID == 0 {
		t.Errorf("retried: %+v, job %d", r, jobID)
	}
	if got := readOrder(t, ctx, tx, id); got.Status != "queued" || got.Version != 2 ||
		len(got.Events) != 1 || got.Events[0] != "operator_retry/queued" || len(got.Jobs) != 1 || got.Jobs[0] != 2 {
		t.Errorf("in the transaction: %+v", got)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readOrder(t, ctx, pool, id); got.Status != "failed" || got.Version != 1 || len(got.Events) != 0 || len(got.Jobs) != 0 {
		t.Errorf("after rollback: %+v", got)
	}

	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, _, err := orders.RetryFailed(ctx, tx, q, id, d)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Queued now: a second retry changes nothing.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, _, err := orders.RetryFailed(ctx, tx, q, id, d)
		return err
	})
	var nf *store.NotFailedError
	if !errors.As(err, &nf) || nf.Status != orderstate.Queued {
		t.Fatalf("second retry: %v, want NotFailedError (queued)", err)
	}
	if got := readOrder(t, ctx, pool, id); got.Status != "queued" || got.Version != 2 || len(got.Events) != 1 || len(got.Jobs) != 1 {
		t.Errorf("after two retries: %+v", got)
	}
}

// The submit job's verdict moves only an order still being submitted: on
// one FP has spoken about, the door writes no status, and the event is
// written as the verdict asks.
func TestSettleOnlyWhileSubmitting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	settle := func(id int64, v orders.Verdict) bool {
		t.Helper()
		var applied bool
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
			applied, err = orders.Settle(ctx, tx, id, v)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return applied
	}
	inFlight := addOrder(t, pool, "invoice", "S-1", "submitting", "", "")
	if !settle(inFlight, orders.Verdict{Status: orderstate.NeedsReview, Reason: "no answer", Event: "submit_ambiguous", Attempt: 1}) {
		t.Error("verdict on a submitting order dropped")
	}
	var reason string
	if err := pool.QueryRow(ctx, `SELECT review_reason FROM orders WHERE id = $1`, inFlight).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if got := readOrder(t, ctx, pool, inFlight); got.Status != "needs_review" || reason != "no answer" ||
		len(got.Events) != 1 || got.Events[0] != "submit_ambiguous/needs_review" {
		t.Errorf("submitting order after the verdict: %+v, reason %q", got, reason)
	}

	atFP := addOrder(t, pool, "invoice", "S-2", "sent", "ODR1", "")
	if settle(atFP, orders.Verdict{Status: orderstate.Failed, Reason: "x", Event: "submit_rejected", Attempt: 1}) {
		t.Error("verdict applied to an order FP has sent")
	}
	settle(atFP, orders.Verdict{Status: orderstate.Queued, Event: "submit_retryable", Attempt: 2, StatusIfDropped: true})
	if got := readOrder(t, ctx, pool, atFP); got.Status != "sent" ||
		len(got.Events) != 2 || got.Events[0] != "submit_rejected/" || got.Events[1] != "submit_retryable/queued" {
		t.Errorf("sent order after two verdicts: %+v", got)
	}
}

// attemptEvent is an attempt_started event as stored.
type attemptEvent struct {
	Attempt int
	JobID   int64
	Fpgo    string
}

func attemptEvents(t *testing.T, ctx context.Context, db store.DB, id int64) []attemptEvent {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT coalesce(attempt, 0), coalesce((detail->>'job_id')::bigint, 0), coalesce(detail->>'fpgo_uuid', '')
		FROM order_events WHERE order_id = $1 AND type = 'attempt_started' AND status = 'submitting' ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (e attemptEvent, err error) {
		return e, r.Scan(&e.Attempt, &e.JobID, &e.Fpgo)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An attempt's start is a move like any other: the attempt row, the order
// marked submitting and an attempt_started event (attempt, job, fpgoUuid),
// together. A start the table forbids writes none of them.
func TestAttemptStartWritesItsEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	count := func(id int64) (attempts, recorded int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT attempts, (SELECT count(*) FROM submit_attempts WHERE order_id = $1)
			FROM orders WHERE id = $1`, id).Scan(&attempts, &recorded); err != nil {
			t.Fatal(err)
		}
		return attempts, recorded
	}

	id := addOrder(t, pool, "checkout", "A-1", "queued", "", "")
	o, _, attempt, ok, err := orders.StartSubmit(ctx, pool, id, 41, 1, "w1")
	if err != nil || !ok || attempt != 1 || o.Attempts != 1 {
		t.Fatalf("StartSubmit: ok %v, attempt %d, order %+v, %v", ok, attempt, o, err)
	}
	if got := attemptEvents(t, ctx, pool, id); len(got) != 1 || got[0] != (attemptEvent{1, 41, ""}) {
		t.Errorf("after StartSubmit: %+v", got)
	}
	// Submitting now, its attempt open: the fast path starts nothing.
	if _, _, _, ok, err := orders.StartSubmit(ctx, pool, id, 42, 1, "w1"); err != nil || ok {
		t.Fatalf("StartSubmit on a submitting order: ok %v, %v", ok, err)
	}
	if got := readOrder(t, ctx, pool, id); got.Status != "submitting" || len(got.Events) != 1 {
		t.Errorf("after the second StartSubmit: %+v", got)
	}
	// A checkout may be sent again from submitting (the job closed the
	// open attempt first): attempt 2, with the FP order it updates.
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE submit_attempts SET outcome = 'abandoned' WHERE order_id = $1`, id); err != nil {
			return err
		}
		_, attempt, err := orders.StartAttempt(ctx, tx, &store.Order{ID: id, Version: 1, Status: orderstate.Submitting}, 43, 2, "ODR9", "w1")
		if err == nil && attempt != 2 {
			t.Errorf("StartAttempt: attempt %d, want 2", attempt)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := attemptEvents(t, ctx, pool, id); len(got) != 2 || got[1] != (attemptEvent{2, 43, "ODR9"}) {
		t.Errorf("after StartAttempt: %+v", got)
	}
	if attempts, recorded := count(id); attempts != 2 || recorded != 2 {
		t.Errorf("attempts %d, %d recorded; want 2, 2", attempts, recorded)
	}

	// FP has sent this one: the submit job may not start an attempt. The
	// statement itself writes nothing (looked at before the rollback).
	sent := addOrder(t, pool, "invoice", "A-2", "sent", "ODR2", "")
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	_, _, err = orders.StartAttempt(ctx, tx, &store.Order{ID: sent, Version: 1, Status: orderstate.Sent}, 44, 1, "ODR2", "w1")
	if err == nil || !strings.Contains(err.Error(), "transition table") {
		t.Errorf("StartAttempt on a sent order: %v, want the table's refusal", err)
	}
	var recorded int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM submit_attempts WHERE order_id = $1`, sent).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if got := readOrder(t, ctx, tx, sent); got.Status != "sent" || len(got.Events) != 0 || recorded != 0 {
		t.Errorf("sent order after a refused start: %+v, %d attempts recorded", got, recorded)
	}
}

// FP's acceptance is recorded once, with its event, whatever the order's
// status: a callback that came first keeps its (later) status.
func TestRecordCreatedAfterTheCallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	id := addOrder(t, pool, "invoice", "C-1", "queued", "", "")
	_, attemptID, attempt, ok, err := orders.StartSubmit(ctx, pool, id, 41, 1, "w1")
	if err != nil || !ok {
		t.Fatalf("StartSubmit: %v, %v", ok, err)
	}
	// FP's callback came before its answer was recorded.
	if _, err := pool.Exec(ctx, `UPDATE orders SET status = 'sent', fp_order_uuid = 'ODR1' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	record := func() bool {
		t.Helper()
		recorded, err := orders.RecordCreated(ctx, pool, id, attemptID, attempt, 201, "created",
			orders.Created{OrderUUID: "ODR1", CustomerUUID: "CUS1", PaymentURL: "https://pay"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return recorded
	}
	if !record() {
		t.Fatal("FP's acceptance not recorded")
	}
	if record() {
		t.Error("FP's acceptance recorded twice")
	}
	var customer, outcome string
	if err := pool.QueryRow(ctx, `SELECT coalesce(fp_customer_uuid, ''), (SELECT outcome FROM submit_attempts WHERE id = $2)
		FROM orders WHERE id = $1`, id, attemptID).Scan(&customer, &outcome); err != nil {
		t.Fatal(err)
	}
	got := readOrder(t, ctx, pool, id)
	if got.Status != "sent" || customer != "CUS1" || outcome != "created" ||
		len(got.Events) != 2 || got.Events[1] != "submitted/submitted" {
		t.Errorf("after FP's acceptance: %+v, customer %q, attempt %s", got, customer, outcome)
	}
}
