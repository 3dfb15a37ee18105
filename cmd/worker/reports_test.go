package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

// The report settings default to 06:00 in Oslo, xlsx, ./reports; off turns
// the schedule off; each bad value is one line.
func TestReportConfig(t *testing.T) {
	t.Parallel()
	load := func(m map[string]string) (*daemon.Config, error) {
		return daemon.LoadConfig(envOf(m), daemon.Need{Reports: true})
	}
	cfg, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReportSchedule != "CRON_TZ=Europe/Oslo 0 6 * * *" || cfg.ReportCron == nil || cfg.ReportDir != "reports" || cfg.ReportFormat != "xlsx" {
		t.Errorf("defaults %q %q %q", cfg.ReportSchedule, cfg.ReportDir, cfg.ReportFormat)
	}
	// 06:00 in Oslo is 05:00Z in winter, whatever the process's zone.
	if next := cfg.ReportCron.Next(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("next run %s", next.UTC())
	}
	// A schedule without a zone is read in TZ_REPORTS.
	cfg, err = load(map[string]string{"REPORT_SCHEDULE": "30 7 * * *", "TZ_REPORTS": "UTC", "REPORT_FORMAT": "CSV"})
	if err != nil || cfg.ReportSchedule != "CRON_TZ=UTC 30 7 * * *" || cfg.ReportFormat != "csv" {
		t.Errorf("UTC: %+v, %v", cfg, err)
	}
	if cfg, err := load(map[string]string{"REPORT_SCHEDULE": "off"}); err != nil || cfg.ReportCron != nil {
		t.Errorf("off: %v, %v", cfg.ReportCron, err)
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = load(map[string]string{"REPORT_SCHEDULE": "6 am", "REPORT_FORMAT": "pdf", "REPORT_DIR": file})
	if err == nil {
		t.Fatal("bad report settings accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{`REPORT_DIR: ` + file + ` is not a folder`, `REPORT_FORMAT: must be`, `REPORT_SCHEDULE: "6 am" is not a cron schedule`} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("no line %q in:\n%s", want, err)
		}
	}
	if len(lines) != 3 {
		t.Errorf("%d lines, want 3:\n%s", len(lines), err)
	}
	// `worker run` refuses it too.
	err = run(context.Background(), []string{"run"}, envOf(map[string]string{"REPORT_SCHEDULE": "61 * * * *"}), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "REPORT_SCHEDULE: ") {
		t.Errorf("worker run: %v", err)
	}
}

// A slot's job, run by the worker's River client, writes yesterday's
// report (relative to the slot) to REPORT_DIR and records it; a second run
// for the same day replaces file and row; the same slot cannot be queued
// twice; `worker report --list` shows the row.
func TestNightlyReport(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "reports") // missing: the job creates it
	s := startStackWith(t, fpfakeNoCallbacks(), func(c *daemon.Config) { c.ReportDir, c.ReportFormat = dir, "xlsx" })
	start := time.Now()
	s.importCSV(t, "orders.csv", e2eFile)
	s.waitSettled(t, start, false)
	ctx := context.Background()

	// Today's orders are in the report of tomorrow 06:00's slot.
	today := time.Now().In(s.cfg.Location)
	day := today.Format(time.DateOnly)
	y, m, d := today.AddDate(0, 0, 1).Date()
	slot := time.Date(y, m, d, 6, 0, 0, 0, s.cfg.Location).UTC()
	want := filepath.Join(dir, "reconciliation-"+day+".xlsx")
	var orders int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM reconciliation_orders WHERE imported_on = $1::date`, day).Scan(&orders); err != nil || orders == 0 {
		t.Fatalf("orders of %s: %d, %v", day, orders, err)
	}

	res, err := s.d.River().Insert(ctx, jobargs.ReportArgs{Slot: slot}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := waitReport(t, s, day, res.Job.ID)
	if first.Path != want || first.Format != "xlsx" || first.PeriodTo != day || first.Orders != orders {
		t.Errorf("row %+v, want path %s, %d orders", first, want, orders)
	}
	checkReportFile(t, first)

	// The same slot again is a duplicate (two leaders, or a leader change).
	dup, err := s.d.River().Insert(ctx, jobargs.ReportArgs{Slot: slot, Format: "csv"}, nil)
	if err != nil || !dup.UniqueSkippedAsDuplicate || dup.Job.ID != res.Job.ID {
		t.Fatalf("same slot inserted again: %+v, %v", dup, err)
	}
	// Another slot of the same day rewrites the same file and row.
	res2, err := s.d.River().Insert(ctx, jobargs.ReportArgs{Slot: slot.Add(time.Hour)}, nil)
	if err != nil || res2.UniqueSkippedAsDuplicate {
		t.Fatalf("second slot: %+v, %v", res2, err)
	}
	second := waitReport(t, s, day, res2.Job.ID)
	if second.Path != want || !second.GeneratedAt.After(first.GeneratedAt) {
		t.Errorf("second run %+v after %+v", second, first)
	}
	checkReportFile(t, second)
	if n := countReports(t, s); n != 1 {
		t.Errorf("%d rows in reports, want 1", n)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".report-*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	env := envOf(map[string]string{"DATABASE_URL": testdbURL(s)})
	var out bytes.Buffer
	if err := run(ctx, []string{"report", "--list"}, env, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "PERIOD") || !strings.HasPrefix(lines[1], day) ||
		!strings.Contains(lines[1], want) || !strings.Contains(lines[1], " xlsx ") {
		t.Errorf("report --list:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"report", "--list", "--format", "json"}, env, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var listed struct {
		Reports []reportFileJSON `json:"reports"`
	}
	if err := json.Unmarshal(out.Bytes(), &listed); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if len(listed.Reports) != 1 || listed.Reports[0].Path != want || listed.Reports[0].Bytes != second.Bytes ||
		listed.Reports[0].SHA256 != second.SHA256 || listed.Reports[0].Orders != orders || listed.Reports[0].JobID != res2.Job.ID {
		t.Errorf("report --list --format json: %s", out.String())
	}
	for _, args := range [][]string{{"report", "--list", "--format", "xlsx"}, {"report", "--list", "--from", day}} {
		if err := run(ctx, args, env, &bytes.Buffer{}, &bytes.Buffer{}); exitCode(err) != 2 {
			t.Errorf("%v: exit %d, want 2", args, exitCode(err))
		}
	}
}

// waitReport waits until the reports row of day was written by job.
func waitReport(t *testing.T, s *stack, day string, job int64) store.ReportFile {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		files, err := store.ListReports(context.Background(), s.pool)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.PeriodFrom == day && f.JobID == job {
				return f
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no report of %s by job %d: %+v", day, job, files)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkReportFile: the file is what the row says, and a workbook.
func checkReportFile(t *testing.T, f store.ReportFile) {
	t.Helper()
	b, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if int64(len(b)) != f.Bytes || hex.EncodeToString(sum[:]) != f.SHA256 {
		t.Errorf("file %d bytes %x, row says %d %s", len(b), sum, f.Bytes, f.SHA256)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if fi, err := os.Stat(f.Path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("%s: %v, mode %v; want 0640 (group-readable)", f.Path, err, fi.Mode().Perm())
	}
	rows, err := x.GetRows(report.SheetName("nb", report.SheetOrders))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 1+f.Orders { // a header, then one row an order
		t.Errorf("%s has %d rows for %d orders", report.SheetOrders, len(rows), f.Orders)
	}
	if !slices.Contains(x.GetSheetList(), report.SheetName("nb", report.SheetSummary)) {
		t.Errorf("sheets %v", x.GetSheetList())
	}
}

func countReports(t *testing.T, s *stack) int {
	t.Helper()
	return s.Count(t, `SELECT count(*) FROM reports`)
}
