package main

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/erp"
	"github.com/frontpayment/fpexport/internal/inbox"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/store"
)

// scheduleImports wires the scheduled imports: with IMPORT_SCHEDULE set,
// one River periodic job per configured source (inbox, ERP) that inserts an
// import job for each slot of the schedule, the queue that runs them (one at
// a time per process), and the worker that runs inbox.Import / erp.Import,
// the same functions `enqueue --inbox` / `--erp` call.
//
// River inserts periodic jobs on its elected leader only, and the job's args
// name the slot (jobs.ImportArgs, unique): with several worker processes each
// slot runs once. Every process must carry the same import settings, since
// any of them may be the leader and any may run the job.
func scheduleImports(cfg *config, pool *pgxpool.Pool, logger *slog.Logger, workers *river.Workers, queues map[string]river.QueueConfig) []*river.PeriodicJob {
	imports := map[string]jobs.ImportFunc{}
	if cfg.importSchedule != nil {
		if cfg.InboxDir != "" {
			imports[jobs.ImportInbox] = importInbox(cfg, pool, logger)
		}
		if cfg.ERP != nil {
			imports[jobs.ImportERP] = importERP(cfg, pool, logger)
		}
	}
	// The worker is registered even without a schedule, so River (its
	// rescuer, on whichever process leads) knows the kind.
	river.AddWorker(workers, &jobs.ImportWorker{Imports: imports, JobTimeout: cfg.importTimeout})
	if len(imports) == 0 {
		if cfg.InboxDir != "" || cfg.ERP != nil {
			logger.Info("no scheduled import: IMPORT_SCHEDULE is not set (enqueue --inbox / --erp can run from cron)")
		}
		return nil
	}
	queues[jobs.QueueImports] = river.QueueConfig{MaxWorkers: 1}
	var periodic []*river.PeriodicJob
	for _, source := range slices.Sorted(maps.Keys(imports)) {
		periodic = append(periodic, jobs.ScheduledImport(source, cfg.importSchedule))
	}
	logger.Info("scheduled imports", "sources", slices.Sorted(maps.Keys(imports)), "schedule", cfg.ImportSchedule,
		"next", cfg.importSchedule.Next(time.Now()).Format(time.RFC3339))
	return periodic
}

// importOptions are an import's validation settings, fixed when it runs.
func importOptions(cfg *config) intake.Options {
	return intake.Options{Mapping: mapping.Options{DefaultKind: cfg.ImportKind, Now: time.Now(), Location: cfg.Location,
		Profile: cfg.ImportProfile, AllowSyntheticPersonalNumbers: cfg.AllowTestIDs}}
}

func importInbox(cfg *config, pool *pgxpool.Pool, logger *slog.Logger) jobs.ImportFunc {
	return func(ctx context.Context, inserter *river.Client[pgx.Tx], args jobs.ImportArgs) error {
		log := logger.With("import", args.Source, "slot", args.Slot.Format(time.RFC3339), "dir", cfg.InboxDir)
		res, err := inbox.Import(ctx, pool, inserter, cfg.InboxDir, inbox.Options{MinAge: cfg.InboxMinAge, Intake: importOptions(cfg)})
		if res != nil {
			for _, f := range res.Files {
				level := slog.LevelInfo
				if f.Outcome == inbox.Failed {
					level = slog.LevelWarn
				}
				log.Log(ctx, level, "inbox file "+string(f.Outcome), batchAttrs(f)...)
			}
			if len(res.Waiting) > 0 {
				log.Info("inbox files left for the next run (modified too recently)", "files", res.Waiting)
			}
			if len(res.Ignored) > 0 {
				log.Info("inbox files ignored (not .csv or .xlsx)", "files", res.Ignored)
			}
			log.Info("inbox import done", "files", len(res.Files), "failed", res.Failed())
		}
		if err != nil {
			log.Error("inbox import stopped; the file being imported stays in the inbox", "error", err)
		}
		return err
	}
}

// batchAttrs are an inbox file's log fields: the batch it became and its
// counts as fields of their own, so one line per batch can be searched.
func batchAttrs(f inbox.FileResult) []any {
	attrs := []any{"file", f.Name, "detail", f.Message()}
	if b := f.Batch; b != nil {
		attrs = append(attrs, "batch", b.BatchID, "new", b.Counts[store.OrderNew], "changed", b.Counts[store.OrderChanged],
			"unchanged", b.Counts[store.OrderUnchanged], "refused", b.Counts[store.OrderRefused], "rejected_rows", f.RejectedRows,
			"submit_jobs", b.JobsQueued)
	}
	return attrs
}

func importERP(cfg *config, pool *pgxpool.Pool, logger *slog.Logger) jobs.ImportFunc {
	return func(ctx context.Context, inserter *river.Client[pgx.Tx], args jobs.ImportArgs) error {
		log := logger.With("import", args.Source, "slot", args.Slot.Format(time.RFC3339))
		res, err := erp.Import(ctx, pool, inserter, *cfg.ERP, erp.Options{Intake: importOptions(cfg)})
		if err != nil {
			log.Error("ERP import failed; nothing imported, the watermark stays", "error", err)
			return err
		}
		log = log.With("source", res.Source, "watermark_column", res.WatermarkColumn)
		if res.File == nil {
			log.Info("ERP import: no rows changed", "watermark", res.From)
			return nil
		}
		st := res.File.Stats
		attrs := []any{"rows", st.Rows, "valid_orders", st.Orders, "rejected_rows", res.File.RejectedRowCount(),
			"watermark_from", res.From, "watermark_to", res.To}
		if b := res.Batch; b != nil {
			attrs = append(attrs, "batch", b.BatchID, "new", b.Counts[store.OrderNew], "changed", b.Counts[store.OrderChanged],
				"unchanged", b.Counts[store.OrderUnchanged], "refused", b.Counts[store.OrderRefused], "submit_jobs", b.JobsQueued)
		}
		if res.File.RejectedRowCount() > 0 || (res.Batch != nil && len(res.Batch.Refused) > 0) {
			log.Warn("ERP import done, with rejected rows (in the reconciliation report)", attrs...)
			for i, e := range st.Errors {
				if i == 20 {
					log.Warn("ERP import: more rejected rows", "count", len(st.Errors)-i)
					break
				}
				log.Warn("ERP row rejected", "detail", e.Error())
			}
			return nil
		}
		log.Info("ERP import done", attrs...)
		return nil
	}
}
