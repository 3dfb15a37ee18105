package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

// agreeRow is what each rendering must say about an order, as text.
type agreeRow struct {
	Ref, Batch, Row, Kind, Status, FPStatus, FPUUID, Ore, Attempts, Exception, PersonalNumber string
	OrderDate, DueDate, Net, VAT, Discount, PaidOre, PaidAt                                   string // PaidAt: unix seconds
}

// orderHeaders are the Orders table's headers that the test reads, in
// Norwegian (the default) and English.
var orderHeaders = map[string]map[string]string{
	"nb": {"ref": "Ordrereferanse", "batch": "Fil-ID", "row": "Rad", "kind": "Type", "status": "Status", "fp_status": "FPs status",
		"fp_order": "FP-ordre", "total": "Totalbeløp (NOK)", "attempts": "Forsøk", "exception": "Avvik", "pn": "Fødselsnummer",
		"order_date": "Ordredato", "due_date": "Forfallsdato", "net": "Netto (NOK)", "vat": "MVA (NOK)", "discount": "Rabatt (NOK)",
		"paid": "Betalt beløp (NOK)", "paid_at": "Betalt"},
	"en": {"ref": "Order ref", "batch": "Batch", "row": "Row", "kind": "Kind", "status": "Status", "fp_status": "FP status",
		"fp_order": "FP order", "total": "Grand total (NOK)", "attempts": "Attempts", "exception": "Exception", "pn": "Personal number",
		"order_date": "Order date", "due_date": "Due date", "net": "Net (NOK)", "vat": "VAT (NOK)", "discount": "Discount (NOK)",
		"paid": "Paid amount (NOK)", "paid_at": "Paid at"},
}

// codeOf turns a name the XLSX or CSV shows back into its code (status,
// kind, exception type); a list of exceptions ("a, b") into codes "a,b".
func codeOf(t *testing.T, lang, name string) string {
	t.Helper()
	if name == "" {
		return ""
	}
	var codes []string
	for _, n := range strings.Split(name, ", ") {
		code := ""
		for _, c := range agreeCodes {
			if report.Name(lang, c) == n {
				code = c
			}
		}
		if code == "" {
			t.Fatalf("%s name %q is no code's", lang, n)
		}
		codes = append(codes, code)
	}
	return strings.Join(codes, ",")
}

var agreeCodes = []string{"queued", "submitting", "submitted", "sent", "reserved", "paid", "partially_refunded", "refunded",
	"cancelled", "expired", "failed", "payment_failed", "provider_rejected", "invalid_payload", "needs_review",
	"invoice", "payment-link", "hosted-checkout", "checkout",
	"possible_duplicate", report.ExceptionPaymentLinkOverdue, report.ExceptionNoCallback}

// The SQL view, GET /reports/reconciliation (JSON and CSV) and `worker
// report` (XLSX, CSV) give the same rows for one period, in the same order,
// and none shows a personal number in full.
func TestReportAgreesEverywhere(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{CallbackDelay: 20 * time.Millisecond, Plan: func(o fpfake.Order) []string { return []string{"SENT", "PAID"} }})
	start := time.Now()
	s.importCSV(t, "orders.csv", e2eFile)
	s.waitSettled(t, start, true)
	ctx := context.Background()
	// An authentic callback for an order we do not have.
	if _, err := store.SaveCallback(ctx, s.pool, store.CallbackIn{RemoteAddr: "192.0.2.44", RawQuery: "ref=999999&token=SECRET",
		FPOrderUUID: "ODR-ORPHAN", FPStatus: "PAID", CreatedAt: "1", Verdict: store.VerdictOrphan}); err != nil {
		t.Fatal(err)
	}
	// An order-tied exception besides its status: FP has a second order
	// for E-2 (not a status: the one door does not guard it).
	if _, err := s.pool.Exec(ctx, `UPDATE orders SET possible_duplicate = 'ODR-OTHER' WHERE order_ref = 'E-2'`); err != nil {
		t.Fatal(err)
	}
	const fullPN = "01010012356" // E-1's customer, and E-5's (rejected for its e-mail)
	today := time.Now().In(s.cfg.Location).Format(time.DateOnly)

	view := viewRows(t, s, today)
	if len(view) != 4 {
		t.Fatalf("view has %d orders of %s, want 4: %+v", len(view), today, view)
	}
	if i := slices.IndexFunc(view, func(r agreeRow) bool { return r.Ref == "E-1" }); i < 0 || view[i].PersonalNumber != "010100*****" {
		t.Errorf("view's E-1 personal number: %+v", view)
	}
	// FP's PAID callback gave each order its paid time; E-2 (a payment
	// link: 14 days) has a due date and its first line's discount.
	for _, r := range view {
		if r.Status == "paid" && r.PaidAt == "" {
			t.Errorf("%s is paid without FP's paid time: %+v", r.Ref, r)
		}
		if r.OrderDate == "" {
			t.Errorf("%s has no order date: %+v", r.Ref, r)
		}
	}
	if i := slices.IndexFunc(view, func(r agreeRow) bool { return r.Ref == "E-2" }); i < 0 || view[i].Discount != "10000" || view[i].DueDate == "" {
		t.Errorf("view's E-2 (discount 100.00, a due date): %+v", view)
	}

	get := func(query string) []byte {
		t.Helper()
		resp := getReport(t, s.cfg.CallbackBaseURL+"/reports/reconciliation?from="+today+"&to="+today+query)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v %s", query, resp.StatusCode, err, b)
		}
		return b
	}
	httpJSON := get("&format=json")
	httpCSV := get("&format=csv&csv_comma=true&lang=en")
	httpParts := map[string][]byte{}
	for _, part := range report.Parts {
		httpParts[part] = get("&format=csv&part=" + part)
	}

	env := envOf(map[string]string{"DATABASE_URL": testdbURL(s)})
	dir := t.TempDir()
	xlsxPath, csvPath, enPath := filepath.Join(dir, "r.xlsx"), filepath.Join(dir, "r.csv"), filepath.Join(dir, "r-en.xlsx")
	for _, args := range [][]string{
		{"report", "--from", today, "--format", "xlsx", "--out", xlsxPath},
		{"report", "--from", today, "--format", "csv", "--out", csvPath},
		{"report", "--from", today, "--format", "xlsx", "--lang", "en", "--out", enPath},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(ctx, args, env, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.Contains(stdout.String(), today) || !strings.Contains(stdout.String(), "(4 ") || stderr.Len() != 0 {
			t.Errorf("%v: stdout %q, stderr %q; want the period and its 4 orders, nothing on stderr", args, stdout.String(), stderr.String())
		}
	}
	// Every CSV part is written beside the orders, group-readable, and is
	// what GET /reports/reconciliation?part= answers.
	for _, part := range report.Parts {
		path := report.PartPath(csvPath, part)
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != report.FileMode {
			t.Errorf("%s: %v, mode %v; want %v", path, err, fi.Mode().Perm(), os.FileMode(report.FileMode))
		}
		if b := readFile(t, path); !bytes.Equal(b, httpParts[part]) {
			t.Errorf("part %s: worker report wrote\n%s\nHTTP answered\n%s", part, b, httpParts[part])
		}
	}
	if err := run(ctx, []string{"report", "--format", "xlsx", "--csv-comma"}, env, io.Discard, io.Discard); exitCode(err) != 2 {
		t.Errorf("--csv-comma with xlsx: exit %d, want 2", exitCode(err))
	}
	cmdCSV := readFile(t, csvPath)
	cmdXLSX := readFile(t, xlsxPath)

	for name, got := range map[string][]agreeRow{
		"HTTP JSON":                jsonRows(t, httpJSON),
		"HTTP CSV (csv_comma, en)": csvRows(t, httpCSV, ',', "en"),
		"worker report CSV (;)":    csvRows(t, cmdCSV, ';', "nb"),
		"worker report XLSX":       xlsxRows(t, cmdXLSX, "nb"),
		"worker report XLSX (en)":  xlsxRows(t, readFile(t, enPath), "en"),
	} {
		if !slices.Equal(got, view) {
			t.Errorf("%s:\n%+v\nview:\n%+v", name, got, view)
		}
	}
	if !bytes.HasPrefix(cmdCSV, []byte("\uFEFFFil-ID;Fil;")) || !bytes.HasPrefix(httpCSV, []byte("\uFEFFBatch,File,")) {
		t.Errorf("CSV starts %q / %q", cmdCSV[:20], httpCSV[:20])
	}
	agreeTotals(t, s, today, httpJSON, readFile(t, report.PartPath(csvPath, report.PartSummary)),
		readFile(t, report.PartPath(csvPath, report.PartVAT)), cmdXLSX)

	// The exceptions agree too: the rejected row, the orphan callback.
	var doc struct {
		Exceptions []struct {
			Type     string `json:"type"`
			Source   string `json:"source"`
			OrderRef string `json:"order_ref"`
		} `json:"exceptions"`
	}
	if err := json.Unmarshal(httpJSON, &doc); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range doc.Exceptions {
		types = append(types, e.Type)
	}
	if !slices.Contains(types, report.ExceptionRejectedRow) || !slices.Contains(types, report.ExceptionOrphanCallback) {
		t.Errorf("JSON exceptions %v lack rejected_row or orphan_callback", types)
	}
	x, err := excelize.OpenReader(bytes.NewReader(cmdXLSX))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if rows, _ := x.GetRows(report.SheetName("nb", report.SheetExceptions)); len(rows) != 1+len(doc.Exceptions) {
		t.Errorf("XLSX has %d exceptions, JSON %d", len(rows)-1, len(doc.Exceptions))
	}
	if rows := csvTable(t, httpParts[report.PartExceptions], ';'); len(rows) != 1+len(doc.Exceptions) {
		t.Errorf("exceptions CSV has %d exceptions, JSON %d", len(rows)-1, len(doc.Exceptions))
	}
	// Every exception tied to an order of the period shows in that order's
	// Exception column, in every format.
	for _, e := range doc.Exceptions {
		if e.OrderRef == "" {
			continue
		}
		i := slices.IndexFunc(view, func(r agreeRow) bool { return r.Ref == e.OrderRef })
		if i >= 0 && !slices.Contains(strings.Split(view[i].Exception, ","), e.Type) {
			t.Errorf("exception %s of %s is not in its order's Exception %q", e.Type, e.OrderRef, view[i].Exception)
		}
	}
	if i := slices.IndexFunc(view, func(r agreeRow) bool { return r.Ref == "E-2" }); i < 0 || view[i].Exception != "possible_duplicate" {
		t.Errorf("E-2's exception: %+v", view)
	}

	// A period without orders: said, and one warning line naming the
	// newest import day; exit 0.
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"report", "--from", "2001-01-01", "--format", "json", "--out", filepath.Join(dir, "empty.json")}, env, &stdout, &stderr); err != nil {
		t.Fatalf("empty period: %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], today) ||
		!strings.Contains(lines[0], "2001-01-01") || !strings.Contains(stdout.String(), "2001-01-01") {
		t.Errorf("empty period: stdout %q, stderr %q; want the period said and one warning naming %s", stdout.String(), stderr.String(), today)
	}

	for name, b := range map[string][]byte{"HTTP JSON": httpJSON, "HTTP CSV": httpCSV, "CSV": cmdCSV, "XLSX": unzipAll(t, cmdXLSX)} {
		if bytes.Contains(b, []byte(fullPN)) {
			t.Errorf("%s shows the personal number %s in full", name, fullPN)
		}
		if bytes.Contains(b, []byte("SECRET")) {
			t.Errorf("%s shows a callback's token", name)
		}
	}
}

func viewRows(t *testing.T, s *stack, day string) []agreeRow {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT order_ref, batch_id::text, source_row::text, kind, status,
			coalesce(fp_status, ''), coalesce(fp_order_uuid, ''), grand_total_ore::text, attempts::text,
			coalesce(exception, ''), personal_number, coalesce(order_date::text, ''), coalesce(due_date::text, ''),
			net_ore::text, vat_ore::text, discount_ore::text, coalesce(paid_amount_ore::text, ''),
			coalesce(extract(epoch FROM paid_at)::bigint::text, '')
		FROM reconciliation_orders WHERE imported_on = $1::date ORDER BY batch_id, source_row, order_id`, day)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []agreeRow
	for rows.Next() {
		var r agreeRow
		if err := rows.Scan(&r.Ref, &r.Batch, &r.Row, &r.Kind, &r.Status, &r.FPStatus, &r.FPUUID, &r.Ore, &r.Attempts,
			&r.Exception, &r.PersonalNumber, &r.OrderDate, &r.DueDate, &r.Net, &r.VAT, &r.Discount, &r.PaidOre, &r.PaidAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func jsonRows(t *testing.T, b []byte) []agreeRow {
	t.Helper()
	var doc struct {
		Orders []struct {
			OrderRef       string     `json:"order_ref"`
			BatchID        int64      `json:"batch_id"`
			SourceRow      int        `json:"source_row"`
			Kind           string     `json:"kind"`
			Status         string     `json:"status"`
			FPStatus       string     `json:"fp_status"`
			FPOrderUUID    string     `json:"fp_order_uuid"`
			GrandTotalOre  int64      `json:"grand_total_ore"`
			Attempts       int        `json:"attempts"`
			Exception      string     `json:"exception"`
			PersonalNumber string     `json:"personal_number"`
			OrderDate      string     `json:"order_date"`
			DueDate        string     `json:"due_date"`
			NetOre         int64      `json:"net_ore"`
			VATOre         int64      `json:"vat_ore"`
			DiscountOre    int64      `json:"discount_ore"`
			PaidOre        *int64     `json:"paid_amount_ore"`
			PaidAt         *time.Time `json:"paid_at"`
		} `json:"orders"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []agreeRow
	for _, o := range doc.Orders {
		r := agreeRow{o.OrderRef, fmt.Sprint(o.BatchID), fmt.Sprint(o.SourceRow), o.Kind, o.Status, o.FPStatus,
			o.FPOrderUUID, fmt.Sprint(o.GrandTotalOre), fmt.Sprint(o.Attempts), o.Exception, o.PersonalNumber,
			o.OrderDate, o.DueDate, fmt.Sprint(o.NetOre), fmt.Sprint(o.VATOre), fmt.Sprint(o.DiscountOre), "", ""}
		if o.PaidOre != nil {
			r.PaidOre = fmt.Sprint(*o.PaidOre)
		}
		if o.PaidAt != nil {
			r.PaidAt = fmt.Sprint(o.PaidAt.Unix())
		}
		out = append(out, r)
	}
	return out
}

// fromTable reads rows of the Orders table by header name in lang; ore
// reads an amount, at a time and date a date (YYYY-MM-DD) as the format
// holds them.
func fromTable(t *testing.T, table [][]string, lang string, ore, at, date func(string) string) []agreeRow {
	t.Helper()
	col := map[string]int{}
	for i, h := range table[0] {
		col[h] = i
	}
	cell := func(r []string, key string) string {
		h := orderHeaders[lang][key]
		i, ok := col[h]
		if !ok {
			t.Fatalf("no column %q in %q", h, table[0])
		}
		if i < len(r) {
			return r[i]
		}
		return ""
	}
	opt := func(s string, f func(string) string) string {
		if s == "" {
			return ""
		}
		return f(s)
	}
	var out []agreeRow
	for _, r := range table[1:] {
		out = append(out, agreeRow{cell(r, "ref"), cell(r, "batch"), cell(r, "row"), codeOf(t, lang, cell(r, "kind")),
			codeOf(t, lang, cell(r, "status")), cell(r, "fp_status"), cell(r, "fp_order"), ore(cell(r, "total")), cell(r, "attempts"),
			codeOf(t, lang, cell(r, "exception")), cell(r, "pn"), opt(cell(r, "order_date"), date), opt(cell(r, "due_date"), date),
			ore(cell(r, "net")), ore(cell(r, "vat")), ore(cell(r, "discount")), opt(cell(r, "paid"), ore), opt(cell(r, "paid_at"), at)})
	}
	return out
}

func csvTable(t *testing.T, b []byte, comma rune) [][]string {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF"))))
	cr.Comma = comma
	table, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// csvOre reads a CSV amount ("4500,00" or "4500.00") as øre.
func csvOre(t *testing.T, nok string) string {
	t.Helper()
	ore, err := strconv.ParseInt(strings.NewReplacer(".", "", ",", "").Replace(nok), 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", nok, err)
	}
	return fmt.Sprint(ore)
}

func csvRows(t *testing.T, b []byte, comma rune, lang string) []agreeRow {
	t.Helper()
	oslo, _ := time.LoadLocation("Europe/Oslo")
	return fromTable(t, csvTable(t, b, comma), lang, func(nok string) string { return csvOre(t, nok) }, func(s string) string {
		at, err := time.ParseInLocation("2006-01-02 15:04:05", s, oslo)
		if err != nil {
			t.Fatalf("time %q: %v", s, err)
		}
		return fmt.Sprint(at.Unix())
	}, func(s string) string { return s })
}

// xlsxOre reads an XLSX amount cell (kroner) as øre.
func xlsxOre(t *testing.T, kroner string) string {
	t.Helper()
	v, err := strconv.ParseFloat(kroner, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", kroner, err)
	}
	return fmt.Sprint(int64(math.Round(v * 100)))
}

func xlsxRows(t *testing.T, b []byte, lang string) []agreeRow {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	table, err := x.GetRows(report.SheetName(lang, report.SheetOrders), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	oslo, _ := time.LoadLocation("Europe/Oslo")
	// A date cell holds Oslo wall-clock time as a serial day number.
	serial := func(s string) time.Time {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("date cell %q: %v", s, err)
		}
		wall, err := excelize.ExcelDateToTime(v, false)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, oslo)
	}
	return fromTable(t, table, lang, func(kroner string) string { return xlsxOre(t, kroner) },
		func(s string) string { return fmt.Sprint(serial(s).Round(time.Second).Unix()) },
		func(s string) string { return serial(s).Format(time.DateOnly) })
}

// agreeTotals holds the summary's figures to the view: orders and NOK per
// status (JSON, summary CSV), the total against what the period's batches
// imported, and per VAT rate (JSON, VAT CSV, XLSX VAT sheet) against the
// view's order lines, which tie out to the orders' grand totals.
func agreeTotals(t *testing.T, s *stack, day string, httpJSON, summaryCSV, vatCSV, xlsx []byte) {
	t.Helper()
	ctx := context.Background()
	type figure struct{ Count, Ore string }
	viewStatus := map[string]figure{}
	rows, err := s.pool.Query(ctx, `SELECT status, count(*)::text, sum(grand_total_ore)::text FROM reconciliation_orders
		WHERE imported_on = $1::date GROUP BY status`, day)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var st string
		var f figure
		if err := rows.Scan(&st, &f.Count, &f.Ore); err != nil {
			t.Fatal(err)
		}
		viewStatus[st] = f
	}
	rows.Close()
	viewVAT := map[string]figure{}
	rows, err = s.pool.Query(ctx, `SELECT tax_percent::text, count(*)::text, sum(amount_ore)::text FROM reconciliation_order_lines
		WHERE imported_on = $1::date GROUP BY tax_percent`, day)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var rate string
		var f figure
		if err := rows.Scan(&rate, &f.Count, &f.Ore); err != nil {
			t.Fatal(err)
		}
		viewVAT[rate] = f
	}
	rows.Close()
	var total, lineTotal, badOrders, rejectedRows string
	if err := s.pool.QueryRow(ctx, `SELECT sum(grand_total_ore)::text, sum(net_ore + vat_ore - discount_ore)::text,
			count(*) FILTER (WHERE net_ore + vat_ore - discount_ore <> grand_total_ore)::text
		FROM reconciliation_orders WHERE imported_on = $1::date`, day).Scan(&total, &lineTotal, &badOrders); err != nil {
		t.Fatal(err)
	}
	if lineTotal != total || badOrders != "0" {
		t.Errorf("view: lines add up to %s, orders to %s; %s orders whose net + VAT − discount is not their total", lineTotal, total, badOrders)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT (r.batch_id, r.row_no))::text FROM rejected_rows r
		JOIN batches b ON b.id = r.batch_id WHERE (b.imported_at AT TIME ZONE 'Europe/Oslo')::date = $1::date`, day).Scan(&rejectedRows); err != nil {
		t.Fatal(err)
	}

	var doc struct {
		StatusSummary []struct {
			Status   string `json:"status"`
			Orders   int    `json:"orders"`
			TotalOre int64  `json:"total_ore"`
		} `json:"status_summary"`
		Totals struct {
			TotalOre     int64 `json:"total_ore"`
			ImportedOre  int64 `json:"imported_ore"`
			RejectedRows int   `json:"rejected_rows"`
		} `json:"totals"`
		VAT []struct {
			Rate     int   `json:"rate"`
			Lines    int   `json:"lines"`
			GrossOre int64 `json:"gross_ore"`
		} `json:"vat"`
		Batches []struct {
			Rejected int `json:"rejected"`
		} `json:"batches"`
	}
	if err := json.Unmarshal(httpJSON, &doc); err != nil {
		t.Fatal(err)
	}
	jsonStatus := map[string]figure{}
	for _, r := range doc.StatusSummary {
		jsonStatus[r.Status] = figure{fmt.Sprint(r.Orders), fmt.Sprint(r.TotalOre)}
	}
	if !maps.Equal(jsonStatus, viewStatus) {
		t.Errorf("JSON per status %v, view %v", jsonStatus, viewStatus)
	}
	if fmt.Sprint(doc.Totals.TotalOre) != total || fmt.Sprint(doc.Totals.ImportedOre) != total {
		t.Errorf("JSON totals %+v, view's orders %s", doc.Totals, total)
	}
	batchRejected := 0
	for _, b := range doc.Batches {
		batchRejected += b.Rejected
	}
	if fmt.Sprint(doc.Totals.RejectedRows) != rejectedRows || fmt.Sprint(batchRejected) != rejectedRows || rejectedRows == "0" {
		t.Errorf("rejected rows: JSON %d, batches %d, view %s (rows, not errors)", doc.Totals.RejectedRows, batchRejected, rejectedRows)
	}
	jsonVAT := map[string]figure{}
	for _, v := range doc.VAT {
		if v.Lines > 0 {
			jsonVAT[fmt.Sprint(v.Rate)] = figure{fmt.Sprint(v.Lines), fmt.Sprint(v.GrossOre)}
		}
	}
	if !maps.Equal(jsonVAT, viewVAT) {
		t.Errorf("JSON VAT %v, view %v", jsonVAT, viewVAT)
	}

	// The summary CSV: per status (Norwegian names), and the period's total
	// against its imports.
	csvStatus := map[string]figure{}
	sums := map[string]string{}
	for _, r := range csvTable(t, summaryCSV, ';')[1:] {
		switch r[0] {
		case "status":
			csvStatus[codeOf(t, "nb", r[1])] = figure{r[3], csvOre(t, r[4])}
		case "sum", "importert", "differanse":
			sums[r[0]] = csvOre(t, r[4])
		}
	}
	if !maps.Equal(csvStatus, viewStatus) {
		t.Errorf("summary CSV per status %v, view %v", csvStatus, viewStatus)
	}
	if sums["sum"] != total || sums["importert"] != total || sums["differanse"] != "0" {
		t.Errorf("summary CSV sum/importert/differanse %v, view's orders %s", sums, total)
	}

	// The VAT CSV and the XLSX VAT sheet: per rate, the lines and gross.
	x, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheet, err := x.GetRows(report.SheetName("nb", report.SheetVAT), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, table := range map[string][][]string{"VAT CSV": csvTable(t, vatCSV, ';'), "XLSX VAT sheet": sheet} {
		got := map[string]figure{}
		for _, r := range table[1:] {
			if r[0] == "Differanse" && (len(r) < 6 || (r[5] != "0,00" && r[5] != "0")) {
				t.Errorf("%s: the lines do not tie out to the orders: %q", name, r)
			}
			if _, err := strconv.Atoi(r[0]); err != nil {
				continue // the total, the orders' total, the difference
			}
			gross := csvOre(t, r[5])
			if name == "XLSX VAT sheet" {
				gross = xlsxOre(t, r[5])
			}
			if r[1] != "0" {
				got[r[0]] = figure{r[1], gross}
			}
		}
		if !maps.Equal(got, viewVAT) {
			t.Errorf("%s %v, view %v", name, got, viewVAT)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unzipAll is every entry of an XLSX archive, uncompressed, one after another.
func unzipAll(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(&all, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return all.Bytes()
}
