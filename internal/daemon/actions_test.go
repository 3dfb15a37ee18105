package daemon_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/operator"
	"github.com/frontpayment/fpexport/internal/orders"
)

// invoices is a file of one-line corporate invoices, one per ref.
func invoices(refs ...string) string {
	f := daemontest.CSVHeader
	for _, r := range refs {
		f += r + ",invoice,corporate,Fjord AS,post@fjord.example.no,+47,46567469,,923609016,Storgata 1,0155,Oslo,NO,no,,Timer,1,100.00,0,25,,,,,,,,\n"
	}
	return f
}

// actionDesk is an operator's desk on the stack's database, speaking to
// the stack's FP.
func (s *stack) actionDesk(t *testing.T) *operator.Desk {
	t.Helper()
	fp, err := fpclient.New(fpclient.Config{BaseURL: s.Cfg.FPBaseURL, Token: s.Cfg.FPToken})
	if err != nil {
		t.Fatal(err)
	}
	desk, err := operator.New(s.Pool)
	if err != nil {
		t.Fatal(err)
	}
	return desk.WithFP(fp)
}

// order reads one order's status and FP id by its reference.
func (s *stack) order(t *testing.T, ref string) (status, uuid string) {
	t.Helper()
	if err := s.Pool.QueryRow(context.Background(), `SELECT status, coalesce(fp_order_uuid, '') FROM orders WHERE order_ref = $1`, ref).
		Scan(&status, &uuid); err != nil {
		t.Fatal(err)
	}
	return status, uuid
}

// waitStatus waits (up to a minute) for the order to reach status.
func (s *stack) waitStatus(t *testing.T, ref, status string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, _ := s.order(t, ref)
		if got == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s is %s after a minute, want %s", ref, got, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// actionEvents are the order's events of type typ: each one's outcome.
func (s *stack) actionEvents(t *testing.T, ref, typ string) []map[string]any {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT e.detail FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.order_ref = $1 AND e.type = $2 ORDER BY e.id`, ref, typ)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var d map[string]any
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// actionRequests counts the simulator's requests to path's prefix.
func (s *stack) actionRequests(prefix string) int {
	n := 0
	for _, r := range s.Sim.Requests() {
		if strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// TestActionsAgainstFP: cancel and resend, end to end: the worker sends
// the orders, FP reports them SENT, a person acts through FP's client, and
// FP's word (its CANCELLED callback) settles the cancel.
func TestActionsAgainstFP(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: func(fpfake.Order) []string { return []string{"SENT"} }})
	start := time.Now()
	s.ImportCSV(t, "orders.csv", invoices("C-1", "C-2", "C-3", "C-4"))
	s.WaitSettled(t, start, true)
	for _, ref := range []string{"C-1", "C-2", "C-3", "C-4"} {
		s.waitStatus(t, ref, "sent")
	}
	desk := s.actionDesk(t)
	ctx := context.Background()

	t.Run("cancel accepted, then FP's CANCELLED", func(t *testing.T) {
		res, err := desk.Cancel(ctx, "C-1", "duplikat", "kari")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Moved || res.Outcome != orders.OutcomeAccepted || res.HTTPStatus != 202 {
			t.Errorf("cancel: %+v", res)
		}
		// cancel_requested until FP's callback; the callback may already
		// have come, so either is right here, then cancelled.
		if st, _ := s.order(t, "C-1"); st != "cancel_requested" && st != "cancelled" {
			t.Errorf("after FP's 202 the order is %s", st)
		}
		s.waitStatus(t, "C-1", "cancelled")
		ev := s.actionEvents(t, "C-1", "cancel")
		if len(ev) != 1 || ev[0]["outcome"] != "accepted" || ev[0]["by"] != "kari" || ev[0]["note"] != "duplikat" {
			t.Errorf("cancel events: %v", ev)
		}
		_, uuid := s.order(t, "C-1")
		if o, _ := s.Sim.Order(uuid); o.CancellationNote != "duplikat" {
			t.Errorf("FP got the note %q", o.CancellationNote)
		}
	})

	// FP has it paid; its callback has not reached us (we believe sent):
	// FP's 400 is shown and nothing moves.
	t.Run("cancel of a paid order: FP's 400, unchanged", func(t *testing.T) {
		_, uuid := s.order(t, "C-2")
		if err := s.Sim.LoseCallback(uuid, "PAID"); err != nil {
			t.Fatal(err)
		}
		_, err := desk.Cancel(ctx, "C-2", "", "kari")
		var ae *operator.ActionError
		if !errors.As(err, &ae) || ae.Result.Outcome != orders.OutcomeRefused || !strings.Contains(err.Error(), "Order is already paid") {
			t.Fatalf("cancel of a paid order: %v", err)
		}
		if st, _ := s.order(t, "C-2"); st != "sent" {
			t.Errorf("the order is %s after FP refused the cancel", st)
		}
		if ev := s.actionEvents(t, "C-2", "cancel"); len(ev) != 1 || ev[0]["outcome"] != "refused" {
			t.Errorf("cancel events: %v", ev)
		}
	})

	t.Run("resend whose answer was lost: ambiguous, not repeated", func(t *testing.T) {
		_, uuid := s.order(t, "C-3")
		s.Sim.UpdateFaults(func(f *fpfake.Faults) { f.DropFirst = 1 })
		_, err := desk.Resend(ctx, "C-3", operator.NewContact{}, "kunden fant ikke lenken", "kari")
		var ae *operator.ActionError
		if !errors.As(err, &ae) || ae.Result.Outcome != orders.OutcomeAmbiguous {
			t.Fatalf("resend with a lost answer: %v", err)
		}
		if st, _ := s.order(t, "C-3"); st != "sent" {
			t.Errorf("the order is %s after a lost answer", st)
		}
		if ev := s.actionEvents(t, "C-3", "resend"); len(ev) != 1 || ev[0]["outcome"] != "ambiguous" {
			t.Errorf("resend events: %v", ev)
		}
		if n := s.actionRequests(fpclient.ResendPath(uuid)); n != 1 {
			t.Errorf("%d resend requests for a lost answer, want 1 (never repeated by itself)", n)
		}
		// Listed for a person until one repeats it.
		unanswered := func() []operator.Item {
			l, err := desk.Attention(ctx, operator.AttentionQuery{})
			if err != nil {
				t.Fatal(err)
			}
			var out []operator.Item
			for _, it := range l.Items {
				if it.Reason == "action_unanswered" {
					out = append(out, it)
				}
			}
			return out
		}
		if items := unanswered(); len(items) != 1 || items[0].Order.Ref != "C-3" || items[0].Detail != "resend" ||
			len(items[0].Actions) != 1 || items[0].Actions[0] != operator.ActionResend {
			t.Errorf("attention's unanswered actions: %+v", items)
		}
		if _, err := desk.Resend(ctx, "C-3", operator.NewContact{}, "", "kari"); err != nil {
			t.Fatal(err)
		}
		if items := unanswered(); len(items) != 0 {
			t.Errorf("a repeated resend is still listed: %+v", items)
		}
	})

	t.Run("resend to a new e-mail", func(t *testing.T) {
		_, uuid := s.order(t, "C-4")
		if _, err := desk.Resend(ctx, "C-4", operator.NewContact{Email: "ikke-en-adresse"}, "", "kari"); err == nil {
			t.Fatal("an invalid e-mail was accepted")
		}
		if n := len(s.Sim.Resends(uuid)); n != 0 {
			t.Fatalf("%d resends after an invalid e-mail", n)
		}
		res, err := desk.Resend(ctx, "C-4", operator.NewContact{Email: "regnskap@fjord.example.no"}, "ny adresse", "kari")
		if err != nil {
			t.Fatal(err)
		}
		got := s.Sim.Resends(uuid)
		want := fpfake.Resend{CountryCode: "+47", MSISDN: "46567469", Email: "regnskap@fjord.example.no"}
		if len(got) != 1 || got[0].CountryCode != want.CountryCode || got[0].MSISDN != want.MSISDN || got[0].Email != want.Email {
			t.Errorf("FP's resends %+v, want one to %+v", got, want)
		}
		if res.Contact.Email != want.Email {
			t.Errorf("result contact %+v", res.Contact)
		}
		var kept string
		if err := s.Pool.QueryRow(ctx, `SELECT order_data -> 'customer' ->> 'email' FROM orders WHERE order_ref = 'C-4'`).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if kept != want.Email {
			t.Errorf("the order's e-mail is %q after the resend, want the new one", kept)
		}
		if st, _ := s.order(t, "C-4"); st != "sent" {
			t.Errorf("a resend moved the order to %s", st)
		}
		if ev := s.actionEvents(t, "C-4", "resend"); len(ev) != 1 || ev[0]["outcome"] != "accepted" || ev[0]["note"] != "ny adresse" {
			t.Errorf("resend events: %v", ev)
		}
	})
}

// TestWithdrawQueued: an order FP has not got is withdrawn, by `withdraw`
// or by `cancel`, with no request to FP; its submit job, run afterwards,
// sends nothing.
func TestWithdrawQueued(t *testing.T) {
	t.Parallel()
	s := newStack(t, fpfake.Config{Plan: fpfake.NoCallbacks}, nil)
	s.ImportCSV(t, "orders.csv", invoices("W-1", "W-2", "W-3"))
	desk := s.actionDesk(t)
	ctx := context.Background()
	if res, err := desk.Withdraw(ctx, "W-1", "feil kunde", "kari"); err != nil || res.From != "queued" {
		t.Fatalf("withdraw: %+v, %v", res, err)
	}
	if res, err := desk.Cancel(ctx, "W-2", "", "kari"); err != nil || !res.Withdrawn {
		t.Fatalf("cancel of a queued order: %+v, %v", res, err)
	}
	s.Run(t)
	s.waitStatus(t, "W-3", "submitted") // the one left is sent
	// Every submit job has ended: W-1's and W-2's found nothing to send.
	deadline := time.Now().Add(time.Minute)
	for s.Count(t, `SELECT count(*) FROM river_job WHERE kind = 'submit_order' AND state <> 'completed'`) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("submit jobs not completed after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, ref := range []string{"W-1", "W-2"} {
		if st, uuid := s.order(t, ref); st != "withdrawn" || uuid != "" {
			t.Errorf("%s: %s, FP order %q", ref, st, uuid)
		}
		if ev := s.actionEvents(t, ref, "withdrawn"); len(ev) != 1 || ev[0]["by"] != "kari" || ev[0]["previous_status"] != "queued" {
			t.Errorf("%s withdrawn events: %v", ref, ev)
		}
	}
	if n := len(s.Sim.Requests()); n != 1 {
		t.Errorf("FP got %d requests, want 1 (W-3's)", n)
	}
	if n := s.Count(t, `SELECT count(*) FROM submit_attempts a JOIN orders o ON o.id = a.order_id WHERE o.order_ref IN ('W-1', 'W-2')`); n != 0 {
		t.Errorf("%d submit attempts for withdrawn orders", n)
	}
}
