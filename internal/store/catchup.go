package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
)

// LastBeat returns the newest heartbeat of any worker (ok false when none
// was ever written) and the database's clock, so the gap is measured on one
// clock.
func LastBeat(ctx context.Context, db DB) (last, now time.Time, ok bool, err error) {
	var l *time.Time
	err = db.QueryRow(ctx, `SELECT (SELECT max(beat_at) FROM workers_alive), clock_timestamp()`).Scan(&l, &now)
	if l != nil {
		last, ok = *l, true
	}
	return last, now, ok, err
}

// Beat renews a worker's heartbeat, and removes the rows of workers silent
// for a day (processes gone for good).
func Beat(ctx context.Context, db DB, workerID string) error {
	_, err := db.Exec(ctx, `WITH gone AS (DELETE FROM workers_alive WHERE beat_at < now() - interval '1 day' AND worker_id <> $1)
		INSERT INTO workers_alive (worker_id) VALUES ($1)
		ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()`, workerID)
	return err
}

// CatchupCandidates returns up to limit orders, after the id afterID, that
// could have been called back by FP up to sentBy: FP had them by then
// (submitted_at), they are still in one of statuses, and FP has told nothing
// about them since since (a run again of the same catch-up skips the orders
// it polled).
func CatchupCandidates(ctx context.Context, db DB, statuses []orderstate.Status, sentBy, since time.Time, afterID int64, limit int) ([]RepollOrder, error) {
	rows, err := db.Query(ctx, `SELECT o.id, o.fp_order_uuid
		FROM orders o
		WHERE o.status = ANY($1) AND o.fp_order_uuid IS NOT NULL
			AND o.submitted_at <= $2 AND o.id > $4
			AND o.status_at < $3
			AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id
				AND e.type IN ('callback', 'repoll_not_found') AND e.at >= $3)
		ORDER BY o.id
		LIMIT $5`, statuses, sentBy, since, afterID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (RepollOrder, error) {
		var o RepollOrder
		err := row.Scan(&o.ID, &o.FPOrderUUID)
		return o, err
	})
}
