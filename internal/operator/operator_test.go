package operator_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/operator"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

func newDesk(t *testing.T) (*operator.Desk, *pgxpool.Pool) {
	t.Helper()
	pool := testdb.New(t)
	desk, err := operator.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	return desk, pool
}

type event struct {
	Type, Status string
	Detail       map[string]any
}

// events are the order's events of types like typeLike, oldest first.
func events(t *testing.T, pool *pgxpool.Pool, id int64, typeLike string) []event {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT type, coalesce(status, ''), detail FROM order_events
		WHERE order_id = $1 AND type LIKE $2 ORDER BY id`, id, typeLike)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var e event
		if err := rows.Scan(&e.Type, &e.Status, &e.Detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// submitJobs are the versions the order's submit jobs carry, in the order
// they were queued.
func submitJobs(t *testing.T, pool *pgxpool.Pool, id int64) []int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT args FROM river_job WHERE kind = $1 AND (args->>'order_id')::bigint = $2
		ORDER BY id`, jobargs.SubmitOrderArgs{}.Kind(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var a jobargs.SubmitOrderArgs
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a.Version)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// orderRow is what an operator's decision moves.
type orderRow struct {
	Status, FPOrderUUID, LastError string
	Version                        int
	SubmittedAt                    *time.Time
}

func readOrder(t *testing.T, pool *pgxpool.Pool, id int64) orderRow {
	t.Helper()
	var o orderRow
	if err := pool.QueryRow(context.Background(), `SELECT status, coalesce(fp_order_uuid, ''), coalesce(last_error, ''), version,
		submitted_at FROM orders WHERE id = $1`, id).Scan(&o.Status, &o.FPOrderUUID, &o.LastError, &o.Version, &o.SubmittedAt); err != nil {
		t.Fatal(err)
	}
	return o
}

// The overview lists the batches of the last days with their orders per
// status, and every queue (the worker's own even when empty); a batch's
// view lists its orders in file order.
func TestOverviewAndBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	desk, pool := newDesk(t)
	old := testdb.AddBatch(t, pool, "old.csv", 1)
	if _, err := pool.Exec(ctx, `UPDATE batches SET imported_at = now() - interval '10 days' WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "OLD", Status: "paid", BatchID: old})
	batch := testdb.AddBatch(t, pool, "f.csv", 5)
	for i, ref := range []string{"F-INV", "F-PL", "F-CO", "F-HC"} {
		testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: ref, Status: "failed", BatchID: batch, SourceRow: 5 - i,
			GrandTotalOre: 100, LastError: "FP answered 500"})
	}
	testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "F-OK", Status: "submitted", BatchID: batch, SourceRow: 6, GrandTotalOre: 100})

	ov, err := desk.Overview(ctx, 7, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(ov.Batches) != 1 || ov.Days != 7 {
		t.Fatalf("overview of 7 days: %d batches, want 1 (the old one is 10 days old): %+v", len(ov.Batches), ov.Batches)
	}
	if b := ov.Batches[0]; b.ID != batch || b.Source != "f.csv" || b.Orders != 5 || b.TotalOre != 500 || b.RowsTotal != 5 ||
		b.ByStatus["failed"] != 4 || b.ByStatus["submitted"] != 1 {
		t.Errorf("batch %+v, want %d from f.csv: 5 orders, NOK 5.00, failed 4, submitted 1", b, batch)
	}
	var names []string
	for _, q := range ov.Queues {
		names = append(names, q.Queue)
		if q.Available+q.Scheduled+q.Retryable+q.Running != 0 || q.OldestAge != 0 {
			t.Errorf("queue %+v, want empty", q)
		}
	}
	if !slices.Equal(names, []string{jobargs.QueueCallbacks, river.QueueDefault, jobargs.QueueSubmit}) {
		t.Errorf("queues %v, want the worker's three even when empty", names)
	}
	if ov, err := desk.Overview(ctx, 11, time.Now()); err != nil || len(ov.Batches) != 2 || ov.Batches[0].ID != batch {
		t.Errorf("overview of 11 days: %v, %+v; want both batches, newest first", err, ov)
	}

	// Jobs waiting: counted per queue and state; a queue of its own is listed too.
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inserter.Insert(ctx, jobargs.SubmitOrderArgs{OrderID: 1, Version: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := inserter.Insert(ctx, jobargs.ImportArgs{Source: jobargs.ImportInbox, Slot: time.Now()}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ov, err = desk.Overview(ctx, 7, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := map[string]operator.QueueDepth{}
	for _, q := range ov.Queues {
		got[q.Queue] = q
	}
	if q := got[jobargs.QueueSubmit]; q.Available != 1 || q.Scheduled != 0 {
		t.Errorf("submit queue %+v, want 1 available", q)
	}
	if q := got[jobargs.QueueImports]; q.Scheduled != 1 || q.Available != 0 || len(ov.Queues) != 4 {
		t.Errorf("imports queue %+v among %d queues, want 1 scheduled, 4 queues", q, len(ov.Queues))
	}

	view, err := desk.Batch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, o := range view.Orders {
		refs = append(refs, o.OrderRef)
		if o.OrderRef != "F-OK" && (o.Status != "failed" || o.LastError != "FP answered 500") {
			t.Errorf("order %+v, want failed with its error", o)
		}
	}
	if !slices.Equal(refs, []string{"F-HC", "F-CO", "F-PL", "F-INV", "F-OK"}) || view.Truncated || view.Batch.ID != batch {
		t.Errorf("batch view: %v (truncated %v), want the five in file order", refs, view.Truncated)
	}
	var nb *operator.NoBatchError
	if _, err := desk.Batch(ctx, 999999); !errors.As(err, &nb) || nb.ID != 999999 || !strings.Contains(err.Error(), "no batch 999999") {
		t.Errorf("batch 999999: %v, want NoBatchError", err)
	}
}

// Retrying a batch queues each of its failed orders again: a new version,
// one operator_retry event each with who, why and the batch, one submit job
// for the new version. What is not failed is refused and left as it was.
func TestRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	desk, pool := newDesk(t)
	batch := testdb.AddBatch(t, pool, "f.csv", 5)
	var failed []int64
	for i, ref := range []string{"F-INV", "F-PL", "F-CO", "F-HC"} {
		failed = append(failed, testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: ref, Status: "failed", BatchID: batch,
			SourceRow: 2 + i, LastError: "FP answered 500 for 01010012356"}))
	}
	ok := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "F-OK", Status: "submitted", BatchID: batch, SourceRow: 6})
	okBefore := testdb.Snapshot(t, pool, ok)

	dec := store.RetryDecision{ReviewDecision: store.ReviewDecision{By: "kari", Note: "FP fixed their outage"}}
	res, err := desk.Retry(ctx, strconv.FormatInt(batch, 10), dec)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("retried %d orders, want the 4 failed", len(res))
	}
	for i, r := range res {
		if r.Err != nil || r.Order.ID != failed[i] || r.Retried == nil || r.Retried.Version != 2 || r.JobID == 0 ||
			r.Retried.LastError != "FP answered 500 for 01010012356" {
			t.Errorf("retry %d: %+v (%v), want order %d queued as version 2 with its job and its error", i, r, r.Err, failed[i])
		}
		if o := readOrder(t, pool, failed[i]); o.Status != "queued" || o.Version != 2 || o.LastError != "" {
			t.Errorf("order %d after retry: %+v, want queued, version 2, no error", failed[i], o)
		}
		if v := submitJobs(t, pool, failed[i]); !slices.Equal(v, []int{2}) {
			t.Errorf("order %d: submit jobs for versions %v, want [2]", failed[i], v)
		}
		evs := events(t, pool, failed[i], "operator_retry")
		if len(evs) != 1 || evs[0].Status != "queued" || evs[0].Detail["by"] != "kari" || evs[0].Detail["note"] != "FP fixed their outage" ||
			evs[0].Detail["batch_id"] != float64(batch) || evs[0].Detail["previous_error"] != "FP answered 500 for 01010012356" {
			t.Errorf("order %d: events %+v, want one operator_retry by kari with the note and batch %d", failed[i], evs, batch)
		}
	}
	if after := testdb.Snapshot(t, pool, ok); after != okBefore {
		t.Errorf("the submitted order changed:\n%s\n%s", okBefore, after)
	}

	// Nothing failed any more: the batch and an order are refused, nothing changes.
	before := testdb.Snapshot(t, pool, failed[0])
	var nf *operator.NoFailedOrdersError
	if _, err := desk.Retry(ctx, strconv.FormatInt(batch, 10), dec); !errors.As(err, &nf) || nf.Batch != batch {
		t.Errorf("retry of a batch without failed orders: %v, want NoFailedOrdersError", err)
	}
	if _, err := desk.Retry(ctx, "F-404", dec); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry F-404: %v, want not found", err)
	}
	for _, spec := range []string{"invoice:F-INV", "F-INV"} {
		res, err := desk.Retry(ctx, spec, dec)
		var notFailed *store.NotFailedError
		if err != nil || len(res) != 1 || !errors.As(res[0].Err, &notFailed) || notFailed.Status != orderstate.Queued {
			t.Errorf("retry %s: %+v, %v; want the order refused: queued, not failed", spec, res, err)
		}
	}
	var nb *operator.NoBatchError
	if _, err := desk.Retry(ctx, "999999", dec); !errors.As(err, &nb) {
		t.Errorf("retry 999999: %v, want NoBatchError", err)
	}
	if after := testdb.Snapshot(t, pool, failed[0]); after != before {
		t.Errorf("a refused retry changed the order:\n%s\n%s", before, after)
	}
}

// Retry never touches an order in needs_review (a request may have reached
// FP): it says to use `worker review`.
func TestRetryRefusesNeedsReview(t *testing.T) {
	t.Parallel()
	desk, pool := newDesk(t)
	id := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "R-1", Status: "needs_review"})
	before := testdb.Snapshot(t, pool, id)
	res, err := desk.Retry(context.Background(), "R-1", store.RetryDecision{ReviewDecision: store.ReviewDecision{By: "kari"}})
	if err != nil || len(res) != 1 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "worker review") {
		t.Errorf("retry of a needs_review order: %+v, %v; want refused, pointing at worker review", res, err)
	}
	if after := testdb.Snapshot(t, pool, id); after != before {
		t.Errorf("the order changed:\n%s\n%s", before, after)
	}
}

// reviewOrders records four orders whose only request's answer was lost:
// in needs_review, oldest first R-1 … R-4, each with its ambiguous attempt.
func reviewOrders(t *testing.T, pool *pgxpool.Pool) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	ids := map[string]int64{}
	for i, o := range []testdb.Order{
		{Kind: "invoice", Ref: "R-1", GrandTotalOre: 450000},
		{Kind: "invoice", Ref: "R-2", GrandTotalOre: 250050},
		{Kind: "invoice", Ref: "R-3", GrandTotalOre: 99900},
		{Kind: "payment-link", Ref: "R-4", GrandTotalOre: 125000},
	} {
		o.Status = "needs_review"
		id := testdb.AddOrder(t, pool, o)
		ids[o.Ref] = id
		if _, err := pool.Exec(ctx, `UPDATE orders SET attempts = 1, status_at = now() - make_interval(mins => 10 - $2) WHERE id = $1`,
			id, i); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, finished_at,
				outcome, http_status, message)
			VALUES ($1, 1, 1, 0, 1, now(), 'ambiguous', 502, 'no answer: the request may have reached FP')`, id); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// Four orders wait for review; an operator lists them and decides each one
// a different way.
func TestReviewListAndDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	desk, pool := newDesk(t)
	ids := reviewOrders(t, pool)

	items, err := desk.NeedsReview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ref, kind string
		ore       int64
	}{{"R-1", "invoice", 450000}, {"R-2", "invoice", 250050}, {"R-3", "invoice", 99900}, {"R-4", "payment-link", 125000}}
	if len(items) != len(want) {
		t.Fatalf("review lists %d orders, want %d", len(items), len(want))
	}
	for i, it := range items {
		w := want[i] // oldest first
		if it.Ref != w.ref || it.Kind != w.kind || it.GrandTotalOre != w.ore || it.Attempts != 1 || it.FPOrderUUID != "" ||
			it.PossibleDuplicate != "" || !strings.Contains(it.ReviewReason, "may have reached FP") || it.ID != ids[w.ref] {
			t.Errorf("listed %+v, want %+v", it, w)
		}
		if a := it.LastAttempt; a == nil || a.Attempt != 1 || a.Outcome != "ambiguous" || a.HTTPStatus != 502 ||
			!strings.Contains(a.Message, "may have reached FP") || a.FinishedAt == nil {
			t.Errorf("%s: last attempt %+v, want #1 ambiguous, the gateway's 502", it.Ref, a)
		}
	}

	// Resubmit R-1 as a new FP order, by its reference; R-2 as an update of
	// the order FP did create, by kind:ref.
	res, jobID, err := desk.Resubmit(ctx, "R-1", store.Resubmit{ReviewDecision: store.ReviewDecision{By: "kari", Note: "not in FP's portal"}})
	if err != nil || res.FpgoUUID != "" || res.Version != 2 || res.Order.ID != ids["R-1"] || jobID == 0 {
		t.Errorf("resubmit R-1: %+v, job %d, %v; want version 2 as a new FP order", res, jobID, err)
	}
	if res, _, err := desk.Resubmit(ctx, "invoice:R-2", store.Resubmit{ReviewDecision: store.ReviewDecision{By: "ola"}, FpgoUUID: "ODR2"}); err != nil ||
		res.FpgoUUID != "ODR2" {
		t.Errorf("resubmit R-2: %+v, %v; want an update of ODR2", res, err)
	}
	if o := readOrder(t, pool, ids["R-1"]); o.Status != "queued" || o.FPOrderUUID != "" || o.Version != 2 {
		t.Errorf("R-1 resubmitted as new: %+v, want queued, version 2, no FP order", o)
	}
	if o := readOrder(t, pool, ids["R-2"]); o.Status != "queued" || o.FPOrderUUID != "ODR2" || o.Version != 2 {
		t.Errorf("R-2 resubmitted as update: %+v, want queued, version 2, FP order ODR2 (the job sends an update of it)", o)
	}
	for _, ref := range []string{"R-1", "R-2"} {
		if v := submitJobs(t, pool, ids[ref]); !slices.Equal(v, []int{2}) {
			t.Errorf("%s: submit jobs for versions %v, want [2]", ref, v)
		}
	}

	// Confirm R-3 by its id: FP has it. Nothing is sent: no job.
	ref, err := desk.Confirm(ctx, strconv.FormatInt(ids["R-3"], 10), "ODR3", store.ReviewDecision{By: "kari", Note: "seen in the portal"})
	if err != nil || ref.Ref != "R-3" {
		t.Fatalf("confirm R-3: %v, %v", ref, err)
	}
	if o := readOrder(t, pool, ids["R-3"]); o.Status != "submitted" || o.FPOrderUUID != "ODR3" || o.SubmittedAt == nil {
		t.Errorf("R-3 confirmed: %+v, want submitted as ODR3 with its time", o)
	}
	if v := submitJobs(t, pool, ids["R-3"]); len(v) != 0 {
		t.Errorf("confirm queued submit jobs %v; want none", v)
	}

	// Only an order in needs_review may be decided: nothing changes otherwise.
	for _, c := range []struct {
		ref    string
		status orderstate.Status
		decide func() error
	}{
		{"R-1", orderstate.Queued, func() error { _, _, err := desk.Resubmit(ctx, "R-1", store.Resubmit{}); return err }},
		{"R-2", orderstate.Queued, func() error { _, err := desk.Confirm(ctx, "invoice:R-2", "ODR2", store.ReviewDecision{}); return err }},
		{"R-3", orderstate.Submitted, func() error {
			_, _, err := desk.Resubmit(ctx, "R-3", store.Resubmit{KnownFpgo: true})
			return err
		}},
	} {
		before := testdb.Snapshot(t, pool, ids[c.ref])
		err := c.decide()
		var nr *store.NotInReviewError
		if !errors.As(err, &nr) || nr.Status != c.status || !strings.Contains(err.Error(), c.ref) ||
			!strings.Contains(err.Error(), "is "+string(c.status)+", not needs_review") {
			t.Errorf("deciding %s again: %v, want refused naming the order and its status %s", c.ref, err, c.status)
		}
		if after := testdb.Snapshot(t, pool, ids[c.ref]); after != before {
			t.Errorf("deciding %s again changed it:\n%s\n%s", c.ref, before, after)
		}
	}

	// Impossible decisions are refused; R-4 stays as it was.
	before := testdb.Snapshot(t, pool, ids["R-4"])
	if _, _, err := desk.Resubmit(ctx, "R-4", store.Resubmit{KnownFpgo: true}); err == nil || !strings.Contains(err.Error(), "no known FP order") {
		t.Errorf("resubmit R-4 as known: %v, want refused: FP's id is not known", err)
	}
	if _, err := desk.Confirm(ctx, "R-404", "ODR1", store.ReviewDecision{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("confirm R-404: %v, want not found", err)
	}
	if _, err := desk.Confirm(ctx, "R-4", "ODR3", store.ReviewDecision{}); err == nil || !strings.Contains(err.Error(), "R-3") {
		t.Errorf("confirm R-4 as R-3's FP order: %v, want refused naming R-3", err)
	}
	if after := testdb.Snapshot(t, pool, ids["R-4"]); after != before {
		t.Errorf("refused decisions changed R-4:\n%s\n%s", before, after)
	}
	if items, err := desk.NeedsReview(ctx); err != nil || len(items) != 1 || items[0].Ref != "R-4" {
		t.Errorf("still in review: %+v, %v; want R-4 alone", items, err)
	}

	// Each decision left exactly one event, with who, why and what was held.
	for ref, w := range map[string]struct {
		typ, status, by, note string
		fpgo, orderUUID       any
	}{
		"R-1": {"review_resubmit", "queued", "kari", "not in FP's portal", nil, nil},
		"R-2": {"review_resubmit", "queued", "ola", "", "ODR2", nil},
		"R-3": {"review_confirmed", "submitted", "kari", "seen in the portal", nil, "ODR3"},
	} {
		evs := events(t, pool, ids[ref], "review%")
		if len(evs) != 1 {
			t.Errorf("%s: %d review events, want 1: %+v", ref, len(evs), evs)
			continue
		}
		e, d := evs[0], evs[0].Detail
		if e.Type != w.typ || e.Status != w.status || d["by"] != w.by || d["note"] != w.note || d["previous_fp_order_uuid"] != nil ||
			d["fpgo_uuid"] != w.fpgo || d["order_uuid"] != w.orderUUID {
			t.Errorf("%s: event %+v, want %+v", ref, e, w)
		}
	}
	if evs := events(t, pool, ids["R-4"], "review%"); len(evs) != 0 {
		t.Errorf("R-4 has review events: %+v", evs)
	}

	if _, err := desk.Confirm(ctx, "R-4", "ODR4", store.ReviewDecision{By: "kari"}); err != nil {
		t.Fatal(err)
	}
	if items, err := desk.NeedsReview(ctx); err != nil || len(items) != 0 {
		t.Errorf("after the last decision: %+v, %v; want none in review", items, err)
	}
}

// A changed order's update reached FP but its answer was lost: the order FP
// has is known, and resubmitting with KnownFpgo sends the change again as an
// update of it, never as a second order.
func TestResubmitKnownUpdatesFP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	desk, pool := newDesk(t)
	id := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "R-1", Status: "needs_review", FPOrderUUID: "ODR7"})
	if _, err := pool.Exec(ctx, `INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, fpgo_uuid, outcome)
		VALUES ($1, 1, 1, 0, 1, 'ODR7', 'ambiguous')`, id); err != nil {
		t.Fatal(err)
	}
	items, err := desk.NeedsReview(ctx)
	if err != nil || len(items) != 1 || items[0].FPOrderUUID != "ODR7" || items[0].LastAttempt == nil || items[0].LastAttempt.FpgoUUID != "ODR7" {
		t.Fatalf("listed %+v, %v; want R-1 with its FP order and the update attempt", items, err)
	}
	res, _, err := desk.Resubmit(ctx, "R-1", store.Resubmit{ReviewDecision: store.ReviewDecision{By: "kari"}, KnownFpgo: true})
	if err != nil || res.FpgoUUID != "ODR7" {
		t.Fatalf("resubmit known: %+v, %v; want an update of ODR7", res, err)
	}
	if o := readOrder(t, pool, id); o.Status != "queued" || o.FPOrderUUID != "ODR7" || o.Version != 2 {
		t.Errorf("R-1: %+v, want queued as version 2, still FP order ODR7", o)
	}
	evs := events(t, pool, id, "review%")
	if len(evs) != 1 || evs[0].Detail["fpgo_uuid"] != "ODR7" || evs[0].Detail["previous_fp_order_uuid"] != "ODR7" || evs[0].Detail["by"] != "kari" {
		t.Errorf("events: %+v", evs)
	}
}
