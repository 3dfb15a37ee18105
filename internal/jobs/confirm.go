package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// ConfirmCallbacksWorker treats a keyless callback as a trigger, not a truth.
// Without FP_CHECKSUM_KEY the checksum has no secret, so a callback proves
// only that its sender holds the order's callbackUrl (which FP, its logs
// and anything on the way also hold). The worker asks FP the order's status
// (GET /api/v1/connect/orders/status/{orderUuid}, through the throttle
// shared with submissions) and applies what FP answers, as the status poll
// does: the callback's own status and createdAt move nothing.
//
// Coalesced per order: one job at a time asks about an order (an advisory
// lock), and its one answer settles every callback of that order that
// arrived before the request went out; the jobs of those callbacks then
// find them settled and ask nothing. A callback FP's answer bears out (the
// same status, or one FP has since moved on from) becomes accepted; any
// other becomes not_confirmed, an untrusted callback in the report.
type ConfirmCallbacksWorker struct {
	river.WorkerDefaults[jobargs.ConfirmCallbacksArgs]
	Pool     *pgxpool.Pool
	FP       StatusPoller
	Throttle *throttle.Throttle // nil: none
	Logger   *slog.Logger
}

// Timeout covers a wait for the lock behind another order's request and a
// wait for a rate slot, besides the request itself.
func (w *ConfirmCallbacksWorker) Timeout(*river.Job[jobargs.ConfirmCallbacksArgs]) time.Duration {
	return 5 * time.Minute
}

func (w *ConfirmCallbacksWorker) Work(ctx context.Context, job *river.Job[jobargs.ConfirmCallbacksArgs]) error {
	orderID, awaiting, err := store.AwaitingCallback(ctx, w.Pool, job.Args.CallbackID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return river.JobCancel(fmt.Errorf("callback %d not found", job.Args.CallbackID))
	case err != nil:
		return err
	case !awaiting:
		return nil // settled by the request of another callback's job
	}
	// The lock is held across the request, so a second job for the same
	// order waits here and then finds its callback settled.
	tx, err := w.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	if err := store.LockConfirm(ctx, tx, orderID); err != nil {
		return err
	}
	if _, awaiting, err = store.AwaitingCallback(ctx, tx, job.Args.CallbackID); err != nil || !awaiting {
		return err
	}
	// Read, not locked: the order stays free for its other jobs during the
	// request, and is locked once FP answered.
	o, err := store.ReadOrder(ctx, tx, orderID)
	if err != nil {
		return err
	}
	if o.FPOrderUUID == "" && (o.Status == orderstate.Queued || o.Status == orderstate.Submitting) {
		// FP may call back before the submit job has stored FP's answer:
		// River retries with backoff, and by then the order has its FP id.
		return fmt.Errorf("order %d has no FP order id yet (%s): confirming later", o.ID, o.Status)
	}
	// The database's clock before the request: every callback stored by
	// then is settled by FP's answer.
	before, err := store.DBNow(ctx, tx)
	if err != nil {
		return err
	}
	log := w.Logger.With("order_ref", o.Ref, "kind", o.Kind, "fp_order_uuid", o.FPOrderUUID, "callback_id", job.Args.CallbackID)
	var st *fpclient.Status
	var asked time.Time
	var askErr error
	if o.FPOrderUUID != "" {
		st, asked, askErr = askFP(ctx, w.FP, w.Throttle, o.FPOrderUUID, log)
		var wait *throttle.Wait
		switch {
		case errors.As(askErr, &wait):
			return river.JobSnooze(max(wait.For, time.Second))
		case errors.Is(askErr, errTokenRefused):
			return river.JobSnooze(max(w.Throttle.PausePeriod(), time.Second))
		case askErr != nil && !errors.Is(askErr, fpclient.ErrOrderNotFound):
			return askErr // River retries with backoff; the callbacks keep waiting
		}
	}
	askedUUID := o.FPOrderUUID
	if o, err = store.LockOrder(ctx, tx, orderID); err != nil {
		return err
	}
	if o.FPOrderUUID != askedUUID {
		// The order got its FP id meanwhile: ask again, about that one.
		return fmt.Errorf("order %d changed FP order id during the request: confirming again", o.ID)
	}
	cbs, err := store.LockAwaitingCallbacks(ctx, tx, orderID, before)
	if err != nil {
		return err
	}
	// FP's word is weighed first: each callback's verdict depends on what
	// it does, and the word's event (written with the move) lists them.
	var applied string
	var decision orders.FPDecision
	if st != nil {
		decision = orders.DecideFPWord(o, orders.FPWord{OrderUUID: o.FPOrderUUID, Status: st.Status, CreatedAt: asked.Unix()})
		applied = decision.Result
	}
	var confirmed, refused []int64
	for _, cb := range cbs {
		verdict, result := judgeByFP(o, cb, st, askErr, applied)
		if err := store.ResolveCallback(ctx, tx, cb.ID, verdict, result); err != nil {
			return err
		}
		if verdict == store.VerdictAccepted {
			confirmed = append(confirmed, cb.ID)
		} else {
			refused = append(refused, cb.ID)
			log.Warn("callback not confirmed by FP", "callback_id", cb.ID, "claimed_fp_status", cb.FPStatus,
				"claimed_fp_order_uuid", cb.FPOrderUUID, "result", result)
		}
	}
	if st != nil {
		detail := map[string]any{"fp_status": st.Status, "fp_order_uuid": o.FPOrderUUID, "created_at": fmt.Sprint(asked.Unix()),
			"source": "confirm", "confirmed_callbacks": confirmed, "not_confirmed_callbacks": refused}
		if err := decision.Apply(ctx, tx, detail, log); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if st != nil {
		log.Info("callbacks confirmed with FP", "fp_status", st.Status, "result", applied, "confirmed", len(confirmed), "not_confirmed", len(refused))
	}
	return nil
}

// judgeByFP gives a keyless callback its verdict from FP's answer.
func judgeByFP(o *store.Order, cb store.Callback, st *fpclient.Status, askErr error, applied string) (verdict, result string) {
	switch {
	case o.FPOrderUUID == "":
		// No FP order of ours to ask about: the callback's orderUuid cannot
		// be told from one a forger owns. The order is with its submit job
		// or a human; the status poll asks once it has its FP order.
		return store.VerdictNotConfirmed, "not confirmed: the order has no FP order id yet to ask FP about"
	case cb.FPOrderUUID != o.FPOrderUUID:
		return store.VerdictNotConfirmed, fmt.Sprintf("not confirmed: names FP order %s, this order is %s", cb.FPOrderUUID, o.FPOrderUUID)
	case st == nil:
		return store.VerdictNotConfirmed, fmt.Sprintf("not confirmed: FP does not know order %s (%v)", o.FPOrderUUID, askErr)
	case bornOut(cb.FPStatus, st.Status):
		return store.VerdictAccepted, fmt.Sprintf("confirmed by FP (status %s): %s", st.Status, applied)
	}
	return store.VerdictNotConfirmed, fmt.Sprintf("not confirmed: FP says %s, the callback %s", st.Status, cb.FPStatus)
}

// bornOut reports whether FP's current status bears out a callback's: the
// same, or a state FP may have moved on to from it (a SENT callback read
// after the customer paid).
func bornOut(claimed, fpNow string) bool {
	norm := func(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }
	if norm(claimed) == norm(fpNow) {
		return true
	}
	from, ok1 := orderstate.FromFP(claimed)
	to, ok2 := orderstate.FromFP(fpNow)
	return ok1 && ok2 && (from == to || orderstate.CanMove(from, to))
}
