package importers

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"
)

// oleMagic starts a Compound File: an Excel 97-2003 .xls, or an encrypted
// (password-protected) .xlsx.
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// Zip bomb guards. The largest sheet we accept, DefaultMaxRows rows of ~30
// cells, is ~1.2 GB of XML; excelize spills sheets and shared strings over
// spillBytes to temporary files but reads every other part into memory.
// Each part is bounded by Limits (limits.go).
const (
	maxUnzipped = 4 << 30 // the whole workbook, unpacked; each part: Limits
	// maxRatio: deflate cannot pack more than ~1032 bytes into one, so a
	// larger declared size is a lie.
	maxRatio = 1100
)

// ReadXLSX reads one sheet of an XLSX workbook (opt.Sheet, or the first)
// into memory. The reader is read to its end first, as a zip needs random
// access; ReadFile and Open avoid holding the file in memory.
func ReadXLSX(name string, r io.Reader, opt Options) (*Sheet, error) {
	file := baseName(name)
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	s, err := openXLSX(file, xlsxSource{data: data, ra: bytes.NewReader(data), size: int64(len(data))}, opt)
	if err != nil {
		return nil, err
	}
	return collect(s)
}

// xlsxSource is a workbook on disk (path) or in memory (data), with random
// access for our own look at the zip.
type xlsxSource struct {
	path string
	data []byte
	ra   io.ReaderAt
	size int64
}

func (src xlsxSource) open(o excelize.Options) (*excelize.File, error) {
	if src.path != "" {
		return excelize.OpenFile(src.path, o)
	}
	return excelize.OpenReader(bytes.NewReader(src.data), o)
}

// damaged is the error for whatever excelize trips over: it parses untrusted
// bytes, and a panic there must come back as an error about this file, not
// take the process down.
func damaged(file string, p any) *FileError {
	return fileError(file, 0, "", fmt.Errorf("excelize panic: %v", p), "xlsx.damaged")
}

// openXLSX opens the workbook, picks the sheet, gathers its merged ranges
// and reads up to the header.
func openXLSX(file string, src xlsxSource, opt Options) (s *Stream, err error) {
	x := &xlsxRows{file: file, raw: excelize.Options{RawCellValue: true}}
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, damaged(file, p)
		}
		if err != nil {
			x.close()
		}
	}()
	if ferr := checkZipMagic(file, src); ferr != nil {
		return nil, ferr
	}
	zr, err := zip.NewReader(src.ra, src.size)
	if err != nil {
		return nil, openError(file, err)
	}
	if ferr := checkZipSizes(file, zr); ferr != nil {
		return nil, ferr
	}
	lim := opt.Limits.orDefaults()
	if err := checkDeclaredLimits(file, zr, lim); err != nil {
		return nil, err
	}
	if err := scanParts(file, zr, lim); err != nil {
		return nil, err
	}
	// excelize unpacks a large sheet into a file of its own in TmpDir; a
	// directory of ours keeps its files apart, for sheetMerges to find, and
	// for CleanTempDirs after a killed run.
	if x.tmpDir, err = makeTempDir(); err != nil {
		return nil, err
	}
	x.xf, err = src.open(excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: spillBytes, TmpDir: x.tmpDir})
	if err != nil {
		return nil, openError(file, err)
	}
	xf := x.xf
	sheets := xf.GetSheetList()
	if len(sheets) == 0 {
		return nil, fileError(file, 0, "", nil, "xlsx.no_sheets")
	}
	sheet := firstVisible(xf, sheets)
	if opt.Sheet != "" {
		sheet = ""
		for _, name := range sheets {
			if strings.EqualFold(name, opt.Sheet) {
				sheet = name
				break
			}
		}
		if sheet == "" {
			quoted := make([]string, len(sheets))
			for i, name := range sheets {
				quoted[i] = fmt.Sprintf("%q", name)
			}
			return nil, fileError(file, 0, "", nil, "xlsx.no_sheet", opt.Sheet, strings.Join(quoted, ", "))
		}
	}
	var date1904 bool
	if props, err := xf.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		date1904 = *props.Date1904
	}
	// Best effort: a workbook whose parts we cannot find ourselves is still
	// read by excelize, and only loses the merged-cell check.
	merges, _ := sheetMerges(zr, xf, x.tmpDir, sheet)
	if x.rows, err = xf.Rows(sheet); err != nil {
		return nil, fileError(file, 0, "", err, "xlsx.sheet_unreadable", sheet)
	}
	s = &Stream{file: file, format: "xlsx", date1904: date1904, src: x}
	if err := s.start(merges, opt); err != nil {
		return nil, err
	}
	return s, nil
}

// firstVisible is the first sheet the user can see: a workbook may keep a
// hidden sheet (lists, settings) in front.
func firstVisible(xf *excelize.File, sheets []string) string {
	for _, name := range sheets {
		if visible, err := xf.GetSheetVisible(name); err == nil && visible {
			return name
		}
	}
	return sheets[0]
}

// xlsxRows is the rowSource of a sheet, streamed with excelize's Rows
// iterator. Its Next yields every row number in turn, also those the XML
// leaves out (an empty row 3 comes back as a row with no cells), so counting
// Next calls gives the row number Excel shows.
type xlsxRows struct {
	file   string
	xf     *excelize.File
	rows   *excelize.Rows
	raw    excelize.Options
	n      int
	tmpDir string // excelize's temporary files, removed by close
}

func (x *xlsxRows) next() (n int, cells []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, cells, err = 0, nil, damaged(x.file, p)
		}
	}()
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return 0, nil, fileError(x.file, x.n+1, "", err, "xlsx.row_unreadable", err)
		}
		if err := x.rows.Close(); err != nil {
			return 0, nil, fileError(x.file, 0, "", err, "xlsx.sheet_error", err)
		}
		return 0, nil, io.EOF
	}
	x.n++
	cells, err = x.rows.Columns(x.raw)
	if err != nil {
		return 0, nil, fileError(x.file, x.n, "", err, "xlsx.row_unreadable", err)
	}
	for i, v := range cells {
		cells[i] = trimCell(v)
	}
	return x.n, cells, nil
}

// close closes what there is of the rows, the workbook and its temporary
// directory.
func (x *xlsxRows) close() error {
	var errs []error
	if x.rows != nil {
		errs = append(errs, x.rows.Close())
	}
	if x.xf != nil {
		errs = append(errs, x.xf.Close()) // removes excelize's temporary files
	}
	if x.tmpDir != "" {
		errs = append(errs, os.RemoveAll(x.tmpDir))
	}
	return errors.Join(errs...)
}

// checkZipMagic explains the common wrong files before excelize sees them.
func checkZipMagic(file string, src xlsxSource) *FileError {
	head := make([]byte, 512)
	n, _ := src.ra.ReadAt(head, 0)
	head = head[:n]
	switch {
	case n == 0:
		return fileError(file, 0, "", nil, "file.empty")
	case bytes.HasPrefix(head, []byte("PK")):
		return nil
	case bytes.HasPrefix(head, oleMagic):
		return fileError(file, 0, "", nil, "xlsx.is_xls")
	case looksLikeText(head):
		return fileError(file, 0, "", nil, "xlsx.is_text")
	default:
		return fileError(file, 0, "", nil, "xlsx.not_zip")
	}
}

// looksLikeText: no C0 controls but tab and line ends, in UTF-8 or a
// single-byte code page alike. Random or binary bytes fail within 512 bytes.
func looksLikeText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// checkZipSizes checks the sizes the zip declares before excelize trusts
// them: it allocates each part's declared size up front.
func checkZipSizes(file string, zr *zip.Reader) *FileError {
	var total uint64
	for _, f := range zr.File {
		u, c := f.UncompressedSize64, f.CompressedSize64
		total += u
		switch {
		case total > maxUnzipped:
			return fileError(file, 0, "", nil, "xlsx.too_large", maxUnzipped>>30)
		case f.Method == zip.Store && u != c, u > c*maxRatio+1<<16:
			return fileError(file, 0, "", nil, "xlsx.zip_damaged")
		}
	}
	return nil
}

func openError(file string, err error) *FileError {
	switch {
	case errors.Is(err, excelize.ErrWorkbookPassword), errors.Is(err, excelize.ErrWorkbookFileFormat):
		return fileError(file, 0, "", err, "xlsx.password")
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrAlgorithm), errors.Is(err, zip.ErrChecksum):
		return fileError(file, 0, "", err, "xlsx.zip_damaged")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fileError(file, 0, "", err, "xlsx.parts_missing")
	default:
		return fileError(file, 0, "", err, "xlsx.invalid", err)
	}
}

// maxMerges bounds what a hostile sheet can make us hold.
const maxMerges = 100_000

// sheetMerges lists the merged ranges of the sheet that excelize has
// opened. excelize's GetMergeCells would unmarshal the whole worksheet into
// memory, so we read only what follows </sheetData>, where the schema puts
// <mergeCells>, from the cheapest copy of the sheet's XML there is:
//
//   - a sheet of up to 16 MB, excelize holds in memory (File.Pkg);
//   - a larger one it has unpacked into a file in tmpDir, the one of the
//     part's size: its tail is read backwards up to the last </sheetData>;
//   - else (no such file, or two of that size) the part is unpacked once
//     more from the zip and scanned from its start.
func sheetMerges(zr *zip.Reader, xf *excelize.File, tmpDir, sheet string) ([]cellRange, error) {
	sheets, err := listSheets(zr)
	if err != nil {
		return nil, err
	}
	var part *zip.File
	for _, sh := range sheets {
		if sh.name == sheet {
			part = sh.part
			break
		}
	}
	if part == nil {
		return nil, fmt.Errorf("no part for sheet %q", sheet)
	}
	if v, ok := xf.Pkg.Load(strings.ReplaceAll(part.Name, `\`, "/")); ok {
		if b, ok := v.([]byte); ok && len(b) > 0 {
			return mergesAfterEndTag(bytes.NewReader(b))
		}
	}
	if p := unpackedPart(tmpDir, part); p != "" {
		return tailMerges(p)
	}
	rc, err := part.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return mergesAfterEndTag(rc)
}

// unpackedPart is the file in dir that holds part unpacked: the only one
// of its size. "" when there is none, or more than one.
func unpackedPart(dir string, part *zip.File) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	found := ""
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || uint64(fi.Size()) != part.UncompressedSize64 {
			continue
		}
		if found != "" {
			return ""
		}
		found = filepath.Join(dir, e.Name())
	}
	return found
}

// tailMerges reads the merged ranges of the sheet XML in the file at p from
// its end: the last </sheetData> is found reading backwards, so only the
// tail of a sheet of any size is read.
func tailMerges(p string) ([]cellRange, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	rest, ok, err := afterLastEndTag(f, fi.Size(), "sheetData")
	if !ok {
		return nil, err
	}
	return mergesIn(rest), nil
}

// mergesAfterEndTag reads r up to the first </sheetData> and the merged
// ranges after it.
func mergesAfterEndTag(r io.Reader) ([]cellRange, error) {
	rest, ok, err := afterEndTag(r, "sheetData")
	if !ok {
		return nil, err
	}
	return mergesIn(rest), nil
}

// mergesIn collects the <mergeCell ref> of the XML that follows
// </sheetData>, up to </mergeCells>.
func mergesIn(rest io.Reader) []cellRange {
	d := xml.NewDecoder(rest)
	d.Strict = false
	var merges []cellRange
	for len(merges) < maxMerges {
		tok, err := d.Token()
		if err != nil {
			break // the fragment ends with an unmatched </worksheet>
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "mergeCell" {
				continue
			}
			for _, a := range t.Attr {
				if a.Name.Local == "ref" {
					if m, ok := parseRange(a.Value); ok {
						merges = append(merges, m)
					}
				}
			}
		case xml.EndElement:
			if t.Name.Local == "mergeCells" {
				return merges
			}
		}
	}
	return merges
}

func parseRange(ref string) (cellRange, bool) {
	from, to, ok := strings.Cut(ref, ":")
	if !ok {
		return cellRange{}, false // a single cell merged with itself
	}
	c1, r1, err1 := excelize.CellNameToCoordinates(from)
	c2, r2, err2 := excelize.CellNameToCoordinates(to)
	if err1 != nil || err2 != nil {
		return cellRange{}, false
	}
	return cellRange{ref: ref, col1: min(c1, c2), row1: min(r1, r2), col2: max(c1, c2), row2: max(r1, r2)}, true
}

// afterEndTag reads r up to the end tag </name> (with or without a namespace
// prefix) and returns a reader of what follows. The search is a byte scan,
// not an XML parse: '<' cannot occur in XML text, so "</sheetData>" can only
// be the tag, and a scan is many times faster than tokenizing every cell.
func afterEndTag(r io.Reader, name string) (io.Reader, bool, error) {
	const chunk, keep = 64 << 10, 256
	buf := make([]byte, 0, chunk+keep)
	for {
		n, err := io.ReadFull(r, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+n]
		if i := endTagEnd(buf, name); i >= 0 {
			return io.MultiReader(bytes.NewReader(bytes.Clone(buf[i:])), r), true, nil
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		tail := min(len(buf), keep)
		copy(buf, buf[len(buf)-tail:])
		buf = buf[:tail]
	}
}

// afterLastEndTag finds the last end tag </name> in the size bytes of ra,
// reading backwards from the end in chunks, and returns a reader of what
// follows it.
func afterLastEndTag(ra io.ReaderAt, size int64, name string) (io.Reader, bool, error) {
	const chunk, keep = 64 << 10, 256
	buf := make([]byte, chunk+keep)
	for hi := size; hi > 0; {
		// [lo, hi) is new; the keep bytes after hi catch a tag cut at hi.
		lo := max(0, hi-chunk)
		b := buf[:min(size, hi+keep)-lo]
		if n, err := ra.ReadAt(b, lo); n < len(b) {
			return nil, false, shortRead(err)
		}
		if i := lastEndTagEnd(b, name); i >= 0 {
			at := lo + int64(i)
			return io.NewSectionReader(ra, at, size-at), true, nil
		}
		hi = lo
	}
	return nil, false, nil
}

// lastEndTagEnd is endTagEnd for the last end tag in b.
func lastEndTagEnd(b []byte, name string) int {
	last := -1
	for from := 0; from < len(b); {
		i := endTagEnd(b[from:], name)
		if i < 0 {
			break
		}
		from += i
		last = from
	}
	return last
}

// endTagEnd returns the index just past "</name>" or "</prefix:name >" in b,
// or -1.
func endTagEnd(b []byte, name string) int {
	for from := 0; ; {
		k := bytes.Index(b[from:], []byte(name))
		if k < 0 {
			return -1
		}
		i := from + k
		from = i + 1
		j := i + len(name)
		for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n') {
			j++
		}
		if j >= len(b) || b[j] != '>' {
			continue
		}
		p := i
		if p > 0 && b[p-1] == ':' {
			p--
			for p > 0 && isNameByte(b[p-1]) {
				p--
			}
		}
		if p >= 2 && b[p-1] == '/' && b[p-2] == '<' {
			return j + 1
		}
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// sheetInfo is a sheet as the workbook lists it, with its part.
type sheetInfo struct {
	name string
	part *zip.File
}

// listSheets finds the sheets and their parts: _rels/.rels names the
// workbook, the workbook lists the sheets with their relationship ids, the
// workbook's rels map an id to a part.
func listSheets(zr *zip.Reader) ([]sheetInfo, error) {
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))] = f
	}
	find := func(name string) *zip.File { return files[strings.ToLower(name)] }

	workbook := "xl/workbook.xml"
	if rels, err := readRels(find("_rels/.rels")); err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				workbook = strings.TrimPrefix(r.Target, "/")
			}
		}
	}
	wbDir := path.Dir(workbook)
	rels, err := readRels(find(path.Join(wbDir, "_rels", path.Base(workbook)+".rels")))
	if err != nil {
		return nil, err
	}
	listed, err := workbookSheets(find(workbook))
	if err != nil {
		return nil, err
	}
	var sheets []sheetInfo
	for _, sh := range listed {
		for _, r := range rels {
			if r.ID != sh.id {
				continue
			}
			target := path.Join(wbDir, r.Target)
			if strings.HasPrefix(r.Target, "/") {
				target = strings.TrimPrefix(r.Target, "/")
			}
			if f := find(target); f != nil {
				sheets = append(sheets, sheetInfo{name: sh.name, part: f})
			}
			break
		}
	}
	return sheets, nil
}

type relationship struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
}

// maxSmallPart bounds the small XML parts we decode whole.
const maxSmallPart = 16 << 20

func readRels(f *zip.File) ([]relationship, error) {
	if f == nil {
		return nil, errors.New("missing relationships part")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var rels struct {
		Rels []relationship `xml:"Relationship"`
	}
	err = xml.NewDecoder(io.LimitReader(rc, maxSmallPart)).Decode(&rels)
	return rels.Rels, err
}

type listedSheet struct{ name, id string }

// workbookSheets lists the <sheet> elements of workbook.xml. The namespace
// of r:id differs between transitional and strict OOXML, so any namespaced
// "id" counts.
func workbookSheets(f *zip.File) ([]listedSheet, error) {
	if f == nil {
		return nil, errors.New("missing workbook part")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	d := xml.NewDecoder(io.LimitReader(rc, maxSmallPart))
	var sheets []listedSheet
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return sheets, nil
		}
		if err != nil {
			return sheets, err
		}
		switch se := tok.(type) {
		case xml.StartElement:
			if se.Name.Local != "sheet" {
				continue
			}
			var sh listedSheet
			for _, a := range se.Attr {
				switch {
				case a.Name.Local == "name" && a.Name.Space == "":
					sh.name = a.Value
				case a.Name.Local == "id" && a.Name.Space != "":
					sh.id = a.Value
				}
			}
			sheets = append(sheets, sh)
		case xml.EndElement:
			if se.Name.Local == "sheets" {
				return sheets, nil
			}
		}
	}
}
