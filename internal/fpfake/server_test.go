package fpfake_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

var (
	orderID    = regexp.MustCompile(`^ODR\d{10}$`)
	customerID = regexp.MustCompile(`^CSRT\d{10}$`)
)

// TestSubmitSeedExamples: each seed example is accepted with its endpoint's
// documented 201, FP's headers, and the order is stored with its reference.
func TestSubmitSeedExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind     fpclient.Kind
		message  string
		idKey    string
		urlKey   string
		urlShape *regexp.Regexp
		ref      string
	}{
		{fpclient.KindCheckout, "Order Submitted Successfully", "orderUuid", "paymentUrl", regexp.MustCompile(`^http://127\.0\.0\.1:\d+/checkout/[0-9a-f]{32}$`), ""},
		{fpclient.KindInvoice, "orderCreatedSuccessfully", "orderUuid", "bankIdUrl", regexp.MustCompile(`^http://127\.0\.0\.1:\d+/bankid/precheck/auth\?state=[\w-]+$`), "Dhaka"},
		{fpclient.KindHostedCheckout, "Payment Link Created Successfully", "orderUuid", "paymentUrl", regexp.MustCompile(`^http://127\.0\.0\.1:\d+/order/hosted/ODR\d{10}/checkout$`), "HC-7"},
		{fpclient.KindPaymentLink, "orderAddedSuccessfully", "uuid", "", nil, "Dhaka"},
	}
	for _, c := range cases {
		t.Run(string(c.kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, fpfake.Config{})
			doc := payload(t, c.kind)
			if c.kind == fpclient.KindHostedCheckout {
				set(doc, "referencesNo", "HC-7")
			}
			a := b.submit(t, c.kind, doc)
			if a.status != http.StatusCreated {
				t.Fatalf("status %d: %s", a.status, a.raw)
			}
			if got := a.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("content-type %q", got)
			}
			if a.header.Get("X-Ratelimit-Limit") != "240" || a.header.Get("X-Ratelimit-Remaining") != "239" {
				t.Errorf("rate-limit headers %q/%q, want 240/239", a.header.Get("X-Ratelimit-Limit"), a.header.Get("X-Ratelimit-Remaining"))
			}
			for k, want := range map[string]any{"status_code": json.Number("201"), "status_message": "OK", "message": c.message, "is_data": true} {
				if a.body[k] != want {
					t.Errorf("%s = %v, want %v", k, a.body[k], want)
				}
			}
			data := a.body["data"].(map[string]any)
			wantKeys := 2
			if c.urlKey != "" {
				wantKeys = 3
				if u, _ := data[c.urlKey].(string); !c.urlShape.MatchString(u) {
					t.Errorf("%s = %q", c.urlKey, u)
				}
			}
			if len(data) != wantKeys {
				t.Errorf("data has keys %v", data)
			}
			id, _ := data[c.idKey].(string)
			if !orderID.MatchString(id) {
				t.Errorf("%s = %q, want ODR + 10 digits", c.idKey, id)
			}
			if cu, _ := data["customerUuid"].(string); !customerID.MatchString(cu) {
				t.Errorf("customerUuid = %q, want CSRT + 10 digits", cu)
			}

			o, ok := b.srv.Order(id)
			if !ok {
				t.Fatalf("order %s not stored", id)
			}
			if o.Kind != c.kind || o.Reference != c.ref || o.Status != fpfake.InitialStatus || len(o.Body) == 0 {
				t.Errorf("stored %+v", o)
			}
			if n := b.srv.Creations(c.ref); n != 1 {
				t.Errorf("Creations(%q) = %d, want 1", c.ref, n)
			}
			// The same payload again is a second order: FP has no idempotency key.
			again := b.submit(t, c.kind, doc)
			if again.orderUUID(t) == id {
				t.Errorf("second submit returned the same uuid")
			}
			if n := b.srv.Creations(c.ref); n != 2 {
				t.Errorf("Creations(%q) = %d after two submits, want 2", c.ref, n)
			}
			if again.header.Get("X-Ratelimit-Remaining") != "238" {
				t.Errorf("remaining %q, want 238", again.header.Get("X-Ratelimit-Remaining"))
			}
			if got := len(b.srv.Orders()); got != 2 {
				t.Errorf("Orders() has %d", got)
			}
		})
	}
}

func TestSlashesEscapedAsLaravelDoes(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{BaseURL: "https://demo.frontpayment.no"})
	a := b.submit(t, fpclient.KindHostedCheckout, hostedPayload(t))
	if !strings.Contains(string(a.raw), `"paymentUrl":"https:\/\/demo.frontpayment.no\/order\/hosted\/ODR`) {
		t.Errorf("raw body %s", a.raw)
	}
}

func TestCheckoutWithoutCustomer(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	doc := checkoutPayload(t)
	set(doc, "withCustomer", false)
	del(doc, "customerDetails")
	a := b.submit(t, fpclient.KindCheckout, doc)
	data, _ := a.body["data"].(map[string]any)
	if a.status != http.StatusCreated || data["customerUuid"] != nil {
		t.Errorf("%d %s, want 201 with customerUuid null", a.status, a.raw)
	}
}

func TestPaymentLinkNullData(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{PaymentLinkNullData: true}})
	a := b.submit(t, fpclient.KindPaymentLink, paymentLinkPayload(t))
	want := `{"status_code":201,"status_message":"OK","message":"orderAddedSuccessfully","is_data":false,"data":null}`
	if a.status != http.StatusCreated || string(a.raw) != want {
		t.Errorf("got %d %s\nwant 201 %s", a.status, a.raw, want)
	}
	if b.srv.Creations("Dhaka") != 1 {
		t.Errorf("the order must exist even though its uuid was not answered")
	}
	// Other kinds are not affected.
	if a := b.submit(t, fpclient.KindInvoice, invoicePayload(t)); a.body["is_data"] != true {
		t.Errorf("invoice: %s", a.raw)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	body, _ := json.Marshal(invoicePayload(t))
	want := `{"status_code":401,"status_message":"Unauthorized","message":"Unauthenticated","is_error":true,"errors":[]}`
	for name, header := range map[string]string{
		"missing":      "",
		"wrong token":  "Bearer nope",
		"no scheme":    token,
		"basic scheme": "Basic " + token,
		"empty bearer": "Bearer ",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, path := range []string{fpclient.KindInvoice.Path(), "/api/v1/connect/orders/status/ODR1234567890"} {
				method := http.MethodPost
				if strings.Contains(path, "status") {
					method = http.MethodGet
				}
				req, _ := http.NewRequest(method, b.base+path, strings.NewReader(string(body)))
				req.Header.Set("Content-Type", "application/json")
				if header != "" {
					req.Header.Set("Authorization", header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || string(raw) != want {
					t.Errorf("%s: %d %s", path, resp.StatusCode, raw)
				}
			}
		})
	}
	if n := b.srv.Stats().Created; n != 0 {
		t.Errorf("created %d orders without auth", n)
	}
}

func TestStatusEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	rc := newReceiver(t, 0)
	doc := invoicePayload(t)
	set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
	id := b.submit(t, fpclient.KindInvoice, doc).orderUUID(t)

	a := b.status(t, id)
	want := `{"status_code":200,"status_message":"OK","message":"Order Status Retrieved Successfully","is_data":true,"data":{"uuid":"` + id + `","status":"SENT"}}`
	if a.status != http.StatusOK || string(a.raw) != want {
		t.Errorf("got %d %s\nwant %s", a.status, a.raw, want)
	}
	if err := b.srv.SetStatus(t.Context(), id, "PARTIAL REFUNDED"); err != nil {
		t.Fatal(err)
	}
	if a := b.status(t, id); !strings.Contains(string(a.raw), `"status":"PARTIAL REFUNDED"`) {
		t.Errorf("after SetStatus: %s", a.raw)
	}

	a = b.status(t, "ODR0000000000")
	want = `{"status_code":404,"status_message":"Not Found","message":"orderNotFound","is_data":false,"data":null}`
	if a.status != http.StatusNotFound || string(a.raw) != want {
		t.Errorf("unknown: %d %s", a.status, a.raw)
	}
	if a := b.do(t, http.MethodPost, "/api/v1/connect/orders/status/"+id, token, "", nil); a.status != http.StatusMethodNotAllowed {
		t.Errorf("POST status: %d", a.status)
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	if a := b.do(t, http.MethodGet, fpclient.KindCheckout.Path(), token, "", nil); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "POST" {
		t.Errorf("GET submit: %d %v", a.status, a.header)
	}
	if a := b.do(t, http.MethodPost, "/api/v1/connect/orders/nothing", token, "", nil); a.status != http.StatusNotFound || a.body["is_error"] != true {
		t.Errorf("unknown route: %d %s", a.status, a.raw)
	}
}

func TestPartnerUpdate(t *testing.T) {
	t.Parallel()
	for _, kind := range fpclient.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, fpfake.Config{})
			rc := newReceiver(t, 0)
			doc := payload(t, kind)
			set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
			id := b.submit(t, kind, doc).orderUUID(t)

			set(doc, "fpgoUuid", id)
			set(doc, "orderFrom", "PARTNER")
			set(doc, "products.0.name", "Renamed")
			a := b.submit(t, kind, doc)
			if a.status != http.StatusCreated || a.orderUUID(t) != id {
				t.Fatalf("update: %d %s, want 201 with %s", a.status, a.raw, id)
			}
			o, _ := b.srv.Order(id)
			if o.Updates != 1 || !strings.Contains(string(o.Body), "Renamed") {
				t.Errorf("stored order after update: updates %d body %s", o.Updates, o.Body)
			}
			if st := b.srv.Stats(); st.Created != 1 || st.Updated != 1 || len(b.srv.Orders()) != 1 {
				t.Errorf("stats %+v", st)
			}

			// Unknown order.
			set(doc, "fpgoUuid", "ODR0000000001")
			a = b.submit(t, kind, doc)
			want := `{"status_code":404,"status_message":"Not Found","message":"orderNotFound","is_error":true,"errors":[]}`
			if a.status != http.StatusNotFound || string(a.raw) != want {
				t.Errorf("unknown fpgoUuid: %d %s", a.status, a.raw)
			}

			// orderFrom missing.
			set(doc, "fpgoUuid", id)
			del(doc, "orderFrom")
			if a := b.submit(t, kind, doc); a.status != http.StatusExpectationFailed {
				t.Errorf("without orderFrom: %d %s", a.status, a.raw)
			}

			// Paid: FP refuses.
			if err := b.srv.SetStatus(t.Context(), id, "PAID"); err != nil {
				t.Fatal(err)
			}
			set(doc, "orderFrom", "PARTNER")
			a = b.submit(t, kind, doc)
			want = `{"status_code":400,"status_message":"Bad Request","message":"orderAlreadyPaid","is_error":true,"errors":[]}`
			if a.status != http.StatusBadRequest || string(a.raw) != want {
				t.Errorf("paid: %d %s", a.status, a.raw)
			}
		})
	}
}

func TestUpdateOtherKindIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	id := b.submit(t, fpclient.KindInvoice, invoicePayload(t)).orderUUID(t)
	doc := paymentLinkPayload(t)
	set(doc, "fpgoUuid", id)
	set(doc, "orderFrom", "PARTNER")
	if a := b.submit(t, fpclient.KindPaymentLink, doc); a.status != http.StatusNotFound {
		t.Errorf("invoice uuid on the payment-link endpoint: %d %s", a.status, a.raw)
	}
}

// TestAsHandler: the Server also works mounted in httptest, with payment
// URLs on the request's host.
func TestAsHandler(t *testing.T) {
	t.Parallel()
	srv := fpfake.New(fpfake.Config{Token: token, Plan: fpfake.NoCallbacks})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	b := &bundle{srv: srv, base: ts.URL}
	a := b.submit(t, fpclient.KindHostedCheckout, hostedPayload(t))
	data, _ := a.body["data"].(map[string]any)
	if u, _ := data["paymentUrl"].(string); !strings.HasPrefix(u, ts.URL+"/order/hosted/ODR") {
		t.Errorf("paymentUrl %q", u)
	}
}

func TestRequestLogAndStats(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	for range 5 {
		b.submit(t, fpclient.KindInvoice, invoicePayload(t))
	}
	b.do(t, http.MethodPost, fpclient.KindInvoice.Path(), "wrong", "application/json", nil)
	st := b.srv.Stats()
	if st.Requests != 6 || st.ByStatus[201] != 5 || st.ByStatus[401] != 1 || st.Created != 5 {
		t.Errorf("stats %+v", st)
	}
	sum := 0
	for _, s := range st.PerSecond {
		sum += s.Requests
	}
	if sum != 6 || st.MaxPerSecond() < 1 {
		t.Errorf("per second %+v", st.PerSecond)
	}
	log := b.srv.Requests()
	if len(log) != 6 || log[0].Kind != fpclient.KindInvoice || log[0].Status != 201 || !orderID.MatchString(log[0].OrderUUID) {
		t.Errorf("log %+v", log)
	}
}

// LoseCallback moves the status without a callback: only the status
// endpoint tells, with the rate-limit headers of any answer.
func TestLoseCallback(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	rc := newReceiver(t, 0)
	doc := invoicePayload(t)
	set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
	id := b.submit(t, fpclient.KindInvoice, doc).orderUUID(t)
	if err := b.srv.LoseCallback(id, "PAID"); err != nil {
		t.Fatal(err)
	}
	a := b.status(t, id)
	if a.status != http.StatusOK || !strings.Contains(string(a.raw), `"status":"PAID"`) || a.header.Get("x-ratelimit-remaining") != "238" {
		t.Errorf("after LoseCallback: %d %s %v", a.status, a.raw, a.header)
	}
	if o, _ := b.srv.Order(id); o.Status != "PAID" || len(o.History) != 2 {
		t.Errorf("order: %+v", o)
	}
	if n := rc.count(); n != 0 {
		t.Errorf("%d callbacks sent, want none", n)
	}
	if err := b.srv.LoseCallback("ODR0000000000", "PAID"); !errors.Is(err, fpfake.ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}
}
