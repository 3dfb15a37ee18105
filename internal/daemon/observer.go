package daemon

import (
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// observer is what the worker's parts report to: the submit job, the
// throttle and the callback handler (metrics.Metrics implements it).
type observer interface {
	jobs.SubmitMetrics
	throttle.WaitMetrics
	httpapi.CallbackMetrics
}
