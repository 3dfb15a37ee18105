package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// Three invoices and a payment link: kinds that notify the customer, so a
// lost answer puts each in needs_review.
var reviewFile = header +
	"R-1,invoice,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Luramyrveien 65,4313,Sandnes,NO,no,R_1,Router,1,4500.00,0,12,,,,,,,,\n" +
	"R-2,invoice,private,Ola Nordmann,ola@example.no,+47,46567469,01010012356,,Storgata 1,0155,Oslo,NO,no,,Timer,2,1250.25,0,25,,,,,,,,\n" +
	"R-3,invoice,corporate,Fjord AS,post@fjord.example.no,+47,46567470,,923609016,Storgata 1,0155,Oslo,NO,no,,Konsulent,1,999.00,0,25,,,,,,,,\n" +
	"R-4,payment-link,private,Liv Berg,liv@example.no,+47,46567471,01010012356,,Storgata 1,0155,Oslo,NO,no,,Timer,1,1250.00,0,25,,,,,,true,false,\n"

// review runs `worker review args…` as an operator named kari.
func (s *stack) review(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return s.operator(t, append([]string{"review"}, args...)...)
}

// mustReview runs `worker review args…` and fails the test unless it succeeds.
func (s *stack) mustReview(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := s.review(t, args...)
	if err != nil {
		t.Fatalf("worker review %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// lostFPOrder is the order FP created for ref whose answer was dropped.
func (s *stack) lostFPOrder(t *testing.T, ref string) fpfake.Order {
	t.Helper()
	for _, o := range s.sim.Orders() {
		if o.Reference == ref {
			return o
		}
	}
	t.Fatalf("FP has no order %s", ref)
	return fpfake.Order{}
}

type reviewList struct {
	Orders []struct {
		OrderID           int64       `json:"order_id"`
		Kind              string      `json:"kind"`
		OrderRef          string      `json:"order_ref"`
		CustomerName      string      `json:"customer_name"`
		GrandTotal        json.Number `json:"grand_total"`
		GrandTotalOre     int64       `json:"grand_total_ore"`
		StatusAt          time.Time   `json:"status_at"`
		ReviewReason      string      `json:"review_reason"`
		Attempts          int         `json:"attempts"`
		FPOrderUUID       *string     `json:"fp_order_uuid"`
		PossibleDuplicate *string     `json:"possible_duplicate"`
		LastAttempt       *struct {
			Attempt    int     `json:"attempt"`
			Outcome    *string `json:"outcome"`
			HTTPStatus *int    `json:"http_status"`
			Message    string  `json:"message"`
			FpgoUUID   *string `json:"fpgo_uuid"`
		} `json:"last_attempt"`
	} `json:"orders"`
}

func (s *stack) reviewList(t *testing.T) reviewList {
	t.Helper()
	var l reviewList
	out := s.mustReview(t, "--format", "json")
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("review --format json: %v\n%s", err, out)
	}
	return l
}

// FP accepts four orders and every answer is lost; an operator lists them
// and decides each one a different way, and the worker sends what was
// resubmitted. The events each decision writes, the jobs it queues and that
// a refused decision changes nothing are internal/operator's tests; here:
// what the commands print, their exit codes, and what reaches FP.
func TestReviewListAndDecide(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, fpfake.Config{Faults: fpfake.Faults{DropFirst: 4}})
	start := time.Now()
	s.importCSV(t, "r.csv", reviewFile)
	s.waitSettled(t, start, false)
	for ref, r := range s.view(t) {
		if r.Status != "needs_review" || s.sim.Creations(ref) != 1 {
			t.Fatalf("%s: %+v, created %d times; want needs_review, once", ref, r, s.sim.Creations(ref))
		}
	}

	// The list, as a script reads it.
	l := s.reviewList(t)
	want := map[string]struct {
		kind, total string
		ore         int64
	}{
		"R-1": {"invoice", "4500.00", 450000},
		"R-2": {"invoice", "2500.50", 250050},
		"R-3": {"invoice", "999.00", 99900},
		"R-4": {"payment-link", "1250.00", 125000},
	}
	if len(l.Orders) != len(want) {
		t.Fatalf("review lists %d orders, want %d", len(l.Orders), len(want))
	}
	for i, o := range l.Orders {
		w := want[o.OrderRef]
		if o.Kind != w.kind || o.GrandTotal.String() != w.total || o.GrandTotalOre != w.ore || o.Attempts != 1 ||
			o.FPOrderUUID != nil || o.PossibleDuplicate != nil || !strings.Contains(o.ReviewReason, "may have reached FP") {
			t.Errorf("listed %+v, want %+v", o, w)
		}
		// The stack's proxy in front of the simulator turns the dropped
		// connection into its own 502: a gateway's answer, as in production.
		if a := o.LastAttempt; a == nil || a.Attempt != 1 || a.Outcome == nil || *a.Outcome != "ambiguous" ||
			a.HTTPStatus == nil || *a.HTTPStatus != 502 || !strings.Contains(a.Message, "may have reached FP") {
			t.Errorf("%s: last attempt %+v, want #1 ambiguous, the gateway's 502", o.OrderRef, a)
		}
		if i > 0 && o.StatusAt.Before(l.Orders[i-1].StatusAt) {
			t.Errorf("not oldest first: %s (%s) after %s (%s)", o.OrderRef, o.StatusAt, l.Orders[i-1].OrderRef, l.Orders[i-1].StatusAt)
		}
	}
	ids := map[string]int64{}
	for _, o := range l.Orders {
		ids[o.OrderRef] = o.OrderID
	}

	// The list, as an operator reads it: one line per order, with its evidence.
	text := s.mustReview(t)
	for ref, w := range want {
		line := ""
		for _, ln := range strings.Split(text, "\n") {
			if strings.Contains(ln, " "+ref+" ") {
				line = ln
			}
		}
		if !strings.Contains(line, w.kind) || !strings.Contains(line, w.total) {
			t.Errorf("no table line for %s with %s and %s in:\n%s", ref, w.kind, w.total, text)
		}
	}
	if !strings.HasPrefix(text, "ID ") || strings.Count(text, "last attempt: #1 at ") != 4 || strings.Count(text, "ambiguous, HTTP 502: ") != 4 {
		t.Errorf("text list:\n%s", text)
	}

	// Resubmit R-1 as a new FP order (the operator found none), by its
	// reference; R-2 as an update of the order FP did create, by kind:ref.
	lost1, lost2, lost3 := s.lostFPOrder(t, "R-1"), s.lostFPOrder(t, "R-2"), s.lostFPOrder(t, "R-3")
	start = time.Now()
	out := s.mustReview(t, "resubmit", "R-1", "--note", "not in FP's portal")
	if !strings.Contains(out, "as a new FP order") {
		t.Errorf("resubmit said %q", out)
	}
	s.mustReview(t, "resubmit", "invoice:R-2", "--fpgo-uuid", lost2.UUID, "--by", "ola")
	s.waitSettled(t, start, false)
	got := s.view(t)
	if g := got["R-1"]; g.Status != "submitted" || g.FPUUID == "" || g.FPUUID == lost1.UUID || s.sim.Creations("R-1") != 2 {
		t.Errorf("R-1 resubmitted as new: %+v, created %d times; want submitted as a second FP order", g, s.sim.Creations("R-1"))
	}
	o2, _ := s.sim.Order(lost2.UUID)
	if g := got["R-2"]; g.Status != "submitted" || g.FPUUID != lost2.UUID || s.sim.Creations("R-2") != 1 || o2.Updates != 1 ||
		!bytes.Contains(o2.Body, []byte(`"fpgoUuid":"`+lost2.UUID+`"`)) {
		t.Errorf("R-2 resubmitted as update: %+v, created %d times, FP updates %d, body %s", g, s.sim.Creations("R-2"), o2.Updates, o2.Body)
	}

	// Confirm R-3 by its id: FP has it. Nothing is sent.
	requests := len(s.sim.Requests())
	out = s.mustReview(t, "confirm", strconv.FormatInt(ids["R-3"], 10), lost3.UUID, "--note", "seen in the portal")
	if !strings.Contains(out, "submitted as FP order "+lost3.UUID+"; nothing was sent") {
		t.Errorf("confirm said %q", out)
	}
	if g := s.view(t)["R-3"]; g.Status != "submitted" || g.FPUUID != lost3.UUID {
		t.Errorf("R-3 confirmed: %+v, want submitted as %s", g, lost3.UUID)
	}
	if n := len(s.sim.Requests()) - requests; n != 0 || s.sim.Creations("R-3") != 1 {
		t.Errorf("confirm sent %d requests to FP; want none", n)
	}

	// Only an order in needs_review may be decided.
	for _, c := range []struct {
		ref  string
		args []string
	}{
		{"R-1", []string{"resubmit", "R-1"}},
		{"R-2", []string{"confirm", "invoice:R-2", lost2.UUID}},
		{"R-3", []string{"resubmit", "R-3", "--fpgo-uuid", "known"}},
	} {
		_, _, err := s.review(t, c.args...)
		if exitCode(err) != 1 || err == nil || !strings.Contains(err.Error(), c.ref) || !strings.Contains(err.Error(), "is submitted, not needs_review") {
			t.Errorf("review %v: %v (exit %d), want exit 1 naming the order and its status", c.args, err, exitCode(err))
		}
	}

	// Usage mistakes exit 2; an impossible decision exits 1; R-4 stays as it was.
	before := testdb.Snapshot(t, s.pool, ids["R-4"])
	for _, args := range [][]string{
		{"resubmit"},
		{"confirm", "R-4"},
		{"confirm", "R-4", "ODR 123"},
		{"confirm", "R-4", strings.Repeat("x", 65)},
		{"resubmit", "R-4", "--fpgo-uuid", ""},
		{"resubmit", "R-4", "--no-such-flag"},
		{"--format", "xml"},
		{"frobnicate"},
	} {
		if _, _, err := s.review(t, args...); exitCode(err) != 2 {
			t.Errorf("review %q: %v, want a usage error (exit 2)", args, err)
		}
	}
	for _, args := range [][]string{
		{"resubmit", "R-4", "--fpgo-uuid", "known"}, // FP's id is not known
		{"confirm", "R-404", "ODR1"},                // no such order
		{"confirm", "R-4", lost3.UUID},              // R-3's FP order
	} {
		if _, _, err := s.review(t, args...); exitCode(err) != 1 || err == nil {
			t.Errorf("review %q: %v, want exit 1", args, err)
		}
	}
	if after := testdb.Snapshot(t, s.pool, ids["R-4"]); after != before {
		t.Errorf("refused decisions changed R-4:\n%s\n%s", before, after)
	}
	if l := s.reviewList(t); len(l.Orders) != 1 || l.Orders[0].OrderRef != "R-4" {
		t.Errorf("still in review: %+v, want R-4 alone", l.Orders)
	}

	s.mustReview(t, "confirm", "R-4", s.lostFPOrder(t, "R-4").UUID)
	if out := s.mustReview(t); strings.TrimSpace(out) != "no orders need review" {
		t.Errorf("empty list: %q", out)
	}
	if l := s.reviewList(t); l.Orders == nil || len(l.Orders) != 0 {
		t.Errorf("empty json list: %+v", l)
	}
}

// A changed order's update reaches FP but its answer is lost: the order FP
// has is known, and `--fpgo-uuid known` sends the change again as an update
// of it, never as a second order.
func TestReviewResubmitKnownUpdatesFP(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, fpfake.Config{})
	start := time.Now()
	s.importCSV(t, "k.csv", header+strings.SplitAfter(reviewFile, "\n")[1])
	s.waitSettled(t, start, false)
	uuid := s.view(t)["R-1"].FPUUID
	if uuid == "" {
		t.Fatal("R-1 was not submitted")
	}
	s.sim.UpdateFaults(func(f *fpfake.Faults) { f.DropFirst = 1 })
	start = time.Now()
	s.importCSV(t, "k-v2.csv", header+strings.Replace(strings.SplitAfter(reviewFile, "\n")[1], "Router,1,4500.00", "Router,2,4500.00", 1))
	s.waitSettled(t, start, false)
	if g := s.view(t)["R-1"]; g.Status != "needs_review" || g.FPUUID != uuid {
		t.Fatalf("R-1 after a lost update: %+v, want needs_review holding %s", g, uuid)
	}
	l := s.reviewList(t)
	if len(l.Orders) != 1 || l.Orders[0].FPOrderUUID == nil || *l.Orders[0].FPOrderUUID != uuid ||
		l.Orders[0].LastAttempt == nil || l.Orders[0].LastAttempt.FpgoUUID == nil || *l.Orders[0].LastAttempt.FpgoUUID != uuid {
		t.Fatalf("listed %+v, want R-1 with its FP order and the update attempt", l.Orders)
	}
	if text := s.mustReview(t); !strings.Contains(text, uuid) || !strings.Contains(text, "as an update of "+uuid) {
		t.Errorf("text list lacks the FP order:\n%s", text)
	}

	start = time.Now()
	out := s.mustReview(t, "resubmit", "R-1", "--fpgo-uuid", "known")
	if !strings.Contains(out, "as an update of FP order "+uuid) {
		t.Errorf("resubmit said %q", out)
	}
	s.waitSettled(t, start, false)
	o, _ := s.sim.Order(uuid)
	if g := s.view(t)["R-1"]; g.Status != "submitted" || g.FPUUID != uuid || g.GrandTotal != "9000.00" || s.sim.Creations("R-1") != 1 || o.Updates != 2 {
		t.Errorf("R-1: %+v, created %d times, FP updates %d; want submitted, once, 2 updates", g, s.sim.Creations("R-1"), o.Updates)
	}
	if !bytes.Contains(o.Body, []byte(`"fpgoUuid":"`+uuid+`"`)) || !bytes.Contains(o.Body, []byte(`"orderFrom":"PARTNER"`)) {
		t.Errorf("FP's last body is no update of %s: %s", uuid, o.Body)
	}
}
