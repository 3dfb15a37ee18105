package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// FP answers 500 and 510 (its "try again later") before accepting: every
// order is created exactly once.
func TestFaultServerErrorsThenSuccess(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, fpfake.Config{Faults: fpfake.Faults{Fail500First: 3, Fail510First: 2}})
	start := time.Now()
	s.ImportCSV(t, "f.csv", daemontest.FourKinds)
	s.WaitSettled(t, start, false)
	for ref, r := range s.View(t) {
		if r.Status != "submitted" || s.Sim.Creations(ref) != 1 {
			t.Errorf("%s: %+v, created %d times", ref, r, s.Sim.Creations(ref))
		}
	}
	var attempts int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM submit_attempts`).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != 4+5 {
		t.Errorf("attempts = %d, want 9 (4 orders + 5 refused requests)", attempts)
	}
}

// FP creates the order and the connection drops before the answer. Invoice
// and payment link (they notify the customer) go to needs_review and are
// never resent; checkout kinds may be sent again.
func TestFaultDropAfterAccept(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, fpfake.Config{Faults: fpfake.Faults{DropFirst: 4}})
	start := time.Now()
	s.ImportCSV(t, "f.csv", daemontest.FourKinds)
	s.WaitSettled(t, start, false)
	got := s.View(t)
	for ref, want := range map[string]struct {
		status, exception string
		creations         int
	}{
		"F-INV": {"needs_review", "needs_review", 1},
		"F-PL":  {"needs_review", "needs_review", 1},
		"F-CO":  {"submitted", "", 2}, // a second, unused checkout session
		"F-HC":  {"submitted", "", 2},
	} {
		g := got[ref]
		if g.Status != want.status || g.Exception != want.exception || s.Sim.Creations(ref) != want.creations {
			t.Errorf("%s: %+v, created %d times; want %+v", ref, g, s.Sim.Creations(ref), want)
		}
	}
}

// 429 with Retry-After: the job waits as told and spends no River attempt.
func TestFaultRateLimited(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, fpfake.Config{Faults: fpfake.Faults{RateLimitNext: 2, RetryAfter: time.Second}})
	start := time.Now()
	s.ImportCSV(t, "f.csv", daemontest.FourKinds)
	s.WaitSettled(t, start, false)
	for ref, r := range s.View(t) {
		if r.Status != "submitted" || s.Sim.Creations(ref) != 1 {
			t.Errorf("%s: %+v", ref, r)
		}
	}
	var maxJobAttempt int
	if err := s.Pool.QueryRow(context.Background(), `SELECT max(attempt) FROM river_job WHERE kind = 'submit_order'`).Scan(&maxJobAttempt); err != nil {
		t.Fatal(err)
	}
	if maxJobAttempt != 1 {
		t.Errorf("a job spent %d River attempts; snoozes must not spend any", maxJobAttempt)
	}
}

// FP refuses the token: sending pauses for every worker (one probe per
// pause period, not a request per order), /readyz says so, nothing is
// rejected and no attempt is spent; once the token works every order goes
// out once.
func TestFaultAuthPausesSubmitting(t *testing.T) {
	t.Parallel()
	s := newStack(t, fpfake.Config{Plan: fpfake.NoCallbacks}, func(c *daemon.Config) {
		c.RetryBackoff = func(int) time.Duration { return 10 * time.Millisecond }
		c.AuthPause = 300 * time.Millisecond
		c.Concurrency = 2
	})
	s.Run(t)
	s.BadToken.Store(true)
	start := time.Now()
	var csv strings.Builder
	csv.WriteString(daemontest.CSVHeader)
	for i := range 30 {
		fmt.Fprintf(&csv, "A-%02d,invoice,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Storgata 1,0155,Oslo,NO,no,,Konsulenttime,1,1250.00,0,25,,,,,,,,\n", i)
	}
	if b := s.ImportCSV(t, "auth.csv", csv.String()); b[0].JobsQueued != 30 {
		t.Fatalf("imported %+v", b)
	}

	// /readyz turns 503 with the reason, while the orders wait; /healthz
	// (the process is up) stays 200 and shows the pause.
	health := func(path string) (int, map[string]any) {
		resp, err := http.Get("http://" + s.Cfg.ListenAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := health("/readyz")
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(fmt.Sprint(body["reason"]), "401") || body["status"] != "not ready" || body["submitting"] != "paused" {
				t.Fatalf("readyz while paused: %v", body)
			}
			if code, body := health("/healthz"); code != http.StatusOK || body["submitting"] != "paused" {
				t.Fatalf("healthz while paused: %d %v; want 200 showing the pause", code, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never reported the pause: %d %v", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let several pause periods pass: only probes reach FP, not 30 orders
	// each time.
	time.Sleep(2 * time.Second)
	refused := s.Sim.Stats().ByStatus[http.StatusUnauthorized]
	var notQueued, spent int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status NOT IN ('queued', 'submitting')) FROM orders`).Scan(&notQueued); err != nil {
		t.Fatal(err)
	}
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'submit_order' AND errors IS NOT NULL`).Scan(&spent); err != nil {
		t.Fatal(err)
	}
	if notQueued != 0 || spent != 0 {
		t.Fatalf("while paused: %d orders left the queue, %d jobs spent an attempt", notQueued, spent)
	}
	// 2 in flight when the first 401 came, then about one probe per 300 ms.
	if refused < 1 || refused > 2+2*int(2*time.Second/(300*time.Millisecond))+2 {
		t.Fatalf("%d requests refused during the pause; want the first few and one probe a period", refused)
	}

	s.BadToken.Store(false)
	s.WaitSettled(t, start, false)
	if code, body := health("/readyz"); code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("readyz after the token works again: %d %v", code, body)
	}
	for ref, r := range s.View(t) {
		if r.Status != "submitted" || s.Sim.Creations(ref) != 1 {
			t.Errorf("%s: %+v, created %d times", ref, r, s.Sim.Creations(ref))
		}
	}
}

// FP refuses the order (417): provider_rejected with FP's messages, no retry.
func TestFaultValidationRejected(t *testing.T) {
	t.Parallel()
	// The simulator's clock runs two days ahead, so the checkout kinds'
	// orderDate ("current or future") is in FP's past.
	s := startFaultStack(t, fpfake.Config{Now: func() time.Time { return time.Now().Add(48 * time.Hour) }})
	start := time.Now()
	s.ImportCSV(t, "f.csv", daemontest.FourKinds)
	s.WaitSettled(t, start, false)
	got := s.View(t)
	for _, ref := range []string{"F-CO", "F-HC"} {
		if g := got[ref]; g.Status != "provider_rejected" || g.Exception != "provider_rejected" || g.Attempts != 1 {
			t.Errorf("%s: %+v", ref, g)
		}
	}
	var lastErr string
	if err := s.Pool.QueryRow(context.Background(), `SELECT last_error FROM orders WHERE order_ref = 'F-CO'`).Scan(&lastErr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lastErr, "417") || !strings.Contains(strings.ToLower(lastErr), "order date") {
		t.Errorf("last_error = %q, want FP's 417 message", lastErr)
	}
	if got["F-INV"].Status != "submitted" {
		t.Errorf("invoice: %+v", got["F-INV"])
	}
}

// A worker died after writing an attempt and before recording its answer
// (simulated by an attempt row without outcome). The invoice must not be
// sent again; the checkout may.
func TestFaultUnrecordedAttempt(t *testing.T) {
	t.Parallel()
	s := newFaultStack(t, fpfake.Config{})
	start := time.Now()
	s.ImportCSV(t, "f.csv", daemontest.FourKinds)
	if _, err := s.Pool.Exec(context.Background(), `INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt)
		SELECT id, 1, version, 0, 1 FROM orders`); err != nil {
		t.Fatal(err)
	}
	s.Run(t)
	s.WaitSettled(t, start, false)
	got := s.View(t)
	for ref, want := range map[string]string{"F-INV": "needs_review", "F-PL": "needs_review", "F-CO": "submitted", "F-HC": "submitted"} {
		if got[ref].Status != want {
			t.Errorf("%s: %+v, want %s", ref, got[ref], want)
		}
	}
	if s.Sim.Creations("F-INV")+s.Sim.Creations("F-PL") != 0 {
		t.Error("an order with an unrecorded attempt was sent again")
	}
}

// The payment-link seed's other 201 has no order id: the order is
// submitted, and the first callback attaches FP's id.
func TestPaymentLinkWithoutOrderID(t *testing.T) {
	t.Parallel()
	s := startStackWith(t, fpfake.Config{CallbackDelay: 20 * time.Millisecond, Plan: func(fpfake.Order) []string { return []string{"SENT"} },
		Faults: fpfake.Faults{PaymentLinkNullData: true}}, nil)
	start := time.Now()
	s.ImportCSV(t, "f.csv", daemontest.CSVHeader+strings.Split(daemontest.FourKinds, "\n")[2]+"\n")
	s.WaitSettled(t, start, true)
	g := s.View(t)["F-PL"]
	if g.Status != "sent" || !strings.HasPrefix(g.FPUUID, "ODR") || s.Sim.Creations("F-PL") != 1 {
		t.Errorf("F-PL: %+v", g)
	}
}

// A checkout whose answer was lost may be retried, but FP's callback, when
// it comes first, settles it: FP has the order, nothing is sent again.
func TestFaultDropThenCallbackBeforeRetry(t *testing.T) {
	t.Parallel()
	s := startStackWith(t, fpfake.Config{CallbackDelay: 20 * time.Millisecond, Plan: func(fpfake.Order) []string { return []string{"SENT"} },
		Faults: fpfake.Faults{DropFirst: 1}}, func(c *daemon.Config) {
		c.RetryBackoff = func(int) time.Duration { return time.Second }
	})
	start := time.Now()
	s.ImportCSV(t, "f.csv", daemontest.CSVHeader+strings.Split(daemontest.FourKinds, "\n")[3]+"\n")
	s.WaitSettled(t, start, true)
	if g := s.View(t)["F-CO"]; g.Status != "sent" || !strings.HasPrefix(g.FPUUID, "ODR") || s.Sim.Creations("F-CO") != 1 {
		t.Errorf("F-CO: %+v, created %d times; want sent, once", g, s.Sim.Creations("F-CO"))
	}
}
