package fpfake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// TestMain fails the package if any simulator goroutine outlives its test:
// every test closes its server, and Close must wait for everything it started.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(2 * time.Second)
		for {
			leaked := simulatorGoroutines()
			if leaked == "" {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "goroutines of fpfake.Server still running after all tests:\n%s\n", leaked)
				code = 1
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	os.Exit(code)
}

func simulatorGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "fpfake.(*Server)") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

const token = "test-token"

type bundle struct {
	srv  *fpfake.Server
	base string
}

// setup starts a simulator on loopback. Unless the test sets a Plan, no
// callbacks are sent (the seeds' callback URLs point at the internet).
func setup(t *testing.T, cfg fpfake.Config) *bundle {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = token
	}
	if cfg.Plan == nil {
		cfg.Plan = fpfake.NoCallbacks
	}
	srv := fpfake.New(cfg)
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &bundle{srv: srv, base: base}
}

// answer is one HTTP answer, with its body decoded when it is JSON.
type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (b *bundle) do(t *testing.T, method, path, bearer, contentType string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, b.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&a.body); err != nil {
			t.Fatalf("answer is not JSON: %v\n%s", err, raw)
		}
	}
	return a
}

func (b *bundle) submit(t *testing.T, kind fpclient.Kind, doc map[string]any) answer {
	t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b.do(t, http.MethodPost, kind.Path(), token, "application/json", body)
}

func (b *bundle) status(t *testing.T, uuid string) answer {
	t.Helper()
	return b.do(t, http.MethodGet, "/api/v1/connect/orders/status/"+uuid, token, "", nil)
}

// orderUUID is the order id of a 201, whatever the endpoint calls it.
func (a answer) orderUUID(t *testing.T) string {
	t.Helper()
	data, _ := a.body["data"].(map[string]any)
	for _, k := range []string{"orderUuid", "uuid"} {
		if s, ok := data[k].(string); ok {
			return s
		}
	}
	t.Fatalf("no order uuid in %d %s", a.status, a.raw)
	return ""
}

func (a answer) errors(t *testing.T) []string {
	t.Helper()
	list, ok := a.body["errors"].([]any)
	if !ok {
		t.Fatalf("errors is not a list: %s", a.raw)
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i], _ = e.(string)
	}
	return out
}

// --- the seeds' example payloads, fixed where they contradict themselves ---

func nowUnix() string { return strconv.FormatInt(time.Now().Unix(), 10) }

func parse(t *testing.T, s string) map[string]any {
	t.Helper()
	s = strings.ReplaceAll(s, "{{NOW}}", nowUnix())
	s = strings.ReplaceAll(s, "{{NEXTWEEK}}", strconv.FormatInt(time.Now().Add(7*24*time.Hour).Unix(), 10))
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return doc
}

// checkoutPayload is the checkout seed's example; only orderDate changed
// (the example's is in the past, and it must be today or later).
func checkoutPayload(t *testing.T) map[string]any {
	return parse(t, `{
	"products": [{"name": "Test Product", "productId": "1234", "quantity": 1, "rate": 4500, "discount": 0, "tax": 12, "amount": 4500}],
	"orderSummary": {"subTotal": 4017.86, "totalTax": 482.14, "totalDiscount": 0.00, "grandTotal": 4500.00, "shippingCost": 0.00},
	"referenceNo": "",
	"customerReference": "",
	"orderDate": "{{NOW}}",
	"withCustomer": true,
	"customerDetails": {
		"type": "private", "countryCode": "+47", "msisdn": "46567468", "email": "kari@nordmann.no",
		"name": "Kari Nordmann", "preferredLanguage": "en", "personalNumber": null, "organizationId": null,
		"address": {"street": "Luramyrveien 65", "zip": "4313", "city": "Sandnes", "country": "NO"}
	},
	"submitPayment": {"via": "visa"},
	"callback": {
		"callbackUrl": "https://your-callback-url.com/callback",
		"success": "https://your-callback-url.com/success",
		"failure": "https://your-callback-url.com/failure"
	}
}`)
}

// invoicePayload is the invoice seed's example, unchanged: its orderDate is
// in the past, which the invoice endpoint allows.
func invoicePayload(t *testing.T) map[string]any {
	return parse(t, `{
	"products": [{"name": "Router", "productId": "R_1", "quantity": "1", "rate": 40, "discount": 0, "tax": "0", "amount": 40}],
	"orderSummary": {"subTotal": "40", "totalTax": "0", "totalDiscount": "0.00", "grandTotal": "40"},
	"orderDate": "1755150488",
	"customerDetails": {
		"type": "private", "countryCode": "+47", "msisdn": "46567468", "email": "zahid@yopmail.com",
		"name": "Zahidul", "preferredLanguage": "en", "personalNumber": "28038712383", "organizationId": "",
		"address": {"street": "Klosterenget 144", "zip": "7030", "city": "Trondheim", "country": "NO"}
	},
	"referenceNo": "Dhaka",
	"customerReference": "3500",
	"invoiceInterval": 0,
	"separateInvoices": true,
	"invoiceFeeApplicable": true,
	"invoiceMaturity": 10,
	"callback": {
		"callbackUrl": "https://wp.frontpayment.no/?order_identifier=rRbl1FWZG59o&order_status=success",
		"success": "https://wp.frontpayment.no/?order_identifier=rRbl1FWZG59o&order_status=success",
		"failure": "https://frontpayment.no/?order_identifier=rRbl1FWZG59o&order_status=failed"
	}
}`)
}

// hostedPayload is the hosted-checkout seed's example with today's
// orderDate and a due date next week.
func hostedPayload(t *testing.T) map[string]any {
	return parse(t, `{
	"products": [{"name": "Router", "productId": "R_1", "quantity": "1", "rate": 5, "discount": 0, "tax": "0", "amount": 5}],
	"orderSummary": {"subTotal": "5", "totalTax": "0", "totalDiscount": "0.00", "grandTotal": "5"},
	"orderDate": "{{NOW}}",
	"dueDateForPaymentLink": "{{NEXTWEEK}}",
	"customerDetails": {
		"type": "private", "countryCode": "+47", "msisdn": "46567468", "email": "john_doe@yopmail.com",
		"name": "John Doe", "personalNumber": null, "organizationId": null,
		"address": {"street": "Klosterenget 144", "zip": "7030", "city": "Trondheim", "country": "NO"}
	},
	"checkoutLanguage": "en",
	"referencesNo": null,
	"customerNotes": null,
	"callback": {
		"callbackUrl": "https://your-callback-url.com/callback?order_identifier=rRbl1FWZG59o&order_status=failed",
		"success": "https://your-site-url.com/?order_identifier=rRbl1FWZG59o&order_status=success",
		"failure": "https://your-site-url.com/?order_identifier=rRbl1FWZG59o&order_status=failed"
	}
}`)
}

// paymentLinkPayload is the payment-link seed's example untangled: the
// garbled lines become isCreditCheckAvailable/invoiceAsPaymentOption
// booleans and a plain invoiceReferences object, the e-mail
// "example@domain.test@yopmail.com" (two @) becomes a valid one, and the
// private customer gets the personal number its table requires. products
// stay an object keyed "0", as the example sends them.
func paymentLinkPayload(t *testing.T) map[string]any {
	return parse(t, `{
	"products": {"0": {"name": "Hair Wash", "productId": "VFDDF", "quantity": "1", "rate": 51, "discount": 0, "tax": "0", "amount": 51}},
	"orderSummary": {"subTotal": "51.00", "totalTax": "0.00", "totalDiscount": "0.00", "grandTotal": "51.00"},
	"orderDate": "1754928405",
	"dueDateForPaymentLink": "1703040812",
	"sendOrderBy": {"sms": true, "email": false, "invoice": false},
	"invoiceAsPaymentOption": true,
	"isCreditCheckAvailable": true,
	"customerDetails": {
		"type": "private", "countryCode": "+47", "msisdn": "46567468", "email": "kari@yopmail.com",
		"customerUuid": "CSRT3672053467", "name": "Kari Nordmann", "preferredLanguage": "en",
		"personalNumber": "12345678901", "organizationId": null,
		"address": {"street": "Luramyrveien 65", "zip": "4313", "city": "Sandnes", "country": "NO"}
	},
	"invoiceReferences": {"referenceNo": "Dhaka", "customerReference": "3500", "receiptNo": "Cumilla", "customerNotes": "NO", "tnc": "adfsl"},
	"internalReferences": {"referenceNo": "Dhaka", "notes": "3500"},
	"callback": {"callbackUrl": "https://stg-api.frontpayment.no/api/v1/tests-callback"}
}`)
}

func payload(t *testing.T, k fpclient.Kind) map[string]any {
	switch k {
	case fpclient.KindCheckout:
		return checkoutPayload(t)
	case fpclient.KindInvoice:
		return invoicePayload(t)
	case fpclient.KindHostedCheckout:
		return hostedPayload(t)
	}
	return paymentLinkPayload(t)
}

// set puts v at a dotted path, creating objects on the way; a nil v with
// del removes the key instead.
func set(doc map[string]any, path string, v any) {
	walk(doc, path, func(m map[string]any, k string) { m[k] = v })
}

func del(doc map[string]any, path string) {
	walk(doc, path, func(m map[string]any, k string) { delete(m, k) })
}

func walk(doc map[string]any, path string, f func(map[string]any, string)) {
	segs := strings.Split(path, ".")
	var cur any = doc
	for _, seg := range segs[:len(segs)-1] {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[seg]
			if !ok || next == nil {
				next = map[string]any{}
				c[seg] = next
			}
			cur = next
		case []any:
			i, _ := strconv.Atoi(seg)
			cur = c[i]
		}
	}
	last := segs[len(segs)-1]
	switch c := cur.(type) {
	case map[string]any:
		f(c, last)
	case []any:
		i, _ := strconv.Atoi(last)
		m := map[string]any{last: c[i]}
		f(m, last)
		c[i] = m[last]
	}
}

// fakeClock is a settable clock for rate-limit windows.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// receiver is a merchant's callback endpoint: it records every callback
// and answers 500 to the first failFirst of them.
type receiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	failFirst int
	got       []*http.Request
	arrived   chan *http.Request
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	t.Helper()
	rc := &receiver{failFirst: failFirst, arrived: make(chan *http.Request, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		fail := len(rc.got) <= rc.failFirst
		rc.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rc.arrived <- r
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// next waits for the next callback answered 200.
func (rc *receiver) next(t *testing.T) *http.Request {
	t.Helper()
	select {
	case r := <-rc.arrived:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no callback within 5s")
		return nil
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}
