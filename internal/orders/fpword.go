package orders

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// FPWord is FP's word on an order's status: a callback, or the answer to a
// status poll (CallbackID 0, CreatedAt the time of the poll).
type FPWord struct {
	OrderUUID  string
	Status     string
	CreatedAt  int64 // FP's createdAt, unix seconds
	CallbackID int64
	// Amount is the amount FP's word carried (a callback's amount, in NOK
	// as FP wrote it), "" when none. Kept as the paid or refunded amount
	// when the word makes the order paid or refunded; one that is not an
	// amount is not kept.
	Amount string
}

// ApplyFPWord moves a locked order on FP's word, the same for a callback, a
// status poll, a keyless callback FP confirmed and a catch-up poll, and says
// what it did. The caller writes the word's event.
func ApplyFPWord(ctx context.Context, tx pgx.Tx, o *store.Order, w FPWord, log *slog.Logger) (string, error) {
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
	if err := applyFPStatus(ctx, tx, o.ID, w, to, moved, latest); err != nil {
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

// applyFPStatus stores FP's word on an order: the raw status, its createdAt
// and callback id (0 for a status poll: stored as NULL) when latest (newer
// than what is stored), our status when moved (a move of the table's FP
// rows, decided by ApplyFPWord on the locked order). One statement: the
// word's event is the caller's (a callback event also when nothing moved).
//
// A move to paid keeps when FP says the payment happened (its createdAt)
// and the amount its word carried; a move to (partially) refunded keeps
// the same of the refund. The report shows them.
func applyFPStatus(ctx context.Context, tx pgx.Tx, orderID int64, w FPWord, to orderstate.Status, moved, latest bool) error {
	var amount *int64
	if w.Amount != "" {
		var a money.Amount
		if a.UnmarshalJSON([]byte(w.Amount)) == nil {
			ore := int64(a)
			amount = &ore
		}
	}
	paid := moved && to == orderstate.Paid
	refunded := moved && (to == orderstate.Refunded || to == orderstate.PartlyRefunded)
	var at *time.Time
	if w.CreatedAt > 0 {
		t := time.Unix(w.CreatedAt, 0)
		at = &t
	}
	_, err := tx.Exec(ctx, `UPDATE orders SET
			paid_at = CASE WHEN $9 THEN $11 ELSE paid_at END,
			paid_amount_ore = CASE WHEN $9 THEN $12 ELSE paid_amount_ore END,
			refunded_at = CASE WHEN $10 THEN $11 ELSE refunded_at END,
			refunded_amount_ore = CASE WHEN $10 THEN $12 ELSE refunded_amount_ore END,
			fp_order_uuid = coalesce(fp_order_uuid, nullif($2, '')),
			fp_status = CASE WHEN $8 THEN $3 ELSE fp_status END,
			fp_status_created_at = CASE WHEN $8 THEN $4 ELSE fp_status_created_at END,
			fp_status_callback_id = CASE WHEN $8 THEN nullif($7::bigint, 0) ELSE fp_status_callback_id END,
			status = CASE WHEN $6 THEN $5 ELSE status END,
			status_at = CASE WHEN $6 THEN now() ELSE status_at END,
			review_reason = CASE WHEN $6 THEN NULL ELSE review_reason END,
			updated_at = now()
		WHERE id = $1`, orderID, w.OrderUUID, w.Status, w.CreatedAt, to, moved, w.CallbackID, latest, paid, refunded, at, amount)
	return err
}
