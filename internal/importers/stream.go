package importers

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Stream reads one table row by row, so memory does not grow with the file.
// The header is read by Open; Next returns the rows under it.
//
// A Stream checks what ReadFile checks, at the row where it shows: a value
// under an unnamed column or beyond the header, merged cells over a row, a
// broken CSV quote, more than Options.MaxRows rows. What only the whole file
// could tell is not checked: a named column without data is kept, and an
// unnamed column is dropped from Header whether or not data follows (a value
// under it fails at its row). A Stream is not safe for concurrent use.
type Stream struct {
	file, format string
	comma        rune
	encoding     string // of a CSV: EncodingUTF8, EncodingWindows1252, EncodingUTF16LE or EncodingUTF16BE
	date1904     bool

	raw       []string // the header row as read: trimmed, cut after its last name, "" for unnamed columns
	header    []string // the named cells of raw, in file order
	keep      []int    // index into raw of each header cell; nil when no column is unnamed
	headerRow int

	src     rowSource
	maxRows int
	count   int         // data rows returned
	merges  []cellRange // merged ranges below the header that may cover a data row, sorted
	mi      int         // merges[:mi] start above the last row read
	err     error       // sticky: io.EOF or the error that ended the stream
	closed  bool
}

// rowSource yields the records of a file, cells trimmed (and, for CSV, with
// the formula guard removed), with the row number the user sees. It returns
// io.EOF at the end; any other error ends the stream.
type rowSource interface {
	next() (number int, cells []string, err error)
	close() error
}

// Open opens a CSV (.csv, .txt) or XLSX (.xlsx) file, chosen by the extension
// as ReadFile does, and reads its header. I/O errors are returned as they
// are; problems with the content as a *FileError. The Stream must be closed.
func Open(path string, opt Options) (*Stream, error) {
	name := baseName(path)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv", ".txt", ".xlsx":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		var s *Stream
		if ext == ".xlsx" {
			// excelize opens the file itself; ours is only for our own look
			// at the zip, and is not needed once Open returns.
			s, err = openXLSX(name, xlsxSource{path: path, ra: f, size: fi.Size()}, opt)
			f.Close()
		} else {
			s, err = openCSV(name, f, fi.Size(), f, opt)
		}
		if err != nil {
			return nil, err
		}
		return s, nil
	case ".xls":
		return nil, fileError(name, 0, "", nil, "file.xls")
	default:
		if ext == "" {
			ext = "(none)"
		}
		return nil, fileError(name, 0, "", nil, "file.unsupported", ext)
	}
}

// File is the base name as the user knows it ("orders.xlsx").
func (s *Stream) File() string { return s.file }

// Format is "csv" or "xlsx".
func (s *Stream) Format() string { return s.format }

// Comma is the CSV delimiter that was sniffed (',', ';' or '\t'); 0 for XLSX.
func (s *Stream) Comma() rune { return s.comma }

// Encoding is a CSV file's text encoding ("" for XLSX).
func (s *Stream) Encoding() string { return s.encoding }

// Date1904 reports an XLSX workbook that counts serial dates from 1904-01-01
// (see Sheet.Date1904).
func (s *Stream) Date1904() bool { return s.date1904 }

// Header returns the named header cells, trimmed, in file order; unnamed
// columns are not in it. The slice is the caller's.
func (s *Stream) Header() []string { return slices.Clone(s.header) }

// HeaderRow is the row number of the header (normally 1).
func (s *Stream) HeaderRow() int { return s.headerRow }

// Next returns the next non-blank row, its Cells aligned to Header
// (len(Cells) == len(Header())), or io.EOF after the last one. Cells is a
// fresh slice on every call: the caller may keep it.
//
// A problem with the file at this row (a value under an unnamed column or
// beyond the header, merged cells over the row, a broken CSV quote, more than
// MaxRows rows) is returned as a *FileError; an I/O error as it is. Either
// ends the stream: every later call returns the same error.
func (s *Stream) Next() (Row, error) {
	if s.err != nil {
		return Row{}, s.err
	}
	if s.closed {
		return Row{}, fmt.Errorf("%s: read after Close", s.file)
	}
	for {
		n, cells, err := s.src.next()
		if err != nil {
			s.err = err
			return Row{}, err
		}
		cells = cutTrailingEmpty(cells)
		if len(cells) == 0 {
			continue
		}
		if s.count >= s.maxRows {
			s.err = fileError(s.file, n, "", nil, "file.too_many_rows", s.maxRows)
			return Row{}, s.err
		}
		s.count++
		if err := s.check(n, cells); err != nil {
			s.err = err
			return Row{}, err
		}
		return Row{Number: n, Cells: s.align(cells)}, nil
	}
}

// Close releases the file (and, for XLSX, excelize's temporary files). It
// may be called more than once.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.src.close()
}

// cutTrailingEmpty drops the empty cells at the end: they carry nothing. A
// blank record comes back empty.
func cutTrailingEmpty(cells []string) []string {
	for len(cells) > 0 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	return cells
}

// start reads up to the first non-blank record, the header, and checks it:
// merged cells over it, duplicate names. merges are the sheet's merged
// ranges (XLSX only). On error the source is left open.
func (s *Stream) start(merges []cellRange, opt Options) error {
	s.maxRows = opt.maxRows()
	for {
		n, cells, err := s.src.next()
		if err == io.EOF {
			return fileError(s.file, 0, "", nil, "file.no_header")
		}
		if err != nil {
			return err
		}
		if cells = cutTrailingEmpty(cells); len(cells) > 0 {
			s.raw, s.headerRow = cells, n
			break
		}
	}
	if err := s.prepareMerges(merges); err != nil {
		return err
	}
	seen := make(map[string]int, len(s.raw))
	for j, name := range s.raw {
		if name == "" {
			continue
		}
		key := strings.ToLower(name)
		if i, dup := seen[key]; dup {
			return fileError(s.file, s.headerRow, name, nil, "file.duplicate_column", columnName(i+1), columnName(j+1))
		}
		seen[key] = j
	}
	s.header = make([]string, 0, len(s.raw))
	for i, name := range s.raw {
		if name != "" {
			s.header = append(s.header, name)
			s.keep = append(s.keep, i)
		}
	}
	if len(s.header) == len(s.raw) {
		s.keep = nil
	}
	return nil
}

// prepareMerges rejects merged cells over the header and keeps the ranges
// that may cover a data row, sorted by their first row and column. A merged
// range keeps its value only in its first cell, so the other rows or
// columns would silently read as empty. Ranges right of the header are left
// out: a row with a value there fails anyway.
func (s *Stream) prepareMerges(merges []cellRange) error {
	if len(merges) == 0 {
		return nil
	}
	slices.SortFunc(merges, func(a, b cellRange) int {
		if a.row1 != b.row1 {
			return a.row1 - b.row1
		}
		return a.col1 - b.col1
	})
	width := len(s.raw)
	data := merges[:0]
	for _, m := range merges {
		switch {
		case m.col1 > width || m.row2 < s.headerRow:
		case m.row1 <= s.headerRow:
			return fileError(s.file, s.headerRow, s.mergeColumn(m), nil, "file.merged_header", m.ref)
		default:
			data = append(data, m)
		}
	}
	s.merges = slices.Clip(data)
	return nil
}

func (s *Stream) mergeColumn(m cellRange) string {
	if m.col1 <= len(s.raw) && s.raw[m.col1-1] != "" {
		return s.raw[m.col1-1]
	}
	return columnName(m.col1)
}

// check rejects a data row that merged cells cover or that has a value
// under an unnamed column or beyond the header.
func (s *Stream) check(n int, cells []string) error {
	// Rows come in order, so ranges that start above this row either end
	// above it (a blank stretch) or cover it: the first that covers it is
	// the one with the smallest first row and column, the one ReadFile has
	// always reported. Once passed, a range is never looked at again.
	for s.mi < len(s.merges) && s.merges[s.mi].row1 <= n {
		m := s.merges[s.mi]
		s.mi++
		if m.row2 >= n {
			return fileError(s.file, m.row1, s.mergeColumn(m), nil, "file.merged_cells", m.ref)
		}
	}
	if s.keep == nil && len(cells) <= len(s.raw) {
		return nil
	}
	for i, v := range cells {
		if v != "" && (i >= len(s.raw) || s.raw[i] == "") {
			return fileError(s.file, n, columnName(i+1), nil, "file.unnamed_column", i+1, s.headerRow)
		}
	}
	return nil
}

// align returns cells aligned to the header; check has made sure nothing is
// lost. The sources hand over a fresh slice per record, so it may be
// extended in place.
func (s *Stream) align(cells []string) []string {
	width := len(s.header)
	if s.keep != nil {
		out := make([]string, width)
		for k, i := range s.keep {
			if i < len(cells) {
				out[k] = cells[i]
			}
		}
		return out
	}
	switch {
	case len(cells) == width:
		return cells
	case cap(cells) >= width:
		old := len(cells)
		cells = cells[:width]
		clear(cells[old:])
		return cells
	default:
		out := make([]string, width)
		copy(out, cells)
		return out
	}
}

// collect reads the rest of the stream into a Sheet and closes it.
func collect(s *Stream) (*Sheet, error) {
	defer s.Close()
	sh := &Sheet{File: s.file, Format: s.format, Header: s.header, Comma: s.comma, Date1904: s.date1904}
	for {
		r, err := s.Next()
		if err == io.EOF {
			return sh, nil
		}
		if err != nil {
			return nil, err
		}
		sh.Rows = append(sh.Rows, r)
	}
}
