package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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
}

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
	const fullPN = "01010012356" // E-1's customer, and E-5's (rejected for its e-mail)
	today := time.Now().In(s.cfg.Location).Format(time.DateOnly)

	view := viewRows(t, s, today)
	if len(view) != 4 {
		t.Fatalf("view has %d orders of %s, want 4: %+v", len(view), today, view)
	}
	if i := slices.IndexFunc(view, func(r agreeRow) bool { return r.Ref == "E-1" }); i < 0 || view[i].PersonalNumber != "010100*****" {
		t.Errorf("view's E-1 personal number: %+v", view)
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
	httpCSV := get("&format=csv&csv_comma=true")

	env := envOf(map[string]string{"DATABASE_URL": testdbURL(s)})
	dir := t.TempDir()
	xlsxPath, csvPath := filepath.Join(dir, "r.xlsx"), filepath.Join(dir, "r.csv")
	for _, args := range [][]string{
		{"report", "--from", today, "--format", "xlsx", "--out", xlsxPath},
		{"report", "--from", today, "--format", "csv", "--out", csvPath},
	} {
		if err := run(ctx, args, env, io.Discard, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if err := run(ctx, []string{"report", "--format", "xlsx", "--csv-comma"}, env, io.Discard, io.Discard); exitCode(err) != 2 {
		t.Errorf("--csv-comma with xlsx: exit %d, want 2", exitCode(err))
	}
	cmdCSV := readFile(t, csvPath)
	cmdXLSX := readFile(t, xlsxPath)

	for name, got := range map[string][]agreeRow{
		"HTTP JSON":             jsonRows(t, httpJSON),
		"HTTP CSV (csv_comma)":  csvRows(t, httpCSV, ','),
		"worker report CSV (;)": csvRows(t, cmdCSV, ';'),
		"worker report XLSX":    xlsxRows(t, cmdXLSX),
	} {
		if !slices.Equal(got, view) {
			t.Errorf("%s:\n%+v\nview:\n%+v", name, got, view)
		}
	}
	if !bytes.HasPrefix(cmdCSV, []byte("\uFEFFBatch;File;")) || !bytes.HasPrefix(httpCSV, []byte("\uFEFFBatch,File,")) {
		t.Errorf("CSV starts %q / %q", cmdCSV[:20], httpCSV[:20])
	}

	// The exceptions agree too: the rejected row, the orphan callback.
	var doc struct {
		Exceptions []struct{ Type, Source string } `json:"exceptions"`
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
	if rows, _ := x.GetRows(report.SheetExceptions); len(rows) != 1+len(doc.Exceptions) {
		t.Errorf("XLSX has %d exceptions, JSON %d", len(rows)-1, len(doc.Exceptions))
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
			coalesce(exception, ''), personal_number
		FROM reconciliation_orders WHERE imported_on = $1::date ORDER BY batch_id, source_row, order_id`, day)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []agreeRow
	for rows.Next() {
		var r agreeRow
		if err := rows.Scan(&r.Ref, &r.Batch, &r.Row, &r.Kind, &r.Status, &r.FPStatus, &r.FPUUID, &r.Ore, &r.Attempts,
			&r.Exception, &r.PersonalNumber); err != nil {
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
			OrderRef       string `json:"order_ref"`
			BatchID        int64  `json:"batch_id"`
			SourceRow      int    `json:"source_row"`
			Kind           string `json:"kind"`
			Status         string `json:"status"`
			FPStatus       string `json:"fp_status"`
			FPOrderUUID    string `json:"fp_order_uuid"`
			GrandTotalOre  int64  `json:"grand_total_ore"`
			Attempts       int    `json:"attempts"`
			Exception      string `json:"exception"`
			PersonalNumber string `json:"personal_number"`
		} `json:"orders"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []agreeRow
	for _, o := range doc.Orders {
		out = append(out, agreeRow{o.OrderRef, fmt.Sprint(o.BatchID), fmt.Sprint(o.SourceRow), o.Kind, o.Status, o.FPStatus,
			o.FPOrderUUID, fmt.Sprint(o.GrandTotalOre), fmt.Sprint(o.Attempts), o.Exception, o.PersonalNumber})
	}
	return out
}

// fromTable reads rows of the Orders table by header name.
func fromTable(t *testing.T, table [][]string, ore func(string) string) []agreeRow {
	t.Helper()
	col := map[string]int{}
	for i, h := range table[0] {
		col[h] = i
	}
	cell := func(r []string, h string) string {
		i, ok := col[h]
		if !ok {
			t.Fatalf("no column %q in %q", h, table[0])
		}
		if i < len(r) {
			return r[i]
		}
		return ""
	}
	var out []agreeRow
	for _, r := range table[1:] {
		out = append(out, agreeRow{cell(r, "Order ref"), cell(r, "Batch"), cell(r, "Row"), cell(r, "Kind"), cell(r, "Status"),
			cell(r, "FP status"), cell(r, "FP order"), ore(cell(r, "Grand total (NOK)")), cell(r, "Attempts"), cell(r, "Exception"),
			cell(r, "Personal number")})
	}
	return out
}

func csvRows(t *testing.T, b []byte, comma rune) []agreeRow {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF"))))
	cr.Comma = comma
	table, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return fromTable(t, table, func(nok string) string {
		ore, err := strconv.ParseInt(strings.NewReplacer(".", "", ",", "").Replace(nok), 10, 64)
		if err != nil {
			t.Fatalf("amount %q: %v", nok, err)
		}
		return fmt.Sprint(ore)
	})
}

func xlsxRows(t *testing.T, b []byte) []agreeRow {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	table, err := x.GetRows(report.SheetOrders, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return fromTable(t, table, func(kroner string) string {
		v, err := strconv.ParseFloat(kroner, 64)
		if err != nil {
			t.Fatalf("amount %q: %v", kroner, err)
		}
		return fmt.Sprint(int64(math.Round(v * 100)))
	})
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
