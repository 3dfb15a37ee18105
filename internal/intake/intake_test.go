package intake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

const header = "order_ref,kind,customer_type,customer_name,email,country_code,msisdn,personal_number,organization_id,street,zip,city,country,preferred_language,product_id,product_name,quantity,rate,discount,tax,order_date,due_date,payment_method,reference_no,customer_reference,send_sms,send_email,invoice_fee\n"

func line(ref, product, rate string) string {
	return ref + ",invoice,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Luramyrveien 65,4313,Sandnes,NO,no,," + product + ",1," + rate + ",0,25,,,,,,,,\n"
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func options() intake.Options {
	return intake.Options{Mapping: mapping.Options{Now: time.Now(), Location: time.UTC, DefaultKind: fpclient.KindInvoice}}
}

// An order whose lines are scattered over the file is still one order: the
// import notices, and reads the file again with an index.
func TestScatteredOrderLines(t *testing.T) {
	t.Parallel()
	path := write(t, "scattered.csv", header+line("A", "a1", "100.00")+line("B", "b1", "10.00")+line("A", "a2", "50.00")+line("C", "c1", "1.00"))

	f, err := intake.Read(path, options())
	if err != nil {
		t.Fatal(err)
	}
	if f.Stats.Orders != 3 || f.Stats.Rows != 4 || f.RejectedRowCount() != 0 {
		t.Fatalf("check: %+v", f.Stats)
	}
	if got := f.Totals()[0].Total; got != 16100 {
		t.Errorf("total = %d øre, want 16100", got)
	}

	pool := testdb.New(t)
	ctx := context.Background()
	inserter, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	f, _ = intake.Open(path, options())
	res, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, intake.CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Batches[0].Counts[store.OrderNew]; n != 3 {
		t.Errorf("new orders = %d, want 3", n)
	}
	var total int64
	var lines, row int
	if err := pool.QueryRow(ctx, `SELECT grand_total_ore, json_array_length(order_data->'lines'), source_row
		FROM orders WHERE order_ref = 'A'`).Scan(&total, &lines, &row); err != nil {
		t.Fatal(err)
	}
	if total != 15000 || lines != 2 || row != 2 {
		t.Errorf("order A: %d øre, %d lines, first row %d; want 15000, 2, 2", total, lines, row)
	}
	var jobs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 3 {
		t.Errorf("jobs = %d, want 3", jobs)
	}
}

// Two files in one run are one transaction; an order in both is new once,
// then changed by the second file.
func TestTwoFilesOneTransaction(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inserter, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	f1, _ := intake.Open(write(t, "one.csv", header+line("A", "a1", "100.00")), options())
	f2, _ := intake.Open(write(t, "two.csv", header+line("A", "a1", "200.00")+line("B", "b1", "1.00")), options())
	res, err := intake.Commit(ctx, pool, inserter, []*intake.File{f1, f2}, intake.CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b2 := res.Batches[1].Counts
	if res.Batches[0].Counts[store.OrderNew] != 1 || b2[store.OrderNew] != 1 || b2[store.OrderChanged] != 1 {
		t.Errorf("counts: %v, %v", res.Batches[0].Counts, b2)
	}
	var total int64
	var version int
	if err := pool.QueryRow(ctx, `SELECT grand_total_ore, version FROM orders WHERE order_ref = 'A'`).Scan(&total, &version); err != nil {
		t.Fatal(err)
	}
	if total != 20000 || version != 2 {
		t.Errorf("A: %d øre, version %d; want 20000, 2", total, version)
	}
}

func TestStrictRollsBack(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inserter, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	bad := "X,invoice,private,Feil,feil@,+47,46567472,01010012356,,Gate 1,0150,Oslo,NO,no,,Vare,1,10.00,0,25,,,,,,,,\n"
	f, _ := intake.Open(write(t, "mixed.csv", header+line("A", "a1", "1.00")+bad), options())
	res, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, intake.CommitOptions{Strict: true})
	if err != nil || !res.RolledBack {
		t.Fatalf("res %+v, err %v", res, err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM batches) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM river_job)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("strict left %d rows", n)
	}
}

// The same, with the order's lines thousands of rows apart (in different
// chunks of the import).
func TestScatteredAcrossChunks(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(line("A", "a1", "100.00"))
	for i := 0; i < 3000; i++ {
		b.WriteString(line(fmt.Sprintf("N-%d", i), "n", "1.00"))
	}
	b.WriteString(line("A", "a2", "50.00"))
	// The XLSX takes the other pipeline (checking in the writer): its
	// write fails, stops the reader, and the file is read again, the same.
	for _, name := range []string{"far.csv", "far.xlsx"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pool := testdb.New(t)
			ctx := context.Background()
			inserter, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{})
			path := write(t, name, b.String())
			if strings.HasSuffix(name, ".xlsx") {
				path = writeXLSX(t, name, b.String())
			}
			f, err := intake.Open(path, options())
			if err != nil {
				t.Fatal(err)
			}
			res, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, intake.CommitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if n := res.Batches[0].Counts[store.OrderNew]; n != 3001 || res.Batches[0].JobsQueued != 3001 {
				t.Errorf("new orders = %d, jobs %d; want 3001", n, res.Batches[0].JobsQueued)
			}
			var total int64
			if err := pool.QueryRow(ctx, `SELECT grand_total_ore FROM orders WHERE order_ref = 'A'`).Scan(&total); err != nil || total != 15000 {
				t.Errorf("order A: %d øre, %v; want 15000", total, err)
			}
		})
	}
}

// writeXLSX writes simple CSV content (no quoted commas) as a workbook.
func writeXLSX(t *testing.T, name, content string) string {
	t.Helper()
	x := excelize.NewFile()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(strings.TrimSpace(content), "\n") {
		fields := strings.Split(l, ",")
		cells := make([]any, len(fields))
		for j, v := range fields {
			cells[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := x.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Open keeps an XLSX open for its first read (it is not unpacked twice);
// whatever happens to the File next, nothing of it stays behind.
func TestOpenedFilesLeaveNothingBehind(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where excelize and the reader unpack
	path := writeXLSX(t, "orders.xlsx", header+line("A", "a1", "100.00")+line("B", "b1", "10.00"))
	pool := testdb.New(t)
	ctx := context.Background()
	inserter, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	commit := func() *intake.Committed {
		f, err := intake.Open(path, options())
		if err != nil {
			t.Fatal(err)
		}
		res, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, intake.CommitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := commit(); len(res.Batches) != 1 || res.Batches[0].Counts[store.OrderNew] != 2 {
		t.Fatalf("first import: %+v", res)
	}
	if res := commit(); len(res.Skipped) != 1 { // the same bytes: never read
		t.Fatalf("second import: %+v", res)
	}
	f, err := intake.Read(path, options()) // a dry run
	if err != nil || f.Stats.Orders != 2 {
		t.Fatalf("read: %v, %+v", err, f.Stats)
	}
	f, err = intake.Open(path, options()) // opened, then given up
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}
