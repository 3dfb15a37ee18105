// Package jobs holds fpexport's River jobs: submitting an order to FP,
// applying FP's callbacks, and asking FP for the statuses no callback
// brought. Job args carry ids only; the data lives in our tables, read and
// locked when the job runs.
package jobs

import (
	"time"

	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobargs"
)

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
		jobargs.QueueSubmit:    {MaxWorkers: submitWorkers, FetchCooldown: 10 * time.Millisecond},
		jobargs.QueueCallbacks: {MaxWorkers: 4, FetchCooldown: 10 * time.Millisecond},
		river.QueueDefault:     {MaxWorkers: 2},
	}
}
