package importers

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// writeFile writes b as name in a new temporary directory.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func openStream(t *testing.T, p string, opt Options) *Stream {
	t.Helper()
	s, err := Open(p, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// nextRows reads until io.EOF or an error, and returns both.
func nextRows(s *Stream) ([]Row, error) {
	var rows []Row
	for {
		r, err := s.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
}

func checkStreamRows(t *testing.T, got []Row, want []wantRow) {
	t.Helper()
	checkRows(t, &Sheet{Rows: got}, want)
}

func TestStreamCSV(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "orders.csv", []byte("\n order_ref ;;name;\nSO-1;;Kari\n;;\nSO-2\n"))
	s := openStream(t, p, Options{})
	if s.File() != "orders.csv" || s.Format() != "csv" || s.Comma() != ';' || s.Date1904() || s.HeaderRow() != 2 {
		t.Errorf("got file %q format %q comma %q date1904 %v header row %d", s.File(), s.Format(), s.Comma(), s.Date1904(), s.HeaderRow())
	}
	if h := s.Header(); !slices.Equal(h, []string{"order_ref", "name"}) {
		t.Errorf("header %q", h)
	}
	s.Header()[0] = "changed"
	if s.Header()[0] != "order_ref" {
		t.Error("Header returns the Stream's own slice")
	}
	rows, err := nextRows(s)
	if err != nil {
		t.Fatal(err)
	}
	checkStreamRows(t, rows, []wantRow{{3, []string{"SO-1", "Kari"}}, {5, []string{"SO-2", ""}}})
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next after the end: %v, want io.EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStreamCellsAreFresh(t *testing.T) {
	t.Parallel()
	var text strings.Builder
	text.WriteString("a,b,c\n")
	for i := range 5000 {
		text.WriteString(strings.Repeat("x", i%7) + ",y,\n")
	}
	for _, p := range []string{
		writeFile(t, "t.csv", []byte(text.String())),
		writeFile(t, "t.xlsx", buildXLSX(t, func(f *xlsxBuilder) {
			f.row(1, "a", "b", "c")
			for n := 2; n < 200; n++ {
				f.row(n, strings.Repeat("x", n%7+1), "y")
			}
		})),
	} {
		rows, err := nextRows(openStream(t, p, Options{}))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if len(r.Cells) != 3 || r.Cells[1] != "y" || r.Cells[2] != "" {
				t.Fatalf("%s row %d: %q", p, r.Number, r.Cells)
			}
			r.Cells[1] = "changed"
			if i > 0 && rows[i-1].Cells[1] != "changed" || i+1 < len(rows) && rows[i+1].Cells[1] != "y" {
				t.Fatalf("%s: rows share cells", p)
			}
		}
	}
}

func TestStreamErrorsAtTheirRow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		opt        Options
		rows       int // rows returned before the error
		err        string
	}{
		{"value under an unnamed column", "a,,c\n1,,3\n4,,6\n7,8,9\n10,,12\n", Options{}, 2,
			"t.csv row 4, column B: has a value, but this column (number 2) has no name in the header (row 1)"},
		{"value beyond the header", "a,b\n1,2\n3,4,,x\n", Options{}, 1,
			"t.csv row 3, column D: has a value, but this column (number 4) has no name in the header (row 1)"},
		{"broken quote", "a,b\n1,2\n3,4 \"tommer\"\n", Options{}, 1,
			`t.csv row 3: a " in a cell that does not start with " (line 3, character 5)`},
		{"too many rows", "a\n1\n2\n\n3\n", Options{MaxRows: 2}, 2,
			"t.csv row 5: more than 2 rows: split the file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openStream(t, writeFile(t, "t.csv", []byte(tc.text)), tc.opt)
			rows, err := nextRows(s)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tc.err) {
				t.Fatalf("got %v, want a *FileError starting %q", err, tc.err)
			}
			if len(rows) != tc.rows {
				t.Errorf("%d rows before the error, want %d", len(rows), tc.rows)
			}
			if _, again := s.Next(); again != err {
				t.Errorf("Next after the error: %v, want the same error", again)
			}
		})
	}
}

func TestStreamUnnamedColumnWithoutData(t *testing.T) {
	t.Parallel()
	s := openStream(t, writeFile(t, "t.csv", []byte("a,,c,\n1,,3\n,,6,\n")), Options{})
	if h := s.Header(); !slices.Equal(h, []string{"a", "c"}) {
		t.Errorf("header %q", h)
	}
	rows, err := nextRows(s)
	if err != nil {
		t.Fatal(err)
	}
	checkStreamRows(t, rows, []wantRow{{2, []string{"1", "3"}}, {3, []string{"", "6"}}})
}

func TestStreamOpenErrors(t *testing.T) {
	t.Parallel()
	csvText := []byte("a;b\n1;2\n")
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"x.xls":              {csvText, "x.xls: Excel 97-2003 (.xls) files are not supported"},
		"x.ods":              {csvText, "x.ods: unsupported file type .ods"},
		"x":                  {csvText, "x: unsupported file type (none)"},
		"zip.csv":            {[]byte("PK\x03\x04rest"), "zip.csv: this is an XLSX (zip) file"},
		"nul.csv":            {[]byte("a,b\n1,\x002\n"), "nul.csv row 2: the file contains NUL bytes"},
		"odd.csv":            {[]byte("\xFF\xFEa\x00b"), "odd.csv: the file starts like UTF-16 text but has an odd number of bytes"},
		"empty.csv":          {nil, "empty.csv: no header row"},
		"dup.csv":            {[]byte("rate,name,Rate\n1,2,3\n"), "dup.csv row 1, column Rate: duplicate column name (columns A and C)"},
		"renamed.xlsx":       {csvText, "renamed.xlsx: this is text, not an XLSX workbook"},
		"empty.xlsx":         {nil, "empty.xlsx: the file is empty"},
		"blank.xlsx":         {buildXLSX(t, func(f *xlsxBuilder) { f.row(2, " ") }), "blank.xlsx: no header row"},
		"dup.xlsx":           {buildXLSX(t, func(f *xlsxBuilder) { f.row(1, "a", "A") }), "dup.xlsx row 1, column A: duplicate column name"},
		"merged-header.xlsx": {buildXLSX(t, func(f *xlsxBuilder) { f.row(1, "a", "b"); f.merge("A1", "B1") }), "merged-header.xlsx row 1, column a: merged header cells A1:B1"},
		"encrypted.xlsx":     {append(append([]byte{}, oleMagic...), 1, 2, 3), "encrypted.xlsx: this is an Excel 97-2003 (.xls) or a password-protected workbook"},
		"no-such-sheet.xlsx": {buildXLSX(t, func(f *xlsxBuilder) { f.row(1, "a") }), `no-such-sheet.xlsx: no sheet named "Orders"`},
	} {
		p := writeFile(t, name, tc.data)
		var opt Options
		if name == "no-such-sheet.xlsx" {
			opt.Sheet = "Orders"
		}
		_, err := Open(p, opt)
		_, rerr := ReadFile(p, opt)
		var fe *FileError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a *FileError starting %q", name, err, tc.want)
		}
		if rerr == nil || err == nil || rerr.Error() != err.Error() {
			t.Errorf("%s: ReadFile says %v, Open %v", name, rerr, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.xlsx"), Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
}

func TestStreamXLSX(t *testing.T) {
	t.Parallel()
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(2, "order_ref", "", "product")
		f.row(3, "SO-1", "", "A")
		f.row(5, "SO-2", "", "B")
		f.row(6, "", "", "C")
		f.row(7, "SO-3", "x", "D")
		f.merge("A5", "A6")
		f.merge("A8", "C9") // below the data: never reached
	})
	s := openStream(t, writeFile(t, "t.xlsx", b), Options{})
	if s.Format() != "xlsx" || s.Comma() != 0 || s.HeaderRow() != 2 || !slices.Equal(s.Header(), []string{"order_ref", "product"}) {
		t.Errorf("got format %q comma %q header row %d header %q", s.Format(), s.Comma(), s.HeaderRow(), s.Header())
	}
	r, err := s.Next()
	if err != nil || r.Number != 3 || !slices.Equal(r.Cells, []string{"SO-1", "A"}) {
		t.Fatalf("first row: %+v, %v", r, err)
	}
	_, err = s.Next()
	if err == nil || err.Error() != "t.xlsx row 5, column order_ref: merged cells A5:A6: unmerge them and fill in every cell (a merged range keeps its value only in its first cell)" {
		t.Errorf("got %v, want the merged cells at row 5", err)
	}

	// Merged cells over blank rows only, and the value under the unnamed
	// column further down.
	b = buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "a", "", "c")
		f.row(2, "1", "", "3")
		f.row(5, "4", "", "6")
		f.row(6, "7", "8", "9")
		f.merge("A3", "C4")
	})
	s = openStream(t, writeFile(t, "t.xlsx", b), Options{})
	rows, err := nextRows(s)
	checkStreamRows(t, rows, []wantRow{{2, []string{"1", "3"}}, {5, []string{"4", "6"}}})
	if err == nil || err.Error() != "t.xlsx row 6, column B: has a value, but this column (number 2) has no name in the header (row 1)" {
		t.Errorf("got %v", err)
	}
}

func TestStreamXLSXMergesOfTheSheetRead(t *testing.T) {
	t.Parallel()
	// The merged cells are those of the sheet that is read, whichever it is.
	b := buildXLSX(t, func(f *xlsxBuilder) {
		f.row(1, "a", "b")
		f.row(2, "1", "2")
		f.merge("A2", "B2")
		if _, err := f.f.NewSheet("Ordrer"); err != nil {
			t.Fatal(err)
		}
		if err := f.f.SetSheetRow("Ordrer", "A1", &[]any{"x", "y"}); err != nil {
			t.Fatal(err)
		}
		if err := f.f.SetSheetRow("Ordrer", "A2", &[]any{"1", "2"}); err != nil {
			t.Fatal(err)
		}
	})
	p := writeFile(t, "t.xlsx", b)
	if _, err := nextRows(openStream(t, p, Options{Sheet: "ordrer"})); err != nil {
		t.Errorf("sheet Ordrer: %v", err)
	}
	if _, err := nextRows(openStream(t, p, Options{})); err == nil || !strings.Contains(err.Error(), "merged cells A2:B2") {
		t.Errorf("sheet Sheet1: got %v, want its merged cells", err)
	}
}

// TestStreamCSVChunkBoundaries puts multi-byte characters, CRs and UTF-16
// surrogate pairs across every buffer the text passes through.
func TestStreamCSVChunkBoundaries(t *testing.T) {
	t.Parallel()
	// Rows of varying length so that characters fall across boundaries at
	// every offset; more than one probe chunk of text.
	var rows []string
	size := 0
	for i := 0; size < 3*probeChunk; i++ {
		r := strings.Repeat("å", i%5) + strings.Repeat("b", i%3) + ";ø€" + strings.Repeat("x", i%11) + ";😀" + strings.Repeat("é", i%2)
		rows = append(rows, r)
		size += len(r) + 1
	}
	text := "navn;by;tegn\n" + strings.Join(rows, "\n") + "\n"
	want := func(t *testing.T, p string) {
		t.Helper()
		s := openStream(t, p, Options{})
		got, err := nextRows(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rows) {
			t.Fatalf("%d rows, want %d", len(got), len(rows))
		}
		for i, r := range got {
			if w := strings.Split(rows[i], ";"); r.Number != i+2 || !slices.Equal(r.Cells, w) {
				t.Fatalf("row %d: got %d %q, want %q", i+2, r.Number, r.Cells, w)
			}
		}
	}
	t.Run("utf-8", func(t *testing.T) { want(t, writeFile(t, "t.csv", []byte(text))) })
	t.Run("lone cr", func(t *testing.T) { want(t, writeFile(t, "t.csv", []byte(strings.ReplaceAll(text, "\n", "\r")))) })
	for _, be := range []bool{false, true} {
		b := []byte{0xFF, 0xFE}
		if be {
			b = []byte{0xFE, 0xFF}
		}
		for _, u := range utf16.Encode([]rune(text)) {
			if be {
				b = append(b, byte(u>>8), byte(u))
			} else {
				b = append(b, byte(u), byte(u>>8))
			}
		}
		t.Run("utf-16", func(t *testing.T) { want(t, writeFile(t, "t.csv", b)) })
	}

	// Windows-1252: the one byte that is not UTF-8 comes last, after more
	// than a probe chunk of text that is.
	cp := []byte("navn;by\n" + strings.Repeat("Kari;Oslo\n", probeChunk/10+1) + "Per;Bod\xF8\n")
	got, err := nextRows(openStream(t, writeFile(t, "t.csv", cp), Options{}))
	if err != nil || got[len(got)-1].Cells[1] != "Bodø" {
		t.Errorf("windows-1252: %v, last row %q", err, got[len(got)-1].Cells)
	}
}

func TestIncompleteTail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{
		"":              0,
		"abc":           0,
		"aø":            0,
		"a\xC3":         1,
		"a€":            0,
		"a\xE2\x82":     2,
		"a\xE2":         1,
		"😀":             0,
		"a\xF0\x9F\x98": 3,
		"a\xF0\x9F":     2,
		"\x80\x80\x80":  0,
		"a\xFF":         0, // invalid anyway
	} {
		if got := incompleteTail([]byte(in)); got != want {
			t.Errorf("incompleteTail(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestDecodersByteByByte feeds the decoders one byte at a time and compares
// with decoding all at once.
func TestDecodersByteByByte(t *testing.T) {
	t.Parallel()
	var cp []byte
	for i := range 4096 {
		cp = append(cp, byte(i*31+i/256))
	}
	var want []byte
	for _, c := range cp {
		want = appendWindows1252(want, []byte{c})
	}
	got, err := io.ReadAll(&windows1252Reader{r: iotest.OneByteReader(bytes.NewReader(cp))})
	if err != nil || !bytes.Equal(got, want) || !utf8.Valid(got) {
		t.Errorf("windows-1252: %v, %d bytes, want %d", err, len(got), len(want))
	}

	// UTF-16 with pairs, lone high and low surrogates, and a high
	// surrogate at the very end.
	units := []uint16{'a', 0xD83D, 0xDE00, 0xD800, 'b', 0xDC00, 0xDBFF, 0xDFFF, 0xE000, 0xFFFF, 0xD800, 0xD800, 0xDC01, 0xD83D}
	for _, be := range []bool{false, true} {
		var b []byte
		for _, u := range units {
			if be {
				b = append(b, byte(u>>8), byte(u))
			} else {
				b = append(b, byte(u), byte(u>>8))
			}
		}
		want := string(utf16.Decode(units))
		for _, r := range []io.Reader{bytes.NewReader(b), iotest.OneByteReader(bytes.NewReader(b)), iotest.HalfReader(bytes.NewReader(b))} {
			got, err := io.ReadAll(&utf16Reader{r: r, be: be})
			if err != nil || string(got) != want {
				t.Errorf("utf-16 (be %v): got %q, %v; want %q", be, got, err, want)
			}
		}
	}
}

func TestSniffCommaStreams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text  string
		comma rune
		ok    bool
	}{
		{strings.Repeat(";;\n", 50000) + "a;b\n", ';', true},
		{"\"a\nb\";c;d\ne,f,g,h,i\n", ';', true},
		{"\"x\"\"y\",z\n", ',', true},
		{"a\tb\r\nc,d,e\n", '\t', true},
		{"\" \n,;\n", 0, false},
		{"", 0, false},
	} {
		comma, ok, err := sniffComma(iotest.HalfReader(strings.NewReader(tc.text)))
		if err != nil || comma != tc.comma || ok != tc.ok {
			t.Errorf("%.30q: got %q %v %v, want %q %v", tc.text, comma, ok, err, tc.comma, tc.ok)
		}
	}
}

func TestStreamCSVRecordLimit(t *testing.T) {
	t.Parallel()
	// A quoted cell that is never closed would take the rest of the file
	// into one record.
	var b bytes.Buffer
	b.WriteString("a,b\n1,2\n3,\"open\n")
	for b.Len() < DefaultLimits.RowBytes+(1<<20) {
		b.WriteString("4,5\n")
	}
	rows, err := nextRows(openStream(t, writeFile(t, "t.csv", b.Bytes()), Options{}))
	if len(rows) != 1 || err == nil || !strings.HasPrefix(err.Error(), "t.csv row 3: a row that starts here is longer than the limit of 2 MB") {
		t.Errorf("got %d rows, %v", len(rows), err)
	}
}

func TestAfterLastEndTag(t *testing.T) {
	t.Parallel()
	merges := `<mergeCells><mergeCell ref="A1:B1"/></mergeCells></worksheet>`
	for pad := 0; pad < 600; pad += 7 {
		// The tag falls across the 64 KB window at some pads; a decoy
		// </sheetData> inside a cell comes before it.
		tail := strings.Repeat(" ", pad) + merges + strings.Repeat(" ", 64<<10-len(merges)-300)
		for _, tag := range []string{"</sheetData>", "</x:sheetData >"} {
			xml := `<worksheet><sheetData><c><is><t><![CDATA[</sheetData>]]></t></is></c>` + strings.Repeat("<c/>", 40000) + tag + tail
			r, ok, err := afterLastEndTag(strings.NewReader(xml), int64(len(xml)), "sheetData")
			if !ok || err != nil {
				t.Fatalf("pad %d %s: not found (%v)", pad, tag, err)
			}
			rest, _ := io.ReadAll(r)
			if want := strings.Repeat(" ", pad) + merges; !strings.HasPrefix(string(rest), want) {
				t.Fatalf("pad %d %s: rest starts %.40q", pad, tag, rest)
			}
		}
	}
	if _, ok, _ := afterLastEndTag(strings.NewReader("<sheetData/>"), 12, "sheetData"); ok {
		t.Error("found an end tag in a sheet without one")
	}
}

// TestStreamXLSXLargeSheetMerges reads a sheet too large for excelize to
// keep in memory: the merged ranges come from the tail of the file excelize
// unpacked it to, or, failing that, from the zip.
func TestStreamXLSXLargeSheetMerges(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("lorem ipsum ", 1000)
	sw.SetRow("A1", []any{"a", "b"})
	const n = 1700 // 12 kB a row: more than 16 MB of XML
	for r := 2; r <= n; r++ {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		sw.SetRow(cell, []any{r, long})
	}
	if err := sw.MergeCell("A1500", "B1501"); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "big.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}

	s := openStream(t, p, Options{})
	x := s.src.(*xlsxRows)
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	sheets, err := listSheets(&zr.Reader)
	if err != nil || len(sheets) != 1 || sheets[0].part.UncompressedSize64 < 16<<20 {
		t.Fatalf("test setup: sheets %v, %v", sheets, err)
	}
	if unpackedPart(x.tmpDir, sheets[0].part) == "" {
		t.Error("excelize's unpacked sheet not found")
	}
	rows, err := nextRows(s)
	if len(rows) != 1498 || err == nil || !strings.HasPrefix(err.Error(), "big.xlsx row 1500, column a: merged cells A1500:B1501") {
		t.Errorf("got %d rows, %v", len(rows), err)
	}
	tmpDir := x.tmpDir
	s.Close()
	if _, err := os.Stat(tmpDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary directory left behind: %v", err)
	}

	// Without excelize's copy, the zip is scanned.
	xf, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer xf.Close()
	merges, err := sheetMerges(&zr.Reader, xf, t.TempDir(), "Sheet1")
	if err != nil || len(merges) != 1 || merges[0].ref != "A1500:B1501" {
		t.Errorf("from the zip: %v, %v", merges, err)
	}
}
