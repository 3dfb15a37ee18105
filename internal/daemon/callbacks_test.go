package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/jobs"
)

// sendCallback calls the worker as FP would, with a valid token and checksum.
func (s *stack) sendCallback(t *testing.T, orderID int64, uuid, status string, createdAt int64) int {
	t.Helper()
	created := strconv.FormatInt(createdAt, 10)
	u := callbackurl.For(s.Cfg.CallbackBaseURL, s.Cfg.CallbackSecret, orderID) + "&" + url.Values{
		"orderUuid": {uuid}, "status": {status}, "createdAt": {created}, "timestamp": {created},
		"checksum": {fpclient.Checksum(uuid, status, created, s.Cfg.ChecksumKey)},
	}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (s *stack) waitCallbacksApplied(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var pending int
		// A failing query fails the test: a zero it never read must not end the wait.
		if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM callbacks WHERE verdict = 'accepted' AND result IS NULL`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callbacks not applied", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *stack) orderState(t *testing.T, id int64) (status, fpStatus, dup string) {
	t.Helper()
	if err := s.Pool.QueryRow(context.Background(), `SELECT status, coalesce(fp_status, ''), coalesce(possible_duplicate, '') FROM orders WHERE id = $1`, id).
		Scan(&status, &fpStatus, &dup); err != nil {
		t.Fatal(err)
	}
	return
}

// Replays change nothing; an older callback arriving late never moves the
// status back; a second FP order for our reference is flagged.
func TestCallbackReplayOrderAndDuplicate(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	t0 := time.Now().Unix()

	if code := s.sendCallback(t, id, uuid, "PAID", t0+10); code != 200 {
		t.Fatalf("PAID: HTTP %d", code)
	}
	s.waitCallbacksApplied(t)
	// A late SENT (older createdAt), then a replay of PAID.
	s.sendCallback(t, id, uuid, "SENT", t0)
	s.waitCallbacksApplied(t)
	if st, fp, _ := s.orderState(t, id); st != "paid" || fp != "PAID" {
		t.Errorf("after a late SENT: %s/%s, want paid/PAID", st, fp)
	}
	s.sendCallback(t, id, uuid, "PAID", t0+10)
	s.waitCallbacksApplied(t)
	var events int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM order_events WHERE order_id = $1 AND type = 'callback'`, id).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if st, fp, _ := s.orderState(t, id); st != "paid" || fp != "PAID" || events != 3 {
		t.Errorf("after a replay: %s/%s, %d callback events; want paid/PAID, 3", st, fp, events)
	}
	// Refund moves on; an unknown status is kept but moves nothing.
	s.sendCallback(t, id, uuid, "REFUNDED", t0+20)
	s.waitCallbacksApplied(t)
	s.sendCallback(t, id, uuid, "ON HOLD", t0+30)
	s.waitCallbacksApplied(t)
	if st, fp, _ := s.orderState(t, id); st != "refunded" || fp != "ON HOLD" {
		t.Errorf("after refund and unknown: %s/%s, want refunded/ON HOLD", st, fp)
	}
	// Another FP order for the same reference: possible duplicate, status kept.
	s.sendCallback(t, id, "ODR9999999999", "PAID", t0+40)
	s.waitCallbacksApplied(t)
	if st, _, dup := s.orderState(t, id); st != "refunded" || dup != "ODR9999999999" {
		t.Errorf("duplicate: status %s, possible_duplicate %q", st, dup)
	}
	var exception string
	if err := s.Pool.QueryRow(context.Background(), `SELECT exception FROM reconciliation_orders WHERE order_id = $1`, id).Scan(&exception); err != nil {
		t.Fatal(err)
	}
	if exception != "possible_duplicate" {
		t.Errorf("exception = %q, want possible_duplicate", exception)
	}
}

// An invoice whose answer was lost (needs_review) is resolved by FP's
// callback: it takes FP's orderUuid and moves on.
func TestCallbackResolvesNeedsReview(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{CallbackDelay: 20 * time.Millisecond, Plan: func(fpfake.Order) []string { return []string{"SENT"} },
		Faults: fpfake.Faults{DropFirst: 1}})
	start := time.Now()
	s.ImportCSV(t, "one.csv", daemontest.CSVHeader+strings.Split(daemontest.E2EFile, "\n")[1]+"\n")
	s.WaitSettled(t, start, false)
	s.waitCallbacksApplied(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := s.View(t)["E-1"]
		if v.Status == "sent" && strings.HasPrefix(v.FPUUID, "ODR") && s.Sim.Creations("E-1") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("E-1 not resolved by its callback: %+v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An unknown status arrives first, the older SENT after it: fp_status keeps
// FP's latest word, and our status still moves forward to sent.
func TestLateKnownStatusAfterUnknown(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	t0 := time.Now().Unix()
	s.sendCallback(t, id, uuid, "MYSTERY STATUS", t0+5)
	s.waitCallbacksApplied(t)
	s.sendCallback(t, id, uuid, "SENT", t0)
	s.waitCallbacksApplied(t)
	if st, fp, _ := s.orderState(t, id); st != "sent" || fp != "MYSTERY STATUS" {
		t.Errorf("got %s/%s, want sent/MYSTERY STATUS", st, fp)
	}
}

// submittedInvoice imports daemontest.E2EFile's first order (an invoice), waits until
// FP accepted it, and returns our id and FP's orderUuid.
func (s *stack) submittedInvoice(t *testing.T) (int64, string) {
	t.Helper()
	start := time.Now()
	s.ImportCSV(t, "one.csv", daemontest.CSVHeader+strings.Split(daemontest.E2EFile, "\n")[1]+"\n")
	s.WaitSettled(t, start, false)
	var id int64
	var uuid string
	if err := s.Pool.QueryRow(context.Background(), `SELECT id, fp_order_uuid FROM orders`).Scan(&id, &uuid); err != nil {
		t.Fatal(err)
	}
	return id, uuid
}

// A sender that appends FP's parameters with a second "?", or POSTs them as a
// form or JSON, is understood the same as the seeds' GET.
func TestCallbackVariantsAreUnderstood(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	base := callbackurl.For(s.Cfg.CallbackBaseURL, s.Cfg.CallbackSecret, id)
	t0 := time.Now().Unix()
	params := func(status string, at int64) url.Values {
		c := strconv.FormatInt(at, 10)
		return url.Values{"orderUuid": {uuid}, "status": {status}, "createdAt": {c}, "checksum": {fpclient.Checksum(uuid, status, c, s.Cfg.ChecksumKey)}}
	}
	send := func(req *http.Request) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: HTTP %d", req.Method, req.URL.RawQuery, resp.StatusCode)
		}
		s.waitCallbacksApplied(t)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"?"+params("SENT", t0).Encode(), nil)
	send(req)
	if st, fp, _ := s.orderState(t, id); st != "sent" || fp != "SENT" {
		t.Errorf("second '?': %s/%s", st, fp)
	}
	req, _ = http.NewRequest(http.MethodPost, base, strings.NewReader(params("RESERVED", t0+1).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	send(req)
	if st, _, _ := s.orderState(t, id); st != "reserved" {
		t.Errorf("form POST: %s", st)
	}
	c := strconv.FormatInt(t0+2, 10)
	body := fmt.Sprintf(`{"orderUuid":%q,"status":"PAID","createdAt":%s,"checksum":%q}`, uuid, c, fpclient.Checksum(uuid, "PAID", c, s.Cfg.ChecksumKey))
	req, _ = http.NewRequest(http.MethodPost, base, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	send(req)
	if st, _, _ := s.orderState(t, id); st != "paid" {
		t.Errorf("JSON POST: %s", st)
	}
}

// storedCallback is a row of the callbacks table as the tests read it.
type storedCallback struct {
	Verdict, Raw, Remote, FPUUID, FPStatus string
	OrderID                                *int64
	ReceivedAt                             time.Time
}

// lastCallback reads the callback stored last.
func (s *stack) lastCallback(t *testing.T) storedCallback {
	t.Helper()
	var c storedCallback
	if err := s.Pool.QueryRow(context.Background(), `SELECT verdict, raw_query, remote_addr, fp_order_uuid, fp_status, order_id, received_at
		FROM callbacks ORDER BY id DESC LIMIT 1`).Scan(&c.Verdict, &c.Raw, &c.Remote, &c.FPUUID, &c.FPStatus, &c.OrderID, &c.ReceivedAt); err != nil {
		t.Fatal(err)
	}
	return c
}

// doRequest sends a request and returns its HTTP status.
// A callback whose token and checksum check out for an order we do not have
// is an orphan: stored as such, with no order and no job, answered 200 (FP
// must not resend it for ever), and the orders we have are untouched.
func TestOrphanCallback(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, _ := s.submittedInvoice(t)
	before := time.Now()
	const missing = 987654321
	if code := s.sendCallback(t, missing, "ODR4242424242", "PAID", time.Now().Unix()); code != http.StatusOK {
		t.Errorf("orphan callback answered HTTP %d, want 200", code)
	}
	c := s.lastCallback(t)
	if c.Verdict != "orphan" || c.OrderID != nil || c.FPUUID != "ODR4242424242" || c.FPStatus != "PAID" ||
		!strings.Contains(c.Raw, "ref=987654321") || c.Remote != "127.0.0.1" || c.ReceivedAt.Before(before.Add(-time.Second)) {
		t.Errorf("stored orphan: %+v", c)
	}
	var jobs int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'apply_callback'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if st, fp, _ := s.orderState(t, id); st != "submitted" || fp != "" || jobs != 0 {
		t.Errorf("after an orphan: order %s/%q, %d apply jobs; want submitted, no FP status, no job", st, fp, jobs)
	}
}

// Every request to the callback path is stored, with its source address and
// arrival time, also those refused for their size or form, and those whose
// values PostgreSQL text cannot hold; none of them moves an order.
func TestEveryCallbackIsStored(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	base := s.Cfg.CallbackBaseURL + callbackurl.Path + "?"
	valid := callbackurl.For(s.Cfg.CallbackBaseURL, s.Cfg.CallbackSecret, id)
	long := strings.Repeat("x", 5000)
	for _, c := range []struct {
		name, method, url, contentType, body string
		code                                 int
		verdict, rawHas                      string
	}{
		{"forged, raw kept", "GET", base + "ref=" + strconv.FormatInt(id, 10) + "&token=00&orderUuid=" + uuid + "&status=PAID&createdAt=1&checksum=ab",
			"", "", 403, "bad_token", "token=00&orderUuid=" + uuid + "&status=PAID&createdAt=1&checksum=ab"},
		{"query too long", "GET", base + "ref=1&pad=" + long, "", "", 414, "malformed", "…[truncated: over 4096 bytes]"},
		{"query unparsable", "GET", base + "ref=%zz", "", "", 400, "malformed", "ref=%zz"},
		{"body too large", "POST", valid, "application/x-www-form-urlencoded", "status=" + long, 413, "malformed", "truncated"},
		{"JSON body unparsable", "POST", valid, "application/json", "{", 400, "malformed", "&{"},
		{"NUL and invalid UTF-8", "GET", valid + "&orderUuid=%00%FF&status=PAID&createdAt=1&checksum=ab", "", "", 403, "bad_checksum", "orderUuid=%00%FF"},
	} {
		before := time.Now()
		if code := daemontest.DoRequest(t, c.method, c.url, c.contentType, c.body); code != c.code {
			t.Errorf("%s: HTTP %d, want %d", c.name, code, c.code)
		}
		got := s.lastCallback(t)
		if got.Verdict != c.verdict || !strings.Contains(got.Raw, c.rawHas) || len(got.Raw) > 4200 || got.Remote != "127.0.0.1" ||
			got.ReceivedAt.Before(before.Add(-time.Second)) || got.ReceivedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: stored %+v; want verdict %s, raw with %q", c.name, got, c.verdict, c.rawHas)
		}
	}
	if c := s.lastCallback(t); c.FPUUID != "\uFFFD\uFFFD" {
		t.Errorf("NUL and invalid UTF-8 stored as %q", c.FPUUID)
	}
	var stored int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM callbacks`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.orderState(t, id); st != "submitted" || stored != 6 {
		t.Errorf("order %s, %d callbacks stored; want submitted, 6", st, stored)
	}
}

// Two words of FP with the same createdAt: the one that arrived last is
// FP's latest. An older RESERVED arriving after a newer FAILED does not undo
// it, although the table lets payment_failed move to reserved.
func TestCallbackTiesAndLateReversal(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	t0 := time.Now().Unix()
	for _, status := range []string{"FIRST UNKNOWN", "SECOND UNKNOWN"} {
		s.sendCallback(t, id, uuid, status, t0)
		s.waitCallbacksApplied(t)
	}
	if st, fp, _ := s.orderState(t, id); st != "submitted" || fp != "SECOND UNKNOWN" {
		t.Errorf("tie: %s/%s, want submitted/SECOND UNKNOWN", st, fp)
	}
	s.sendCallback(t, id, uuid, "FAILED", t0+10)
	s.waitCallbacksApplied(t)
	s.sendCallback(t, id, uuid, "RESERVED", t0+5)
	s.waitCallbacksApplied(t)
	if st, fp, _ := s.orderState(t, id); st != "payment_failed" || fp != "FAILED" {
		t.Errorf("late RESERVED: %s/%s, want payment_failed/FAILED", st, fp)
	}
	// A newer RESERVED does move it: the payer tried again.
	s.sendCallback(t, id, uuid, "RESERVED", t0+20)
	s.waitCallbacksApplied(t)
	if st, fp, _ := s.orderState(t, id); st != "reserved" || fp != "RESERVED" {
		t.Errorf("newer RESERVED: %s/%s, want reserved/RESERVED", st, fp)
	}
}

// A callback job run again after it applied its callback (the worker
// stopped between its commit and River's completion) changes nothing.
func TestApplyCallbackJobRunAgain(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	id, uuid := s.submittedInvoice(t)
	s.sendCallback(t, id, uuid, "SENT", time.Now().Unix())
	s.waitCallbacksApplied(t)
	var callbackID int64
	var statusAt time.Time
	if err := s.Pool.QueryRow(context.Background(), `SELECT c.id, o.status_at FROM callbacks c JOIN orders o ON o.id = c.order_id`).Scan(&callbackID, &statusAt); err != nil {
		t.Fatal(err)
	}
	w := &jobs.ApplyCallbackWorker{Pool: s.Pool, Logger: daemontest.Logger(t)}
	if err := w.Work(context.Background(), &river.Job[jobargs.ApplyCallbackArgs]{JobRow: &rivertype.JobRow{}, Args: jobargs.ApplyCallbackArgs{CallbackID: callbackID}}); err != nil {
		t.Fatal(err)
	}
	var events int
	var statusAtAfter time.Time
	if err := s.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM order_events WHERE type = 'callback'), status_at FROM orders WHERE id = $1`, id).Scan(&events, &statusAtAfter); err != nil {
		t.Fatal(err)
	}
	if st, fp, _ := s.orderState(t, id); st != "sent" || fp != "SENT" || events != 1 || !statusAtAfter.Equal(statusAt) {
		t.Errorf("after a second run: %s/%s, %d callback events, status_at %s → %s; want sent/SENT, 1, unchanged", st, fp, events, statusAt, statusAtAfter)
	}
}
