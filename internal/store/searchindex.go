package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// searchText is an order's text in order_search: reference, customer name
// and e-mail address, lowercased, one a line (a search text never spans
// two of them: it is one line).
const searchText = `lower(order_ref || E'\n' || customer_name || E'\n' || coalesce((order_data -> 'customer') ->> 'email', ''))`

// pendingBatches lists the batches whose orders are not in order_search
// yet: the tail a search reads from orders.
const pendingBatches = `SELECT b.id FROM batches b
	WHERE NOT EXISTS (SELECT 1 FROM order_search_batches d WHERE d.batch_id = b.id)`

// IndexSearch puts the orders of the batches not yet indexed into
// order_search, oldest batch first, chunk orders a transaction, until none
// is left or about maxOrders orders were read (0: no limit), and returns
// how many rows it wrote (an order already current is not written again).
// It reads only committed batches, and an order changed by a later import
// carries that batch's id, so that batch indexes it again.
// Two runs at once write the same rows: harmless, an older version never
// replaces a newer one.
func IndexSearch(ctx context.Context, db DB, chunk, maxOrders int) (int, error) {
	if chunk <= 0 {
		return 0, errors.New("IndexSearch: chunk must be positive")
	}
	var total, read int
	for maxOrders <= 0 || read < maxOrders {
		var batch int64
		err := db.QueryRow(ctx, pendingBatches+` ORDER BY b.id LIMIT 1`).Scan(&batch)
		if errors.Is(err, pgx.ErrNoRows) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("finding a batch to index for search: %w", err)
		}
		budget := 0
		if maxOrders > 0 {
			budget = maxOrders - read
		}
		r, n, err := indexBatch(ctx, db, batch, chunk, budget)
		read += r
		total += n
		if err != nil {
			return total, fmt.Errorf("indexing batch %d for search: %w", batch, err)
		}
	}
	return total, nil
}

// indexBatch writes one batch's orders to order_search, chunk at a time in
// id order, then lists the batch as indexed; it stops early, the batch not
// listed, after budget orders (0: no limit). Each statement commits on its
// own: a run cut short starts the batch again, and rewrites nothing that
// is already current.
func indexBatch(ctx context.Context, db DB, batch int64, chunk, budget int) (read, written int, err error) {
	var after int64
	for {
		if budget > 0 && read >= budget {
			return read, written, nil
		}
		var n, w int
		var last *int64
		err := db.QueryRow(ctx, `WITH c AS (
				SELECT id, version, `+searchText+` AS text FROM orders
				WHERE batch_id = $1 AND id > $2 ORDER BY id LIMIT $3
			), w AS (
				INSERT INTO order_search (order_id, version, text) SELECT id, version, text FROM c
				ON CONFLICT (order_id) DO UPDATE SET version = excluded.version, text = excluded.text
				WHERE order_search.version < excluded.version
				RETURNING 1
			)
			SELECT count(*), max(id), (SELECT count(*) FROM w) FROM c`, batch, after, chunk).Scan(&n, &last, &w)
		if err != nil {
			return read, written, err
		}
		read += n
		written += w
		if n < chunk || last == nil {
			break
		}
		after = *last
	}
	_, err = db.Exec(ctx, `INSERT INTO order_search_batches (batch_id) VALUES ($1) ON CONFLICT DO NOTHING`, batch)
	return read, written, err
}
