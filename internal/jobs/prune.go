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

// DefaultUntrustedRetention is how long untrusted callbacks and their counts
// are kept (UNTRUSTED_CALLBACK_RETENTION): long enough to look into a
// month's forgeries, short enough that they cannot pile up.
const DefaultUntrustedRetention = 30 * 24 * time.Hour

// pruneEvery is how often the retention job runs.
const pruneEvery = time.Hour

// PruneUntrustedWorker deletes the untrusted callbacks (store.Untrusted)
// and the counts of those not stored that are older than Retention.
// Trusted callbacks are the orders' history and are never deleted here.
type PruneUntrustedWorker struct {
	river.WorkerDefaults[jobargs.PruneUntrustedArgs]
	Pool      *pgxpool.Pool
	Retention time.Duration
	Logger    *slog.Logger
}

func (w *PruneUntrustedWorker) Work(ctx context.Context, job *river.Job[jobargs.PruneUntrustedArgs]) error {
	cutoff := time.Now().Add(-w.Retention)
	rows, counts, err := store.PruneUntrusted(ctx, w.Pool, cutoff)
	if err != nil {
		return err
	}
	if rows > 0 || counts > 0 {
		w.Logger.InfoContext(ctx, "pruned untrusted callbacks", "callbacks", rows, "count_rows", counts,
			"older_than", cutoff.UTC().Format(time.RFC3339))
	}
	return nil
}

// ScheduledPruneUntrusted is the River periodic job that inserts a
// PruneUntrustedArgs every hour, on the leader only (River's periodic
// jobs). A slot missed while no worker leads is harmless: the next run
// deletes what it would have.
func ScheduledPruneUntrusted() *river.PeriodicJob {
	return river.NewPeriodicJob(everySchedule{pruneEvery}, func() (river.JobArgs, *river.InsertOpts) {
		return jobargs.PruneUntrustedArgs{Slot: time.Now().Add(slotMargin).Truncate(pruneEvery).UTC()}, nil
	}, &river.PeriodicJobOpts{ID: "prune_untrusted_callbacks"})
}
