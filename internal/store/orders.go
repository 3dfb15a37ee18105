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

// LockOrder reads an order and locks it until the transaction ends.
func LockOrder(ctx context.Context, tx pgx.Tx, id int64) (*Order, error) {
	return scanOrder(tx.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1 FOR UPDATE`, id))
}

// OpenAttempt is an attempt whose request may have gone out without an answer.
type OpenAttempt struct {
	ID        int64
	Attempt   int
	StartedAt time.Time
}

// LockForSubmit locks an order for its submit job and returns, in the same
// round trip, its attempt with no recorded outcome, if any.
func LockForSubmit(ctx context.Context, tx pgx.Tx, id int64) (*Order, *OpenAttempt, error) {
	var o Order
	var aID *int64
	var aAttempt *int
	var aStarted *time.Time
	err := tx.QueryRow(ctx, `SELECT o.id, o.kind, o.order_ref, o.version, o.status, o.order_data, coalesce(o.fp_status, ''),
			coalesce(o.fp_status_created_at, 0), coalesce(o.fp_status_callback_id, 0), coalesce(o.fp_order_uuid, ''),
			o.attempts, o.grand_total_ore, a.id, a.attempt, a.started_at
		FROM orders o LEFT JOIN LATERAL (
			SELECT id, attempt, started_at FROM submit_attempts
			WHERE order_id = o.id AND outcome IS NULL ORDER BY attempt DESC LIMIT 1) a ON true
		WHERE o.id = $1 FOR UPDATE OF o`, id).Scan(&o.ID, &o.Kind, &o.Ref, &o.Version, &o.Status, &o.Data, &o.FPStatus,
		&o.FPStatusCreatedAt, &o.FPStatusCallback, &o.FPOrderUUID, &o.Attempts, &o.GrandTotalOre, &aID, &aAttempt, &aStarted)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil || aID == nil {
		return &o, nil, err
	}
	return &o, &OpenAttempt{ID: *aID, Attempt: *aAttempt, StartedAt: *aStarted}, nil
}

// StartAttempt records a new attempt (outcome unknown), marks the order
// submitting and writes the submit_started event, in one statement. It must
// be committed before the request goes out.
func StartAttempt(ctx context.Context, tx pgx.Tx, o *Order, jobID int64, jobAttempt int, fpgoUUID string) (attemptID int64, attempt int, err error) {
	detail := map[string]any{"job_id": jobID, "job_attempt": jobAttempt, "version": o.Version, "fpgo_uuid": fpgoUUID}
	err = tx.QueryRow(ctx, `WITH n AS (
			SELECT coalesce(max(attempt), 0) + 1 AS attempt FROM submit_attempts WHERE order_id = $1
		), a AS (
			INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, fpgo_uuid)
			SELECT $1, n.attempt, $2, $3, $4, nullif($5, '') FROM n
			RETURNING id, attempt
		), o AS (
			UPDATE orders SET status = 'submitting', status_at = now(), attempts = a.attempt, updated_at = now()
			FROM a WHERE orders.id = $1
		), e AS (
			INSERT INTO order_events (order_id, type, status, attempt, detail)
			SELECT $1, 'submit_started', 'submitting', a.attempt, $6 FROM a
		)
		SELECT id, attempt FROM a`, o.ID, o.Version, jobID, jobAttempt, fpgoUUID, detail).Scan(&attemptID, &attempt)
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
// outcome, FP's ids on the order and the submitted event, in one statement.
// o is the order as locked now. A callback may already have moved the order
// further (FP can call back before we commit its answer): the status only
// moves forward, and a different orderUuid than one a callback attached is
// kept as a possible duplicate. It reports false, changing nothing, when the
// attempt has an outcome already (a repeat after a lost commit reply).
func RecordCreated(ctx context.Context, tx pgx.Tx, o *Order, attemptID int64, attempt, httpStatus int, message string, c Created, detail map[string]any) (bool, error) {
	status := orderstate.Submitted
	if o.Status != orderstate.Submitting && o.Status != orderstate.Queued {
		status = o.Status
	}
	dup := ""
	uuid := c.OrderUUID
	if o.FPOrderUUID != "" && c.OrderUUID != "" && o.FPOrderUUID != c.OrderUUID {
		dup, uuid = c.OrderUUID, o.FPOrderUUID
	}
	if uuid == "" {
		uuid = o.FPOrderUUID
	}
	var hs *int
	if httpStatus != 0 {
		hs = &httpStatus
	}
	var recorded bool
	err := tx.QueryRow(ctx, `WITH a AS (
			UPDATE submit_attempts SET outcome = 'created', http_status = $9, message = $10, finished_at = now()
			WHERE id = $8 AND outcome IS NULL RETURNING id
		), o AS (
			UPDATE orders SET status = $2, status_at = CASE WHEN status = $2 THEN status_at ELSE now() END,
				fp_order_uuid = nullif($3, ''), fp_customer_uuid = coalesce(nullif($4, ''), fp_customer_uuid),
				payment_url = coalesce(nullif($5, ''), payment_url), bank_id_url = coalesce(nullif($6, ''), bank_id_url),
				submitted_at = now(), last_error = NULL, review_reason = NULL,
				possible_duplicate = coalesce(nullif($7, ''), possible_duplicate), updated_at = now()
			WHERE id = $1 AND EXISTS (SELECT 1 FROM a)
		), e AS (
			INSERT INTO order_events (order_id, type, status, attempt, detail)
			SELECT $1, 'submitted', 'submitted', $11, $12 FROM a
		)
		SELECT EXISTS (SELECT 1 FROM a)`, o.ID, status, uuid, c.CustomerUUID, c.PaymentURL, c.BankIDURL, dup,
		attemptID, hs, message, attempt, detail).Scan(&recorded)
	return recorded, err
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
