package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// catchupPage is how many orders one query of a catch-up reads.
const catchupPage = 500

// CatchupPollWorker polls at FP, through the shared throttle, every order
// that FP had by the end of the window and that still waits for FP's word,
// as the status poll does (same request, same apply). Orders FP has spoken
// about since the job was queued are skipped, so a run again (after a
// snooze for FP's budget, or a crash) continues where it stopped.
type CatchupPollWorker struct {
	river.WorkerDefaults[jobargs.CatchupPollArgs]
	Pool     *pgxpool.Pool
	FP       StatusPoller
	Throttle *throttle.Throttle // nil: none
	Logger   *slog.Logger
}

func (w *CatchupPollWorker) Timeout(*river.Job[jobargs.CatchupPollArgs]) time.Duration {
	return RepollTimeout
}

func (w *CatchupPollWorker) Work(ctx context.Context, job *river.Job[jobargs.CatchupPollArgs]) error {
	log := w.Logger.With("job_id", job.ID, "from", job.Args.From.Format(time.RFC3339), "to", job.Args.To.Format(time.RFC3339), "reason", job.Args.Reason)
	poller := &RepollWorker{Pool: w.Pool, FP: w.FP, Throttle: w.Throttle, Logger: w.Logger}
	var polled, failures int
	var after int64
	for {
		orders, err := store.CatchupCandidates(ctx, w.Pool, RepollStatuses, job.Args.To, job.CreatedAt, after, catchupPage)
		if err != nil {
			return err
		}
		for _, o := range orders {
			after = o.ID
			done, err := poller.poll(ctx, o, log.With("order_id", o.ID, "fp_order_uuid", o.FPOrderUUID))
			var wait *throttle.Wait
			switch {
			case errors.As(err, &wait):
				log.Info("catch-up poll waits for FP's budget", "polled", polled, "for", wait.For)
				return river.JobSnooze(max(wait.For, time.Second))
			case errors.Is(err, errTokenRefused):
				return river.JobSnooze(max(w.Throttle.PausePeriod(), time.Second))
			case err != nil && ctx.Err() != nil:
				return err
			case err != nil:
				failures++
				if failures >= repollFailures {
					// FP is in trouble: River runs the job again later,
					// and it skips what it polled.
					return err
				}
				continue
			}
			failures = 0
			if done {
				polled++
			}
		}
		if len(orders) < catchupPage {
			break
		}
	}
	log.Info("catch-up poll done: orders open during the window asked for at FP", "polled", polled)
	return nil
}
