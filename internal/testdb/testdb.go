// Package testdb gives each test its own fresh, migrated PostgreSQL database
// on the local server, so tests run in parallel and leave nothing behind.
//
// Each test package migrates one template database once (in TestMain via
// Run); every test then gets CREATE DATABASE … TEMPLATE, which is fast, and
// drops it in t.Cleanup. The server comes from TEST_DATABASE_URL (default
// postgres://root@127.0.0.1:5432/postgres).
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/store"
)

// DefaultURL is the local server with trust authentication, as on this kind of machine.
const DefaultURL = "postgres://root@127.0.0.1:5432/postgres?sslmode=disable"

var (
	mu       sync.Mutex
	template string
	prefix   = "fpx_" + randomHex(4)
)

func serverURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Run wraps m.Run: it drops the package's template database afterwards.
// Use it as: func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }
func Run(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if template != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropDatabase(ctx, template); err != nil {
			fmt.Fprintln(os.Stderr, "testdb: dropping template:", err)
		}
	}
	return code
}

// URL returns the connection string of a new migrated database that is
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmpl, err := ensureTemplate(ctx)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	name := prefix + "_" + randomHex(6)
	if err := adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{tmpl}.Sanitize()); err != nil {
		t.Fatalf("testdb: creating database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropDatabase(ctx, name); err != nil {
			t.Errorf("testdb: dropping %s: %v", name, err)
		}
	})
	return withDatabase(serverURL(), name)
}

// New returns a pool on a new migrated database; the pool is closed and the
// database dropped when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(pool.Close) // registered after the drop, so it runs before it
	return pool
}

func ensureTemplate(ctx context.Context) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if template != "" {
		return template, nil
	}
	name := prefix + "_template"
	if err := adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("creating template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(serverURL(), name))
	if err != nil {
		return "", err
	}
	err = store.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pool.Close()
	if err != nil {
		_ = dropDatabase(ctx, name)
		return "", fmt.Errorf("migrating template: %w", err)
	}
	template = name
	return name, nil
}

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, serverURL())
	if err != nil {
		return fmt.Errorf("connecting to the test server (TEST_DATABASE_URL or %s): %w", DefaultURL, err)
	}
	defer conn.Close(ctx)
	// Two CREATE DATABASE … TEMPLATE at once can find the template "being
	// accessed by other users"; that clears within moments.
	for i := 0; ; i++ {
		_, err = conn.Exec(ctx, sql)
		if err == nil || i == 20 || !strings.Contains(err.Error(), "being accessed by other users") {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dropDatabase(ctx context.Context, name string) error {
	return adminExec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func withDatabase(url, name string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		panic(err)
	}
	// Rebuild rather than string-edit the URL: keep host, port, user, options.
	u := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	if cfg.Password != "" {
		u = fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Password, cfg.Host, cfg.Port, name)
	}
	return u
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
