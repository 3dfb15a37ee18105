package importers

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// benchRows builds a canonical-looking order sheet of n lines.
func benchRows(n int) [][]any {
	rows := make([][]any, 0, n+1)
	header := make([]any, len(canonicalHeader))
	for i, h := range canonicalHeader {
		header[i] = h
	}
	rows = append(rows, header)
	for i := range n {
		rows = append(rows, []any{
			fmt.Sprintf("SO-%d", 100000+i/2), "invoice", "private", "Kari Nordmann", "kari.nordmann@example.com", "+47", 46567468,
			"12838512311", "", "Storgata 12", "0155", "Oslo", "NO", "no",
			"VVS-100", "Rørleggerarbeid, time", 2, 950.0, "", 25, 46327, "",
			"", "", "Bad, Storgata 12", "", "", "true",
		})
	}
	return rows
}

func benchXLSX(b *testing.B, n int) string {
	b.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range benchRows(n) {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), "bench.xlsx")
	if err := f.SaveAs(p); err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkReadXLSX(b *testing.B) {
	const n = 20_000
	p := benchXLSX(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := ReadFile(p, Options{})
		if err != nil || len(s.Rows) != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkReadCSV(b *testing.B) {
	const n = 20_000
	var buf bytes.Buffer
	for _, r := range benchRows(n) {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = fmt.Sprint(v)
		}
		buf.WriteString(strings.Join(cells, ";") + "\n")
	}
	p := filepath.Join(b.TempDir(), "bench.csv")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := ReadFile(p, Options{})
		if err != nil || len(s.Rows) != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
