package importers

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// spillBytes is excelize's UnzipXMLSizeLimit as we set it: a sheet or the
// shared strings larger than this is unpacked to a temporary file and
// streamed from there; a smaller one is held in memory (the shared strings
// decoded whole, at ~10 times their XML). Below excelize's 16 MB default,
// so that what stays in memory stays small.
const spillBytes = 4 << 20

type partKind int

const (
	otherPart partKind = iota
	sheetPart
	sharedStringsPart
)

func kindOf(name string) partKind {
	name = strings.ToLower(strings.ReplaceAll(name, `\`, "/"))
	switch {
	case strings.HasPrefix(name, "xl/worksheets/sheet"):
		return sheetPart
	case name == "xl/sharedstrings.xml":
		return sharedStringsPart
	default:
		return otherPart
	}
}

// checkDeclaredLimits refuses a part whose declared size is past its limit,
// before anything is unpacked. The declared sizes are not trusted beyond
// that: archive/zip fails a part that unpacks to more than it declares, and
// scanParts counts what it unpacks.
func checkDeclaredLimits(file string, zr *zip.Reader, lim Limits) error {
	var inMemory uint64
	for _, f := range zr.File {
		u := f.UncompressedSize64
		kind := kindOf(f.Name)
		switch {
		case kind == sheetPart && u > uint64(lim.SheetBytes):
			return limitError(file, 0, "", "SheetBytes", "limit.sheet_bytes", f.Name, size(int64(u)), size(lim.SheetBytes))
		case kind == sharedStringsPart && u > uint64(lim.SharedStringsBytes):
			return limitError(file, 0, "", "SharedStringsBytes", "limit.shared_bytes", f.Name, size(int64(u)), size(lim.SharedStringsBytes))
		case kind == otherPart && u > uint64(lim.PartBytes):
			return limitError(file, 0, "", "PartBytes", "limit.part_bytes", f.Name, size(int64(u)), size(lim.PartBytes))
		}
		if kind == otherPart || u <= spillBytes {
			inMemory += u
		}
		if inMemory > uint64(lim.InMemoryBytes) {
			return limitError(file, 0, "", "InMemoryBytes", "limit.in_memory", size(lim.InMemoryBytes))
		}
	}
	return nil
}

// scanParts unpacks every sheet and the shared strings once, through a
// counter, and checks them against lim with a byte scan (no XML parse, so
// nothing it reads is held): one cell, one tag or text, one row, the rows
// and cells per row, the shared strings. It runs before excelize unpacks or
// parses anything, so a refused file has cost neither memory nor disk.
func scanParts(file string, zr *zip.Reader, lim Limits) error {
	for _, f := range zr.File {
		kind := kindOf(f.Name)
		if kind == otherPart || f.FileInfo().IsDir() {
			continue
		}
		if err := scanPart(file, f, kind, lim); err != nil {
			return err
		}
	}
	return nil
}

// errPartTooLarge ends a part that unpacks to more than its limit, whatever
// the zip declared.
var errPartTooLarge = errors.New("part unpacks past its limit")

// boundedReader fails once more than max bytes have been read.
type boundedReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n > b.max {
		return 0, errPartTooLarge
	}
	if rest := b.max - b.n + 1; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		return n, errPartTooLarge
	}
	return n, err
}

func scanPart(file string, f *zip.File, kind partKind, lim Limits) error {
	max := lim.SheetBytes
	if kind == sharedStringsPart {
		max = lim.SharedStringsBytes
	}
	rc, err := f.Open()
	if err != nil {
		return openError(file, err)
	}
	defer rc.Close()
	sc := &xmlScan{file: file, part: f.Name, kind: kind, lim: lim}
	br := &boundedReader{r: rc, max: max}
	buf := make([]byte, 64<<10)
	for {
		n, rerr := br.Read(buf)
		if err := sc.feed(buf[:n]); err != nil {
			return err
		}
		switch {
		case rerr == io.EOF:
			return nil
		case errors.Is(rerr, errPartTooLarge):
			if kind == sharedStringsPart {
				return limitError(file, 0, "", "SharedStringsBytes", "limit.shared_over", f.Name, size(max))
			}
			return limitError(file, 0, "", "SheetBytes", "limit.sheet_over", f.Name, size(max))
		case rerr != nil:
			return openError(file, rerr)
		}
	}
}

// xmlScan follows a part's XML a chunk at a time, knowing only where tags
// start and end: '<' cannot occur in XML text or attribute values, so every
// '<' opens a tag. CDATA and comments may hold '>'; they are then counted as
// text, which only errs on the side of refusing.
type xmlScan struct {
	file, part string
	kind       partKind
	lim        Limits

	inTag   bool
	head    []byte // the first bytes of the current tag, for its name and r attribute
	tagLen  int
	last    byte // the tag's last byte: '/' for a self-closing one
	textLen int  // the current run of text

	rows, cols  int // <row> elements; <c> elements in the current row
	rowRef      int // the current row's number (its r, or the count)
	colRef      []byte
	rowLen      int
	inRow       bool
	inCell      bool
	cellLen     int
	strings     int // <si> elements
	inString    bool
	stringBytes int
}

const headKeep = 128

func (s *xmlScan) feed(b []byte) error {
	for len(b) > 0 {
		if !s.inTag {
			i := bytes.IndexByte(b, '<')
			n := i
			if i < 0 {
				n = len(b)
			}
			s.textLen += n
			if err := s.add(n); err != nil {
				return err
			}
			if s.textLen > s.lim.CellBytes {
				return s.tooLarge()
			}
			if i < 0 {
				return nil
			}
			s.inTag, s.head, s.tagLen, s.textLen = true, s.head[:0], 0, 0
			b = b[i+1:]
			continue
		}
		i := bytes.IndexByte(b, '>')
		n := i
		if i < 0 {
			n = len(b)
		}
		if room := headKeep - len(s.head); room > 0 {
			s.head = append(s.head, b[:min(room, n)]...)
		}
		if n > 0 {
			s.last = b[n-1]
		}
		s.tagLen += n
		if err := s.add(n + 2); err != nil {
			return err
		}
		if s.tagLen > s.lim.CellBytes {
			return s.tooLarge()
		}
		if i < 0 {
			return nil
		}
		s.inTag = false
		if err := s.tag(); err != nil {
			return err
		}
		b = b[i+1:]
	}
	return nil
}

// add counts n bytes of XML to the cell and row they are in.
func (s *xmlScan) add(n int) error {
	if s.inCell {
		s.cellLen += n
		if s.cellLen > s.lim.CellBytes {
			return s.tooLarge()
		}
	}
	if s.inString {
		s.stringBytes += n
		if s.stringBytes > s.lim.CellBytes {
			return s.tooLarge()
		}
	}
	if s.inRow {
		s.rowLen += n
		if s.rowLen > s.lim.RowBytes {
			return limitError(s.file, s.rowRef, "", "RowBytes", "limit.xlsx_row", size(int64(s.lim.RowBytes)), s.part)
		}
	}
	return nil
}

// tag takes note of a tag that has just ended.
func (s *xmlScan) tag() error {
	h := s.head
	closing := len(h) > 0 && h[0] == '/'
	if closing {
		h = h[1:]
	}
	end := 0
	for end < len(h) && !isSpace(h[end]) && h[end] != '/' {
		end++
	}
	name := h[:end]
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	selfClosing := !closing && s.last == '/'
	switch s.kind {
	case sheetPart:
		switch {
		case string(name) == "row" && !closing:
			s.rows++
			s.rowRef = s.rows
			if r, ok := attr(h[end:], "r"); ok {
				if n, err := strconv.Atoi(string(r)); err == nil {
					s.rowRef = n
				}
			}
			if s.rows > s.lim.Rows || s.rowRef > s.lim.Rows {
				return limitError(s.file, 0, "", "Rows", "limit.rows", s.part, s.lim.Rows)
			}
			s.cols, s.rowLen, s.inRow = 0, s.tagLen+2, !selfClosing
		case string(name) == "row" && closing:
			s.inRow = false
		case string(name) == "c" && !closing:
			// An empty self-closing cell (<c r="Z2" s="1"/>: formatting
			// over a range) holds nothing; RowBytes bounds how many.
			if !selfClosing {
				s.cols++
			}
			// Kept as bytes: a string per cell would cost an allocation
			// on each of a large file's millions of cells.
			s.colRef = s.colRef[:0]
			if r, ok := attr(h[end:], "r"); ok {
				for len(r) > 0 && r[len(r)-1] >= '0' && r[len(r)-1] <= '9' {
					r = r[:len(r)-1]
				}
				s.colRef = append(s.colRef, r...)
			}
			if s.cols > s.lim.Columns {
				return limitError(s.file, s.rowRef, "", "Columns", "limit.xlsx_columns", s.lim.Columns, s.part)
			}
			s.inCell, s.cellLen = !selfClosing, s.tagLen+2
		case string(name) == "c" && closing:
			s.inCell = false
		}
	case sharedStringsPart:
		switch {
		case string(name) == "si" && !closing:
			s.strings++
			if s.strings > s.lim.SharedStrings {
				return limitError(s.file, 0, "", "SharedStrings", "limit.shared_strings", s.lim.SharedStrings)
			}
			s.inString, s.stringBytes = !selfClosing, s.tagLen+2
		case string(name) == "si" && closing:
			s.inString = false
		}
	}
	return nil
}

// tooLarge is the refusal of a cell (or a tag or text, which only a cell
// could legitimately make long) past CellBytes.
func (s *xmlScan) tooLarge() error {
	limit := size(int64(s.lim.CellBytes))
	switch {
	case s.kind == sharedStringsPart:
		return limitError(s.file, 0, "", "CellBytes", "limit.shared_string", s.strings, limit)
	case s.inCell:
		col := string(s.colRef)
		if col == "" {
			col = columnName(s.cols)
		}
		return limitError(s.file, s.rowRef, col, "CellBytes", "limit.cell_hostile", limit)
	case s.inRow:
		return limitError(s.file, s.rowRef, "", "CellBytes", "limit.a_cell", limit)
	default:
		return limitError(s.file, 0, "", "CellBytes", "limit.a_cell_in", limit, s.part)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// attr finds name="value" (or '…') among a tag's attributes; only the first
// headKeep bytes of the tag are looked at, where excelize and Excel put r.
func attr(b []byte, name string) ([]byte, bool) {
	for i := 0; i < len(b); i++ {
		if !isSpace(b[i]) {
			continue
		}
		rest := b[i+1:]
		if !bytes.HasPrefix(rest, []byte(name)) {
			continue
		}
		rest = skipSpace(rest[len(name):])
		if len(rest) < 2 || rest[0] != '=' {
			continue
		}
		rest = skipSpace(rest[1:])
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			continue
		}
		q := rest[0]
		if j := bytes.IndexByte(rest[1:], q); j >= 0 {
			return rest[1 : 1+j], true
		}
		return nil, false
	}
	return nil, false
}

// skipSpace is bytes.TrimLeft for XML white space, without building a
// cutset on each of millions of calls.
func skipSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}
