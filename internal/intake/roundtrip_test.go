package intake_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// The accountant's round trip with files saved by LibreOffice Calc
// (testdata/libreoffice.*: postcodes and personal numbers as number cells,
// 358 and 2908823470, mobiles without a country code, a customer reference
// on a hosted checkout, one bad e-mail address): what Excel or Calc broke
// is repaired with a warning, only the bad row is rejected, the error file
// in the input's format holds it with the reasons first (in bokmål, naming
// the file's headers) and the repaired values, and once the e-mail cell is
// fixed it imports as it is.
func TestLibreOfficeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, ext := range []string{".csv", ".xlsx"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := filepath.Join(dir, "libreoffice"+ext)
			copyFile(t, filepath.Join("testdata", "libreoffice"+ext), in)
			opt := intake.Settings{AllowTestIDs: true, Lang: msg.NB}.Options(testToday())
			f, err := intake.Read(in, opt)
			if err != nil {
				t.Fatal(err)
			}
			if f.Stats.Orders != 2 || f.RejectedRowCount() != 1 {
				t.Fatalf("orders %d, rejected rows %d; want 2 and 1: %v", f.Stats.Orders, f.RejectedRowCount(), f.Stats.Errors)
			}
			warned := map[string]bool{}
			for _, w := range f.Stats.Warnings {
				warned[w.Header+" "+w.Msg.ID] = true
			}
			for _, want := range []string{"Fødselsnummer repair.leading_zero", "Postnummer repair.leading_zero", "Mobil repair.country_code", "Kundereferanse warn.unused"} {
				if !warned[want] {
					t.Errorf("no warning %q among %v", want, f.Stats.Warnings)
				}
			}

			out := filepath.Join(dir, "libreoffice.errors"+ext)
			if err := f.ErrorFile().Write(out, f.ErrorRows()); err != nil {
				t.Fatal(err)
			}
			fixed := readBack(t, out)
			if fixed.Header[0] != "errors" || fixed.Header[1] != "warnings" || len(fixed.Rows) != 1 {
				t.Fatalf("error file: header %v, %d rows", fixed.Header, len(fixed.Rows))
			}
			row := fixed.Rows[0]
			if !strings.Contains(row.Cells[0], "E-post: ikke en gyldig e-postadresse") || strings.Contains(row.Cells[0], "email") {
				t.Errorf("reasons %q: want bokmål naming the file's header", row.Cells[0])
			}
			for header, want := range map[string]string{"Fødselsnummer": "02908823470", "Postnummer": "0150", "Mobil": "+47 46567470"} {
				if got := row.Cells[slices.Index(fixed.Header, header)]; got != want {
					t.Errorf("error file %s = %q, want the repaired %q", header, got, want)
				}
			}
			if ext == ".xlsx" {
				x, err := excelize.OpenFile(out)
				if err != nil {
					t.Fatal(err)
				}
				col, _ := excelize.ColumnNumberToName(slices.Index(fixed.Header, "Fødselsnummer") + 1)
				if typ, _ := x.GetCellType("errors", col+"2"); typ != excelize.CellTypeInlineString {
					t.Errorf("Fødselsnummer cell type %v, want text", typ)
				}
				x.Close()
			}

			// The accountant fixes the e-mail address, and imports the error file as it is.
			fixCell(t, out, "ola@", "ola@example.no")
			again, err := intake.Read(out, opt)
			if err != nil {
				t.Fatal(err)
			}
			if again.Stats.Orders != 1 || again.RejectedRowCount() != 0 {
				t.Fatalf("fixed error file: orders %d, rejected %d: %v", again.Stats.Orders, again.RejectedRowCount(), again.Stats.Errors)
			}
			for _, w := range again.Stats.Warnings {
				if strings.HasPrefix(w.Msg.ID, "repair.") {
					t.Errorf("the error file's values needed repair again: %v", w)
				}
			}
			for _, c := range []string{"errors", "warnings", "source_row"} {
				if !slices.Contains(again.Unknown, c) {
					t.Errorf("column %s not listed as ignored: %v", c, again.Unknown)
				}
			}
		})
	}
}

func testToday() (now time.Time) { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readBack(t *testing.T, path string) *importers.Sheet {
	t.Helper()
	s, err := importers.ReadFile(path, importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixCell replaces a cell's value as a spreadsheet program would save it.
func fixCell(t *testing.T, path, from, to string) {
	t.Helper()
	if filepath.Ext(path) == ".csv" {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(b), ","+from+",", ","+to+",", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	x, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	cells, err := x.SearchSheet("errors", from)
	if err != nil || len(cells) != 1 {
		t.Fatalf("finding %q: %v %v", from, cells, err)
	}
	if err := x.SetCellStr("errors", cells[0], to); err != nil {
		t.Fatal(err)
	}
	if err := x.Save(); err != nil {
		t.Fatal(err)
	}
}

// A rejection that a later import fixes is closed, naming the batch that
// fixed it; the batch keeps the counts of rows rejected and of those still
// open, and its stored rows rebuild the whole row for its error file.
func TestFixedRejectionsAreResolved(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inserter, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	dir := t.TempDir()
	in := filepath.Join(dir, "libreoffice.xlsx")
	copyFile(t, filepath.Join("testdata", "libreoffice.xlsx"), in)
	opt := intake.Settings{AllowTestIDs: true}.Options(testToday())
	commit := func(path string) int64 {
		t.Helper()
		f, err := intake.Open(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		res, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, intake.CommitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if f.RejectedRowCount() > 0 {
			if err := f.ErrorFile().Write(filepath.Join(dir, "libreoffice.errors.xlsx"), f.ErrorRows()); err != nil {
				t.Fatal(err)
			}
		}
		return res.Batches[0].BatchID
	}
	first := commit(in)
	b, err := store.BatchByID(ctx, pool, first)
	if err != nil || b.RowsRejected != 1 || b.RowsRejectedOpen != 1 {
		t.Fatalf("first batch: %+v, %v; want 1 rejected row, open", b, err)
	}
	rows, err := store.BatchRejectedRows(ctx, pool, first)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rejected rows %+v, %v", rows, err)
	}
	if r := rows[0]; r.Kind != "invoice" || r.Ref != "LO-3" || r.MsgID != "email.invalid" || r.Header != "E-post" ||
		len(r.Cells) != 16 || r.Cells[0] != "LO-3" || r.Cells[6] != "02908823470" {
		t.Errorf("stored rejected row %+v: want its order, message, header and repaired cells", r)
	}
	header, comma, format, err := store.BatchLayout(ctx, pool, first)
	if err != nil || len(header) != 16 || header[8] != "Postnummer" || format != "xlsx" || comma != 0 {
		t.Errorf("layout %q %q %q %v", header, comma, format, err)
	}

	// The accountant fixes the error file; its import resolves row 4 of the first batch.
	errFile := filepath.Join(dir, "libreoffice.errors.xlsx")
	fixCell(t, errFile, "ola@", "ola@example.no")
	second := commit(errFile)
	rows, _ = store.BatchRejectedRows(ctx, pool, first)
	if len(rows) != 1 || rows[0].ResolvedBy != second {
		t.Errorf("after the fix: %+v, want resolved by batch %d", rows, second)
	}
	b, _ = store.BatchByID(ctx, pool, first)
	if b.RowsRejected != 1 || b.RowsRejectedOpen != 0 {
		t.Errorf("first batch after the fix: rejected %d, open %d; want 1 and 0", b.RowsRejected, b.RowsRejectedOpen)
	}
	var open int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM open_rejected_rows`).Scan(&open); err != nil || open != 0 {
		t.Errorf("open_rejected_rows: %d, %v", open, err)
	}
}
