package fpfake_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// statuses submits n valid invoices and returns the HTTP statuses.
func (b *bundle) statuses(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	for range n {
		out = append(out, b.submit(t, fpclient.KindInvoice, invoicePayload(t)).status)
	}
	return out
}

func TestLatency(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{Latency: 150 * time.Millisecond}})
	start := time.Now()
	b.submit(t, fpclient.KindInvoice, invoicePayload(t))
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v, want ≥150ms", d)
	}
}

func TestFail500(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{Fail500First: 2}})
	a := b.submit(t, fpclient.KindInvoice, invoicePayload(t))
	if a.status != 500 {
		t.Fatalf("status %d", a.status)
	}
	for k, want := range map[string]any{
		"status_code": json.Number("500"), "status_message": "Internal Dependency Error",
		"message": "Internal Error Occurred Please Try Again Later", "is_error": true,
	} {
		if a.body[k] != want {
			t.Errorf("%s = %v, want %v", k, a.body[k], want)
		}
	}
	errs, _ := a.body["errors"].(map[string]any)
	if at, _ := errs["happenedAt"].(string); at == "" {
		t.Errorf("errors.happenedAt missing: %s", a.raw)
	}
	if details, ok := errs["internalErrorDetails"].([]any); !ok || len(details) != 0 {
		t.Errorf("errors.internalErrorDetails: %s", a.raw)
	}
	if a.header.Get("X-Ratelimit-Limit") != "240" {
		t.Errorf("500 without FP's headers")
	}
	if got := b.statuses(t, 2); !slices.Equal(got, []int{500, 201}) {
		t.Errorf("then %v, want [500 201]", got)
	}
	if st := b.srv.Stats(); st.Created != 1 || b.srv.Creations("Dhaka") != 1 {
		t.Errorf("a 500 must not create the order: %+v", st)
	}
}

func TestFail510(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{Fail500First: 1, Fail510First: 1}})
	if got := b.statuses(t, 3); !slices.Equal(got, []int{500, 510, 201}) {
		t.Errorf("statuses %v, want [500 510 201]", got)
	}
	b.srv.SetFaults(fpfake.Faults{Fail510First: 1})
	a := b.submit(t, fpclient.KindCheckout, checkoutPayload(t))
	want := `{"status_code":510,"status_message":"Execution Exception Occurred","message":"Something Went Wrong","is_error":true,"errors":[]}`
	if a.status != 510 || string(a.raw) != want {
		t.Errorf("got %d %s", a.status, a.raw)
	}
}

// TestPaymentLinkServerErrors: the payment-link seed spells them as keys.
func TestPaymentLinkServerErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{Fail500First: 1, Fail510First: 1}})
	for _, want := range []string{"internalErrorOccurredPleaseTryAgainLater", "somethingWentWrong"} {
		if a := b.submit(t, fpclient.KindPaymentLink, paymentLinkPayload(t)); a.body["message"] != want {
			t.Errorf("got %d %s, want message %q", a.status, a.raw, want)
		}
	}
}

func TestFailRateIsSpreadEvenly(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{Fail500Rate: 0.5}})
	if got := b.statuses(t, 4); !slices.Equal(got, []int{500, 201, 500, 201}) {
		t.Errorf("statuses %v", got)
	}
	b.srv.SetFaults(fpfake.Faults{Fail510Rate: 0.25})
	if got := b.statuses(t, 8); !slices.Equal(got, []int{510, 201, 201, 201, 510, 201, 201, 201}) {
		t.Errorf("statuses %v", got)
	}
}

func TestSeededRateRepeats(t *testing.T) {
	t.Parallel()
	f := fpfake.Faults{Fail500Rate: 0.3, Seed: 42}
	one := setup(t, fpfake.Config{Faults: f}).statuses(t, 20)
	two := setup(t, fpfake.Config{Faults: f}).statuses(t, 20)
	if !slices.Equal(one, two) || !slices.Contains(one, 500) || !slices.Contains(one, 201) {
		t.Errorf("same seed, different runs: %v vs %v", one, two)
	}
}

func TestRateLimitNext(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{RateLimitNext: 2, RetryAfter: 2500 * time.Millisecond}})
	a := b.submit(t, fpclient.KindInvoice, invoicePayload(t))
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "3" || a.body["message"] != "Too Many Attempts." {
		t.Errorf("got %d Retry-After %q %s", a.status, a.header.Get("Retry-After"), a.raw)
	}
	if got := b.statuses(t, 2); !slices.Equal(got, []int{429, 201}) {
		t.Errorf("then %v", got)
	}
	if b.srv.Stats().Created != 1 {
		t.Errorf("429 created an order")
	}
}

func TestLimitPerMinute(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 3, 2, 12, 0, 30, 0, time.UTC)}
	b := setup(t, fpfake.Config{Now: clock.Now, Faults: fpfake.Faults{LimitPerMinute: 3}})
	for i, want := range []string{"2", "1", "0"} {
		a := b.submit(t, fpclient.KindInvoice, invoicePayload(t))
		if a.status != 201 || a.header.Get("X-Ratelimit-Limit") != "3" || a.header.Get("X-Ratelimit-Remaining") != want {
			t.Errorf("request %d: %d limit %q remaining %q", i, a.status, a.header.Get("X-Ratelimit-Limit"), a.header.Get("X-Ratelimit-Remaining"))
		}
	}
	a := b.submit(t, fpclient.KindInvoice, invoicePayload(t))
	if a.status != 429 || a.header.Get("Retry-After") != "30" {
		t.Errorf("4th: %d Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	// The status endpoint counts too: FP's throttle is per token.
	if a := b.status(t, "ODR0000000000"); a.status != 429 {
		t.Errorf("status endpoint over the limit: %d", a.status)
	}
	clock.Add(30 * time.Second)
	if a := b.submit(t, fpclient.KindInvoice, invoicePayload(t)); a.status != 201 || a.header.Get("X-Ratelimit-Remaining") != "2" {
		t.Errorf("next minute: %d remaining %q", a.status, a.header.Get("X-Ratelimit-Remaining"))
	}
}

func TestGatewayBeforeFP(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{GatewayFirst: 1, GatewayStatus: 503}})
	a := b.submit(t, fpclient.KindInvoice, invoicePayload(t))
	if a.status != 503 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !bytes.Contains(a.raw, []byte("<h1>503 Service Unavailable</h1>")) {
		t.Errorf("got %d %q %s", a.status, a.header.Get("Content-Type"), a.raw)
	}
	if b.srv.Stats().Created != 0 {
		t.Errorf("gateway error before FP created an order")
	}
	// The gateway stands before auth: even a bad token sees it.
	b.srv.SetFaults(fpfake.Faults{GatewayFirst: 1})
	if a := b.do(t, http.MethodPost, fpclient.KindInvoice.Path(), "wrong", "application/json", nil); a.status != 502 {
		t.Errorf("default gateway status %d, want 502", a.status)
	}
}

func TestGatewayAfterCreate(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{GatewayAfterFirst: 1, GatewayStatus: 504}})
	a := b.submit(t, fpclient.KindPaymentLink, paymentLinkPayload(t))
	if a.status != 504 || !bytes.Contains(a.raw, []byte("Gateway Timeout")) {
		t.Errorf("got %d %s", a.status, a.raw)
	}
	if b.srv.Creations("Dhaka") != 1 {
		t.Errorf("the order must exist at FP")
	}
	// A 417 does not spend the fault.
	b.srv.SetFaults(fpfake.Faults{GatewayAfterFirst: 1})
	doc := paymentLinkPayload(t)
	del(doc, "orderDate")
	if a := b.submit(t, fpclient.KindPaymentLink, doc); a.status != 417 {
		t.Errorf("invalid: %d", a.status)
	}
	if got := b.srv.Faults().GatewayAfterFirst; got != 1 {
		t.Errorf("GatewayAfterFirst left %d, want 1", got)
	}
}

func TestAcceptThenDrop(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{DropFirst: 1}})
	body, _ := json.Marshal(invoicePayload(t))
	req, _ := http.NewRequest(http.MethodPost, b.base+fpclient.KindInvoice.Path(), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer %d, want the connection dropped", resp.StatusCode)
	}
	st := b.srv.Stats()
	if st.Created != 1 || st.ByStatus[0] != 1 || b.srv.Creations("Dhaka") != 1 {
		t.Errorf("stats %+v", st)
	}
	if log := b.srv.Requests(); log[0].Fault != "drop" || log[0].Status != 0 {
		t.Errorf("log %+v", log[0])
	}
	if got := b.statuses(t, 1); got[0] != 201 {
		t.Errorf("next: %v", got)
	}
}

func TestFaultsFlipMidRun(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	if got := b.statuses(t, 1); got[0] != 201 {
		t.Fatalf("healthy: %v", got)
	}
	b.srv.UpdateFaults(func(f *fpfake.Faults) { f.Fail500First = 1 })
	if got := b.statuses(t, 2); !slices.Equal(got, []int{500, 201}) {
		t.Errorf("after UpdateFaults: %v", got)
	}
	if f := b.srv.Faults(); f.Fail500First != 0 {
		t.Errorf("counter left %d", f.Fail500First)
	}
}

func TestIncludeStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{Fail500First: 1}})
	if a := b.status(t, "ODR0000000000"); a.status != 404 {
		t.Errorf("status endpoint hit by a create fault: %d", a.status)
	}
	if b.srv.Faults().Fail500First != 1 {
		t.Errorf("status request spent the counter")
	}
	b.srv.UpdateFaults(func(f *fpfake.Faults) { f.IncludeStatus = true })
	if a := b.status(t, "ODR0000000000"); a.status != 500 {
		t.Errorf("with IncludeStatus: %d", a.status)
	}
}

// TestConcurrentFaults hammers the server while faults change, for the race
// detector, and checks the books balance.
func TestConcurrentFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	body, _ := json.Marshal(invoicePayload(t))
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				req, _ := http.NewRequest(http.MethodPost, b.base+fpclient.KindInvoice.Path(), bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			b.srv.UpdateFaults(func(f *fpfake.Faults) {
				f.Fail500Rate = float64(i%3) / 4
				f.DropRate = float64(i%2) / 5
				f.GatewayAfterRate = 0.1
			})
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()
	st := b.srv.Stats()
	if st.Requests != 200 {
		t.Errorf("requests %d", st.Requests)
	}
	if st.Created != st.ByStatus[201]+st.ByStatus[502]+st.ByStatus[0] {
		t.Errorf("created %d, answered 201 %d, gateway-after %d, dropped %d", st.Created, st.ByStatus[201], st.ByStatus[502], st.ByStatus[0])
	}
	if st.Created+st.ByStatus[500] != 200 || b.srv.Creations("Dhaka") != st.Created {
		t.Errorf("stats %+v", st)
	}
}
