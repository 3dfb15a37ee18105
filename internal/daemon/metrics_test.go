package daemon_test

import (
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/metrics/metricstest"
)

// scrapeMetrics GETs the worker's /metrics and parses the text format.
func scrapeMetrics(t *testing.T, s *stack) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + s.Cfg.ListenAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	return metricstest.Parse(t, resp.Body)
}

// A running worker's /metrics after four orders are sent and their
// callbacks applied: the in-process counters and the database's gauges.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	s := startStackWith(t, fpfake.Config{CallbackDelay: 20 * time.Millisecond, Plan: func(fpfake.Order) []string { return []string{"SENT"} }},
		func(c *daemon.Config) { c.RateLimit = 20 }) // paced: each request after the first waits for its slot
	start := time.Now()
	s.ImportCSV(t, "m.csv", daemontest.FourKinds)
	s.WaitSettled(t, start, true)

	fams := scrapeMetrics(t, s)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"fpexport_submissions_total", []string{"outcome", "created"}, 4},
		{"fpexport_fp_request_duration_seconds", []string{"kind", "invoice"}, 1},
		{"fpexport_fp_request_duration_seconds", []string{"kind", "checkout"}, 1},
		{"fpexport_callbacks_total", []string{"verdict", "accepted"}, 4},
		{"fpexport_orders", []string{"status", "sent"}, 4},
		{"fpexport_orders", []string{"status", "queued"}, 0},
		{"fpexport_queue_jobs", []string{"queue", "submit", "state", "available"}, 0},
		{"fpexport_queue_jobs", []string{"queue", "callbacks", "state", "running"}, 0},
		{"fpexport_queue_oldest_job_age_seconds", []string{"queue", "submit"}, 0},
		{"fpexport_database_up", nil, 1},
	} {
		if got, ok := metricstest.Value(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// Four requests at 20/s: at least the last ones waited for their slot.
	if n, ok := metricstest.Value(fams, "fpexport_ratelimit_waits_total", "reason", "pace"); !ok || n < 1 {
		t.Errorf("fpexport_ratelimit_waits_total{reason=pace} = %v (found %v), want ≥ 1", n, ok)
	}
	if secs, ok := metricstest.Value(fams, "fpexport_ratelimit_wait_seconds_total", "reason", "pace"); !ok || secs <= 0 {
		t.Errorf("fpexport_ratelimit_wait_seconds_total{reason=pace} = %v (found %v), want > 0", secs, ok)
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("the Go and process collectors are missing")
	}

	// A forged callback is counted by its verdict.
	resp, err := http.Get("http://" + s.Cfg.ListenAddr + "/callbacks/frontpayment?ref=1&token=forged&orderUuid=ODR1&status=PAID&createdAt=1&checksum=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n, ok := metricstest.Value(scrapeMetrics(t, s), "fpexport_callbacks_total", "verdict", "bad_token"); !ok || n != 1 {
		t.Errorf("fpexport_callbacks_total{verdict=bad_token} = %v (found %v), want 1", n, ok)
	}
}
