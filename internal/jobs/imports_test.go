package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/frontpayment/fpexport/internal/erp"
	"github.com/frontpayment/fpexport/internal/jobargs"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A schedule without a zone is read in Europe/Oslo, whatever the process's
// zone: "0 2 * * *" is 01:00Z in winter and 00:00Z in summer.
func TestParseScheduleDefaultsToOslo(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ spec, from, want, read string }{
		{"0 2 * * *", "2026-11-22T12:00:00Z", "2026-11-23T01:00:00Z", "CRON_TZ=Europe/Oslo 0 2 * * *"},
		{"0 2 * * *", "2026-06-22T12:00:00Z", "2026-06-23T00:00:00Z", "CRON_TZ=Europe/Oslo 0 2 * * *"},
		{"CRON_TZ=UTC 0 2 * * *", "2026-11-22T12:00:00Z", "2026-11-23T02:00:00Z", "CRON_TZ=UTC 0 2 * * *"},
		{"TZ=America/New_York 0 2 * * *", "2026-11-22T12:00:00Z", "2026-11-23T07:00:00Z", "TZ=America/New_York 0 2 * * *"},
		{"  @daily ", "2026-11-22T12:00:00Z", "2026-11-22T23:00:00Z", "CRON_TZ=Europe/Oslo @daily"},
		{"*/15 2-5 * * 1-5", "2026-11-20T12:00:00Z", "2026-11-23T01:00:00Z", "CRON_TZ=Europe/Oslo */15 2-5 * * 1-5"}, // Friday → Monday 02:00
	} {
		s, read, err := ParseSchedule(c.spec)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if read != c.read {
			t.Errorf("%q read as %q, want %q", c.spec, read, c.read)
		}
		if got := s.Next(mustTime(t, c.from)).UTC(); !got.Equal(mustTime(t, c.want)) {
			t.Errorf("%q: next after %s = %s, want %s", c.spec, c.from, got, c.want)
		}
	}
}

func TestParseScheduleRejects(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"", "0 2 * *", "0 25 * * *", "0 0 2 * * *", "every night", "CRON_TZ=Mars/Olympus 0 2 * * *"} {
		if _, _, err := ParseSchedule(spec); err == nil {
			t.Errorf("%q accepted", spec)
		}
	}
}

// The slot is the schedule's time the run belongs to, the same whether River
// fires a little early (up to 100 ms), on time or late, and whichever process
// computes it.
func TestImportArgsAtNamesTheSlot(t *testing.T) {
	t.Parallel()
	daily, _, _ := ParseSchedule("0 2 * * *")
	quarter, _, _ := ParseSchedule("*/15 2-5 * * *")
	monthly, _, _ := ParseSchedule("0 3 1 * *")
	every, _, _ := ParseSchedule("@every 1s")
	for _, c := range []struct {
		name  string
		sched interface{ Next(time.Time) time.Time }
		now   string
		want  string
	}{
		{"daily, on time", daily, "2026-11-23T01:00:00Z", "2026-11-23T01:00:00Z"},
		{"daily, 100 ms early", daily, "2026-11-23T00:59:59.9Z", "2026-11-23T01:00:00Z"},
		{"daily, 3 s late", daily, "2026-11-23T01:00:03Z", "2026-11-23T01:00:00Z"},
		{"daily, in the afternoon", daily, "2026-11-23T14:00:00Z", "2026-11-23T01:00:00Z"},
		{"quarter hours", quarter, "2026-11-23T03:31:10Z", "2026-11-23T03:30:00Z"},
		{"quarter hours, after the window", quarter, "2026-11-23T12:00:00Z", "2026-11-23T04:45:00Z"},
		{"monthly", monthly, "2026-11-20T10:00:00Z", "2026-11-01T02:00:00Z"},
		{"every second", every, "2026-11-23T03:31:10.2Z", "2026-11-23T03:31:10Z"},
	} {
		a := ImportArgsAt(jobargs.ImportInbox, c.sched, mustTime(t, c.now))
		if !a.Slot.Equal(mustTime(t, c.want)) || a.Slot.Location() != time.UTC || a.Source != jobargs.ImportInbox {
			t.Errorf("%s: slot %s, want %s (UTC)", c.name, a.Slot, c.want)
		}
	}
}

// The args (and so River's unique key) of one slot are the same bytes
// whoever computes them, and differ from slot to slot.
func TestImportArgsEncodeTheSlot(t *testing.T) {
	t.Parallel()
	daily, _, _ := ParseSchedule("0 2 * * *")
	a, _ := json.Marshal(ImportArgsAt(jobargs.ImportERP, daily, mustTime(t, "2026-11-23T01:00:00.05Z")))
	b, _ := json.Marshal(ImportArgsAt(jobargs.ImportERP, daily, mustTime(t, "2026-11-23T03:00:00+02:00")))
	c, _ := json.Marshal(ImportArgsAt(jobargs.ImportERP, daily, mustTime(t, "2026-11-24T01:00:00Z")))
	if string(a) != string(b) || string(a) == string(c) {
		t.Errorf("args: %s, %s, %s", a, b, c)
	}
	if want := `{"source":"erp","slot":"2026-11-23T01:00:00Z"}`; string(a) != want {
		t.Errorf("args = %s, want %s", a, want)
	}
	var args jobargs.ImportArgs
	if opts := args.InsertOpts(); !strings.Contains(args.Kind(), "import") || opts.Queue != jobargs.QueueImports || !opts.UniqueOpts.ByArgs {
		t.Error("import jobs must go to the imports queue, unique by args")
	}
}

// A source this process has no settings for is cancelled, not retried: a
// retry on the same process would fail the same way. Configured sources
// are listed sorted, as the worker logs and schedules them.
func TestImportWorkerUnconfiguredSource(t *testing.T) {
	t.Parallel()
	w := &ImportWorker{Imports: Imports{InboxDir: t.TempDir()}}
	if got := w.Imports.Sources(); !slices.Equal(got, []string{jobargs.ImportInbox}) {
		t.Errorf("Sources = %v, want [inbox]", got)
	}
	err := w.Work(context.Background(), &river.Job[jobargs.ImportArgs]{Args: jobargs.ImportArgs{Source: jobargs.ImportERP}})
	var cancel *rivertype.JobCancelError
	if !errors.As(err, &cancel) || !strings.Contains(err.Error(), "no erp import is configured") {
		t.Errorf("Work(erp) = %v, want a JobCancel saying no erp import is configured", err)
	}
	w.Imports.ERP = &erp.Config{}
	if got := w.Imports.Sources(); !slices.Equal(got, []string{jobargs.ImportERP, jobargs.ImportInbox}) {
		t.Errorf("Sources = %v, want [erp inbox]", got)
	}
}
