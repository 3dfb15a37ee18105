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
	Reason string // in English; MsgID and MsgArgs give it in any language
	Header string // the file's own name for Column
	// MsgID, MsgArgs and Note are the reason as a message of the catalogue
	// (internal/msg); MsgID "" for a row stored before it.
	MsgID   string
	MsgArgs []string
	Note    string
	Cells   []string // the row as read, for its error file; nil: not kept
	// Kind and Ref are the rejected order's kind and reference: a later
	// batch with a valid order for them resolves the row.
	Kind, Ref  string
	ResolvedBy int64 // the batch that resolved it; 0: open
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
	// caller in the same transaction (orders.MergeStaged's result, one chunk).
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
// orders (COPY them into StagingTable, then call orders.MergeStaged).
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

// FinishBatch records a file's rejected rows (its own and the refused
// changes in out) and the batch's counts.
func FinishBatch(ctx context.Context, tx pgx.Tx, out *BatchOut, rowsTotal int, rejected []RejectedRow) error {
	all := append(append([]RejectedRow(nil), rejected...), out.Refused...)
	if len(all) > 0 {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"rejected_rows"}, []string{"batch_id", "source", "row_no", "column_name", "value", "reason",
			"header", "msg_id", "msg_args", "note", "cells", "order_kind", "order_ref"},
			pgx.CopyFromSlice(len(all), func(i int) ([]any, error) {
				r := all[i]
				args := r.MsgArgs
				if args == nil {
					args = []string{}
				}
				return []any{out.BatchID, r.Source, r.Row, r.Column, r.Value, r.Reason, r.Header, r.MsgID, args, r.Note, r.Cells, r.Kind, r.Ref}, nil
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

// SetBatchLayout records the input's header, delimiter and format ("csv",
// "xlsx"), from which its error file is made again with the rows' cells.
func SetBatchLayout(ctx context.Context, tx pgx.Tx, batchID int64, header []string, delimiter rune, format string) error {
	d := ""
	if delimiter != 0 {
		d = string(delimiter)
	}
	if header == nil {
		header = []string{}
	}
	_, err := tx.Exec(ctx, `UPDATE batches SET header = $2, delimiter = $3, format = $4 WHERE id = $1`, batchID, header, d, format)
	return err
}

// BatchLayout reads what SetBatchLayout recorded (an empty header: nothing).
func BatchLayout(ctx context.Context, db DB, batchID int64) (header []string, delimiter rune, format string, err error) {
	var d string
	err = db.QueryRow(ctx, `SELECT header, delimiter, format FROM batches WHERE id = $1`, batchID).Scan(&header, &d, &format)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, "", ErrNotFound
	}
	for _, r := range d {
		delimiter = r
	}
	return header, delimiter, format, err
}

// HasOpenRejections reports whether batches other than batchID left
// rejected rows open that a later order could resolve.
func HasOpenRejections(ctx context.Context, tx pgx.Tx, batchID int64) (bool, error) {
	var open bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rejected_rows
		WHERE resolved_by_batch IS NULL AND order_ref <> '' AND batch_id <> $1)`, batchID).Scan(&open)
	return open, err
}

// ResolveRejected closes the open rejected rows of earlier batches whose
// order (kind and reference) is one of keys, the valid orders batchID
// brings: resolved_by_batch names it. It returns how many rows it closed.
func ResolveRejected(ctx context.Context, tx pgx.Tx, batchID int64, keys []OrderKey) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	kinds := make([]string, len(keys))
	refs := make([]string, len(keys))
	for i, k := range keys {
		kinds[i], refs[i] = k.Kind, k.Ref
	}
	tag, err := tx.Exec(ctx, `UPDATE rejected_rows r SET resolved_by_batch = $1
		FROM unnest($2::text[], $3::text[]) AS k(kind, ref)
		WHERE r.order_kind = k.kind AND r.order_ref = k.ref AND r.order_ref <> ''
		  AND r.resolved_by_batch IS NULL AND r.batch_id <> $1`, batchID, kinds, refs)
	if err != nil {
		return 0, fmt.Errorf("resolving rejected rows: %w", err)
	}
	return tag.RowsAffected(), nil
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
// one of this very batch is found by orders.MergeStaged as a scattered order).
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
