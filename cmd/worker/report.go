package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
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
	csvComma := fs.Bool("csv-comma", false, "with --format csv: separate fields by ',' (decimal point) instead of ';' (decimal comma)")
	list := fs.Bool("list", false, "list the reports the worker wrote on REPORT_SCHEDULE (--format text or json)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if *list {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["from"] || set["to"] || set["out"] || set["csv-comma"] {
			fmt.Fprintln(stderr, "worker report: --list takes only --format")
			return errUsage
		}
		listFormat := "text"
		if set["format"] {
			listFormat = *format
		}
		if listFormat != "text" && listFormat != "json" {
			fmt.Fprintln(stderr, "worker report: --list --format must be text or json")
			return errUsage
		}
		return listReports(ctx, getenv, listFormat, stdout)
	}
	if *format != "xlsx" && *format != "csv" && *format != "json" {
		fmt.Fprintln(stderr, "worker report: --format must be xlsx, csv or json")
		return errUsage
	}
	if *csvComma && *format != "csv" {
		fmt.Fprintln(stderr, "worker report: --csv-comma goes with --format csv")
		return errUsage
	}
	cfg, err := daemon.LoadConfig(getenv, daemon.Need{})
	if err != nil {
		return err
	}
	f, t, err := httpapi.Period(*from, *to, time.Now(), cfg.Location)
	if err != nil {
		fmt.Fprintln(stderr, "worker report:", err)
		return errUsage
	}
	// The report reads the view as the latest migration left it.
	pool, err := daemon.OpenCurrentPool(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	path := *out
	if path == "" {
		path = defaultReportPath(f, t, *format)
	}
	comma := report.DefaultCSVComma
	if *csvComma {
		comma = ','
	}
	var orders int
	err = store.WithReport(ctx, pool, f, t, time.Now(), cfg.StaleAfter, func(rep *report.Report) error {
		n := countOrders(rep)
		err := writeReportAs(rep, *format, comma, path, stdout)
		orders = *n
		return err
	})
	if err != nil {
		return err
	}
	if path != "-" {
		logger.Info("report written", "file", path, "orders", orders)
	}
	return nil
}

// countOrders makes rep count its orders as a rendering goes through them;
// the count it returns is read once the report is written.
func countOrders(rep *report.Report) *int {
	var n int
	each := rep.Each
	rep.Each = func(fn func(*report.Order) error) error {
		n = 0
		return each(func(o *report.Order) error { n++; return fn(o) })
	}
	return &n
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
	return writeReportAs(rep, format, report.DefaultCSVComma, path, stdout)
}

// writeReportAs is writeReport with the CSV field separator csvComma.
func writeReportAs(rep *report.Report, format string, csvComma rune, path string, stdout io.Writer) error {
	if path == "-" {
		return report.WriteAs(stdout, rep, format, csvComma)
	}
	_, err := report.WriteFileAs(path, rep, format, csvComma)
	return err
}

// listReports prints the reports table, newest period first.
func listReports(ctx context.Context, getenv func(string) string, format string, stdout io.Writer) error {
	cfg, pool, err := openCommandDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	files, err := store.ListReports(ctx, pool)
	if err != nil {
		return err
	}
	if format == "json" {
		out := struct {
			Reports []reportFileJSON `json:"reports"`
		}{Reports: []reportFileJSON{}}
		for _, f := range files {
			out.Reports = append(out.Reports, reportFileJSON{From: f.PeriodFrom, To: f.PeriodTo, Format: f.Format, Path: f.Path,
				Bytes: f.Bytes, SHA256: f.SHA256, Orders: f.Orders, GeneratedAt: f.GeneratedAt, JobID: f.JobID})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(files) == 0 {
		fmt.Fprintln(stdout, "no reports recorded (REPORT_SCHEDULE writes one a day)")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PERIOD\tFORMAT\tPATH\tBYTES\tORDERS\tGENERATED")
	for _, f := range files {
		period := f.PeriodFrom
		if f.PeriodTo != f.PeriodFrom {
			period += ".." + f.PeriodTo
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", period, f.Format, f.Path, f.Bytes, f.Orders,
			f.GeneratedAt.In(cfg.Location).Format(time.RFC3339))
	}
	return tw.Flush()
}

type reportFileJSON struct {
	From        string    `json:"period_from"`
	To          string    `json:"period_to"`
	Format      string    `json:"format"`
	Path        string    `json:"path"`
	Bytes       int64     `json:"bytes"`
	SHA256      string    `json:"sha256"`
	Orders      int       `json:"orders"`
	GeneratedAt time.Time `json:"generated_at"`
	JobID       int64     `json:"job_id,omitempty"`
}
