// Package bombtest writes small hostile spreadsheets for tests: XLSX files
// of a megabyte or so whose one cell, shared-strings table, rows or columns
// inflate to gigabytes or millions when unpacked (a "zip bomb"), and a CSV
// with one endless line. The workbooks are otherwise well formed (an order
// header in row 1), so that only a reader's limits stop them.
package bombtest

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Header is row 1 of every bomb: the columns of an order file.
var Header = []string{"order_ref", "customer_type", "customer_name", "email", "msisdn", "product_name", "quantity", "rate", "tax"}

// CellXLSX writes a workbook whose cell C2 (customer_name) is an inline
// string of n bytes ('A' repeated).
func CellXLSX(path string, n int64) error {
	return writeXLSX(path, func(w io.Writer) error {
		if err := header(w); err != nil {
			return err
		}
		if _, err := io.WriteString(w, `<row r="2"><c r="A2" t="inlineStr"><is><t>1</t></is></c><c r="B2" t="inlineStr"><is><t>private</t></is></c><c r="C2" t="inlineStr"><is><t>`); err != nil {
			return err
		}
		if err := repeat(w, 'A', n); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</t></is></c></row>`)
		return err
	}, nil)
}

// SharedStringsXLSX writes a workbook whose cell C2 refers to the only
// shared string, of n bytes.
func SharedStringsXLSX(path string, n int64) error {
	return writeXLSX(path, firstSharedInC2, func(w io.Writer) error {
		if _, err := io.WriteString(w, `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>`); err != nil {
			return err
		}
		if err := repeat(w, 'A', n); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</t></si></sst>`)
		return err
	})
}

// firstSharedInC2 writes the header and a row 2 whose cell C2 is the first
// shared string.
func firstSharedInC2(w io.Writer) error {
	if err := header(w); err != nil {
		return err
	}
	_, err := io.WriteString(w, `<row r="2"><c r="A2" t="inlineStr"><is><t>1</t></is></c><c r="C2" t="s"><v>0</v></c></row>`)
	return err
}

// ManyStringsXLSX writes a workbook whose shared-strings table holds n
// short strings, the first of them in cell C2 (so that a reader indexes the
// table).
func ManyStringsXLSX(path string, n int) error {
	return writeXLSX(path, firstSharedInC2, func(w io.Writer) error {
		if _, err := fmt.Fprintf(w, `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, n, n); err != nil {
			return err
		}
		for range n {
			if _, err := io.WriteString(w, `<si><t>Kari</t></si>`); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, `</sst>`)
		return err
	})
}

// RowsXLSX writes a workbook with n rows of one number each under the
// header (the rows carry no r attribute, as the schema allows).
func RowsXLSX(path string, n int) error {
	return writeXLSX(path, func(w io.Writer) error {
		if err := header(w); err != nil {
			return err
		}
		for range n {
			if _, err := io.WriteString(w, `<row><c><v>1</v></c></row>`); err != nil {
				return err
			}
		}
		return nil
	}, nil)
}

// ColumnsXLSX writes a workbook whose row 2 has n cells.
func ColumnsXLSX(path string, n int) error {
	return writeXLSX(path, func(w io.Writer) error {
		if err := header(w); err != nil {
			return err
		}
		if _, err := io.WriteString(w, `<row r="2">`); err != nil {
			return err
		}
		for range n {
			if _, err := io.WriteString(w, `<c><v>1</v></c>`); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, `</row>`)
		return err
	}, nil)
}

// CSVLine writes a CSV file (';'-separated) whose row 2 is one line of n
// bytes: a customer_name of 'A's.
func CSVLine(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(bw, "%s\n1;private;", strings.Join(Header, ";"))
	err = repeat(bw, 'A', n)
	if err == nil {
		_, err = bw.WriteString(";kari@example.com;46567468;Vare;1;100;25\n")
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func header(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`<row r="1">`)
	for i, h := range Header {
		fmt.Fprintf(&b, `<c r="%c1" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+i, h)
	}
	b.WriteString(`</row>`)
	_, err := io.WriteString(w, b.String())
	return err
}

// repeat writes n bytes c.
func repeat(w io.Writer, c byte, n int64) error {
	chunk := []byte(strings.Repeat(string(c), 1<<20))
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// writeXLSX writes a minimal workbook: sheetData is written by rows (inside
// <sheetData>), the shared strings by sst when not nil. Level-1 deflate
// packs a gigabyte of one byte into ~1.4 MB in about a second.
func writeXLSX(path string, rows, sst func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	ssOverride, ssRel := "", ""
	if sst != nil {
		ssOverride = `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`
		ssRel = `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
	}
	parts := []struct {
		name string
		body func(io.Writer) error
	}{
		{"[Content_Types].xml", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` + ssOverride + `</Types>`)},
		{"_rels/.rels", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)},
		{"xl/workbook.xml", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Ordrer" sheetId="1" r:id="rId1"/></sheets></workbook>`)},
		{"xl/_rels/workbook.xml.rels", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` + ssRel + `</Relationships>`)},
		{"xl/worksheets/sheet1.xml", func(w io.Writer) error {
			if _, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`); err != nil {
				return err
			}
			if err := rows(w); err != nil {
				return err
			}
			_, err := io.WriteString(w, `</sheetData></worksheet>`)
			return err
		}},
	}
	if sst != nil {
		parts = append(parts, struct {
			name string
			body func(io.Writer) error
		}{"xl/sharedStrings.xml", sst})
	}
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err == nil {
			bw := bufio.NewWriterSize(w, 1<<20)
			if err = p.body(bw); err == nil {
				err = bw.Flush()
			}
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	err = zw.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// Relabel copies the workbook at src to dst with part's declared unpacked
// size set to size: a zip that lies about what it holds.
func Relabel(src, dst, part string, size uint64) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return err
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		h := zf.FileHeader
		if h.Name == part {
			h.UncompressedSize64 = size
		}
		raw, err := zf.OpenRaw()
		if err == nil {
			var w io.Writer
			if w, err = zw.CreateRaw(&h); err == nil {
				_, err = io.Copy(w, raw)
			}
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	err = zw.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// PeakRSSBound is the memory bound issue 10 sets for a process that reads
// a bomb.
const PeakRSSBound = 300 << 20

// Bomb is one hostile file and what its refusal says: the file's name and
// the limit it passes, in the accountants' words.
type Bomb struct {
	File  string
	Write func(path string) error
	Want  string
}

// Bombs is issue 10's table of bombs, as `enqueue` and the worker's upload
// both meet them. csvLine is the length of linje.csv's one line: any length
// over the 2 MB limit is refused alike, and an upload has a size limit of
// its own.
func Bombs(csvLine int64) []Bomb {
	const gb11 = 1100 << 20
	return []Bomb{
		{"celle.xlsx", func(p string) error { return CellXLSX(p, gb11) }, "celle.xlsx rad 2, kolonne C: cellen er over grensen på 32 KB"},
		{"celle400.xlsx", func(p string) error { return CellXLSX(p, 400<<20) }, "celle400.xlsx rad 2, kolonne C: cellen er over grensen på 32 KB"},
		{"delte.xlsx", func(p string) error { return SharedStringsXLSX(p, gb11) }, "delte.xlsx: tabellen over delte tekster (xl/sharedStrings.xml) er 1100 MB ukomprimert, over grensen på 256 MB"},
		{"delte200.xlsx", func(p string) error { return SharedStringsXLSX(p, 200<<20) }, "delte200.xlsx: tekst nr. 1 i tabellen over delte tekster er over grensen på 32 KB"},
		{"tekster.xlsx", func(p string) error { return ManyStringsXLSX(p, 2_100_000) }, "tekster.xlsx: tabellen over delte tekster har over 2000000 tekster"},
		{"rader.xlsx", func(p string) error { return RowsXLSX(p, 3_000_000) }, "rader.xlsx: arket xl/worksheets/sheet1.xml har over 1048576 rader"},
		{"kolonner.xlsx", func(p string) error { return ColumnsXLSX(p, 1_000_000) }, "kolonner.xlsx rad 2: raden har over 1024 celler"},
		{"linje.csv", func(p string) error { return CSVLine(p, csvLine) }, "linje.csv rad 2: en rad som begynner her er lengre enn grensen på 2 MB"},
	}
}

// KilledRunLeftover makes in dir the temporary folder a killed run leaves
// behind (fpexport-xlsx-PID-…): named for a process that has ended, holding
// a megabyte, a minute older than now. It returns the folder's path.
func KilledRunLeftover(t testing.TB, dir string) string {
	t.Helper()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip(err)
	}
	left := filepath.Join(dir, "fpexport-xlsx-"+strconv.Itoa(gone.ProcessState.Pid())+"-42")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "excelize-1"), make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	if err := os.Chtimes(left, past, past); err != nil {
		t.Fatal(err)
	}
	return left
}
