package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/operator"
)

const actionsUsage = `usage:
  worker cancel ORDER [--note TEXT] [--by NAME] [--lang nb|en]
  worker resend ORDER [--email E] [--msisdn M] [--country-code C] [--note TEXT] [--by NAME] [--lang nb|en]
  worker withdraw ORDER [--note TEXT] [--by NAME] [--lang nb|en]

cancel asks FP to cancel an order FP has (cancel_requested until FP says
CANCELLED); an order FP has not got is withdrawn instead, with no request to
FP. resend asks FP to send the payment link or invoice notification again, to
the order's own contact unless new ones are given (checked as an import
checks them, and kept). withdraw stops an order FP has not got from being
sent. ORDER is the order id, kind:order_ref, or an order_ref only one order has.
`

// actionText is each message of the action commands: bokmål, English.
var actionText = map[string][2]string{
	"withdrawn":    {"ordre %s: trukket tilbake (var %s); ingenting ble sendt til FP", "order %s: withdrawn (was %s); nothing was sent to FP"},
	"cancel":       {"ordre %s: FP har tatt imot kanselleringen (HTTP %d); ordren er kansellering bedt om til FP melder CANCELLED", "order %s: FP accepted the cancel (HTTP %d); the order is cancel_requested until FP reports CANCELLED"},
	"cancel_late":  {"ordre %s: FP har tatt imot kanselleringen (HTTP %d), men FP hadde alt meldt en ny status; se `worker order`", "order %s: FP accepted the cancel (HTTP %d), but FP had already reported a new status; see `worker order`"},
	"resend":       {"ordre %s: FP sender lenken/varselet på nytt til %s (HTTP %d)", "order %s: FP sends the link/notification again to %s (HTTP %d)"},
	"refused":      {"ordre %s: FP avviste: %s; ordren er uendret", "order %s: FP refused: %s; the order is unchanged"},
	"not_found":    {"ordre %s: FP kjenner ikke ordren (404 orderNotFound); ordren er uendret", "order %s: FP does not know the order (404 orderNotFound); the order is unchanged"},
	"ambiguous":    {"ordre %s: forespørselen nådde FP, men svaret gikk tapt (%s); den gjentas ikke av seg selv: se `worker order` og avgjør", "order %s: the request reached FP but its answer was lost (%s); it is not repeated by itself: see `worker order` and decide"},
	"auth":         {"ordre %s: FP avviste tokenet vårt (HTTP %d); ingenting endret", "order %s: FP refused our token (HTTP %d); nothing changed"},
	"retry_later":  {"ordre %s: FP kunne ikke ta imot nå (%s); prøv igjen senere", "order %s: FP could not take it now (%s); try again later"},
	"invalid":      {"ordre %s: FP avviste forespørselen: %s; ordren er uendret", "order %s: FP refused the request: %s; the order is unchanged"},
	"no_fp_order":  {"ordre %s er %s og har ingen FP-ordre-id: FP kan ha den, avgjør med `worker review` først; ingenting endret", "order %s is %s and has no FP order id: FP may have it, decide with `worker review` first; nothing changed"},
	"not_cancel":   {"ordre %s er %s og kan ikke kanselleres; ingenting ble sendt til FP", "order %s is %s: it cannot be cancelled; nothing was sent to FP"},
	"no_fp":        {"FP er ikke satt opp (FP_BASE_URL, FP_TOKEN); ingenting ble sendt", "FP is not configured (FP_BASE_URL, FP_TOKEN); nothing was sent"},
	"not_withdraw": {"ordre %s er %s og kan ikke trekkes tilbake; ingenting endret", "order %s is %s and cannot be withdrawn; nothing changed"},
	"contact":      {"--%s %q: %s; ingenting ble sendt", "--%s %q: %s; nothing was sent"},
}

func actionSay(lang msg.Lang, key string, a ...any) string {
	t := actionText[key]
	if lang == msg.EN {
		return fmt.Sprintf(t[1], a...)
	}
	return fmt.Sprintf(t[0], a...)
}

// cmdAction runs `worker cancel`, `worker resend` and `worker withdraw`.
// Exit codes: 0 done; 1 nothing changed (FP refused, did not answer, the
// order is unknown or in the wrong state); 2 usage.
func cmdAction(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newOpFlags("worker "+name, actionsUsage, stderr)
	decision := fs.decisionFlags(getenv, "why: kept in the action's event (and sent to FP as a cancel's note)")
	langFlag := fs.String("lang", "", "nb (bokmål, default) or en")
	var nc operator.NewContact
	if name == "resend" {
		fs.StringVar(&nc.Email, "email", "", "send to this e-mail address instead (kept)")
		fs.StringVar(&nc.MSISDN, "msisdn", "", "send to this mobile number instead (kept)")
		fs.StringVar(&nc.CountryCode, "country-code", "", "the new number's country code, e.g. +47")
	}
	pos, help, err := fs.parse(args)
	if help || err != nil {
		return err
	}
	if len(pos) != 1 {
		return fs.usageErr("want one ORDER, got %d", len(pos))
	}
	lang, err := msg.FromEnv(*langFlag, "") // bokmål unless --lang en, as `worker attention`
	if err != nil {
		return fs.usageErr("%v", err)
	}
	d, err := decision()
	if err != nil {
		return err
	}

	cfg, pool, err := openCommandDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	desk, err := operator.New(pool)
	if err != nil {
		return err
	}
	// FP's client only when configured: a withdrawal needs none, and an
	// action that does says so (operator.ErrNoFP).
	if fp, err := fpclient.New(fpclient.Config{BaseURL: cfg.FPBaseURL, Token: cfg.FPToken, Timeout: cfg.FPTimeout}); err == nil {
		desk.WithFP(fp)
	}

	var res *operator.ActionResult
	switch name {
	case "cancel":
		res, err = desk.Cancel(ctx, pos[0], d.Note, d.By)
	case "resend":
		res, err = desk.Resend(ctx, pos[0], nc, d.Note, d.By)
	default:
		res, err = desk.Withdraw(ctx, pos[0], d.Note, d.By)
	}
	if err != nil {
		return errors.New(actionError(err, lang))
	}
	switch {
	case res.Withdrawn:
		fmt.Fprintln(stdout, actionSay(lang, "withdrawn", res.Order, res.From))
	case name == "cancel" && res.Moved:
		fmt.Fprintln(stdout, actionSay(lang, "cancel", res.Order, res.HTTPStatus))
	case name == "cancel":
		fmt.Fprintln(stdout, actionSay(lang, "cancel_late", res.Order, res.HTTPStatus))
	default:
		fmt.Fprintln(stdout, actionSay(lang, "resend", res.Order, contactText(res.Contact), res.HTTPStatus))
	}
	return nil
}

// contactText names where a resend went; the number is masked but for its
// last three digits (the operator typed or imported it; the log need not
// hold it whole).
func contactText(c fpclient.Contact) string {
	var parts []string
	if c.Email != "" {
		parts = append(parts, c.Email)
	}
	if n := c.MSISDN; n != "" {
		if len(n) > 3 {
			n = strings.Repeat("*", len(n)-3) + n[len(n)-3:]
		}
		parts = append(parts, c.CountryCode+" "+n)
	}
	return strings.Join(parts, ", ")
}

// actionError is an action's error in the reader's language.
func actionError(err error, lang msg.Lang) string {
	if ae, ok := errors.AsType[*operator.ActionError](err); ok {
		r := ae.Result
		switch r.Outcome {
		case operator.OutcomeNotFound:
			return actionSay(lang, "not_found", r.Order)
		case operator.OutcomeAuth:
			return actionSay(lang, "auth", r.Order, r.HTTPStatus)
		case operator.OutcomeRefused, operator.OutcomeAmbiguous, operator.OutcomeRetryLater:
			return actionSay(lang, r.Outcome, r.Order, r.Message)
		}
		return actionSay(lang, "invalid", r.Order, r.Message)
	}
	if e, ok := errors.AsType[*operator.NoFPOrderError](err); ok {
		return actionSay(lang, "no_fp_order", e.Order, e.Status)
	}
	if e, ok := errors.AsType[*operator.NotCancellableError](err); ok {
		return actionSay(lang, "not_cancel", e.Order, e.Status)
	}
	if errors.Is(err, operator.ErrNoFP) {
		return actionSay(lang, "no_fp")
	}
	if e, ok := errors.AsType[*operator.NotWithdrawableError](err); ok {
		return actionSay(lang, "not_withdraw", e.Order, e.Status)
	}
	if e, ok := errors.AsType[*operator.ContactError](err); ok {
		return actionSay(lang, "contact", e.Field, e.Value, msg.Of(e.Err).Text(lang))
	}
	return err.Error()
}
