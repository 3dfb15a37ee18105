package testdb

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Order is a test's starting point: an order recorded directly in a given
// state, as no import and no move would leave it in one step. Fields left
// empty take the defaults below.
type Order struct {
	Kind, Ref         string
	Status            string // default queued
	FPOrderUUID       string
	PossibleDuplicate string
	LastError         string
	BatchID           int64 // default 0: no batch
	SourceRow         int   // default 2
	GrandTotalOre     int64 // default 450000 (NOK 4500.00)
}

// AddOrder records o and returns its id. An order in needs_review gets the
// reason an unanswered request leaves.
//
// This is the one place outside internal/orders that writes a status: test
// support, never part of the program (internal/orders' owner test knows).
func AddOrder(t testing.TB, pool *pgxpool.Pool, o Order) int64 {
	t.Helper()
	if o.Status == "" {
		o.Status = "queued"
	}
	if o.SourceRow == 0 {
		o.SourceRow = 2
	}
	if o.GrandTotalOre == 0 {
		o.GrandTotalOre = 450000
	}
	var id int64
	err := pool.QueryRow(context.Background(), `INSERT INTO orders (kind, order_ref, batch_id, source, source_row, customer_name,
			grand_total_ore, order_data, fingerprint, status, fp_order_uuid, possible_duplicate, last_error, review_reason)
		VALUES ($1, $2, $6, 'f.csv', $7, 'Kari Nordmann', $8, '{}', 'fp', $3, nullif($4, ''), nullif($5, ''), nullif($9, ''),
			CASE WHEN $3 = 'needs_review' THEN 'request may have reached FP' END)
		RETURNING id`, o.Kind, o.Ref, o.Status, o.FPOrderUUID, o.PossibleDuplicate, o.BatchID, o.SourceRow, o.GrandTotalOre,
		o.LastError).Scan(&id)
	if err != nil {
		t.Fatalf("testdb: adding order %s:%s: %v", o.Kind, o.Ref, err)
	}
	return id
}

// AddBatch records a batch of source with rows rows, imported now, and
// returns its id.
func AddBatch(t testing.TB, pool *pgxpool.Pool, source string, rows int) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `INSERT INTO batches (source, rows_total, orders_new) VALUES ($1, $2, $2)
		RETURNING id`, source, rows).Scan(&id); err != nil {
		t.Fatalf("testdb: adding batch %s: %v", source, err)
	}
	return id
}

// Snapshot is everything a person's decision could change about order id:
// its row, how many events it has and how many submit jobs. Two equal
// snapshots mean nothing was changed.
func Snapshot(t testing.TB, pool *pgxpool.Pool, id int64) string {
	t.Helper()
	var st string
	err := pool.QueryRow(context.Background(), `SELECT row_to_json(o)::text
			|| (SELECT count(*) FROM order_events e WHERE e.order_id = o.id)::text
			|| (SELECT count(*) FROM river_job j WHERE j.kind = 'submit_order' AND (j.args->>'order_id')::bigint = o.id)::text
		FROM orders o WHERE id = $1`, id).Scan(&st)
	if err != nil {
		t.Fatalf("testdb: snapshot of order %d: %v", id, err)
	}
	return st
}
