package metrics

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontpayment/fpexport/internal/store"
)

var (
	lastImportDesc = prometheus.NewDesc("fpexport_last_import_timestamp_seconds",
		"When the newest import run (inbox folder or ERP, files or none; by enqueue or the worker's schedule) finished, "+
			"Unix seconds. Missing before the first run.", nil, nil)
	lastReportDesc = prometheus.NewDesc("fpexport_last_report_timestamp_seconds",
		"When the newest scheduled reconciliation report (REPORT_SCHEDULE) was written, Unix seconds. Missing before the first.", nil, nil)
)

// lastRunsCollector reads from the database when the nightly work last
// ran, so that "not run in 26 hours" can be an alert whichever process or
// host (timer, cron, a worker) ran it.
type lastRunsCollector struct{ pool *pgxpool.Pool }

func (c lastRunsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lastImportDesc
	ch <- lastReportDesc
}

func (c lastRunsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	last, err := store.ReadLastRuns(ctx, c.pool)
	if err != nil {
		return // fpexport_database_up says the database did not answer
	}
	if !last.Import.IsZero() {
		ch <- prometheus.MustNewConstMetric(lastImportDesc, prometheus.GaugeValue, float64(last.Import.UnixNano())/1e9)
	}
	if !last.Report.IsZero() {
		ch <- prometheus.MustNewConstMetric(lastReportDesc, prometheus.GaugeValue, float64(last.Report.UnixNano())/1e9)
	}
}
