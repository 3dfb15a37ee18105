package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// FirstImport is the import that brought an order in: an import writes no
// event per order (for its speed), so an order's history is given its
// start from the order row and its first batch.
type FirstImport struct {
	At      time.Time // orders.imported_at: set once, when the order was new
	BatchID int64     // 0 when the batch cannot be told
	File    string    // the batch's file name
	Row     int       // the order's first row in it; 0 when a later import moved the order's row
}

// LoadFirstImport reads order id's first import (ErrNotFound: no order).
// An order no later import changed (no 'changed' event) is still in its
// first batch. A changed one's first batch is the batch written in the
// same transaction as the order (the same now(), so the same imported_at)
// before its current batch; of several files in one run that had the
// same moment, the latest before the current one is taken.
func LoadFirstImport(ctx context.Context, db DB, id int64) (FirstImport, error) {
	var f FirstImport
	err := db.QueryRow(ctx, `SELECT o.imported_at, coalesce(b.id, 0), coalesce(b.source, ''),
			CASE WHEN b.id = o.batch_id THEN o.source_row ELSE 0 END
		FROM orders o
		LEFT JOIN LATERAL (
			SELECT b.id, b.source FROM batches b
			WHERE CASE WHEN EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.type = 'changed')
				THEN b.imported_at = o.imported_at AND b.id < o.batch_id
				ELSE b.id = o.batch_id END
			ORDER BY b.id DESC LIMIT 1
		) b ON true
		WHERE o.id = $1`, id).Scan(&f.At, &f.BatchID, &f.File, &f.Row)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, ErrNotFound
	}
	return f, err
}
