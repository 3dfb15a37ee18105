package importers

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxBuilder writes test workbooks with excelize, so no binary test files
// are committed.
type xlsxBuilder struct {
	t     testing.TB
	f     *excelize.File
	sheet string
}

// row writes values from column A of the given row; "" leaves a cell out.
func (b *xlsxBuilder) row(n int, values ...any) {
	b.t.Helper()
	for i, v := range values {
		if v == "" {
			continue
		}
		cell, err := excelize.CoordinatesToCellName(i+1, n)
		if err != nil {
			b.t.Fatal(err)
		}
		if err := b.f.SetCellValue(b.sheet, cell, v); err != nil {
			b.t.Fatal(err)
		}
	}
}

func (b *xlsxBuilder) merge(from, to string) {
	b.t.Helper()
	if err := b.f.MergeCell(b.sheet, from, to); err != nil {
		b.t.Fatal(err)
	}
}

func buildXLSX(t testing.TB, fill func(*xlsxBuilder)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	fill(&xlsxBuilder{t: t, f: f, sheet: "Sheet1"})
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readXLSXBytes(t *testing.T, b []byte, opt Options) *Sheet {
	t.Helper()
	s, err := ReadXLSX("t.xlsx", bytes.NewReader(b), opt)
	if err != nil {
		t.Fatalf("ReadXLSX: %v", err)
	}
	return s
}

func xlsxFileError(t *testing.T, b []byte, opt Options) *FileError {
	t.Helper()
	s, err := ReadXLSX("t.xlsx", bytes.NewReader(b), opt)
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("ReadXLSX: got sheet %+v, err %v; want a *FileError", s, err)
	}
	return fe
}

func TestReadXLSXRawValues(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "order_ref", " rate ", "quantity", "order_date", "send_sms", "zip", "personal_number")
		f.row(2, "SO-1", 4500.0, 2, day, true, "0150", 5881234567)
		f.row(3, " SO-2\u00a0", 199.9, 1.5, "", false, "5003", "")
	})
	s := readXLSXBytes(t, b, Options{})
	if s.Format != "xlsx" || s.File != "t.xlsx" || s.Date1904 {
		t.Errorf("got %+v", s)
	}
	if want := []string{"order_ref", "rate", "quantity", "order_date", "send_sms", "zip", "personal_number"}; !slices.Equal(s.Header, want) {
		t.Errorf("header %q, want %q", s.Header, want)
	}
	// Raw values: numbers as stored, a date as its serial, a boolean as 1/0.
	checkRows(t, s, []wantRow{
		{2, []string{"SO-1", "4500", "2", "46327", "1", "0150", "5881234567"}},
		{3, []string{"SO-2", "199.9", "1.5", "", "0", "5003", ""}},
	})
}

func TestReadXLSXKeepsRowNumbersAcrossEmptyRows(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "a", "b")
		f.row(2, "1", "2")
		// Row 3 is absent from the XML; row 5 holds only blanks.
		f.row(4, "3", "4")
		f.row(5, " ", "")
		f.row(7, "", "5")
	})
	if bytes.Contains(sheetXML(t, b), []byte(`<row r="3"`)) {
		t.Fatal("test setup: row 3 should not be in the XML")
	}
	s := readXLSXBytes(t, b, Options{})
	checkRows(t, s, []wantRow{{2, []string{"1", "2"}}, {4, []string{"3", "4"}}, {7, []string{"", "5"}}})
}

func TestReadXLSXHeaderNotOnRowOne(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(3, "a", "b")
		f.row(4, "1", "2")
	})
	s := readXLSXBytes(t, b, Options{})
	checkRows(t, s, []wantRow{{4, []string{"1", "2"}}})
}

func sheetXML(t *testing.T, b []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, ok := f.Pkg.Load("xl/worksheets/sheet1.xml")
	if !ok {
		t.Fatal("no sheet1.xml")
	}
	return v.([]byte)
}

func TestReadXLSXSheetOption(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "first")
		f.row(2, "1")
		if _, err := f.f.NewSheet("Ordrer"); err != nil {
			t.Fatal(err)
		}
		if err := f.f.SetSheetRow("Ordrer", "A1", &[]any{"second"}); err != nil {
			t.Fatal(err)
		}
		if err := f.f.SetSheetRow("Ordrer", "A2", &[]any{"2"}); err != nil {
			t.Fatal(err)
		}
	})
	if s := readXLSXBytes(t, b, Options{}); s.Header[0] != "first" {
		t.Errorf("default sheet: header %q", s.Header)
	}
	hidden := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "lists")
		if _, err := f.f.NewSheet("Ordrer"); err != nil {
			t.Fatal(err)
		}
		if err := f.f.SetSheetRow("Ordrer", "A1", &[]any{"visible"}); err != nil {
			t.Fatal(err)
		}
		f.f.SetActiveSheet(1)
		if err := f.f.SetSheetVisible("Sheet1", false); err != nil {
			t.Fatal(err)
		}
	})
	if s := readXLSXBytes(t, hidden, Options{}); s.Header[0] != "visible" {
		t.Errorf("hidden first sheet: read %q, want the first visible sheet", s.Header)
	}
	if s := readXLSXBytes(t, hidden, Options{Sheet: "Sheet1"}); s.Header[0] != "lists" {
		t.Errorf("hidden sheet by name: read %q", s.Header)
	}
	if s := readXLSXBytes(t, b, Options{Sheet: "ordrer"}); s.Header[0] != "second" || s.Rows[0].Cells[0] != "2" {
		t.Errorf("sheet ordrer: got %+v", s)
	}
	fe := xlsxFileError(t, b, Options{Sheet: "Orders"})
	if got, want := fe.Error(), `t.xlsx: no sheet named "Orders"; the workbook has "Sheet1", "Ordrer"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadXLSXMergedCells(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fill  func(*xlsxBuilder)
		error string // "" = no error
	}{
		{"merged header", func(f *xlsxBuilder) {
			f.row(1, "order_ref", "customer", "", "rate")
			f.row(2, "SO-1", "Kari", "kari@example.com", "1")
			f.merge("B1", "C1")
		}, "t.xlsx row 1, column customer: merged header cells B1:C1: unmerge them and give every column its own name"},
		{"merged header without data under it", func(f *xlsxBuilder) {
			f.row(1, "a", "b")
			f.row(2, "1", "2")
			f.merge("B1", "D1")
		}, "t.xlsx row 1, column b: merged header cells B1:D1"},
		{"order ref merged over its lines", func(f *xlsxBuilder) {
			f.row(1, "order_ref", "product")
			f.row(2, "SO-1", "A")
			f.row(3, "", "B")
			f.row(4, "SO-2", "C")
			f.merge("A2", "A3")
		}, "t.xlsx row 2, column order_ref: merged cells A2:A3: unmerge them and fill in every cell"},
		{"merged cells below the data", func(f *xlsxBuilder) {
			f.row(1, "a", "b")
			f.row(2, "1", "2")
			f.row(6, "")
			f.merge("A6", "B7")
		}, ""},
		{"merged blank row between data", func(f *xlsxBuilder) {
			f.row(1, "a", "b")
			f.row(2, "1", "2")
			f.row(4, "3", "4")
			f.merge("A3", "B3")
		}, ""},
		{"merged cells right of the data", func(f *xlsxBuilder) {
			f.row(1, "a", "b")
			f.row(2, "1", "2")
			f.merge("D1", "E2")
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := buildXLSX(t, tc.fill)
			_, err := ReadXLSX("t.xlsx", bytes.NewReader(b), Options{})
			switch {
			case tc.error == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.error != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.error)):
				t.Errorf("got %v, want %q", err, tc.error)
			}
		})
	}
}

func TestAfterEndTag(t *testing.T) {
	t.Parallel()
	long := strings.Repeat(`<c r="A1" t="inlineStr"><is><t>sheetData&gt; x:sheetData> /sheetData></t></is></c>`, 5000)
	for name, xml := range map[string]string{
		"plain":    `<worksheet><sheetData>` + long + `</sheetData><mergeCells><mergeCell ref="A1:B1"/></mergeCells></worksheet>`,
		"prefixed": `<x:worksheet xmlns:x="s"><x:sheetData>` + long + `</x:sheetData ><x:mergeCells><x:mergeCell ref="A1:B1"/></x:mergeCells></x:worksheet>`,
	} {
		r, ok, err := afterEndTag(strings.NewReader(xml), "sheetData")
		if !ok || err != nil {
			t.Fatalf("%s: not found (%v)", name, err)
		}
		var rest bytes.Buffer
		rest.ReadFrom(r)
		if !strings.HasPrefix(rest.String(), "<") || !strings.Contains(rest.String(), `mergeCell ref="A1:B1"`) || strings.Contains(rest.String(), "<c ") {
			t.Errorf("%s: rest starts %.60q", name, rest.String())
		}
	}
	if _, ok, _ := afterEndTag(strings.NewReader("<sheetData/>"+long), "sheetData"); ok {
		t.Error("found an end tag in a sheet without one")
	}
}

func TestReadXLSXEmptyHeaderOverData(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "a", "", "c")
		f.row(2, "1", "", "3")
		f.row(3, "1", "2", "3")
	})
	fe := xlsxFileError(t, b, Options{})
	if got, want := fe.Error(), "t.xlsx row 3, column B: has a value, but this column (number 2) has no name in the header (row 1)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	b = buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "a", "A")
		f.row(2, "1", "2")
	})
	if fe := xlsxFileError(t, b, Options{}); !strings.Contains(fe.Reason, "duplicate column name") {
		t.Errorf("got %v", fe)
	}
}

func TestReadXLSXDate1904(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "a")
		f.row(2, "1")
		yes := true
		if err := f.f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
			t.Fatal(err)
		}
	})
	if s := readXLSXBytes(t, b, Options{}); !s.Date1904 {
		t.Error("Date1904 not reported")
	}
}

func TestReadXLSXMaxRows(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "a")
		for n := 2; n <= 6; n++ {
			f.row(n, n)
		}
	})
	fe := xlsxFileError(t, b, Options{MaxRows: 4})
	if fe.Row != 6 || !strings.Contains(fe.Reason, "more than 4 rows") {
		t.Errorf("got %v", fe)
	}
}

func TestReadXLSXRejectsOtherFiles(t *testing.T) {
	t.Parallel()
	valid := buildXLSX(t, func(f *xlsxBuilder) { f.row(1, "a"); f.row(2, "1") })
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*7919 + i/13)
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"empty":                  {nil, "the file is empty"},
		"csv renamed":            {[]byte("order_ref;rate\nSO-1;4500,00\n"), "was a CSV file renamed to .xlsx?"},
		"windows-1252 csv":       {[]byte("navn;by\nKari;Bod\xF8\n"), "was a CSV file renamed to .xlsx?"},
		"random bytes":           {random, "not an XLSX workbook"},
		"xls or encrypted":       {append(append([]byte{}, oleMagic...), random...), "Excel 97-2003 (.xls) or a password-protected workbook"},
		"truncated":              {valid[:len(valid)/2], "not a valid XLSX workbook"},
		"zip without a workbook": {zipOf(t, map[string]string{"hello.txt": "hi"}), "not a valid XLSX workbook (parts of it are missing)"},
		"zip header, garbage":    {append([]byte("PK\x03\x04"), random...), "not a valid XLSX workbook"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fe := xlsxFileError(t, tc.data, Options{})
			if !strings.Contains(fe.Error(), tc.want) || !strings.HasPrefix(fe.Error(), "t.xlsx: ") {
				t.Errorf("got %q, want it to contain %q", fe.Error(), tc.want)
			}
		})
	}
}

func TestReadFileXLSXMatchesReadXLSX(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "a", "b")
		f.row(2, "x", 1.25)
		f.row(3, "y", "")
		f.merge("A2", "A3")
	})
	p := filepath.Join(t.TempDir(), "m.xlsx")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(p, Options{})
	if err == nil || !strings.Contains(err.Error(), "merged cells A2:A3") {
		t.Errorf("ReadFile: got %v, want the merged-cells error", err)
	}
}

// rawZip writes entries with the sizes they declare, true or not.
func rawZip(t *testing.T, entries ...zip.FileHeader) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, h := range entries {
		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, h.CompressedSize64))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadXLSXDistrustsDeclaredSizes(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		entries []zip.FileHeader
		want    string
	}{
		"impossible ratio": {[]zip.FileHeader{{Name: "xl/styles.xml", Method: zip.Deflate, CompressedSize64: 100, UncompressedSize64: 3 << 30}},
			"the zip archive is damaged"},
		"stored with two sizes": {[]zip.FileHeader{{Name: "xl/workbook.xml", Method: zip.Store, CompressedSize64: 10, UncompressedSize64: 1 << 20}},
			"the zip archive is damaged"},
		"huge picture": {[]zip.FileHeader{{Name: "xl/media/image1.png", Method: zip.Deflate, CompressedSize64: 300 << 10, UncompressedSize64: 300 << 20}},
			"part xl/media/image1.png of the workbook is 300 MB uncompressed, over the limit of 32 MB"},
		"huge workbook": {[]zip.FileHeader{
			{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CompressedSize64: 2 << 20, UncompressedSize64: 2 << 30},
			{Name: "xl/worksheets/sheet2.xml", Method: zip.Deflate, CompressedSize64: 2 << 20, UncompressedSize64: 2 << 30},
			{Name: "xl/worksheets/sheet3.xml", Method: zip.Deflate, CompressedSize64: 2 << 20, UncompressedSize64: 2 << 30},
		}, "the workbook unpacks to more than 4 GB"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fe := xlsxFileError(t, rawZip(t, tc.entries...), Options{})
			if !strings.Contains(fe.Reason, tc.want) {
				t.Errorf("got %q, want %q", fe.Reason, tc.want)
			}
		})
	}
}
