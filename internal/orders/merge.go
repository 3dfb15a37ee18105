package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// An import's move: a changed order is queued to be sent again, from the
// states the table lets an import move (orderstate.Import).

// changed is the import's move, set-wise: every order of the staged chunk
// (import_orders) whose data changed, imported by an earlier batch and in a
// state the table lets an import move from, takes the new data and a new
// version and is queued, with a changed event each. The statement returns
// each order moved with its new version and whether it was queued already
// (its job is waiting and reads the new data at send time).
func changed(batchID int64) move {
	return move{
		by: orderstate.Import, to: orderstate.Queued, event: "changed", restamp: true,
		with: `cand AS (
			SELECT o.id, o.status AS old_status, o.fp_order_uuid, i.*
			FROM import_orders i JOIN orders o ON o.kind = i.kind AND o.order_ref = i.order_ref
			WHERE o.batch_id <> @batch AND o.fingerprint <> i.fingerprint
			  AND o.status = ANY(@from::text[])
			FOR NO KEY UPDATE OF o
		),`,
		from:   `cand c`,
		target: `orders.id = c.id`,
		set: `, batch_id = @batch, source = c.source, source_row = c.source_rows[1],
			customer_name = c.customer_name, grand_total_ore = c.grand_total_ore, order_data = c.order_data,
			fingerprint = c.fingerprint, version = orders.version + 1, last_error = NULL`,
		args:      pgx.NamedArgs{"batch": batchID},
		returning: `, orders.version, c.old_status, c.fp_order_uuid`,
		evDetail: `jsonb_build_object('batch_id', @batch::bigint, 'previous_status', moved.old_status,
			'version', moved.version, 'fpgo_uuid', moved.fp_order_uuid)`,
		result: `SELECT id, version, old_status = @to::text FROM moved`,
	}
}

// MergeStaged turns the staged orders (one chunk of a file) into orders of
// the batch, set-wise. Call FinishBatch when the file is done.
//
// An order is identified by (kind, order_ref). A new one is inserted. One
// imported again unchanged (same fingerprint) is left alone. A changed one
// is updated when that is still safe: before it was sent, after FP refused
// it, or after FP accepted it (the next request carries fpgoUuid and
// updates FP's order). While an attempt may be in flight, while it needs
// review, or once FP reports it final (paid, cancelled, …) the change is
// refused with a reason on each of its rows.
func MergeStaged(ctx context.Context, tx pgx.Tx, batchID int64, staged int) (store.BatchOut, error) {
	out := store.BatchOut{BatchID: batchID, Counts: map[store.Outcome]int{}}

	// New orders. The staging table holds them in file order, so ids follow the file.
	rows, err := tx.Query(ctx, `INSERT INTO orders (kind, order_ref, batch_id, source, source_row, customer_name,
			grand_total_ore, order_data, fingerprint)
		SELECT kind, order_ref, $1, source, source_rows[1], customer_name, grand_total_ore, order_data, fingerprint
		FROM import_orders
		ON CONFLICT (kind, order_ref) DO NOTHING
		RETURNING id, version`, batchID)
	if err != nil {
		return out, fmt.Errorf("inserting orders: %w", err)
	}
	for rows.Next() {
		var j store.JobRef
		if err := rows.Scan(&j.OrderID, &j.Version); err != nil {
			rows.Close()
			return out, err
		}
		out.Jobs = append(out.Jobs, j)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("inserting orders: %w", err)
	}
	out.Counts[store.OrderNew] = len(out.Jobs)
	if out.Counts[store.OrderNew] == staged {
		return out, nil // all new: nothing changed, unchanged or refused (the common case)
	}
	// An order this very batch already has means its lines were not next to
	// each other in the file: the caller reads the file again, grouping by
	// reference.
	var inBatch int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM import_orders i JOIN orders o
		ON o.kind = i.kind AND o.order_ref = i.order_ref WHERE o.batch_id = $1`, batchID).Scan(&inBatch); err != nil {
		return out, err
	}
	split := inBatch > out.Counts[store.OrderNew] // more staged rows than this chunk's new orders match the batch
	if split {
		return out, store.ErrSplitOrder
	}
	// No 'imported' event per order: the batch and orders.batch_id record
	// the import (an event each would double its cost); changes, attempts
	// and callbacks are events.

	// Changed orders that may still change. Their status before the change
	// decides whether a job is needed: a queued order's job is waiting and
	// reads the new data at send time.
	sql, args, err := changed(batchID).stmt(0)
	if err != nil {
		return out, err
	}
	rows, err = tx.Query(ctx, sql, args...)
	if err != nil {
		return out, fmt.Errorf("updating changed orders: %w", err)
	}
	for rows.Next() {
		var j store.JobRef
		var jobWaiting bool
		if err := rows.Scan(&j.OrderID, &j.Version, &jobWaiting); err != nil {
			rows.Close()
			return out, err
		}
		out.Counts[store.OrderChanged]++
		if !jobWaiting {
			out.Jobs = append(out.Jobs, j)
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("updating changed orders: %w", err)
	}

	// Changes that cannot be taken now.
	rows, err = tx.Query(ctx, `SELECT i.source, i.kind, i.order_ref, i.source_rows, o.status
		FROM import_orders i JOIN orders o ON o.kind = i.kind AND o.order_ref = i.order_ref
		WHERE o.batch_id <> $1 AND o.fingerprint <> i.fingerprint ORDER BY i.source_rows[1]`, batchID)
	if err != nil {
		return out, err
	}
	for rows.Next() {
		var source, kind, ref, status string
		var srcRows []int32
		if err := rows.Scan(&source, &kind, &ref, &srcRows, &status); err != nil {
			rows.Close()
			return out, err
		}
		m := msg.New("order.change_final", ref, status)
		if status == "submitting" || status == "needs_review" {
			m = msg.New("order.change_busy", ref, status)
		}
		out.Counts[store.OrderRefused]++
		for _, r := range srcRows {
			// Kind and Ref let a later import that brings the order again,
			// taken this time, resolve the row (store.ResolveRejected).
			out.Refused = append(out.Refused, store.RejectedRow{Source: source, Row: int(r), Column: "order_ref", Value: ref,
				Reason: m.Text(msg.EN), MsgID: m.ID, MsgArgs: m.Args, Kind: kind, Ref: ref})
		}
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	var unchanged int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM import_orders i JOIN orders o ON o.kind = i.kind AND o.order_ref = i.order_ref
		WHERE o.batch_id <> $1 AND o.fingerprint = i.fingerprint`, batchID).Scan(&unchanged); err != nil {
		return out, err
	}
	out.Counts[store.OrderUnchanged] = unchanged

	return out, nil
}
