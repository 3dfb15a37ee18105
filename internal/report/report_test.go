package report

import (
	"slices"
	"testing"
	"time"
)

// Customer names and references that a spreadsheet would otherwise execute
// or split.
const (
	evilCustomer = `=HYPERLINK("http://evil.example/x?a=1","Klikk her")`
	splitName    = "Semi; colon \"quoted\"\nsecond line"
)

type bundle struct {
	report *Report
	sumOre int64 // sum of every order's GrandTotal
}

func tm(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func tp(s string) *time.Time {
	t := tm(s)
	return &t
}

// setup returns a small report with every kind, known and unknown statuses
// of ours and of FP's, nil times, an exception of each sort and a time on
// each side of the switch to summer time (2026-03-29 in Oslo).
func setup(t *testing.T) bundle {
	t.Helper()
	r := &Report{
		Lang:        "en",
		From:        "2026-03-01",
		To:          "2026-03-31",
		GeneratedAt: tm("2026-04-01T04:00:00Z"),
		Orders: []Order{
			{
				BatchID: 1, Source: "mars.xlsx", SourceRow: 2, OrderRef: "A-1", Kind: "invoice",
				CustomerName: "Ola Nordmann", GrandTotal: 450000, FPOrderUUID: "0b6b9a52-5f3c-4d8e-9a0e-0c1f1d2e3f40",
				Status: "paid", FPStatus: "PAID", StatusAt: tp("2026-03-30T10:00:00Z"),
				ImportedAt: tm("2026-03-10T08:00:00Z"), SubmittedAt: tp("2026-03-10T08:00:05Z"), Attempts: 1,
				PaymentURL: "https://pay.example/o?id=1&lang=no",
			},
			{
				BatchID: 1, Source: "mars.xlsx", SourceRow: 3, OrderRef: "A-2", Kind: "invoice",
				CustomerName: "Kari Nordmann", GrandTotal: 10010,
				Status: "needs_review", ImportedAt: tm("2026-03-10T08:00:00Z"), SubmittedAt: tp("2026-03-10T08:00:06Z"),
				Attempts: 1, LastError: "no answer after the request was written", Exception: "needs_review",
			},
			{
				BatchID: 1, Source: "mars.xlsx", SourceRow: 4, OrderRef: "A-3", Kind: "payment-link",
				CustomerName: evilCustomer, GrandTotal: 12345, FPOrderUUID: "1c7cab63-6a4d-4e9f-8b1f-1d202e3f4051",
				Status: "sent", FPStatus: "REMINDER SENT", StatusAt: tp("2026-03-12T12:30:00Z"),
				ImportedAt: tm("2026-03-10T08:00:00Z"), SubmittedAt: tp("2026-03-10T08:00:07Z"), Attempts: 2,
			},
			{
				BatchID: 2, Source: "erp", SourceRow: 17, OrderRef: "-42", Kind: "hosted-checkout",
				CustomerName: splitName, GrandTotal: 99,
				Status: "queued", ImportedAt: tm("2026-03-31T21:59:59Z"),
			},
			{
				BatchID: 2, Source: "erp", SourceRow: 18, OrderRef: "C-9", Kind: "checkout",
				CustomerName: "AS Eksempel", GrandTotal: 1, FPOrderUUID: "2d8dbc74-7b5e-4fa0-9c20-2e313f405162",
				Status: "weird_state", FPStatus: "PARTIAL REFUNDED", StatusAt: tp("2026-03-31T10:00:00Z"),
				ImportedAt: tm("2026-03-31T09:00:00Z"), SubmittedAt: tp("2026-03-31T09:00:01Z"), Attempts: 1,
				Exception: "possible_duplicate",
			},
			{
				BatchID: 2, Source: "erp", SourceRow: 19, OrderRef: "A-4", Kind: "invoice",
				CustomerName: "@Bedrift AS", GrandTotal: 20000,
				Status: "provider_rejected", ImportedAt: tm("2026-03-31T09:00:00Z"), SubmittedAt: tp("2026-03-31T09:00:02Z"),
				Attempts: 1, LastError: "The customer details.email must be a valid email address.", Exception: "provider_rejected",
			},
		},
		Rejected: []Rejected{
			{BatchID: 1, Source: "mars.xlsx", Row: 5, Column: "Beløp", Value: "12,3,4", Reason: "not an amount"},
			{BatchID: 1, Source: "mars.xlsx", Row: 6, Reason: "empty row"},
		},
		Batches: []Batch{
			{ID: 1, Source: "mars.xlsx", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				ImportedAt: tm("2026-03-10T08:00:00Z"), Rows: 5, Orders: 3, Rejected: 2, Submitted: 3, Paid: 1, Total: 472355},
			{ID: 2, Source: "erp", SHA256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
				ImportedAt: tm("2026-03-31T09:00:00Z"), Rows: 3, Orders: 3, Submitted: 2, Total: 20100},
		},
	}
	var sum int64
	for _, o := range r.Orders {
		sum += o.GrandTotal
	}
	return bundle{report: r, sumOre: sum}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got, err := b.report.Summary()
	if err != nil {
		t.Fatal(err)
	}
	want := []SummaryRow{
		{"invoice", "paid", 1, 450000},
		{"invoice", "provider_rejected", 1, 20000},
		{"invoice", "needs_review", 1, 10010},
		{"payment-link", "sent", 1, 12345},
		{"hosted-checkout", "queued", 1, 99},
		{"checkout", "weird_state", 1, 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Summary() =\n%v\nwant\n%v", got, want)
	}
	var orders int
	var total int64
	for _, s := range got {
		orders += s.Orders
		total += s.Total
	}
	if orders != len(b.report.Orders) || total != b.sumOre {
		t.Errorf("summary adds up to %d orders, %d øre; want %d, %d", orders, total, len(b.report.Orders), b.sumOre)
	}
}

func TestSummaryOrder(t *testing.T) {
	t.Parallel()
	r := &Report{}
	for _, ks := range [][2]string{
		{"zeta", "queued"}, {"checkout", "zz"}, {"checkout", "aa"}, {"checkout", "paid"},
		{"alpha", "queued"}, {"invoice", "needs_review"}, {"invoice", "queued"}, {"invoice", "queued"},
	} {
		r.Orders = append(r.Orders, Order{Kind: ks[0], Status: ks[1], GrandTotal: 100})
	}
	var got [][2]string
	summary, err := r.Summary()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range summary {
		got = append(got, [2]string{s.Kind, s.Status})
	}
	want := [][2]string{
		{"invoice", "queued"}, {"invoice", "needs_review"},
		{"checkout", "paid"}, {"checkout", "aa"}, {"checkout", "zz"},
		{"alpha", "queued"}, {"zeta", "queued"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Summary() order = %v, want %v", got, want)
	}
}

func TestExceptions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got, err := b.report.Exceptions()
	if err != nil {
		t.Fatal(err)
	}
	want := []Exception{
		{Type: "rejected_row", BatchID: 1, Source: "mars.xlsx", Row: 5, Detail: `column "Beløp": not an amount (value "12,3,4")`},
		{Type: "rejected_row", BatchID: 1, Source: "mars.xlsx", Row: 6, Detail: "empty row"},
		{Type: "needs_review", BatchID: 1, Source: "mars.xlsx", Row: 3, OrderRef: "A-2", Detail: "no answer after the request was written"},
		{Type: "possible_duplicate", BatchID: 2, Source: "erp", Row: 18, OrderRef: "C-9", Detail: "PARTIAL REFUNDED"},
		{Type: "provider_rejected", BatchID: 2, Source: "erp", Row: 19, OrderRef: "A-4", Detail: "The customer details.email must be a valid email address."},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Exceptions() =\n%v\nwant\n%v", got, want)
	}

	counts, total := b.report.exceptionCounts(tallied(t, b.report))
	wantCounts := []exceptionCount{{"rejected_row", 2}, {"needs_review", 1}, {"possible_duplicate", 1}, {"provider_rejected", 1}}
	if !slices.Equal(counts, wantCounts) || total != 5 {
		t.Errorf("exceptionCounts() = %v, %d; want %v, 5", counts, total, wantCounts)
	}
}

// Other exceptions follow the orders' and are counted per type in the Summary.
func TestOtherExceptionsCounted(t *testing.T) {
	t.Parallel()
	r := &Report{
		Orders: []Order{{OrderRef: "A", Exception: "failed"}},
		Other: []Exception{
			{Type: ExceptionUntrustedCallback, Source: "203.0.113.7", Detail: "bad_token"},
			{Type: ExceptionNoCallback, OrderRef: "B"},
			{Type: ExceptionUntrustedCallback, Source: "203.0.113.8", Detail: "malformed"},
			{Type: ExceptionPaymentLinkOverdue, OrderRef: "C"},
		},
	}
	if got, err := r.Exceptions(); err != nil || len(got) != 5 || got[0].Type != "failed" || got[1] != r.Other[0] {
		t.Errorf("Exceptions() = %v, %v", got, err)
	}
	counts, total := r.exceptionCounts(tallied(t, r))
	want := []exceptionCount{{"failed", 1}, {"no_callback", 1}, {"payment_link_overdue", 1}, {"untrusted_callback", 2}}
	if !slices.Equal(counts, want) || total != 5 {
		t.Errorf("exceptionCounts() = %v, %d; want %v, 5", counts, total, want)
	}
}

// tallied is the tally one pass over r's orders makes.
func tallied(t *testing.T, r *Report) *tally {
	t.Helper()
	var tl tally
	if err := r.eachOrder(func(o *Order) error { tl.add(o); return nil }); err != nil {
		t.Fatal(err)
	}
	return &tl
}
