package importers

import (
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/frontpayment/fpexport/internal/msg"
)

// DefaultMaxRows is the row limit when Options.MaxRows is 0.
const DefaultMaxRows = 1_000_000

// Sheet is one table read from a file: a header and the rows under it.
type Sheet struct {
	// File is the base name as the user knows it ("orders.xlsx").
	File string
	// Format is "csv" or "xlsx".
	Format string
	// Header holds the trimmed column names. Columns without a name are
	// dropped (a value under one fails the read), so Header never holds "".
	Header []string
	// Rows are the non-blank rows under the header, in file order.
	Rows []Row
	// Comma is the CSV delimiter that was sniffed (',', ';' or '\t'); 0 for XLSX.
	Comma rune
	// Date1904 reports an XLSX workbook that counts serial dates from
	// 1904-01-01 (old Mac Excel) instead of 1899-12-30: its date serials
	// are 1462 days smaller than in the usual 1900 system.
	Date1904 bool
}

// Row is one non-blank row under the header.
type Row struct {
	// Number is the row number the user sees in Excel or the line number in a
	// text editor; the header is normally row 1. For a CSV record that spans
	// lines (a quoted cell with a line break), it is the line where the record
	// starts.
	Number int
	// Cells are aligned to Sheet.Header (or Stream.Header) and trimmed;
	// missing cells are "".
	Cells []string
}

// Options tune reading. The zero value reads the first sheet with the default
// row limit.
type Options struct {
	// Sheet is the XLSX sheet to read (matched case-insensitively, as Excel
	// does); "" means the first sheet. Ignored for CSV.
	Sheet string
	// MaxRows caps the number of data rows; 0 (or less) means DefaultMaxRows.
	MaxRows int
	// Limits bound what one file may make the reader hold or unpack; zero
	// fields take DefaultLimits.
	Limits Limits
}

func (o Options) maxRows() int {
	if o.MaxRows <= 0 {
		return DefaultMaxRows
	}
	return o.MaxRows
}

// FileError is a problem with the file itself, reported with its position so
// the accountant can find and fix it. Zero parts are left out of Error().
type FileError struct {
	File   string  // base name, "orders.xlsx"
	Row    int     // row number as the user sees it, 0 if not about one row
	Column string  // header name, or the column letter ("C") where there is none
	Reason string  // Msg's English text (logs, tests)
	Msg    msg.Msg // the reason in the message catalogue, shown in the reader's language (Text)
	Err    error   // underlying cause, if any
}

// fileError makes a FileError whose reason is the catalogue's message id
// with its arguments.
func fileError(file string, row int, column string, err error, id string, args ...any) *FileError {
	m := msg.New(id, args...)
	return &FileError{File: file, Row: row, Column: column, Reason: m.Text(msg.EN), Msg: m, Err: err}
}

// Error reads like "orders.xlsx row 12, column rate: …" (Text in English).
func (e *FileError) Error() string { return e.Text(msg.EN) }

// Text reads like "ordrer.xlsx rad 12, kolonne Beløp: …" in lang.
func (e *FileError) Text(lang msg.Lang) string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Row > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(msg.New("file.where_row", e.Row).Text(lang))
	}
	if e.Column != "" {
		switch {
		case e.Row > 0:
			b.WriteString(", ")
		case b.Len() > 0:
			b.WriteByte(' ')
		}
		b.WriteString(msg.New("file.where_column", e.Column).Text(lang))
	}
	reason := e.Reason
	if !e.Msg.IsZero() {
		reason = e.Msg.Text(lang)
	}
	if reason == "" && e.Err != nil {
		reason = e.Err.Error()
	}
	if b.Len() > 0 && reason != "" {
		b.WriteString(": ")
	}
	b.WriteString(reason)
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// ReadFile reads a CSV (.csv, .txt) or XLSX (.xlsx) file, chosen by the
// extension, into memory: it is a loop over Open and Next. I/O errors are
// returned as they are; problems with the content as a *FileError.
func ReadFile(path string, opt Options) (*Sheet, error) {
	s, err := Open(path, opt)
	if err != nil {
		return nil, err
	}
	return collect(s)
}

func baseName(name string) string {
	if name == "" {
		return ""
	}
	return filepath.Base(name)
}

// columnName is the spreadsheet letter of a 1-based column: 1 → A, 28 → AB.
func columnName(n int) string {
	if n < 1 {
		return "?"
	}
	var b []byte
	for n > 0 {
		n--
		b = append(b, byte('A'+n%26))
		n /= 26
	}
	slices.Reverse(b)
	return string(b)
}

// trimCell trims white space, including no-break spaces, and the invisible
// BOM and zero-width space that copy-paste leaves behind.
func trimCell(s string) string {
	if s == "" {
		return s
	}
	if first, last := s[0], s[len(s)-1]; first < utf8.RuneSelf && first > ' ' && last < utf8.RuneSelf && last > ' ' {
		return s
	}
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\ufeff' || r == '\u200b'
	})
}

// cellRange is a merged range, 1-based and inclusive.
type cellRange struct {
	ref                    string
	col1, row1, col2, row2 int
}
