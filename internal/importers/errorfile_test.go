package importers

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"
)

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var errorFileHeader = []string{"order_ref", "customer_name", "msisdn", "rate", "discount", "order_date", "note"}

// errorFileRows holds values that tempt a spreadsheet into formulas, numbers
// that must stay as written, and text that must survive the round trip.
var errorFileRows = []ErrorRow{
	{Number: 14, Cells: []string{"SO-3", "=HYPERLINK(\"http://x\",\"klikk\")", "+47 465 67 468", "-12.50", "+5", "", "@SUM(A1)"}, Errors: "rate: must not be negative"},
	{Number: 3, Cells: []string{"SO-1", "Åse Bjørnstad", "46567468", "4500", "0.1", "46327", "linje 1\nlinje 2; \"sitat\""}, Errors: "email: missing\ntax: 10 is not one of 0, 12, 15, 25"},
	{Number: 7, Cells: []string{"SO-2", "-Ærlig", "-", "199.9", "0150", "2026-11-01", "1234567890123456789"}, Errors: "=1+1"},
	{Number: 9, Cells: []string{"SO-4", "Ola"}, Errors: "short row"},
}

// wantErrorFileRows is errorFileRows read back: in row order, with
// errors, warnings and source_row first, short rows padded, at the given row
// numbers (a CSV record with line breaks takes more than one line).
func wantErrorFileRows(numbers ...int) []wantRow {
	rows := slices.Clone(errorFileRows)
	slices.SortFunc(rows, func(a, b ErrorRow) int { return a.Number - b.Number })
	var want []wantRow
	for i, r := range rows {
		cells := []string{r.Errors, r.Warnings, strconv.Itoa(r.Number)}
		for j := range errorFileHeader {
			v := ""
			if j < len(r.Cells) {
				v = r.Cells[j]
			}
			cells = append(cells, v)
		}
		want = append(want, wantRow{n: numbers[i], cells: cells})
	}
	return want
}

func TestWriteErrorFileCSVRoundTrip(t *testing.T) {
	t.Parallel()
	for _, comma := range []rune{',', ';', '\t', 0} {
		p := filepath.Join(t.TempDir(), "orders.errors.csv")
		if err := WriteErrorFile(p, errorFileHeader, comma, errorFileRows); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(raw, []byte("\xEF\xBB\xBFerrors")) || !bytes.Contains(raw, []byte("\r\n")) {
			t.Errorf("comma %q: no BOM or CRLF: %.40q", comma, raw)
		}
		for _, guarded := range []string{`'=HYPERLINK`, `'@SUM(A1)`, `'-Ærlig`, `'=1+1`} {
			if !bytes.Contains(raw, []byte(guarded)) {
				t.Errorf("comma %q: %s not guarded", comma, guarded)
			}
		}
		for _, kept := range []string{"-12.50", "+5", "+47 465 67 468"} {
			if bytes.Contains(raw, []byte("'"+kept)) {
				t.Errorf("comma %q: plain number %s was guarded", comma, kept)
			}
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %v", fi.Mode())
		}
		s, err := ReadFile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantComma := comma
		if wantComma == 0 {
			wantComma = ','
		}
		if s.Comma != wantComma {
			t.Errorf("comma %q: read back as %q", comma, s.Comma)
		}
		wantHeader := append([]string{"errors", "warnings", "source_row"}, errorFileHeader...)
		if !slices.Equal(s.Header, wantHeader) {
			t.Errorf("header %q", s.Header)
		}
		checkRows(t, s, wantErrorFileRows(2, 5, 6, 7))
	}
}

func TestWriteErrorFileXLSXRoundTrip(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "orders.errors.xlsx")
	if err := WriteErrorFile(p, errorFileHeader, 0, errorFileRows); err != nil {
		t.Fatal(err)
	}
	s, err := ReadFile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := append([]string{"errors", "warnings", "source_row"}, errorFileHeader...)
	if !slices.Equal(s.Header, wantHeader) {
		t.Errorf("header %q", s.Header)
	}
	checkRows(t, s, wantErrorFileRows(2, 3, 4, 5))

	f, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{"errors"}) {
		t.Errorf("sheets %q", sheets)
	}
	style, _ := f.GetCellStyle("errors", "B1")
	st, err := f.GetStyle(style)
	if err != nil || st.Font == nil || !st.Font.Bold {
		t.Errorf("header not bold: %+v %v", st, err)
	}
	// Row 5 holds source row 14: its formula-looking text must be text.
	for cell, want := range map[string]excelize.CellType{
		"E5": excelize.CellTypeInlineString, // =HYPERLINK(…)
		"J5": excelize.CellTypeInlineString, // @SUM(A1)
		"A5": excelize.CellTypeInlineString, // errors
		"G5": excelize.CellTypeInlineString, // -12.50 is not how Excel writes a number
		"G2": excelize.CellTypeUnset,        // 4500: a number cell has no type attribute
		"H2": excelize.CellTypeUnset,        // 0.1
		"C2": excelize.CellTypeUnset,        // source_row
		"H3": excelize.CellTypeInlineString, // 0150 keeps its zero
		"J3": excelize.CellTypeInlineString, // 19 digits stay text
	} {
		got, err := f.GetCellType("errors", cell)
		if err != nil || got != want {
			t.Errorf("%s: type %v, want %v (%v)", cell, got, want, err)
		}
		if formula, _ := f.GetCellFormula("errors", cell); formula != "" {
			t.Errorf("%s: formula %q", cell, formula)
		}
	}
	// A serial under order_date is shown as a date.
	style, _ = f.GetCellStyle("errors", "I2")
	if st, _ := f.GetStyle(style); st == nil || st.NumFmt != 14 {
		t.Errorf("order_date not formatted as a date: %+v", st)
	}
	if v, _ := f.GetCellValue("errors", "I2", excelize.Options{RawCellValue: true}); v != "46327" {
		t.Errorf("order_date raw %q", v)
	}
}

func TestWriteErrorFileReplacesItsOwnColumns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, ext := range []string{".csv", ".xlsx"} {
		first := filepath.Join(dir, "first"+ext)
		if err := WriteErrorFile(first, []string{"a", "b"}, ';', []ErrorRow{{Number: 5, Cells: []string{"1", "2"}, Errors: "old"}}); err != nil {
			t.Fatal(err)
		}
		s, err := ReadFile(first, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// The accountant fixes one thing and re-imports; the row is rejected again.
		second := filepath.Join(dir, "second"+ext)
		rows := []ErrorRow{{Number: s.Rows[0].Number, Cells: s.Rows[0].Cells, Errors: "new"}}
		if err := WriteErrorFile(second, s.Header, s.Comma, rows); err != nil {
			t.Fatal(err)
		}
		s, err = ReadFile(second, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Header, []string{"errors", "warnings", "source_row", "a", "b"}) {
			t.Errorf("%s: header %q", ext, s.Header)
		}
		checkRows(t, s, []wantRow{{2, []string{"new", "", "2", "1", "2"}}})
	}
}

func TestWriteErrorFileRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, err := range map[string]error{
		"extension":   WriteErrorFile(filepath.Join(dir, "x.ods"), []string{"a"}, ',', nil),
		"delimiter":   WriteErrorFile(filepath.Join(dir, "x.csv"), []string{"a"}, '|', nil),
		"wide row":    WriteErrorFile(filepath.Join(dir, "y.csv"), []string{"a"}, ',', []ErrorRow{{Number: 2, Cells: []string{"1", "2"}}}),
		"missing dir": WriteErrorFile(filepath.Join(dir, "no", "x.csv"), []string{"a"}, ',', nil),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left files behind: %v", entries)
	}
	// Extra cells that are empty are fine.
	if err := WriteErrorFile(filepath.Join(dir, "z.csv"), []string{"a"}, ',', []ErrorRow{{Number: 2, Cells: []string{"1", ""}}}); err != nil {
		t.Error(err)
	}
}

func TestNeedsFormulaGuard(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"":                false,
		"Kari":            false,
		"=1+1":            true,
		"@SUM(A1)":        true,
		"\tx":             true,
		"\rx":             true,
		"+47":             false,
		"+47 22 33 44 55": false,
		"-12.50":          false,
		"-1 234,50":       false,
		"-":               true,
		"+":               true,
		"-x":              true,
		"+1-800":          true,
		"-12.50 kr":       true,
		"12=3":            false,
	} {
		if got := needsFormulaGuard(v); got != want {
			t.Errorf("needsFormulaGuard(%q) = %v, want %v", v, got, want)
		}
	}
}

// Identifier columns are text cells holding the full value, the cells to
// fix are filled, and the columns are sized to their content.
func TestWriteErrorFileXLSXIdentifiersAndMarks(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "orders.errors.xlsx")
	header := []string{"Ordrenummer", "Fødselsnummer", "Postnummer", "Beløp"}
	rows := []ErrorRow{{Number: 2, Cells: []string{"A-1", "02908823470", "0358", "4500"}, Errors: "Postnummer: feil", Marked: []int{2}}}
	if err := (ErrorFile{Header: header, Text: []int{1, 2}}).Write(p, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for cell, want := range map[string]string{"E2": "02908823470", "F2": "0358"} {
		if typ, _ := f.GetCellType("errors", cell); typ != excelize.CellTypeInlineString {
			t.Errorf("%s: type %v, want a text cell", cell, typ)
		}
		if v, _ := f.GetCellValue("errors", cell, excelize.Options{RawCellValue: true}); v != want {
			t.Errorf("%s: %q, want %q", cell, v, want)
		}
		id, _ := f.GetCellStyle("errors", cell)
		if st, _ := f.GetStyle(id); st == nil || st.NumFmt != 49 {
			t.Errorf("%s: not formatted as text: %+v", cell, st)
		}
	}
	if typ, _ := f.GetCellType("errors", "G2"); typ != excelize.CellTypeUnset {
		t.Errorf("G2 (an amount): type %v, want a number", typ)
	}
	marked, _ := f.GetCellStyle("errors", "F2")
	plain, _ := f.GetCellStyle("errors", "E2")
	if st, _ := f.GetStyle(marked); st == nil || st.Fill.Pattern != 1 || len(st.Fill.Color) == 0 {
		t.Errorf("F2 (the cell to fix) not filled: %+v", st)
	}
	if st, _ := f.GetStyle(plain); st != nil && st.Fill.Pattern != 0 {
		t.Errorf("E2 filled: %+v", st)
	}
	if w, _ := f.GetColWidth("errors", "E"); w < 11 {
		t.Errorf("column E width %v: too narrow for 11 digits", w)
	}
	if panes, _ := f.GetPanes("errors"); !panes.Freeze {
		t.Errorf("header not frozen")
	}
}

// A CSV error file keeps the input's encoding: Windows-1252 (Norwegian
// Excel's "CSV (semikolondelt)") without a BOM, UTF-16 with its BOM; it
// reads back to the same text.
func TestWriteErrorFileCSVEncodings(t *testing.T) {
	t.Parallel()
	rows := []ErrorRow{{Number: 2, Cells: []string{"Ødegård", "Bjørnstad – 5 €"}, Errors: "Navn: «feil» − Σ"}}
	for _, tt := range []struct {
		enc    string
		prefix []byte
		has    []byte
	}{
		{EncodingWindows1252, []byte("errors;"), []byte{0xD8, 'd', 'e', 'g', 0xE5, 'r', 'd'}},
		{EncodingUTF16LE, []byte{0xFF, 0xFE, 'e', 0}, nil},
		{EncodingUTF8, []byte("\xEF\xBB\xBFerrors"), []byte("Ødegård")},
	} {
		p := filepath.Join(t.TempDir(), "ordrer.errors.csv")
		if err := (ErrorFile{Header: []string{"Navn", "Adresse"}, Comma: ';', Encoding: tt.enc}).Write(p, rows); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(p)
		if !bytes.HasPrefix(raw, tt.prefix) || (tt.has != nil && !bytes.Contains(raw, tt.has)) {
			t.Errorf("%s: bytes %.40q", tt.enc, raw)
		}
		s, err := ReadFile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Navn: «feil» − Σ", "", "2", "Ødegård", "Bjørnstad – 5 €"}
		if tt.enc == EncodingWindows1252 {
			want[0] = "Navn: «feil» ? ?" // the code page has no − or Σ
		}
		if len(s.Rows) != 1 || !slices.Equal(s.Rows[0].Cells, want) || s.Comma != ';' {
			t.Errorf("%s: read back %v (comma %q), want %q", tt.enc, s.Rows, s.Comma, want)
		}
	}
}
