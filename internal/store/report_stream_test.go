package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/pii"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// The view masks personal numbers exactly as pii.MaskPersonalNumber does.
func TestMaskPersonalNumberSQL(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	for _, in := range []string{"", "01019012345", "41019012345", "0101901234", "010190 12345", "abc", "010190123456"} {
		var got string
		if err := pool.QueryRow(context.Background(), `SELECT mask_personal_number($1)`, in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := pii.MaskPersonalNumber(in); got != want {
			t.Errorf("mask_personal_number(%q) = %q, pii says %q", in, got, want)
		}
	}
	var null string
	if err := pool.QueryRow(context.Background(), `SELECT mask_personal_number(NULL)`).Scan(&null); err != nil || null != "" {
		t.Errorf("mask_personal_number(NULL) = %q, %v; want \"\"", null, err)
	}
}

// WithReport streams the same orders LoadReport holds, personal numbers
// masked, in report order, and its passes see one snapshot: an order
// imported while the report is written is in none of them.
func TestWithReportStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	const full = "01019012345"
	priv := addOrder(t, pool, "invoice", "P-1", "sent", "uuid-1", "")
	addOrder(t, pool, "invoice", "C-1", "paid", "uuid-2", "")
	if _, err := pool.Exec(ctx, `UPDATE orders SET order_data = json_build_object('customer', json_build_object('personal_number', $2::text)),
		source_row = 7 WHERE id = $1`, priv, full); err != nil {
		t.Fatal(err)
	}
	oslo, _ := time.LoadLocation("Europe/Oslo")
	now := time.Now()
	today := now.In(oslo).Format(time.DateOnly)

	loaded, err := store.LoadReport(ctx, pool, today, today, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Orders) != 2 {
		t.Fatalf("LoadReport: %d orders, want 2", len(loaded.Orders))
	}
	var passes [][]report.Order
	err = store.WithReport(ctx, pool, today, today, now, 0, func(r *report.Report) error {
		if r.Orders != nil || r.Each == nil {
			t.Fatalf("WithReport gave Orders %v, Each %v", r.Orders, r.Each != nil)
		}
		for pass := range 2 {
			var got []report.Order
			if err := r.Each(func(o *report.Order) error {
				c := *o
				at := *o.StatusAt
				c.StatusAt = &at
				got = append(got, c)
				return nil
			}); err != nil {
				return err
			}
			passes = append(passes, got)
			if pass == 0 { // another order arrives between the passes
				addOrder(t, pool, "invoice", "LATE-1", "queued", "", "")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, got := range passes {
		if !slices.EqualFunc(got, loaded.Orders, sameOrder) {
			t.Errorf("pass %d: %+v\nwant %+v", i, got, loaded.Orders)
		}
	}
	byRef := map[string]report.Order{}
	for _, o := range loaded.Orders {
		byRef[o.OrderRef] = o
	}
	if got := byRef["P-1"].PersonalNumber; got != "010190*****" {
		t.Errorf("P-1 personal number %q, want 010190*****", got)
	}
	if got := byRef["C-1"].PersonalNumber; got != "" {
		t.Errorf("C-1 personal number %q, want none", got)
	}
	for _, o := range loaded.Orders {
		if strings.Contains(o.PersonalNumber, "12345") {
			t.Errorf("%s: full personal number in the report rows", o.OrderRef)
		}
	}
}

func sameOrder(a, b report.Order) bool {
	return a.OrderRef == b.OrderRef && a.Kind == b.Kind && a.Status == b.Status && a.GrandTotal == b.GrandTotal &&
		a.PersonalNumber == b.PersonalNumber && a.SourceRow == b.SourceRow && a.FPOrderUUID == b.FPOrderUUID &&
		a.StatusAt.Equal(*b.StatusAt) && a.ImportedAt.Equal(b.ImportedAt)
}
