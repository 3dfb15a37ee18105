package testdb

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// The proxy passes queries, cuts an open connection on Down, refuses new
// ones while down, and lets them through again after Up.
func TestOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, url := NewOutage(t, URL(t))
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("through the proxy: %v %d", err, one)
	}
	out.Down()
	if err := conn.QueryRow(ctx, `SELECT 1`).Scan(&one); err == nil {
		t.Fatal("a query on a cut connection succeeded")
	}
	if c, err := pgx.Connect(ctx, url); err == nil {
		c.Close(ctx)
		t.Fatal("connected while the proxy is down")
	}
	if err := out.Up(); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("after Up: %v", err)
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		t.Fatalf("after Up: %v", err)
	}
}
