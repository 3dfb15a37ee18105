package main

import (
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/frontpayment/fpexport/internal/fpfake"
)

// scrapeMetrics GETs the worker's /metrics and parses the text format.
func scrapeMetrics(t *testing.T, s *stack) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + s.cfg.ListenAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// metricValue is the value of the series with these labels (name, value
// pairs), a histogram's sample count; ok false when there is none.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
next:
	for _, m := range fams[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// A running worker's /metrics after four orders are sent and their
// callbacks applied: the in-process counters and the database's gauges.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	s := startStackWith(t, fpfake.Config{CallbackDelay: 20 * time.Millisecond, Plan: func(fpfake.Order) []string { return []string{"SENT"} }},
		func(c *config) { c.RateLimit = 20 }) // paced: each request after the first waits for its slot
	start := time.Now()
	s.importCSV(t, "m.csv", fourKinds)
	s.waitSettled(t, start, true)

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
		if got, ok := metricValue(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// Four requests at 20/s: at least the last ones waited for their slot.
	if n, ok := metricValue(fams, "fpexport_ratelimit_waits_total", "reason", "pace"); !ok || n < 1 {
		t.Errorf("fpexport_ratelimit_waits_total{reason=pace} = %v (found %v), want ≥ 1", n, ok)
	}
	if secs, ok := metricValue(fams, "fpexport_ratelimit_wait_seconds_total", "reason", "pace"); !ok || secs <= 0 {
		t.Errorf("fpexport_ratelimit_wait_seconds_total{reason=pace} = %v (found %v), want > 0", secs, ok)
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("the Go and process collectors are missing")
	}

	// A forged callback is counted by its verdict.
	resp, err := http.Get("http://" + s.cfg.ListenAddr + "/callbacks/frontpayment?ref=1&token=forged&orderUuid=ODR1&status=PAID&createdAt=1&checksum=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n, ok := metricValue(scrapeMetrics(t, s), "fpexport_callbacks_total", "verdict", "bad_token"); !ok || n != 1 {
		t.Errorf("fpexport_callbacks_total{verdict=bad_token} = %v (found %v), want 1", n, ok)
	}
}
