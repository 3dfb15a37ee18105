package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// The watermark is compare-and-set: of two imports that read the same
// watermark, only the first to commit moves it; the other rolls back.
func TestAdvanceWatermark(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	const src = "erp:erp.example.no/erp"
	if _, found, err := store.Watermark(ctx, pool, src); found || err != nil {
		t.Fatalf("before the first import: found %v, %v", found, err)
	}
	advance := func(prev string, found bool, value string) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return store.AdvanceWatermark(ctx, tx, src, prev, found, value) })
	}
	if err := advance("", false, "2026-11-22T01:00:00Z"); err != nil {
		t.Fatal(err)
	}
	// A second "first import" that read no watermark either.
	if err := advance("", false, "2026-11-22T00:30:00Z"); !errors.Is(err, store.ErrWatermarkMoved) {
		t.Errorf("second first import: %v, want store.ErrWatermarkMoved", err)
	}
	if err := advance("2026-11-21T00:00:00Z", true, "2026-11-22T03:00:00Z"); !errors.Is(err, store.ErrWatermarkMoved) {
		t.Errorf("stale prev: %v, want store.ErrWatermarkMoved", err)
	}
	if err := advance("2026-11-22T01:00:00Z", true, "2026-11-22T02:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if v, found, err := store.Watermark(ctx, pool, src); !found || err != nil || v != "2026-11-22T02:00:00Z" {
		t.Errorf("watermark %q %v %v", v, found, err)
	}
	// Rolled back with its transaction.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AdvanceWatermark(ctx, tx, src, "2026-11-22T02:00:00Z", true, "2026-11-23T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)
	if v, _, _ := store.Watermark(ctx, pool, src); v != "2026-11-22T02:00:00Z" {
		t.Errorf("after rollback: %q", v)
	}
}

// Runs of one import wait for each other; runs of different imports do not.
func TestLockImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	unlock, err := store.LockImport(ctx, pool, "inbox:/srv/inbox")
	if err != nil {
		t.Fatal(err)
	}
	other, err := store.LockImport(ctx, pool, "inbox:/srv/other")
	if err != nil {
		t.Fatal(err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if u, err := store.LockImport(short, pool, "inbox:/srv/inbox"); err == nil {
		u()
		t.Fatal("a second run took the lock while the first held it")
	}
	got := make(chan error, 1)
	go func() {
		u, err := store.LockImport(ctx, pool, "inbox:/srv/inbox")
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("took the held lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting run never got the lock")
	}
}
