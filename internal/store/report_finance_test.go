package store_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// The SQL function order_line_totals, which the report's VAT table and the
// orders' net, VAT and discount come from, gives mapping.OrderLine.Totals'
// answers: the same rounding, halves away from zero, for odd quantities,
// negative lines and every VAT rate.
func TestOrderLineTotalsMatchMapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	var lines []mapping.OrderLine
	for _, q := range []money.Quantity{1000, 1, 1500, 333, 2005, -1000} {
		for _, rate := range []money.Amount{1, 5, 10010, 99999, 12345, -250} {
			for _, tax := range []int{0, 8, 12, 15, 25} {
				lines = append(lines, mapping.OrderLine{Name: "x", Quantity: q, Rate: rate, Discount: money.Amount(tax), TaxPercent: tax})
			}
		}
	}
	data, err := json.Marshal(lines)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT line_no, tax_percent, gross_ore, net_ore, vat_ore, discount_ore, amount_ore
		FROM order_line_totals($1::jsonb) ORDER BY line_no`, string(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var no, tax int
		var gross, net, vat, discount, amount int64
		if err := rows.Scan(&no, &tax, &gross, &net, &vat, &discount, &amount); err != nil {
			t.Fatal(err)
		}
		l := lines[no-1]
		want := l.Totals()
		if tax != l.TaxPercent || gross != int64(want.Gross) || net != int64(want.Net) || vat != int64(want.Tax) ||
			discount != int64(want.Discount) || amount != int64(want.Amount) {
			t.Errorf("line %+v: SQL tax %d gross %d net %d vat %d discount %d amount %d; Go %+v", l, tax, gross, net, vat, discount, amount, want)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != len(lines) {
		t.Fatalf("%d lines back of %d: %v", n, len(lines), err)
	}
}

// A callback that carries an amount: applying it keeps FP's paid time
// (createdAt) and amount on the order, and the report's view shows them;
// its token never leaves the stored query.
func TestPaidAmountAndTimeFromCallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	id := addOrder(t, pool, "payment-link", "P-1", "sent", "ODR-1", "")
	const createdAt = 1767225600 // 2026-01-01 00:00:00 UTC
	cbID, err := store.SaveCallback(ctx, pool, store.CallbackIn{RemoteAddr: "192.0.2.1",
		RawQuery: "ref=1&token=SECRET&orderUuid=ODR-1&status=PAID&createdAt=1767225600&amount=4500.50&checksum=x",
		OrderID:  id, FPOrderUUID: "ODR-1", FPStatus: "PAID", CreatedAt: "1767225600", Amount: "4500.50", Verdict: store.VerdictAccepted})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	cb, err := store.LockCallback(ctx, tx, cbID)
	if err != nil || cb.Amount != "4500.50" {
		t.Fatalf("callback amount %q, %v; want 4500.50", cb.Amount, err)
	}
	o, err := store.LockOrder(ctx, tx, id)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := orders.ApplyFPWord(ctx, tx, o, orders.FPWord{OrderUUID: "ODR-1", Status: "PAID", CreatedAt: createdAt,
		CallbackID: cbID, Amount: cb.Amount}, map[string]any{"source": "test"}, log); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var paidAt time.Time
	var paidOre *int64
	if err := pool.QueryRow(ctx, `SELECT paid_at, paid_amount_ore FROM reconciliation_orders WHERE order_id = $1`, id).
		Scan(&paidAt, &paidOre); err != nil {
		t.Fatal(err)
	}
	if paidAt.Unix() != createdAt || paidOre == nil || *paidOre != 450050 {
		t.Errorf("paid %v, %v øre; want FP's %d and 450050", paidAt, paidOre, createdAt)
	}
}
