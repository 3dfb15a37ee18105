package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

func cmdReport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("worker report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "first day YYYY-MM-DD (Europe/Oslo); default yesterday")
	to := fs.String("to", "", "last day YYYY-MM-DD; default the same as --from")
	format := fs.String("format", "xlsx", "xlsx, csv or json")
	out := fs.String("out", "", "output file; default reports/reconciliation-<from>[_<to>].<format>, - for stdout")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if *format != "xlsx" && *format != "csv" && *format != "json" {
		fmt.Fprintln(stderr, "worker report: --format must be xlsx, csv or json")
		return errUsage
	}
	cfg, err := loadConfig(getenv, requirement{})
	if err != nil {
		return err
	}
	f, t, err := httpapi.Period(*from, *to, time.Now(), cfg.Location)
	if err != nil {
		fmt.Fprintln(stderr, "worker report:", err)
		return errUsage
	}
	pool, err := openPool(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := store.LoadReport(ctx, pool, f, t, time.Now())
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = defaultReportPath(f, t, *format)
	}
	if err := writeReport(rep, *format, path, stdout); err != nil {
		return err
	}
	if path != "-" {
		logger.Info("report written", "file", path, "orders", len(rep.Orders), "rejected_rows", len(rep.Rejected))
	}
	return nil
}

func defaultReportPath(from, to, format string) string {
	name := "reconciliation-" + from
	if to != from {
		name += "_" + to
	}
	return filepath.Join("reports", name+"."+format)
}

// writeReport writes to a temporary file and renames it, so a reader never
// sees half a report.
func writeReport(rep *report.Report, format, path string, stdout io.Writer) error {
	write := func(w io.Writer) error {
		switch format {
		case "csv":
			return report.WriteCSV(w, rep, ';')
		case "json":
			return report.WriteJSON(w, rep)
		}
		return report.WriteXLSX(w, rep)
	}
	if path == "-" {
		return write(stdout)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
