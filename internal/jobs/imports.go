package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/frontpayment/fpexport/internal/erp"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/jobargs"
)

// ImportTimeout is the default time one scheduled import may take. It is
// generous on purpose: River's stuck-job rescuer leaves a job alone until its
// own timeout has passed (makeRetryDecision in River's job_rescuer.go), so a
// long import is never started a second time while it still runs.
const ImportTimeout = time.Hour

// Imports are the scheduled imports this worker process can run, with the
// settings they run with: built once from the worker's configuration
// (IMPORT_*, INBOX_*, ERP_*). They run inbox.Import and erp.Import, the
// same functions `enqueue --inbox` / `--erp` call.
type Imports struct {
	Pool        *pgxpool.Pool
	Logger      *slog.Logger
	InboxDir    string        // "": no inbox import here
	InboxMinAge time.Duration // a file modified more recently waits for the next run
	ERP         *erp.Config   // nil: no ERP import here
	Settings    intake.Settings
}

// Sources lists the sources configured here, sorted.
func (im Imports) Sources() []string {
	var out []string
	if im.ERP != nil {
		out = append(out, jobargs.ImportERP)
	}
	if im.InboxDir != "" {
		out = append(out, jobargs.ImportInbox)
	}
	return out
}

// ImportWorker runs scheduled imports.
type ImportWorker struct {
	river.WorkerDefaults[jobargs.ImportArgs]
	Imports Imports
	// JobTimeout overrides ImportTimeout (0 = ImportTimeout).
	JobTimeout time.Duration
}

func (w *ImportWorker) Timeout(*river.Job[jobargs.ImportArgs]) time.Duration {
	if w.JobTimeout > 0 {
		return w.JobTimeout
	}
	return ImportTimeout
}

func (w *ImportWorker) Work(ctx context.Context, job *river.Job[jobargs.ImportArgs]) error {
	if !slices.Contains(w.Imports.Sources(), job.Args.Source) {
		// Every worker process must carry the same import settings (River's
		// leader inserts the jobs, any process may run them); retrying here
		// would not help.
		return river.JobCancel(fmt.Errorf("no %s import is configured in this worker process", job.Args.Source))
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	if job.Args.Source == jobargs.ImportERP {
		return w.Imports.RunERP(ctx, client, job.Args)
	}
	return w.Imports.RunInbox(ctx, client, job.Args)
}

// DefaultScheduleZone is the time zone of a schedule that names none.
const DefaultScheduleZone = "Europe/Oslo"

// ParseSchedule reads a robfig/cron standard schedule: five fields (minute,
// hour, day of month, month, day of week) or a descriptor such as @daily or
// @every 15m. Without a CRON_TZ= or TZ= prefix it is read in
// DefaultScheduleZone, not in the process's zone (River calls the schedule
// with time.Now() in the process's local zone, which would make a plain cron
// line follow $TZ): "0 2 * * *" is 02:00 in Oslo,
// summer and winter. It returns the spec as read, with the zone.
func ParseSchedule(spec string) (river.PeriodicSchedule, string, error) {
	spec = strings.TrimSpace(spec)
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		spec = "CRON_TZ=" + DefaultScheduleZone + " " + spec
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, spec, err
	}
	return s, spec, nil
}

// slotMargin: River's enqueuer fires a periodic job up to 100 ms before its
// time (nowWithMargin in River's periodic_job_enqueuer.go), so the slot being
// fired is the last one at or before now plus a margin. It must stay well below the
// shortest interval between two slots (a minute for five-field schedules).
const slotMargin = 500 * time.Millisecond

// ImportArgsAt are the args of the run of source that sched has due at now:
// its slot is the latest time of the schedule at or before now (plus
// slotMargin). Every process computes the same slot for the same run, which
// is what makes the args unique per slot.
func ImportArgsAt(source string, sched river.PeriodicSchedule, now time.Time) jobargs.ImportArgs {
	return jobargs.ImportArgs{Source: source, Slot: lastSlot(sched, now)}
}

// lastSlot finds the latest time of sched at or before now+slotMargin. A
// schedule only tells the next time after a given one, so it looks back
// further and further (a minute, four, sixteen … up to about a year) until
// a slot falls in the window, then walks forward to the last one.
func lastSlot(sched river.PeriodicSchedule, now time.Time) time.Time {
	limit := now.Add(slotMargin)
	for back := time.Minute; back <= 400*24*time.Hour; back *= 4 {
		t := sched.Next(now.Add(-back))
		if t.IsZero() || t.After(limit) {
			continue
		}
		for {
			n := sched.Next(t)
			if n.IsZero() || !n.After(t) || n.After(limit) {
				return t.UTC()
			}
			t = n
		}
	}
	// No slot within a year (a schedule such as "0 2 29 2 *"): the run is
	// named by its own second.
	return now.Truncate(time.Second).UTC()
}

// ScheduledImport is the River periodic job that inserts an ImportArgs for
// source at every slot of sched. It does not run on start: River's leader
// inserts it when the slot comes (RunOnStart would insert one on every
// leader start, River issue #827). River keeps the schedule in memory only,
// on the leader: a slot that passes while no worker runs, or during a change
// of leader, is skipped; the next slot imports whatever accumulated, and
// `enqueue --inbox` / `--erp` can always be run by hand.
func ScheduledImport(source string, sched river.PeriodicSchedule) *river.PeriodicJob {
	return river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
		return ImportArgsAt(source, sched, time.Now()), nil
	}, &river.PeriodicJobOpts{ID: "import_" + source})
}
