package intake_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
)

// The grouping of a file's lines into orders is intake's (engine.go); these
// tests feed it rows in memory, the way the ERP import does.

// validFields is a row that is valid for the kind and customer type.
func validFields(kind fpclient.Kind, customerType string) map[string]string {
	f := map[string]string{
		"order_ref": "A-1001", "kind": string(kind), "customer_type": customerType,
		"customer_name": "Kari Nordmann", "email": "kari@nordmann.no", "country_code": "+47",
		"msisdn": "465 67 468", "street": "Luramyrveien 65", "zip": "4313", "city": "Sandnes",
		"country": "NO", "product_id": "1234", "product_name": "Test Product", "quantity": "1",
		"rate": "4500", "tax": "12",
	}
	if customerType == "corporate" {
		f["customer_name"] = "Nordmann AS"
		f["organization_id"] = "923 609 016"
	} else if kind == fpclient.KindInvoice || kind == fpclient.KindPaymentLink {
		f["personal_number"] = "28038712383"
	}
	if kind == fpclient.KindCheckout {
		f["payment_method"] = "visa"
	}
	return f
}

// fieldRow is one row of a sheet: its number and its cells by column.
type fieldRow struct {
	number int
	fields map[string]string
}

// row builds a row from base with col, value pairs changed.
func row(number int, base map[string]string, kv ...string) fieldRow {
	f := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return fieldRow{number, f}
}

// checkRows validates rows, in the order given, as one file named
// orders.csv with every canonical column.
func checkRows(t *testing.T, opt mapping.Options, rows ...fieldRow) result {
	t.Helper()
	sheet := &importers.Sheet{File: "orders.csv", Format: "csv", Comma: ',', Header: mapping.CanonicalColumns}
	for _, r := range rows {
		cells := make([]string, len(mapping.CanonicalColumns))
		for i, c := range mapping.CanonicalColumns {
			cells[i] = strings.TrimSpace(r.fields[c])
		}
		sheet.Rows = append(sheet.Rows, importers.Row{Number: r.number, Cells: cells})
	}
	f, err := intake.FromSheet(sheet, intake.Options{Mapping: opt})
	if err != nil {
		t.Fatal(err)
	}
	return checkFile(t, f)
}

func groupingOptions() mapping.Options { return mapping.Options{Now: samplesNow, Location: oslo()} }

// Lines of one order are one order, in row order, even with another
// order's line between them; blank rows are skipped.
func TestGrouping(t *testing.T) {
	t.Parallel()
	a := validFields(fpclient.KindInvoice, "private")
	c := validFields(fpclient.KindInvoice, "corporate")
	c["order_ref"] = "A-1002"
	res := checkRows(t, groupingOptions(),
		row(2, a),
		row(3, c),
		row(4, a, "product_name", "Second", "rate", "100,10", "email", "KARI@nordmann.no", "country_code", "0047"),
		row(5, a, "product_name", "Third", "customer_name", "", "email", ""),
		row(6, map[string]string{"order_ref": " ", "rate": ""}), // blank: skipped
	)
	if len(res.Errors) != 0 {
		t.Fatalf("got errors %v, want none", res.Errors)
	}
	if len(res.Orders) != 2 {
		t.Fatalf("got %d orders, want 2", len(res.Orders))
	}
	o := res.Orders[0]
	if o.Ref != "A-1001" || !slices.Equal(o.Rows, []int{2, 4, 5}) || o.FirstRow != 2 {
		t.Errorf("first order: got ref %s rows %v first %d, want A-1001 [2 4 5] 2", o.Ref, o.Rows, o.FirstRow)
	}
	var names []string
	for _, l := range o.Lines {
		names = append(names, l.Name)
	}
	if want := []string{"Test Product", "Second", "Third"}; !slices.Equal(names, want) {
		t.Errorf("lines: got %v, want %v", names, want)
	}
	if got := o.Totals().GrandTotal; got != 450000+10010+450000 {
		t.Errorf("grand total: got %s, want 9010.10", got.NOK())
	}
	if res.Orders[1].Ref != "A-1002" {
		t.Errorf("second order: got %s, want A-1002", res.Orders[1].Ref)
	}
	if len(res.RejectedRows) != 0 {
		t.Errorf("RejectedRows: got %v, want none", res.RejectedRows)
	}
}

// An error on one row rejects its whole order, and each other row says
// why; another order whose line sits between them is not touched.
func TestGroupingRejectsWholeOrder(t *testing.T) {
	t.Parallel()
	a := validFields(fpclient.KindInvoice, "private")
	c := validFields(fpclient.KindInvoice, "private")
	c["order_ref"] = "A-1002"
	res := checkRows(t, groupingOptions(),
		row(2, a),
		row(3, a, "rate", "12.345", "tax", "0.25", "email", "kari@"), // three errors in one row
		row(4, c),
		row(5, a, "email", "ola@nordmann.no"), // differs from row 2
		row(6, a),
	)
	got := make([]string, len(res.Errors))
	for i, e := range res.Errors {
		got[i] = e.Error()
	}
	want := []string{
		`orders.csv row 2, column order_ref ("A-1001"): order A-1001 is rejected because rows 3 and 5 have errors`,
		`orders.csv row 3, column rate ("12.345"): more than 2 decimals; if "12.345" means 12345, write it without the separator`,
		`orders.csv row 3, column tax ("0.25"): looks like a fraction; write the rate in percent, e.g. 25 for 25 %`,
		`orders.csv row 5, column email ("ola@nordmann.no"): differs from row 2 ("kari@nordmann.no"); columns other than the product columns belong to the order: repeat the first row's value or leave it empty`,
		`orders.csv row 6, column order_ref ("A-1001"): order A-1001 is rejected because rows 3 and 5 have errors`,
	}
	// Row 3's e-mail differs from row 2 as well; both are reported.
	want = slices.Insert(want, 1, `orders.csv row 3, column email ("kari@"): differs from row 2 ("kari@nordmann.no"); columns other than the product columns belong to the order: repeat the first row's value or leave it empty`)
	if !slices.Equal(got, want) {
		t.Errorf("errors:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if len(res.Orders) != 1 || res.Orders[0].Ref != "A-1002" {
		t.Errorf("orders: got %d, want only A-1002", len(res.Orders))
	}
	wantRejected := map[int]bool{2: true, 3: true, 5: true, 6: true}
	if !maps.Equal(res.RejectedRows, wantRejected) {
		t.Errorf("RejectedRows: got %v, want %v", res.RejectedRows, wantRejected)
	}
}

// FuzzIntakeOrders: through intake's grouping and mapping's validation,
// whatever the cells hold, nothing panics, every non-blank row is either in
// exactly one order or rejected, every accepted order keeps the money
// invariant and BuildPayload accepts it.
func FuzzIntakeOrders(f *testing.F) {
	f.Add("invoice", "4500", "1", "12", "", "", "0", "465 67 468")
	f.Add("payment-link", "1 234,50", "1,5", "25%", "30.11.2026", "", "10", "+47 46567468")
	f.Add("checkout", "0,30000000000000004", "3", "15", "", "20.11.2026", "0,10", "46567468")
	f.Add("hosted-checkout", "kr 99", "0,001", "0", "46360", "", "", "4656 7468")
	f.Add("invoice", "-1", "0", "0.25", "x", "y", "z", "")
	f.Fuzz(func(t *testing.T, kind, rate, qty, tax, due, orderDate, discount, msisdn string) {
		opt := groupingOptions()
		base := validFields(fpclient.KindInvoice, "private")
		base["kind"] = kind
		if k, err := mapping.ParseKindCell(kind); err == nil {
			base = validFields(k, "private")
			base["kind"] = kind
		}
		rows := []fieldRow{
			row(2, base, "rate", rate, "quantity", qty, "tax", tax, "due_date", due, "order_date", orderDate, "discount", discount, "msisdn", msisdn),
			row(3, base, "rate", rate, "quantity", qty, "msisdn", msisdn),
		}
		res := checkRows(t, opt, rows...)
		seen := map[int]int{}
		for _, o := range res.Orders {
			for _, r := range o.Rows {
				seen[r]++
			}
			tot := o.Totals()
			if tot.SubTotal+tot.TotalTax-tot.TotalDiscount != tot.GrandTotal || tot.GrandTotal <= 0 {
				t.Fatalf("order %+v: totals %+v", o, tot)
			}
			if _, err := mapping.BuildPayload(o, mapping.PayloadOptions{CallbackURL: "https://x.example/cb", SuccessURL: "https://x.example/s",
				FailureURL: "https://x.example/f", Now: samplesNow, Location: oslo()}); err != nil {
				t.Fatalf("BuildPayload(%+v): %v", o, err)
			}
		}
		for _, r := range rows {
			n := seen[r.number]
			if res.RejectedRows[r.number] {
				n++
			}
			if n != 1 {
				t.Fatalf("row %d: in %d orders, rejected %v", r.number, seen[r.number], res.RejectedRows[r.number])
			}
		}
		for _, e := range res.Errors {
			if !res.RejectedRows[e.Row] {
				t.Fatalf("error %v on a row that is not rejected", e)
			}
		}
	})
}
