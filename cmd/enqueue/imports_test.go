package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/testdb"
)

// runEnv runs enqueue with DATABASE_URL and the given variables.
func (e *env) runEnv(t *testing.T, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string {
		if k == "DATABASE_URL" {
			return e.url
		}
		if k == "LANG" && vars[k] == "" {
			return "en_US.UTF-8" // these tests read the English texts
		}
		return vars[k]
	}, &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestInbox(t *testing.T) {
	t.Parallel()
	e := setup(t)
	inbox := filepath.Join(e.dir, "inbox")
	if err := os.Mkdir(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(inbox, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	put("ok.csv", header+validRows)
	code, out := e.run(t, "--inbox", inbox, "--kind", "invoice", "--min-age", "0")
	if code != exitOK || !strings.Contains(out, "ok.csv: 2 rows, 2 valid orders") || !strings.Contains(out, "→ processed/ok.csv") {
		t.Errorf("all accepted: exit %d\n%s", code, out)
	}

	put("mixed.csv", header+strings.ReplaceAll(validRows, "A-", "M-")+badRow)
	code, out = e.run(t, "--inbox", inbox, "--kind", "invoice", "--min-age", "0")
	if code != exitRejected || !strings.Contains(out, "→ failed/mixed.csv (errors: failed/mixed.errors.csv)") ||
		!strings.Contains(out, `mixed.csv row 4, column email ("feil@")`) {
		t.Errorf("some rejected: exit %d\n%s", code, out)
	}

	// The same bytes again, and a file too fresh to take (INBOX_MIN_AGE).
	put("ok-again.csv", header+validRows)
	old := time.Now().Add(-time.Minute)
	_ = os.Chtimes(filepath.Join(inbox, "ok-again.csv"), old, old)
	put("fresh.csv", header+validRows+"\n")
	code, out = e.runEnv(t, map[string]string{"INBOX_MIN_AGE": "30s"}, "--inbox", inbox, "--kind", "invoice")
	if code != exitOK || !strings.Contains(out, "ok-again.csv: these exact bytes were imported before (batch 1); skipped") ||
		!strings.Contains(out, "left for the next run (modified too recently): fresh.csv") {
		t.Errorf("skip and wait: exit %d\n%s", code, out)
	}
	if n := e.count(t, `SELECT count(*) FROM batches`); n != 2 {
		t.Errorf("batches = %d, want 2", n)
	}

	code, out = e.run(t, "--inbox", filepath.Join(e.dir, "missing"), "--min-age", "0")
	if code != exitFatal {
		t.Errorf("missing folder: exit %d\n%s", code, out)
	}
}

func TestImportUsage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, args := range [][]string{
		{"--inbox", e.dir, "file.csv"},
		{"--inbox", e.dir, "--strict"},
		{"--inbox", e.dir, "--errors-out", "x.csv"},
		{"--inbox", e.dir, "--dry-run"},
		{"--inbox", e.dir, "--erp"},
		{"--erp"}, // not configured
		{"--inbox", e.dir, "--kind", "cash"},
	} {
		if code, out := e.run(t, args...); code != exitFatal {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, out)
		}
	}
	if code, out := e.runEnv(t, map[string]string{"INBOX_MIN_AGE": "soon"}, "--inbox", e.dir); code != exitFatal || !strings.Contains(out, "INBOX_MIN_AGE") {
		t.Errorf("bad INBOX_MIN_AGE: exit %d\n%s", code, out)
	}
}

func TestERP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	erpURL := testdb.URL(t)
	erpPool, err := pgxpool.New(ctx, erpURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(erpPool.Close)
	// A flat ERP view: canonical columns and updated_at.
	if _, err := erpPool.Exec(ctx, `CREATE TABLE order_lines (
			order_ref text, customer_type text, customer_name text, email text, country_code text, msisdn text,
			personal_number text, organization_id text, street text, zip text, city text, country text,
			product_name text, quantity numeric, rate numeric(12,2), tax int,
			updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
		INSERT INTO order_lines (order_ref, customer_type, customer_name, email, country_code, msisdn, personal_number,
			organization_id, street, zip, city, country, product_name, quantity, rate, tax) VALUES
		('R-1', 'corporate', 'Fjord AS', 'post@fjord.example.no', '+47', '46567469', NULL, '923609016', 'Storgata 1', '0155', 'Oslo', 'NO', 'Timer', 2, 1250, 25),
		('R-1', 'corporate', 'Fjord AS', 'post@fjord.example.no', '+47', '46567469', NULL, '923609016', 'Storgata 1', '0155', 'Oslo', 'NO', 'Reise', 1, 300, 25),
		('R-2', 'private', 'Feil Epost', 'feil@', '+47', '46567472', '01010012356', NULL, 'Gate 1', '0150', 'Oslo', 'NO', 'Vare', 1, 10, 25)`); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"ERP_DATABASE_URL": erpURL,
		"ERP_QUERY": `SELECT * FROM order_lines
			WHERE order_ref IN (SELECT order_ref FROM order_lines WHERE updated_at > $1) ORDER BY order_ref`,
	}
	code, out := e.runEnv(t, vars, "--erp", "--kind", "invoice", "--dry-run")
	if code != exitRejected || !strings.Contains(out, "dry run: nothing was written") {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	code, out = e.runEnv(t, vars, "--erp", "--kind", "invoice")
	if code != exitRejected || !strings.Contains(out, "3 rows, 1 valid orders, 1 rejected rows") ||
		!strings.Contains(out, "row 3, column email") || !strings.Contains(out, "watermark updated_at: (first import) → 20") {
		t.Errorf("first run: exit %d\n%s", code, out)
	}
	if strings.Contains(out, erpURL) {
		t.Error("the ERP URL is in the output")
	}
	code, out = e.runEnv(t, vars, "--erp", "--kind", "invoice")
	if code != exitOK || !strings.Contains(out, "no rows changed since updated_at 20") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	if n := e.count(t, `SELECT count(*) FROM orders`); n != 1 {
		t.Errorf("orders = %d, want 1", n)
	}
	vars["ERP_QUERY"] = "SELECT * FROM no_such_table WHERE updated_at > $1"
	if code, out := e.runEnv(t, vars, "--erp"); code != exitFatal || !strings.Contains(out, "no_such_table") {
		t.Errorf("bad query: exit %d\n%s", code, out)
	}
}
