package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// A person's actions on an order: withdraw one FP has not got, and record
// a cancel or a resend FP was asked for (the request itself is the
// caller's: it must not be made inside a transaction).

// NotWithdrawableError: the order is in a state a person may not withdraw
// from (FP may have it, or it is settled).
type NotWithdrawableError struct {
	Order  store.OrderRef
	Status orderstate.Status
}

func (e *NotWithdrawableError) Error() string {
	return fmt.Sprintf("order %s is %s and cannot be withdrawn; nothing changed", e.Order, e.Status)
}

// Withdraw stops an order FP has not got from being sent (queued, failed,
// provider_rejected, invalid_payload → withdrawn), with a 'withdrawn' event
// naming who and why, in tx. A submit job that finds it withdrawn ends
// without sending. It returns the status the order had.
func Withdraw(ctx context.Context, tx pgx.Tx, orderID int64, by, note string) (store.OrderRef, orderstate.Status, error) {
	o, err := store.LockForDecision(ctx, tx, orderID)
	if err != nil {
		return store.OrderRef{}, "", err
	}
	if !orderstate.Allowed(o.Status, orderstate.Withdrawn, orderstate.Person) {
		return o.OrderRef, o.Status, &NotWithdrawableError{Order: o.OrderRef, Status: o.Status}
	}
	applied, err := door(ctx, tx, o.ID, move{
		by: orderstate.Person, to: orderstate.Withdrawn, event: "withdrawn",
		detail: map[string]any{"by": by, "note": note, "previous_status": string(o.Status)},
	})
	if err == nil && !applied { // cannot happen: the order is locked
		err = fmt.Errorf("order %s left %s while locked", o.OrderRef, o.Status)
	}
	return o.OrderRef, o.Status, err
}

// Action outcomes, as recorded in a cancel's or resend's event (detail
// "outcome").
const (
	OutcomeAccepted   = "accepted"    // FP answered 2xx
	OutcomeRefused    = "refused"     // 400: already paid or cancelled at FP
	OutcomeNotFound   = "not_found"   // 404 orderNotFound
	OutcomeRetryLater = "retry_later" // 500/510, 429, or not sent at all
	OutcomeAuth       = "auth"        // 401/403: our token
	OutcomeAmbiguous  = "ambiguous"   // the request went out, the answer was lost
	OutcomeInvalid    = "invalid"     // 417 or another refusal of the request
)

// Action is what a person asked FP for and what FP answered.
type Action struct {
	By, Note   string
	Outcome    string
	HTTPStatus int            // 0: no answer
	Message    string         // FP's message, or why there was none
	Contact    map[string]any // a resend's contact (country code, msisdn, e-mail)
}

func (a Action) detail() map[string]any {
	d := map[string]any{"by": a.By, "note": a.Note, "outcome": a.Outcome, "http_status": a.HTTPStatus, "message": a.Message}
	if a.Contact != nil {
		d["contact"] = a.Contact
	}
	return d
}

// RecordCancel records a cancel FP was asked for, in tx: a 'cancel' event
// with its outcome. FP's acceptance also moves the order to
// cancel_requested when the table allows it from where the order is now;
// FP's word may have moved it on meanwhile (paid, cancelled), and then only
// the event is written. Any other outcome moves nothing. It reports whether
// the order moved.
func RecordCancel(ctx context.Context, tx pgx.Tx, orderID int64, a Action) (bool, error) {
	if a.Outcome == OutcomeAccepted {
		moved, err := door(ctx, tx, orderID, move{by: orderstate.Person, to: orderstate.CancelRequested, event: "cancel", detail: a.detail()})
		if err != nil || moved {
			return moved, err
		}
	}
	return false, store.AddEvent(ctx, tx, orderID, "cancel", "", 0, a.detail())
}

// RecordResend records a resend FP was asked for as a 'resend' event with
// its outcome, in tx; no status moves. newContact, when not nil, is kept as
// the order's contact (order_data's customer email, country_code, msisdn:
// only the keys given) once FP accepted the resend to it.
func RecordResend(ctx context.Context, tx pgx.Tx, orderID int64, a Action, newContact map[string]string) error {
	if a.Outcome == OutcomeAccepted && len(newContact) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE orders SET order_data = jsonb_set(order_data::jsonb, '{customer}',
				coalesce(order_data::jsonb -> 'customer', '{}'::jsonb) || $2::jsonb)::json, updated_at = now()
			WHERE id = $1`, orderID, newContact); err != nil {
			return fmt.Errorf("keeping the new contact of order %d: %w", orderID, err)
		}
	}
	return store.AddEvent(ctx, tx, orderID, "resend", "", 0, a.detail())
}
