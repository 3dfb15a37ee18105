package store

import (
	"context"
	"errors"
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

// Retried is what RetryFailed did.
type Retried struct {
	Order     OrderRef
	Version   int    // the order's new version: the submit job's unique key
	LastError string // why it had failed
}

// RetryFailed moves an order from failed back to queued, to be sent once
// more, and records an operator_retry event. The caller inserts the submit
// job for (Order.ID, Version) in the same transaction.
//
// Only failed is safe to resend blindly: every attempt of a failed order
// ended before FP created anything (refused before the request was written,
// or FP's own "try again later"), or it is a checkout kind, for which a second
// session is harmless. An invoice or payment link that may have reached FP is
// in needs_review instead, and provider_rejected would only be refused again.
//
// The version goes up by one as in ResubmitReviewed: submit jobs are unique
// by (order, version), and the failed version's job still exists (discarded
// or completed), so River would take a new job of it for a duplicate. An
// order that held FP's id (a change sent as an update) keeps it, and is
// sent as an update again.
func RetryFailed(ctx context.Context, tx pgx.Tx, orderID int64, d RetryDecision) (*Retried, error) {
	var r Retried
	var status orderstate.Status
	err := tx.QueryRow(ctx, `SELECT id, kind, order_ref, status, coalesce(last_error, '') FROM orders WHERE id = $1 FOR NO KEY UPDATE`, orderID).
		Scan(&r.Order.ID, &r.Order.Kind, &r.Order.Ref, &status, &r.LastError)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("order %d: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if status != orderstate.Failed {
		return nil, &NotFailedError{Order: r.Order, Status: status}
	}
	// No attempt of a failed order is open, but a request must never be
	// taken for one in flight because of a row left behind.
	if err := closeOpenAttempts(ctx, tx, r.Order.ID); err != nil {
		return nil, err
	}
	err = tx.QueryRow(ctx, `UPDATE orders SET status = 'queued', status_at = now(), version = version + 1,
			last_error = NULL, updated_at = now()
		WHERE id = $1 RETURNING version`, r.Order.ID).Scan(&r.Version)
	if err != nil {
		return nil, fmt.Errorf("retrying order %s: %w", r.Order, err)
	}
	detail := map[string]any{"by": d.By, "note": d.Note, "previous_error": r.LastError, "version": r.Version}
	if d.BatchID != 0 {
		detail["batch_id"] = d.BatchID
	}
	if err := AddEvent(ctx, tx, r.Order.ID, "operator_retry", string(orderstate.Queued), 0, detail); err != nil {
		return nil, err
	}
	return &r, nil
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
