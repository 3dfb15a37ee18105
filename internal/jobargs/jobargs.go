// Package jobargs holds the arguments and queue names of fpexport's River
// jobs that other packages insert: the submit job (queued by every import),
// applying a callback (queued by the HTTP receiver) and the scheduled
// import. It imports none of the module's packages, so a package that
// inserts a job needs only this one, and the jobs package may import the
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
