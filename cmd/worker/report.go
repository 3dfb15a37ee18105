package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
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
	part := fs.String("part", "", "with --format csv: write only this part (orders, summary, vat, exceptions, batches); default all, each to its own file")
	lang := fs.String("lang", "", "labels and names: nb (Norwegian bokmål) or en; default REPORT_LANG, else nb")
	list := fs.Bool("list", false, "list the reports the worker wrote on REPORT_SCHEDULE (--format text or json)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if *list {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["from"] || set["to"] || set["out"] || set["csv-comma"] || set["part"] || set["lang"] {
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
	if *part != "" && (*format != "csv" || !slices.Contains(report.Parts, *part)) {
		fmt.Fprintln(stderr, "worker report: --part goes with --format csv and is one of", strings.Join(report.Parts, ", "))
		return errUsage
	}
	if *lang != "" && !slices.Contains(report.Langs, *lang) {
		fmt.Fprintln(stderr, "worker report: --lang must be nb or en")
		return errUsage
	}
	cfg, err := daemon.LoadConfig(getenv, daemon.Need{})
	if err != nil {
		return err
	}
	if *lang == "" {
		*lang = cfg.ReportLang
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
		path = report.PartPath(defaultReportPath(f, t, *format), *part)
	}
	comma := report.DefaultCSVComma
	if *csvComma {
		comma = ','
	}
	var orders int
	var written []string
	err = store.WithReport(ctx, pool, f, t, time.Now(), cfg.StaleAfter, func(rep *report.Report) error {
		rep.Lang = *lang
		n := countOrders(rep)
		var err error
		written, err = writeReportParts(rep, *format, *part, comma, path, stdout)
		orders = *n
		return err
	})
	if err != nil {
		return err
	}
	if path != "-" {
		logger.Debug("report written", "files", written, "orders", orders)
		fmt.Fprintln(stdout, reportWritten(*lang, f, t, orders, written))
	}
	if orders == 0 {
		newest, err := store.NewestImportDay(ctx, pool)
		if err != nil {
			return err
		}
		fmt.Fprintln(stderr, noOrdersWarning(*lang, f, t, newest))
	}
	return nil
}

// periodText is "2026-01-05" or "2026-01-05 – 2026-01-07".
func periodText(from, to string) string {
	if from == to {
		return from
	}
	return from + " – " + to
}

// reportWritten says which period the report covers, its orders and files.
func reportWritten(lang, from, to string, orders int, files []string) string {
	if lang == "en" {
		return fmt.Sprintf("reconciliation report for %s (%d orders): %s", periodText(from, to), orders, strings.Join(files, ", "))
	}
	return fmt.Sprintf("avstemmingsrapport for %s (%d ordrer): %s", periodText(from, to), orders, strings.Join(files, ", "))
}

// noOrdersWarning is the one line `worker report` writes to stderr for a
// period without orders: easily a wrong date, so it names the newest day
// anything was imported ("" none).
func noOrdersWarning(lang, from, to, newest string) string {
	if lang == "en" {
		if newest == "" {
			return fmt.Sprintf("worker report: warning: %s has no orders; nothing has been imported yet", periodText(from, to))
		}
		return fmt.Sprintf("worker report: warning: %s has no orders; the newest import was on %s (--from %s)", periodText(from, to), newest, newest)
	}
	if newest == "" {
		return fmt.Sprintf("worker report: advarsel: %s har ingen ordrer; ingenting er importert ennå", periodText(from, to))
	}
	return fmt.Sprintf("worker report: advarsel: %s har ingen ordrer; siste import var %s (--from %s)", periodText(from, to), newest, newest)
}

// writeReportParts writes the report to path ("-": stdout): a CSV as one
// file per part beside path (report.WriteFiles), or the one part asked
// for; stdout gets one part (the orders unless another is asked for). It
// returns the files written.
func writeReportParts(rep *report.Report, format, part string, csvComma rune, path string, stdout io.Writer) ([]string, error) {
	if path == "-" {
		return nil, report.WritePart(stdout, rep, format, part, csvComma)
	}
	if format == "csv" && part == "" {
		if _, err := report.WriteFiles(path, rep, format, csvComma); err != nil {
			return nil, err
		}
		var files []string
		for _, p := range report.Parts {
			files = append(files, report.PartPath(path, p))
		}
		return files, nil
	}
	_, err := report.WritePartFile(path, rep, format, part, csvComma)
	return []string{path}, err
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
	_, err := writeReportParts(rep, format, "", report.DefaultCSVComma, path, stdout)
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
