package inbox

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

const header = "order_ref,kind,customer_type,customer_name,email,country_code,msisdn,personal_number,organization_id,street,zip,city,country,preferred_language,product_id,product_name,quantity,rate,discount,tax,order_date,due_date,payment_method,reference_no,customer_reference,send_sms,send_email,invoice_fee\n"

const validRows = "A-1,,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Luramyrveien 65,4313,Sandnes,NO,no,R_1,Router,1,4500.00,0,12,,,,,,,,\n" +
	"A-2,,corporate,Fjord AS,post@fjord.example.no,+47,46567469,,923609016,Storgata 1,0155,Oslo,NO,en,,Timer,2,1250.00,0,25,,,,,,,,\n"

const badRow = "A-3,,private,Feil Epost,feil@,+47,46567472,01010012356,,Gate 1,0150,Oslo,NO,no,,Vare,1,10.00,0,25,,,,,,,,\n"

func row(ref string) string {
	return ref + ",,corporate,Fjord AS,post@fjord.example.no,+47,46567469,,923609016,Storgata 1,0155,Oslo,NO,en,,Timer,1,100.00,0,25,,,,,,,,\n"
}

type env struct {
	pool     *pgxpool.Pool
	inserter *river.Client[pgx.Tx]
	dir      string
	opt      Options
}

func setup(t *testing.T) *env {
	t.Helper()
	pool := testdb.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Oslo")
	return &env{pool: pool, inserter: inserter, dir: t.TempDir(), opt: Options{
		Intake: intake.Options{Mapping: mapping.Options{DefaultKind: fpclient.KindInvoice, Now: time.Now(), Location: loc}},
	}}
}

// put writes DIR/name, modified age ago.
func (e *env) put(t *testing.T, name, content string, age time.Duration) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := time.Now().Add(-age)
	if err := os.Chtimes(p, mod, mod); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) run(t *testing.T) *Result {
	t.Helper()
	res, err := Import(context.Background(), e.pool, e.inserter, e.dir, e.opt)
	if err != nil {
		t.Fatalf("inbox: %v", err)
	}
	return res
}

func (e *env) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ls lists a folder of the inbox ("" is DIR itself), files only.
func (e *env) ls(t *testing.T, sub string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.dir, sub))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		if !en.IsDir() {
			names = append(names, en.Name())
		}
	}
	return names
}

func (e *env) read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func eq(a, b []string) bool { return slices.Equal(a, b) || len(a)+len(b) == 0 }

func TestAllRowsAccepted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.put(t, "ok.csv", header+validRows, time.Minute)
	res := e.run(t)
	if len(res.Files) != 1 || res.Failed() != 0 {
		t.Fatalf("result %+v", res)
	}
	f := res.Files[0]
	if f.Outcome != Processed || f.MovedTo != filepath.Join("processed", "ok.csv") || f.ErrorFile != "" || f.Batch == nil || f.Batch.Counts["new"] != 2 {
		t.Errorf("file result %+v", f)
	}
	if !strings.Contains(f.Message(), "ok.csv: batch 1: 2 new") || !strings.Contains(f.Message(), "moved to processed/ok.csv") {
		t.Errorf("message %q", f.Message())
	}
	if got := e.ls(t, ""); len(got) != 0 {
		t.Errorf("left in DIR: %v", got)
	}
	if got := e.ls(t, "processed"); !eq(got, []string{"ok.csv"}) {
		t.Errorf("processed/: %v", got)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'submit_order'`); n != 2 {
		t.Errorf("submit jobs = %d, want 2", n)
	}
	// A second run has nothing to do.
	if res := e.run(t); len(res.Files) != 0 {
		t.Errorf("second run: %+v", res.Files)
	}
}

func TestRejectedRowsGoToFailedWithErrorFile(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.put(t, "mixed.csv", header+validRows+badRow, time.Minute)
	res := e.run(t)
	if res.Failed() != 1 {
		t.Fatalf("result %+v", res.Files)
	}
	f := res.Files[0]
	if f.Outcome != Failed || f.RejectedRows != 1 || f.MovedTo != filepath.Join("failed", "mixed.csv") || f.ErrorFile != filepath.Join("failed", "mixed.errors.csv") {
		t.Errorf("file result %+v", f)
	}
	if got := e.ls(t, "failed"); !eq(got, []string{"mixed.csv", "mixed.errors.csv"}) {
		t.Errorf("failed/: %v", got)
	}
	errs := e.read(t, "failed/mixed.errors.csv")
	if !strings.Contains(errs, "A-3") || !strings.Contains(errs, "email") || strings.Contains(errs, "A-1") {
		t.Errorf("error file:\n%s", errs)
	}
	// The valid orders are imported all the same; the rejected row is stored.
	if n := e.count(t, `SELECT count(*) FROM orders`); n != 2 {
		t.Errorf("orders = %d, want 2", n)
	}
	if n := e.count(t, `SELECT count(*) FROM rejected_rows WHERE row_no = 4`); n != 1 {
		t.Errorf("rejected rows stored = %d", n)
	}
}

func TestUnreadableFileGoesToFailedWithReason(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.put(t, "columns.csv", "ordre;navn\n1;Kari\n", time.Minute)
	e.put(t, "fake.xlsx", "this is not a workbook\n", time.Minute)
	res := e.run(t)
	if res.Failed() != 2 {
		t.Fatalf("result %+v", res.Files)
	}
	if got := e.ls(t, "failed"); !eq(got, []string{"columns.csv", "columns.error.txt", "fake.error.txt", "fake.xlsx"}) {
		t.Errorf("failed/: %v", got)
	}
	if txt := e.read(t, "failed/columns.error.txt"); !strings.Contains(txt, "mangler påkrevde kolonner") {
		t.Errorf("columns.error.txt: %q", txt)
	}
	if txt := e.read(t, "failed/fake.error.txt"); !strings.Contains(txt, "fake.xlsx: dette er tekst, ikke en XLSX-arbeidsbok") {
		t.Errorf("fake.error.txt: %q", txt)
	}
	if n := e.count(t, `SELECT count(*) FROM batches`); n != 0 {
		t.Errorf("batches = %d, want 0", n)
	}
	for _, f := range res.Files {
		if f.Err == nil || !strings.Contains(f.Message(), "cannot be imported") {
			t.Errorf("%s: %q", f.Name, f.Message())
		}
	}
}

// The very same bytes again (dropped twice): nothing imported, moved to
// processed/ with a message.
func TestSameBytesAgain(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.put(t, "ok.csv", header+validRows, time.Minute)
	e.run(t)
	e.put(t, "ok-again.csv", header+validRows, time.Minute)
	res := e.run(t)
	f := res.Files[0]
	if f.Outcome != Processed || f.ImportedBefore != 1 || f.Batch != nil || f.MovedTo != filepath.Join("processed", "ok-again.csv") {
		t.Errorf("file result %+v", f)
	}
	if !strings.Contains(f.Message(), "these exact bytes were imported before (batch 1); skipped") {
		t.Errorf("message %q", f.Message())
	}
	if n := e.count(t, `SELECT count(*) FROM batches`); n != 1 {
		t.Errorf("batches = %d, want 1", n)
	}
}

// A crash after a file's batch committed but before the file moved: the
// next run finds the same bytes, imports nothing, and moves the file where
// it belongs (a file with rejected rows with its error file).
func TestCrashBetweenCommitAndMove(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ok := e.put(t, "ok.csv", header+validRows, 2*time.Minute)
	mixed := e.put(t, "mixed.csv", header+row("B-1")+badRow, time.Minute)
	// What a run does up to the crash: commit, not move.
	for _, p := range []string{ok, mixed} {
		f, err := intake.Open(p, e.opt.Intake)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := intake.Commit(ctx, e.pool, e.inserter, []*intake.File{f}, intake.CommitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	jobs := e.count(t, `SELECT count(*) FROM river_job`)
	res := e.run(t)
	if len(res.Files) != 2 {
		t.Fatalf("files %+v", res.Files)
	}
	for i, want := range []struct {
		name    string
		outcome Outcome
		before  int64
	}{{"ok.csv", Processed, 1}, {"mixed.csv", Failed, 2}} {
		f := res.Files[i]
		if f.Name != want.name || f.Outcome != want.outcome || f.ImportedBefore != want.before || f.Batch != nil {
			t.Errorf("file %d: %+v", i, f)
		}
	}
	if got := e.ls(t, "processed"); !eq(got, []string{"ok.csv"}) {
		t.Errorf("processed/: %v", got)
	}
	if got := e.ls(t, "failed"); !eq(got, []string{"mixed.csv", "mixed.errors.csv"}) {
		t.Errorf("failed/: %v", got)
	}
	if got := e.ls(t, ""); len(got) != 0 {
		t.Errorf("left in DIR: %v", got)
	}
	if n := e.count(t, `SELECT count(*) FROM batches`); n != 2 {
		t.Errorf("batches = %d, want the 2 from before the crash", n)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job`); n != jobs {
		t.Errorf("jobs = %d, want %d", n, jobs)
	}
}

// A failure while a file is recorded (a crash mid-file is the same to the
// database: its transaction never commits) leaves that file where it was
// and nothing of it recorded; the files before it are done. The next run
// imports it.
func TestFailureMidFileLeavesItInPlace(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `CREATE FUNCTION fail_b() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.source = 'b.csv' THEN RAISE EXCEPTION 'simulated crash'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER fail_b AFTER INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION fail_b();`); err != nil {
		t.Fatal(err)
	}
	e.put(t, "a.csv", header+row("A-10"), 3*time.Minute)
	e.put(t, "b.csv", header+row("B-10")+row("B-11"), 2*time.Minute)
	e.put(t, "c.csv", header+row("C-10"), time.Minute)
	res, err := Import(ctx, e.pool, e.inserter, e.dir, e.opt)
	if err == nil || !strings.Contains(err.Error(), "simulated crash") || !strings.Contains(err.Error(), "stays in") {
		t.Fatalf("error %v", err)
	}
	if len(res.Files) != 1 || res.Files[0].Name != "a.csv" {
		t.Errorf("done before the failure: %+v", res.Files)
	}
	if got := e.ls(t, ""); !eq(got, []string{"b.csv", "c.csv"}) {
		t.Errorf("DIR: %v", got)
	}
	if n := e.count(t, `SELECT count(*) FROM orders WHERE order_ref LIKE 'B-%'`); n != 0 {
		t.Errorf("%d orders of the failed file recorded", n)
	}
	if n := e.count(t, `SELECT count(*) FROM batches`); n != 1 {
		t.Errorf("batches = %d, want 1", n)
	}
	if _, err := e.pool.Exec(ctx, `DROP TRIGGER fail_b ON orders`); err != nil {
		t.Fatal(err)
	}
	res = e.run(t)
	if len(res.Files) != 2 || res.Failed() != 0 {
		t.Errorf("after the failure: %+v", res.Files)
	}
	if got := e.ls(t, "processed"); !eq(got, []string{"a.csv", "b.csv", "c.csv"}) {
		t.Errorf("processed/: %v", got)
	}
}

// Nothing in processed/ or failed/ is overwritten: a name that is taken gets
// the run's time, and an error file keeps the name of its file.
func TestNeverOverwrites(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.opt.Now = func() time.Time { return time.Date(2026, 11, 22, 2, 0, 0, 0, time.Local) }
	e.put(t, "processed/ok.csv", "older file", 0)
	e.put(t, "failed/mixed.errors.csv", "older error file", 0)
	e.put(t, "ok.csv", header+validRows, time.Minute)
	e.put(t, "mixed.csv", header+row("B-1")+badRow, time.Minute)
	e.run(t)
	if got := e.ls(t, "processed"); !eq(got, []string{"ok-20261122-020000.csv", "ok.csv"}) {
		t.Errorf("processed/: %v", got)
	}
	if got := e.ls(t, "failed"); !eq(got, []string{"mixed-20261122-020000.csv", "mixed-20261122-020000.errors.csv", "mixed.errors.csv"}) {
		t.Errorf("failed/: %v", got)
	}
	if e.read(t, "processed/ok.csv") != "older file" || e.read(t, "failed/mixed.errors.csv") != "older error file" {
		t.Error("an existing file was overwritten")
	}
	// The same name again within the same second.
	e.put(t, "ok.csv", header+row("Z-1"), time.Minute)
	e.run(t)
	if got := e.ls(t, "processed"); !eq(got, []string{"ok-20261122-020000-2.csv", "ok-20261122-020000.csv", "ok.csv"}) {
		t.Errorf("processed/: %v", got)
	}
}

// Only finished .csv/.xlsx files are taken, oldest first.
func TestWhatIsTakenAndInWhichOrder(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.opt.MinAge = time.Hour
	e.put(t, "second.csv", header+row("S-2"), 2*time.Hour)
	e.put(t, "FIRST.CSV", header+row("S-1"), 3*time.Hour)
	e.put(t, "third.xlsx", "", time.Hour+time.Minute) // empty: failed, but taken
	e.put(t, "fresh.csv", header+row("S-4"), time.Minute)
	e.put(t, ".hidden.csv", header+row("H-1"), 3*time.Hour)
	e.put(t, "~$third.xlsx", "lock", 3*time.Hour)
	e.put(t, "notes.txt", "hello", 3*time.Hour)
	e.put(t, "old.xls", "x", 3*time.Hour)
	if err := os.Mkdir(filepath.Join(e.dir, "archive.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := e.run(t)
	var names []string
	for _, f := range res.Files {
		names = append(names, f.Name)
	}
	if !eq(names, []string{"FIRST.CSV", "second.csv", "third.xlsx"}) {
		t.Errorf("taken %v", names)
	}
	if !eq(res.Waiting, []string{"fresh.csv"}) || !eq(res.Ignored, []string{"notes.txt", "old.xls"}) {
		t.Errorf("waiting %v, ignored %v", res.Waiting, res.Ignored)
	}
	if got := e.ls(t, ""); !eq(got, []string{".hidden.csv", "fresh.csv", "notes.txt", "old.xls", "~$third.xlsx"}) {
		t.Errorf("DIR: %v", got)
	}
	var first string
	if err := e.pool.QueryRow(context.Background(), `SELECT source FROM batches ORDER BY id LIMIT 1`).Scan(&first); err != nil || first != "FIRST.CSV" {
		t.Errorf("first batch %q, %v", first, err)
	}
}

// An XLSX file's rejected rows come back as an XLSX error file.
func TestXLSXErrorFile(t *testing.T) {
	t.Parallel()
	e := setup(t)
	x := excelize.NewFile()
	for i, line := range strings.Split(strings.TrimSpace(header+validRows+badRow), "\n") {
		cells := strings.Split(line, ",")
		for j, c := range cells {
			name, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := x.SetCellStr("Sheet1", name, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := x.SaveAs(filepath.Join(e.dir, "orders.xlsx")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	_ = os.Chtimes(filepath.Join(e.dir, "orders.xlsx"), old, old)
	res := e.run(t)
	if res.Failed() != 1 || res.Files[0].ErrorFile != filepath.Join("failed", "orders.errors.xlsx") {
		t.Fatalf("result %+v", res.Files)
	}
	xf, err := excelize.OpenFile(filepath.Join(e.dir, "failed", "orders.errors.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer xf.Close()
	rows, err := xf.GetRows(xf.GetSheetName(0))
	if err != nil || len(rows) != 2 || rows[0][0] != "errors" || rows[0][3] != "order_ref" || rows[1][3] != "A-3" {
		t.Errorf("error workbook rows %v, %v", rows, err)
	}
}

// A change that cannot be taken (the order is being sent, or FP reports it
// final) rejects the order's rows at commit time; they go in the error file
// with the file's own cells.
func TestRefusedChangeInErrorFile(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.put(t, "ok.csv", header+validRows, 2*time.Minute)
	e.run(t)
	if _, err := e.pool.Exec(context.Background(), `UPDATE orders SET status = 'needs_review' WHERE order_ref = 'A-1'`); err != nil {
		t.Fatal(err)
	}
	e.put(t, "changed.csv", header+strings.Replace(validRows, "4500.00", "4600.00", 1), time.Minute)
	res := e.run(t)
	f := res.Files[0]
	if f.Outcome != Failed || f.RejectedRows != 1 || f.Batch == nil || len(f.Batch.Refused) != 1 {
		t.Fatalf("file result %+v", f)
	}
	errs := e.read(t, "failed/changed.errors.csv")
	if !strings.Contains(errs, "4600.00") || !strings.Contains(errs, "needs_review") || strings.Contains(errs, "A-2") {
		t.Errorf("error file:\n%s", errs)
	}
}

func TestMissingFolder(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := Import(context.Background(), e.pool, e.inserter, filepath.Join(e.dir, "nope"), e.opt); err == nil {
		t.Error("a missing folder is not an error")
	}
}
