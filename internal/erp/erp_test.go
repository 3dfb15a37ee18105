package erp

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// The ERP's own schema: orders and their lines, each with updated_at. Types
// as an ERP has them: numeric amounts, a bigint phone, a char(11) personal
// number, a date.
const erpSchema = `
CREATE TABLE erp_orders (
    order_no      text PRIMARY KEY,
    kind          text NOT NULL DEFAULT 'invoice',
    customer_type text NOT NULL,
    customer_name text NOT NULL,
    email         text NOT NULL,
    phone         bigint NOT NULL,
    person_no     char(11),
    org_no        text,
    street        text, zip text, city text,
    country       char(2) NOT NULL DEFAULT 'NO',
    order_date    date,
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE erp_order_lines (
    line_id     bigserial PRIMARY KEY,
    order_no    text NOT NULL REFERENCES erp_orders,
    line_no     int NOT NULL,
    item_no     text,
    description text NOT NULL,
    qty         numeric(10,3) NOT NULL,
    unit_price  numeric(12,2) NOT NULL,
    discount    numeric(12,2),
    vat_pct     smallint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (order_no, line_no)
);
CREATE SEQUENCE erp_counter;
INSERT INTO erp_orders (order_no, customer_type, customer_name, email, phone, person_no, org_no, street, zip, city, order_date) VALUES
    ('E-1', 'private',   'Kari Nordmann', 'kari@example.no',       46567468, '01010012356', NULL,        'Luramyrveien 65', '4313', 'Sandnes', '2026-11-01'),
    ('E-2', 'corporate', 'Fjord AS',      'post@fjord.example.no', 46567469, NULL,          '923609016', 'Storgata 1',      '0155', 'Oslo',    NULL),
    ('E-3', 'private',   'Feil Epost',    'feil@',                 46567472, '01010012356', NULL,        'Gate 1',          '0150', 'Oslo',    NULL);
INSERT INTO erp_order_lines (order_no, line_no, item_no, description, qty, unit_price, discount, vat_pct) VALUES
    ('E-1', 1, 'VVS-100', 'Rørleggerarbeid, time', 2,   950.00, NULL,  25),
    ('E-1', 2, 'VVS-215', 'Kobberrør 15 mm, 3 m',  4,   199.90, 50.00, 25),
    ('E-2', 1, NULL,      'Konsulenttimer',        7.5, 1250.00, NULL, 25),
    ('E-3', 1, NULL,      'Vare',                  1,   10.00,  NULL,  25);
`

type env struct {
	pool     *pgxpool.Pool // ours
	erp      *pgxpool.Pool // the ERP's, for the test to change its rows
	cfg      Config
	inserter *river.Client[pgx.Tx]
	opt      Options
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	pool := testdb.New(t)
	// The ERP: a second database of its own, made the same way (it also
	// holds our empty tables; the query does not look at them).
	erpURL := testdb.URL(t)
	erp, err := pgxpool.New(ctx, erpURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(erp.Close)
	if _, err := erp.Exec(ctx, erpSchema); err != nil {
		t.Fatal(err)
	}
	query, err := os.ReadFile("testdata/example_query.sql")
	if err != nil {
		t.Fatal(err)
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Oslo")
	return &env{pool: pool, erp: erp, inserter: inserter,
		cfg: Config{URL: erpURL, Query: string(query)},
		opt: Options{Intake: intake.Options{Mapping: mapping.Options{Now: time.Now(), Location: loc}}}}
}

func (e *env) run(t *testing.T) *Result {
	t.Helper()
	res, err := Import(context.Background(), e.pool, e.inserter, e.cfg, e.opt)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func (e *env) erpExec(t *testing.T, sql string) {
	t.Helper()
	if _, err := e.erp.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fingerprint of the ERP's rows including each row version's xmin: an UPDATE
// that writes the very same values still changes it.
func (e *env) erpFingerprint(t *testing.T) string {
	t.Helper()
	var s string
	err := e.erp.QueryRow(context.Background(), `SELECT
		(SELECT md5(string_agg(o::text || '@' || o.xmin::text, '|' ORDER BY o.order_no)) FROM erp_orders o) ||
		(SELECT md5(string_agg(l::text || '@' || l.xmin::text, '|' ORDER BY l.line_id)) FROM erp_order_lines l) ||
		(SELECT last_value::text FROM erp_counter)`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) watermark(t *testing.T) (string, bool) {
	t.Helper()
	src, _ := SourceName(e.cfg.URL)
	v, found, err := store.Watermark(context.Background(), e.pool, src)
	if err != nil {
		t.Fatal(err)
	}
	return v, found
}

func (e *env) erpMax(t *testing.T) time.Time {
	t.Helper()
	var max time.Time
	err := e.erp.QueryRow(context.Background(), `SELECT greatest((SELECT max(updated_at) FROM erp_orders), (SELECT max(updated_at) FROM erp_order_lines))`).Scan(&max)
	if err != nil {
		t.Fatal(err)
	}
	return max
}

// First run, a run with nothing new, a changed order (sent again through the
// fpgoUuid path), a rejected row and its fix; the ERP is never written.
func TestImport(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := e.erpFingerprint(t)

	// First run: everything.
	res := e.run(t)
	if res.Source == "" || !strings.HasPrefix(res.Source, "erp:127.0.0.1/") || res.From != "" {
		t.Errorf("source %q, from %q", res.Source, res.From)
	}
	if res.File == nil || res.Batch == nil {
		t.Fatalf("nothing imported: %+v", res)
	}
	if st := res.File.Stats; st.Rows != 4 || st.Orders != 2 || res.File.RejectedRowCount() != 1 {
		t.Errorf("stats %+v, rejected %d", st, res.File.RejectedRowCount())
	}
	if len(res.File.Unknown) != 0 {
		t.Errorf("the watermark column is reported as unknown: %v", res.File.Unknown)
	}
	if res.Batch.Counts[store.OrderNew] != 2 || res.Batch.JobsQueued != 2 {
		t.Errorf("batch %+v", res.Batch)
	}
	// Rows are numbered as the result's rows: E-3 is the fourth.
	if errs := res.File.Stats.Errors; len(errs) != 1 || errs[0].Row != 4 || errs[0].Column != "email" ||
		!strings.Contains(errs[0].Error(), res.Source+" row 4, column email") {
		t.Errorf("errors %v", errs)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM rejected_rows WHERE row_no = 4 AND column_name = 'email' AND value = 'feil@'`); n != 1 {
		t.Errorf("rejected row stored %d times, want 1", n)
	}
	// Values became what mapping reads: numeric(10,3) "4.000", numeric(12,2)
	// "199.90", NULL discount "", bigint phone, char(11) personal number.
	// 2 × 950.00 + 4 × 199.90 − 50.00 = 2649.60.
	if n := count(t, e.pool, `SELECT grand_total_ore FROM orders WHERE order_ref = 'E-1'`); n != 264960 {
		t.Errorf("E-1 grand total %d øre, want 264960", n)
	}
	var data []byte
	if err := e.pool.QueryRow(context.Background(), `SELECT order_data FROM orders WHERE order_ref = 'E-1'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"46567468", "01010012356", "Luramyrveien 65"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("order data lacks %q: %s", want, data)
		}
	}
	wm, found := e.watermark(t)
	if max := e.erpMax(t); !found || wm != max.UTC().Format(layoutTimestamptz) || res.To != wm {
		t.Errorf("watermark %q (found %v, result %q), want the ERP's highest updated_at %s", wm, found, res.To, max.UTC().Format(layoutTimestamptz))
	}

	// Nothing changed: nothing read, nothing recorded.
	res = e.run(t)
	if res.File != nil || res.Batch != nil || res.From != wm || res.To != wm {
		t.Errorf("second run: %+v", res)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM batches`); n != 1 {
		t.Errorf("batches = %d after a run with nothing new, want 1", n)
	}

	// FP accepted E-1; then one of its lines changes in the ERP. The run
	// reads all of E-1's lines (and nothing else), and the new version is
	// queued to be sent with fpgoUuid.
	if _, err := e.pool.Exec(context.Background(), `UPDATE orders SET status = 'submitted', fp_order_uuid = 'fp-0001', submitted_at = now() WHERE order_ref = 'E-1'`); err != nil {
		t.Fatal(err)
	}
	e.erpExec(t, `UPDATE erp_order_lines SET qty = 5, updated_at = clock_timestamp() WHERE order_no = 'E-1' AND line_no = 2`)
	before = e.erpFingerprint(t)
	res = e.run(t)
	if res.File == nil || res.File.Stats.Rows != 2 || res.Batch.Counts[store.OrderChanged] != 1 || res.Batch.JobsQueued != 1 {
		t.Fatalf("changed order: %+v %+v", res.File, res.Batch)
	}
	var version int
	var status string
	if err := e.pool.QueryRow(context.Background(), `SELECT version, status FROM orders WHERE order_ref = 'E-1'`).Scan(&version, &status); err != nil {
		t.Fatal(err)
	}
	if version != 2 || status != "queued" {
		t.Errorf("E-1 version %d, status %s", version, status)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM order_events WHERE type = 'changed' AND detail->>'fpgo_uuid' = 'fp-0001'`); n != 1 {
		t.Errorf("the change is not recorded as an update of FP's order fp-0001")
	}
	if wm2, _ := e.watermark(t); wm2 <= wm || wm2 != e.erpMax(t).UTC().Format(layoutTimestamptz) {
		t.Errorf("watermark %q after the change, was %q", wm2, wm)
	}

	// The rejected order is fixed in the ERP: now it comes in.
	e.erpExec(t, `UPDATE erp_orders SET email = 'feil@example.no', updated_at = clock_timestamp() WHERE order_no = 'E-3'`)
	before = e.erpFingerprint(t)
	res = e.run(t)
	if res.File == nil || res.File.Stats.Rows != 1 || res.Batch.Counts[store.OrderNew] != 1 || res.File.RejectedRowCount() != 0 {
		t.Fatalf("fixed order: %+v", res.File)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM orders`); n != 3 {
		t.Errorf("orders = %d, want 3", n)
	}
	if after := e.erpFingerprint(t); after != before {
		t.Error("the ERP's rows changed during an import")
	}
}

// A failed import leaves no batch and the watermark where it was; the next
// run imports the same rows.
func TestFailedImportKeepsWatermark(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `CREATE FUNCTION fail_import() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'simulated failure while recording orders'; END $$;
		CREATE TRIGGER fail_import BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION fail_import();`); err != nil {
		t.Fatal(err)
	}
	_, err := Import(ctx, e.pool, e.inserter, e.cfg, e.opt)
	if err == nil || !strings.Contains(err.Error(), "simulated failure") {
		t.Fatalf("import with a failing database: %v", err)
	}
	if _, found := e.watermark(t); found {
		t.Error("the watermark moved although the import failed")
	}
	for _, table := range []string{"batches", "orders", "rejected_rows", "river_job"} {
		if n := count(t, e.pool, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s has %d rows after a failed import", table, n)
		}
	}

	// A later failure, after a good run: the watermark stays at the good one.
	if _, err := e.pool.Exec(ctx, `DROP TRIGGER fail_import ON orders`); err != nil {
		t.Fatal(err)
	}
	res := e.run(t)
	if res.Batch == nil || res.Batch.Counts[store.OrderNew] != 2 {
		t.Fatalf("after the failure: %+v", res.Batch)
	}
	good, _ := e.watermark(t)
	e.erpExec(t, `UPDATE erp_orders SET customer_name = 'Fjord Rør AS', updated_at = clock_timestamp() WHERE order_no = 'E-2'`)
	if _, err := e.pool.Exec(ctx, `CREATE TRIGGER fail_import BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION fail_import()`); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(ctx, e.pool, e.inserter, e.cfg, e.opt); err == nil {
		t.Fatal("the change was recorded through a failing trigger")
	}
	if wm, _ := e.watermark(t); wm != good {
		t.Errorf("watermark %q after a failed run, want %q", wm, good)
	}
	if _, err := e.pool.Exec(ctx, `DROP TRIGGER fail_import ON orders`); err != nil {
		t.Fatal(err)
	}
	if res := e.run(t); res.Batch == nil || res.Batch.Counts[store.OrderChanged] != 1 {
		t.Errorf("the change after the failure: %+v", res.Batch)
	}

	// A query whose columns cannot make orders: nothing, watermark kept.
	cfg := e.cfg
	cfg.Query = `SELECT order_no AS order_ref, updated_at FROM erp_orders WHERE updated_at > $1`
	e.erpExec(t, `UPDATE erp_orders SET updated_at = clock_timestamp()`)
	wm, _ := e.watermark(t)
	if _, err := Import(ctx, e.pool, e.inserter, cfg, e.opt); err == nil || !strings.Contains(err.Error(), "missing required columns") {
		t.Errorf("query without required columns: %v", err)
	}
	if wm2, _ := e.watermark(t); wm2 != wm {
		t.Error("the watermark moved on a header error")
	}
}

// The ERP is only read: a normal run leaves every row version as it was, and
// a query that tries to write fails in the read-only transaction.
func TestERPIsNeverWritten(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := e.erpFingerprint(t)
	for name, query := range map[string]string{
		"UPDATE in a CTE": `WITH x AS (UPDATE erp_orders SET customer_name = 'hacked' RETURNING order_no)
			SELECT o.order_no AS order_ref, o.updated_at FROM erp_orders o WHERE o.updated_at > $1`,
		"INSERT in a CTE": `WITH x AS (INSERT INTO erp_order_lines (order_no, line_no, description, qty, unit_price, vat_pct)
			VALUES ('E-1', 9, 'x', 1, 1, 25) RETURNING 1) SELECT 'E-1' AS order_ref, now() AS updated_at WHERE now() > $1`,
		"DELETE in a CTE": `WITH x AS (DELETE FROM erp_order_lines RETURNING 1) SELECT $1::timestamptz AS updated_at`,
		"nextval":         `SELECT nextval('erp_counter') AS order_ref, now() AS updated_at WHERE now() > $1`,
		"setval":          `SELECT setval('erp_counter', 100) AS order_ref, now() AS updated_at WHERE now() > $1`,
	} {
		cfg := e.cfg
		cfg.Query = query
		_, err := Import(context.Background(), e.pool, e.inserter, cfg, e.opt)
		if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
			t.Errorf("%s: %v, want a read-only transaction error", name, err)
		}
	}
	res := e.run(t)
	if res.Batch == nil {
		t.Fatal("nothing imported")
	}
	if after := e.erpFingerprint(t); after != before {
		t.Error("the ERP's rows changed")
	}
	if n := count(t, e.pool, `SELECT count(*) FROM batches`); n != 1 {
		t.Errorf("batches = %d, want only the good run's", n)
	}
}

// An integer watermark (an append-only id): each run reads the lines added
// since the last one.
func TestIntegerWatermark(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.cfg.WatermarkColumn = "line_id"
	e.cfg.Query = `SELECT o.order_no AS order_ref, o.kind, o.customer_type, o.customer_name, o.email, '+47' AS country_code, o.phone AS msisdn,
			o.person_no AS personal_number, o.org_no AS organization_id, o.street, o.zip, o.city, o.country,
			l.description AS product_name, l.qty AS quantity, l.unit_price AS rate, l.vat_pct AS tax, l.line_id
		FROM erp_orders o JOIN erp_order_lines l USING (order_no)
		WHERE o.order_no IN (SELECT order_no FROM erp_order_lines WHERE line_id > $1)
		ORDER BY o.order_no, l.line_no`
	res := e.run(t)
	if res.Batch == nil || res.To != "4" || res.Batch.Counts[store.OrderNew] != 2 {
		t.Fatalf("first run: to %q, %+v", res.To, res.Batch)
	}
	e.erpExec(t, `INSERT INTO erp_orders (order_no, customer_type, customer_name, email, phone, org_no, street, zip, city)
			VALUES ('E-4', 'corporate', 'Havbruk AS', 'post@havbruk.example.no', 46567470, '923609016', 'Kaia 2', '5003', 'Bergen');
		INSERT INTO erp_order_lines (order_no, line_no, description, qty, unit_price, vat_pct) VALUES ('E-4', 1, 'Fôr', 3, 99.50, 15)`)
	res = e.run(t)
	if res.From != "4" || res.To != "5" || res.File.Stats.Rows != 1 || res.Batch.Counts[store.OrderNew] != 1 {
		t.Errorf("second run: from %q to %q, %+v", res.From, res.To, res.Batch)
	}
	if res := e.run(t); res.File != nil || res.To != "5" {
		t.Errorf("third run read %+v", res.File)
	}
}

// Queries that cannot work are refused with the reason, before anything is
// recorded.
func TestQueryChecks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range []struct{ column, query, want string }{
		{"", `SELECT order_no AS order_ref, updated_at FROM erp_orders`, "exactly one, $1"},
		{"", `SELECT order_no AS order_ref FROM erp_orders WHERE updated_at > $1`, "returns no column updated_at (ERP_WATERMARK_COLUMN); its columns: order_ref"},
		{"changed", `SELECT order_no AS order_ref, updated_at FROM erp_orders WHERE updated_at > $1`, "no column changed"},
		{"email", `SELECT order_no AS order_ref, email FROM erp_orders WHERE email > $1`, "$1 is of type text"},
		{"", `SELECT order_no AS order_ref, email AS updated_at FROM erp_orders WHERE updated_at > $1::timestamptz`, "watermark column updated_at is of type text"},
		{"", `SELECT frobnicate($1)`, "ERP_QUERY: "},
	} {
		cfg := e.cfg
		cfg.Query, cfg.WatermarkColumn = c.query, c.column
		if _, err := Import(context.Background(), e.pool, e.inserter, cfg, e.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.query, err, c.want)
		}
	}
	if n := count(t, e.pool, `SELECT count(*) FROM batches`); n != 0 {
		t.Errorf("batches = %d", n)
	}
}

func TestDryRunRecordsNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.opt.DryRun = true
	res := e.run(t)
	if res.File == nil || res.File.Stats.Orders != 2 || res.Batch != nil || res.To == "" {
		t.Errorf("dry run: %+v", res)
	}
	if _, found := e.watermark(t); found {
		t.Error("a dry run stored the watermark")
	}
	if n := count(t, e.pool, `SELECT count(*) FROM batches`); n != 0 {
		t.Errorf("batches = %d", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM import_runs`); n != 0 {
		t.Errorf("a dry run is recorded as an import run")
	}
}

// A run is recorded when it finished, with rows or without (a quiet night
// is not a missing import).
func TestRunIsRecorded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.run(t)
	e.run(t) // nothing new: still a run
	var n int
	var source string
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*), min(source) FROM import_runs WHERE finished_at > now() - interval '1 hour'`).Scan(&n, &source); err != nil {
		t.Fatal(err)
	}
	want, _ := SourceName(e.cfg.URL)
	if n != 1 || source != want {
		t.Errorf("import runs: %d of %q, want 1 of %q", n, source, want)
	}
	// Only the second run (no rows) can be the one recorded after this.
	if _, err := e.pool.Exec(context.Background(), `UPDATE import_runs SET finished_at = '2000-01-01'`); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	if n := count(t, e.pool, `SELECT count(*) FROM import_runs WHERE finished_at > '2000-01-01'`); n != 1 {
		t.Errorf("a run without rows is not recorded")
	}
}

// The kind a row does not name comes from the import's options (IMPORT_KIND
// in the worker, --kind for enqueue).
func TestDefaultKind(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.erpExec(t, `UPDATE erp_orders SET kind = ''`)
	e.opt.Intake.Mapping.DefaultKind = fpclient.KindInvoice
	if res := e.run(t); res.Batch == nil || res.Batch.Counts[store.OrderNew] != 2 {
		t.Errorf("default kind: %+v", res.Batch)
	}
}

// The query in the docs (docs/input-format.md, The ERP table) is the one
// these tests run.
func TestDocumentedQuery(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../docs/input-format.md")
	if err != nil {
		t.Fatal(err)
	}
	query, err := os.ReadFile("testdata/example_query.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strings.TrimSpace(string(query))) {
		t.Error("docs/input-format.md does not show internal/erp/testdata/example_query.sql as the example ERP query")
	}
}

func TestSourceName(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"postgres://reader:secret@erp.example.no:5432/erp?sslmode=require": "erp:erp.example.no/erp",
		"postgres://reader@10.0.0.5:6432/prod":                             "erp:10.0.0.5:6432/prod",
		"host=erp.internal dbname=orders user=x password=y":                "erp:erp.internal/orders",
	} {
		got, err := SourceName(url)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", url, got, err, want)
		}
	}
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, configured, problems := FromEnv(env(nil)); configured || problems != nil {
		t.Errorf("nothing set: configured %v, %v", configured, problems)
	}
	file := t.TempDir() + "/q.sql"
	if err := os.WriteFile(file, []byte("SELECT 1 WHERE now() > $1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, configured, problems := FromEnv(env(map[string]string{"ERP_DATABASE_URL": "postgres://r:pw@erp/db", "ERP_QUERY_FILE": file}))
	if !configured || problems != nil || cfg.Query != "SELECT 1 WHERE now() > $1" {
		t.Errorf("query file: %+v %v", cfg, problems)
	}
	_, _, problems = FromEnv(env(map[string]string{"ERP_QUERY": "SELECT 1", "ERP_QUERY_FILE": "/nonexistent"}))
	got := strings.Join(problems, "\n")
	for _, want := range []string{"ERP_DATABASE_URL: required", "ERP_QUERY, ERP_QUERY_FILE: set one"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
	_, _, problems = FromEnv(env(map[string]string{"ERP_DATABASE_URL": "postgres://r:pw@erp/db", "ERP_QUERY": "SELECT * FROM orders"}))
	if len(problems) != 1 || !strings.Contains(problems[0], "must use $1") || strings.Contains(problems[0], "pw") {
		t.Errorf("query without $1: %v", problems)
	}
}
