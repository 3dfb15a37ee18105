package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// confirmLockClass namespaces the advisory locks that let one confirm job at
// a time ask FP about an order (the first key of pg_advisory_xact_lock(int,
// int); importLockClass is another).
const confirmLockClass = 0x0c0f1e

// LockConfirm takes, until tx ends, the right to ask FP about an order's
// awaiting callbacks. The second key is the order id folded into an int: two
// orders sharing it only wait for each other.
func LockConfirm(ctx context.Context, tx pgx.Tx, orderID int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, ($2 % 2147483647)::int)`, confirmLockClass, orderID)
	return err
}

// AwaitingCallback reads a callback's order and whether it still awaits
// FP's confirmation. ErrNotFound when there is no such callback.
func AwaitingCallback(ctx context.Context, db DB, id int64) (orderID int64, awaiting bool, err error) {
	var oid *int64
	var verdict string
	err = db.QueryRow(ctx, `SELECT order_id, verdict FROM callbacks WHERE id = $1`, id).Scan(&oid, &verdict)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, ErrNotFound
	}
	if err != nil || oid == nil {
		return 0, false, err
	}
	return *oid, verdict == VerdictAwaitingFP, nil
}

// DBNow is the database's clock now (not the transaction's start).
func DBNow(ctx context.Context, db DB) (time.Time, error) {
	var t time.Time
	err := db.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&t)
	return t, err
}

// LockAwaitingCallbacks locks an order's callbacks that await FP's
// confirmation and arrived by before, oldest first.
func LockAwaitingCallbacks(ctx context.Context, tx pgx.Tx, orderID int64, before time.Time) ([]Callback, error) {
	rows, err := tx.Query(ctx, `SELECT id, order_id, fp_order_uuid, fp_status, created_at FROM callbacks
		WHERE order_id = $1 AND verdict = $2 AND received_at <= $3 ORDER BY id FOR NO KEY UPDATE`, orderID, VerdictAwaitingFP, before)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Callback, error) {
		var c Callback
		err := row.Scan(&c.ID, &c.OrderID, &c.FPOrderUUID, &c.FPStatus, &c.CreatedAt)
		return c, err
	})
}

// ResolveCallback records FP's confirmation of a callback: its new verdict
// and what was done.
func ResolveCallback(ctx context.Context, db DB, id int64, verdict, result string) error {
	_, err := db.Exec(ctx, `UPDATE callbacks SET verdict = $2, result = $3 WHERE id = $1`, id, verdict, result)
	return err
}

// ReadOrder reads an order without locking it.
func ReadOrder(ctx context.Context, db DB, id int64) (*Order, error) {
	return scanOrder(db.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id))
}
