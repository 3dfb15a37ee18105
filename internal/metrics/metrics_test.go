package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/buildinfo"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/metrics/metricstest"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// scrape serves its metrics in the text format and parses them back.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return metricstest.Parse(t, rec.Body)
}

// The counters count, the gauges read the database (orders per status,
// River's queues), and the Go and process collectors are there.
func TestMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// Three orders: two queued, one failed; a submit job for one of them.
	if _, err := pool.Exec(ctx, `INSERT INTO orders (kind, order_ref, batch_id, source, source_row, customer_name,
			grand_total_ore, order_data, fingerprint, status)
		VALUES ('invoice', 'M-1', 1, 'm.csv', 2, 'Kari', 100, '{}', 'a', 'queued'),
		       ('invoice', 'M-2', 1, 'm.csv', 3, 'Ola', 200, '{}', 'b', 'queued'),
		       ('checkout', 'M-3', 1, 'm.csv', 4, 'Per', 300, '{}', 'c', 'failed')`); err != nil {
		t.Fatal(err)
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inserter.Insert(ctx, jobargs.SubmitOrderArgs{OrderID: 1, Version: 1}, nil); err != nil {
		t.Fatal(err)
	}

	m := New()
	m.WatchDatabase(pool, []string{"submit", "callbacks"})
	m.Submission("created")
	m.Submission("created")
	m.Submission("retryable")
	m.FPRequest("invoice", 40*time.Millisecond)
	m.Callback("accepted")
	m.Callback("bad_token")
	m.RateLimitWait("pace", 250*time.Millisecond)
	m.RateLimitWait("pace", 250*time.Millisecond)
	fams := scrape(t, m.Handler())

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"fpexport_submissions_total", []string{"outcome", "created"}, 2},
		{"fpexport_submissions_total", []string{"outcome", "retryable"}, 1},
		{"fpexport_fp_request_duration_seconds", []string{"kind", "invoice"}, 1},
		{"fpexport_callbacks_total", []string{"verdict", "accepted"}, 1},
		{"fpexport_callbacks_total", []string{"verdict", "bad_token"}, 1},
		{"fpexport_ratelimit_waits_total", []string{"reason", "pace"}, 2},
		{"fpexport_ratelimit_wait_seconds_total", []string{"reason", "pace"}, 0.5},
		{"fpexport_orders", []string{"status", "queued"}, 2},
		{"fpexport_orders", []string{"status", "failed"}, 1},
		{"fpexport_orders", []string{"status", "paid"}, 0},
		{"fpexport_queue_jobs", []string{"queue", "submit", "state", "available"}, 1},
		{"fpexport_queue_jobs", []string{"queue", "callbacks", "state", "available"}, 0},
		{"fpexport_queue_oldest_job_age_seconds", []string{"queue", "callbacks"}, 0},
		{"fpexport_database_up", nil, 1},
	} {
		if got, ok := metricstest.Value(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if age, ok := metricstest.Value(fams, "fpexport_queue_oldest_job_age_seconds", "queue", "submit"); !ok || age < 0 || age > 600 {
		t.Errorf("oldest submit job age = %v (found %v)", age, ok)
	}
	info := buildinfo.Read()
	if got, ok := metricstest.Value(fams, "fpexport_build_info", "version", info.Version, "revision", info.Revision, "goversion", info.GoVersion); !ok || got != 1 {
		t.Errorf("fpexport_build_info{%s %s %s} = %v (found %v), want 1", info.Version, info.Revision, info.GoVersion, got, ok)
	}
	// No import or report has run yet: their times are missing, not 0
	// (an alert on "older than 26 h" must not fire on a new installation).
	for _, name := range []string{"fpexport_last_import_timestamp_seconds", "fpexport_last_report_timestamp_seconds"} {
		if fams[name] != nil {
			t.Errorf("%s is there before any run", name)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}

	// The database gone: the scrape still answers, saying so.
	pool.Close()
	fams = scrape(t, m.Handler())
	if up, ok := metricstest.Value(fams, "fpexport_database_up"); !ok || up != 0 {
		t.Errorf("fpexport_database_up = %v (found %v) with the database closed, want 0", up, ok)
	}
	if got, ok := metricstest.Value(fams, "fpexport_submissions_total", "outcome", "created"); !ok || got != 2 {
		t.Errorf("counters lost when the database is gone: %v %v", got, ok)
	}
}

// A nil *Metrics records nothing and does not panic (code that keeps no
// metrics passes nil).
func TestNilMetrics(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.Submission("created")
	m.FPRequest("invoice", time.Second)
	m.Callback("accepted")
	m.RateLimitWait("pace", time.Second)
	m.WatchDatabase(nil, nil)
}

// The newest import run and scheduled report are read from the database:
// whichever process ran them, every worker's /metrics says when.
func TestLastRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	importAt := time.Date(2026, 12, 5, 1, 0, 3, 0, time.UTC)
	reportAt := time.Date(2026, 12, 5, 5, 0, 9, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO import_runs (source, finished_at) VALUES
			('inbox:/srv/inbox', $1), ('erp:db/erp', $1 - interval '1 day')`, importAt); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO reports (period_from, period_to, format, path, bytes, sha256, orders, generated_at)
		VALUES ('2026-12-04', '2026-12-04', 'xlsx', '/r/x.xlsx', 1, 'x', 0, $1)`, reportAt); err != nil {
		t.Fatal(err)
	}
	m := New()
	m.WatchDatabase(pool, nil)
	fams := scrape(t, m.Handler())
	for name, want := range map[string]time.Time{
		"fpexport_last_import_timestamp_seconds": importAt,
		"fpexport_last_report_timestamp_seconds": reportAt,
	} {
		if got, ok := metricstest.Value(fams, name); !ok || got != float64(want.Unix()) {
			t.Errorf("%s = %v (found %v), want %v", name, got, ok, want.Unix())
		}
	}
}
