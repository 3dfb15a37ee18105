package daemon

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobs"
)

// scheduleSearchIndex wires the search index job: its worker, and the
// periodic job that River's leader inserts every few seconds.
func scheduleSearchIndex(pool *pgxpool.Pool, logger *slog.Logger, workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &jobs.SearchIndexWorker{Pool: pool, Logger: logger})
	return []*river.PeriodicJob{jobs.ScheduledSearchIndex()}
}
