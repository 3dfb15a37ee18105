package operator_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
)

// An order's history starts with the import that brought it in, though an
// import writes no event per order: the file, its batch and the row, at
// the moment it was imported. A later import that changes the order is its
// own entry, and the first import stays the first batch's.
func TestHistoryStartsAtTheImport(t *testing.T) {
	t.Parallel()
	desk, pool := newDesk(t)
	ctx := context.Background()
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const header = "order_ref,kind,customer_type,customer_name,email,country_code,msisdn,personal_number,organization_id,street,zip,city,country,preferred_language,product_id,product_name,quantity,rate,discount,tax,order_date,due_date,payment_method,reference_no,customer_reference,send_sms,send_email,invoice_fee\n"
	line := func(ref, rate string) string {
		return ref + ",invoice,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Luramyrveien 65,4313,Sandnes,NO,no,,Timer,1," + rate + ",0,25,,,,,,,,\n"
	}
	commit := func(name, content string) int64 {
		t.Helper()
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := intake.Open(p, intake.Options{Mapping: mapping.Options{Now: time.Now(), Location: time.UTC, DefaultKind: fpclient.KindInvoice}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, intake.CommitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Batches[0].BatchID
	}
	first := commit("mars.csv", header+line("H-1", "100.00")+line("H-2", "200.00"))
	second := commit("april.csv", header+line("H-9", "5.00")+line("H-2", "250.00"))

	for _, c := range []struct {
		spec, file string
		batch      int64
		row        any
	}{
		{"invoice:H-1", "mars.csv", first, 2},   // its first batch, its row (the header is row 1)
		{"invoice:H-2", "mars.csv", first, nil}, // changed by april.csv: mars.csv's row was overwritten
		{"invoice:H-9", "april.csv", second, 2},
	} {
		h, err := desk.HistoryOf(ctx, c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Entries) == 0 {
			t.Fatalf("%s: no history", c.spec)
		}
		e := h.Entries[0]
		if e.Kind != "import" || e.Detail["file"] != c.file || e.Detail["batch_id"] != c.batch || e.Detail["row"] != c.row ||
			!e.At.Equal(h.ImportedAt) {
			t.Errorf("%s: first entry %+v, want the import of %s (batch %d, row %v) at %s", c.spec, e, c.file, c.batch, c.row, h.ImportedAt)
		}
		for _, later := range h.Entries[1:] {
			if later.Kind == "import" {
				t.Errorf("%s: a second import entry %+v", c.spec, later)
			}
		}
	}
	h, _ := desk.HistoryOf(ctx, "invoice:H-2")
	if len(h.Entries) < 2 || h.Entries[1].Type != "changed" || h.Entries[1].Detail["batch_id"] != float64(second) {
		t.Errorf("H-2's change by april.csv is not its second entry: %+v", h.Entries)
	}
}
