// Package metrics is the worker's Prometheus metrics, served on GET /metrics
// with the official client library, every name prefixed fpexport_.
//
// Two kinds: counters and a histogram updated in-process where the event
// happens (a submission's outcome and FP's latency in the submit job, a
// callback's verdict in the HTTP handler, a rate-limit wait in the throttle),
// and gauges read from the database when Prometheus scrapes (orders per
// status, River's queues), so that every worker process reports the same
// shared truth and nothing is kept in step by hand.
//
// A nil *Metrics records nothing, so code and tests that do not care need
// not build one. The packages that record (jobs, throttle, httpapi) see only
// small interfaces of their own, never the Prometheus types.
package metrics

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/frontpayment/fpexport/internal/buildinfo"
	"github.com/frontpayment/fpexport/internal/store"
)

// Metrics holds one process's metrics in a registry of its own (not the
// library's global one, so tests can run several workers in one process).
type Metrics struct {
	reg            *prometheus.Registry
	submissions    *prometheus.CounterVec
	fpLatency      *prometheus.HistogramVec
	callbacks      *prometheus.CounterVec
	rateWaits      *prometheus.CounterVec
	rateWaitedSecs *prometheus.CounterVec
}

// New registers the in-process metrics and the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fpexport_submissions_total",
			Help: "Submit attempts by outcome: created, rejected, invalid_payload, retryable, ambiguous, auth, not_sent, failed.",
		}, []string{"outcome"}),
		fpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fpexport_fp_request_duration_seconds",
			Help: "Time from sending an order to FP to its answer (or the failure), by kind.",
			// FP answers in tens to hundreds of milliseconds; FP_TIMEOUT is 30 s.
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fpexport_callbacks_total",
			Help: "FP callbacks received, by verdict: accepted, bad_token, bad_checksum, malformed, orphan.",
		}, []string{"verdict"}),
		rateWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fpexport_ratelimit_waits_total",
			Help: "Requests to FP held back by the shared limits, by reason: pace (waited for its rate slot), " +
				"budget (FP's budget spent: snoozed), paused (FP refused the token: snoozed), retry_after (FP answered 429/503: snoozed).",
		}, []string{"reason"}),
		rateWaitedSecs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fpexport_ratelimit_wait_seconds_total",
			Help: "Seconds those requests waited in place or were snoozed for, by reason.",
		}, []string{"reason"}),
	}
	// Every known label value from the start, at 0: a series that appears
	// only with its first event hides that event from rate() and increase(),
	// and an alert on it would miss the first refused token or failure.
	for _, o := range submissionOutcomes {
		m.submissions.WithLabelValues(o)
	}
	for _, v := range callbackVerdicts {
		m.callbacks.WithLabelValues(v)
	}
	for _, r := range rateLimitReasons {
		m.rateWaits.WithLabelValues(r)
		m.rateWaitedSecs.WithLabelValues(r)
	}
	m.reg.MustRegister(m.submissions, m.fpLatency, m.callbacks, m.rateWaits, m.rateWaitedSecs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfoGauge(buildinfo.Read()))
	return m
}

// The label values known in advance (a value not listed still counts).
var (
	submissionOutcomes = []string{"created", "rejected", "invalid_payload", "retryable", "ambiguous", "auth", "not_sent"}
	callbackVerdicts   = []string{store.VerdictAccepted, store.VerdictBadToken, store.VerdictBadChecksum, store.VerdictMalformed,
		store.VerdictOrphan, store.VerdictAwaitingFP, store.VerdictNotConfirmed}
	rateLimitReasons = []string{"pace", "budget", "paused", "retry_after"}
)

// WatchDatabase adds the gauges read from the database at each scrape.
// queues are River's queues to report even while empty.
func (m *Metrics) WatchDatabase(pool *pgxpool.Pool, queues []string) {
	if m == nil {
		return
	}
	m.reg.MustRegister(newDBCollector(pool, queues), lastRunsCollector{pool})
}

// Registry is the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's text format. A collector that
// fails (the database did not answer in time) leaves out its metrics and
// the rest are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Submission counts one submit attempt's outcome.
func (m *Metrics) Submission(outcome string) {
	if m == nil {
		return
	}
	m.submissions.WithLabelValues(outcome).Inc()
}

// FPRequest records how long one request to FP took.
func (m *Metrics) FPRequest(kind string, d time.Duration) {
	if m == nil {
		return
	}
	m.fpLatency.WithLabelValues(kind).Observe(d.Seconds())
}

// Callback counts one callback by its verdict.
func (m *Metrics) Callback(verdict string) {
	if m == nil {
		return
	}
	m.callbacks.WithLabelValues(verdict).Inc()
}

// RateLimitWait counts one request held back by the limits, and for how
// long it waited or was snoozed.
func (m *Metrics) RateLimitWait(reason string, d time.Duration) {
	if m == nil {
		return
	}
	m.rateWaits.WithLabelValues(reason).Inc()
	m.rateWaitedSecs.WithLabelValues(reason).Add(d.Seconds())
}

// buildInfoGauge is fpexport_build_info, always 1: its labels say which
// build runs, so a dashboard can show the version of every host and an
// upgrade that reached only some of them.
func buildInfoGauge(info buildinfo.Info) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fpexport_build_info",
		Help: "The running build: module version, VCS revision, Go version; always 1.",
	}, []string{"version", "revision", "goversion"})
	g.WithLabelValues(info.Version, info.Revision, info.GoVersion).Set(1)
	return g
}
