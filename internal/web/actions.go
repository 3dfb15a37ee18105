package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/operator"
	"github.com/frontpayment/fpexport/internal/store"
)

// The actions a person takes on orders from the pages: each is a POST
// (CSRF token, acting: not for viewers), shown first as a confirmation
// page and done only when that is confirmed, one order or several at once.
// They go through internal/operator, the same code as `worker retry` and
// `worker review`, and record who did it and the note.
const (
	actRetry         = "retry"                 // a failed order, sent again
	actReviewConfirm = "review_confirm"        // FP has the order, as this orderUuid; one order only
	actReviewNew     = "review_new"            // FP has not got it: send it again as a new order
	actReviewUpdate  = "review_update"         // send it again as an update of the FP order it names
	actCancel        = operator.ActionCancel   // cancel at FP (or withdraw, when FP has not got it)
	actResend        = operator.ActionResend   // FP sends the link again; one order only
	actWithdraw      = operator.ActionWithdraw // stop an order FP has not got, here
)

// allActions are the actions POST /web/actions takes.
var allActions = []string{actRetry, actReviewConfirm, actReviewNew, actReviewUpdate, actCancel, actResend, actWithdraw}

// actionFrom is the status each action applies to.
var actionFrom = map[string]string{actRetry: "failed", actReviewConfirm: "needs_review", actReviewNew: "needs_review",
	actReviewUpdate: "needs_review"}

// maxActionOrders bounds one bulk action (the attention list shows at most
// this many of a reason).
const maxActionOrders = operator.DefaultAttentionLimit

type actionOrder struct {
	operator.Order
	Done   bool
	Result string // what became of it, for the person
}

type actionData struct {
	Action    string
	Orders    []actionOrder
	Note      string
	OrderUUID string
	Done      bool
	Contact   operator.NewContact // a resend's new contact, if any
}

func (h *Handler) action(w http.ResponseWriter, r *http.Request, req request) {
	act := r.PostFormValue("action")
	if !slices.Contains(allActions, act) {
		h.fail(w, req, http.StatusBadRequest, h.lf(req, "error.bad_input", act))
		return
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		h.fail(w, req, http.StatusBadRequest, label(req.lang, "act.none_chosen"))
		return
	}
	if len(ids) > maxActionOrders || ((act == actReviewConfirm || act == actResend) && len(ids) > 1) {
		h.fail(w, req, http.StatusBadRequest, label(req.lang, "act.too_many"))
		return
	}
	d := actionData{Action: act, Note: strings.TrimSpace(r.PostFormValue("note")),
		OrderUUID: strings.ToUpper(strings.TrimSpace(r.PostFormValue("fp_order_uuid"))),
		Contact: operator.NewContact{Email: strings.TrimSpace(r.PostFormValue("email")),
			MSISDN: strings.TrimSpace(r.PostFormValue("msisdn")), CountryCode: strings.TrimSpace(r.PostFormValue("country_code"))}}
	for _, s := range ids {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			h.fail(w, req, http.StatusBadRequest, h.lf(req, "error.bad_input", s))
			return
		}
		o, ok, err := h.orderBrief(r.Context(), id)
		if err != nil {
			h.internalError(w, r, req, "reading an order for an action", err)
			return
		}
		if !ok {
			h.fail(w, req, http.StatusNotFound, label(req.lang, "order.not_found"))
			return
		}
		d.Orders = append(d.Orders, actionOrder{Order: o})
	}
	if r.PostFormValue("confirmed") != "1" {
		p := h.pageFor(req, "act.confirm_title", d)
		h.render(w, r, http.StatusOK, "action", p)
		return
	}
	if act == actReviewConfirm && d.OrderUUID == "" {
		h.fail(w, req, http.StatusBadRequest, label(req.lang, "act.uuid_needed"))
		return
	}
	dec := store.ReviewDecision{By: req.session.User, Note: d.Note}
	for i := range d.Orders {
		o := &d.Orders[i]
		var err error
		if slices.Contains([]string{actCancel, actResend, actWithdraw}, act) {
			o.Result, err = h.actAtFP(r.Context(), req, act, o.Order, d)
		} else {
			err = h.act(r.Context(), act, o.Order, d.OrderUUID, dec)
			o.Result = label(req.lang, "act.done."+act)
		}
		o.Done = err == nil
		if err != nil {
			// The typed errors say why in English for the command line;
			// the page says it in the person's words, with the order's
			// status now, and the log keeps the error.
			h.logger.WarnContext(r.Context(), "web: action not done", "action", act, "order", o.ID, "user", req.session.User, "error", err)
			now, _, rerr := h.orderBrief(r.Context(), o.ID)
			if rerr == nil {
				o.Status = now.Status
			}
			o.Result = h.refusal(req, act, o.Status, err)
		}
		h.logger.InfoContext(r.Context(), "web: action", "action", act, "order", o.ID, "user", req.session.User, "done", o.Done)
	}
	if slices.ContainsFunc(d.Orders, func(o actionOrder) bool { return o.Done }) { // the list shows the status after the action
		for i := range d.Orders {
			if now, ok, err := h.orderBrief(r.Context(), d.Orders[i].ID); err == nil && ok {
				d.Orders[i].Status = now.Status
			}
		}
	}
	d.Done = true
	h.render(w, r, http.StatusOK, "action", h.pageFor(req, "act.done_title", d))
}

// act does one action on one order, named as kind:order_ref (a bare
// number would be read as a batch by a retry).
func (h *Handler) act(ctx context.Context, act string, o operator.Order, orderUUID string, dec store.ReviewDecision) error {
	spec := o.Kind + ":" + o.Ref
	switch act {
	case actRetry:
		res, err := h.desk.Retry(ctx, spec, store.RetryDecision{ReviewDecision: dec})
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	case actReviewConfirm:
		_, err := h.desk.Confirm(ctx, spec, orderUUID, dec)
		return err
	case actReviewNew:
		_, _, err := h.desk.Resubmit(ctx, spec, store.Resubmit{ReviewDecision: dec})
		return err
	case actReviewUpdate:
		_, _, err := h.desk.Resubmit(ctx, spec, store.Resubmit{ReviewDecision: dec, KnownFpgo: true})
		return err
	}
	return nil
}

// actAtFP does a cancel, resend or withdrawal of one order through the
// desk (the same code as `worker cancel`, `resend`, `withdraw`) and says
// what became of it in the person's words.
func (h *Handler) actAtFP(ctx context.Context, req request, act string, o operator.Order, d actionData) (string, error) {
	spec, by := o.Kind+":"+o.Ref, req.session.User
	var res *operator.ActionResult
	var err error
	switch act {
	case actCancel:
		res, err = h.desk.Cancel(ctx, spec, d.Note, by)
	case actResend:
		res, err = h.desk.Resend(ctx, spec, d.Contact, d.Note, by)
	case actWithdraw:
		res, err = h.desk.Withdraw(ctx, spec, d.Note, by)
	}
	if err != nil {
		return "", err
	}
	switch {
	case res.Withdrawn:
		return label(req.lang, "act.done.withdraw"), nil
	case act == actResend:
		to := strings.Join(slices.DeleteFunc([]string{res.Contact.Email, strings.TrimSpace(res.Contact.CountryCode + " " + res.Contact.MSISDN)},
			func(s string) bool { return s == "" }), ", ")
		return h.lf(req, "act.done.resend", to), nil
	}
	return label(req.lang, "act.done.cancel"), nil
}

// refusal says in the person's words why act was not done on an order
// that is now in status.
func (h *Handler) refusal(req request, act, status string, err error) string {
	var ae *operator.ActionError
	var ce *operator.ContactError
	switch {
	case errors.As(err, &ae):
		r := ae.Result
		switch r.Outcome {
		case operator.OutcomeRefused, operator.OutcomeInvalid:
			return h.lf(req, "act.fp.refused", r.Message)
		case operator.OutcomeNotFound:
			return label(req.lang, "act.fp.not_found")
		case operator.OutcomeAmbiguous:
			return label(req.lang, "act.fp.lost")
		case operator.OutcomeAuth:
			return label(req.lang, "act.fp.auth")
		}
		return label(req.lang, "act.fp.later")
	case errors.As(err, &ce):
		why := ce.Err.Error()
		var me *msg.Error
		if errors.As(ce.Err, &me) { // the import's own reason, in the page's language
			why = me.Msg.Text(msgLang(req.lang))
		}
		return h.lf(req, "act.bad_contact", ce.Value, why)
	case errors.Is(err, operator.ErrNoFP):
		return label(req.lang, "act.no_fp")
	}
	if from, ok := actionFrom[act]; ok && status == from { // still where the action fits: say what stood in the way
		return h.lf(req, "act.not_done", err.Error())
	}
	return h.lf(req, "act.refused", statusLabel(req.lang, status))
}

// orderBrief reads what an action page shows of order id.
func (h *Handler) orderBrief(ctx context.Context, id int64) (operator.Order, bool, error) {
	hist, err := h.desk.History(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return operator.Order{}, false, nil
	}
	if err != nil {
		return operator.Order{}, false, err
	}
	return hist.Order, true, nil
}

func (h *Handler) lf(req request, key string, args ...any) string {
	return page{Lang: req.lang}.Lf(key, args...)
}

func statusLabel(lang, s string) string { return page{Lang: lang}.Status(s) }

// ActionLabel is an action's label on the action pages.
func (p page) ActionLabel(act string) string { return label(p.Lang, "act."+act) }

// BulkAction is the action the attention page offers for several orders
// of a reason at once; "" for none.
func (p page) BulkAction(reason string) string {
	switch reason {
	case store.AttentionFailed:
		return actRetry
	case store.AttentionNeedsReview:
		return actReviewNew
	case store.AttentionProviderRejected, store.AttentionInvalidPayload:
		return actWithdraw
	case store.AttentionPaymentLinkDue: // cancelled at FP, or withdrawn when FP has not got it
		return actCancel
	}
	return ""
}

// actionForm is one action's button on the order page.
type actionForm struct {
	CSRF, Action, Label string
	ID                  int64
}

// ActionForm is the button of act for order id.
func (p page) ActionForm(act string, id int64) actionForm {
	return actionForm{CSRF: p.CSRF, Action: act, Label: p.ActionLabel(act), ID: id}
}

// FPActions are the actions the order page offers when they fit the order
// (operator.Order.Fits).
func (p page) FPActions() []string { return []string{actResend, actCancel, actWithdraw} }
