package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A personal number reaches no rendering in full: XLSX, CSV and JSON show
// it masked (birth date kept, the five personal digits hidden), even when
// the caller hands over the full number.
func TestPersonalNumberMasked(t *testing.T) {
	t.Parallel()
	const full, masked = "01019012345", "010190*****"
	r := &Report{Lang: "en", From: "2026-03-01", To: "2026-03-01", Orders: []Order{
		{BatchID: 1, Source: "mars.csv", SourceRow: 2, OrderRef: "P-1", Kind: "invoice", CustomerName: "Kari Nordmann",
			PersonalNumber: full, GrandTotal: 100, Status: "sent"},
		{BatchID: 1, Source: "mars.csv", SourceRow: 3, OrderRef: "P-2", Kind: "invoice", CustomerName: "Bedrift AS",
			GrandTotal: 200, Status: "sent"},
	}}
	for _, format := range Formats {
		var buf bytes.Buffer
		if err := Write(&buf, r, format); err != nil {
			t.Fatal(format, err)
		}
		text := buf.Bytes()
		if format == "xlsx" {
			_, f := writeXLSX(t, r)
			if got := raw(t, f, SheetOrders, "G2"); got != masked {
				t.Errorf("xlsx Orders!G2 = %q, want %q", got, masked)
			}
			if got := raw(t, f, SheetOrders, "G3"); got != "" {
				t.Errorf("xlsx Orders!G3 = %q, want empty", got)
			}
			continue // compressed: the cell checks above stand for it
		}
		if bytes.Contains(text, []byte(full)) || bytes.Contains(text, []byte("12345")) {
			t.Errorf("%s shows the full personal number:\n%s", format, text)
		}
		if !bytes.Contains(text, []byte(masked)) {
			t.Errorf("%s lacks the masked number %s", format, masked)
		}
	}
}

// A report read through Each renders exactly as the same orders in a
// slice, and an error from Each ends every rendering with that error.
func TestEachMatchesOrders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	streamed := *b.report
	orders := b.report.Orders
	streamed.Orders = nil
	streamed.Each = func(fn func(*Order) error) error {
		var o Order // one Order reused, as the store does
		for i := range orders {
			o = orders[i]
			if err := fn(&o); err != nil {
				return err
			}
		}
		return nil
	}
	for _, format := range []string{"csv", "json"} {
		var want, got bytes.Buffer
		if err := Write(&want, b.report, format); err != nil {
			t.Fatal(err)
		}
		if err := Write(&got, &streamed, format); err != nil {
			t.Fatal(err)
		}
		if want.String() != got.String() {
			t.Errorf("%s differs when streamed:\n%s\nwant\n%s", format, got.String(), want.String())
		}
	}
	_, wantF := writeXLSX(t, b.report)
	_, gotF := writeXLSX(t, &streamed)
	for _, sheet := range []string{SheetSummary, SheetOrders, SheetExceptions, SheetBatches} {
		w, _ := wantF.GetRows(sheet)
		g, _ := gotF.GetRows(sheet)
		if len(w) != len(g) || strings.Join(flat(w), "|") != strings.Join(flat(g), "|") {
			t.Errorf("%s differs when streamed", sheet)
		}
	}

	boom := errors.New("connection lost")
	streamed.Each = func(fn func(*Order) error) error { return boom }
	for _, format := range Formats {
		if err := Write(&bytes.Buffer{}, &streamed, format); !errors.Is(err, boom) {
			t.Errorf("%s: error %v, want %v", format, err, boom)
		}
	}
}

func flat(rows [][]string) (out []string) {
	for _, r := range rows {
		out = append(out, strings.Join(r, ";"))
	}
	return out
}
