package importers

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// orderRow is line i of a canonical-looking order file (28 columns, like
// samples/orders.csv): two lines an order, the text varying with i.
func orderRow(i int) []any {
	return []any{
		"SO-" + strconv.Itoa(100000+i/2), "invoice", "private", "Kari Nordmann " + strconv.Itoa(i%997), "kari.nordmann" + strconv.Itoa(i%4999) + "@example.com", "+47", 46567468 + i%1000,
		"12838512311", "", "Storgata " + strconv.Itoa(1+i%200), "0155", "Oslo", "NO", "no",
		"VVS-" + strconv.Itoa(100+i%50), "Rørleggerarbeid, time", 1 + i%5, 950.0 + float64(i%100), "", 25, 46327 + i%60, "",
		"", "", "Bad, Storgata 12", "", "", "true",
	}
}

// writeOrdersCSV writes a header and n order lines, comma-delimited and
// quoted where needed, as Excel saves "CSV UTF-8".
func writeOrdersCSV(tb testing.TB, dir string, n int) string {
	tb.Helper()
	p := filepath.Join(dir, fmt.Sprintf("orders-%d.csv", n))
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := csv.NewWriter(bw)
	cw.Write(canonicalHeader)
	rec := make([]string, len(canonicalHeader))
	for i := range n {
		for j, v := range orderRow(i) {
			rec[j] = fmt.Sprint(v)
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// writeOrdersXLSX writes the same with excelize's StreamWriter.
func writeOrdersXLSX(tb testing.TB, dir string, n int) string {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	header := make([]any, len(canonicalHeader))
	for i, h := range canonicalHeader {
		header[i] = h
	}
	if err := sw.SetRow("A1", header); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, orderRow(i)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, fmt.Sprintf("orders-%d.xlsx", n))
	if err := f.SaveAs(p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// streamAll reads the file with Open and Next and returns the row count.
func streamAll(tb testing.TB, p string) int {
	tb.Helper()
	s, err := Open(p, Options{MaxRows: 2_000_000})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	n := 0
	for {
		r, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if len(r.Cells) != len(canonicalHeader) {
			tb.Fatalf("row %d: %d cells", r.Number, len(r.Cells))
		}
		n++
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// excelizeAll is the floor: excelize's own streaming read of the first
// sheet, raw values, nothing else.
func excelizeAll(tb testing.TB, p string) int {
	tb.Helper()
	f, err := excelize.OpenFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := f.Rows("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	raw := excelize.Options{RawCellValue: true}
	for rows.Next() {
		if _, err := rows.Columns(raw); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	if err := rows.Close(); err != nil {
		tb.Fatal(err)
	}
	return n - 1 // the header
}

// heapPeak samples the bytes of heap spans in use (HeapInuse in
// runtime.MemStats terms) every interval until stopped, and returns the
// largest value seen.
type heapPeak struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

var heapInuseMetrics = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes"}

func heapInuse() uint64 {
	samples := make([]metrics.Sample, len(heapInuseMetrics))
	for i, name := range heapInuseMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	var sum uint64
	for _, s := range samples {
		sum += s.Value.Uint64()
	}
	return sum
}

func startHeapPeak(interval time.Duration) *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			h.peak = max(h.peak, heapInuse())
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	return max(h.peak, heapInuse())
}

// measure runs read with the heap sampled every 10 ms and returns the rows
// per second and the peak heap above the heap in use before (after a GC).
func measure(tb testing.TB, read func() int) (rowsPerSec float64, peak, base uint64) {
	runtime.GC()
	base = heapInuse()
	h := startHeapPeak(10 * time.Millisecond)
	start := time.Now()
	n := read()
	elapsed := time.Since(start)
	peak = h.done()
	return float64(n) / elapsed.Seconds(), peak - min(peak, base), base
}

const benchStreamRows = 100_000

func benchStream(b *testing.B, p string) {
	b.ReportAllocs()
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		base := heapInuse()
		h := startHeapPeak(10 * time.Millisecond)
		b.StartTimer()
		if n := streamAll(b, p); n != benchStreamRows {
			b.Fatalf("%d rows", n)
		}
		b.StopTimer()
		got := h.done()
		peak = max(peak, got-min(got, base))
		b.StartTimer()
	}
	b.ReportMetric(float64(benchStreamRows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkStreamCSV streams a 100k-row, 28-column CSV file; peak-heap-MB is
// the heap in use above what it was before the read.
func BenchmarkStreamCSV(b *testing.B) {
	benchStream(b, writeOrdersCSV(b, b.TempDir(), benchStreamRows))
}

// BenchmarkStreamXLSX streams the same rows as an XLSX workbook.
func BenchmarkStreamXLSX(b *testing.B) {
	benchStream(b, writeOrdersXLSX(b, b.TempDir(), benchStreamRows))
}

// BenchmarkExcelizeRows is the floor for BenchmarkStreamXLSX: excelize's
// own streaming read of the same workbook.
func BenchmarkExcelizeRows(b *testing.B) {
	p := writeOrdersXLSX(b, b.TempDir(), benchStreamRows)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if n := excelizeAll(b, p); n != benchStreamRows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(benchStreamRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestStreamMemory streams a large CSV and XLSX file (IMPORT_MEMORY_ROWS
// rows, e.g. 1000000) and checks that the reader's peak heap stays under
// 50 MB, and that streaming an XLSX file is at least 0.9 times as fast as
// excelize's own bare streaming read. It runs only when IMPORT_MEMORY_ROWS
// is set:
//
//	IMPORT_MEMORY_ROWS=1000000 go test -run TestStreamMemory -v -timeout 30m ./internal/importers/
func TestStreamMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("IMPORT_MEMORY_ROWS"))
	if n <= 0 {
		t.Skip("set IMPORT_MEMORY_ROWS (e.g. 1000000) to run")
	}
	const limit = 50 << 20
	dir := t.TempDir()

	t.Run("csv", func(t *testing.T) {
		p := writeOrdersCSV(t, dir, n)
		fi, _ := os.Stat(p)
		rate, peak, base := measure(t, func() int { return streamAll(t, p) })
		t.Logf("CSV %d rows (%d MB): %.0f rows/s, peak heap %.1f MB above %.1f MB", n, fi.Size()>>20, rate, mb(peak), mb(base))
		if peak > limit {
			t.Errorf("peak heap %.1f MB, want under %d MB", mb(peak), limit>>20)
		}
	})
	t.Run("xlsx", func(t *testing.T) {
		p := writeOrdersXLSX(t, dir, n)
		fi, _ := os.Stat(p)
		// Each read several times, interleaved, the best of each counted:
		// the machine's noise should not decide the ratio.
		rounds := 3
		if n <= 200_000 {
			rounds = 5
		}
		var bare, ours float64
		var barePeak, peak, base uint64
		for range rounds {
			r, pk, _ := measure(t, func() int { return excelizeAll(t, p) })
			if r > bare {
				bare = r
			}
			barePeak = max(barePeak, pk)
			r, pk, b := measure(t, func() int { return streamAll(t, p) })
			if r > ours {
				ours = r
			}
			peak, base = max(peak, pk), b
		}
		t.Logf("XLSX %d rows (%d MB zipped): Stream %.0f rows/s, peak heap %.1f MB above %.1f MB", n, fi.Size()>>20, ours, mb(peak), mb(base))
		t.Logf("XLSX excelize bare Rows+Columns: %.0f rows/s, peak heap %.1f MB; Stream/bare = %.3f", bare, mb(barePeak), ours/bare)
		if peak > limit {
			t.Errorf("peak heap %.1f MB, want under %d MB", mb(peak), limit>>20)
		}
		if ours/bare < 0.9 {
			t.Errorf("Stream reads %.3f times as fast as bare excelize, want at least 0.9", ours/bare)
		}
	})
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
