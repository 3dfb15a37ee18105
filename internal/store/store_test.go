package store_test

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"testing"

	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
	"github.com/frontpayment/fpexport/migrations"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	// The test database was migrated from the template; migrating again changes nothing.
	if err := store.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	pending, err := store.PendingMigrations(ctx, pool)
	if err != nil || len(pending) != 0 {
		t.Fatalf("pending = %v, %v", pending, err)
	}
	files, _ := fs.Glob(migrations.FS, "*.sql")
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
		t.Fatalf("schema_migrations rows = %d, %v; want %d", n, err, len(files))
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_migration`).Scan(&n); err != nil || n < 6 {
		t.Fatalf("river_migration rows = %d, %v", n, err)
	}
}
