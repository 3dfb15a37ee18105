package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// ApplyCallbackWorker moves an order's status on FP's word. Replays change
// nothing, callbacks older (by FP's createdAt) than the one applied are
// ignored, and every move follows orderstate's transition table.
type ApplyCallbackWorker struct {
	river.WorkerDefaults[ApplyCallbackArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

func (w *ApplyCallbackWorker) Work(ctx context.Context, job *river.Job[ApplyCallbackArgs]) error {
	tx, err := w.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck

	cb, err := store.LockCallback(ctx, tx, job.Args.CallbackID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("callback %d not found", job.Args.CallbackID))
	}
	if err != nil {
		return err
	}
	if cb.Result != "" {
		// Applied already: the job runs again because the worker stopped
		// between our commit and River's completion. Nothing more to do.
		return nil
	}
	o, err := store.LockOrder(ctx, tx, cb.OrderID)
	if err != nil {
		return err
	}
	createdAt, _ := strconv.ParseInt(cb.CreatedAt, 10, 64)
	log := w.Logger.With("order_ref", o.Ref, "kind", o.Kind, "fp_order_uuid", cb.FPOrderUUID, "fp_status", cb.FPStatus, "callback_id", cb.ID)
	result, err := applyFPWord(ctx, tx, o, fpWord{OrderUUID: cb.FPOrderUUID, Status: cb.FPStatus, CreatedAt: createdAt, CallbackID: cb.ID}, log)
	if err != nil {
		return err
	}
	detail := map[string]any{"callback_id": cb.ID, "fp_status": cb.FPStatus, "fp_order_uuid": cb.FPOrderUUID, "created_at": cb.CreatedAt, "result": result, "source": "callback"}
	if err := store.AddEvent(ctx, tx, o.ID, "callback", "", 0, detail); err != nil {
		return err
	}
	if err := store.SetCallbackResult(ctx, tx, cb.ID, result); err != nil {
		return err
	}
	// River completes the job once Work returns (its completer batches
	// them, cheaper than one more statement here): a run again in between
	// finds the result above and stops.
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	log.Info("callback applied", "result", result)
	return nil
}

// fpWord is FP's word on an order's status: a callback, or the answer to a
// status poll (CallbackID 0, CreatedAt the time of the poll).
type fpWord struct {
	OrderUUID  string
	Status     string
	CreatedAt  int64 // FP's createdAt, unix seconds
	CallbackID int64
}

// applyFPWord moves a locked order on FP's word, the same for a callback and
// a status poll, and says what it did.
func applyFPWord(ctx context.Context, tx pgx.Tx, o *store.Order, w fpWord, log *slog.Logger) (string, error) {
	if o.FPOrderUUID != "" && w.OrderUUID != o.FPOrderUUID {
		// FP has a second order for our reference: the report flags it.
		if err := store.MarkPossibleDuplicate(ctx, tx, o.ID, w.OrderUUID); err != nil {
			return "", err
		}
		log.Warn("possible duplicate FP order", "existing_fp_order_uuid", o.FPOrderUUID)
		return "possible duplicate: order already has " + o.FPOrderUUID, nil
	}
	// FP's latest word (by its createdAt, then by arrival) is what
	// fp_status shows. An older callback arriving late does not change
	// that, but it may still move our status strictly forward: MYSTERY
	// (new, unknown) then a late SENT still means FP sent it, while a late
	// RESERVED does not undo a newer FAILED. The transition table never
	// lets a status move back. A poll's answer arrives after whatever is
	// stored, so it wins a tie.
	to, known := orderstate.FromFP(w.Status)
	latest := w.CreatedAt > o.FPStatusCreatedAt ||
		(w.CreatedAt == o.FPStatusCreatedAt && (w.CallbackID == 0 || w.CallbackID > o.FPStatusCallback))
	moved := known && orderstate.CanMove(o.Status, to)
	if !latest {
		moved = known && orderstate.CanMoveLate(o.Status, to)
	}
	if err := store.ApplyFPStatus(ctx, tx, o.ID, w.OrderUUID, w.Status, w.CreatedAt, w.CallbackID, to, moved, latest); err != nil {
		return "", err
	}
	var result string
	switch {
	case moved:
		result = fmt.Sprintf("moved %s → %s", o.Status, to)
	case !latest:
		result = "ignored: older than FP's status already applied"
	case !known:
		result = "unknown FP status kept; our status unchanged"
	default:
		result = fmt.Sprintf("no move from %s to %s", o.Status, to)
	}
	if o.FPOrderUUID == "" && o.Status != orderstate.Submitting {
		result += "; attached FP order " + w.OrderUUID
	}
	return result, nil
}
