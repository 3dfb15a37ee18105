package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// BatchSummary is one batch as the accountants' web page lists it: what the
// import recorded and, live, how many of its orders are in each status.
type BatchSummary struct {
	ID              int64
	Source          string
	SHA256          string
	DefaultKind     string
	ImportedAt      time.Time
	RowsTotal       int
	OrdersNew       int
	OrdersChanged   int
	OrdersUnchanged int
	RowsRejected    int
	// RowsRejectedOpen counts those rejected rows that no later batch has
	// resolved (open_rejected_rows).
	RowsRejectedOpen int
	Orders           int   // orders whose current version this batch brought
	TotalOre         int64 // their grand totals
	// ByStatus counts those orders per status (queued, submitted, paid …).
	ByStatus map[string]int
}

const batchSummarySelect = `SELECT b.id, b.source, b.sha256, b.default_kind, b.imported_at, b.rows_total,
		b.orders_new, b.orders_changed, b.orders_unchanged, b.rows_rejected,
		(SELECT count(DISTINCT row_no) FROM open_rejected_rows r WHERE r.batch_id = b.id)::int,
		coalesce(s.orders, 0), coalesce(s.total, 0), coalesce(s.by_status, '{}')
	FROM batches b LEFT JOIN LATERAL (
		SELECT sum(n)::int AS orders, sum(total)::bigint AS total, jsonb_object_agg(status, n) AS by_status
		FROM (SELECT status, count(*) AS n, sum(grand_total_ore) AS total FROM orders WHERE batch_id = b.id GROUP BY status) c
	) s ON true`

func scanBatchSummary(row pgx.Row) (BatchSummary, error) {
	var b BatchSummary
	err := row.Scan(&b.ID, &b.Source, &b.SHA256, &b.DefaultKind, &b.ImportedAt, &b.RowsTotal,
		&b.OrdersNew, &b.OrdersChanged, &b.OrdersUnchanged, &b.RowsRejected, &b.RowsRejectedOpen, &b.Orders, &b.TotalOre, &b.ByStatus)
	return b, err
}

// RecentBatches lists the newest batches first, at most limit.
func RecentBatches(ctx context.Context, db DB, limit int) ([]BatchSummary, error) {
	return queryBatchSummaries(ctx, db, ` ORDER BY b.id DESC LIMIT $1`, limit)
}

// BatchesSince lists the batches imported at or after since, newest first
// (`worker status`).
func BatchesSince(ctx context.Context, db DB, since time.Time) ([]BatchSummary, error) {
	return queryBatchSummaries(ctx, db, ` WHERE b.imported_at >= $1 ORDER BY b.id DESC`, since)
}

// queryBatchSummaries reads the batches batchSummarySelect + rest selects.
func queryBatchSummaries(ctx context.Context, db DB, rest string, args ...any) ([]BatchSummary, error) {
	rows, err := db.Query(ctx, batchSummarySelect+rest, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BatchSummary, error) { return scanBatchSummary(r) })
}

// BatchByID reads one batch with its live counts (ErrNotFound if none).
func BatchByID(ctx context.Context, db DB, id int64) (BatchSummary, error) {
	b, err := scanBatchSummary(db.QueryRow(ctx, batchSummarySelect+` WHERE b.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return b, ErrNotFound
	}
	return b, err
}

// BatchOrder is one order of a batch as the web page shows it. It holds no
// personal number: the page has no use for one.
type BatchOrder struct {
	ID           int64
	SourceRow    int
	OrderRef     string
	Kind         string
	CustomerName string
	TotalOre     int64
	Status       string
	FPStatus     string
	FPOrderUUID  string
	PaymentURL   string
	Attempts     int
	LastError    string
	Exception    string
	StatusAt     time.Time
}

// BatchOrders lists the orders whose current version the batch brought, in
// file order, at most limit (read from reconciliation_orders, like the report).
func BatchOrders(ctx context.Context, db DB, batchID int64, limit int) ([]BatchOrder, error) {
	rows, err := db.Query(ctx, `SELECT order_id, source_row, order_ref, kind, customer_name, grand_total_ore, status,
			coalesce(fp_status, ''), coalesce(fp_order_uuid, ''), coalesce(payment_url, ''), attempts,
			coalesce(last_error, ''), coalesce(exception, ''), status_at
		FROM reconciliation_orders WHERE batch_id = $1 ORDER BY source_row, order_id LIMIT $2`, batchID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BatchOrder
	for rows.Next() {
		var o BatchOrder
		if err := rows.Scan(&o.ID, &o.SourceRow, &o.OrderRef, &o.Kind, &o.CustomerName, &o.TotalOre, &o.Status,
			&o.FPStatus, &o.FPOrderUUID, &o.PaymentURL, &o.Attempts, &o.LastError, &o.Exception, &o.StatusAt); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// BatchRejectedRows lists the batch's rejected rows (its own and the
// refused changes) in row order.
func BatchRejectedRows(ctx context.Context, db DB, batchID int64) ([]RejectedRow, error) {
	rows, err := db.Query(ctx, `SELECT source, row_no, column_name, value, reason, header, msg_id, msg_args, note, cells,
			order_kind, order_ref, coalesce(resolved_by_batch, 0)
		FROM rejected_rows WHERE batch_id = $1 ORDER BY row_no, id`, batchID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RejectedRow
	for rows.Next() {
		var r RejectedRow
		if err := rows.Scan(&r.Source, &r.Row, &r.Column, &r.Value, &r.Reason, &r.Header, &r.MsgID, &r.MsgArgs, &r.Note, &r.Cells,
			&r.Kind, &r.Ref, &r.ResolvedBy); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
