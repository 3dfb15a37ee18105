package importers

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// The columns WriteErrorFile adds before the original ones. A file that has
// them (an error file imported again) gets them replaced, not repeated, and
// a reader ignores them: they are not order columns.
const (
	ErrorsColumn    = "errors"
	WarningsColumn  = "warnings"
	SourceRowColumn = "source_row"
)

// added is how many columns the error file puts before the original ones.
const added = 3

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

// ErrorFile is how to write the error file of one input.
type ErrorFile struct {
	Header []string
	Comma  rune // of a CSV: ',', ';' or tab; 0 means ','
	// Encoding is a CSV's text encoding (an Encoding… name; "" is UTF-8):
	// the input's, so the file opens as the input did.
	Encoding string
	// Text are the positions (in Header) of identifier columns (personal
	// and organisation numbers, postcodes, phone numbers…): their cells are
	// text cells in an XLSX whatever they hold, so the spreadsheet neither
	// drops a leading 0 nor shows 1.48E+10.
	Text []int
}

// WriteErrorFile writes the rejected rows with the header and delimiter
// of the input (ErrorFile.Write).
func WriteErrorFile(path string, header []string, comma rune, rows []ErrorRow) error {
	return ErrorFile{Header: header, Comma: comma}.Write(path, rows)
}

// Write writes the rejected rows, in row order, as a file the accountant
// can open, fix and import again as it is: first the columns "errors",
// "warnings" and "source_row" (the row number in the imported file), so the
// reasons are on screen, then the original columns. The format follows the
// extension of path:
//
//   - .csv or .txt: in Encoding (UTF-8 and UTF-16 with their BOM), CRLF,
//     delimited by Comma. A cell that a
//     spreadsheet would run as a formula (starting with =, @, tab, CR, or +
//     or - when it is not a plain number or phone number) gets a leading
//     apostrophe; ReadCSV removes it again.
//   - .xlsx: one sheet "errors" with a bold, frozen header, columns sized to
//     their content, and the cells with a problem filled. Identifier
//     columns (Text) are text cells; elsewhere text that is exactly how
//     Excel writes a number ("4500", "199.9") is a number cell so amounts
//     stay numbers, with a date format under a header ending in "date" or
//     "dato". Nothing can be a formula. Excel holds 32,767 characters in a
//     cell; longer values are cut.
//
// The file is written to a temporary name in the same directory and renamed
// into place, mode 0640.
func (ef ErrorFile) Write(path string, rows []ErrorRow) error {
	header := ef.Header
	keep := make([]int, 0, len(header))
	outHeader := []string{ErrorsColumn, WarningsColumn, SourceRowColumn}
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case SourceRowColumn, ErrorsColumn, WarningsColumn:
			continue
		}
		keep = append(keep, i)
		outHeader = append(outHeader, h)
	}
	outPos := make(map[int]int, len(keep)) // input position → output column
	for o, i := range keep {
		outPos[i] = o + added
	}
	text := make([]bool, len(outHeader))
	for _, i := range ef.Text {
		if o, ok := outPos[i]; ok {
			text[o] = true
		}
	}

	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b ErrorRow) int { return cmp.Compare(a.Number, b.Number) })
	records := make([][]string, len(sorted))
	marked := make([][]int, len(sorted))
	for n, r := range sorted {
		if len(r.Cells) > len(header) {
			for _, v := range r.Cells[len(header):] {
				if v != "" {
					return fmt.Errorf("error file %s: row %d has %d cells, the header %d", filepath.Base(path), r.Number, len(r.Cells), len(header))
				}
			}
		}
		rec := make([]string, 0, len(outHeader))
		rec = append(rec, r.Errors, r.Warnings, strconv.Itoa(r.Number))
		for _, i := range keep {
			v := ""
			if i < len(r.Cells) {
				v = r.Cells[i]
			}
			rec = append(rec, v)
		}
		records[n] = rec
		for _, i := range r.Marked {
			if o, ok := outPos[i]; ok {
				marked[n] = append(marked[n], o)
			}
		}
	}

	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".txt":
		comma := ef.Comma
		if comma == 0 {
			comma = ','
		}
		if comma != ',' && comma != ';' && comma != '\t' {
			return fmt.Errorf("error file %s: delimiter %q cannot be re-imported: use ',', ';' or tab", filepath.Base(path), comma)
		}
		return writeAtomic(path, func(w io.Writer) error { return writeErrorCSV(w, comma, ef.Encoding, outHeader, records) })
	case ".xlsx":
		if len(records)+1 > excelize.TotalRows {
			return fmt.Errorf("error file %s: %d rows do not fit in one sheet", filepath.Base(path), len(records))
		}
		return writeAtomic(path, func(w io.Writer) error { return writeErrorXLSX(w, outHeader, records, text, marked) })
	default:
		return fmt.Errorf("error file %s: unsupported extension %q: use .csv, .txt or .xlsx", filepath.Base(path), filepath.Ext(path))
	}
}

func writeErrorCSV(w io.Writer, comma rune, encoding string, header []string, records [][]string) error {
	var text bytes.Buffer // rejected rows only: small enough to encode at once
	cw := csv.NewWriter(&text)
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
	_, err := w.Write(encodeText(text.Bytes(), encoding))
	return err
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

func writeErrorXLSX(w io.Writer, header []string, records [][]string, text []bool, marked [][]int) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "errors"
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return err
	}
	mark := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFD966"}} // the cells to fix
	styles := struct{ bold, date, text, markPlain, markDate, markText, wrap int }{}
	for _, s := range []struct {
		dst   *int
		style excelize.Style
	}{
		{&styles.bold, excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&styles.date, excelize.Style{NumFmt: 14}}, // the short date of the reader's locale
		{&styles.text, excelize.Style{NumFmt: 49}}, // "@": what is typed stays text
		{&styles.markPlain, excelize.Style{Fill: mark}},
		{&styles.markDate, excelize.Style{Fill: mark, NumFmt: 14}},
		{&styles.markText, excelize.Style{Fill: mark, NumFmt: 49}},
		{&styles.wrap, excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
	} {
		id, err := f.NewStyle(&s.style)
		if err != nil {
			return err
		}
		*s.dst = id
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	for col, width := range columnWidths(header, records) {
		if err := sw.SetColWidth(col+1, col+1, width); err != nil {
			return err
		}
	}
	isDate := make([]bool, len(header))
	values := make([]any, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		isDate[i] = i >= added && !text[i] && (strings.HasSuffix(h, "date") || strings.HasSuffix(h, "dato"))
		values[i] = excelize.Cell{StyleID: styles.bold, Value: header[i]}
	}
	if err := sw.SetRow("A1", values); err != nil {
		return err
	}
	for n, rec := range records {
		values[0] = excelize.Cell{StyleID: styles.wrap, Value: rec[0]} // the reasons: always text
		values[1] = excelize.Cell{StyleID: styles.wrap, Value: rec[1]}
		values[2] = rec[2]
		if num, err := strconv.Atoi(rec[2]); err == nil {
			values[2] = num
		}
		for i := added; i < len(rec); i++ {
			switch {
			case text[i] && slices.Contains(marked[n], i):
				values[i] = excelize.Cell{StyleID: styles.markText, Value: rec[i]}
			case text[i]:
				values[i] = excelize.Cell{StyleID: styles.text, Value: rec[i]}
			case slices.Contains(marked[n], i):
				v, st := xlsxValue(rec[i], false, 0), styles.markPlain
				if c, ok := xlsxValue(rec[i], isDate[i], 0).(excelize.Cell); ok { // a date
					v, st = c.Value, styles.markDate
				}
				values[i] = excelize.Cell{StyleID: st, Value: v}
			default:
				values[i] = xlsxValue(rec[i], isDate[i], styles.date)
			}
		}
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

// columnWidths sizes each column to its longest value (in characters,
// within bounds; the reasons get more room and wrap).
func columnWidths(header []string, records [][]string) []float64 {
	widths := make([]float64, len(header))
	for i, h := range header {
		widths[i] = float64(utf8.RuneCountInString(h)) + 2
	}
	for _, rec := range records {
		for i, v := range rec {
			if n := float64(utf8.RuneCountInString(v)) + 2; n > widths[i] {
				widths[i] = n
			}
		}
	}
	for i := range widths {
		limit := 40.0
		if i < 2 {
			limit = 80
		}
		widths[i] = min(max(widths[i], 8), limit)
	}
	return widths
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
