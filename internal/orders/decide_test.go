package orders_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// addOrder records an order directly, in the given state (testdb.AddOrder).
func addOrder(t *testing.T, pool *pgxpool.Pool, kind, ref, status, fpUUID, dup string) int64 {
	return testdb.AddOrder(t, pool, testdb.Order{Kind: kind, Ref: ref, Status: status, FPOrderUUID: fpUUID, PossibleDuplicate: dup})
}

// queue is the submit queue of a River client that only inserts.
func queue(t *testing.T, pool *pgxpool.Pool) orders.Queue {
	t.Helper()
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return jobs.SubmitQueue{Client: c}
}

func TestReviewDecisionsLockTheOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	id := addOrder(t, pool, "invoice", "C-1", "needs_review", "", "")

	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx) //nolint:errcheck
	if _, err := orders.ConfirmReviewed(ctx, first, id, "ODR1", store.ReviewDecision{By: "kari"}); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		second <- pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, _, err := orders.ResubmitReviewed(ctx, tx, queue(t, pool), id, store.Resubmit{ReviewDecision: store.ReviewDecision{By: "ola"}})
			return err
		})
	}()
	select {
	case err := <-second:
		t.Fatalf("second decision did not wait for the first: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-second
	var nr *store.NotInReviewError
	if !errors.As(err, &nr) || nr.Status != orderstate.Submitted || !strings.Contains(err.Error(), "invoice:C-1") {
		t.Fatalf("second decision: %v, want NotInReviewError (submitted)", err)
	}
	var status, uuid string
	var version, events int
	if err := pool.QueryRow(ctx, `SELECT status, fp_order_uuid, version, (SELECT count(*) FROM order_events WHERE order_id = $1)
		FROM orders WHERE id = $1`, id).Scan(&status, &uuid, &version, &events); err != nil {
		t.Fatal(err)
	}
	if status != "submitted" || uuid != "ODR1" || version != 1 || events != 1 {
		t.Errorf("order: %s %s v%d, %d events; want submitted ODR1 v1, 1 event", status, uuid, version, events)
	}
}

// Resubmitting as an update of the FP order held as a possible duplicate:
// that one becomes the order's FP order, the other the possible duplicate;
// an attempt left without outcome is closed so the next job does not take
// it for a request sent unanswered; the version moves on for a new job.
func TestResubmitReviewedSwapsDuplicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	id := addOrder(t, pool, "invoice", "D-1", "needs_review", "ODR1", "ODR2")
	other := addOrder(t, pool, "invoice", "D-2", "submitted", "ODR9", "")
	if _, err := pool.Exec(ctx, `INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt) VALUES ($1, 1, 1, 0, 1)`, id); err != nil {
		t.Fatal(err)
	}
	decide := func(r store.Resubmit) (*store.Resubmitted, error) {
		var res *store.Resubmitted
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
			res, _, err = orders.ResubmitReviewed(ctx, tx, queue(t, pool), id, r)
			return err
		})
		return res, err
	}
	// Another order's FP order is refused.
	if _, err := decide(store.Resubmit{FpgoUUID: "ODR9"}); err == nil || !strings.Contains(err.Error(), "invoice:D-2") {
		t.Errorf("update of order %d's FP order: %v, want refused", other, err)
	}
	res, err := decide(store.Resubmit{FpgoUUID: "ODR2", ReviewDecision: store.ReviewDecision{By: "kari", Note: "ODR2 is the live one"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 2 || res.FpgoUUID != "ODR2" || res.Order.Ref != "D-1" {
		t.Errorf("resubmitted: %+v", res)
	}
	var status, uuid, dup, outcome string
	var version int
	var detail map[string]any
	if err := pool.QueryRow(ctx, `SELECT o.status, o.fp_order_uuid, o.possible_duplicate, o.version, a.outcome, e.detail
		FROM orders o JOIN submit_attempts a ON a.order_id = o.id JOIN order_events e ON e.order_id = o.id
		WHERE o.id = $1`, id).Scan(&status, &uuid, &dup, &version, &outcome, &detail); err != nil {
		t.Fatal(err)
	}
	if status != "queued" || uuid != "ODR2" || dup != "ODR1" || version != 2 || outcome != "abandoned" {
		t.Errorf("order: %s fp=%s dup=%s v%d, attempt %s", status, uuid, dup, version, outcome)
	}
	if detail["by"] != "kari" || detail["note"] != "ODR2 is the live one" || detail["fpgo_uuid"] != "ODR2" ||
		detail["previous_fp_order_uuid"] != "ODR1" || detail["previous_possible_duplicate"] != "ODR2" || detail["version"] != 2.0 {
		t.Errorf("event detail: %v", detail)
	}
}
