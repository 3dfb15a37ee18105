package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// A person's moves: `worker review` decides an order in needs_review,
// `worker retry` sends a failed order once more.

// lockForDecision locks the order and checks that a person's review
// decision may move it to `to` (orderstate.CanDecide): a concurrent decision
// waits for the lock and then finds the order already decided.
func lockForDecision(ctx context.Context, tx pgx.Tx, id int64, to orderstate.Status) (*store.Reviewed, error) {
	o, err := store.LockForDecision(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !orderstate.CanDecide(o.Status, to) {
		return nil, &store.NotInReviewError{Order: o.OrderRef, Status: o.Status}
	}
	return o, nil
}

// ResubmitReviewed moves an order from needs_review back to queued, to be
// sent again, records the decision as a review_resubmit event and inserts
// the submit job for the new version, all in tx (requeue).
//
// Without an fpgoUuid the order's fp_order_uuid is cleared (the next answer
// brings FP's new id); the previous one stays in the event.
func ResubmitReviewed(ctx context.Context, tx pgx.Tx, q Queue, orderID int64, r store.Resubmit) (*store.Resubmitted, int64, error) {
	o, err := lockForDecision(ctx, tx, orderID, orderstate.Queued)
	if err != nil {
		return nil, 0, err
	}
	fpgo := r.FpgoUUID
	if r.KnownFpgo {
		fpgo = o.FPOrderUUID
		if fpgo == "" {
			fpgo = o.PossibleDuplicate
		}
		if fpgo == "" {
			return nil, 0, fmt.Errorf("order %s has no known FP order (no fp_order_uuid, no possible_duplicate): give --fpgo-uuid UUID, or resubmit it as a new order; nothing changed", o.OrderRef)
		}
	}
	if fpgo != "" {
		if err := store.CheckFPOrderFree(ctx, tx, o, fpgo); err != nil {
			return nil, 0, err
		}
	}
	if err := store.CloseOpenAttempts(ctx, tx, o.ID); err != nil {
		return nil, 0, err
	}
	detail := reviewDetail(r.ReviewDecision, o)
	detail["fpgo_uuid"] = nullable(fpgo)
	// The FP order now named is no longer a "possible duplicate"; the one
	// held before takes its place if it differs.
	version, jobID, err := requeue(ctx, tx, q, o, move{
		by: orderstate.Person, to: orderstate.Queued, event: "review_resubmit", detail: detail,
		set: `, fp_order_uuid = nullif(@fpgo::text, ''),
			possible_duplicate = CASE WHEN orders.possible_duplicate = @fpgo::text THEN nullif(orders.fp_order_uuid, @fpgo::text)
				ELSE orders.possible_duplicate END,
			last_error = NULL, review_reason = NULL`,
		args: pgx.NamedArgs{"fpgo": fpgo},
	})
	if err != nil {
		return nil, 0, err
	}
	return &store.Resubmitted{Order: o.OrderRef, Version: version, FpgoUUID: fpgo}, jobID, nil
}

// ConfirmReviewed records an operator's finding that FP has the order as
// orderUUID: the order is submitted with that id (FP's callbacks take it on
// from there), and the decision is a review_confirmed event. Nothing is sent.
func ConfirmReviewed(ctx context.Context, tx pgx.Tx, orderID int64, orderUUID string, d store.ReviewDecision) (store.OrderRef, error) {
	o, err := lockForDecision(ctx, tx, orderID, orderstate.Submitted)
	if err != nil {
		return store.OrderRef{}, err
	}
	if err := store.CheckFPOrderFree(ctx, tx, o, orderUUID); err != nil {
		return store.OrderRef{}, err
	}
	if err := store.CloseOpenAttempts(ctx, tx, o.ID); err != nil {
		return store.OrderRef{}, err
	}
	detail := reviewDetail(d, o)
	detail["order_uuid"] = orderUUID
	applied, err := door(ctx, tx, o.ID, move{
		by: orderstate.Person, to: orderstate.Submitted, event: "review_confirmed", detail: detail,
		set: `, fp_order_uuid = @order_uuid::text,
			possible_duplicate = CASE WHEN orders.possible_duplicate = @order_uuid::text THEN nullif(orders.fp_order_uuid, @order_uuid::text)
				ELSE orders.possible_duplicate END,
			submitted_at = coalesce(orders.submitted_at, now()), last_error = NULL, review_reason = NULL`,
		args: pgx.NamedArgs{"order_uuid": orderUUID},
	})
	if err == nil && !applied { // cannot happen: the order is locked in needs_review
		err = fmt.Errorf("order %s left needs_review while locked", o.OrderRef)
	}
	if err != nil {
		return store.OrderRef{}, fmt.Errorf("confirming order %s: %w", o.OrderRef, err)
	}
	return o.OrderRef, nil
}

// RetryFailed moves an order from failed back to queued, to be sent once
// more, records an operator_retry event and inserts the submit job for the
// new version, all in tx (requeue).
//
// Only failed is safe to resend blindly: every attempt of a failed order
// ended before FP created anything (refused before the request was written,
// or FP's own "try again later"), or it is a checkout kind, for which a second
// session is harmless. An invoice or payment link that may have reached FP is
// in needs_review instead, and provider_rejected would only be refused again.
// An order that held FP's id (a change sent as an update) keeps it, and is
// sent as an update again.
func RetryFailed(ctx context.Context, tx pgx.Tx, q Queue, orderID int64, d store.RetryDecision) (*store.Retried, int64, error) {
	o, err := store.LockForDecision(ctx, tx, orderID)
	if err != nil {
		return nil, 0, err
	}
	if o.Status != orderstate.Failed {
		return nil, 0, &store.NotFailedError{Order: o.OrderRef, Status: o.Status}
	}
	// No attempt of a failed order is open, but a request must never be
	// taken for one in flight because of a row left behind.
	if err := store.CloseOpenAttempts(ctx, tx, o.ID); err != nil {
		return nil, 0, err
	}
	detail := map[string]any{"by": d.By, "note": d.Note, "previous_error": o.LastError}
	if d.BatchID != 0 {
		detail["batch_id"] = d.BatchID
	}
	version, jobID, err := requeue(ctx, tx, q, o, move{
		by: orderstate.Person, to: orderstate.Queued, event: "operator_retry", detail: detail,
		set: `, last_error = NULL`,
	})
	if err != nil {
		return nil, 0, err
	}
	return &store.Retried{Order: o.OrderRef, Version: version, LastError: o.LastError}, jobID, nil
}

// reviewDetail is what every decision's event records besides its own
// choice: who, why, and what the order held before.
func reviewDetail(d store.ReviewDecision, o *store.Reviewed) map[string]any {
	return map[string]any{
		"by":                          d.By,
		"note":                        d.Note,
		"previous_fp_order_uuid":      nullable(o.FPOrderUUID),
		"previous_possible_duplicate": nullable(o.PossibleDuplicate),
		"review_reason":               o.ReviewReason,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
