package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// Defaults of the status poll (REPOLL_AFTER, REPOLL_EVERY).
const (
	DefaultRepollAfter = 24 * time.Hour
	DefaultRepollEvery = time.Hour
	// RepollBatch bounds one run: at FP's 4 requests a second, about two
	// minutes of the budget an hour, shared with submissions.
	RepollBatch = 500
	// RepollTimeout is the time one run may take (River's default job
	// timeout is the submit request's, far too short for a batch).
	RepollTimeout = 30 * time.Minute
	// repollFailures in a row end a run: FP is in trouble, the next run
	// continues.
	repollFailures = 5
)

// errTokenRefused ends a run: FP refused the token, sending is paused.
var errTokenRefused = errors.New("FP refused the token")

// RepollStatuses are the states in which an order waits for FP's word: FP
// has it and it is not settled. Queued and submitting orders belong to their
// submit job (an update FP has not received yet), needs_review to a human.
var RepollStatuses = func() []orderstate.Status {
	var out []orderstate.Status
	for _, s := range orderstate.All {
		switch {
		case orderstate.Final(s), s == orderstate.Queued, s == orderstate.Submitting, s == orderstate.NeedsReview:
		default:
			out = append(out, s)
		}
	}
	return out
}()

// StatusPoller is the part of fpclient.Client the status poll uses.
type StatusPoller interface {
	OrderStatus(ctx context.Context, orderUUID string) (*fpclient.Status, error)
}

// RepollWorker asks FP for the status of every order FP has said nothing
// about for After (a callback lost on the way must not become a lost
// outcome), oldest first, at most Batch a run. Each request takes a slot of
// the shared throttle, like a submission. What FP answers is applied as a
// callback is (orders.ApplyFPWord: the transition table, never backwards, unknown
// statuses kept) and recorded as a `callback` event with source "repoll";
// an order FP does not know gets a `repoll_not_found` event and is left for
// a human.
type RepollWorker struct {
	river.WorkerDefaults[jobargs.RepollArgs]
	Pool     *pgxpool.Pool
	FP       StatusPoller
	Throttle *throttle.Throttle // nil: none
	After    time.Duration      // 0: DefaultRepollAfter
	Batch    int                // 0: RepollBatch
	Logger   *slog.Logger
}

func (w *RepollWorker) Timeout(*river.Job[jobargs.RepollArgs]) time.Duration { return RepollTimeout }

func (w *RepollWorker) Work(ctx context.Context, job *river.Job[jobargs.RepollArgs]) error {
	after := w.After
	if after <= 0 {
		after = DefaultRepollAfter
	}
	batch := w.Batch
	if batch <= 0 {
		batch = RepollBatch
	}
	log := w.Logger.With("job_id", job.ID, "slot", job.Args.Slot.Format(time.RFC3339))
	orders, err := store.RepollCandidates(ctx, w.Pool, RepollStatuses, after, batch)
	if err != nil {
		return err
	}
	var polled, failures int
	for _, o := range orders {
		done, err := w.poll(ctx, o, log.With("order_id", o.ID, "fp_order_uuid", o.FPOrderUUID))
		var wait *throttle.Wait
		switch {
		case errors.As(err, &wait), errors.Is(err, errTokenRefused):
			// Paused, or FP's budget spent: the next run continues.
			log.Info("status poll stopped early", "polled", polled, "of", len(orders), "reason", err.Error())
			return nil
		case err != nil && ctx.Err() != nil:
			return err
		case err != nil:
			failures++
			if failures >= repollFailures {
				log.Warn("status poll stopped early", "polled", polled, "of", len(orders), "error", err)
				return nil
			}
			continue
		}
		failures = 0
		if done {
			polled++
		}
	}
	if len(orders) > 0 {
		log.Info("status poll done", "polled", polled, "of", len(orders))
	}
	return nil
}

// poll asks FP for one order's status and applies the answer. A failure of
// the request is logged and returned; the order waits for the next run.
func (w *RepollWorker) poll(ctx context.Context, o store.RepollOrder, log *slog.Logger) (bool, error) {
	st, asked, err := askFP(ctx, w.FP, w.Throttle, o.FPOrderUUID, log)
	switch {
	case err == nil:
		return true, w.apply(ctx, o, orders.FPWord{OrderUUID: o.FPOrderUUID, Status: st.Status, CreatedAt: asked.Unix()}, log)
	case errors.Is(err, fpclient.ErrOrderNotFound):
		return true, w.notFound(ctx, o, err, log)
	}
	return false, err
}

// askFP asks FP for an order's status through the shared throttle, as the
// status poll and the confirmation of keyless callbacks do, and returns the
// answer and when it was asked (FP's answer is its word as of then). A
// refused token pauses all sending and returns errTokenRefused; a throttle
// that says wait returns its *throttle.Wait.
func askFP(ctx context.Context, fp StatusPoller, thr *throttle.Throttle, orderUUID string, log *slog.Logger) (*fpclient.Status, time.Time, error) {
	slot, err := thr.Acquire(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer slot.Release()
	if err := slot.Go(ctx); err != nil {
		return nil, time.Time{}, err
	}
	asked := time.Now()
	st, err := fp.OrderStatus(ctx, orderUUID)
	slot.Release()
	var rl fpclient.RateLimit
	if st != nil {
		rl = st.RateLimit
	}
	observe(ctx, thr, slot, rl, err, log)
	switch {
	case err == nil, errors.Is(err, fpclient.ErrOrderNotFound):
		return st, asked, err
	case fpclient.ClassOf(err) == fpclient.Auth:
		// As a submission would: pause all sending, and stop.
		var fe *fpclient.Error
		errors.As(err, &fe)
		if _, perr := thr.Pause(context.WithoutCancel(ctx), fmt.Sprintf("FP refused the token (HTTP %d)", fe.StatusCode)); perr != nil {
			log.Warn("throttle", "error", perr)
		}
		log.Error("FP refused the token; sending paused for all workers", "http_status", fe.StatusCode)
		return nil, asked, errTokenRefused
	}
	log.Warn("status request failed", "error", err)
	return nil, asked, err
}

// apply moves the order on FP's answer, with its event, as a callback
// would.
func (w *RepollWorker) apply(ctx context.Context, ro store.RepollOrder, word orders.FPWord, log *slog.Logger) error {
	var result string
	done, err := w.inUnchanged(ctx, ro, func(tx pgx.Tx, o *store.Order) error {
		log = log.With("order_ref", o.Ref, "kind", o.Kind, "fp_status", word.Status)
		detail := map[string]any{"fp_status": word.Status, "fp_order_uuid": word.OrderUUID, "created_at": fmt.Sprint(word.CreatedAt), "source": "repoll"}
		var err error
		result, err = orders.ApplyFPWord(ctx, tx, o, word, detail, log)
		return err
	})
	switch {
	case err != nil:
		return err
	case !done:
		log.Info("status poll answer not applied: order changed meanwhile")
	default:
		log.Info("status poll applied", "result", result)
	}
	return nil
}

// notFound records that FP does not know the order; its status stays, for a
// human to look at (last_error says why). The event also keeps the order out
// of the poll until After has passed again.
func (w *RepollWorker) notFound(ctx context.Context, ro store.RepollOrder, ferr error, log *slog.Logger) error {
	var o *store.Order
	done, err := w.inUnchanged(ctx, ro, func(tx pgx.Tx, locked *store.Order) error {
		o = locked
		msg := "FP does not know order " + ro.FPOrderUUID + " (status poll: " + ferr.Error() + ")"
		if err := store.SetLastError(ctx, tx, o.ID, msg); err != nil {
			return err
		}
		detail := map[string]any{"fp_order_uuid": ro.FPOrderUUID, "http_status": 404, "message": ferr.Error(), "source": "repoll"}
		return store.AddEvent(ctx, tx, o.ID, "repoll_not_found", "", 0, detail)
	})
	if err != nil || !done {
		return err
	}
	log.Warn("FP does not know the order; left for a human", "order_ref", o.Ref, "status", o.Status)
	return nil
}

// inUnchanged runs fn in a transaction with the polled order locked, and
// commits; done is false, and nothing is written, when the order left the
// poll's states meanwhile (a changed re-import queued an update, a human
// took it) or now names another FP order.
func (w *RepollWorker) inUnchanged(ctx context.Context, ro store.RepollOrder, fn func(pgx.Tx, *store.Order) error) (done bool, err error) {
	tx, err := w.Pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	o, err := store.LockOrder(ctx, tx, ro.ID)
	if err != nil || o.FPOrderUUID != ro.FPOrderUUID || !awaitsFP(o.Status) {
		return false, err
	}
	if err := fn(tx, o); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// awaitsFP reports whether an order in state s is one the poll asks about.
func awaitsFP(s orderstate.Status) bool {
	for _, p := range RepollStatuses {
		if p == s {
			return true
		}
	}
	return false
}

// RepollArgsAt are the args of the run due at now: its slot is the start of
// the period of length every that now (plus slotMargin) falls in. Every
// process computes the same slot.
func RepollArgsAt(every time.Duration, now time.Time) jobargs.RepollArgs {
	return jobargs.RepollArgs{Slot: now.Add(slotMargin).Truncate(every).UTC()}
}

// everySchedule fires at every multiple of d (since Go's zero time: on the
// hour for an hour), whenever the leader started, so all processes agree on
// the slots.
type everySchedule struct{ d time.Duration }

func (s everySchedule) Next(t time.Time) time.Time { return t.Truncate(s.d).Add(s.d) }

// ScheduledRepoll is the River periodic job that inserts a RepollArgs every
// period of length every. Like ScheduledImport it does not run on start, and
// a slot that passes while no worker leads is skipped: the next run finds
// the same orders, since they are chosen by how long FP has been silent.
func ScheduledRepoll(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(everySchedule{every}, func() (river.JobArgs, *river.InsertOpts) {
		return RepollArgsAt(every, time.Now()), nil
	}, &river.PeriodicJobOpts{ID: "repoll_orders"})
}
