package orders_test

import (
	"context"
	"errors"
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
