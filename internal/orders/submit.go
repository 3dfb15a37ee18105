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
// attempt row, the order's status and its event together.

// StartSubmit is the common case of a submit job's start, in one statement:
// the order is queued and has no attempt without an outcome, so
// a new attempt is recorded, the order marked submitting and the
// attempt_started event written. ok is false, with nothing changed, in any
// other case; the caller then looks closer in a transaction. sender is the
// worker process (throttle.ID).
func StartSubmit(ctx context.Context, db store.DB, orderID, jobID int64, jobAttempt int, sender string) (o *store.Order, attemptID int64, attempt int, ok bool, err error) {
	m := attemptStarted(`cur AS (
			SELECT * FROM orders WHERE id = @id FOR NO KEY UPDATE
		), ready AS (
			-- queued only: 'submitting' means an attempt started (perhaps by
			-- a run that crashed, perhaps by a concurrent one this statement
			-- waited for, whose attempt its snapshot cannot see). The row lock
			-- returns the row as committed after the wait.
			SELECT cur.* FROM cur WHERE status = @queued::text AND status = ANY(@from::text[])
				AND NOT EXISTS (SELECT 1 FROM submit_attempts WHERE order_id = @id AND outcome IS NULL)
		), a AS (
			INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, fpgo_uuid, sender)
			SELECT @id, (SELECT coalesce(max(attempt), 0) + 1 FROM submit_attempts WHERE order_id = @id),
				ready.version, @job_id, @job_attempt, ready.fp_order_uuid, nullif(@sender::text, '') FROM ready
			RETURNING id, attempt, job_id, fpgo_uuid
		),`, pgx.NamedArgs{"queued": string(orderstate.Queued), "job_id": jobID, "job_attempt": jobAttempt, "sender": sender})
	m.result = `SELECT r.id, r.kind, r.order_ref, r.version, r.status, r.order_data, coalesce(r.fp_status, ''),
			coalesce(r.fp_status_created_at, 0), coalesce(r.fp_status_callback_id, 0), coalesce(r.fp_order_uuid, ''),
			moved.attempt, r.grand_total_ore, moved.attempt_id, moved.attempt
		FROM ready r, moved`
	sql, args, err := m.stmt(orderID)
	if err != nil {
		return nil, 0, 0, false, err
	}
	var od store.Order
	err = db.QueryRow(ctx, sql, args...).Scan(&od.ID, &od.Kind, &od.Ref, &od.Version, &od.Status, &od.Data,
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

// StartAttempt records a new attempt (outcome unknown), marks the order
// submitting and writes the attempt_started event, in one statement, on an
// order locked by store.LockForSubmit. It must be committed before the
// request goes out. sender is the worker process (throttle.ID).
func StartAttempt(ctx context.Context, tx pgx.Tx, o *store.Order, jobID int64, jobAttempt int, fpgoUUID, sender string) (attemptID int64, attempt int, err error) {
	m := attemptStarted(`n AS (
			SELECT coalesce(max(attempt), 0) + 1 AS attempt FROM submit_attempts WHERE order_id = @id
		), a AS (
			INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, fpgo_uuid, sender)
			SELECT @id, n.attempt, @version, @job_id, @job_attempt, nullif(@fpgo::text, ''), nullif(@sender::text, '')
			FROM n, orders WHERE orders.id = @id AND orders.status = ANY(@from::text[])
			RETURNING id, attempt, job_id, fpgo_uuid
		),`, pgx.NamedArgs{"version": o.Version, "job_id": jobID, "job_attempt": jobAttempt, "fpgo": fpgoUUID, "sender": sender})
	m.result = `SELECT attempt_id, attempt FROM moved`
	sql, args, err := m.stmt(o.ID)
	if err != nil {
		return 0, 0, err
	}
	err = tx.QueryRow(ctx, sql, args...).Scan(&attemptID, &attempt)
	if errors.Is(err, pgx.ErrNoRows) { // the order is locked: the table refused the move
		return 0, 0, fmt.Errorf("%s may not move an order from %s to %s (transition table)", m.by, o.Status, m.to)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("recording attempt: %w", err)
	}
	return attemptID, attempt, nil
}

// attemptStarted is the move of an attempt's start (queued → submitting,
// or submitting again for a kind that may be resent): with must insert the
// attempt as the CTE a, only when the move is allowed. The order's attempt
// count is the attempt's number; the event names the attempt, its job and
// the FP order it updates (fpgoUuid, if any).
func attemptStarted(with string, args pgx.NamedArgs) move {
	return move{
		by: orderstate.SubmitJob, to: orderstate.Submitting, event: "attempt_started", restamp: true,
		with: with, from: "a", set: `, attempts = a.attempt`, args: args,
		returning: `, a.id AS attempt_id, a.attempt, a.job_id, a.fpgo_uuid`,
		evAttempt: `moved.attempt`,
		evDetail:  `jsonb_build_object('job_id', moved.job_id, 'fpgo_uuid', moved.fpgo_uuid)`,
	}
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
	m := move{
		by: orderstate.SubmitJob, to: orderstate.Submitted, event: "submitted", attempt: attempt, detail: detail,
		always: true,
		with: `a AS (
			UPDATE submit_attempts SET outcome = 'created', http_status = @http_status, message = @message, finished_at = now()
			WHERE id = @attempt_id AND outcome IS NULL RETURNING id
		),`,
		from: "a",
		set: `, fp_order_uuid = coalesce(orders.fp_order_uuid, nullif(@uuid::text, '')),
			possible_duplicate = CASE WHEN orders.fp_order_uuid IS NOT NULL AND @uuid::text <> '' AND orders.fp_order_uuid <> @uuid::text
				THEN @uuid::text ELSE orders.possible_duplicate END,
			fp_customer_uuid = coalesce(nullif(@customer_uuid::text, ''), orders.fp_customer_uuid),
			payment_url = coalesce(nullif(@payment_url::text, ''), orders.payment_url),
			bank_id_url = coalesce(nullif(@bank_id_url::text, ''), orders.bank_id_url),
			submitted_at = now(), last_error = NULL, review_reason = NULL`,
		args: pgx.NamedArgs{"attempt_id": attemptID, "http_status": hs, "message": message, "uuid": c.OrderUUID,
			"customer_uuid": c.CustomerUUID, "payment_url": c.PaymentURL, "bank_id_url": c.BankIDURL},
		// The event (with status submitted: FP accepted the attempt) is
		// written whatever the order's status now.
		result: `SELECT EXISTS (SELECT 1 FROM a)`,
	}
	return door(ctx, db, orderID, m)
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
		set:  `, last_error = nullif(@reason::text, ''), review_reason = coalesce(@review::text, orders.review_reason)`,
		args: pgx.NamedArgs{"reason": v.Reason, "review": review},
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
