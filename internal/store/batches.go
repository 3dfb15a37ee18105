package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// RejectedRow is one problem with one row of a file.
type RejectedRow struct {
	Source string
	Row    int
	Column string
	Value  string
	Reason string
}

// Outcome says what recording an order did.
type Outcome string

const (
	OrderNew       Outcome = "new"
	OrderChanged   Outcome = "changed"
	OrderUnchanged Outcome = "unchanged"
	OrderRefused   Outcome = "refused" // a change that cannot be sent now; its rows are rejected
)

// JobRef names an order version that needs a submit job.
type JobRef struct {
	OrderID int64
	Version int
}

// BatchOut summarises a recorded batch.
type BatchOut struct {
	BatchID int64
	Counts  map[Outcome]int
	// Jobs are the order versions that need a submit job, inserted by the
	// caller in the same transaction (MergeStaged's result, one chunk).
	Jobs []JobRef
	// JobsQueued counts the submit jobs queued for the whole batch.
	JobsQueued int
	// Refused are the rows of changed orders that could not be taken.
	Refused []RejectedRow
}

// ErrSplitOrder: the staged orders repeat an order of the same batch, so
// the file's lines of one order were not next to each other.
var ErrSplitOrder = errors.New("an order's lines are not next to each other")

// StagingTable holds one file's validated orders during an import; it lives
// only for the importing transaction.
const StagingTable = "import_orders"

// StagingColumns are the staging table's columns, in COPY order.
var StagingColumns = []string{"kind", "order_ref", "source", "source_rows", "customer_name", "grand_total_ore", "order_data", "fingerprint"}

// BeginBatch records a batch and prepares an empty staging table for its
// orders (COPY them into StagingTable, then call MergeStaged).
func BeginBatch(ctx context.Context, tx pgx.Tx, source, sha256, defaultKind string) (int64, error) {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_orders (
			kind text NOT NULL, order_ref text NOT NULL, source text NOT NULL, source_rows int[] NOT NULL,
			customer_name text NOT NULL, grand_total_ore bigint NOT NULL, order_data json NOT NULL, fingerprint text NOT NULL
		) ON COMMIT DROP`); err != nil {
		return 0, fmt.Errorf("staging table: %w", err)
	}
	if _, err := tx.Exec(ctx, `TRUNCATE import_orders`); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO batches (source, sha256, default_kind) VALUES ($1, $2, $3) RETURNING id`,
		source, sha256, defaultKind).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("recording batch: %w", err)
	}
	return id, nil
}

// ClearStaging empties the staging table for the next chunk. TRUNCATE, not
// DELETE: deleted rows stay in the table until a vacuum, and every later
// chunk would scan them again.
func ClearStaging(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE import_orders`)
	return err
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
func MergeStaged(ctx context.Context, tx pgx.Tx, batchID int64, staged int) (BatchOut, error) {
	out := BatchOut{BatchID: batchID, Counts: map[Outcome]int{}}

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
		var j JobRef
		if err := rows.Scan(&j.OrderID, &j.Version); err != nil {
			rows.Close()
			return out, err
		}
		out.Jobs = append(out.Jobs, j)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("inserting orders: %w", err)
	}
	out.Counts[OrderNew] = len(out.Jobs)
	if out.Counts[OrderNew] == staged {
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
	split := inBatch > out.Counts[OrderNew] // more staged rows than this chunk's new orders match the batch
	if split {
		return out, ErrSplitOrder
	}
	// No 'imported' event per order: the batch and orders.batch_id record
	// the import (an event each would double its cost); changes, attempts
	// and callbacks are events.

	// Changed orders that may still change. Their status before the change
	// decides whether a job is needed: a queued order's job is waiting and
	// reads the new data at send time.
	rows, err = tx.Query(ctx, `WITH cand AS (
			SELECT o.id, o.status AS old_status, o.fp_order_uuid, i.*
			FROM import_orders i JOIN orders o ON o.kind = i.kind AND o.order_ref = i.order_ref
			WHERE o.batch_id <> $1 AND o.fingerprint <> i.fingerprint
			  AND o.status IN ('queued', 'provider_rejected', 'failed', 'submitted', 'sent')
			FOR NO KEY UPDATE OF o
		), upd AS (
			UPDATE orders o SET batch_id = $1, source = c.source, source_row = c.source_rows[1],
				customer_name = c.customer_name, grand_total_ore = c.grand_total_ore, order_data = c.order_data,
				fingerprint = c.fingerprint, version = o.version + 1, status = 'queued', status_at = now(),
				last_error = NULL, updated_at = now()
			FROM cand c WHERE o.id = c.id
			RETURNING o.id, o.version, c.old_status, c.fp_order_uuid
		), ev AS (
			INSERT INTO order_events (order_id, type, status, detail)
			SELECT id, 'changed', 'queued', jsonb_build_object('batch_id', $1::bigint, 'previous_status', old_status,
				'version', version, 'fpgo_uuid', fp_order_uuid) FROM upd
		)
		SELECT id, version, old_status = 'queued' FROM upd`, batchID)
	if err != nil {
		return out, fmt.Errorf("updating changed orders: %w", err)
	}
	for rows.Next() {
		var j JobRef
		var jobWaiting bool
		if err := rows.Scan(&j.OrderID, &j.Version, &jobWaiting); err != nil {
			rows.Close()
			return out, err
		}
		out.Counts[OrderChanged]++
		if !jobWaiting {
			out.Jobs = append(out.Jobs, j)
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("updating changed orders: %w", err)
	}

	// Changes that cannot be taken now.
	rows, err = tx.Query(ctx, `SELECT i.source, i.order_ref, i.source_rows, o.status
		FROM import_orders i JOIN orders o ON o.kind = i.kind AND o.order_ref = i.order_ref
		WHERE o.batch_id <> $1 AND o.fingerprint <> i.fingerprint ORDER BY i.source_rows[1]`, batchID)
	if err != nil {
		return out, err
	}
	for rows.Next() {
		var source, ref, status string
		var srcRows []int32
		if err := rows.Scan(&source, &ref, &srcRows, &status); err != nil {
			rows.Close()
			return out, err
		}
		reason := fmt.Sprintf("order %s changed, but FP reports it %s; a change can no longer be sent", ref, status)
		if status == "submitting" || status == "needs_review" {
			reason = fmt.Sprintf("order %s changed, but it is %s; import the change again once it is settled", ref, status)
		}
		out.Counts[OrderRefused]++
		for _, r := range srcRows {
			out.Refused = append(out.Refused, RejectedRow{Source: source, Row: int(r), Column: "order_ref", Value: ref, Reason: reason})
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
	out.Counts[OrderUnchanged] = unchanged

	return out, nil
}

// FinishBatch records a file's rejected rows (its own and the refused
// changes in out) and the batch's counts.
func FinishBatch(ctx context.Context, tx pgx.Tx, out *BatchOut, rowsTotal int, rejected []RejectedRow) error {
	all := append(append([]RejectedRow(nil), rejected...), out.Refused...)
	if len(all) > 0 {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"rejected_rows"}, []string{"batch_id", "source", "row_no", "column_name", "value", "reason"},
			pgx.CopyFromSlice(len(all), func(i int) ([]any, error) {
				r := all[i]
				return []any{out.BatchID, r.Source, r.Row, r.Column, r.Value, r.Reason}, nil
			}))
		if err != nil {
			return fmt.Errorf("recording rejected rows: %w", err)
		}
	}
	_, err := tx.Exec(ctx, `UPDATE batches SET rows_total = $2, orders_new = $3, orders_changed = $4, orders_unchanged = $5,
		rows_rejected = (SELECT count(DISTINCT row_no) FROM rejected_rows WHERE batch_id = $1) WHERE id = $1`,
		out.BatchID, rowsTotal, out.Counts[OrderNew], out.Counts[OrderChanged], out.Counts[OrderUnchanged])
	if err != nil {
		return fmt.Errorf("updating batch counts: %w", err)
	}
	return nil
}

// BatchBySHA256 finds a batch that imported a file with exactly these bytes.
func BatchBySHA256(ctx context.Context, db DB, sha string) (int64, bool, error) {
	var id int64
	err := db.QueryRow(ctx, `SELECT id FROM batches WHERE sha256 = $1 ORDER BY id LIMIT 1`, sha).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// AddEvent appends to an order's history.
func AddEvent(ctx context.Context, db DB, orderID int64, typ, status string, attempt int, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	var st *string
	if status != "" {
		st = &status
	}
	var att *int
	if attempt > 0 {
		att = &attempt
	}
	_, err := db.Exec(ctx, `INSERT INTO order_events (order_id, type, status, attempt, detail) VALUES ($1, $2, $3, $4, $5)`,
		orderID, typ, st, att, detail)
	return err
}

// OrderKey identifies an order: its kind and reference.
type OrderKey struct{ Kind, Ref string }

// ExistingOrders returns which of the keys are orders already (of any batch;
// one of this very batch is found by MergeStaged as a scattered order).
func ExistingOrders(ctx context.Context, tx pgx.Tx, keys []OrderKey) (map[OrderKey]bool, error) {
	kinds := make([]string, len(keys))
	refs := make([]string, len(keys))
	for i, k := range keys {
		kinds[i], refs[i] = k.Kind, k.Ref
	}
	rows, err := tx.Query(ctx, `SELECT o.kind, o.order_ref
		FROM unnest($1::text[], $2::text[]) AS k(kind, ref)
		JOIN orders o ON o.kind = k.kind AND o.order_ref = k.ref`, kinds, refs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	existing := map[OrderKey]bool{}
	for rows.Next() {
		var k OrderKey
		if err := rows.Scan(&k.Kind, &k.Ref); err != nil {
			return nil, err
		}
		existing[k] = true
	}
	return existing, rows.Err()
}

// InsertNewOrders COPYs orders known to be new straight into orders (rows in
// StagingColumns order) and returns their ids for the submit jobs. Ids are
// taken from the sequence first, since COPY returns none. A concurrent
// import that recorded one of them meanwhile makes the COPY fail (unique
// violation); nothing of this import is then kept.
func InsertNewOrders(ctx context.Context, tx pgx.Tx, batchID int64, rows [][]any) ([]JobRef, error) {
	ids := make([]int64, 0, len(rows))
	r, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, $1)`, len(rows))
	if err != nil {
		return nil, err
	}
	for r.Next() {
		var id int64
		if err := r.Scan(&id); err != nil {
			r.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"orders"},
		[]string{"id", "kind", "order_ref", "batch_id", "source", "source_row", "customer_name", "grand_total_ore", "order_data", "fingerprint"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			s := rows[i] // kind, order_ref, source, source_rows, customer_name, grand_total_ore, order_data, fingerprint
			return []any{ids[i], s[0], s[1], batchID, s[2], s[3].([]int32)[0], s[4], s[5], s[6], s[7]}, nil
		}))
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return nil, fmt.Errorf("another import recorded some of these orders at the same moment; import the file again: %w", err)
		}
		return nil, err
	}
	jobs := make([]JobRef, len(ids))
	for i, id := range ids {
		jobs[i] = JobRef{OrderID: id, Version: 1}
	}
	return jobs, nil
}
