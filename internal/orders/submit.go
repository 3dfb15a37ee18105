package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// The submit job's moves. Starting an attempt and recording FP's
// acceptance are the hot path: each is one statement that writes the
// attempt row and the order's status together.

// StartSubmit is the common case of a submit job's start, in one statement:
// the order is queued and has no attempt without an outcome, so
// a new attempt is recorded and the order marked submitting (the attempt
// row, with its job, version and fpgoUuid, is the record of the start: no
// event besides it). ok is false, with nothing changed, in any
// other case; the caller then looks closer in a transaction. sender is the
// worker process (throttle.ID).
func StartSubmit(ctx context.Context, db store.DB, orderID, jobID int64, jobAttempt int, sender string) (o *store.Order, attemptID int64, attempt int, ok bool, err error) {
	var od store.Order
	err = db.QueryRow(ctx, `WITH cur AS (
			SELECT * FROM orders WHERE id = $1 FOR NO KEY UPDATE
		), ready AS (
			-- queued only: 'submitting' means an attempt started (perhaps by
			-- a run that crashed, perhaps by a concurrent one this statement
			-- waited for, whose attempt its snapshot cannot see). The row lock
			-- returns the row as committed after the wait.
			SELECT cur.* FROM cur WHERE status = $5::text
				AND NOT EXISTS (SELECT 1 FROM submit_attempts WHERE order_id = $1 AND outcome IS NULL)
		), a AS (
			INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, fpgo_uuid, sender)
			SELECT $1, (SELECT coalesce(max(attempt), 0) + 1 FROM submit_attempts WHERE order_id = $1),
				ready.version, $2, $3, ready.fp_order_uuid, nullif($4, '') FROM ready
			RETURNING id, attempt
		), u AS (
			UPDATE orders SET status = $6::text, status_at = now(), attempts = a.attempt, updated_at = now()
			FROM a WHERE orders.id = $1
		)
		SELECT r.id, r.kind, r.order_ref, r.version, r.status, r.order_data, coalesce(r.fp_status, ''),
			coalesce(r.fp_status_created_at, 0), coalesce(r.fp_status_callback_id, 0), coalesce(r.fp_order_uuid, ''),
			a.attempt, r.grand_total_ore, a.id, a.attempt
		FROM ready r, a`, orderID, jobID, jobAttempt, sender, string(orderstate.Queued), string(orderstate.Submitting)).Scan(&od.ID, &od.Kind, &od.Ref, &od.Version, &od.Status, &od.Data,
		&od.FPStatus, &od.FPStatusCreatedAt, &od.FPStatusCallback, &od.FPOrderUUID, &od.Attempts, &od.GrandTotalOre,
		&attemptID, &attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, 0, false, nil
	}
	if err != nil {
		return nil, 0, 0, false, fmt.Errorf("recording attempt: %w", err)
	}
	return &od, attemptID, attempt, true, nil
}

// StartAttempt records a new attempt (outcome unknown) and marks the order
// submitting, in one statement, on an order locked by store.LockForSubmit.
// It must be committed before the request goes out. sender is the worker
// process (throttle.ID).
func StartAttempt(ctx context.Context, tx pgx.Tx, o *store.Order, jobID int64, jobAttempt int, fpgoUUID, sender string) (attemptID int64, attempt int, err error) {
	if err := mustAllow(o.Status, orderstate.Submitting, orderstate.SubmitJob); err != nil {
		return 0, 0, err
	}
	err = tx.QueryRow(ctx, `WITH n AS (
			SELECT coalesce(max(attempt), 0) + 1 AS attempt FROM submit_attempts WHERE order_id = $1
		), a AS (
			INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, fpgo_uuid, sender)
			SELECT $1, n.attempt, $2, $3, $4, nullif($5, ''), nullif($6, '') FROM n
			RETURNING id, attempt
		), o AS (
			UPDATE orders SET status = $7::text, status_at = now(), attempts = a.attempt, updated_at = now()
			FROM a WHERE orders.id = $1
		)
		SELECT id, attempt FROM a`, o.ID, o.Version, jobID, jobAttempt, fpgoUUID, sender, string(orderstate.Submitting)).Scan(&attemptID, &attempt)
	if err != nil {
		return 0, 0, fmt.Errorf("recording attempt: %w", err)
	}
	return attemptID, attempt, nil
}

// Created is what FP returned for an accepted order.
type Created struct {
	OrderUUID, CustomerUUID, PaymentURL, BankIDURL string
}

// RecordCreated records FP's acceptance of an attempt: the attempt's
// outcome, FP's ids on the order and the submitted event, in one statement
// (its own transaction). A callback may already have moved the order
// further (FP can call back before we record its answer): the status only
// moves forward, from the states the table lets the submit job move to
// submitted, and a different orderUuid than one a callback attached is
// kept as a possible duplicate. It reports false, changing nothing, when the
// attempt has an outcome already (a repeat after a lost commit reply).
func RecordCreated(ctx context.Context, db store.DB, orderID, attemptID int64, attempt, httpStatus int, message string, c Created, detail map[string]any) (bool, error) {
	var hs *int
	if httpStatus != 0 {
		hs = &httpStatus
	}
	var recorded bool
	err := db.QueryRow(ctx, `WITH a AS (
			UPDATE submit_attempts SET outcome = 'created', http_status = $7, message = $8, finished_at = now()
			WHERE id = $6 AND outcome IS NULL RETURNING id
		), o AS (
			UPDATE orders SET
				status = CASE WHEN status = ANY($11::text[]) THEN $12::text ELSE status END,
				status_at = CASE WHEN status = ANY($11::text[]) THEN now() ELSE status_at END,
				fp_order_uuid = coalesce(fp_order_uuid, nullif($2, '')),
				possible_duplicate = CASE WHEN fp_order_uuid IS NOT NULL AND $2 <> '' AND fp_order_uuid <> $2 THEN $2
					ELSE possible_duplicate END,
				fp_customer_uuid = coalesce(nullif($3, ''), fp_customer_uuid),
				payment_url = coalesce(nullif($4, ''), payment_url), bank_id_url = coalesce(nullif($5, ''), bank_id_url),
				submitted_at = now(), last_error = NULL, review_reason = NULL, updated_at = now()
			WHERE id = $1 AND EXISTS (SELECT 1 FROM a)
		), e AS (
			INSERT INTO order_events (order_id, type, status, attempt, detail)
			SELECT $1, 'submitted', $12::text, $9, $10 FROM a
		)
		SELECT EXISTS (SELECT 1 FROM a)`, orderID, c.OrderUUID, c.CustomerUUID, c.PaymentURL, c.BankIDURL,
		attemptID, hs, message, attempt, detail,
		statuses(orderstate.From(orderstate.Submitted, orderstate.SubmitJob)), string(orderstate.Submitted)).Scan(&recorded)
	return recorded, err
}

// Verdict is the submit job's verdict on an order still being submitted:
// queued for a retry, provider_rejected, needs_review, failed.
type Verdict struct {
	Status orderstate.Status
	Reason string // in last_error (and review_reason for needs_review)
	// Event is the order_events type; Attempt and Detail go with it.
	Event   string
	Attempt int
	Detail  map[string]any
	// StatusIfDropped: when the verdict is dropped, the event is still
	// written, with the verdict's status (true) or none (false).
	StatusIfDropped bool
}

// Settle records the submit job's verdict and its event. It changes only an
// order still being submitted: if FP's callback arrived meanwhile (FP had
// the order after all), FP's word stands and the verdict is dropped; the
// event is written either way. It reports whether the verdict applied.
func Settle(ctx context.Context, tx pgx.Tx, orderID int64, v Verdict) (bool, error) {
	var review *string
	if v.Status == orderstate.NeedsReview {
		review = &v.Reason
	}
	applied, err := door(ctx, tx, orderID, move{
		by: orderstate.SubmitJob, to: v.Status, event: v.Event, attempt: v.Attempt, detail: v.Detail,
		set:  `, last_error = nullif($7, ''), review_reason = coalesce($8, review_reason)`,
		args: []any{v.Reason, review},
	})
	if err != nil || applied {
		return applied, err
	}
	st := ""
	if v.StatusIfDropped {
		st = string(v.Status)
	}
	return false, store.AddEvent(ctx, tx, orderID, v.Event, st, v.Attempt, v.Detail)
}
