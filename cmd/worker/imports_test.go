package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/fpclient"
)

// The import settings are checked at start, one line per problem.
func TestImportConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	load := func(m map[string]string) (*daemon.Config, error) {
		return daemon.LoadConfig(envOf(m), daemon.Need{Imports: true})
	}
	cfg, err := load(map[string]string{"IMPORT_SCHEDULE": "0 2 * * *", "INBOX_DIR": dir, "IMPORT_KIND": "invoice"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ImportSchedule != "CRON_TZ=Europe/Oslo 0 2 * * *" || cfg.ImportCron == nil || cfg.InboxMinAge != 10*time.Second || cfg.ImportKind != fpclient.KindInvoice || cfg.ERP != nil {
		t.Errorf("config %+v", cfg)
	}
	// 02:00 in Oslo is 01:00Z in winter, whatever the process's zone.
	if next := cfg.ImportCron.Next(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("next run %s", next.UTC())
	}
	cfg, err = load(map[string]string{"IMPORT_SCHEDULE": "CRON_TZ=UTC 30 3 * * 1-5", "ERP_DATABASE_URL": "postgres://reader:pw@erp/erp", "ERP_QUERY": "SELECT 1 WHERE now() > $1"})
	if err != nil || cfg.ImportSchedule != "CRON_TZ=UTC 30 3 * * 1-5" || cfg.ERP == nil || cfg.InboxDir != "" {
		t.Errorf("ERP only: %+v, %v", cfg, err)
	}
	if cfg, err := load(nil); err != nil || cfg.ImportCron != nil {
		t.Errorf("no schedule: %+v, %v", cfg, err)
	}

	_, err = load(map[string]string{"IMPORT_SCHEDULE": "2 am", "INBOX_DIR": filepath.Join(dir, "missing"), "INBOX_MIN_AGE": "x",
		"IMPORT_KIND": "cash", "ERP_QUERY": "SELECT 1 WHERE now() > $1"})
	if err == nil {
		t.Fatal("bad import settings accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{`IMPORT_SCHEDULE: "2 am" is not a cron schedule`, "INBOX_DIR: ", "INBOX_MIN_AGE: must be", "IMPORT_KIND: must be", "ERP_DATABASE_URL: required"} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, want)
		}
		if !found {
			t.Errorf("no line %q in:\n%s", want, err)
		}
	}
	if _, err := load(map[string]string{"IMPORT_SCHEDULE": "0 2 * * *"}); err == nil || !strings.Contains(err.Error(), "IMPORT_SCHEDULE: nothing to import") {
		t.Errorf("schedule without a source: %v", err)
	}
	// `worker run` says so too, with its other lines, and never the ERP password.
	err = run(context.Background(), []string{"run"}, envOf(map[string]string{"IMPORT_SCHEDULE": "61 * * * *",
		"ERP_DATABASE_URL": "postgres://reader:s3cret@erp/erp"}), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "IMPORT_SCHEDULE: ") || !strings.Contains(err.Error(), "ERP_QUERY: required") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("worker run: %v", err)
	}
}
