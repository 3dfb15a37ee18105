package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

const header = "order_ref,kind,customer_type,customer_name,email,country_code,msisdn,personal_number,organization_id,street,zip,city,country,preferred_language,product_id,product_name,quantity,rate,discount,tax,order_date,due_date,payment_method,reference_no,customer_reference,send_sms,send_email,invoice_fee\n"

const validRows = "A-1,,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Luramyrveien 65,4313,Sandnes,NO,no,R_1,Router,1,4500.00,0,12,,,,,,,,\n" +
	"A-2,,corporate,Fjord AS,post@fjord.example.no,+47,46567469,,923609016,Storgata 1,0155,Oslo,NO,en,,Timer,2,1250.00,0,25,,,,,,,,\n"

const badRow = "A-3,,private,Feil Epost,feil@,+47,46567472,01010012356,,Gate 1,0150,Oslo,NO,no,,Vare,1,10.00,0,25,,,,,,,,\n"

type env struct {
	url  string
	pool *pgxpool.Pool
	dir  string
}

func setup(t *testing.T) *env {
	t.Helper()
	url := testdb.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &env{url: url, pool: pool, dir: t.TempDir()}
}

func (e *env) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string {
		switch k {
		case "DATABASE_URL":
			return e.url
		case "LANG":
			return "en_US.UTF-8" // these tests read the English texts; TestNorwegianByDefault the bokmål ones
		}
		return ""
	}, &out, &errOut)
	return code, out.String() + errOut.String()
}

func (e *env) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAllRowsAccepted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	code, out := e.run(t, "--kind", "invoice", e.file(t, "ok.csv", header+validRows))
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	if n := e.count(t, `SELECT count(*) FROM orders`); n != 2 {
		t.Errorf("orders = %d, want 2", n)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'submit_order'`); n != 2 {
		t.Errorf("submit jobs = %d, want 2", n)
	}
	if !strings.Contains(out, "batch 1: 2 new") || !strings.Contains(out, "NOK 7000.00") {
		t.Errorf("output:\n%s", out)
	}
	// The same file again: recognised by its bytes and skipped.
	code, out = e.run(t, "--kind", "invoice", e.file(t, "ok.csv", header+validRows))
	if code != exitOK || !strings.Contains(out, "ok.csv: these exact bytes were imported before (batch 1); skipped") {
		t.Errorf("same bytes again: exit %d\n%s", code, out)
	}
	// The same orders in other bytes: read, and every order found unchanged.
	code, out = e.run(t, "--kind", "invoice", e.file(t, "ok-copy.csv", header+validRows+"\n"))
	if code != exitOK || !strings.Contains(out, "0 new, 0 changed, 2 unchanged") {
		t.Errorf("same orders again: exit %d\n%s", code, out)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job`); n != 2 {
		t.Errorf("jobs after re-import = %d, want 2", n)
	}
}

func TestSomeRowsRejected(t *testing.T) {
	t.Parallel()
	e := setup(t)
	errFile := filepath.Join(e.dir, "errors.csv")
	code, out := e.run(t, "--kind", "invoice", "--errors-out", errFile, e.file(t, "mixed.csv", header+validRows+badRow))
	if code != exitRejected {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, `mixed.csv row 4, column email ("feil@")`) {
		t.Errorf("the rejected row is not named with file, row, column and value:\n%s", out)
	}
	if n := e.count(t, `SELECT count(*) FROM orders`); n != 2 {
		t.Errorf("orders = %d, want the 2 valid ones", n)
	}
	if n := e.count(t, `SELECT count(*) FROM rejected_rows WHERE row_no = 4`); n != 1 {
		t.Errorf("rejected rows stored = %d, want 1", n)
	}
	sheet, err := importers.ReadFile(errFile, importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sheet.Rows) != 1 || !strings.Contains(strings.Join(sheet.Rows[0].Cells, "|"), "A-3") ||
		!strings.Contains(strings.Join(sheet.Header, ","), "errors") {
		t.Errorf("error file: header %v rows %v", sheet.Header, sheet.Rows)
	}
}

func TestStrictEnqueuesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	code, out := e.run(t, "--strict", "--kind", "invoice", e.file(t, "mixed.csv", header+validRows+badRow))
	if code != exitRejected {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if n := e.count(t, `SELECT count(*) FROM orders`) + e.count(t, `SELECT count(*) FROM batches`) + e.count(t, `SELECT count(*) FROM river_job`); n != 0 {
		t.Errorf("--strict wrote %d rows", n)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	code, out := e.run(t, "--dry-run", "--kind", "invoice", e.file(t, "ok.csv", header+validRows))
	if code != exitOK || !strings.Contains(out, "dry run") || !strings.Contains(out, "invoice") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if n := e.count(t, `SELECT count(*) FROM batches`); n != 0 {
		t.Errorf("dry run wrote %d batches", n)
	}
}

func TestFatalErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for name, args := range map[string][]string{
		"no files":          {},
		"bad kind":          {"--kind", "letter", e.file(t, "ok.csv", header+validRows)},
		"missing file":      {filepath.Join(e.dir, "nope.csv")},
		"missing column":    {e.file(t, "cols.csv", "order_ref,customer_name\nA-1,Kari\n")},
		"not a spreadsheet": {e.file(t, "x.pdf", "%PDF-1.4")},
		"bad errors-out":    {"--errors-out", "e.txt", e.file(t, "ok2.csv", header+validRows)},
		"good and bad file": {e.file(t, "ok3.csv", header+validRows), e.file(t, "cols2.csv", "order_ref\nA\n")},
	} {
		code, out := e.run(t, args...)
		if code != exitFatal {
			t.Errorf("%s: exit %d, want 2\n%s", name, code, out)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM batches`); n != 0 {
		t.Errorf("a fatal error still wrote %d batches", n)
	}
}

// The Norwegian sample needs its profile (it has no kind column) and, being
// test data, --allow-test-ids.
func TestProfileAndTestIDs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sample := filepath.Join("..", "..", "samples", "faktura-norsk.xlsx")
	profile := filepath.Join("..", "..", "samples", "faktura-norsk.profile.json")
	code, out := e.run(t, "--dry-run", sample)
	if code != exitRejected || !strings.Contains(out, "0 valid orders") {
		t.Errorf("without a profile: exit %d\n%s", code, out)
	}
	code, out = e.run(t, "--profile", profile, "--allow-test-ids", sample)
	if code != exitRejected || !strings.Contains(out, "4 valid orders") || !strings.Contains(out, "row 5, column Organisasjonsnummer") {
		t.Errorf("with profile: exit %d\n%s", code, out)
	}
	if n := e.count(t, `SELECT count(*) FROM orders WHERE kind = 'invoice'`); n != 4 {
		t.Errorf("invoices = %d, want 4", n)
	}
	code, out = e.run(t, "--profile", filepath.Join(e.dir, "missing.json"), sample)
	if code != exitFatal {
		t.Errorf("missing profile: exit %d\n%s", code, out)
	}
}
