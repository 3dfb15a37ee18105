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
// status poll, a keyless callback FP confirmed and a catch-up poll, and
// writes the word's event ("callback", its detail with "result" added) in
// the same statement. It returns what it did.
func ApplyFPWord(ctx context.Context, tx pgx.Tx, o *store.Order, w FPWord, detail map[string]any, log *slog.Logger) (string, error) {
	d := DecideFPWord(o, w)
	return d.Result, d.Apply(ctx, tx, detail, log)
}

// FPDecision is FP's word weighed against a locked order: what applying it
// will do (Result), before it is applied. A keyless callback's verdict
// depends on it, and goes into the word's event.
type FPDecision struct {
	Result string

	order     *store.Order
	word      FPWord
	to        orderstate.Status
	by        orderstate.Actor
	latest    bool
	duplicate bool
}

// DecideFPWord weighs FP's word against the order (locked by the caller).
func DecideFPWord(o *store.Order, w FPWord) FPDecision {
	d := FPDecision{order: o, word: w}
	if o.FPOrderUUID != "" && w.OrderUUID != o.FPOrderUUID {
		// FP has a second order for our reference: the report flags it.
		d.duplicate = true
		d.Result = "possible duplicate: order already has " + o.FPOrderUUID
		return d
	}
	// FP's latest word (by its createdAt, then by arrival) is what
	// fp_status shows. An older callback arriving late does not change
	// that, but it may still move our status strictly forward: MYSTERY
	// (new, unknown) then a late SENT still means FP sent it, while a late
	// RESERVED does not undo a newer FAILED. The transition table never
	// lets a status move back. A poll's answer arrives after whatever is
	// stored, so it wins a tie.
	to, known := orderstate.FromFP(w.Status)
	d.to = to
	d.latest = w.CreatedAt > o.FPStatusCreatedAt ||
		(w.CreatedAt == o.FPStatusCreatedAt && (w.CallbackID == 0 || w.CallbackID > o.FPStatusCallback))
	d.by = orderstate.FP
	if !d.latest {
		d.by = orderstate.FPLate
	}
	// The order is locked: the door moves it exactly when the table allows
	// it from the status it has.
	moved := known && orderstate.Allowed(o.Status, to, d.by)
	switch {
	case moved:
		d.Result = fmt.Sprintf("moved %s → %s", o.Status, to)
	case !d.latest:
		d.Result = "ignored: older than FP's status already applied"
	case !known:
		d.Result = "unknown FP status kept; our status unchanged"
	default:
		d.Result = fmt.Sprintf("no move from %s to %s", o.Status, to)
	}
	if o.FPOrderUUID == "" && o.Status != orderstate.Submitting {
		d.Result += "; attached FP order " + w.OrderUUID
	}
	return d
}

// Apply writes the decision and the word's event (type "callback", detail
// with "result": d.Result) in the same transaction: through the door when
// the word is FP's status for our order; a second FP order moves nothing
// and is only flagged.
func (d FPDecision) Apply(ctx context.Context, tx pgx.Tx, detail map[string]any, log *slog.Logger) error {
	ev := make(map[string]any, len(detail)+1)
	for k, v := range detail {
		ev[k] = v
	}
	ev["result"] = d.Result
	if d.duplicate {
		if err := store.MarkPossibleDuplicate(ctx, tx, d.order.ID, d.word.OrderUUID); err != nil {
			return err
		}
		log.Warn("possible duplicate FP order", "existing_fp_order_uuid", d.order.FPOrderUUID)
		return store.AddEvent(ctx, tx, d.order.ID, "callback", "", 0, ev)
	}
	m := fpWord(d.word, d.to, d.by, d.latest)
	m.event, m.detail = "callback", ev
	_, err := door(ctx, tx, d.order.ID, m)
	return err
}

// fpWord is the move FP's word makes (by FP, or FPLate for a word older
// than the one applied), written whether or not the status moves: FP's
// raw status, its createdAt and callback id (0 for a status poll: stored
// as NULL) when latest (newer than what is stored), FP's order id if the
// order had none, and our status, to, when the table allows it (to is ""
// for a status we do not know: nothing moves). Its event (set by Apply)
// records the word also when nothing moved; the event's status stays
// empty, as a callback's always has: fp_status in the detail says it.
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
		by: by, to: to, always: true, restamp: true, evStatus: `NULL::text`,
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
