package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frontpayment/fpexport/internal/orderstate"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Order is an order row as the jobs need it.
type Order struct {
	ID                int64
	Kind              string
	Ref               string
	Version           int
	Status            orderstate.Status
	Data              []byte
	FPStatus          string
	FPStatusCreatedAt int64
	FPStatusCallback  int64
	FPOrderUUID       string
	Attempts          int
	GrandTotalOre     int64
}

const orderColumns = `id, kind, order_ref, version, status, order_data, coalesce(fp_status, ''),
	coalesce(fp_status_created_at, 0), coalesce(fp_status_callback_id, 0), coalesce(fp_order_uuid, ''), attempts, grand_total_ore`

func scanOrder(row pgx.Row) (*Order, error) {
	var o Order
	err := row.Scan(&o.ID, &o.Kind, &o.Ref, &o.Version, &o.Status, &o.Data, &o.FPStatus,
		&o.FPStatusCreatedAt, &o.FPStatusCallback, &o.FPOrderUUID, &o.Attempts, &o.GrandTotalOre)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &o, err
}

// LockOrder reads an order and locks it against other changes until the
// transaction ends. Every lock on an order is FOR NO KEY UPDATE, never FOR
// UPDATE: no transaction changes an order's id or deletes it, and this lock
// does not block the foreign-key check of a new callback or attempt row for
// the same order, so the callback receiver never waits for a job.
func LockOrder(ctx context.Context, tx pgx.Tx, id int64) (*Order, error) {
	return scanOrder(tx.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1 FOR NO KEY UPDATE`, id))
}

// OpenAttempt is an attempt whose request may have gone out without an answer.
type OpenAttempt struct {
	ID        int64
	Attempt   int
	StartedAt time.Time
	// Sender is the worker process that started it ("" before migration
	// 0009): it may still hold FP's answer (throttle.SenderAlive).
	Sender string
}

// LockForSubmit locks an order for its submit job and returns, in the same
// round trip, its attempt with no recorded outcome, if any.
func LockForSubmit(ctx context.Context, tx pgx.Tx, id int64) (*Order, *OpenAttempt, error) {
	var o Order
	var aID *int64
	var aAttempt *int
	var aStarted *time.Time
	var aSender *string
	err := tx.QueryRow(ctx, `SELECT o.id, o.kind, o.order_ref, o.version, o.status, o.order_data, coalesce(o.fp_status, ''),
			coalesce(o.fp_status_created_at, 0), coalesce(o.fp_status_callback_id, 0), coalesce(o.fp_order_uuid, ''),
			o.attempts, o.grand_total_ore, a.id, a.attempt, a.started_at, coalesce(a.sender, '')
		FROM orders o LEFT JOIN LATERAL (
			SELECT id, attempt, started_at, sender FROM submit_attempts
			WHERE order_id = o.id AND outcome IS NULL ORDER BY attempt DESC LIMIT 1) a ON true
		WHERE o.id = $1 FOR NO KEY UPDATE OF o`, id).Scan(&o.ID, &o.Kind, &o.Ref, &o.Version, &o.Status, &o.Data, &o.FPStatus,
		&o.FPStatusCreatedAt, &o.FPStatusCallback, &o.FPOrderUUID, &o.Attempts, &o.GrandTotalOre, &aID, &aAttempt, &aStarted, &aSender)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil || aID == nil {
		return &o, nil, err
	}
	return &o, &OpenAttempt{ID: *aID, Attempt: *aAttempt, StartedAt: *aStarted, Sender: *aSender}, nil
}

// StartAttempt records a new attempt (outcome unknown) and marks the order
// submitting, in one statement. It must
// be committed before the request goes out. sender is the worker process
// (throttle.ID).
func StartAttempt(ctx context.Context, tx pgx.Tx, o *Order, jobID int64, jobAttempt int, fpgoUUID, sender string) (attemptID int64, attempt int, err error) {
	err = tx.QueryRow(ctx, `WITH n AS (
			SELECT coalesce(max(attempt), 0) + 1 AS attempt FROM submit_attempts WHERE order_id = $1
		), a AS (
			INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, fpgo_uuid, sender)
			SELECT $1, n.attempt, $2, $3, $4, nullif($5, ''), nullif($6, '') FROM n
			RETURNING id, attempt
		), o AS (
			UPDATE orders SET status = 'submitting', status_at = now(), attempts = a.attempt, updated_at = now()
			FROM a WHERE orders.id = $1
		)
		SELECT id, attempt FROM a`, o.ID, o.Version, jobID, jobAttempt, fpgoUUID, sender).Scan(&attemptID, &attempt)
	if err != nil {
		return 0, 0, fmt.Errorf("recording attempt: %w", err)
	}
	return attemptID, attempt, nil
}

// FinishAttempt records an attempt's outcome. It reports false when the
// attempt had one already (a transaction repeated after its commit's reply
// was lost): an outcome is written once.
func FinishAttempt(ctx context.Context, tx pgx.Tx, attemptID int64, outcome string, httpStatus int, message string) (bool, error) {
	var hs *int
	if httpStatus != 0 {
		hs = &httpStatus
	}
	tag, err := tx.Exec(ctx, `UPDATE submit_attempts SET outcome = $2, http_status = $3, message = $4, finished_at = now()
		WHERE id = $1 AND outcome IS NULL`, attemptID, outcome, hs, message)
	return tag.RowsAffected() == 1, err
}

// IsConnectionError tells a failed database connection (cut, server
// restarting) from an error of the statement itself: only the first is
// worth trying again on a fresh connection.
func IsConnectionError(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception; 57P01-03: the server is shutting down
		// or starting.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var netErr net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "conn closed")
}

// Created is what FP returned for an accepted order.
type Created struct {
	OrderUUID, CustomerUUID, PaymentURL, BankIDURL string
}

// RecordCreated records FP's acceptance of an attempt: the attempt's
// outcome, FP's ids on the order and the submitted event, in one statement
// (its own transaction). A callback may already have moved the order
// further (FP can call back before we record its answer): the status only
// moves forward, and a different orderUuid than one a callback attached is
// kept as a possible duplicate. It reports false, changing nothing, when the
// attempt has an outcome already (a repeat after a lost commit reply).
func RecordCreated(ctx context.Context, db DB, orderID, attemptID int64, attempt, httpStatus int, message string, c Created, detail map[string]any) (bool, error) {
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
				status = CASE WHEN status IN ('queued', 'submitting') THEN 'submitted' ELSE status END,
				status_at = CASE WHEN status IN ('queued', 'submitting') THEN now() ELSE status_at END,
				fp_order_uuid = coalesce(fp_order_uuid, nullif($2, '')),
				possible_duplicate = CASE WHEN fp_order_uuid IS NOT NULL AND $2 <> '' AND fp_order_uuid <> $2 THEN $2
					ELSE possible_duplicate END,
				fp_customer_uuid = coalesce(nullif($3, ''), fp_customer_uuid),
				payment_url = coalesce(nullif($4, ''), payment_url), bank_id_url = coalesce(nullif($5, ''), bank_id_url),
				submitted_at = now(), last_error = NULL, review_reason = NULL, updated_at = now()
			WHERE id = $1 AND EXISTS (SELECT 1 FROM a)
		), e AS (
			INSERT INTO order_events (order_id, type, status, attempt, detail)
			SELECT $1, 'submitted', 'submitted', $9, $10 FROM a
		)
		SELECT EXISTS (SELECT 1 FROM a)`, orderID, c.OrderUUID, c.CustomerUUID, c.PaymentURL, c.BankIDURL,
		attemptID, hs, message, attempt, detail).Scan(&recorded)
	return recorded, err
}

// StartSubmit is the common case of a submit job's start, in one statement:
// the order is queued and has no attempt without an outcome, so
// a new attempt is recorded and the order marked submitting (the attempt
// row, with its job, version and fpgoUuid, is the record of the start: no
// event besides it). ok is false, with nothing changed, in any
// other case; the caller then looks closer in a transaction. sender is the
// worker process (throttle.ID).
func StartSubmit(ctx context.Context, db DB, orderID, jobID int64, jobAttempt int, sender string) (o *Order, attemptID int64, attempt int, ok bool, err error) {
	var od Order
	err = db.QueryRow(ctx, `WITH cur AS (
			SELECT * FROM orders WHERE id = $1 FOR NO KEY UPDATE
		), ready AS (
			-- queued only: 'submitting' means an attempt started (perhaps by
			-- a run that crashed, perhaps by a concurrent one this statement
			-- waited for, whose attempt its snapshot cannot see). The row lock
			-- returns the row as committed after the wait.
			SELECT cur.* FROM cur WHERE status = 'queued'
				AND NOT EXISTS (SELECT 1 FROM submit_attempts WHERE order_id = $1 AND outcome IS NULL)
		), a AS (
			INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, fpgo_uuid, sender)
			SELECT $1, (SELECT coalesce(max(attempt), 0) + 1 FROM submit_attempts WHERE order_id = $1),
				ready.version, $2, $3, ready.fp_order_uuid, nullif($4, '') FROM ready
			RETURNING id, attempt
		), u AS (
			UPDATE orders SET status = 'submitting', status_at = now(), attempts = a.attempt, updated_at = now()
			FROM a WHERE orders.id = $1
		)
		SELECT r.id, r.kind, r.order_ref, r.version, r.status, r.order_data, coalesce(r.fp_status, ''),
			coalesce(r.fp_status_created_at, 0), coalesce(r.fp_status_callback_id, 0), coalesce(r.fp_order_uuid, ''),
			a.attempt, r.grand_total_ore, a.id, a.attempt
		FROM ready r, a`, orderID, jobID, jobAttempt, sender).Scan(&od.ID, &od.Kind, &od.Ref, &od.Version, &od.Status, &od.Data,
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

// SetStatus records the submit job's verdict (queued for a retry,
// provider_rejected, needs_review, failed) with its reason in last_error (and
// review_reason for needs_review). It changes only an order still being
// submitted: if FP's callback arrived meanwhile (FP had the order after all),
// FP's word stands and the verdict is dropped. It reports whether it applied.
func SetStatus(ctx context.Context, tx pgx.Tx, orderID int64, s orderstate.Status, reason string) (bool, error) {
	var review *string
	if s == orderstate.NeedsReview {
		review = &reason
	}
	tag, err := tx.Exec(ctx, `UPDATE orders SET status = $2,
			status_at = CASE WHEN status = $2 THEN status_at ELSE now() END,
			last_error = nullif($3, ''), review_reason = coalesce($4, review_reason), updated_at = now()
		WHERE id = $1 AND status IN ('queued', 'submitting')`, orderID, s, reason, review)
	return tag.RowsAffected() == 1, err
}
