package importers_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/importers/bombtest"
	"github.com/frontpayment/fpexport/internal/msg"
)

// readAll opens path and reads every row, as an import does.
func readAll(path string, opt importers.Options) error {
	s, err := importers.Open(path, opt)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		if _, err := s.Next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// TestBombsRefused: every bomb is refused with the limit it goes past,
// named in the message with the file (and the row and column where known).
func TestBombsRefused(t *testing.T) {
	t.Parallel()
	const gb11 = 1100 << 20
	for name, tc := range map[string]struct {
		write func(string) error
		file  string
		limit string
		want  string // the start of the message
	}{
		"cell of 1.1 GB": {func(p string) error { return bombtest.CellXLSX(p, gb11) }, "cell.xlsx", "CellBytes",
			"cell.xlsx rad 2, kolonne C: cellen er over grensen på 32 KB"},
		"cell of 400 MB": {func(p string) error { return bombtest.CellXLSX(p, 400<<20) }, "cell400.xlsx", "CellBytes",
			"cell400.xlsx rad 2, kolonne C: cellen er over grensen på 32 KB"},
		"shared strings of 1.1 GB": {func(p string) error { return bombtest.SharedStringsXLSX(p, gb11) }, "sst.xlsx", "SharedStringsBytes",
			"sst.xlsx: tabellen over delte tekster (xl/sharedStrings.xml) er 1100 MB ukomprimert, over grensen på 256 MB"},
		"shared string of 200 MB": {func(p string) error { return bombtest.SharedStringsXLSX(p, 200<<20) }, "sst200.xlsx", "CellBytes",
			"sst200.xlsx: tekst nr. 1 i tabellen over delte tekster er over grensen på 32 KB"},
		"2.1 million shared strings": {func(p string) error { return bombtest.ManyStringsXLSX(p, 2_100_000) }, "strings.xlsx", "SharedStrings",
			"strings.xlsx: tabellen over delte tekster har over 2000000 tekster"},
		"2 million rows": {func(p string) error { return bombtest.RowsXLSX(p, 2_000_000) }, "rows.xlsx", "Rows",
			"rows.xlsx: arket xl/worksheets/sheet1.xml har over 1048576 rader"},
		"100 000 columns": {func(p string) error { return bombtest.ColumnsXLSX(p, 100_000) }, "cols.xlsx", "Columns",
			"cols.xlsx rad 2: raden har over 1024 celler"},
		"CSV line of 64 MB": {func(p string) error { return bombtest.CSVLine(p, 64<<20) }, "line.csv", "RowBytes",
			"line.csv rad 2: en rad som begynner her er lengre enn grensen på 2 MB"},
		"CSV cell of 100 KB": {func(p string) error { return bombtest.CSVLine(p, 100<<10) }, "cell.csv", "CellBytes",
			"cell.csv rad 2, kolonne C: cellen er over grensen på 32 KB"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), tc.file)
			if err := tc.write(p); err != nil {
				t.Fatal(err)
			}
			err := readAll(p, importers.Options{})
			var le *importers.LimitError
			var fe *importers.FileError
			if !errors.As(err, &le) || !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *LimitError that is a *FileError", err)
			}
			if le.Limit != tc.limit || !strings.HasPrefix(fe.Text(msg.NB), tc.want) {
				t.Errorf("got %s: %q, want %s: %q…", le.Limit, fe.Text(msg.NB), tc.limit, tc.want)
			}
		})
	}
}

// TestCSVColumnsLimit: a record with more fields than Limits.Columns.
func TestCSVColumnsLimit(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "wide.csv")
	if err := os.WriteFile(p, []byte("a;b\n1;2\n"+strings.Repeat("x;", 20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := readAll(p, importers.Options{Limits: importers.Limits{Columns: 10}})
	var le *importers.LimitError
	if !errors.As(err, &le) || le.Limit != "Columns" || !strings.HasPrefix(le.Text(msg.NB), "wide.csv rad 3: raden har 21 celler, over grensen på 10") {
		t.Errorf("got %v", err)
	}
}

// TestLimitsLetOrdinaryFilesThrough: a workbook just under each limit reads.
func TestLimitsLetOrdinaryFilesThrough(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, write := range map[string]func(string) error{
		"cell.xlsx":    func(p string) error { return bombtest.CellXLSX(p, 30<<10) },
		"sst.xlsx":     func(p string) error { return bombtest.SharedStringsXLSX(p, 30<<10) },
		"rows.xlsx":    func(p string) error { return bombtest.RowsXLSX(p, 1000) },
		"strings.xlsx": func(p string) error { return bombtest.ManyStringsXLSX(p, 1000) },
		"cell.csv":     func(p string) error { return bombtest.CSVLine(p, 30<<10) },
	} {
		p := filepath.Join(dir, name)
		if err := write(p); err != nil {
			t.Fatal(err)
		}
		if err := readAll(p, importers.Options{}); err != nil {
			var le *importers.LimitError
			if errors.As(err, &le) {
				t.Errorf("%s: refused by a limit: %v", name, err)
			}
		}
	}
}

// TestLyingSizeRefused: a part that declares a small size but inflates to
// 1.1 GB is refused as damaged once it passes what it declared; the
// declared size lets nothing more through.
func TestLyingSizeRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	honest := filepath.Join(dir, "honest.xlsx")
	if err := bombtest.CellXLSX(honest, 1100<<20); err != nil {
		t.Fatal(err)
	}
	liar := filepath.Join(dir, "liar.xlsx")
	if err := bombtest.Relabel(honest, liar, "xl/worksheets/sheet1.xml", 10<<10); err != nil {
		t.Fatal(err)
	}
	err := readAll(liar, importers.Options{})
	var fe *importers.FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "liar.xlsx: not a valid XLSX workbook (the zip archive is damaged)") {
		t.Errorf("got %v, want the damaged-archive error", err)
	}
}
