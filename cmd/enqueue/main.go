// Command enqueue imports order spreadsheets (CSV, XLSX): it reads and
// validates every row, then records in one transaction per run the batch of
// each file, its orders, its rejected rows and the River jobs that submit the
// orders to Front Payment. A running `worker run` does the submitting.
//
// `enqueue --inbox DIR` imports every new file of a folder, each its own
// batch, and moves it to DIR/processed/ or DIR/failed/ once committed (the
// nightly import from cron; see package inbox). `enqueue --erp` imports the
// order lines changed in an ERP's table since the last import (package erp).
// The worker's scheduled imports run the very same code.
//
// Exit codes: 0 every row accepted; 1 some rows rejected (the valid orders
// are still enqueued unless --strict), or with --inbox some files moved to
// failed/; 2 usage or fatal error, nothing enqueued (with --inbox: the
// files already moved were committed, the rest stay where they are).
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/buildinfo"
	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/inbox"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/logging"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/secretenv"
	"github.com/frontpayment/fpexport/internal/store"
)

const defaultDatabaseURL = "postgres://root@127.0.0.1:5432/fpexport?sslmode=disable"

// Exit codes (a contract: scripts and cron rely on them).
const (
	exitOK       = 0
	exitRejected = 1
	exitFatal    = 2
)

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// DATABASE_URL_FILE and the like: the secrets read from files once, here.
	code := exitFatal
	if getenv, err := secretenv.Wrap(os.Getenv); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "enqueue:", line)
		}
	} else {
		code = run(ctx, os.Args[1:], getenv, os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}

// tuneGC lets the collector wait until the heap nears 128 MiB instead of
// running each time it doubles: excelize allocates ~24 KB per row read, and
// an import's live heap stays small (a few chunks), so collecting early only
// burns the CPU the database needs. GOGC or GOMEMLIMIT in the environment win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(ImportMemoryLimit)
	debug.SetGCPercent(-1)
}

// ImportMemoryLimit is the heap size the collector keeps an import under.
const ImportMemoryLimit = 128 << 20

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	progress := logging.IsTerminal(stdout)
	stdout, flushOut := logging.MaskUnlessTerminal(stdout)
	defer flushOut()
	stderr, flushErr := logging.MaskUnlessTerminal(stderr)
	defer flushErr()
	cleanTempDirs(stderr)
	fs := flag.NewFlagSet("enqueue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kindFlag := fs.String("kind", "", "kind for rows without one: invoice, payment-link, hosted-checkout or checkout")
	dryRun := fs.Bool("dry-run", false, "validate and show what would be enqueued; write nothing")
	strict := fs.Bool("strict", false, "treat warnings (a value the order's kind does not use, a repaired value) as errors, and enqueue nothing if any row is rejected")
	langFlag := fs.String("lang", "", "language of the reasons and the error file: nb or en (default: LANG when it is English, else nb)")
	errorsOut := fs.String("errors-out", "", "write the rejected rows, with an errors column, to this file (.csv or .xlsx)")
	sheet := fs.String("sheet", "", "XLSX sheet to read (default: the first)")
	inboxDir := fs.String("inbox", "", "import every new .csv/.xlsx file in this folder, each its own batch, and move it to DIR/processed/ or DIR/failed/")
	erpFlag := fs.Bool("erp", false, "import the order lines changed in the ERP since the last import (ERP_DATABASE_URL, ERP_QUERY)")
	profilePath := fs.String("profile", "", "header mapping profile (JSON): column names, fixed values, per-kind defaults; see samples/README.md")
	allowTestIDs := fs.Bool("allow-test-ids", false, "accept synthetic test personal numbers (Skatteetaten's month + 80); for test data only")
	version := fs.Bool("version", false, "print the build (module version, VCS revision and time, Go version) and exit")
	minAge := fs.Duration("min-age", inbox.DefaultMinAge, "--inbox: leave files modified less than this long ago for the next run (default INBOX_MIN_AGE or 10s)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: enqueue [--kind KIND] [--profile FILE] [--dry-run] [--strict] [--lang nb|en] [--errors-out FILE] [--sheet NAME] FILE...")
		fmt.Fprintln(stderr, "       enqueue --inbox DIR [--kind KIND] [--sheet NAME] [--min-age D]")
		fmt.Fprintln(stderr, "       enqueue --erp [--kind KIND] [--dry-run]")
		fs.PrintDefaults()
	}
	if v := strings.TrimSpace(getenv("INBOX_MIN_AGE")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			fmt.Fprintln(stderr, "enqueue: INBOX_MIN_AGE: must be a duration such as 10s")
			return exitFatal
		}
		*minAge = d // the flag, when given, overrides it
	}
	if err := fs.Parse(args); err != nil {
		return exitFatal
	}
	if *version {
		fmt.Fprintln(stdout, "enqueue", buildinfo.Read())
		return exitOK
	}
	imports := *inboxDir != "" || *erpFlag
	if fs.NArg() == 0 && !imports {
		fs.Usage()
		return exitFatal
	}
	defaultKind, ok := intake.ParseKind(*kindFlag)
	if !ok {
		fmt.Fprintf(stderr, "enqueue: --kind %q: must be invoice, payment-link, hosted-checkout or checkout\n", *kindFlag)
		return exitFatal
	}
	if *errorsOut != "" {
		if ext := strings.ToLower(filepath.Ext(*errorsOut)); ext != ".csv" && ext != ".xlsx" {
			fmt.Fprintln(stderr, "enqueue: --errors-out must end in .csv or .xlsx")
			return exitFatal
		}
	}
	lang, err := msg.FromEnv(*langFlag, getenv("LANG"))
	if err != nil {
		fmt.Fprintln(stderr, "enqueue:", err)
		return exitFatal
	}
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		fmt.Fprintln(stderr, "enqueue: time zone data missing:", err)
		return exitFatal
	}

	settings := intake.Settings{Kind: defaultKind, Sheet: *sheet, AllowTestIDs: *allowTestIDs, Location: loc, Strict: *strict, Lang: lang}
	if *profilePath != "" {
		p, err := intake.LoadProfile(*profilePath)
		if err != nil {
			fmt.Fprintln(stderr, "enqueue:", err)
			return exitFatal
		}
		settings.Profile = p
	}
	opt := settings.Options(time.Now())
	if progress {
		opt.Progress = func(file string, rows int) { fmt.Fprintf(stdout, "\r%s: %d rows read…", file, rows) }
	}
	if imports {
		return runImport(ctx, importFlags{inbox: *inboxDir, erp: *erpFlag, dryRun: *dryRun, strict: *strict,
			errorsOut: *errorsOut, minAge: *minAge, files: fs.Args()}, opt, getenv, stdout, stderr)
	}
	var files []*intake.File
	defer func() { // any a failure left open
		for _, f := range files {
			f.Close()
		}
	}()
	for _, path := range fs.Args() {
		f, err := intake.Open(path, opt)
		if err != nil { // the header's or the file's reasons in the reader's language
			fmt.Fprintln(stderr, "enqueue:", intake.ErrorText(filepath.Base(path), err, lang))
			fmt.Fprintln(stderr, "enqueue: nothing was enqueued")
			return exitFatal
		}
		files = append(files, f)
	}

	if *dryRun {
		for _, f := range files {
			if err := f.Check(); err != nil {
				fmt.Fprintln(stderr, "\renqueue:", intake.ErrorText(f.Name, err, lang))
				return exitFatal
			}
		}
		code := report(stdout, stderr, files, nil, *errorsOut)
		fmt.Fprintln(stdout, "dry run: nothing was written")
		return code
	}

	pool, inserter, ok := openDB(ctx, getenv, stderr)
	if !ok {
		return exitFatal
	}
	defer pool.Close()
	res, err := intake.Commit(ctx, pool, inserter, files, intake.CommitOptions{Strict: *strict})
	if err != nil {
		fmt.Fprintln(stderr, "\renqueue:", intake.ErrorText("", err, lang))
		fmt.Fprintln(stderr, "enqueue: nothing was enqueued")
		return exitFatal
	}
	code := report(stdout, stderr, files, res, *errorsOut)
	if res.RolledBack {
		fmt.Fprintln(stdout, "--strict: some rows were rejected, so nothing was enqueued")
	}
	return code
}

// openDB connects to DATABASE_URL, checks the schema is current, and makes
// the River client that inserts the submit jobs: one that never starts, it
// only inserts, inside our transactions. ok false: said on stderr.
func openDB(ctx context.Context, getenv func(string) string, stderr io.Writer) (*pgxpool.Pool, *river.Client[pgx.Tx], bool) {
	dbURL := getenv("DATABASE_URL")
	if dbURL == "" {
		dbURL = defaultDatabaseURL
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		fmt.Fprintln(stderr, "enqueue: DATABASE_URL:", err)
		return nil, nil, false
	}
	if pending, err := store.PendingMigrations(ctx, pool); err != nil {
		pool.Close()
		fmt.Fprintln(stderr, "enqueue: database:", err)
		return nil, nil, false
	} else if len(pending) > 0 {
		pool.Close()
		fmt.Fprintln(stderr, "enqueue: database schema is not current: run `worker migrate` first")
		return nil, nil, false
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		pool.Close()
		fmt.Fprintln(stderr, "enqueue:", err)
		return nil, nil, false
	}
	return pool, inserter, true
}

// report prints what each file held and what recording it did, writes the
// error file, and returns the exit code.
func report(stdout, stderr io.Writer, files []*intake.File, res *intake.Committed, errorsOut string) int {
	skipped := map[*intake.File]int64{}
	batches := map[*intake.File]store.BatchOut{}
	if res != nil {
		for _, sk := range res.Skipped {
			skipped[sk.File] = sk.BatchID
		}
		n := 0
		for _, f := range files {
			if _, ok := skipped[f]; !ok && n < len(res.Batches) {
				batches[f] = res.Batches[n]
				n++
			}
		}
	}
	code := exitOK
	var withErrors []*intake.File
	for _, f := range files {
		if id, ok := skipped[f]; ok {
			fmt.Fprintf(stdout, "\r%s: these exact bytes were imported before (batch %d); skipped\n", f.Name, id)
			continue
		}
		printFile(stdout, f)
		b, recorded := batches[f]
		if recorded && (res == nil || !res.RolledBack) {
			printBatch(stdout, b, f.Lang())
		}
		if f.RejectedRowCount() > 0 || len(b.Refused) > 0 {
			code = exitRejected
		}
		if f.RejectedRowCount() > 0 {
			withErrors = append(withErrors, f)
		}
	}
	if errorsOut != "" && len(withErrors) > 0 {
		if err := writeErrors(errorsOut, withErrors); err != nil {
			fmt.Fprintln(stderr, "enqueue: writing error file:", err)
			return exitFatal
		}
		fmt.Fprintf(stdout, "rejected rows written to %s\n", errorsOut)
	}
	return code
}

func printFile(w io.Writer, f *intake.File) {
	fmt.Fprintf(w, "\r%s: %d rows, %d valid orders, %d rejected rows\n", f.Name, f.Stats.Rows, f.Stats.Orders, f.RejectedRowCount())
	if len(f.Unknown) > 0 {
		names := make([]string, len(f.Unknown))
		for i, n := range f.Unknown {
			names[i] = mapping.ShortValue(n)
		}
		fmt.Fprintf(w, "  ignored columns (not known to fpexport): %s\n", strings.Join(names, ", "))
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	for _, kt := range f.Totals() {
		fmt.Fprintf(tw, "  %s\t%d orders\tNOK %s\t\n", kt.Kind, kt.Orders, kt.Total.NOK())
	}
	tw.Flush()
	const show = 20
	problems := append(slices.Clone(f.Stats.Errors), f.Stats.Warnings...)
	slices.SortStableFunc(problems, func(a, b mapping.RowError) int { return cmp.Compare(a.Row, b.Row) })
	for i, e := range problems {
		if i == show {
			fmt.Fprintf(w, "  … and %d more problems (use --errors-out FILE for all)\n", len(problems)-show)
			break
		}
		fmt.Fprintf(w, "  %s\n", e.Describe(f.Lang()))
	}
	if n := len(f.Stats.Warnings); n > 0 {
		fmt.Fprintf(w, "  %d warnings: those orders are sent without the values named (--strict refuses them)\n", n)
	}
}

func printBatch(w io.Writer, o store.BatchOut, lang msg.Lang) {
	fmt.Fprintf(w, "  batch %d: %d new, %d changed, %d unchanged, %d refused orders; %d submit jobs queued\n",
		o.BatchID, o.Counts[store.OrderNew], o.Counts[store.OrderChanged], o.Counts[store.OrderUnchanged], o.Counts[store.OrderRefused], o.JobsQueued)
	seen := map[string]bool{}
	for _, r := range o.Refused {
		if !seen[r.Value] {
			seen[r.Value] = true
			reason := r.Reason
			if r.MsgID != "" {
				reason = msg.Msg{ID: r.MsgID, Args: r.MsgArgs}.Text(lang)
			}
			fmt.Fprintf(w, "  %s: %s\n", msg.New("label.where", r.Source, r.Row).Text(lang), reason)
		}
	}
}

// writeErrors writes the rejected rows of every file into one error file.
// Files with different headers cannot share one; the first file's header is
// used, and a mismatch is an error telling the user to import them one by one.
func writeErrors(path string, files []*intake.File) error {
	var rows []importers.ErrorRow
	for _, f := range files {
		if strings.Join(files[0].Header, "\x00") != strings.Join(f.Header, "\x00") {
			return errors.New("the files have different columns; run enqueue on one file at a time to get an error file for each")
		}
		rows = append(rows, f.ErrorRows()...)
	}
	return files[0].ErrorFile().Write(path, rows)
}
