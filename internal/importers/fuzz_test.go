package importers

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// checkSheet holds what every successful read promises.
func checkSheet(t *testing.T, s *Sheet) {
	t.Helper()
	seen := map[string]bool{}
	for _, h := range s.Header {
		if h == "" || h != trimCell(h) || seen[strings.ToLower(h)] {
			t.Fatalf("bad header %q", s.Header)
		}
		seen[strings.ToLower(h)] = true
	}
	prev := 0
	for _, r := range s.Rows {
		if r.Number <= prev || len(r.Cells) != len(s.Header) {
			t.Fatalf("bad row %d (after %d): %d cells for %d names", r.Number, prev, len(r.Cells), len(s.Header))
		}
		prev = r.Number
		blank := true
		for _, c := range r.Cells {
			blank = blank && c == ""
		}
		if blank {
			t.Fatalf("blank row %d kept", r.Number)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, seed := range []string{
		"",
		"a,b\n1,2\n",
		"order_ref;rate\nSO-1;4500,00\n\n;\n",
		"\xEF\xBB\xBFa\tb\n\"x\ny\"\t2\n",
		"a,b\n\"open\n",
		"a,,c\n1,2,3\n",
		"navn;by\nKari;Bod\xF8\n",
		"\xFF\xFEa\x00,\x00b\x00\n\x00",
		"a,a\n",
		"a\r1\r2\r",
		"a,b\n'=1,'-x\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadCSV("f.csv", bytes.NewReader(data), Options{MaxRows: 1000})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *FileError: %v", err)
			}
			return
		}
		checkSheet(t, s)
		if s.Comma != ',' && s.Comma != ';' && s.Comma != '\t' {
			t.Fatalf("comma %q", s.Comma)
		}
	})
}

func FuzzReadXLSX(f *testing.F) {
	valid := buildXLSX(f, func(b *xlsxBuilder) {
		b.row(1, "order_ref", "rate", "", "order_date")
		b.row(2, "SO-1", 4500.0, "", 46327)
		b.row(4, "SO-2", "199.90", "", "")
		b.merge("A5", "B6")
	})
	merged := buildXLSX(f, func(b *xlsxBuilder) {
		b.row(1, "a", "b")
		b.row(2, "1", "")
		b.merge("A2", "B2")
	})
	f.Add(valid)
	f.Add(merged)
	f.Add(valid[:len(valid)-30])
	f.Add([]byte("a,b\n1,2\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Add(append(append([]byte{}, oleMagic...), 1, 2, 3))
	f.Add([]byte{})
	// Random bytes seldom get past the zip's checksums, so each input is
	// also tried as the sheet XML of a valid workbook.
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c></row>` +
		`<row r="3"><c r="A3"><v>1</v></c><c r="C3" t="s"><v>7</v></c></row></sheetData><mergeCells count="1"><mergeCell ref="A3:B4"/></mergeCells></worksheet>`))
	f.Add([]byte(`<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row><x:c t="b"><x:v>1</x:v></x:c></x:row><x:row r="1048577"/></x:sheetData></x:worksheet>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, withSheetXML(t, valid, data)} {
			s, err := ReadXLSX("f.xlsx", bytes.NewReader(b), Options{MaxRows: 1000})
			if err != nil {
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Fatalf("error is not a *FileError: %v", err)
				}
				continue
			}
			checkSheet(t, s)
		}
	})
}

// withSheetXML returns the workbook with its first sheet's XML replaced.
func withSheetXML(t testing.TB, workbook, sheet []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(workbook), int64(len(workbook)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			w.Write(sheet)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(w, rc)
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
