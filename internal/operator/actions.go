package operator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// FP is the part of fpclient.Client the actions use.
type FP interface {
	Resend(ctx context.Context, orderUUID string, to fpclient.Contact) (*fpclient.Accepted, error)
	Cancel(ctx context.Context, orderUUID, note string) (*fpclient.Accepted, error)
}

// WithFP gives the desk FP's client, for Cancel and Resend.
func (d *Desk) WithFP(fp FP) *Desk {
	d.fp = fp
	return d
}

// The outcomes of an action FP was asked for (ActionResult.Outcome), as
// its event records them.
const (
	OutcomeAccepted   = orders.OutcomeAccepted
	OutcomeRefused    = orders.OutcomeRefused
	OutcomeNotFound   = orders.OutcomeNotFound
	OutcomeRetryLater = orders.OutcomeRetryLater
	OutcomeAuth       = orders.OutcomeAuth
	OutcomeAmbiguous  = orders.OutcomeAmbiguous
	OutcomeInvalid    = orders.OutcomeInvalid
)

// NotWithdrawableError: Withdraw (or Cancel) on an order FP may have or
// that is settled.
type NotWithdrawableError = orders.NotWithdrawableError

// ActionResult is what became of a cancel, a resend or a withdrawal.
type ActionResult struct {
	Order store.OrderRef
	From  orderstate.Status // the order's status before
	// Withdrawn: FP had not got the order; it was withdrawn here and
	// nothing was sent to FP.
	Withdrawn bool
	// What FP answered (not for a withdrawal).
	Outcome    string // orders.Outcome…
	HTTPStatus int
	Message    string
	// Moved: a cancel FP accepted moved the order to cancel_requested (it
	// may have been settled by FP's word meanwhile).
	Moved   bool
	Contact fpclient.Contact // a resend's contact
}

// ActionError is an action FP did not accept (or whose answer was lost):
// the order's status is unchanged, and the action is recorded as an event
// with its outcome. Outcome says what to do next.
type ActionError struct {
	Result ActionResult
}

func (e *ActionError) Error() string {
	r := e.Result
	switch r.Outcome {
	case orders.OutcomeRefused:
		return fmt.Sprintf("order %s: FP refused: %s; the order is unchanged", r.Order, r.Message)
	case orders.OutcomeNotFound:
		return fmt.Sprintf("order %s: FP does not know the order (404 orderNotFound); the order is unchanged", r.Order)
	case orders.OutcomeAmbiguous:
		return fmt.Sprintf("order %s: the request reached FP but its answer was lost (%s); it is not repeated by itself: see `worker order` and decide", r.Order, r.Message)
	case orders.OutcomeAuth:
		return fmt.Sprintf("order %s: FP refused our token (HTTP %d); nothing changed", r.Order, r.HTTPStatus)
	case orders.OutcomeRetryLater:
		return fmt.Sprintf("order %s: FP could not take it now (%s); try again later", r.Order, r.Message)
	}
	return fmt.Sprintf("order %s: FP refused the request: %s; the order is unchanged", r.Order, r.Message)
}

// NoFPOrderError: the order has no FP order id and cannot be withdrawn
// either (submitting, needs_review: FP may have it).
type NoFPOrderError struct {
	Order  store.OrderRef
	Status orderstate.Status
}

func (e *NoFPOrderError) Error() string {
	return fmt.Sprintf("order %s is %s and has no FP order id: FP may have it, decide with `worker review` first; nothing changed", e.Order, e.Status)
}

// NotCancellableError: the order is settled (or being sent): no cancel is
// asked of FP.
type NotCancellableError struct {
	Order  store.OrderRef
	Status orderstate.Status
}

func (e *NotCancellableError) Error() string {
	return fmt.Sprintf("order %s is %s: it cannot be cancelled; nothing was sent to FP", e.Order, e.Status)
}

// ErrNoFP: the desk was not given FP's client.
var ErrNoFP = errors.New("FP is not configured (FP_BASE_URL, FP_TOKEN)")

// Withdraw stops an order FP has not got from being sent: no request to FP.
func (d *Desk) Withdraw(ctx context.Context, spec, note, by string) (*ActionResult, error) {
	ref, err := store.ResolveOrder(ctx, d.pool, spec)
	if err != nil {
		return nil, err
	}
	res := &ActionResult{Order: ref, Withdrawn: true}
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) (err error) {
		res.Order, res.From, err = orders.Withdraw(ctx, tx, ref.ID, by, note)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// actionTarget is the order an action names, as it stands.
type actionTarget struct {
	ref     store.OrderRef
	status  orderstate.Status
	fpUUID  string
	contact fpclient.Contact
}

func (d *Desk) target(ctx context.Context, spec string) (*actionTarget, error) {
	ref, err := store.ResolveOrder(ctx, d.pool, spec)
	if err != nil {
		return nil, err
	}
	t := &actionTarget{ref: ref}
	err = d.pool.QueryRow(ctx, `SELECT status, coalesce(fp_order_uuid, ''),
			coalesce(order_data -> 'customer' ->> 'country_code', ''), coalesce(order_data -> 'customer' ->> 'msisdn', ''),
			coalesce(order_data -> 'customer' ->> 'email', '')
		FROM orders WHERE id = $1`, ref.ID).Scan(&t.status, &t.fpUUID, &t.contact.CountryCode, &t.contact.MSISDN, &t.contact.Email)
	return t, err
}

// Cancel cancels the order spec names. An order FP has (an FP order id)
// is cancelled at FP: on FP's 202 it is cancel_requested until FP's
// CANCELLED makes it cancelled. An order FP has not got is withdrawn
// instead, with no request to FP. Every answer is recorded as a 'cancel'
// event; one FP did not accept is an *ActionError, the order unchanged.
func (d *Desk) Cancel(ctx context.Context, spec, note, by string) (*ActionResult, error) {
	t, err := d.target(ctx, spec)
	if err != nil {
		return nil, err
	}
	if t.fpUUID == "" {
		if orderstate.Allowed(t.status, orderstate.Withdrawn, orderstate.Person) {
			return d.Withdraw(ctx, spec, note, by)
		}
		return nil, &NoFPOrderError{Order: t.ref, Status: t.status}
	}
	if !orderstate.Allowed(t.status, orderstate.CancelRequested, orderstate.Person) {
		return nil, &NotCancellableError{Order: t.ref, Status: t.status}
	}
	if d.fp == nil {
		return nil, ErrNoFP
	}
	acc, ferr := d.fp.Cancel(ctx, t.fpUUID, note)
	res := ActionResult{Order: t.ref, From: t.status}
	a := outcome(acc, ferr, &res)
	a.By, a.Note = by, note
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) (err error) {
		res.Moved, err = orders.RecordCancel(ctx, tx, t.ref.ID, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("order %s: FP answered %s, but recording it failed: %w", t.ref, res.Outcome, err)
	}
	if res.Outcome != orders.OutcomeAccepted {
		return nil, &ActionError{Result: res}
	}
	return &res, nil
}

// NewContact is where a resend goes instead of the order's own contact;
// an empty field keeps the order's.
type NewContact struct {
	CountryCode, MSISDN, Email string
}

// ContactError: a new contact does not pass an import's checks.
type ContactError struct {
	Field, Value string
	Err          error
}

func (e *ContactError) Error() string {
	return fmt.Sprintf("--%s %q: %v; nothing was sent", e.Field, e.Value, e.Err)
}

// Resend asks FP to send the order's payment link or invoice notification
// again, to its own contact or to the new one (validated like an import's,
// and kept in the order once FP accepted). No status moves; the answer is a
// 'resend' event. One FP did not accept is an *ActionError.
func (d *Desk) Resend(ctx context.Context, spec string, nc NewContact, note, by string) (*ActionResult, error) {
	t, err := d.target(ctx, spec)
	if err != nil {
		return nil, err
	}
	to, kept, err := mergeContact(t.contact, nc)
	if err != nil {
		return nil, err
	}
	if t.fpUUID == "" {
		return nil, &NoFPOrderError{Order: t.ref, Status: t.status}
	}
	if d.fp == nil {
		return nil, ErrNoFP
	}
	acc, ferr := d.fp.Resend(ctx, t.fpUUID, to)
	res := ActionResult{Order: t.ref, From: t.status, Contact: to}
	a := outcome(acc, ferr, &res)
	a.By, a.Note = by, note
	a.Contact = map[string]any{"country_code": to.CountryCode, "msisdn": to.MSISDN, "email": to.Email}
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		return orders.RecordResend(ctx, tx, t.ref.ID, a, kept)
	})
	if err != nil {
		return nil, fmt.Errorf("order %s: FP answered %s, but recording it failed: %w", t.ref, res.Outcome, err)
	}
	if res.Outcome != orders.OutcomeAccepted {
		return nil, &ActionError{Result: res}
	}
	return &res, nil
}

// mergeContact checks the new contact's fields as an import checks its
// columns and lays them over the order's own. kept are the new ones, by
// order_data's names.
func mergeContact(own fpclient.Contact, nc NewContact) (fpclient.Contact, map[string]string, error) {
	to, kept := own, map[string]string{}
	if strings.TrimSpace(nc.Email) != "" {
		e, err := mapping.ParseEmail(nc.Email)
		if err != nil {
			return to, nil, &ContactError{Field: "email", Value: nc.Email, Err: err}
		}
		to.Email, kept["email"] = e, e
	}
	if strings.TrimSpace(nc.MSISDN) != "" || strings.TrimSpace(nc.CountryCode) != "" {
		num := nc.MSISDN
		if strings.TrimSpace(num) == "" {
			num = own.MSISDN // a new country code for the order's own number
		}
		ccRaw := nc.CountryCode
		if strings.TrimSpace(ccRaw) == "" {
			ccRaw = own.CountryCode // a new number in the order's own country
		}
		cc, n, ccErr, numErr := mapping.ParsePhone(ccRaw, num)
		if ccErr != nil {
			return to, nil, &ContactError{Field: "country-code", Value: nc.CountryCode, Err: ccErr}
		}
		if numErr != nil {
			return to, nil, &ContactError{Field: "msisdn", Value: nc.MSISDN, Err: numErr}
		}
		to.CountryCode, to.MSISDN = cc, n
		kept["country_code"], kept["msisdn"] = cc, n
	}
	if len(kept) == 0 {
		kept = nil
	}
	return to, kept, nil
}

// outcome classes FP's answer to an action and fills res with it.
func outcome(acc *fpclient.Accepted, err error, res *ActionResult) orders.Action {
	var a orders.Action
	if err == nil {
		a.Outcome, a.HTTPStatus, a.Message = orders.OutcomeAccepted, acc.HTTPStatus, acc.Message
	} else {
		a.Message = err.Error()
		var fe *fpclient.Error
		if errors.As(err, &fe) {
			a.HTTPStatus = fe.StatusCode
			if fe.Message != "" && fe.FromFP {
				a.Message = fe.Message
			}
		}
		switch {
		case errors.Is(err, fpclient.ErrBusinessConflict):
			a.Outcome = orders.OutcomeRefused
		case errors.Is(err, fpclient.ErrOrderNotFound):
			a.Outcome = orders.OutcomeNotFound
		case fe != nil && fe.Class == fpclient.Ambiguous:
			a.Outcome = orders.OutcomeAmbiguous
		case fe != nil && fe.Class == fpclient.Auth:
			a.Outcome = orders.OutcomeAuth
		case fe != nil && fe.Class == fpclient.Retryable:
			a.Outcome = orders.OutcomeRetryLater
		case fe == nil: // e.g. the context ended before anything was sent
			a.Outcome = orders.OutcomeRetryLater
		default:
			a.Outcome = orders.OutcomeInvalid
		}
	}
	res.Outcome, res.HTTPStatus, res.Message = a.Outcome, a.HTTPStatus, a.Message
	return a
}
