package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// Queue inserts the submit job for an order's version in a transaction
// (jobs.SubmitQueue, with a River client that may only insert).
type Queue interface {
	InsertSubmitTx(ctx context.Context, tx pgx.Tx, orderID int64, version int) (jobID int64, duplicate bool, err error)
}

// requeue sends a locked order back to queued with a new version and
// inserts its submit job, in tx: the one way a person sends an order again
// (`worker retry`, `worker review`; later the web page). m is the move
// (a person's, to queued) with its event; the new version goes into the
// event's detail.
//
// The version goes up by one: submit jobs are unique by (order, version),
// and the version that failed or went to review already had its job
// (completed or discarded), so without a new version River would take the
// new job for a duplicate.
func requeue(ctx context.Context, tx pgx.Tx, q Queue, o *store.Reviewed, m move) (version int, jobID int64, err error) {
	if m.to != orderstate.Queued {
		return 0, 0, fmt.Errorf("requeue moves to queued, not %s", m.to)
	}
	version = o.Version + 1 // the order is locked: the update below makes it so
	if m.detail == nil {
		m.detail = map[string]any{}
	}
	m.detail["version"] = version
	m.set = `, version = orders.version + 1` + m.set
	applied, err := door(ctx, tx, o.ID, m)
	if err == nil && !applied { // the order is locked in its state: the table refused the move
		err = fmt.Errorf("%s may not move an order from %s to %s (transition table)", m.by, o.Status, m.to)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("requeueing order %s: %w", o.OrderRef, err)
	}
	jobID, dup, err := q.InsertSubmitTx(ctx, tx, o.ID, version)
	if err != nil {
		return 0, 0, fmt.Errorf("queueing the submit job: %w", err)
	}
	if dup { // cannot happen: the version is new
		return 0, 0, fmt.Errorf("order %s version %d already has a submit job; nothing changed", o.OrderRef, version)
	}
	return version, jobID, nil
}
