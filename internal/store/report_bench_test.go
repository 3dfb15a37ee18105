package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// Bounds of the report at a million orders (issue 5).
const (
	benchMaxTime  = 60 * time.Second
	benchMaxPeakB = 300 << 20
)

// TestReportBench fills a fresh database with REPORT_BENCH_ORDERS orders of
// one day (a realistic mix of kinds, statuses, batches, callbacks, events,
// rejected rows, one or two order lines each at every VAT rate), prints the
// plans of the report's queries (the VAT lines' among them) and of the
// status re-poll's, then times writing that day's XLSX report to a file
// the way `worker report` does (store.WithReport streaming the orders into
// report.WriteFile) and measures the process's peak resident memory
// (VmHWM in /proc/self/status, reset just before):
//
//	REPORT_BENCH_ORDERS=1000000 go test -run TestReportBench -v -timeout 30m ./internal/store/
func TestReportBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("REPORT_BENCH_ORDERS"))
	if n <= 0 {
		t.Skip("set REPORT_BENCH_ORDERS (e.g. 1000000) to run")
	}
	ctx := context.Background()
	rec := &queryRecorder{}
	pc, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	const day = "2026-03-10"
	start := time.Now()
	fillBench(t, pool, n, day)
	t.Logf("filled %d orders in %v", n, time.Since(start).Round(time.Millisecond))

	// The report is generated "now" = the morning after, so that payment
	// links due that day are overdue and the day's orders are not stale.
	oslo, _ := time.LoadLocation("Europe/Oslo")
	now := time.Date(2026, 3, 11, 6, 0, 0, 0, oslo)

	path := filepath.Join(t.TempDir(), "reconciliation-"+day+".xlsx")
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset peak RSS (/proc/self/clear_refs): %v", err)
	}
	rssBefore, _ := procStatusKB("VmRSS")
	rec.start()
	start = time.Now()
	var info report.FileInfo
	var orders int
	err = store.WithReport(ctx, pool, day, day, now, 0, func(r *report.Report) error {
		each := r.Each
		r.Each = func(fn func(*report.Order) error) error {
			orders = 0
			return each(func(o *report.Order) error { orders++; return fn(o) })
		}
		var err error
		info, err = report.WriteFile(path, r, "xlsx")
		return err
	})
	elapsed := time.Since(start)
	queries := rec.stop()
	if err != nil {
		t.Fatal(err)
	}
	peakKB, err := procStatusKB("VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	if orders != n {
		t.Errorf("report has %d orders, want %d", orders, n)
	}
	// The VAT lines tie out to the orders' grand totals.
	var linesOre, ordersOre int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT sum(amount_ore) FROM reconciliation_order_lines WHERE imported_on = $1::date),
			(SELECT sum(grand_total_ore) FROM orders)`, day).Scan(&linesOre, &ordersOre); err != nil || linesOre != ordersOre {
		t.Errorf("VAT lines sum to %d øre, orders to %d (%v)", linesOre, ordersOre, err)
	}

	// The re-poll's candidate query, on the same data.
	rec.start()
	if _, err := store.RepollCandidates(ctx, pool, []orderstate.Status{"submitted", "sent", "reserved", "payment_failed", "partially_refunded"}, 24*time.Hour, 500); err != nil {
		t.Fatal(err)
	}
	queries = append(queries, rec.stop()...)
	for _, q := range queries {
		t.Logf("EXPLAIN (ANALYZE, BUFFERS)\n%s\n%s", oneLine(q.sql), explain(t, pool, q))
	}

	peak := peakKB << 10
	t.Logf("%d orders: XLSX %.1f MB in %v (%.2f of the %v bound); peak RSS %d MB (%.2f of the %d MB bound; RSS before %d MB)",
		n, float64(info.Bytes)/1e6, elapsed.Round(time.Millisecond), elapsed.Seconds()/benchMaxTime.Seconds(),
		benchMaxTime, peak>>20, float64(peak)/benchMaxPeakB, benchMaxPeakB>>20, rssBefore>>10)
	if elapsed > benchMaxTime {
		t.Errorf("report took %v, bound %v", elapsed, benchMaxTime)
	}
	if peak > benchMaxPeakB {
		t.Errorf("peak RSS %d MB, bound %d MB", peak>>20, benchMaxPeakB>>20)
	}
}

// fillBench writes n orders imported on day in batches of 1 000, with the
// rejected rows, callbacks and events a real day would have, all by
// INSERT … SELECT in the database, then ANALYZEs.
func fillBench(t *testing.T, pool *pgxpool.Pool, n int, day string) {
	t.Helper()
	batches := (n + 999) / 1000
	for _, step := range []struct {
		sql  string
		args []any
	}{
		// Batches through the day from 06:00 Oslo.
		{`INSERT INTO batches (id, source, sha256, imported_at, rows_total, orders_new, rows_rejected)
		SELECT b, 'ordre-' || lpad(b::text, 5, '0') || '.xlsx', md5(b::text) || md5((-b)::text),
			($2::date + time '06:00' + (b * interval '1 second')) AT TIME ZONE 'Europe/Oslo', 1010, 1000, 10
		FROM generate_series(1, $1::int) b`, []any{batches, day}},
		// The mix: 60 % paid, 15 % sent, 8 % submitted, 5 % cancelled, 3 %
		// expired, 3 % needs_review, 2 % provider_rejected, 2 % failed,
		// 1 % queued, 1 % payment_failed; kinds in turn; private customers
		// (with a personal number) two in three.
		{`INSERT INTO orders (kind, order_ref, batch_id, source, source_row, customer_name, grand_total_ore, order_data, fingerprint,
			status, status_at, fp_status, fp_order_uuid, payment_url, submitted_at, attempts, last_error, possible_duplicate, imported_at)
		SELECT kind, 'ORD-' || lpad(i::text, 8, '0'), b, 'ordre-' || lpad(b::text, 5, '0') || '.xlsx', (i - 1) % 1000 + 2,
			CASE WHEN i % 3 = 0 THEN 'Fjordbåt Ærlig Øl AS ' || i ELSE 'Kari Nordmann-Åsheim ' || i END,
			(i::bigint * 7919) % 2500000 + 4900,
			json_build_object('customer', json_build_object('type', CASE WHEN i % 3 = 0 THEN 'corporate' ELSE 'private' END,
				'personal_number', CASE WHEN i % 3 = 0 THEN '' ELSE lpad((i % 28 + 1)::text, 2, '0') || '0190' || lpad((i % 100000)::text, 5, '0') END),
				'due_date', CASE WHEN kind = 'payment-link' THEN to_char($2::date + (i % 20) - 5, 'YYYY-MM-DD') ELSE '' END,
				'order_date', to_char($2::date, 'YYYY-MM-DD'),
				'lines', CASE WHEN i % 3 = 0
					THEN json_build_array(
						json_build_object('name', 'Vare', 'quantity', 1, 'rate', round((((i::bigint * 7919) % 2500000 + 4900) - 10000) / 100.0, 2),
							'discount', 0, 'tax_percent', (ARRAY[0, 12, 15, 25])[i % 4 + 1]),
						json_build_object('name', 'Frakt', 'quantity', 2, 'rate', 60.00, 'discount', 20.00, 'tax_percent', 12))
					ELSE json_build_array(
						json_build_object('name', 'Vare', 'quantity', 1, 'rate', round(((i::bigint * 7919) % 2500000 + 4900) / 100.0, 2),
							'discount', 0, 'tax_percent', (ARRAY[0, 12, 15, 25, 25, 25, 8])[i % 7 + 1])) END),
			md5(i::text), status, imported + interval '1 hour',
			CASE status WHEN 'paid' THEN 'PAID' WHEN 'sent' THEN 'SENT' WHEN 'cancelled' THEN 'CANCELLED' WHEN 'expired' THEN 'EXPIRED'
				WHEN 'payment_failed' THEN 'FAILED' END,
			CASE WHEN status NOT IN ('queued', 'provider_rejected', 'failed') THEN 'ODR' || md5(i::text) END,
			CASE WHEN kind = 'payment-link' THEN 'https://pay.frontpayment.no/p/' || md5(i::text) END,
			CASE WHEN status <> 'queued' THEN imported + interval '5 seconds' END,
			CASE WHEN status = 'queued' THEN 0 WHEN status IN ('failed', 'needs_review') THEN 3 ELSE 1 + i % 2 END,
			CASE status WHEN 'needs_review' THEN 'no answer after the request was written'
				WHEN 'provider_rejected' THEN 'The customer details.email must be a valid email address.'
				WHEN 'failed' THEN 'HTTP 500 after 3 attempts' END,
			CASE WHEN i % 1000 = 7 THEN 'ODR-dup-' || i END,
			imported
		FROM (SELECT i, (i - 1) / 1000 + 1 AS b,
				(ARRAY['invoice', 'payment-link', 'hosted-checkout', 'checkout'])[i % 4 + 1] AS kind,
				CASE WHEN i % 100 < 60 THEN 'paid' WHEN i % 100 < 75 THEN 'sent' WHEN i % 100 < 83 THEN 'submitted'
					WHEN i % 100 < 88 THEN 'cancelled' WHEN i % 100 < 91 THEN 'expired' WHEN i % 100 < 94 THEN 'needs_review'
					WHEN i % 100 < 96 THEN 'provider_rejected' WHEN i % 100 < 98 THEN 'failed' WHEN i % 100 < 99 THEN 'queued'
					ELSE 'payment_failed' END AS status,
				($2::date + time '06:00' + (((i - 1) / 1000 + 1) * interval '1 second')) AT TIME ZONE 'Europe/Oslo' AS imported
			FROM generate_series(1, $1::int * 1000) i WHERE i <= $3) s`, []any{batches, day, n}},
		{`INSERT INTO rejected_rows (batch_id, source, row_no, column_name, value, reason)
		SELECT b, 'ordre-' || lpad(b::text, 5, '0') || '.xlsx', 1002 + r, 'email', 'feil@', 'not an e-mail address'
		FROM generate_series(1, $1::int) b, generate_series(1, 10) r`, []any{batches}},
		// One accepted callback (and its event) per order FP has spoken of.
		{`INSERT INTO callbacks (received_at, remote_addr, raw_query, order_id, fp_order_uuid, fp_status, created_at, verdict, result)
		SELECT status_at, '203.0.113.10', 'ref=' || id, id, fp_order_uuid, fp_status, '1773100000', 'accepted', 'applied'
		FROM orders WHERE fp_status IS NOT NULL`, nil},
		{`INSERT INTO order_events (order_id, at, type, status, detail)
		SELECT id, status_at, 'callback', status, '{"source": "callback"}' FROM orders WHERE fp_status IS NOT NULL`, nil},
		// Forged and orphan callbacks through the day.
		{`INSERT INTO callbacks (received_at, remote_addr, raw_query, fp_order_uuid, fp_status, created_at, verdict)
		SELECT ($1::date + time '08:00' + i * interval '1 minute') AT TIME ZONE 'Europe/Oslo', '198.51.100.' || (i % 250),
			'token=x', 'ODR-x' || i, 'PAID', '1', (ARRAY['bad_token', 'bad_checksum', 'malformed', 'orphan'])[i % 4 + 1]
		FROM generate_series(1, 200) i`, []any{day}},
	} {
		if _, err := pool.Exec(context.Background(), step.sql, step.args...); err != nil {
			t.Fatalf("%v in\n%s", err, step.sql)
		}
	}
	if _, err := pool.Exec(context.Background(), `ANALYZE`); err != nil {
		t.Fatal(err)
	}
}

type recordedQuery struct {
	sql  string
	args []any
}

// queryRecorder records the queries run on the pool while on, to EXPLAIN
// them afterwards exactly as the code ran them.
type queryRecorder struct {
	mu      sync.Mutex
	on      bool
	queries []recordedQuery
}

func (r *queryRecorder) start() { r.mu.Lock(); r.on, r.queries = true, nil; r.mu.Unlock() }

func (r *queryRecorder) stop() []recordedQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.queries
}

func (r *queryRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on && strings.HasPrefix(strings.TrimSpace(data.SQL), "SELECT") {
		r.queries = append(r.queries, recordedQuery{data.SQL, data.Args})
	}
	return ctx
}

func (r *queryRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// explain runs q under EXPLAIN with JIT and Memoize off, as
// store.WithReport runs the report's queries.
func explain(t *testing.T, pool *pgxpool.Pool, q recordedQuery) string {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off; SET LOCAL enable_memoize = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...)
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	return strings.Join(lines, "\n")
}

func oneLine(sql string) string { return strings.Join(strings.Fields(sql), " ") }

func procStatusKB(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in /proc/self/status", field)
}
