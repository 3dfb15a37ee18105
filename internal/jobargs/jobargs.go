// Package jobargs holds the arguments and queue names of all fpexport's
// River jobs: the submit job (queued by every import), applying and
// confirming a callback (queued by the HTTP receiver), the scheduled import,
// and the periodic ones (status poll, catch-up poll, nightly report, pruning
// of untrusted callbacks, search index). It imports none of the module's
// packages, so a package that inserts a job needs only this one, and the jobs package may import the
// packages whose work its jobs run (the import job runs inbox and erp,
// which queue submit jobs through intake).
//
// Job args carry ids only; the data lives in our tables, read and locked
// when the job runs.
package jobargs

import (
	"time"

	"github.com/riverqueue/river"
)

// Queues.
const (
	QueueSubmit    = "submit"
	QueueCallbacks = "callbacks"
	// QueueImports runs scheduled imports, one at a time per worker process.
	QueueImports = "imports"
)

// SubmitMaxAttempts bounds the retries of transient failures; after the last
// one the order is `failed` with its last error.
const SubmitMaxAttempts = 10

// SubmitOrderArgs submits one version of one order. Unique by both fields,
// so importing the same change twice does not queue two jobs, while a later
// change of an order FP already has gets a job of its own.
type SubmitOrderArgs struct {
	OrderID int64 `json:"order_id" river:"unique"`
	Version int   `json:"version" river:"unique"`
}

func (SubmitOrderArgs) Kind() string { return "submit_order" }

func (SubmitOrderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueSubmit,
		MaxAttempts: SubmitMaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}
}

// ApplyCallbackArgs applies one stored, verified callback to its order.
type ApplyCallbackArgs struct {
	CallbackID int64 `json:"callback_id" river:"unique"`
}

func (ApplyCallbackArgs) Kind() string { return "apply_callback" }

func (ApplyCallbackArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCallbacks, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Sources of scheduled imports.
const (
	ImportInbox = "inbox" // every new file in INBOX_DIR (package inbox)
	ImportERP   = "erp"   // new and changed rows of the ERP table (package erp)
)

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

// RepollArgs is one run of the status poll. Unique by its slot, the start of
// the REPOLL_EVERY period it belongs to, as ImportArgs: with several worker
// processes (and changes of River's leader) a slot runs once.
type RepollArgs struct {
	Slot time.Time `json:"slot" river:"unique"`
}

func (RepollArgs) Kind() string { return "repoll_orders" }

func (RepollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ReportArgs is one scheduled run of the nightly report. Unique by its slot,
// as ImportArgs: with several worker processes (and changes of River's
// leader) a slot writes one report. Format is the leader's REPORT_FORMAT; it
// is not part of the unique key, so processes that disagree on it still
// write one report a slot.
type ReportArgs struct {
	Slot   time.Time `json:"slot" river:"unique"`
	Format string    `json:"format"`
}

func (ReportArgs) Kind() string { return "nightly_report" }

func (ReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// CatchupPollArgs asks FP for the orders that may have been called back
// while no callback could be stored: the database was down (the receiver
// answered 5xx), or no worker ran at all (a gap in the heartbeats). FP
// retries a callback a few times and then gives up, so without this those
// orders would wait for the status poll, a day later. Unique by the
// window's start, so workers that find the same gap at once queue it once.
type CatchupPollArgs struct {
	From   time.Time `json:"from" river:"unique"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"` // "callbacks refused" or "no worker running"
}

func (CatchupPollArgs) Kind() string { return "catchup_poll" }

func (CatchupPollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ConfirmCallbacksArgs confirms with FP a keyless callback (verdict
// awaiting_fp) and, with the same request, every other callback of its
// order awaiting confirmation.
type ConfirmCallbacksArgs struct {
	CallbackID int64 `json:"callback_id" river:"unique"`
}

func (ConfirmCallbacksArgs) Kind() string { return "confirm_callbacks" }

func (ConfirmCallbacksArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCallbacks, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// PruneUntrustedArgs is one run of the retention job of untrusted
// callbacks. Unique by its slot (the hour it belongs to), as RepollArgs:
// with several worker processes (and changes of River's leader) a slot
// runs once.
type PruneUntrustedArgs struct {
	Slot time.Time `json:"slot" river:"unique"`
}

func (PruneUntrustedArgs) Kind() string { return "prune_untrusted_callbacks" }

func (PruneUntrustedArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SearchIndexArgs is one run of the search index job (store.IndexSearch):
// it indexes the orders of the batches imported since the last run. Unique
// by its slot, as RepollArgs.
type SearchIndexArgs struct {
	Slot time.Time `json:"slot" river:"unique"`
}

func (SearchIndexArgs) Kind() string { return "index_search" }

func (SearchIndexArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}
