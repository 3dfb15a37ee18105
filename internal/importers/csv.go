package importers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/frontpayment/fpexport/internal/msg"
)

// ReadCSV reads delimited text into memory. The delimiter is the one of ',',
// ';' and tab that splits the header into the most fields (ties go in that
// order). Text may be UTF-8 (with or without BOM), UTF-16 with a BOM, or,
// when it is not valid UTF-8, Windows-1252. name is the file name reported in
// errors. r is read to its end first (the text is read more than once: to
// choose the encoding, the delimiter, then the rows); Open streams a file
// instead.
func ReadCSV(name string, r io.Reader, opt Options) (*Sheet, error) {
	file := baseName(name)
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	s, err := openCSV(file, bytes.NewReader(data), int64(len(data)), nil, opt)
	if err != nil {
		return nil, err
	}
	return collect(s)
}

// openCSV reads the text three times, never holding more than a buffer of
// it: a scan of the bytes decides the encoding (and finds NUL bytes and the
// kind of line ends), a second read sniffs the delimiter from the header,
// and the third is parsed row by row. closer, if not nil, is closed with the
// Stream (or here, on error).
func openCSV(file string, ra io.ReaderAt, size int64, closer io.Closer, opt Options) (s *Stream, err error) {
	defer func() {
		if err != nil && closer != nil {
			closer.Close()
		}
	}()
	text, err := probeText(file, ra, size)
	if err != nil {
		return nil, err
	}
	comma, ok, err := sniffComma(text.reader())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if !ok {
		return nil, fileError(file, 0, "", nil, "file.no_header")
	}
	limits := opt.Limits.orDefaults()
	lim := &recordLimit{r: text.reader(), max: int64(limits.RowBytes)}
	cr := csv.NewReader(bufio.NewReaderSize(lim, 64<<10))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	// TrimLeadingSpace lets `a, "b,c"` parse; with tab as the delimiter it
	// would swallow empty fields, so not then.
	cr.TrimLeadingSpace = comma != '\t'

	s = &Stream{file: file, format: "csv", comma: comma, encoding: encodingNames[text.enc],
		src: &csvRows{file: file, text: text, cr: cr, lim: lim, limits: limits, closer: closer}}
	if err := s.start(nil, opt); err != nil {
		return nil, err
	}
	return s, nil
}

// csvRows is the rowSource of a CSV file.
type csvRows struct {
	file   string
	text   *csvText
	cr     *csv.Reader
	lim    *recordLimit
	limits Limits
	closer io.Closer
}

func (c *csvRows) next() (int, []string, error) {
	rec, err := c.cr.Read()
	if c.lim.over {
		row := 0
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			row = pe.StartLine
		case err == nil:
			row, _ = c.cr.FieldPos(0)
		}
		return 0, nil, limitError(c.file, row, "", "RowBytes", "limit.csv_row", size(c.lim.max))
	}
	if err == io.EOF {
		return 0, nil, io.EOF
	}
	if err != nil {
		return 0, nil, c.error(err)
	}
	c.lim.start = c.cr.InputOffset()
	line, _ := c.cr.FieldPos(0)
	if err := c.checkLimits(line, rec); err != nil {
		return 0, nil, err
	}
	for i, v := range rec {
		v = trimCell(v)
		if u := unquoteFormula(v); len(u) != len(v) {
			v = trimCell(u) // "'\t0" is "\t0" unquoted: trimmed, "0"
		}
		rec[i] = v
	}
	return line, rec, nil
}

func (c *csvRows) close() error {
	if c.closer != nil {
		return c.closer.Close()
	}
	return nil
}

// error explains a parse error in the accountant's terms.
func (c *csvRows) error(err error) error {
	var re *readError
	if errors.As(err, &re) {
		return fmt.Errorf("read %s: %w", c.file, re.err)
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fileError(c.file, 0, "", err, "csv.unreadable")
	}
	col := pe.Column // a 1-based byte index
	// The line is read again, from the start of the text: only the error
	// path pays for it.
	line, lerr := lineOf(c.text.reader(), pe.Line, max(col, 0))
	if lerr != nil {
		return fmt.Errorf("read %s: %w", c.file, lerr)
	}
	char := utf8.RuneCount(line[:min(max(col-1, 0), len(line))]) + 1
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fileError(c.file, pe.StartLine, "", err, "csv.bare_quote", pe.Line, char)
	case errors.Is(pe.Err, csv.ErrQuote) && col >= 1 && col <= len(line) && line[col-1] == '"':
		return fileError(c.file, pe.StartLine, "", err, "csv.extra_quote", pe.Line, char)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fileError(c.file, pe.StartLine, "", err, "csv.unclosed_quote")
	default:
		return fileError(c.file, pe.StartLine, "", err, msg.Text, pe.Err.Error())
	}
}

// lineOf returns the first limit bytes of line n (1-based) of text, without
// its '\n'.
func lineOf(text io.Reader, n, limit int) ([]byte, error) {
	br := bufio.NewReaderSize(text, 64<<10)
	for i := 1; i < n; i++ {
		for {
			_, err := br.ReadSlice('\n')
			if err == nil {
				break
			}
			if err == io.EOF {
				return nil, nil
			}
			if err != bufio.ErrBufferFull {
				return nil, err
			}
		}
	}
	var line []byte
	for len(line) < limit {
		b, err := br.ReadSlice('\n')
		b = bytes.TrimSuffix(b, []byte("\n"))
		line = append(line, b[:min(len(b), limit-len(line))]...)
		if err != bufio.ErrBufferFull {
			if err == io.EOF {
				err = nil
			}
			return line, err
		}
	}
	return line, nil
}

// unquoteFormula undoes the apostrophe WriteErrorFile puts before a cell that
// a spreadsheet would run as a formula, so an error file reads back as written.
func unquoteFormula(v string) string {
	if len(v) > 1 && v[0] == '\'' && needsFormulaGuard(v[1:]) {
		return v[1:]
	}
	return v
}

// The encodings of CSV text.
const (
	encUTF8 = iota
	encWindows1252
	encUTF16LE
	encUTF16BE
)

// The names of the encodings, as Stream.Encoding and ErrorFile.Encoding give them.
const (
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
)

var encodingNames = map[int]string{encUTF8: EncodingUTF8, encWindows1252: EncodingWindows1252, encUTF16LE: EncodingUTF16LE, encUTF16BE: EncodingUTF16BE}

// csvText says how the file's bytes become UTF-8 text with '\n' line ends.
type csvText struct {
	ra     io.ReaderAt
	start  int64 // after the byte order mark
	size   int64
	enc    int
	loneCR bool // old Mac line ends: every '\r' is a line end
}

// reader returns the text from its start, decoded on the fly. Errors of the
// underlying file come wrapped in a *readError.
func (t *csvText) reader() io.Reader {
	var r io.Reader = readErrorReader{io.NewSectionReader(t.ra, t.start, t.size-t.start)}
	switch t.enc {
	case encWindows1252:
		r = &windows1252Reader{r: r}
	case encUTF16LE, encUTF16BE:
		r = &utf16Reader{r: r, be: t.enc == encUTF16BE}
	}
	if t.loneCR {
		r = crToLF{r}
	}
	return r
}

// probeText reads the file's bytes once, in chunks, to reject what is not
// text and to choose the encoding: UTF-8 when every byte after the BOM is
// valid UTF-8, Windows-1252 otherwise (UTF-16 when there is its BOM). The
// same pass finds NUL bytes and whether any line ends with '\n'.
func probeText(file string, ra io.ReaderAt, size int64) (*csvText, error) {
	head := make([]byte, 8)
	n, err := ra.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, fileError(file, 0, "", nil, "csv.is_xlsx")
	case bytes.HasPrefix(head, oleMagic):
		return nil, fileError(file, 0, "", nil, "csv.is_xls")
	}
	t := &csvText{ra: ra, size: size}
	var p textProbe
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		t.start = 3
		err = p.scanBytes(ra, t.start, size)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		// Excel's "Unicode Text" is UTF-16 little-endian with a BOM.
		if size%2 != 0 {
			return nil, fileError(file, 0, "", nil, "csv.utf16_odd")
		}
		t.start, t.enc = 2, encUTF16LE
		if head[0] == 0xFE {
			t.enc = encUTF16BE
		}
		err = p.scanUTF16(ra, t.start, size, t.enc == encUTF16BE)
	default:
		err = p.scanBytes(ra, 0, size)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if p.nul {
		return nil, fileError(file, 1+p.linesBeforeNUL, "", nil, "csv.nul")
	}
	if t.enc == encUTF8 && p.invalid {
		t.enc = encWindows1252
	}
	// Old Mac files end lines with a lone CR, which encoding/csv does not
	// take as a line end.
	t.loneCR = !p.lf && p.cr
	return t, nil
}

// textProbe is what the first pass over the text learns.
type textProbe struct {
	invalid        bool // not valid UTF-8
	nul            bool // a NUL character; the scan stops there
	linesBeforeNUL int
	lf, cr         bool
}

const probeChunk = 256 << 10

// scanBytes scans UTF-8 or single-byte text. A multi-byte sequence cut by
// the end of a chunk is carried over to the next one.
func (p *textProbe) scanBytes(ra io.ReaderAt, off, size int64) error {
	buf := make([]byte, utf8.UTFMax+probeChunk)
	carry := 0
	for off < size {
		want := int(min(probeChunk, size-off))
		n, err := ra.ReadAt(buf[carry:carry+want], off)
		if n < want {
			return shortRead(err)
		}
		off += int64(n)
		fresh := buf[carry : carry+n]
		if i := bytes.IndexByte(fresh, 0); i >= 0 {
			p.nul = true
			p.linesBeforeNUL += bytes.Count(fresh[:i], []byte{'\n'})
			return nil
		}
		p.linesBeforeNUL += bytes.Count(fresh, []byte{'\n'})
		p.lf = p.lf || p.linesBeforeNUL > 0
		p.cr = p.cr || bytes.IndexByte(fresh, '\r') >= 0
		b := buf[:carry+n]
		if p.invalid {
			carry = 0
			continue
		}
		cut := len(b)
		if off < size {
			cut -= incompleteTail(b)
		}
		if !utf8.Valid(b[:cut]) {
			p.invalid = true
		}
		carry = copy(buf, b[cut:])
	}
	if carry > 0 {
		p.invalid = true
	}
	return nil
}

// incompleteTail returns the length of a UTF-8 sequence at the end of b that
// lacks bytes (0 when the end is complete, or invalid anyway).
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		c := b[i]
		if c < utf8.RuneSelf {
			return 0
		}
		if !utf8.RuneStart(c) {
			continue // a continuation byte
		}
		if c > 0xF4 {
			return 0 // starts no valid sequence
		}
		need := 4
		switch {
		case c < 0xE0:
			need = 2
		case c < 0xF0:
			need = 3
		}
		if have := len(b) - i; have < need {
			return have
		}
		return 0
	}
	return 0
}

// scanUTF16 scans UTF-16 code units for NUL, LF and CR.
func (p *textProbe) scanUTF16(ra io.ReaderAt, off, size int64, be bool) error {
	buf := make([]byte, probeChunk)
	hi, lo := 1, 0 // little-endian: the low byte first
	if be {
		hi, lo = 0, 1
	}
	for off < size {
		want := int(min(probeChunk, size-off))
		n, err := ra.ReadAt(buf[:want], off)
		if n < want {
			return shortRead(err)
		}
		off += int64(n)
		for i := 0; i+1 < n; i += 2 {
			if buf[i+hi] != 0 {
				continue
			}
			switch buf[i+lo] {
			case 0:
				p.nul = true
				return nil
			case '\n':
				p.lf = true
				p.linesBeforeNUL++
			case '\r':
				p.cr = true
			}
		}
	}
	return nil
}

// shortRead is the error of a ReadAt that returned less than asked for
// within the size the file had: it shrank, or the read failed.
func shortRead(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// sniffComma picks the delimiter that splits the header into the most
// fields; false when no line holds more than delimiters, quotes and white
// space. The header is the first line that does (so the reader will take it
// too); its first record is counted, respecting quotes the way encoding/csv
// does, even when a quoted cell spans lines. Only as much text as that is
// read.
func sniffComma(text io.Reader) (rune, bool, error) {
	var counters [3]fieldCounter
	reset := func() {
		for i, c := range []byte{',', ';', '\t'} {
			counters[i] = fieldCounter{comma: c, n: 1, atStart: true}
		}
	}
	reset()
	found := false
	buf := make([]byte, 32<<10)
	for {
		n, err := text.Read(buf)
		for _, c := range buf[:n] {
			if !found {
				switch c {
				case '\n':
					reset() // the line held nothing: the header is further down
					continue
				case ',', ';', '\t', ' ', '\r', '"':
				default:
					found = true
				}
			}
			done := true
			for i := range counters {
				counters[i].feed(c)
				done = done && counters[i].done
			}
			if found && done {
				return bestComma(counters), true, nil
			}
		}
		if err == io.EOF {
			if !found {
				return 0, false, nil
			}
			return bestComma(counters), true, nil
		}
		if err != nil {
			var re *readError
			if errors.As(err, &re) {
				err = re.err
			}
			return 0, false, err
		}
	}
}

func bestComma(counters [3]fieldCounter) rune {
	best, bestN := ',', 1
	for _, c := range counters {
		if c.n > bestN {
			best, bestN = rune(c.comma), c.n
		}
	}
	return best
}

// fieldCounter counts the fields of the first record of a text fed to it
// byte by byte, split by comma.
type fieldCounter struct {
	comma                        byte
	n                            int
	inQuotes, quoteSeen, atStart bool
	done                         bool
}

func (f *fieldCounter) feed(c byte) {
	switch {
	case f.done:
		return
	case f.quoteSeen:
		// A quote inside quotes: doubled it is a quote, else it closed the
		// cell and c is read outside quotes.
		f.quoteSeen = false
		if c == '"' {
			return
		}
		f.inQuotes = false
	case f.inQuotes:
		f.quoteSeen = c == '"'
		return
	}
	switch {
	case c == '\n' || c == '\r':
		f.done = true
	case c == f.comma:
		f.n++
		f.atStart = true
	case f.atStart && c == '"':
		f.inQuotes, f.atStart = true, false
	case f.atStart && (c == ' ' || c == '\t'):
	default:
		f.atStart = false
	}
}

// readError marks an error of the file underneath the text, so that it is
// returned as an I/O error and not as a problem with the CSV.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

type readErrorReader struct{ r io.Reader }

func (r readErrorReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

// recordLimit ends the text (and marks it) once one record has taken more
// than max bytes. start is the offset where the current record starts.
type recordLimit struct {
	r               io.Reader
	pos, start, max int64
	over            bool
}

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.pos-l.start > l.max {
		l.over = true
		return 0, io.EOF
	}
	n, err := l.r.Read(p)
	l.pos += int64(n)
	return n, err
}

// crToLF turns every '\r' into '\n'.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for b := p[:n]; ; {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			break
		}
		b[i] = '\n'
		b = b[i+1:]
	}
	return n, err
}

// checkLimits refuses a record with more fields than Limits.Columns or a
// field longer than Limits.CellBytes (RowBytes bounds the record whole).
func (c *csvRows) checkLimits(line int, rec []string) error {
	if len(rec) > c.limits.Columns {
		return limitError(c.file, line, "", "Columns", "limit.csv_columns", len(rec), c.limits.Columns)
	}
	for i, v := range rec {
		if len(v) > c.limits.CellBytes {
			return limitError(c.file, line, columnName(i+1), "CellBytes", "limit.cell", size(int64(c.limits.CellBytes)))
		}
	}
	return nil
}
