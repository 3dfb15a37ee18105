package main

import (
	"context"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/store"
)

// An order whose stored data cannot be built into a request is our fault,
// not FP's refusal: nothing goes to FP, the order is invalid_payload (not
// provider_rejected), the attempt's outcome and event say so, and the
// report lists it as an exception of its own. The other orders go on.
func TestInvalidPayloadIsNotProviderRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, fpfakeNoCallbacks(), nil)
	start := time.Now()
	s.importCSV(t, "p.csv", reviewFile)
	// The worker is not running yet: R-1's job reads this when it runs.
	if _, err := s.pool.Exec(ctx, `UPDATE orders SET order_data = '"not an order"' WHERE order_ref = 'R-1'`); err != nil {
		t.Fatal(err)
	}
	s.run(t)
	s.waitSettled(t, start, false)

	var status, outcome, event, eventStatus string
	if err := s.pool.QueryRow(ctx, `SELECT o.status, a.outcome, e.type, e.status
		FROM orders o JOIN submit_attempts a ON a.order_id = o.id JOIN order_events e ON e.order_id = o.id
		WHERE o.order_ref = 'R-1' AND e.type <> 'attempt_started'`).Scan(&status, &outcome, &event, &eventStatus); err != nil {
		t.Fatal(err)
	}
	if status != "invalid_payload" || outcome != "invalid_payload" || event != "submit_invalid_payload" || eventStatus != "invalid_payload" {
		t.Errorf("R-1: status %s, attempt %s, event %s/%s; want invalid_payload throughout", status, outcome, event, eventStatus)
	}
	if n := len(s.sim.Orders()); n != 3 {
		t.Errorf("FP has %d orders, want the 3 others", n)
	}
	view := s.view(t)
	for _, ref := range []string{"R-2", "R-3", "R-4"} {
		if view[ref].Status != "submitted" {
			t.Errorf("%s: %s, want submitted", ref, view[ref].Status)
		}
	}

	day := time.Now().In(s.cfg.Location).Format(time.DateOnly)
	rep, err := store.LoadReport(ctx, s.pool, day, day, time.Now(), 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	exc, err := rep.Exceptions()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range exc {
		if e.OrderRef == "R-1" {
			found = e.Type == "invalid_payload"
			if !found {
				t.Errorf("R-1's exception: %s, want invalid_payload", e.Type)
			}
		}
	}
	if !found {
		t.Errorf("R-1 is not among the report's exceptions: %+v", exc)
	}
}
