package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// sendCallback calls the worker as FP would, with a valid token and checksum.
func (s *stack) sendCallback(t *testing.T, orderID int64, uuid, status string, createdAt int64) int {
	t.Helper()
	created := strconv.FormatInt(createdAt, 10)
	u := callbackurl.For(s.cfg.CallbackBaseURL, s.cfg.CallbackSecret, orderID) + "&" + url.Values{
		"orderUuid": {uuid}, "status": {status}, "createdAt": {created}, "timestamp": {created},
		"checksum": {fpclient.Checksum(uuid, status, created, "")},
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
		s.pool.QueryRow(context.Background(), `SELECT count(*) FROM callbacks WHERE verdict = 'accepted' AND result IS NULL`).Scan(&pending)
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
	if err := s.pool.QueryRow(context.Background(), `SELECT status, coalesce(fp_status, ''), coalesce(possible_duplicate, '') FROM orders WHERE id = $1`, id).
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
	s.pool.QueryRow(context.Background(), `SELECT count(*) FROM order_events WHERE order_id = $1 AND type = 'callback'`, id).Scan(&events)
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
	s.pool.QueryRow(context.Background(), `SELECT exception FROM reconciliation_orders WHERE order_id = $1`, id).Scan(&exception)
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
	s.importCSV(t, "one.csv", header+strings.Split(e2eFile, "\n")[1]+"\n")
	s.waitSettled(t, start, false)
	s.waitCallbacksApplied(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := s.view(t)["E-1"]
		if v.Status == "sent" && strings.HasPrefix(v.FPUUID, "ODR") && s.sim.Creations("E-1") == 1 {
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

// submittedInvoice imports e2eFile's first order (an invoice), waits until
// FP accepted it, and returns our id and FP's orderUuid.
func (s *stack) submittedInvoice(t *testing.T) (int64, string) {
	t.Helper()
	start := time.Now()
	s.importCSV(t, "one.csv", header+strings.Split(e2eFile, "\n")[1]+"\n")
	s.waitSettled(t, start, false)
	var id int64
	var uuid string
	if err := s.pool.QueryRow(context.Background(), `SELECT id, fp_order_uuid FROM orders`).Scan(&id, &uuid); err != nil {
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
	base := callbackurl.For(s.cfg.CallbackBaseURL, s.cfg.CallbackSecret, id)
	t0 := time.Now().Unix()
	params := func(status string, at int64) url.Values {
		c := strconv.FormatInt(at, 10)
		return url.Values{"orderUuid": {uuid}, "status": {status}, "createdAt": {c}, "checksum": {fpclient.Checksum(uuid, status, c, "")}}
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
	body := fmt.Sprintf(`{"orderUuid":%q,"status":"PAID","createdAt":%s,"checksum":%q}`, uuid, c, fpclient.Checksum(uuid, "PAID", c, ""))
	req, _ = http.NewRequest(http.MethodPost, base, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	send(req)
	if st, _, _ := s.orderState(t, id); st != "paid" {
		t.Errorf("JSON POST: %s", st)
	}
}
