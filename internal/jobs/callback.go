package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/store"
)

// ApplyCallbackWorker moves an order's status on FP's word. Replays change
// nothing, callbacks older (by FP's createdAt) than the one applied are
// ignored, and every move follows orderstate's transition table.
type ApplyCallbackWorker struct {
	river.WorkerDefaults[jobargs.ApplyCallbackArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

func (w *ApplyCallbackWorker) Work(ctx context.Context, job *river.Job[jobargs.ApplyCallbackArgs]) error {
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
	detail := map[string]any{"callback_id": cb.ID, "fp_status": cb.FPStatus, "fp_order_uuid": cb.FPOrderUUID, "created_at": cb.CreatedAt, "source": "callback"}
	result, err := orders.ApplyFPWord(ctx, tx, o, orders.FPWord{OrderUUID: cb.FPOrderUUID, Status: cb.FPStatus, CreatedAt: createdAt, CallbackID: cb.ID, Amount: cb.Amount}, detail, log)
	if err != nil {
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
