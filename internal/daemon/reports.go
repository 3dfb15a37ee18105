package daemon

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobs"
)

// scheduleReport wires the nightly report: the worker that writes it, and
// with REPORT_SCHEDULE on, the River periodic job that inserts one per slot.
// River inserts periodic jobs on its elected leader only, and the args name
// the slot (jobargs.ReportArgs, unique): with several worker processes each slot
// writes one report. REPORT_DIR is created when the first report is
// written (a worker started from a test or a scratch folder leaves none).
func scheduleReport(cfg *Config, pool *pgxpool.Pool, logger *slog.Logger, workers *river.Workers) []*river.PeriodicJob {
	// Registered even when off, so River knows the kind.
	river.AddWorker(workers, &jobs.ReportWorker{Pool: pool, Dir: cfg.ReportDir, Format: cfg.ReportFormat, StaleAfter: cfg.StaleAfter,
		Location: cfg.Location, Lang: cfg.ReportLang, Logger: logger})
	if cfg.ReportCron == nil {
		return nil
	}
	logger.Info("scheduled report", "schedule", cfg.ReportSchedule, "dir", cfg.ReportDir, "format", cfg.ReportFormat,
		"next", cfg.ReportCron.Next(time.Now()).Format(time.RFC3339))
	return []*river.PeriodicJob{jobs.ScheduledReport(cfg.ReportCron, cfg.ReportFormat)}
}
