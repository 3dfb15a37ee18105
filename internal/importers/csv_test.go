package importers

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readCSV reads text as "t.csv" and fails the test on error.
func readCSV(t *testing.T, text string) *Sheet {
	t.Helper()
	s, err := ReadCSV("t.csv", strings.NewReader(text), Options{})
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	return s
}

// csvFileError reads text and returns the *FileError it must fail with.
func csvFileError(t *testing.T, text string) *FileError {
	t.Helper()
	s, err := ReadCSV("t.csv", strings.NewReader(text), Options{})
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("ReadCSV: got sheet %v, err %v; want a *FileError", s, err)
	}
	return fe
}

type wantRow struct {
	n     int
	cells []string
}

func checkRows(t *testing.T, s *Sheet, want []wantRow) {
	t.Helper()
	if len(s.Rows) != len(want) {
		t.Fatalf("got %d rows %v, want %d", len(s.Rows), s.Rows, len(want))
	}
	for i, w := range want {
		if got := s.Rows[i]; got.Number != w.n || !slices.Equal(got.Cells, w.cells) {
			t.Errorf("row %d: got %d %q, want %d %q", i, got.Number, got.Cells, w.n, w.cells)
		}
	}
}

func TestFileErrorMessage(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	for _, tc := range []struct {
		err  FileError
		want string
	}{
		{FileError{File: "orders.xlsx", Row: 12, Column: "rate", Reason: "not a number"}, "orders.xlsx row 12, column rate: not a number"},
		{FileError{File: "orders.xlsx", Row: 12, Reason: "x"}, "orders.xlsx row 12: x"},
		{FileError{File: "orders.xlsx", Column: "C", Reason: "x"}, "orders.xlsx column C: x"},
		{FileError{File: "orders.xlsx", Reason: "x"}, "orders.xlsx: x"},
		{FileError{Row: 3, Column: "C", Reason: "x"}, "row 3, column C: x"},
		{FileError{Reason: "x"}, "x"},
		{FileError{File: "a.csv", Err: cause}, "a.csv: cause"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	fe := &FileError{File: "a.csv", Reason: "x", Err: cause}
	if !errors.Is(fe, cause) {
		t.Error("FileError does not unwrap to its Err")
	}
}

func TestColumnName(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1: "A", 3: "C", 26: "Z", 27: "AA", 28: "AB", 702: "ZZ", 703: "AAA", 16384: "XFD"} {
		if got := columnName(n); got != want {
			t.Errorf("columnName(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReadFileByExtension(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csvText := []byte("a;b\n1;2\n")
	for _, name := range []string{"x.csv", "x.txt", "X.CSV"} {
		s, err := ReadFile(write(name, csvText), Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.File != name || s.Format != "csv" || s.Comma != ';' || !slices.Equal(s.Header, []string{"a", "b"}) {
			t.Errorf("%s: got %+v", name, s)
		}
	}
	s, err := ReadFile(write("x.XLSX", buildXLSX(t, func(f *xlsxBuilder) { f.row(1, "a", "b"); f.row(2, "1", "2") })), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.File != "x.XLSX" || s.Format != "xlsx" || s.Comma != 0 || len(s.Rows) != 1 {
		t.Errorf("xlsx: got %+v", s)
	}

	for name, want := range map[string]string{
		"x.xls":  "x.xls: Excel 97-2003 (.xls) files are not supported",
		"x.ods":  "x.ods: unsupported file type .ods",
		"x.xlsm": "x.xlsm: unsupported file type .xlsm",
		"x":      "x: unsupported file type (none)",
	} {
		_, err := ReadFile(write(name, csvText), Options{})
		var fe *FileError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: got %v, want a FileError starting %q", name, err, want)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.csv"), Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
}

func TestReadCSVDelimiter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		comma      rune
		header     []string
	}{
		{"comma", "a,b,c\n1,2,3\n", ',', []string{"a", "b", "c"}},
		{"semicolon", "a;b;c\n1,5;2,5;3\n", ';', []string{"a", "b", "c"}},
		{"tab", "a\tb\tc\n1\t2\t3\n", '\t', []string{"a", "b", "c"}},
		{"quoted comma does not count", "\"name, full\";b\n1;2\n", ';', []string{"name, full", "b"}},
		{"quoted semicolon does not count", "\"a;x\",b,c\n1,2,3\n", ',', []string{"a;x", "b", "c"}},
		{"most fields wins", "a;b;c,d\n1;2;3\n", ';', []string{"a", "b", "c,d"}},
		{"tie goes to comma", "a,b;c\n1,2;3\n", ',', []string{"a", "b;c"}},
		{"one column", "order_ref\nSO-1\n", ',', []string{"order_ref"}},
		{"leading blank lines", "\n;;\n  \na;b\n1;2\n", ';', []string{"a", "b"}},
		{"space before quote", "a, \"b,c\"\n1, 2\n", ',', []string{"a", "b,c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := readCSV(t, tc.text)
			if s.Comma != tc.comma || !slices.Equal(s.Header, tc.header) {
				t.Errorf("got comma %q header %q, want %q %q", s.Comma, s.Header, tc.comma, tc.header)
			}
		})
	}
}

func TestReadCSVTabKeepsEmptyCells(t *testing.T) {
	t.Parallel()
	s := readCSV(t, "a\tb\tc\n1\t\t3\n\t2\t\n")
	checkRows(t, s, []wantRow{{2, []string{"1", "", "3"}}, {3, []string{"", "2", ""}}})
}

func TestReadCSVEncodings(t *testing.T) {
	t.Parallel()
	want := []string{"Ærlig Øl", "Sjøgata 3", "Bodø", "5 €"}
	utf8Text := "navn;gate;by;pris\n" + strings.Join(want, ";") + "\n"

	// Windows-1252: æ E6, ø F8, å E5, Æ C6, Ø D8, € 80.
	cp1252 := []byte("navn;gate;by;pris\n\xC6rlig \xD8l;Sj\xF8gata 3;Bod\xF8;5 \x80\n")
	utf16le := []byte{0xFF, 0xFE}
	for _, r := range utf8Text {
		utf16le = append(utf16le, byte(r), byte(r>>8))
	}
	for name, b := range map[string][]byte{
		"utf-8":        []byte(utf8Text),
		"utf-8 bom":    append([]byte("\xEF\xBB\xBF"), utf8Text...),
		"windows-1252": cp1252,
		"utf-16le bom": utf16le,
		"crlf":         []byte(strings.ReplaceAll(utf8Text, "\n", "\r\n")),
		"lone cr":      []byte(strings.ReplaceAll(utf8Text, "\n", "\r")),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := ReadCSV("t.csv", strings.NewReader(string(b)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Header[0] != "navn" {
				t.Errorf("header[0] = %q, want navn (BOM stripped)", s.Header[0])
			}
			checkRows(t, s, []wantRow{{2, want}})
		})
	}
}

func TestReadCSVEmbeddedNewlineKeepsStartLine(t *testing.T) {
	t.Parallel()
	s := readCSV(t, "ref,note\nA,\"line one\nline two\"\nB,x\n\"C\",\"1\n2\n3\"\nD,y\n")
	checkRows(t, s, []wantRow{
		{2, []string{"A", "line one\nline two"}},
		{4, []string{"B", "x"}},
		{5, []string{"C", "1\n2\n3"}},
		{8, []string{"D", "y"}},
	})
}

func TestReadCSVBrokenQuote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		row        int
		reason     string
	}{
		{"bare quote", "a,b\n1,2\n3,4 \"tommer\"\n", 3, `a " in a cell that does not start with " (line 3, character 5)`},
		{"text after closing quote", "a,b\n\"x\"y,2\n", 2, `the " at line 2, character 3 closes a quoted cell but more text follows it`},
		{"never closed", "a,b\n1,2\n3,\"open\n4,5\n", 3, `a quoted cell that starts in this row is never closed`},
		{"character counts runes", "a,b\nø,æ\"\n", 2, `(line 2, character 4)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fe := csvFileError(t, tc.text)
			if fe.Row != tc.row || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("got row %d %q, want row %d containing %q", fe.Row, fe.Reason, tc.row, tc.reason)
			}
		})
	}
}

func TestReadCSVTrimsAndSkipsBlankRows(t *testing.T) {
	t.Parallel()
	s := readCSV(t, "\n  order_ref , name\u00a0\n\n SO-1 ,\u00a0Kari \n , \n,,\n\u200bSO-2,\tOla\t\n\n\n,\n")
	if !slices.Equal(s.Header, []string{"order_ref", "name"}) {
		t.Errorf("header %q", s.Header)
	}
	checkRows(t, s, []wantRow{{4, []string{"SO-1", "Kari"}}, {7, []string{"SO-2", "Ola"}}})
}

func TestReadCSVShortRowsArePadded(t *testing.T) {
	t.Parallel()
	s := readCSV(t, "a,b,c\n1\n1,2\n")
	checkRows(t, s, []wantRow{{2, []string{"1", "", ""}}, {3, []string{"1", "2", ""}}})
}

func TestReadCSVExtraCells(t *testing.T) {
	t.Parallel()
	s := readCSV(t, "a,b\n1,2,,  ,\n")
	checkRows(t, s, []wantRow{{2, []string{"1", "2"}}})

	fe := csvFileError(t, "a,b\n1,2\n3,4,,x\n")
	if fe.Row != 3 || fe.Column != "D" || !strings.Contains(fe.Reason, "this column (number 4) has no name in the header (row 1)") {
		t.Errorf("got %+v", fe)
	}
}

func TestReadCSVHeaderProblems(t *testing.T) {
	t.Parallel()
	fe := csvFileError(t, "a,,c\n1,,3\n4,5,6\n")
	if got, want := fe.Error(), "t.csv row 3, column B: has a value, but this column (number 2) has no name in the header (row 1)"; got != want {
		t.Errorf("empty header over data:\n got %q\nwant %q", got, want)
	}

	fe = csvFileError(t, "rate,name,Rate\n1,2,3\n")
	if got, want := fe.Error(), "t.csv row 1, column Rate: duplicate column name (columns A and C): every column needs its own name"; got != want {
		t.Errorf("duplicate header:\n got %q\nwant %q", got, want)
	}

	// An unnamed column without data is dropped, wherever it is.
	s := readCSV(t, "a,,c,\n1,,3\n,,6,\n")
	if !slices.Equal(s.Header, []string{"a", "c"}) {
		t.Errorf("header %q", s.Header)
	}
	checkRows(t, s, []wantRow{{2, []string{"1", "3"}}, {3, []string{"", "6"}}})

	for _, text := range []string{"", "\n\n", " ; ; \n\n,,\n", "\xEF\xBB\xBF"} {
		fe := csvFileError(t, text)
		if !strings.Contains(fe.Reason, "no header row") {
			t.Errorf("%q: got %v", text, fe)
		}
	}
}

func TestReadCSVHeaderOnly(t *testing.T) {
	t.Parallel()
	s := readCSV(t, "a,b\n")
	if len(s.Rows) != 0 || len(s.Header) != 2 {
		t.Errorf("got %+v", s)
	}
}

func TestReadCSVMaxRows(t *testing.T) {
	t.Parallel()
	text := "a\n1\n2\n\n3\n"
	if _, err := ReadCSV("t.csv", strings.NewReader(text), Options{MaxRows: 3}); err != nil {
		t.Errorf("3 rows, MaxRows 3: %v", err)
	}
	_, err := ReadCSV("t.csv", strings.NewReader(text), Options{MaxRows: 2})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Row != 5 || !strings.Contains(fe.Reason, "more than 2 rows") {
		t.Errorf("got %v", err)
	}
}

func TestReadCSVRejectsBinary(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"PK\x03\x04rest":                   "this is an XLSX (zip) file",
		"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1": "Excel 97-2003",
		"a,b\n1,\x002\n":                   "NUL bytes",
		"a\x00,\x00b\x00":                  "UTF-16 without a byte order mark",
		"\xFF\xFEa\x00b":                   "odd number of bytes",
	} {
		fe := csvFileError(t, text)
		if !strings.Contains(fe.Reason, want) {
			t.Errorf("%q: got %q, want it to contain %q", text, fe.Reason, want)
		}
	}
	if fe := csvFileError(t, "a,b\n1,\x002\n"); fe.Row != 2 {
		t.Errorf("NUL on line 2 reported as row %d", fe.Row)
	}
}

func TestReadCSVRemovesFormulaGuard(t *testing.T) {
	t.Parallel()
	s := readCSV(t, "a,b,c,d\n'=SUM(A1),'-x,'-12.50,'Hei\n")
	checkRows(t, s, []wantRow{{2, []string{"=SUM(A1)", "-x", "'-12.50", "'Hei"}}})
}
