package fpfake_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

func (b *bundle) action(t *testing.T, path string, doc map[string]any) answer {
	t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b.do(t, http.MethodPost, path, token, "application/json", body)
}

// client is the project's own FP client aimed at the simulator.
func (b *bundle) client(t *testing.T) *fpclient.Client {
	t.Helper()
	c, err := fpclient.New(fpclient.Config{BaseURL: b.base, Token: token, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResend(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	id := b.submit(t, fpclient.KindInvoice, invoicePayload(t)).orderUUID(t)

	a := b.action(t, fpclient.ResendPath(id), map[string]any{"countryCode": "+47", "msisdn": "41234567", "email": "kari@example.no"})
	want := `{"status_code":202,"status_message":"Accepted","message":"orderResentSuccessfully","is_data":false,"data":null}`
	if a.status != http.StatusAccepted || string(a.raw) != want || a.header.Get("X-Ratelimit-Limit") != "240" {
		t.Errorf("got %d %s %v\nwant %s", a.status, a.raw, a.header, want)
	}
	if _, err := b.client(t).Resend(t.Context(), id, fpclient.Contact{Email: "ola@example.no"}); err != nil {
		t.Fatalf("client resend: %v", err)
	}
	got := b.srv.Resends(id)
	if len(got) != 2 || got[0].CountryCode != "+47" || got[0].MSISDN != "41234567" || got[0].Email != "kari@example.no" || got[1].Email != "ola@example.no" {
		t.Errorf("resends %+v", got)
	}
	if st := b.srv.Stats(); st.Resent != 2 || st.Created != 1 {
		t.Errorf("stats %+v", st)
	}
	if o, _ := b.srv.Order(id); o.Status != fpfake.InitialStatus {
		t.Errorf("a resend changed the status to %s", o.Status)
	}

	for name, doc := range map[string]map[string]any{
		"nowhere to send":          {},
		"email without domain":     {"email": "kari@"},
		"msisdn with letters":      {"countryCode": "+47", "msisdn": "4123abc"},
		"msisdn without a country": {"msisdn": "41234567"},
		"country code without +":   {"countryCode": "47", "msisdn": "41234567"},
	} {
		if a := b.action(t, fpclient.ResendPath(id), doc); a.status != http.StatusExpectationFailed || a.body["message"] != "payloadValidationErrors" || len(a.errors(t)) == 0 {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
		}
	}
	if n := len(b.srv.Resends(id)); n != 2 {
		t.Errorf("a refused resend was counted: %d", n)
	}
}

func TestActionConflictsAndUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	paid := b.submit(t, fpclient.KindInvoice, invoicePayload(t)).orderUUID(t)
	if err := b.srv.LoseCallback(paid, "PAID"); err != nil {
		t.Fatal(err)
	}
	contact := map[string]any{"email": "kari@example.no"}
	for _, path := range []string{fpclient.ResendPath(paid), fpclient.CancelPath(paid)} {
		a := b.action(t, path, contact)
		want := `{"status_code":400,"status_message":"Conflict of Business Logic","message":"Order is already paid","is_error":true,"errors":[]}`
		if a.status != http.StatusBadRequest || string(a.raw) != want {
			t.Errorf("%s paid: %d %s", path, a.status, a.raw)
		}
	}
	for _, path := range []string{fpclient.ResendPath("ODR0000000000"), fpclient.CancelPath("ODR0000000000")} {
		if a := b.action(t, path, contact); a.status != http.StatusNotFound || a.body["message"] != "orderNotFound" {
			t.Errorf("%s unknown: %d %s", path, a.status, a.raw)
		}
	}
	if a := b.do(t, http.MethodGet, fpclient.CancelPath(paid), token, "", nil); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "POST" {
		t.Errorf("GET cancel: %d", a.status)
	}
	if a := b.do(t, http.MethodPost, fpclient.CancelPath(paid), "wrong", "application/json", []byte(`{}`)); a.status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", a.status)
	}
	// Through the client: FP's message, and the errors the callers test for.
	c := b.client(t)
	_, err := c.Cancel(t.Context(), paid, "")
	var fe *fpclient.Error
	if !errors.As(err, &fe) || !errors.Is(err, fpclient.ErrBusinessConflict) || fe.Message != "Order is already paid" {
		t.Errorf("client cancel of a paid order: %v", err)
	}
	if _, err := c.Resend(t.Context(), "ODR0000000000", fpclient.Contact{Email: "kari@example.no"}); !errors.Is(err, fpclient.ErrOrderNotFound) {
		t.Errorf("client resend of an unknown order: %v", err)
	}
	if st := b.srv.Stats(); st.Resent != 0 || st.CancelRequests != 0 {
		t.Errorf("refused actions counted: %+v", st)
	}
}

// An accepted cancel is answered 202 at once; CANCELLED comes afterwards as
// a callback, like every other status, and the order stays cancelled.
func TestCancelSendsCancelledCallback(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{CallbackDelay: time.Millisecond})
	rc := newReceiver(t, 0)
	doc := paymentLinkPayload(t)
	set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
	id := b.submit(t, fpclient.KindPaymentLink, doc).orderUUID(t)

	a := b.action(t, fpclient.CancelPath(id), map[string]any{"cancellationNote": "duplikat av ODR1"})
	want := `{"status_code":202,"status_message":"Accepted","message":"orderCancellationRequested","is_data":false,"data":null}`
	if a.status != http.StatusAccepted || string(a.raw) != want {
		t.Fatalf("cancel: %d %s", a.status, a.raw)
	}
	r := rc.next(t)
	q := r.URL.Query()
	if q.Get("orderUuid") != id || q.Get("status") != fpfake.CancelledStatus ||
		q.Get("checksum") != fpfake.Checksum(id, fpfake.CancelledStatus, q.Get("createdAt"), "") {
		t.Errorf("callback %s", r.URL.RawQuery)
	}
	o, _ := b.srv.Order(id)
	if o.Status != fpfake.CancelledStatus || !o.CancelRequested || o.CancellationNote != "duplikat av ODR1" {
		t.Errorf("order %+v", o)
	}
	if a := b.status(t, id); a.body["data"].(map[string]any)["status"] != fpfake.CancelledStatus {
		t.Errorf("status endpoint: %s", a.raw)
	}
	a = b.action(t, fpclient.CancelPath(id), nil)
	if a.status != http.StatusBadRequest || a.body["message"] != "Order is already cancelled" {
		t.Errorf("second cancel: %d %s", a.status, a.raw)
	}
	if a := b.action(t, fpclient.ResendPath(id), map[string]any{"email": "kari@example.no"}); a.status != http.StatusBadRequest {
		t.Errorf("resend of a cancelled order: %d %s", a.status, a.raw)
	}
	if a := b.action(t, fpclient.CancelPath(id), map[string]any{"cancellationNote": 7}); a.status != http.StatusExpectationFailed {
		t.Errorf("note not a string: %d %s", a.status, a.raw)
	}
	if st := b.srv.Stats(); st.CancelRequests != 1 {
		t.Errorf("stats %+v", st)
	}
}

// The create endpoints' faults reach the actions too: FP's 500 takes nothing
// on, a dropped answer hides an action FP did take on.
func TestActionFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{CallbackDelay: time.Hour})
	id := b.submit(t, fpclient.KindInvoice, invoicePayload(t)).orderUUID(t)
	c := b.client(t)

	b.srv.UpdateFaults(func(f *fpfake.Faults) { f.Fail500First, f.Fail510First = 1, 1 })
	for _, want := range []int{500, 510} {
		_, err := c.Cancel(t.Context(), id, "")
		var fe *fpclient.Error
		if !errors.As(err, &fe) || fe.StatusCode != want || fe.Class != fpclient.Retryable {
			t.Errorf("want %d retryable, got %v", want, err)
		}
	}
	if o, _ := b.srv.Order(id); o.CancelRequested {
		t.Error("a 500/510 cancel was taken on")
	}

	b.srv.UpdateFaults(func(f *fpfake.Faults) { f.DropFirst = 1 })
	_, err := c.Resend(t.Context(), id, fpclient.Contact{Email: "kari@example.no"})
	if fpclient.ClassOf(err) != fpclient.Ambiguous {
		t.Errorf("dropped resend: %v, want ambiguous", err)
	}
	if n := len(b.srv.Resends(id)); n != 1 {
		t.Errorf("the dropped resend was not carried out: %d", n)
	}
	b.srv.UpdateFaults(func(f *fpfake.Faults) { f.DropFirst = 1 })
	if _, err := c.Cancel(t.Context(), id, ""); fpclient.ClassOf(err) != fpclient.Ambiguous {
		t.Errorf("dropped cancel: %v, want ambiguous", err)
	}
	if o, _ := b.srv.Order(id); !o.CancelRequested {
		t.Error("the dropped cancel was not carried out")
	}
	log := b.srv.Requests()
	var faults []string
	for _, r := range log {
		faults = append(faults, r.Fault)
	}
	if !slices.Equal(faults, []string{"", "500", "510", "drop", "drop"}) {
		t.Errorf("request log faults %q", faults)
	}
}
