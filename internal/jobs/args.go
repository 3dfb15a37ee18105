// Package jobs holds fpexport's River jobs: submitting an order to FP,
// applying FP's callbacks, and asking FP for the statuses no callback
// brought. Job args carry ids only; the data lives in our tables, read and
// locked when the job runs.
package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// Queues.
const (
	QueueSubmit    = "submit"
	QueueCallbacks = "callbacks"
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

// Queues returns the River queue configuration. FetchCooldown is lowered from
// River's 100 ms so a queue of short HTTP jobs is not limited by fetching (on
// two cores, 50 workers calling a 20 ms peer completed about 490 jobs a
// second with 100 ms and 1 160 with 10 ms). Callbacks are applied by 4 workers, not more: a callback
// is safe once stored, applying it may lag, and under a burst (2 000 a
// second in the load benchmark) 20 appliers took the CPU the receiver needs
// on two cores, so it fell behind; 4 apply a few hundred a second, far above
// what FP's 4 orders a second bring.
func Queues(submitWorkers int) map[string]river.QueueConfig {
	return map[string]river.QueueConfig{
		QueueSubmit:        {MaxWorkers: submitWorkers, FetchCooldown: 10 * time.Millisecond},
		QueueCallbacks:     {MaxWorkers: 4, FetchCooldown: 10 * time.Millisecond},
		river.QueueDefault: {MaxWorkers: 2},
	}
}
