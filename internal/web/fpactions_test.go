package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// fpOrder creates an invoice order in the simulator and returns FP's id.
func fpOrder(t *testing.T, fp *fpclient.Client, ref string) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{
	"products": [{"name": "Timer", "productId": "T_1", "quantity": "1", "rate": 100, "discount": 0, "tax": "0", "amount": 100}],
	"orderSummary": {"subTotal": "100", "totalTax": "0", "totalDiscount": "0.00", "grandTotal": "100"},
	"orderDate": "1755150488",
	"customerDetails": {
		"type": "private", "countryCode": "+47", "msisdn": "46567468", "email": "kari@example.no",
		"name": "Kari Nordmann", "preferredLanguage": "no", "personalNumber": "28038712383", "organizationId": "",
		"address": {"street": "Storgata 1", "zip": "0155", "city": "Oslo", "country": "NO"}
	},
	"referenceNo": "`+ref+`", "customerReference": "1", "invoiceInterval": 0, "separateInvoices": true,
	"invoiceFeeApplicable": true, "invoiceMaturity": 10,
	"callback": {"callbackUrl": "http://127.0.0.1:1/cb", "success": "http://127.0.0.1:1/ok", "failure": "http://127.0.0.1:1/no"}
}`), &doc); err != nil {
		t.Fatal(err)
	}
	c, err := fp.Submit(context.Background(), fpclient.KindInvoice, doc)
	if err != nil {
		t.Fatal(err)
	}
	return c.OrderUUID
}

// Cancel, resend and withdraw from the pages, against the simulator:
// confirmation first, FP's 202 moves a cancel to cancel_requested, FP's 400
// is shown with FP's message and changes nothing, a withdrawal of several
// queued orders asks nothing of FP, a resend goes to the new e-mail, a
// lost answer is left for a person, and a viewer is refused.
func TestFPActionsFromThePages(t *testing.T) {
	t.Parallel()
	// No callbacks: FP's CANCELLED would come after the test.
	sim := fpfake.New(fpfake.Config{Token: "t-token", Plan: fpfake.NoCallbacks, CallbackDelay: time.Hour, CallbackRetries: -1})
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	fp, err := fpclient.New(fpclient.Config{BaseURL: base, Token: "t-token", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	entries := testUser + ":" + string(hash) + ", vera:" + string(hash) + ":viewer"
	users, _ := ParseUsers(entries)
	b := setup(t, func(c *Config) { c.FP, c.Users, c.Roles = fp, users, ParseRoles(entries) })
	c := b.client(t)
	csrf := c.mustLogin()

	open, paid := fpOrder(t, fp, "S-1"), fpOrder(t, fp, "S-2")
	if err := sim.LoseCallback(paid, "PAID"); err != nil {
		t.Fatal(err)
	}
	s1 := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "S-1", Status: "sent", FPOrderUUID: open})
	s2 := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "S-2", Status: "sent", FPOrderUUID: paid})
	q1 := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "Q-1"})
	q2 := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "Q-2", Status: "failed"})
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	requests := func() int { return len(sim.Requests()) }

	// The order page offers what fits: cancel and resend for an order FP
	// has, withdraw for one it has not got.
	_, page := c.get("/web/orders/" + id(s1))
	if !strings.Contains(page, `id="act-cancel"`) || !strings.Contains(page, `id="act-resend"`) || strings.Contains(page, `id="act-withdraw"`) {
		t.Errorf("the page of an order FP has offers the wrong actions:\n%s", page)
	}
	_, page = c.get("/web/orders/" + id(q1))
	if !strings.Contains(page, `id="act-withdraw"`) || strings.Contains(page, `id="act-cancel"`) {
		t.Errorf("the page of a queued order offers the wrong actions:\n%s", page)
	}
	settled := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "P-1", Status: "paid", FPOrderUUID: "ODR1"})
	_, page = c.get("/web/orders/" + id(settled))
	if strings.Contains(page, `id="act-cancel"`) || strings.Contains(page, `id="act-resend"`) || strings.Contains(page, `id="act-withdraw"`) {
		t.Errorf("the page of a paid order offers an action:\n%s", page)
	}

	// Cancel: the first POST only asks.
	sent := requests()
	cancel := url.Values{"csrf": {csrf}, "action": {"cancel"}, "id": {id(s1)}}
	resp, page := c.postForm("/web/actions", cancel)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="confirm-action"`) || orderStatus(t, b.pool, s1) != "sent" || requests() != sent {
		t.Fatalf("cancel's confirmation page: %d, status %s, %d requests to FP\n%s", resp.StatusCode, orderStatus(t, b.pool, s1), requests()-sent, page)
	}
	cancel.Set("confirmed", "1")
	cancel.Set("note", "dobbel ordre")
	resp, page = c.postForm("/web/actions", cancel)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, label("no", "act.done.cancel")) || orderStatus(t, b.pool, s1) != "cancel_requested" {
		t.Fatalf("cancel: %d, status %s\n%s", resp.StatusCode, orderStatus(t, b.pool, s1), page)
	}
	if o, _ := sim.Order(open); !o.CancelRequested || o.CancellationNote != "dobbel ordre" {
		t.Errorf("FP was not asked to cancel with the note: %+v", o)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM order_events WHERE order_id = `+id(s1)+` AND type = 'cancel' AND detail->>'by' = 'anna'`); n != 1 {
		t.Errorf("cancel events naming anna: %d, want 1", n)
	}

	// FP's 400: its message on the page, the order unchanged.
	before := orderRowText(t, b, s2)
	_, page = c.postForm("/web/actions", url.Values{"csrf": {csrf}, "action": {"cancel"}, "id": {id(s2)}, "confirmed": {"1"}})
	if want := c.lfNo("act.fp.refused", "Order is already paid"); !strings.Contains(page, want) {
		t.Errorf("FP's refusal is not shown as %q:\n%s", want, page)
	}
	if after := orderRowText(t, b, s2); after != before {
		t.Errorf("FP's 400 changed the order:\n%s\n%s", before, after)
	}

	// Withdraw two orders FP has not got, at once: nothing goes to FP.
	sent = requests()
	resp, page = c.postForm("/web/actions", url.Values{"csrf": {csrf}, "action": {"withdraw"}, "id": {id(q1), id(q2)}, "confirmed": {"1"}})
	if resp.StatusCode != http.StatusOK || strings.Count(page, label("no", "act.done.withdraw")) != 2 {
		t.Errorf("withdraw: %d\n%s", resp.StatusCode, page)
	}
	for _, o := range []int64{q1, q2} {
		if s := orderStatus(t, b.pool, o); s != "withdrawn" {
			t.Errorf("order %d after withdraw: %s", o, s)
		}
	}
	if requests() != sent {
		t.Errorf("a withdrawal sent %d requests to FP", requests()-sent)
	}

	// Resend: one order, to a new e-mail; a bad one is refused before FP.
	resend := url.Values{"csrf": {csrf}, "action": {"resend"}, "id": {id(s1)}, "confirmed": {"1"}, "email": {"kari@"}}
	_, page = c.postForm("/web/actions", resend)
	if want := c.lfNo("act.bad_contact", "kari@", msg.New("email.invalid").Text(msg.NB)); !strings.Contains(page, want) || len(sim.Resends(open)) != 0 {
		t.Errorf("a bad e-mail was not refused before FP (%d resends):\n%s", len(sim.Resends(open)), page)
	}
	resend.Set("email", "ny@example.no")
	_, page = c.postForm("/web/actions", resend)
	if got := sim.Resends(open); len(got) != 1 || got[0].Email != "ny@example.no" || !strings.Contains(page, c.lfNo("act.done.resend", "ny@example.no")) {
		t.Errorf("resend: %+v\n%s", got, page)
	}
	if resp, _ := c.postForm("/web/actions", url.Values{"csrf": {csrf}, "action": {"resend"}, "id": {id(s1), id(s2)}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a resend of two orders: %d, want 400", resp.StatusCode)
	}

	// A lost answer: shown for a person to decide, not repeated.
	sim.SetFaults(fpfake.Faults{DropFirst: 1})
	_, page = c.postForm("/web/actions", resend)
	if !strings.Contains(page, label("no", "act.fp.lost")) {
		t.Errorf("a lost answer is not shown as such:\n%s", page)
	}

	// A viewer may not act.
	viewer := b.client(t)
	viewer.loginAs("vera")
	_, up := viewer.get("/web/orders/" + id(s2))
	if strings.Contains(up, `id="act-cancel"`) {
		t.Errorf("a viewer is offered the cancel")
	}
	sent = requests()
	resp, _ = viewer.postForm("/web/actions", url.Values{"csrf": {csrfOf(t, up)}, "action": {"cancel"}, "id": {id(s2)}, "confirmed": {"1"}})
	if resp.StatusCode != http.StatusForbidden || orderRowText(t, b, s2) != before || requests() != sent {
		t.Errorf("a viewer's cancel: %d, want 403 and nothing changed", resp.StatusCode)
	}
}

func (c *client) lfNo(key string, args ...any) string { return page{Lang: "no"}.Lf(key, args...) }

// orderRowText is order id's row as text: equal texts, nothing changed.
func orderRowText(t *testing.T, b *bundle, id int64) string {
	t.Helper()
	var s string
	if err := b.pool.QueryRow(context.Background(), `SELECT row_to_json(o)::text FROM orders o WHERE id = $1`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
