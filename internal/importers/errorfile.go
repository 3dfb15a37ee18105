package importers

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The columns WriteErrorFile adds around the original ones.
const (
	SourceRowColumn = "source_row"
	ErrorsColumn    = "errors"
)

// ErrorRow is a rejected row for the error file.
type ErrorRow struct {
	Number   int      // the row's number in the file it came from
	Cells    []string // aligned to the header given to WriteErrorFile
	Errors   string   // why it was rejected, in the accountant's words
	Warnings string   // what would be sent otherwise than written (values not used, values repaired)
	// Marked are the positions (in Cells) of the cells with a problem: the
	// XLSX error file colours them.
	Marked []int
}

// WriteErrorFile writes the rejected rows, in row order, as a file the
// accountant can open, fix and re-import: the original header with a first
// column "source_row" (the row number in the imported file) and a last
// column "errors". The format follows the extension of path:
//
//   - .csv or .txt: UTF-8 with BOM, CRLF, delimited by comma (',', ';' or
//     tab; 0 means ','). A cell that a spreadsheet would run as a formula
//     (starting with =, @, tab, CR, or + or - when it is not a plain number
//     or phone number) gets a leading apostrophe; ReadCSV removes it again.
//   - .xlsx: one sheet "errors" with a bold, frozen header. Every value is a
//     string cell, except text that is exactly how Excel writes a number
//     ("4500", "199.9"), which is written as a number so amounts stay
//     numbers; such a number under a header ending in "date" or "dato" gets
//     a date format. Neither can be a formula. Excel holds 32,767
//     characters in a cell; longer values are cut.
//
// A header that already holds "source_row" and "errors" columns (a re-import
// of an error file) gets them replaced, not repeated. The file is written to
// a temporary name in the same directory and renamed into place, mode 0640.
func WriteErrorFile(path string, header []string, comma rune, rows []ErrorRow) error {
	keep := make([]int, 0, len(header))
	outHeader := []string{SourceRowColumn}
	for i, h := range header {
		if n := strings.TrimSpace(h); strings.EqualFold(n, SourceRowColumn) || strings.EqualFold(n, ErrorsColumn) {
			continue
		}
		keep = append(keep, i)
		outHeader = append(outHeader, h)
	}
	outHeader = append(outHeader, ErrorsColumn)

	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b ErrorRow) int { return cmp.Compare(a.Number, b.Number) })
	records := make([][]string, len(sorted))
	for n, r := range sorted {
		if len(r.Cells) > len(header) {
			for _, v := range r.Cells[len(header):] {
				if v != "" {
					return fmt.Errorf("error file %s: row %d has %d cells, the header %d", filepath.Base(path), r.Number, len(r.Cells), len(header))
				}
			}
		}
		rec := make([]string, 0, len(outHeader))
		rec = append(rec, strconv.Itoa(r.Number))
		for _, i := range keep {
			v := ""
			if i < len(r.Cells) {
				v = r.Cells[i]
			}
			rec = append(rec, v)
		}
		records[n] = append(rec, r.Errors)
	}

	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".txt":
		if comma == 0 {
			comma = ','
		}
		if comma != ',' && comma != ';' && comma != '\t' {
			return fmt.Errorf("error file %s: delimiter %q cannot be re-imported: use ',', ';' or tab", filepath.Base(path), comma)
		}
		return writeAtomic(path, func(w io.Writer) error { return writeErrorCSV(w, comma, outHeader, records) })
	case ".xlsx":
		if len(records)+1 > excelize.TotalRows {
			return fmt.Errorf("error file %s: %d rows do not fit in one sheet", filepath.Base(path), len(records))
		}
		return writeAtomic(path, func(w io.Writer) error { return writeErrorXLSX(w, outHeader, records) })
	default:
		return fmt.Errorf("error file %s: unsupported extension %q: use .csv, .txt or .xlsx", filepath.Base(path), filepath.Ext(path))
	}
}

func writeErrorCSV(w io.Writer, comma rune, header []string, records [][]string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("\ufeff") // Excel needs the BOM to read UTF-8
	cw := csv.NewWriter(bw)
	cw.Comma, cw.UseCRLF = comma, true
	out := make([]string, len(header))
	for _, rec := range append([][]string{header}, records...) {
		for i, v := range rec {
			out[i] = guardFormula(v)
		}
		if err := cw.Write(out); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// guardFormula puts an apostrophe before a value that a spreadsheet would
// evaluate as a formula when the CSV is opened (CSV injection).
func guardFormula(v string) string {
	if needsFormulaGuard(v) {
		return "'" + v
	}
	return v
}

// needsFormulaGuard: =, @, tab or CR first, or + or - first unless the value
// is a plain number or phone number (^[+-]?[0-9 .,]+$: "-12.50", "+47 22 33 44 55").
func needsFormulaGuard(v string) bool {
	if v == "" {
		return false
	}
	switch v[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !isPlainNumber(v[1:])
	}
	return false
}

func isPlainNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != ' ' && c != '.' && c != ',' {
			return false
		}
	}
	return true
}

func writeErrorXLSX(w io.Writer, header []string, records [][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "errors"
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // the short date of the reader's locale
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetColWidth(len(header), len(header), 60); err != nil {
		return err
	}
	isDate := make([]bool, len(header))
	values := make([]any, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		isDate[i] = i > 0 && i < len(header)-1 && (strings.HasSuffix(h, "date") || strings.HasSuffix(h, "dato"))
		values[i] = excelize.Cell{StyleID: bold, Value: header[i]}
	}
	if err := sw.SetRow("A1", values); err != nil {
		return err
	}
	for n, rec := range records {
		values[0] = rec[0]
		if num, err := strconv.Atoi(rec[0]); err == nil {
			values[0] = num
		}
		for i := 1; i < len(rec)-1; i++ {
			values[i] = xlsxValue(rec[i], isDate[i], date)
		}
		values[len(rec)-1] = rec[len(rec)-1] // the errors: always text
		cell, err := excelize.CoordinatesToCellName(1, n+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, values); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

// xlsxValue writes a value that is exactly a number as Excel writes it as a
// number cell (raw reading gives the same text back), and anything else as a
// string cell. Excel keeps 15 significant digits, so longer digit strings
// (references, account numbers) stay text.
func xlsxValue(v string, isDate bool, dateStyle int) any {
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || strconv.FormatFloat(f, 'f', -1, 64) != v || v == "-0" {
		return v
	}
	digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(v), "0")
	if len(digits) > 15 {
		return v
	}
	if isDate && f >= 1 && f < 2958466 { // 1900-01-01 … 9999-12-31
		return excelize.Cell{StyleID: dateStyle, Value: f}
	}
	return f
}

// writeAtomic writes to a temporary file beside path and renames it into
// place, so a reader never sees half a file.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("error file %s: %w", filepath.Base(path), err)
	}
	if err = tmp.Chmod(0o640); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
