package report

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/money"
)

func writeXLSX(t *testing.T, r *Report) ([]byte, *excelize.File) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, r); err != nil {
		t.Fatalf("WriteXLSX: %v", err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("open written workbook: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return buf.Bytes(), f
}

func raw(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, cell, err)
	}
	return v
}

// numberCell checks that a cell is a number (no type attribute, no formula)
// and returns its value.
func numberCell(t *testing.T, f *excelize.File, sheet, cell string) float64 {
	t.Helper()
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, cell, err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Fatalf("%s!%s has cell type %v, want a number", sheet, cell, typ)
	}
	v, err := strconv.ParseFloat(raw(t, f, sheet, cell), 64)
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, cell, err)
	}
	return v
}

func numFmt(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt == nil {
		return ""
	}
	return *st.CustomNumFmt
}

// excelSerial is the Excel (1900 system) serial number of a wall-clock
// time, computed independently of excelize.
func excelSerial(wall time.Time) float64 {
	y, m, d := wall.Date()
	h, mi, s := wall.Clock()
	u := time.Date(y, m, d, h, mi, s, 0, time.UTC)
	return u.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
}

var colMin = regexp.MustCompile(`<col min="(\d+)"`)

func toOre(kroner float64) int64 { return int64(math.Round(kroner * 100)) }

func TestWriteXLSX(t *testing.T) {
	t.Parallel()
	b := setup(t)
	data, f := writeXLSX(t, b.report)

	if got, want := f.GetSheetList(), []string{"Summary", "Orders", "VAT", "Exceptions", "Batches"}; !slices.Equal(got, want) {
		t.Fatalf("sheets = %v, want %v", got, want)
	}
	if got := f.GetActiveSheetIndex(); got != 0 {
		t.Errorf("active sheet = %d, want 0 (Summary)", got)
	}

	t.Run("headers", func(t *testing.T) {
		for sheet, cols := range map[string][]column{
			SheetOrders: orderColumns, SheetExceptions: exceptionColumns, SheetBatches: batchColumns,
		} {
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, c := range cols {
				want = append(want, label("en", c.key))
			}
			if !slices.Equal(rows[0], want) {
				t.Errorf("%s header = %q, want %q", sheet, rows[0], want)
			}
			id, _ := f.GetCellStyle(sheet, "A1")
			if st, _ := f.GetStyle(id); st == nil || st.Font == nil || !st.Font.Bold {
				t.Errorf("%s!A1 is not bold", sheet)
			}
		}
		want := []string{"Batch", "File", "Row", "Order ref", "Kind", "Customer", "Personal number", "Order date", "Due date",
			"Net (NOK)", "VAT (NOK)", "Discount (NOK)", "Grand total (NOK)", "Paid amount (NOK)", "Paid at", "Refunded amount (NOK)",
			"FP order", "Status", "FP status", "Status at", "Imported at", "Submitted at", "Attempts", "Last error", "Exception", "Payment URL"}
		rows, _ := f.GetRows(SheetOrders)
		if !slices.Equal(rows[0], want) {
			t.Errorf("Orders header = %q, want %q", rows[0], want)
		}
		if got, want := len(rows), 1+len(b.report.Orders); got != want {
			t.Errorf("Orders has %d rows, want %d", got, want)
		}
	})

	t.Run("orders", func(t *testing.T) {
		var sum int64
		for i, o := range b.report.Orders {
			row := i + 2
			g := fmt.Sprintf("M%d", row)
			got := numberCell(t, f, SheetOrders, g)
			if toOre(got) != o.GrandTotal || got != float64(o.GrandTotal)/100 {
				t.Errorf("Orders!%s = %v, want %s", g, got, money.Amount(o.GrandTotal).NOK())
			}
			if fm := numFmt(t, f, SheetOrders, g); fm != moneyFormat {
				t.Errorf("Orders!%s number format = %q, want %q", g, fm, moneyFormat)
			}
			sum += toOre(got)
			if got := numberCell(t, f, SheetOrders, fmt.Sprintf("A%d", row)); got != float64(o.BatchID) {
				t.Errorf("Orders!A%d = %v, want %d", row, got, o.BatchID)
			}
		}
		if sum != b.sumOre {
			t.Errorf("Orders sum = %d øre, want %d", sum, b.sumOre)
		}
		// 10010 øre is written as the shortest decimal of its double.
		if got := raw(t, f, SheetOrders, "M3"); got != "100.1" {
			t.Errorf("Orders!M3 raw = %q, want 100.1", got)
		}
	})

	t.Run("times", func(t *testing.T) {
		oslo, _ := time.LoadLocation("Europe/Oslo")
		for _, tc := range []struct {
			cell string
			at   time.Time
		}{
			{"U2", b.report.Orders[0].ImportedAt}, // winter: UTC+1
			{"T2", *b.report.Orders[0].StatusAt},  // summer: UTC+2
			{"U5", b.report.Orders[3].ImportedAt}, // 23:59:59 local on the period's last day
		} {
			got := numberCell(t, f, SheetOrders, tc.cell)
			if want := excelSerial(tc.at.In(oslo)); math.Abs(got-want) > 1e-9 {
				t.Errorf("Orders!%s = %v, want %v (%s Oslo)", tc.cell, got, want, tc.at.In(oslo))
			}
			if fm := numFmt(t, f, SheetOrders, tc.cell); fm != dateTimeFormat {
				t.Errorf("Orders!%s number format = %q, want %q", tc.cell, fm, dateTimeFormat)
			}
		}
		// Order 4 (row 5) was never submitted and has no status time.
		for _, cell := range []string{"T5", "V5"} {
			if got := raw(t, f, SheetOrders, cell); got != "" {
				t.Errorf("Orders!%s = %q, want an empty cell", cell, got)
			}
		}
	})

	t.Run("text stays text", func(t *testing.T) {
		for _, tc := range []struct{ cell, want string }{
			{"F4", evilCustomer},
			{"F5", splitName},
			{"D5", "-42"},
			{"S4", "REMINDER SENT"},
			{"F7", "@Bedrift AS"},
		} {
			if got := raw(t, f, SheetOrders, tc.cell); got != tc.want {
				t.Errorf("Orders!%s = %q, want %q", tc.cell, got, tc.want)
			}
			if typ, _ := f.GetCellType(SheetOrders, tc.cell); typ != excelize.CellTypeInlineString {
				t.Errorf("Orders!%s type = %v, want inline string", tc.cell, typ)
			}
			if fo, _ := f.GetCellFormula(SheetOrders, tc.cell); fo != "" {
				t.Errorf("Orders!%s has formula %q", tc.cell, fo)
			}
		}
	})

	t.Run("summary", func(t *testing.T) {
		rows, err := f.GetRows(SheetSummary, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		find := func(a, b string) int {
			for i, r := range rows {
				if len(r) > 1 && r[0] == a && r[1] == b {
					return i + 1
				}
			}
			t.Fatalf("Summary has no row %q, %q:\n%q", a, b, rows)
			return 0
		}
		total := find("Total", "")
		if got := numberCell(t, f, SheetSummary, fmt.Sprintf("C%d", total)); got != float64(len(b.report.Orders)) {
			t.Errorf("Summary total orders = %v, want %d", got, len(b.report.Orders))
		}
		d := fmt.Sprintf("D%d", total)
		if got := toOre(numberCell(t, f, SheetSummary, d)); got != b.sumOre {
			t.Errorf("Summary total = %d øre, want the Orders sheet's %d", got, b.sumOre)
		}
		if fm := numFmt(t, f, SheetSummary, d); fm != moneyFormat {
			t.Errorf("Summary!%s number format = %q, want %q", d, fm, moneyFormat)
		}
		// The status rows add up to the total, and so do the kind table's
		// detail rows and its subtotals.
		var statuses int64
		for i, r := range rows[find("Status", "Group") : find("Group", "")-2] {
			statuses += toOre(numberCell(t, f, SheetSummary, fmt.Sprintf("D%d", find("Status", "Group")+i+1)))
			_ = r
		}
		if statuses != b.sumOre {
			t.Errorf("Summary status rows add up to %d, want %d", statuses, b.sumOre)
		}
		kinds := find("Kind", "Status")
		kindTotal := kinds
		for kindTotal < len(rows) && rows[kindTotal-1][0] != "Total" {
			kindTotal++
		}
		var details, subtotals int64
		for i, r := range rows[kinds : kindTotal-1] {
			i += kinds
			if len(r) < 4 || r[3] == "" {
				continue
			}
			v := toOre(numberCell(t, f, SheetSummary, fmt.Sprintf("D%d", i+1)))
			if r[1] == "Subtotal" {
				subtotals += v
			} else {
				details += v
			}
		}
		if details != b.sumOre || subtotals != b.sumOre {
			t.Errorf("Summary details add up to %d, subtotals to %d; want %d", details, subtotals, b.sumOre)
		}
		if got := raw(t, f, SheetSummary, fmt.Sprintf("B%d", find("invoice", "needs review"))); got != "needs review" {
			t.Errorf("got %q", got)
		}
		if got := raw(t, f, SheetSummary, fmt.Sprintf("C%d", find("Rejected rows", ""))); got != "2" {
			t.Errorf("Rejected rows = %q, want 2", got)
		}
		if got := raw(t, f, SheetSummary, fmt.Sprintf("C%d", find("rejected row", ""))); got != "2" {
			t.Errorf("rejected_row exceptions = %q, want 2", got)
		}
		if got := raw(t, f, SheetSummary, fmt.Sprintf("B%d", find("Period", "2026-03-01 – 2026-03-31 (Europe/Oslo, inclusive)"))); got == "" {
			t.Error("no period line")
		}
		batchRow := find("2", "erp")
		if got := toOre(numberCell(t, f, SheetSummary, fmt.Sprintf("D%d", batchRow))); got != 20100 {
			t.Errorf("Summary batch 2 total = %d øre, want 20100", got)
		}
	})

	t.Run("exceptions and batches", func(t *testing.T) {
		rows, _ := f.GetRows(SheetExceptions)
		exc, err := b.report.Exceptions()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(rows), 1+len(exc); got != want {
			t.Errorf("Exceptions has %d rows, want %d", got, want)
		}
		if got := rows[3]; got[0] != "needs review" || got[4] != "A-2" {
			t.Errorf("Exceptions row 4 = %q", got)
		}
		if got := toOre(numberCell(t, f, SheetBatches, "J2")); got != 472355 {
			t.Errorf("Batches!J2 = %d øre, want 472355", got)
		}
	})

	t.Run("panes and autofilter", func(t *testing.T) {
		for _, sheet := range []string{SheetOrders, SheetVAT, SheetExceptions, SheetBatches} {
			p, err := f.GetPanes(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Freeze || p.YSplit != 1 || p.XSplit != 0 || p.TopLeftCell != "A2" {
				t.Errorf("%s panes = %+v, want the header row frozen", sheet, p)
			}
		}
		want := map[string]string{
			SheetOrders:     "'Orders'!$A$1:$Z$7",
			SheetVAT:        "'VAT'!$A$1:$F$8",
			SheetExceptions: "'Exceptions'!$A$1:$F$6",
			SheetBatches:    "'Batches'!$A$1:$J$3",
		}
		got := map[string]string{}
		for _, dn := range f.GetDefinedName() {
			if dn.Name == "_xlnm._FilterDatabase" {
				got[dn.Scope] = dn.RefersTo
			}
		}
		for sheet, ref := range want {
			if got[sheet] != ref {
				t.Errorf("%s filter range = %q, want %q", sheet, got[sheet], ref)
			}
		}
	})

	t.Run("worksheet xml", func(t *testing.T) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var filters, sheets int
		for _, zf := range zr.File {
			if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
				continue
			}
			sheets++
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			x, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(x, []byte("<f>")) || bytes.Contains(x, []byte("<f ")) {
				t.Errorf("%s contains a formula", zf.Name)
			}
			if bytes.Contains(x, []byte(`t="str"`)) || bytes.Contains(x, []byte(`t="s"`)) {
				t.Errorf("%s contains formula-result or shared strings; want inline strings", zf.Name)
			}
			filters += bytes.Count(x, []byte("<autoFilter "))
			// Excel repairs a sheet whose <col> elements are out of order.
			var mins []int
			for _, m := range colMin.FindAllSubmatch(x, -1) {
				n, _ := strconv.Atoi(string(m[1]))
				mins = append(mins, n)
			}
			if len(mins) == 0 || !slices.IsSorted(mins) {
				t.Errorf("%s: <col> min values %v, want ascending", zf.Name, mins)
			}
			if bytes.Contains(x, []byte("HYPERLINK")) && !bytes.Contains(x, []byte(`t="inlineStr"><is><t>=HYPERLINK(&#34;http://evil.example/x?a=1&#34;,&#34;Klikk her&#34;)</t>`)) {
				t.Errorf("%s: the HYPERLINK customer is not a plain inline string", zf.Name)
			}
		}
		if sheets != 5 || filters != 4 {
			t.Errorf("found %d worksheets with %d autofilters, want 5 with 4", sheets, filters)
		}
	})
}

func TestWriteXLSXEmpty(t *testing.T) {
	t.Parallel()
	_, f := writeXLSX(t, &Report{Lang: "en", From: "2026-03-01", To: "2026-03-01"})
	rows, err := f.GetRows(SheetOrders)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Errorf("empty Orders sheet has %d rows, want only the header", len(rows))
	}
	srows, _ := f.GetRows(SheetSummary, excelize.Options{RawCellValue: true})
	var found bool
	for _, r := range srows {
		if len(r) >= 4 && r[0] == "Total" && r[2] == "0" && r[3] == "0" {
			found = true
		}
	}
	if !found {
		t.Errorf("empty Summary has no zero total row: %q", srows)
	}
}

type failingWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after < len(p) {
		n := max(w.after, 0)
		w.after = 0
		return n, errDiskFull
	}
	w.after -= len(p)
	return len(p), nil
}

func TestWriteFailingWriter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for name, write := range map[string]func(io.Writer) error{
		"xlsx": func(w io.Writer) error { return WriteXLSX(w, b.report) },
		"csv":  func(w io.Writer) error { return WriteCSV(w, b.report, ';') },
		"json": func(w io.Writer) error { return WriteJSON(w, b.report) },
	} {
		if err := write(&failingWriter{after: 100}); !errors.Is(err, errDiskFull) {
			t.Errorf("%s: error = %v, want %v", name, err, errDiskFull)
		}
	}
}

// benchReport builds n orders shaped like real ones: every column filled,
// a few statuses and kinds, a nil time now and then.
func benchReport(n int) *Report {
	kinds := []string{"invoice", "payment-link", "hosted-checkout", "checkout"}
	statuses := []string{"submitted", "sent", "paid", "needs_review", "cancelled"}
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	r := &Report{Lang: "en", From: "2026-03-01", To: "2026-03-31", GeneratedAt: base.AddDate(0, 1, 0)}
	r.Orders = make([]Order, n)
	for i := range r.Orders {
		at := base.Add(time.Duration(i) * time.Second)
		sub := at.Add(3 * time.Second)
		o := Order{
			BatchID: int64(i/1000 + 1), Source: fmt.Sprintf("batch-%04d.xlsx", i/1000), SourceRow: i%1000 + 2,
			OrderRef: fmt.Sprintf("ORD-%07d", i), Kind: kinds[i%len(kinds)], CustomerName: fmt.Sprintf("Kunde %d AS", i),
			GrandTotal: int64(i)*137 + 4999, FPOrderUUID: fmt.Sprintf("0b6b9a52-5f3c-4d8e-9a0e-%012d", i),
			Status: statuses[i%len(statuses)], FPStatus: "SENT", ImportedAt: at, SubmittedAt: &sub, Attempts: 1,
			PaymentURL: fmt.Sprintf("https://pay.example/o/%d", i),
		}
		if i%3 != 0 {
			o.StatusAt = &sub
		}
		if o.Status == "needs_review" {
			o.Exception, o.LastError = "needs_review", "no answer after the request was written"
		}
		r.Orders[i] = o
	}
	for i := 0; i < n/1000+1; i++ {
		r.Batches = append(r.Batches, Batch{ID: int64(i + 1), Source: fmt.Sprintf("batch-%04d.xlsx", i), ImportedAt: base, Rows: 1000, Orders: 1000})
	}
	return r
}

// BenchmarkWriteXLSX measures 100 000 orders:
//
//	go test -run '^$' -bench BenchmarkWriteXLSX -benchmem -benchtime 3x ./internal/report/
func BenchmarkWriteXLSX(b *testing.B) {
	r := benchReport(100_000)
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		cw := &countingWriter{}
		if err := WriteXLSX(cw, r); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(size), "bytes/file")
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// TestWriteXLSXLarge measures time and memory for a big report; it runs
// only when asked, on Linux:
//
//	REPORT_LARGE_ORDERS=1000000 go test -run TestWriteXLSXLarge -v -timeout 10m ./internal/report/
//
// "writer peak" is the process's peak resident memory while WriteXLSX runs
// minus what it was before, so it excludes the Report itself.
func TestWriteXLSXLarge(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("REPORT_LARGE_ORDERS"))
	if n <= 0 {
		t.Skip("set REPORT_LARGE_ORDERS to run")
	}
	r := benchReport(n)
	runtime.GC()
	before, err := procStatusKB("VmRSS")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	// Writing 5 to clear_refs resets VmHWM (peak RSS) to the current RSS.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset peak RSS: %v", err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc

	start := time.Now()
	cw := &countingWriter{}
	if err := WriteXLSX(cw, r); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	peak, err := procStatusKB("VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	t.Logf("%d orders: %v, %.1f MB written, RSS before %d MB (Report heap %d MB), peak %d MB, writer peak %d MB, %d GCs, %.0f MB allocated",
		n, elapsed.Round(time.Millisecond), float64(cw.n)/1e6, before/1024, heapBefore>>20, peak/1024, (peak-before)/1024,
		ms.NumGC, float64(ms.TotalAlloc)/1e6)
}

func procStatusKB(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in /proc/self/status", field)
}

// TestWriteXLSXOddText: control characters and invalid UTF-8 from a
// spreadsheet must not make the XML invalid, and an over-long text is cut to
// Excel's 32 767 characters instead of failing the report.
func TestWriteXLSXOddText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 40_000)
	r := &Report{Lang: "en", From: "2026-03-01", To: "2026-03-01", Orders: []Order{
		{OrderRef: "nul\x00bell\x07", CustomerName: "bad \xff utf-8", LastError: long, Kind: "invoice", Status: "queued",
			Source: " leading and trailing space "},
	}}
	_, f := writeXLSX(t, r)
	for _, tc := range []struct{ cell, want string }{
		{"D2", "nul\uFFFDbell\uFFFD"},
		{"F2", "bad \uFFFD utf-8"},
		{"B2", " leading and trailing space "},
	} {
		if got := raw(t, f, SheetOrders, tc.cell); got != tc.want {
			t.Errorf("Orders!%s = %q, want %q", tc.cell, got, tc.want)
		}
	}
	if got := raw(t, f, SheetOrders, "X2"); len(got) != excelize.TotalCellChars {
		t.Errorf("long text has %d characters, want %d", len(got), excelize.TotalCellChars)
	}
}
