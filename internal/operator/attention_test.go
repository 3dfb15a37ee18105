package operator_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/operator"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// exec runs one statement of a test's setup.
func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// itemKeys names each item as reason/order_ref, or reason/source for the
// items that are not about one order.
func itemKeys(items []operator.Item) []string {
	var out []string
	for _, it := range items {
		name := it.Source
		if it.Order != nil {
			name = it.Order.Ref
		}
		out = append(out, it.Reason+"/"+name)
	}
	return out
}

func TestAttention(t *testing.T) {
	t.Parallel()
	desk, pool := newDesk(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	batch := testdb.AddBatch(t, pool, "mars.csv", 10)
	add := func(kind, ref, status, uuid, dup string) int64 {
		return testdb.AddOrder(t, pool, testdb.Order{Kind: kind, Ref: ref, Status: status, FPOrderUUID: uuid, PossibleDuplicate: dup,
			BatchID: batch, LastError: "FP answered 417: payloadValidationErrors"})
	}
	ago := func(id int64, col string, d time.Duration) {
		exec(t, pool, `UPDATE orders SET `+col+` = $2 WHERE id = $1`, id, now.Add(-d))
	}
	review := add("invoice", "R-review", "needs_review", "", "")
	ago(review, "status_at", 5*time.Hour)
	failed := add("invoice", "R-failed", "failed", "", "")
	ago(failed, "status_at", 2*time.Hour)
	add("invoice", "R-rejected", "provider_rejected", "", "")
	add("checkout", "R-invalid", "invalid_payload", "", "")
	add("invoice", "R-dup", "sent", "ODR1000000001", "ODR1000000002")
	add("invoice", "R-dup-cancelled", "cancelled", "ODR1000000003", "ODR1000000004")
	add("invoice", "R-paid", "paid", "ODR1000000005", "")
	for ref, c := range map[string]struct {
		status, uuid, due string
	}{
		"L-due":        {"sent", "ODR1000000006", "2026-03-09"},
		"L-due-queued": {"queued", "", "2026-01-31"},
		"L-not-due":    {"sent", "ODR1000000007", "2026-03-10"},
		"L-paid":       {"paid", "ODR1000000008", "2026-01-01"},
		"L-no-date":    {"sent", "ODR1000000009", ""},
	} {
		id := add("payment-link", ref, c.status, c.uuid, "")
		exec(t, pool, `UPDATE orders SET order_data = json_build_object('due_date', $2::text) WHERE id = $1`, id, c.due)
	}
	// Submitted to FP 100 hours ago: silent, heard from, or not long enough.
	silent := add("checkout", "S-silent", "submitted", "ODR1000000010", "")
	heard := add("checkout", "S-heard", "sent", "ODR1000000011", "")
	fresh := add("checkout", "S-fresh", "submitted", "ODR1000000012", "")
	for _, id := range []int64{silent, heard} {
		ago(id, "submitted_at", 100*time.Hour)
	}
	ago(fresh, "submitted_at", time.Hour)
	exec(t, pool, `INSERT INTO callbacks (raw_query, order_id, fp_order_uuid, fp_status, verdict) VALUES ('q', $1, 'ODR1000000011', 'SENT', 'accepted')`, heard)
	exec(t, pool, `UPDATE orders SET fp_status = 'SENT' WHERE id = $1`, heard)
	// Two open rejected rows of the batch (row 4 with two errors; row 5
	// fixed by a later import: not counted), three forged callbacks from
	// one source, one authentic callback for an order we do not have.
	exec(t, pool, `INSERT INTO rejected_rows (batch_id, source, row_no, reason) VALUES ($1, 'mars.csv', 3, 'x'), ($1, 'mars.csv', 4, 'y'), ($1, 'mars.csv', 4, 'z')`, batch)
	exec(t, pool, `INSERT INTO rejected_rows (batch_id, source, row_no, reason, resolved_by_batch) VALUES ($1, 'mars.csv', 5, 'w', $1)`, batch)
	exec(t, pool, `INSERT INTO callbacks (raw_query, remote_addr, verdict, received_at)
		SELECT 'q', '192.0.2.7', 'bad_checksum', $1::timestamptz - n * interval '1 minute' FROM generate_series(1, 3) n`, now)
	exec(t, pool, `INSERT INTO callbacks (raw_query, remote_addr, fp_order_uuid, fp_status, verdict) VALUES ('q', '192.0.2.8', 'ODR1999999999', 'PAID', 'orphan')`)

	list, err := desk.Attention(ctx, operator.AttentionQuery{Now: now, StaleAfter: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"needs_review/R-review", "possible_duplicate/R-dup", "failed/R-failed", "provider_rejected/R-rejected",
		"invalid_payload/R-invalid", "payment_link_overdue/L-due-queued", "payment_link_overdue/L-due",
		"no_word_from_fp/S-silent", "rejected_rows/mars.csv", "orphan_callback/192.0.2.8", "untrusted_callbacks/192.0.2.7",
	}
	if got := itemKeys(list.Items); !slices.Equal(got, want) {
		t.Fatalf("items\n got %q\nwant %q", got, want)
	}
	if list.Total() != int64(len(want)) {
		t.Errorf("totals %v", list.Totals)
	}
	byKey := map[string]operator.Item{}
	for i, k := range itemKeys(list.Items) {
		byKey[k] = list.Items[i]
	}
	for key, actions := range map[string][]string{
		"needs_review/R-review":             {"review"},
		"failed/R-failed":                   {"retry", "withdraw"},
		"provider_rejected/R-rejected":      {"withdraw"},
		"possible_duplicate/R-dup":          {"cancel"},
		"payment_link_overdue/L-due":        {"resend", "cancel"},
		"payment_link_overdue/L-due-queued": {"withdraw"},
		"no_word_from_fp/S-silent":          {"resend", "cancel"},
		"rejected_rows/mars.csv":            {},
		"untrusted_callbacks/192.0.2.7":     {},
	} {
		if got := byKey[key].Actions; !slices.Equal(got, actions) {
			t.Errorf("%s: actions %q, want %q", key, got, actions)
		}
	}
	it := byKey["needs_review/R-review"]
	if it.Age != 5*time.Hour || it.Order.Customer != "Kari Nordmann" || it.Order.Total.NOK() != "4500.00" || it.Order.BatchID != batch ||
		it.Detail != "request may have reached FP" {
		t.Errorf("needs_review item %+v, order %+v", it, it.Order)
	}
	if it := byKey["failed/R-failed"]; it.Age != 2*time.Hour || !strings.Contains(it.Detail, "417") {
		t.Errorf("failed item %+v", it)
	}
	if it := byKey["possible_duplicate/R-dup"]; it.Detail != "ODR1000000002" || it.Order.FPOrderUUID != "ODR1000000001" {
		t.Errorf("duplicate item %+v", it)
	}
	if it := byKey["payment_link_overdue/L-due"]; !it.Since.Equal(time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("overdue since %v, want the due date's Oslo midnight", it.Since)
	}
	if it := byKey["no_word_from_fp/S-silent"]; it.Age != 100*time.Hour {
		t.Errorf("silent item age %v", it.Age)
	}
	if it := byKey["rejected_rows/mars.csv"]; it.Count != 2 || it.BatchID != batch {
		t.Errorf("rejected rows item %+v", it)
	}
	if it := byKey["untrusted_callbacks/192.0.2.7"]; it.Count != 3 || it.Detail != "bad_checksum" || it.Age != 3*time.Minute {
		t.Errorf("untrusted item %+v", it)
	}
	if it := byKey["orphan_callback/192.0.2.8"]; !strings.Contains(it.Detail, "ODR1999999999") {
		t.Errorf("orphan item %+v", it)
	}

	// A settled item leaves the list: the failed order, sent again.
	res, err := desk.Retry(ctx, "R-failed", store.RetryDecision{ReviewDecision: store.ReviewDecision{By: "kari"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("retry: %v %+v", err, res)
	}
	list, err = desk.Attention(ctx, operator.AttentionQuery{Now: now, StaleAfter: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := itemKeys(list.Items); slices.Contains(got, "failed/R-failed") || list.Totals["failed"] != 0 || len(got) != len(want)-1 {
		t.Errorf("after retry: %q, totals %v", got, list.Totals)
	}
	// STALE_AFTER decides who counts as silent.
	list, err = desk.Attention(ctx, operator.AttentionQuery{Now: now, StaleAfter: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if list.Totals["no_word_from_fp"] != 2 {
		t.Errorf("STALE_AFTER 30m: %v", list.Totals)
	}
}

// Each reason lists at most Limit items, the oldest, and counts them all.
func TestAttentionLimit(t *testing.T) {
	t.Parallel()
	desk, pool := newDesk(t)
	now := time.Now()
	for i := range 3 {
		id := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: fmt.Sprint("F-", i), Status: "failed"})
		exec(t, pool, `UPDATE orders SET status_at = $2 WHERE id = $1`, id, now.Add(-time.Duration(10-i)*time.Hour))
	}
	testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "N-1", Status: "needs_review"})
	list, err := desk.Attention(context.Background(), operator.AttentionQuery{Now: now, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := itemKeys(list.Items); !slices.Equal(got, []string{"needs_review/N-1", "failed/F-0", "failed/F-1"}) {
		t.Errorf("items %q", got)
	}
	if list.Totals["failed"] != 3 || list.Total() != 4 {
		t.Errorf("totals %v", list.Totals)
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	desk, pool := newDesk(t)
	ctx := context.Background()
	b1 := testdb.AddBatch(t, pool, "a.csv", 2)
	b2 := testdb.AddBatch(t, pool, "b.csv", 2)
	ids := map[string]int64{}
	for _, o := range []struct {
		ref, name, email, uuid string
		batch                  int64
	}{
		{"INV-1001", "Kari Nordmann", "kari@example.no", "ODR1234500001", b1},
		{"INV-1002", "Ola Hansen", "ola.hansen1234@firma.no", "", b1},
		{"PL-77", "Nordlys AS", "post@nordlys.no", "ODR1234500003", b2},
		{"100%_off", "Per Persen", "per@example.no", "", b2},
	} {
		id := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: o.ref, Status: "sent", FPOrderUUID: o.uuid, BatchID: o.batch})
		exec(t, pool, `UPDATE orders SET customer_name = $2, order_data = json_build_object('customer', json_build_object('email', $3::text))
			WHERE id = $1`, id, o.name, o.email)
		ids[o.ref] = id
	}
	for text, want := range map[string][]string{
		"nord":          {"PL-77", "INV-1001"}, // name, newest first
		"NORDMANN":      {"INV-1001"},
		"firma.no":      {"INV-1002"},             // e-mail
		"inv-100":       {"INV-1002", "INV-1001"}, // a part of the reference
		"odr1234500003": {"PL-77"},                // FP's order id, any case
		"PL-77":         {"PL-77"},
		"100%":          {"100%_off"}, // % is a character, not a wildcard
		"0%_":           {"100%_off"},
		"%%%":           {},
		"no":            {}, // too short for a part, no whole reference
		"ODR12345":      {}, // FP's order id is matched whole
		"  kari@  ":     {"INV-1001"},
		"":              {},
		"zzz":           {},
		"1002":          {"INV-1002"}, // a number: a part of a reference
		"1234":          {},           // but not of an e-mail address or a name
	} {
		got, err := desk.Search(ctx, text, 10)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		refs := []string{}
		for _, o := range got {
			refs = append(refs, o.Ref)
		}
		if !slices.Equal(refs, want) {
			t.Errorf("search %q: %q, want %q", text, refs, want)
		}
	}
	// A number is an order id or a batch.
	got, err := desk.Search(ctx, fmt.Sprint(b2), 10)
	if err != nil {
		t.Fatal(err)
	}
	// The number is batch b2 and, the ids being small too, maybe an order id.
	var refs []string
	for _, o := range got {
		refs = append(refs, o.Ref)
		if o.BatchID != b2 && o.ID != b2 {
			t.Errorf("search %d found order %+v", b2, o)
		}
	}
	if !slices.Contains(refs, "100%_off") || !slices.Contains(refs, "PL-77") {
		t.Errorf("batch %d: %q", b2, refs)
	}
	if got, _ := desk.Search(ctx, "INV-1001", 10); len(got) != 1 || got[0].ID != ids["INV-1001"] || got[0].Customer != "Kari Nordmann" ||
		got[0].FPOrderUUID != "ODR1234500001" || got[0].BatchID != b1 {
		t.Errorf("INV-1001: %+v", got)
	}
	if got, _ := desk.Search(ctx, "no", 1); len(got) != 0 {
		t.Errorf("limit: %+v", got)
	}
	if got, _ := desk.Search(ctx, ".no", 1); len(got) != 1 {
		t.Errorf("limit 1: %d orders", len(got))
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	desk, pool := newDesk(t)
	ctx := context.Background()
	id := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "INV-9", Status: "sent", FPOrderUUID: "ODR5550000001"})
	exec(t, pool, `UPDATE orders SET payment_url = 'https://pay.example/x', order_data = $2::json WHERE id = $1`, id,
		`{"ref":"INV-9","kind":"invoice","customer":{"type":"private","name":"Kari Nordmann","email":"kari@example.no","personal_number":"01019012345"},
		 "lines":[{"product_id":"P1","name":"Sykkel","quantity":"2","rate":"4500.00","discount":"0.00","tax_percent":25},
		          {"product_id":"P2","name":"Lykt","quantity":"1","rate":"100.00","discount":"10.00","tax_percent":25}],
		 "order_date":"2026-03-01","due_date":"2026-03-15"}`)
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	exec(t, pool, `UPDATE orders SET imported_at = $2 WHERE id = $1`, id, t0)
	exec(t, pool, `INSERT INTO order_events (order_id, at, type, status, detail) VALUES
		($1, $2::timestamptz + interval '3 minutes', 'status', 'sent', '{}'),
		($1, $2::timestamptz + interval '1 hour', 'review_confirmed', 'submitted', '{"by": "kari", "note": "FP har den"}')`, id, t0)
	exec(t, pool, `INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, started_at, finished_at, outcome, http_status, message) VALUES
		($1, 1, 1, 7, 1, $2::timestamptz + interval '1 minute', $2::timestamptz + interval '1 minute', 'retryable', 500, 'Internal Error'),
		($1, 2, 1, 7, 2, $2::timestamptz + interval '2 minutes', $2::timestamptz + interval '2 minutes', 'created', 201, '')`, id, t0)
	exec(t, pool, `INSERT INTO callbacks (received_at, raw_query, remote_addr, order_id, fp_order_uuid, fp_status, verdict, result) VALUES
		($2::timestamptz + interval '4 minutes', 'secret-token', '192.0.2.9', $1, 'ODR5550000001', 'SENT', 'accepted', 'applied'),
		($2::timestamptz + interval '5 minutes', 'secret-token', '192.0.2.66', $1, 'ODR5550000001', 'PAID', 'bad_checksum', NULL)`, id, t0)

	h, err := desk.HistoryOf(ctx, "invoice:INV-9")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range h.Entries {
		got = append(got, e.Kind+":"+e.Type+":"+e.Status)
	}
	want := []string{"import:imported:", "attempt:retryable:", "attempt:created:", "event:status:sent",
		"callback:accepted:SENT", "callback:bad_checksum:PAID", "event:review_confirmed:submitted"}
	if !slices.Equal(got, want) {
		t.Errorf("history\n got %q\nwant %q", got, want)
	}
	if e := h.Entries[1]; e.Detail["http_status"] != 500 || e.Detail["message"] != "Internal Error" || !e.At.Equal(t0.Add(time.Minute)) {
		t.Errorf("attempt %+v", e)
	}
	if e := h.Entries[6]; e.By != "kari" || e.Note != "FP har den" {
		t.Errorf("a person's action %+v", e)
	}
	if e := h.Entries[5]; e.Detail["from"] != "192.0.2.66" {
		t.Errorf("untrusted callback %+v", e)
	}
	for _, e := range h.Entries {
		if fmt.Sprint(e.Detail) != strings.ReplaceAll(fmt.Sprint(e.Detail), "secret-token", "") {
			t.Errorf("a callback's raw query in the history: %+v", e)
		}
	}
	// 2 × 4500 + 100 − 10 = 9090 kr; net of 9100 at 25 % = 7280.
	if len(h.Lines) != 2 || h.Totals.GrandTotal.NOK() != "9090.00" || h.Totals.SubTotal.NOK() != "7280.00" ||
		h.Totals.TotalDiscount.NOK() != "10.00" || h.Email != "kari@example.no" || h.DueDate != "2026-03-15" ||
		h.Order.PaymentURL != "https://pay.example/x" || h.Order.FPOrderUUID != "ODR5550000001" {
		t.Errorf("order %+v lines %+v totals %+v", h.Order, h.Lines, h.Totals)
	}
	if _, err := desk.HistoryOf(ctx, "invoice:nothing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}
	if _, err := desk.History(ctx, id+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}
