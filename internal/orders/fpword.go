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
	by := orderstate.FP
	if !latest {
		by = orderstate.FPLate
	}
	// The order is locked: the door moves it exactly when the table allows
	// it from the status it has.
	moved := known && orderstate.Allowed(o.Status, to, by)
	if _, err := door(ctx, tx, o.ID, fpWord(w, to, by, latest)); err != nil {
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

// fpWord is the move FP's word makes (by FP, or FPLate for a word older
// than the one applied), written whether or not the status moves: FP's
// raw status, its createdAt and callback id (0 for a status poll: stored
// as NULL) when latest (newer than what is stored), FP's order id if the
// order had none, and our status, to, when the table allows it (to is ""
// for a status we do not know: nothing moves). The word's event is the
// caller's, in the same transaction: it records the word also when nothing
// moved, with what only the caller knows.
//
// A move to paid keeps when FP says the payment happened (its createdAt)
// and the amount its word carried; a move to (partially) refunded keeps
// the same of the refund. The report shows them.
func fpWord(w FPWord, to orderstate.Status, by orderstate.Actor, latest bool) move {
	var amount *int64
	if w.Amount != "" {
		var a money.Amount
		if a.UnmarshalJSON([]byte(w.Amount)) == nil {
			ore := int64(a)
			amount = &ore
		}
	}
	var at *time.Time
	if w.CreatedAt > 0 {
		t := time.Unix(w.CreatedAt, 0)
		at = &t
	}
	paid := to == orderstate.Paid
	refunded := to == orderstate.Refunded || to == orderstate.PartlyRefunded
	return move{
		by: by, to: to, always: true, restamp: true,
		set: `, fp_order_uuid = coalesce(orders.fp_order_uuid, nullif(@uuid::text, '')),
			fp_status = CASE WHEN @latest::boolean THEN @fp_status::text ELSE orders.fp_status END,
			fp_status_created_at = CASE WHEN @latest::boolean THEN @created_at::bigint ELSE orders.fp_status_created_at END,
			fp_status_callback_id = CASE WHEN @latest::boolean THEN nullif(@callback_id::bigint, 0) ELSE orders.fp_status_callback_id END,
			review_reason = CASE WHEN orders.status = ANY(@from::text[]) THEN NULL ELSE orders.review_reason END,
			paid_at = CASE WHEN @paid::boolean AND orders.status = ANY(@from::text[]) THEN @fp_at::timestamptz ELSE orders.paid_at END,
			paid_amount_ore = CASE WHEN @paid::boolean AND orders.status = ANY(@from::text[]) THEN @amount::bigint ELSE orders.paid_amount_ore END,
			refunded_at = CASE WHEN @refunded::boolean AND orders.status = ANY(@from::text[]) THEN @fp_at::timestamptz ELSE orders.refunded_at END,
			refunded_amount_ore = CASE WHEN @refunded::boolean AND orders.status = ANY(@from::text[]) THEN @amount::bigint
				ELSE orders.refunded_amount_ore END`,
		args: pgx.NamedArgs{"uuid": w.OrderUUID, "latest": latest, "fp_status": w.Status, "created_at": w.CreatedAt,
			"callback_id": w.CallbackID, "paid": paid, "refunded": refunded, "fp_at": at, "amount": amount},
	}
}
