package daemon

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/jobs"
)

// scheduleImports wires the scheduled imports: with IMPORT_SCHEDULE set,
// one River periodic job per configured source (inbox, ERP) that inserts an
// import job for each slot of the schedule, the queue that runs them (one at
// a time per process), and the worker that runs inbox.Import / erp.Import,
// the same functions `enqueue --inbox` / `--erp` call.
//
// River inserts periodic jobs on its elected leader only, and the job's args
// name the slot (jobargs.ImportArgs, unique): with several worker processes each
// slot runs once. Every process must carry the same import settings, since
// any of them may be the leader and any may run the job.
func scheduleImports(cfg *Config, pool *pgxpool.Pool, logger *slog.Logger, workers *river.Workers, queues map[string]river.QueueConfig) []*river.PeriodicJob {
	imports := jobs.Imports{Pool: pool, Logger: logger, InboxMinAge: cfg.InboxMinAge, Settings: cfg.ImportSettings()}
	if cfg.ImportCron != nil {
		imports.InboxDir, imports.ERP = cfg.InboxDir, cfg.ERP
	}
	// The worker is registered even without a schedule, so River (its
	// rescuer, on whichever process leads) knows the kind.
	river.AddWorker(workers, &jobs.ImportWorker{Imports: imports, JobTimeout: cfg.ImportTimeout})
	sources := imports.Sources()
	if len(sources) == 0 {
		if cfg.InboxDir != "" || cfg.ERP != nil {
			logger.Info("no scheduled import: IMPORT_SCHEDULE is not set (enqueue --inbox / --erp can run from cron)")
		}
		return nil
	}
	queues[jobargs.QueueImports] = river.QueueConfig{MaxWorkers: 1}
	var periodic []*river.PeriodicJob
	for _, source := range sources {
		periodic = append(periodic, jobs.ScheduledImport(source, cfg.ImportCron))
	}
	logger.Info("scheduled imports", "sources", sources, "schedule", cfg.ImportSchedule,
		"next", cfg.ImportCron.Next(time.Now()).Format(time.RFC3339))
	return periodic
}

// ImportSettings are the scheduled imports' settings, read from IMPORT_KIND,
// IMPORT_PROFILE, ALLOW_TEST_IDS and TZ by loadImports.
func (c *Config) ImportSettings() intake.Settings {
	return intake.Settings{Kind: c.ImportKind, Profile: c.ImportProfile, AllowTestIDs: c.AllowTestIDs, Location: c.Location}
}
