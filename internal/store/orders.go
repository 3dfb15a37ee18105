package store

import (
	"context"
	"errors"
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
