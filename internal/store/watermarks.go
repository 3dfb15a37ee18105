package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrWatermarkMoved says that another import of the same source recorded a
// watermark between this import's read and its commit. The import is rolled
// back; running it again reads from the newer watermark.
var ErrWatermarkMoved = errors.New("the watermark was moved by another import of the same source meanwhile; nothing was imported, run it again")

// Watermark returns how far source has been imported; found is false before
// its first import.
func Watermark(ctx context.Context, db DB, source string) (value string, found bool, err error) {
	err = db.QueryRow(ctx, `SELECT value FROM import_watermarks WHERE source = $1`, source).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading the watermark of %s: %w", source, err)
	}
	return value, true, nil
}

// AdvanceWatermark records value as source's watermark, inside the import's
// transaction. It is a compare-and-set: prev (found=false for none) must
// still be what is stored, otherwise ErrWatermarkMoved and the caller rolls
// back, so two overlapping imports of one source can never both commit.
func AdvanceWatermark(ctx context.Context, tx pgx.Tx, source string, prev string, found bool, value string) error {
	var tag pgconn.CommandTag
	var err error
	if found {
		tag, err = tx.Exec(ctx, `UPDATE import_watermarks SET value = $3, updated_at = now()
			WHERE source = $1 AND value = $2`, source, prev, value)
	} else {
		tag, err = tx.Exec(ctx, `INSERT INTO import_watermarks (source, value) VALUES ($1, $2)
			ON CONFLICT (source) DO NOTHING`, source, value)
	}
	if err != nil {
		return fmt.Errorf("recording the watermark of %s: %w", source, err)
	}
	if tag.RowsAffected() != 1 {
		return ErrWatermarkMoved
	}
	return nil
}

// importLockClass namespaces the advisory locks of imports (the first key of
// pg_advisory_lock(int, int)); the second is hashtext of the import's name.
const importLockClass = 7_463_202

// LockImport serialises runs of one import (an inbox folder, an ERP source)
// across processes: `enqueue --inbox` from cron and the worker's scheduled
// job may start at the same moment. It waits for the session advisory lock
// on a connection of its own (ctx ends the wait) and returns the function
// that releases it. A crashed holder's lock goes with its connection.
func LockImport(ctx context.Context, pool *pgxpool.Pool, name string) (unlock func(), err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("locking import %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, importLockClass, name); err != nil {
		// A wait cut short by ctx may have been granted the lock at that
		// very moment: end the session rather than pool it.
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
		return nil, fmt.Errorf("locking import %s: %w", name, err)
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, importLockClass, name); err != nil {
			// The lock would outlive us on a pooled connection: drop it.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}, nil
}
