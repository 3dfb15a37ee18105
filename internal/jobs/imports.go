package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"
)

// QueueImports runs scheduled imports, one at a time per worker process.
const QueueImports = "imports"

// Sources of scheduled imports.
const (
	ImportInbox = "inbox" // every new file in INBOX_DIR (package inbox)
	ImportERP   = "erp"   // new and changed rows of the ERP table (package erp)
)

// ImportTimeout is the default time one scheduled import may take. It is
// generous on purpose: River's stuck-job rescuer leaves a job alone until its
// own timeout has passed (makeRetryDecision in River's job_rescuer.go), so a
// long import is never started a second time while it still runs.
const ImportTimeout = time.Hour

// ImportMaxAttempts: an import that failed (database or ERP unreachable) is
// tried again with River's default backoff (1 s, 16 s, 81 s, 256 s). A retry
// never imports twice: every file or ERP read is one transaction, an inbox
// file is moved only after its batch committed and a file whose bytes were
// imported before is recognised by its SHA-256 and only moved; the ERP
// watermark moves in the same transaction as the rows it covers.
const ImportMaxAttempts = 5

// ImportArgs is one scheduled run of one import. Unique by both fields: the
// slot is the schedule's time this run belongs to, so however many worker
// processes there are, and however River's leadership moves between them, a
// slot is inserted once (River inserts periodic jobs on the leader only; a
// new leader or an overlap between two is what the unique key covers).
type ImportArgs struct {
	Source string    `json:"source" river:"unique"`
	Slot   time.Time `json:"slot" river:"unique"`
}

func (ImportArgs) Kind() string { return "scheduled_import" }

func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueImports,
		MaxAttempts: ImportMaxAttempts,
		// The default states: a slot's job blocks another for the same slot
		// while it waits, runs or has completed (River deletes completed
		// jobs after 24 h, long after their slot has passed).
		UniqueOpts: river.UniqueOpts{ByArgs: true},
	}
}

// ImportFunc runs one import; inserter is the worker's River client, which
// queues the submit jobs inside the import's transaction. It is the same
// function `enqueue --inbox` / `enqueue --erp` call (inbox.Import, erp.Import),
// wired by cmd/worker: this package cannot import them (intake imports jobs).
type ImportFunc func(ctx context.Context, inserter *river.Client[pgx.Tx], args ImportArgs) error

// ImportWorker runs scheduled imports.
type ImportWorker struct {
	river.WorkerDefaults[ImportArgs]
	// Imports holds the import of each source configured in this process.
	Imports map[string]ImportFunc
	// JobTimeout overrides ImportTimeout (0 = ImportTimeout).
	JobTimeout time.Duration
}

func (w *ImportWorker) Timeout(*river.Job[ImportArgs]) time.Duration {
	if w.JobTimeout > 0 {
		return w.JobTimeout
	}
	return ImportTimeout
}

func (w *ImportWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	run := w.Imports[job.Args.Source]
	if run == nil {
		// Every worker process must carry the same import settings (River's
		// leader inserts the jobs, any process may run them); retrying here
		// would not help.
		return river.JobCancel(fmt.Errorf("no %s import is configured in this worker process", job.Args.Source))
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return run(ctx, client, job.Args)
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
func ImportArgsAt(source string, sched river.PeriodicSchedule, now time.Time) ImportArgs {
	return ImportArgs{Source: source, Slot: lastSlot(sched, now)}
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
