package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/store"
)

// searchIndexEvery is how often the search index job runs: how long, at
// most, a new import's orders are searched in the tail (read one by one,
// the newest store.SearchTailRows) rather than through the index.
const searchIndexEvery = 15 * time.Second

// Chunks of searchIndexChunk orders, one transaction each; at most
// searchIndexRun orders a run (some seconds), so that a run ends well
// inside the job timeout and runs seldom overlap; a backlog (the first runs
// after migration 0017) takes several runs. Overlapping runs write the
// same rows, which is only wasted work.
const (
	searchIndexChunk = 5000
	searchIndexRun   = 50_000
)

// SearchIndexWorker puts newly imported and changed orders into the search
// index (store.IndexSearch), after their import committed: the import
// itself writes nothing for the search.
type SearchIndexWorker struct {
	river.WorkerDefaults[jobargs.SearchIndexArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

func (w *SearchIndexWorker) Work(ctx context.Context, job *river.Job[jobargs.SearchIndexArgs]) error {
	start := time.Now()
	n, err := store.IndexSearch(ctx, w.Pool, searchIndexChunk, searchIndexRun)
	if n > 0 {
		w.Logger.InfoContext(ctx, "indexed orders for search", "orders", n, "took", time.Since(start).Round(time.Millisecond))
	}
	return err
}

// ScheduledSearchIndex is the River periodic job that inserts a
// SearchIndexArgs every searchIndexEvery, on the leader only. A slot
// missed while no worker leads is harmless: the next run indexes what it
// would have, and a search reads the tail meanwhile.
func ScheduledSearchIndex() *river.PeriodicJob {
	return river.NewPeriodicJob(everySchedule{searchIndexEvery}, func() (river.JobArgs, *river.InsertOpts) {
		return jobargs.SearchIndexArgs{Slot: time.Now().Add(slotMargin).Truncate(searchIndexEvery).UTC()}, nil
	}, &river.PeriodicJobOpts{ID: "index_search", RunOnStart: true})
}
