// Package operator holds what an operator reads and decides from the
// command line: the recent batches and River's queues (`worker status`), one
// batch's orders (`worker status BATCH`), sending failed orders again
// (`worker retry`), deciding the orders in needs_review (`worker review`),
// what needs a person (`worker attention`), finding an order (`worker
// orders --search`) and one order's whole history (`worker order`). It
// returns data and typed errors; the command prints them.
// Every change of an order's status goes through internal/orders.
package operator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/store"
)

// Desk reads and decides on one database. Its River client only inserts
// submit jobs; a running `worker run` works them.
type Desk struct {
	pool  *pgxpool.Pool
	queue orders.Queue
	fp    FP // for Cancel and Resend; nil when FP is not configured
}

// New returns the desk of pool.
func New(pool *pgxpool.Pool) (*Desk, error) {
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // inserts only, never starts
	if err != nil {
		return nil, err
	}
	return &Desk{pool: pool, queue: jobs.SubmitQueue{Client: inserter}}, nil
}

// NoBatchError: no batch has this number.
type NoBatchError struct{ ID int64 }

func (e *NoBatchError) Error() string {
	return fmt.Sprintf("no batch %d (`worker status` lists the recent ones)", e.ID)
}

// Overview is what `worker status` shows: the batches imported in the last
// Days days, newest first, and River's queues.
type Overview struct {
	Days    int
	Batches []store.BatchSummary
	Queues  []QueueDepth
}

// QueueDepth is one River queue's unfinished jobs.
type QueueDepth struct {
	Queue                                    string
	Available, Scheduled, Retryable, Running int64
	OldestAge                                time.Duration // of its oldest unfinished job; 0 when empty
}

// Overview reads the batches imported since now − days and the queues.
func (d *Desk) Overview(ctx context.Context, days int, now time.Time) (*Overview, error) {
	batches, err := store.BatchesSince(ctx, d.pool, now.AddDate(0, 0, -days))
	if err != nil {
		return nil, err
	}
	stats, err := store.QueueStats(ctx, d.pool)
	if err != nil {
		return nil, err
	}
	return &Overview{Days: days, Batches: batches, Queues: queueDepths(stats)}, nil
}

// queueDepths folds the per-state counts into one row per queue, sorted;
// the worker's own queues are listed even when empty.
func queueDepths(stats []store.QueueStat) []QueueDepth {
	byQueue := map[string]*QueueDepth{}
	for _, q := range []string{jobargs.QueueSubmit, jobargs.QueueCallbacks, river.QueueDefault} {
		byQueue[q] = &QueueDepth{Queue: q}
	}
	for _, s := range stats {
		r := byQueue[s.Queue]
		if r == nil {
			r = &QueueDepth{Queue: s.Queue}
			byQueue[s.Queue] = r
		}
		switch s.State {
		case "available":
			r.Available = s.Jobs
		case "scheduled":
			r.Scheduled = s.Jobs
		case "retryable":
			r.Retryable = s.Jobs
		case "running":
			r.Running = s.Jobs
		}
		r.OldestAge = max(r.OldestAge, s.OldestAge)
	}
	out := make([]QueueDepth, 0, len(byQueue))
	for _, q := range slices.Sorted(maps.Keys(byQueue)) {
		out = append(out, *byQueue[q])
	}
	return out
}

// MaxBatchOrders bounds the orders BatchView reads; a larger batch is
// better read in the report.
const MaxBatchOrders = 100_000

// BatchView is what `worker status BATCH` shows.
type BatchView struct {
	Batch     store.BatchSummary
	Orders    []store.BatchOrder // in file order, at most MaxBatchOrders
	Truncated bool               // the batch has more
}

// Batch reads batch id and its orders (*NoBatchError if there is none).
func (d *Desk) Batch(ctx context.Context, id int64) (*BatchView, error) {
	b, err := batchByID(ctx, d.pool, id)
	if err != nil {
		return nil, err
	}
	list, err := store.BatchOrders(ctx, d.pool, id, MaxBatchOrders)
	if err != nil {
		return nil, err
	}
	return &BatchView{Batch: b, Orders: list, Truncated: len(list) == MaxBatchOrders}, nil
}

func batchByID(ctx context.Context, db store.DB, id int64) (store.BatchSummary, error) {
	b, err := store.BatchByID(ctx, db, id)
	if errors.Is(err, store.ErrNotFound) {
		return b, &NoBatchError{ID: id}
	}
	return b, err
}

// NoFailedOrdersError: `worker retry BATCH` on a batch without failed
// orders.
type NoFailedOrdersError struct{ Batch int64 }

func (e *NoFailedOrdersError) Error() string {
	return fmt.Sprintf("batch %d has no failed orders; nothing changed", e.Batch)
}

// Retried is what became of one order a retry named: queued again
// (Retried, JobID) or refused (Err, nothing changed).
type Retried struct {
	Order   store.OrderRef
	Retried *store.Retried
	JobID   int64 // the new submit job
	Err     error
}

// Retry sends failed orders again, on purpose: spec is a batch number (its
// failed orders) or one order (store.ResolveOrder). Each order goes back to
// queued with a new version, its event and its submit job in one
// transaction of its own: an order that stopped being failed meanwhile (a
// callback came) is refused in its Retried, the others are still queued.
// The error is for a spec that names nothing to retry.
func (d *Desk) Retry(ctx context.Context, spec string, dec store.RetryDecision) ([]Retried, error) {
	var targets []store.OrderRef
	if batchID, err := strconv.ParseInt(spec, 10, 64); err == nil {
		if _, err := batchByID(ctx, d.pool, batchID); err != nil {
			return nil, err
		}
		if targets, err = store.FailedOrdersOfBatch(ctx, d.pool, batchID); err != nil {
			return nil, err
		}
		if len(targets) == 0 {
			return nil, &NoFailedOrdersError{Batch: batchID}
		}
		dec.BatchID = batchID
	} else {
		ref, err := store.ResolveOrder(ctx, d.pool, spec)
		if err != nil {
			return nil, err
		}
		targets = []store.OrderRef{ref}
	}
	out := make([]Retried, len(targets))
	for i, ref := range targets {
		out[i].Order = ref
		out[i].Err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) (err error) {
			out[i].Retried, out[i].JobID, err = orders.RetryFailed(ctx, tx, d.queue, ref.ID, dec)
			return err
		})
	}
	return out, nil
}

// NeedsReview lists the orders in needs_review, oldest first, with the
// evidence of their last attempt.
func (d *Desk) NeedsReview(ctx context.Context) ([]store.ReviewItem, error) {
	return store.ListNeedsReview(ctx, d.pool)
}

// Resubmit queues the order spec names (store.ResolveOrder) to be sent
// again: status, event and submit job in one transaction, so a decision is
// never recorded without its job or the reverse. It returns the new submit
// job's id.
func (d *Desk) Resubmit(ctx context.Context, spec string, r store.Resubmit) (*store.Resubmitted, int64, error) {
	ref, err := store.ResolveOrder(ctx, d.pool, spec)
	if err != nil {
		return nil, 0, err
	}
	var res *store.Resubmitted
	var jobID int64
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) (err error) {
		res, jobID, err = orders.ResubmitReviewed(ctx, tx, d.queue, ref.ID, r)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return res, jobID, nil
}

// Confirm records that FP has the order spec names as orderUUID: it is
// submitted with that id, and nothing is sent.
func (d *Desk) Confirm(ctx context.Context, spec, orderUUID string, dec store.ReviewDecision) (store.OrderRef, error) {
	ref, err := store.ResolveOrder(ctx, d.pool, spec)
	if err != nil {
		return store.OrderRef{}, err
	}
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) (err error) {
		ref, err = orders.ConfirmReviewed(ctx, tx, ref.ID, orderUUID, dec)
		return err
	})
	return ref, err
}
