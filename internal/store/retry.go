package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
)

// NotFailedError: `worker retry` sends only orders in failed, and this one is
// not (or no longer: a callback came, someone retried it, a re-import
// changed it).
type NotFailedError struct {
	Order  OrderRef
	Status orderstate.Status
}

func (e *NotFailedError) Error() string {
	msg := fmt.Sprintf("order %s is %s, not failed; nothing changed", e.Order, e.Status)
	if e.Status == orderstate.NeedsReview {
		msg += " (a request may have reached FP: decide it with `worker review`)"
	}
	return msg
}

// RetryDecision is who retries, why, and the batch named (0: one order).
type RetryDecision struct {
	ReviewDecision
	BatchID int64
}

// Retried is what orders.RetryFailed did.
type Retried struct {
	Order     OrderRef
	Version   int    // the order's new version: the submit job's unique key
	LastError string // why it had failed
}

// FailedOrdersOfBatch lists the failed orders whose current version the
// batch brought, in file order.
func FailedOrdersOfBatch(ctx context.Context, db DB, batchID int64) ([]OrderRef, error) {
	rows, err := db.Query(ctx, `SELECT id, kind, order_ref FROM orders WHERE batch_id = $1 AND status = 'failed'
		ORDER BY source_row, id`, batchID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (OrderRef, error) {
		var r OrderRef
		err := row.Scan(&r.ID, &r.Kind, &r.Ref)
		return r, err
	})
}
