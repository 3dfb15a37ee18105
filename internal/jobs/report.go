package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

// Defaults of the nightly report (REPORT_SCHEDULE, REPORT_DIR, REPORT_FORMAT).
const (
	DefaultReportSchedule = "0 6 * * *"
	DefaultReportDir      = "reports"
	DefaultReportFormat   = "xlsx"
	// ReportTimeout is the time one report may take: loading and rendering
	// a day of orders, far more than the submit job's timeout.
	ReportTimeout = 10 * time.Minute
)

// ReportWorker writes the reconciliation report of the day before the
// slot's day (in Location) to Dir as reconciliation-YYYY-MM-DD.<format> and
// records it in the reports table. The file is written first (a temporary
// file and a rename), then recorded with the job's completion in one
// transaction: a run that fails after the rename leaves a whole file that
// the retry overwrites, and the row always describes the file on disk.
type ReportWorker struct {
	river.WorkerDefaults[jobargs.ReportArgs]
	Pool     *pgxpool.Pool
	Dir      string         // "": DefaultReportDir
	Format   string         // used when the args name none; "": DefaultReportFormat
	Location *time.Location // the reports' time zone (TZ_REPORTS)
	// StaleAfter: orders without a callback for this long are listed as
	// exceptions (STALE_AFTER); 0: store.DefaultStaleAfter.
	StaleAfter time.Duration
	Lang       string // REPORT_LANG: "en" English, else Norwegian bokmål
	Logger     *slog.Logger
}

func (w *ReportWorker) Timeout(*river.Job[jobargs.ReportArgs]) time.Duration { return ReportTimeout }

func (w *ReportWorker) Work(ctx context.Context, job *river.Job[jobargs.ReportArgs]) error {
	format := cmp.Or(job.Args.Format, w.Format, DefaultReportFormat)
	if !slices.Contains(report.Formats, format) {
		return river.JobCancel(fmt.Errorf("unknown report format %q", format))
	}
	day := ReportDay(job.Args.Slot, w.Location)
	now := time.Now()
	path := filepath.Join(cmp.Or(w.Dir, DefaultReportDir), "reconciliation-"+day+"."+format)
	var info report.FileInfo
	var orders int
	// The orders are streamed from the database while the file is written;
	// counting them on the way gives the row's number without a query of
	// its own.
	err := store.WithReport(ctx, w.Pool, day, day, now, w.StaleAfter, func(rep *report.Report) error {
		each := rep.Each
		rep.Each = func(fn func(*report.Order) error) error {
			orders = 0
			return each(func(o *report.Order) error { orders++; return fn(o) })
		}
		rep.Lang = w.Lang
		var err error
		// A CSV report is one file per part; the row records the orders'.
		info, err = report.WriteFiles(path, rep, format, report.DefaultCSVComma)
		return err
	})
	if err != nil {
		return err
	}
	tx, err := w.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := store.RecordReport(ctx, tx, store.ReportFile{PeriodFrom: day, PeriodTo: day, Format: format, Path: path,
		Bytes: info.Bytes, SHA256: info.SHA256, Orders: orders, GeneratedAt: now, JobID: job.ID}); err != nil {
		return err
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	w.Logger.InfoContext(ctx, "report written", "file", path, "orders", orders, "bytes", info.Bytes,
		"job_id", job.ID, "slot", job.Args.Slot.Format(time.RFC3339))
	return nil
}

// ReportDay is the day a slot's report covers: the day before the slot's
// date in loc (nil: DefaultScheduleZone), as YYYY-MM-DD.
func ReportDay(slot time.Time, loc *time.Location) string {
	if loc == nil {
		loc, _ = time.LoadLocation(DefaultScheduleZone)
	}
	return slot.In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
}

// ScheduledReport is the River periodic job that inserts a ReportArgs at
// every slot of sched; like ScheduledImport it does not run on start, and a
// slot that passes while no worker leads is skipped (`worker report` writes
// any day by hand).
func ScheduledReport(sched river.PeriodicSchedule, format string) *river.PeriodicJob {
	return river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
		return jobargs.ReportArgs{Slot: lastSlot(sched, time.Now()), Format: format}, nil
	}, &river.PeriodicJobOpts{ID: "nightly_report"})
}
