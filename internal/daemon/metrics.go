package daemon

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/metrics"
)

// newMetrics builds the process's metrics, with the gauges read from the
// database at scrape time, and the handler of GET /metrics.
func newMetrics(pool *pgxpool.Pool) (observer, http.Handler) {
	m := metrics.New()
	m.WatchDatabase(pool, []string{jobargs.QueueSubmit, jobargs.QueueCallbacks, jobargs.QueueImports, river.QueueDefault})
	return m, m.Handler()
}
