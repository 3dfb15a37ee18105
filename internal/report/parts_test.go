package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/money"
)

// Each CSV part is a table of its own, in the report's language; the
// summary's total, the VAT total and the batches tie out; a rejected row
// with two errors is one exception and one rejected row.
func TestWriteCSVParts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.report
	r.Lang = "nb"
	r.Rejected = append(r.Rejected, Rejected{BatchID: 1, Source: "mars.xlsx", Row: 6, Column: "E-post", Value: "x@", Reason: "ugyldig"})
	r.VAT = []VATRow{{Rate: 25, Lines: 3, Net: 360000, VAT: 90000, Gross: 450000}, {Rate: 8, Lines: 1, Net: 20000, VAT: 1600, Discount: 1500, Gross: 20100}}
	parts := map[string][][]string{}
	for _, part := range Parts {
		var buf bytes.Buffer
		if err := WriteCSVPart(&buf, r, part, ';'); err != nil {
			t.Fatalf("%s: %v", part, err)
		}
		parts[part] = readCSV(t, buf.Bytes(), ';')
	}
	find := func(part, first, second string) []string {
		t.Helper()
		for _, row := range parts[part] {
			if row[0] == first && (second == "" || row[1] == second) {
				return row
			}
		}
		t.Fatalf("%s has no row %q %q: %q", part, first, second, parts[part])
		return nil
	}
	if got := find(PartSummary, "sum", "Sum")[4]; got != NOK2(b.sumOre) {
		t.Errorf("summary sum = %s, want %s", got, NOK2(b.sumOre))
	}
	if got := find(PartSummary, "status", "må kontrolleres"); got[2] != "trenger oppfølging" || got[3] != "1" {
		t.Errorf("summary status row = %q", got)
	}
	if got := find(PartSummary, "avviste rader", ""); got[3] != "2" {
		t.Errorf("rejected rows = %q, want 2 (rows, not errors)", got)
	}
	if got := find(PartSummary, "feil i avviste rader", ""); got[3] != "3" {
		t.Errorf("errors behind them = %q, want 3", got)
	}
	if got := find(PartVAT, "Sum", ""); got[1] != "4" || got[5] != "4701,00" {
		t.Errorf("VAT total = %q", got)
	}
	if got := find(PartVAT, "8 (annen sats)", ""); got[4] != "15,00" {
		t.Errorf("VAT other rate = %q", got)
	}
	if got := find(PartVAT, "Differanse", ""); got[5] != NOK2(4701_00-b.sumOre) {
		t.Errorf("VAT difference = %q, want the lines' gross less the orders' %s", got, NOK2(b.sumOre))
	}
	if len(parts[PartVAT]) != 1+5+3 { // header, 0 12 15 25 and 8, total, the orders' total, difference
		t.Errorf("VAT part has %d rows: %q", len(parts[PartVAT]), parts[PartVAT])
	}
	for _, row := range parts[PartExceptions] {
		if row[0] == "avvist rad" && row[3] == "6" && !strings.Contains(row[5], "empty row; kolonne \"E-post\"") {
			t.Errorf("row 6's errors are not on one line: %q", row)
		}
	}
	if got := parts[PartBatches][0][0]; got != "Fil-ID" {
		t.Errorf("batches header starts %q", got)
	}
	if err := WriteCSVPart(&bytes.Buffer{}, r, "nope", ';'); err == nil {
		t.Error("unknown part accepted")
	}
	if err := WritePart(&bytes.Buffer{}, r, "xlsx", PartVAT, ';'); err == nil {
		t.Error("a part with xlsx accepted")
	}
}

// WriteFiles writes every CSV part beside the orders, group-readable.
func TestWriteFilesParts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "reconciliation-2026-03-01.csv")
	if _, err := WriteFiles(path, b.report, "csv", ';'); err != nil {
		t.Fatal(err)
	}
	for _, part := range Parts {
		fi, err := os.Stat(PartPath(path, part))
		if err != nil || fi.Mode().Perm() != FileMode {
			t.Errorf("%s: %v %v", part, err, fi)
		}
	}
	if got := PartPath(path, PartVAT); got != filepath.Join(dir, "reconciliation-2026-03-01-vat.csv") {
		t.Errorf("PartPath = %s", got)
	}
}

// NOK2 is øre as the ';' CSV writes it.
func NOK2(ore int64) string { return string(money.Amount(ore).AppendNOK(nil, ',')) }
