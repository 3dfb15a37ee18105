package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// Submitter is the part of fpclient.Client the submit job uses.
type Submitter interface {
	Submit(ctx context.Context, kind fpclient.Kind, payload any) (*fpclient.Created, error)
}

// SubmitConfig is what the submit job needs besides the database.
type SubmitConfig struct {
	FP              Submitter
	CallbackBaseURL string
	CallbackSecret  string
	SuccessURL      string
	FailureURL      string
	// Throttle paces requests for all worker processes (rate,
	// concurrency, FP's budget, the pause on a refused token); nil: none.
	Throttle *throttle.Throttle
	Location *time.Location
	// RequestTimeout is the FP client's timeout; the job's own timeout is
	// set above it, so a hung request ends the attempt, not the job.
	RequestTimeout time.Duration
	// Backoff overrides the delay before retry n (tests make it short).
	Backoff func(attempt int) time.Duration
	Logger  *slog.Logger
	// Metrics counts attempts by outcome, FP's latency and the snoozes FP
	// asked for; nil: none.
	Metrics SubmitMetrics
}

// SubmitMetrics is what the submit job reports to the metrics
// (metrics.Metrics implements it).
type SubmitMetrics interface {
	Submission(outcome string)
	FPRequest(kind string, d time.Duration)
	RateLimitWait(reason string, d time.Duration)
}

// SubmitOrderWorker sends one order to FP without ever sending it twice.
//
// River runs a job at least once (a killed worker, a rescued stuck job), and
// FP has no idempotency key. So every attempt is committed BEFORE its request
// goes out, and its outcome, with the order's new status, as soon as FP
// answered.
// A job that finds an attempt without an outcome knows a request may have
// reached FP: for kinds that notify the customer the order goes to
// needs_review instead of being sent again.
//
// The job is completed by River when Work returns, not inside our
// transaction (JobCompleteTx): the order's status is what counts. A job run
// again after our commit but before River recorded its completion (a crash
// in between) finds the order settled and sends nothing. River's completer
// batches completions; JobCompleteTx cost a round trip and a heavy query
// per order, ~20 % of the worker's time at full speed.
type SubmitOrderWorker struct {
	river.WorkerDefaults[jobargs.SubmitOrderArgs]
	Pool *pgxpool.Pool
	Cfg  SubmitConfig
}

func (w *SubmitOrderWorker) Timeout(*river.Job[jobargs.SubmitOrderArgs]) time.Duration {
	return w.Cfg.RequestTimeout + 15*time.Second
}

// NextRetry: exponential backoff from 2 s, capped at 10 min, with ±20 %
// jitter so that a batch failing together does not retry together.
func (w *SubmitOrderWorker) NextRetry(job *river.Job[jobargs.SubmitOrderArgs]) time.Time {
	if w.Cfg.Backoff != nil {
		return time.Now().Add(w.Cfg.Backoff(job.Attempt))
	}
	return time.Now().Add(Backoff(job.Attempt))
}

// Backoff is the delay before retry number attempt (1-based).
func Backoff(attempt int) time.Duration {
	d := 2 * time.Second << min(max(attempt-1, 0), 12)
	d = min(d, 10*time.Minute)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

func (w *SubmitOrderWorker) Work(ctx context.Context, job *river.Job[jobargs.SubmitOrderArgs]) error {
	log := w.Cfg.Logger.With("order_id", job.Args.OrderID, "job_id", job.ID, "job_attempt", job.Attempt)
	// The rate slot comes first: an attempt is committed only when its
	// request may go out, so a crash while waiting for the slot leaves
	// nothing that looks like a request in flight. The place in the
	// concurrency (slot.Go) is taken after the commit, right before the
	// request, so it covers the request only; at most a few attempts of a
	// process (throttle's stageDepth) wait for it committed, briefly.
	// (Not inside begin's transaction: waiting there would hold a
	// connection while the throttle needs another; a full pool would
	// deadlock.)
	slot, err := w.Cfg.Throttle.Acquire(ctx)
	var wait *throttle.Wait
	if errors.As(err, &wait) {
		// Paused, or FP's budget spent: come back later, no attempt spent.
		// The jitter spreads the comeback of a whole batch.
		return river.JobSnooze(wait.For + time.Duration(rand.Int64N(int64(wait.For/10)+1)))
	}
	if err != nil {
		return err
	}
	defer slot.Release()

	order, attemptID, attempt, fpgo, done, err := w.begin(ctx, job, log)
	if err != nil || done {
		return err
	}
	// Until this run ends the attempt is in this process's hand: another
	// run of the job here must not take it for abandoned (internal/throttle hold.go).
	defer w.Cfg.Throttle.Track(attemptID)()
	log = log.With("order_ref", order.Ref, "kind", order.Kind, "attempt", attempt)

	payload, err := w.payload(order, fpgo)
	if err != nil {
		// Our stored order cannot be built into a request: a bug or a
		// change of rules, not FP's refusal (nothing was sent). Settle it
		// for a human under its own status and outcome.
		return w.finish(ctx, job, order, attemptID, attempt, "invalid_payload", 0, err.Error(), orderstate.InvalidPayload, log)
	}
	if err := slot.Go(ctx); err != nil {
		// Stopped while waiting for a place: the attempt is known unsent.
		if rerr := w.record(ctx, order, attemptID, attempt, "not_sent", 0, "stopped before sending: "+err.Error(), orderstate.Queued); rerr != nil {
			return rerr
		}
		log.Info("submit attempt not sent: the worker is stopping", "outcome", "not_sent", "http_status", 0)
		return err
	}
	sentAt := time.Now()
	created, err := w.Cfg.FP.Submit(ctx, fpclient.Kind(order.Kind), payload)
	slot.Release() // only requests in flight count against the concurrency
	if w.Cfg.Metrics != nil {
		w.Cfg.Metrics.FPRequest(order.Kind, time.Since(sentAt))
	}
	w.observe(ctx, slot, created, err, log)
	if err == nil {
		return w.succeed(ctx, job, order, attemptID, attempt, created, log)
	}
	return w.fail(ctx, job, order, attemptID, attempt, err, slot.Probe, log)
}

// observe tells the throttle what FP's answer says about the shared limits:
// its remaining budget, a Retry-After for everyone, and whether the token is
// taken again after a pause. A failure here is logged, never the order's.
func (w *SubmitOrderWorker) observe(ctx context.Context, slot *throttle.Slot, created *fpclient.Created, err error, log *slog.Logger) {
	var rl fpclient.RateLimit
	if created != nil {
		rl = created.RateLimit
	}
	observe(ctx, w.Cfg.Throttle, slot, rl, err, log)
}

// observe is SubmitOrderWorker.observe for any request to FP: rl is the
// rate limit of a successful answer (a failed one carries its own).
func observe(ctx context.Context, thr *throttle.Throttle, slot *throttle.Slot, rl fpclient.RateLimit, err error, log *slog.Logger) {
	ctx = context.WithoutCancel(ctx)
	var fe *fpclient.Error
	errors.As(err, &fe)
	if fe != nil {
		rl = fe.RateLimit
	}
	thr.Observe(rl)
	if fe != nil && fe.RetryAfter > 0 {
		if e := thr.Defer(ctx, fe.RetryAfter); e != nil {
			log.Warn("throttle", "error", e)
		}
	}
	if slot.Probe && (err == nil || fe != nil && fpclient.ClassOf(err) != fpclient.Auth) {
		if resumed, e := thr.Resume(ctx); e != nil {
			log.Warn("throttle", "error", e)
		} else if resumed {
			log.Info("FP takes the token again; submitting resumed")
		}
	}
}

// begin locks the order, checks whether it still needs sending, resolves an
// earlier attempt left without outcome, and commits a new attempt.
func (w *SubmitOrderWorker) begin(ctx context.Context, job *river.Job[jobargs.SubmitOrderArgs], log *slog.Logger) (o *store.Order, attemptID int64, attempt int, fpgo string, done bool, err error) {
	// Nearly always the order is simply waiting: one statement starts the
	// attempt. Anything else is looked at in a transaction below.
	sender := w.Cfg.Throttle.ID()
	o, attemptID, attempt, ok, err := orders.StartSubmit(ctx, w.Pool, job.Args.OrderID, job.ID, job.Attempt, sender)
	if err != nil {
		return nil, 0, 0, "", false, err
	}
	if ok {
		return o, attemptID, attempt, o.FPOrderUUID, false, nil
	}
	tx, err := w.Pool.Begin(ctx)
	if err != nil {
		return nil, 0, 0, "", false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck

	o, open, err := store.LockForSubmit(ctx, tx, job.Args.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("order no longer exists; dropping job")
		return nil, 0, 0, "", true, tx.Commit(ctx)
	}
	if err != nil {
		return nil, 0, 0, "", false, err
	}
	// An open attempt whose sender may still hold FP's answer (the database
	// was away when it came) is neither sent again nor closed: its sender
	// records it when it can (internal/throttle hold.go).
	senderAlive := false
	if open != nil {
		if senderAlive, err = w.Cfg.Throttle.SenderAlive(ctx, tx, open.Sender, open.ID); err != nil {
			return nil, 0, 0, "", false, err
		}
	}
	if o.Status != orderstate.Queued && o.Status != orderstate.Submitting {
		// Settled by an earlier run of this job, another version's job, a
		// callback, or a human. Nothing to send. An attempt of a killed run
		// may still be open: FP's callback has told what became of it.
		if senderAlive {
			log.Info("order already settled; an earlier attempt's answer is still held by its sender", "status", o.Status, "sender", open.Sender)
			return nil, 0, 0, "", true, tx.Commit(ctx)
		}
		if _, err := tx.Exec(ctx, `UPDATE submit_attempts SET outcome = 'superseded', finished_at = now(),
				message = 'no answer recorded; the order was settled meanwhile (status ' || $2 || ')'
			WHERE order_id = $1 AND outcome IS NULL`, o.ID, string(o.Status)); err != nil {
			return nil, 0, 0, "", false, err
		}
		log.Info("order already settled; nothing to send", "status", o.Status)
		return nil, 0, 0, "", true, tx.Commit(ctx)
	}

	if senderAlive {
		log.Info("an earlier attempt's sender is alive and may hold FP's answer; waiting for it to be recorded",
			"order_ref", o.Ref, "kind", o.Kind, "open_attempt", open.Attempt, "sender", open.Sender)
		return nil, 0, 0, "", true, river.JobSnooze(holdSnooze + time.Duration(rand.Int64N(int64(time.Second))))
	}
	if open != nil {
		reason := fmt.Sprintf("attempt %d (started %s) may have reached FP; its answer was never recorded",
			open.Attempt, open.StartedAt.UTC().Format(time.RFC3339))
		if _, err := store.FinishAttempt(ctx, tx, open.ID, "abandoned", 0, "no answer recorded (worker stopped, or its database connection failed)"); err != nil {
			return nil, 0, 0, "", false, err
		}
		if fpclient.Kind(o.Kind).NotifiesCustomer() {
			if err := w.settle(ctx, tx, o.ID, orderstate.NeedsReview, reason, open.Attempt); err != nil {
				return nil, 0, 0, "", false, err
			}
			log.Warn("order needs review: an earlier request may have reached FP", "order_ref", o.Ref, "kind", o.Kind)
			return nil, 0, 0, "", true, tx.Commit(ctx)
		}
		// A checkout session only creates a URL; a second one is harmless.
		log.Info("retrying after an unrecorded attempt (kind allows it)", "order_ref", o.Ref, "kind", o.Kind)
	}

	fpgo = o.FPOrderUUID
	attemptID, attempt, err = orders.StartAttempt(ctx, tx, o, job.ID, job.Attempt, fpgo, sender)
	if err != nil {
		return nil, 0, 0, "", false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, 0, "", false, err
	}
	return o, attemptID, attempt, fpgo, false, nil
}

func (w *SubmitOrderWorker) payload(o *store.Order, fpgo string) (any, error) {
	var mo mapping.Order
	if err := json.Unmarshal(o.Data, &mo); err != nil {
		return nil, fmt.Errorf("stored order unreadable: %w", err)
	}
	return mapping.BuildPayload(mo, mapping.PayloadOptions{
		CallbackURL: callbackurl.For(w.Cfg.CallbackBaseURL, w.Cfg.CallbackSecret, o.ID),
		SuccessURL:  w.Cfg.SuccessURL,
		FailureURL:  w.Cfg.FailureURL,
		FpgoUUID:    fpgo,
		Now:         time.Now(),
		Location:    w.Cfg.Location,
	})
}

func (w *SubmitOrderWorker) succeed(ctx context.Context, job *river.Job[jobargs.SubmitOrderArgs], o *store.Order, attemptID int64, attempt int, c *fpclient.Created, log *slog.Logger) error {
	// The request succeeded: recording it must not be cut short by a
	// shutdown that cancels ctx, or the next run would see an open attempt.
	ctx = context.WithoutCancel(ctx)
	msg := c.Message
	if c.OrderUUID == "" {
		msg += " (no orderUuid in FP's answer; the first callback will carry it)"
	}
	a := answer(o, attemptID, attempt, "created", c.HTTPStatus)
	a.FPOrderUUID = c.OrderUUID
	err := w.persist(ctx, log, a, func(ctx context.Context) error {
		recorded, err := orders.RecordCreated(ctx, w.Pool, o.ID, attemptID, attempt, c.HTTPStatus, msg,
			orders.Created{OrderUUID: c.OrderUUID, CustomerUUID: c.CustomerUUID, PaymentURL: c.PaymentURL, BankIDURL: c.BankIDURL},
			map[string]any{"http_status": c.HTTPStatus, "message": c.Message, "fp_order_uuid": c.OrderUUID,
				"customer_uuid": c.CustomerUUID, "ratelimit_remaining": c.RateLimit.Remaining})
		if err == nil && !recorded {
			return errRecorded
		}
		return err
	})
	if err != nil {
		return err
	}
	log.Info("order submitted", "outcome", "created", "http_status", c.HTTPStatus, "fp_order_uuid", c.OrderUUID)
	return nil
}

// fail turns a classified error into the order's next state and River's
// next step, in one switch, so each class is decided in one place (the
// table of answers and classes is fpclient's package doc).
func (w *SubmitOrderWorker) fail(ctx context.Context, job *river.Job[jobargs.SubmitOrderArgs], o *store.Order, attemptID int64, attempt int, err error, probe bool, log *slog.Logger) error {
	var fe *fpclient.Error
	errors.As(err, &fe)
	status, msg := 0, err.Error()
	if fe != nil {
		status = fe.StatusCode
	}
	kind := fpclient.Kind(o.Kind)
	lastAttempt := job.Attempt >= job.MaxAttempts

	switch class := fpclient.ClassOf(err); {
	case class == fpclient.Permanent:
		return w.finish(ctx, job, o, attemptID, attempt, "rejected", status, msg, orderstate.ProviderRejected, log)
	case class == fpclient.Auth:
		// Not the order's fault: keep it queued, spend no attempt, and
		// pause all sending (every process) instead of burning every
		// order's attempts. One request probes once per pause period; only
		// the first refusal and each failed probe log, so the error shows
		// once a minute.
		if err := w.record(ctx, o, attemptID, attempt, "auth", status, msg, orderstate.Queued); err != nil {
			return err
		}
		reason := fmt.Sprintf("FP refused the token (HTTP %d)", status)
		started, perr := w.Cfg.Throttle.Pause(context.WithoutCancel(ctx), reason)
		if perr != nil {
			log.Warn("throttle", "error", perr)
		}
		if started || probe {
			log.Error("FP refused the token; submitting paused for all workers", "outcome", "auth", "http_status", status, "retry_in", w.Cfg.Throttle.PausePeriod())
		} else {
			log.Warn("submit refused: FP does not take the token; the order waits", "outcome", "auth", "http_status", status)
		}
		return river.JobSnooze(w.Cfg.Throttle.PausePeriod() + time.Duration(rand.Int64N(int64(time.Second))))
	case class == fpclient.Ambiguous && kind.NotifiesCustomer():
		return w.finish(ctx, job, o, attemptID, attempt, "ambiguous", status,
			"request may have reached FP, outcome unknown: "+msg, orderstate.NeedsReview, log)
	case lastAttempt:
		return w.finish(ctx, job, o, attemptID, attempt, class.String(), status,
			fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, msg), orderstate.Failed, log)
	default: // Retryable, or Ambiguous for a kind that may be resent
		if err := w.record(ctx, o, attemptID, attempt, class.String(), status, msg, orderstate.Queued); err != nil {
			return err
		}
		if fe != nil && fe.RetryAfter > 0 {
			log.Warn("FP asked to wait", "outcome", class.String(), "http_status", status, "retry_after", fe.RetryAfter)
			if w.Cfg.Metrics != nil {
				w.Cfg.Metrics.RateLimitWait("retry_after", fe.RetryAfter)
			}
			return river.JobSnooze(fe.RetryAfter)
		}
		log.Warn("submit failed; will retry", "outcome", class.String(), "http_status", status, "error", msg)
		return err
	}
}

// record stores an attempt's outcome and the order's interim state without
// settling the job.
func (w *SubmitOrderWorker) record(ctx context.Context, o *store.Order, attemptID int64, attempt int, outcome string, httpStatus int, msg string, s orderstate.Status) error {
	ctx = context.WithoutCancel(ctx)
	orderID := o.ID
	log := w.Cfg.Logger.With("order_id", orderID, "order_ref", o.Ref, "kind", o.Kind, "attempt", attempt)
	return w.persist(ctx, log, answer(o, attemptID, attempt, outcome, httpStatus), inTx(w.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := finishAttempt(ctx, tx, attemptID, outcome, httpStatus, msg); err != nil {
			return err
		}
		_, err := orders.Settle(ctx, tx, orderID, orders.Verdict{Status: s, Reason: msg, Event: "submit_" + outcome, Attempt: attempt,
			Detail: map[string]any{"http_status": httpStatus, "message": msg}, StatusIfDropped: true})
		return err
	}))
}

// finish records the attempt's outcome and settles the order in one
// transaction; River completes the job when Work returns.
func (w *SubmitOrderWorker) finish(ctx context.Context, job *river.Job[jobargs.SubmitOrderArgs], o *store.Order, attemptID int64, attempt int, outcome string, httpStatus int, msg string, s orderstate.Status, log *slog.Logger) error {
	ctx = context.WithoutCancel(ctx)
	var applied bool
	err := w.persist(ctx, log, answer(o, attemptID, attempt, outcome, httpStatus), inTx(w.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := finishAttempt(ctx, tx, attemptID, outcome, httpStatus, msg); err != nil {
			return err
		}
		var err error
		// Dropped when FP's callback came first: FP has the order.
		applied, err = orders.Settle(ctx, tx, o.ID, orders.Verdict{Status: s, Reason: msg, Event: "submit_" + outcome, Attempt: attempt,
			Detail: map[string]any{"http_status": httpStatus, "message": msg}})
		return err
	}))
	if err != nil {
		return err
	}
	if applied {
		log.Warn("order settled without submission", "outcome", outcome, "status", s, "http_status", httpStatus, "error", msg)
	} else {
		log.Info("submit attempt recorded; FP's callback had settled the order meanwhile", "outcome", outcome, "http_status", httpStatus, "error", msg)
	}
	return nil
}

func (w *SubmitOrderWorker) settle(ctx context.Context, tx pgx.Tx, orderID int64, s orderstate.Status, reason string, attempt int) error {
	_, err := orders.Settle(ctx, tx, orderID, orders.Verdict{Status: s, Reason: reason, Event: "status", Attempt: attempt,
		Detail: map[string]any{"reason": reason}, StatusIfDropped: true})
	return err
}

// inTx runs fn in a transaction of its own.
func inTx(pool *pgxpool.Pool, fn func(ctx context.Context, tx pgx.Tx) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
	}
}

// answer describes an attempt's outcome for the throttle's list of answers
// held (ids and FP's order id only: no personal data).
func answer(o *store.Order, attemptID int64, attempt int, outcome string, httpStatus int) throttle.Answer {
	return throttle.Answer{OrderID: o.ID, OrderRef: o.Ref, Kind: o.Kind, AttemptID: attemptID, Attempt: attempt,
		Outcome: outcome, HTTPStatus: httpStatus, FPOrderUUID: o.FPOrderUUID}
}

// errRecorded: the attempt's outcome is in the database already.
var errRecorded = errors.New("attempt outcome already recorded")

// finishAttempt records an attempt's outcome, once: errRecorded when an
// earlier try of the same transaction committed it already.
func finishAttempt(ctx context.Context, tx pgx.Tx, attemptID int64, outcome string, httpStatus int, msg string) error {
	finished, err := store.FinishAttempt(ctx, tx, attemptID, outcome, httpStatus, msg)
	if err == nil && !finished {
		return errRecorded
	}
	return err
}

// persist records FP's answer in a transaction. Once FP has answered, that
// answer is the only record of what FP did: losing it would put an invoice
// FP did create into review, or send a checkout twice. So when the database
// is away the answer is held (internal/throttle hold.go): tried again with
// backoff for as long as the process lives, whatever the job's timeout,
// while the process sends nothing new. Only a stop whose time is up gives
// up on it, logging what FP said. A try whose commit went through although
// its reply was lost is seen by the next try (the attempt has its outcome)
// and ends there.
//
// Every attempt's outcome passes here once, so this is where it is counted.
func (w *SubmitOrderWorker) persist(ctx context.Context, log *slog.Logger, a throttle.Answer, fn func(ctx context.Context) error) error {
	if w.Cfg.Metrics != nil {
		w.Cfg.Metrics.Submission(a.Outcome)
	}
	ctx = context.WithoutCancel(ctx)
	away, err := tryRecord(ctx, fn)
	if err == nil {
		return nil
	}
	if !away {
		log.Error("could not record FP's answer", "outcome", a.Outcome, "http_status", a.HTTPStatus, "fp_order_uuid", a.FPOrderUUID, "error", err)
		return err
	}
	thr := w.Cfg.Throttle
	release := thr.HoldAnswer(a)
	defer release()
	log.Warn("database away: holding FP's answer until it can be recorded; sending nothing new meanwhile",
		"outcome", a.Outcome, "http_status", a.HTTPStatus, "fp_order_uuid", a.FPOrderUUID, "error", err)
	start := time.Now()
	for try := 1; ; try++ {
		select {
		case <-thr.GiveUp():
			log.Error("stopping with FP's answer unrecorded (database away); the next run takes the attempt for unanswered",
				"outcome", a.Outcome, "http_status", a.HTTPStatus, "fp_order_uuid", a.FPOrderUUID,
				"attempt_id", a.AttemptID, "held_for", time.Since(start).Round(time.Millisecond).String(), "error", err)
			return err
		case <-time.After(holdBackoff(try)):
		}
		// The heartbeat first, saying how many answers this process holds,
		// so that no other process takes this attempt for abandoned.
		_, _ = tryRecord(ctx, thr.Refresh)
		if away, err = tryRecord(ctx, fn); err == nil {
			log.Info("FP's answer recorded after the database came back", "outcome", a.Outcome,
				"fp_order_uuid", a.FPOrderUUID, "held_for", time.Since(start).Round(time.Millisecond).String(), "tries", try+1)
			return nil
		}
		if !away {
			log.Error("could not record FP's answer", "outcome", a.Outcome, "http_status", a.HTTPStatus, "fp_order_uuid", a.FPOrderUUID, "error", err)
			return err
		}
		if try%30 == 0 {
			log.Warn("still holding FP's answer: database away", "outcome", a.Outcome, "fp_order_uuid", a.FPOrderUUID,
				"held_for", time.Since(start).Round(time.Second).String(), "error", err)
		}
	}
}

// recordTryTimeout bounds one try to record: a connection attempt to an
// unreachable server may otherwise hang for minutes.
const recordTryTimeout = 10 * time.Second

// holdSnooze is how long a job waits for another run's held answer.
const holdSnooze = 5 * time.Second

// tryRecord runs fn once, with its own timeout. away reports a failure of
// the database connection (or a try that timed out): worth trying again.
// An outcome recorded already counts as success.
func tryRecord(ctx context.Context, fn func(ctx context.Context) error) (away bool, err error) {
	tctx, cancel := context.WithTimeout(ctx, recordTryTimeout)
	defer cancel()
	err = fn(tctx)
	if err == nil || errors.Is(err, errRecorded) {
		return false, nil
	}
	return store.IsConnectionError(err) || tctx.Err() != nil, err
}

// holdBackoff is the wait before try n to record a held answer: from 100 ms,
// doubling to 2 s, so a database back is noticed within two seconds.
func holdBackoff(try int) time.Duration {
	return min(100*time.Millisecond<<min(try-1, 5), 2*time.Second)
}
