package fpfake_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// sha is the checksum computed independently of the package under test.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestChecksumMatchesSeedExample(t *testing.T) {
	t.Parallel()
	// From the payment-link seed's "Handling Callback" example URL.
	const want = "e076f553a751a0d04b929d40f086d4cb89ae3942a5bc170ccad336b3ab185ce9"
	if got := fpfake.Checksum("ODR10293993", "PAID", "1753079134", ""); got != want {
		t.Errorf("Checksum = %s, want the seed's %s", got, want)
	}
}

var digits = regexp.MustCompile(`^\d+$`)

func TestCallbacks(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		key, path, prefix string
	}{
		"keyless, plain URL":       {"", "/cb", "orderUuid="},
		"keyless, URL with query":  {"", "/cb?ref=1&token=x", "ref=1&token=x&orderUuid="},
		"with key, URL with query": {"s3cret", "/cb?ref=1&token=x", "ref=1&token=x&orderUuid="},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, 0)
			b := setup(t, fpfake.Config{ChecksumKey: c.key, Plan: fpfake.DefaultPlan, CallbackDelay: 10 * time.Millisecond})
			doc := invoicePayload(t)
			set(doc, "callback.callbackUrl", rc.srv.URL+c.path)
			id := b.submit(t, fpclient.KindInvoice, doc).orderUUID(t)

			for _, wantStatus := range []string{"SENT", "PAID"} {
				r := rc.next(t)
				if r.Method != http.MethodGet || r.URL.Path != "/cb" {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				if !strings.HasPrefix(r.URL.RawQuery, c.prefix+id+"&status="+wantStatus+"&createdAt=") {
					t.Errorf("query %q, want it to start %q", r.URL.RawQuery, c.prefix+id+"&status="+wantStatus)
				}
				q := r.URL.Query()
				if strings.Contains(c.path, "?") && (q.Get("ref") != "1" || q.Get("token") != "x") {
					t.Errorf("merchant's own parameters lost: %q", r.URL.RawQuery)
				}
				created := q.Get("createdAt")
				if !digits.MatchString(created) || !digits.MatchString(q.Get("timestamp")) {
					t.Errorf("createdAt %q timestamp %q", created, q.Get("timestamp"))
				}
				if want := sha(id + wantStatus + created + c.key); q.Get("checksum") != want {
					t.Errorf("checksum %s, want %s", q.Get("checksum"), want)
				}
			}
			if a := b.status(t, id); !strings.Contains(string(a.raw), `"status":"PAID"`) {
				t.Errorf("status after callbacks: %s", a.raw)
			}
			o, _ := b.srv.Order(id)
			if len(o.History) != 3 || o.History[2].Status != "PAID" {
				t.Errorf("history %+v", o.History)
			}
		})
	}
}

func TestCallbackURL(t *testing.T) {
	t.Parallel()
	sum := sha("ODR1PAID10")
	for base, want := range map[string]string{
		"https://x.no/cb":           "https://x.no/cb?orderUuid=ODR1&status=PAID&createdAt=10&timestamp=11&checksum=" + sum,
		"https://x.no/cb?":          "https://x.no/cb?orderUuid=ODR1&status=PAID&createdAt=10&timestamp=11&checksum=" + sum,
		"https://x.no/cb?a=1":       "https://x.no/cb?a=1&orderUuid=ODR1&status=PAID&createdAt=10&timestamp=11&checksum=" + sum,
		"https://x.no/cb?a=1#frag":  "https://x.no/cb?a=1&orderUuid=ODR1&status=PAID&createdAt=10&timestamp=11&checksum=" + sum + "#frag",
		"https://x.no/cb?a=1&token": "https://x.no/cb?a=1&token&orderUuid=ODR1&status=PAID&createdAt=10&timestamp=11&checksum=" + sum,
	} {
		if got := fpfake.CallbackURL(base, "ODR1", "PAID", 10, 11, ""); got != want {
			t.Errorf("CallbackURL(%q)\n got %s\nwant %s", base, got, want)
		}
	}
	got := fpfake.CallbackURL("https://x.no/cb", "ODR1", "PARTIAL REFUNDED", 10, 11, "k")
	if !strings.Contains(got, "status=PARTIAL+REFUNDED&") || !strings.HasSuffix(got, sha("ODR1PARTIAL REFUNDED10k")) {
		t.Errorf("status with a space: %s", got)
	}
}

func TestPlanSeesTheOrder(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	plan := func(o fpfake.Order) []string {
		if o.Kind == fpclient.KindInvoice && o.Reference == "Dhaka" {
			return []string{"INVOICED"}
		}
		return []string{"FAILED"}
	}
	b := setup(t, fpfake.Config{Plan: plan, CallbackDelay: time.Millisecond})
	doc := invoicePayload(t)
	set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
	b.submit(t, fpclient.KindInvoice, doc)
	if got := rc.next(t).URL.Query().Get("status"); got != "INVOICED" {
		t.Errorf("status %q", got)
	}
}

func TestCallbackRetries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 2)
	b := setup(t, fpfake.Config{
		Plan:            func(fpfake.Order) []string { return []string{"PAID"} },
		CallbackDelay:   time.Millisecond,
		CallbackBackoff: 5 * time.Millisecond,
	})
	doc := invoicePayload(t)
	set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
	b.submit(t, fpclient.KindInvoice, doc)
	r := rc.next(t)
	if n := rc.count(); n != 3 {
		t.Errorf("receiver saw %d calls, want 2 failures then 1 success", n)
	}
	// Same createdAt, same checksum on every try.
	rc.mu.Lock()
	first := rc.got[0].URL.Query()
	rc.mu.Unlock()
	if first.Get("checksum") != r.URL.Query().Get("checksum") {
		t.Errorf("checksum changed between tries")
	}
	waitFor(t, func() bool { st := b.srv.Stats(); return st.CallbacksDelivered == 1 })
	if st := b.srv.Stats(); st.CallbackAttempts != 3 || st.CallbacksFailed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestCallbackGivesUp(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 1000)
	b := setup(t, fpfake.Config{
		Plan:            func(fpfake.Order) []string { return []string{"PAID"} },
		CallbackDelay:   time.Millisecond,
		CallbackRetries: 2,
		CallbackBackoff: time.Millisecond,
	})
	doc := invoicePayload(t)
	set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
	id := b.submit(t, fpclient.KindInvoice, doc).orderUUID(t)
	waitFor(t, func() bool { return b.srv.Stats().CallbacksFailed == 1 })
	if n := rc.count(); n != 3 {
		t.Errorf("receiver saw %d calls, want 1 + 2 retries", n)
	}
	// The status changed at FP all the same.
	if o, _ := b.srv.Order(id); o.Status != "PAID" {
		t.Errorf("status %s", o.Status)
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	b := setup(t, fpfake.Config{})
	doc := checkoutPayload(t)
	set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
	id := b.submit(t, fpclient.KindCheckout, doc).orderUUID(t)

	if err := b.srv.SetStatus(t.Context(), id, "CANCELLED"); err != nil {
		t.Fatal(err)
	}
	// Delivered before SetStatus returned.
	if rc.count() != 1 {
		t.Errorf("receiver saw %d calls", rc.count())
	}
	if got := rc.next(t).URL.Query().Get("status"); got != "CANCELLED" {
		t.Errorf("status %q", got)
	}
	if err := b.srv.SetStatus(t.Context(), "ODR0000000000", "PAID"); !errors.Is(err, fpfake.ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}
	b.srv.Close()
	if err := b.srv.SetStatus(t.Context(), id, "PAID"); !errors.Is(err, fpfake.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestCloseStopsCallbacks: pending callbacks are cancelled, Close waits
// for their goroutines (TestMain checks none survive) and returns promptly.
func TestCloseStopsCallbacks(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	b := setup(t, fpfake.Config{Plan: fpfake.DefaultPlan, CallbackDelay: time.Hour})
	for range 10 {
		doc := invoicePayload(t)
		set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
		b.submit(t, fpclient.KindInvoice, doc)
	}
	start := time.Now()
	if err := b.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if rc.count() != 0 {
		t.Errorf("callbacks sent after Close")
	}
	if _, err := http.Get(b.base + "/"); err == nil {
		t.Errorf("still serving after Close")
	}
}

// TestCloseDuringRetries: a callback in its backoff stops at Close.
func TestCloseDuringRetries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 1000)
	b := setup(t, fpfake.Config{
		Plan:            func(fpfake.Order) []string { return []string{"PAID"} },
		CallbackDelay:   time.Millisecond,
		CallbackBackoff: time.Hour,
	})
	doc := invoicePayload(t)
	set(doc, "callback.callbackUrl", rc.srv.URL+"/cb")
	b.submit(t, fpclient.KindInvoice, doc)
	waitFor(t, func() bool { return rc.count() == 1 })
	start := time.Now()
	b.srv.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
