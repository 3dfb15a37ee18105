package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/frontpayment/fpexport/internal/erp"
	"github.com/frontpayment/fpexport/internal/inbox"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/msg"
)

// importFlags are the command line of an --inbox or --erp run.
type importFlags struct {
	inbox     string
	erp       bool
	dryRun    bool
	strict    bool
	errorsOut string
	minAge    time.Duration // only --inbox
	files     []string
}

// runImport runs `enqueue --inbox DIR` or `enqueue --erp`: the same
// functions the worker's scheduled imports call (inbox.Import, erp.Import).
func runImport(ctx context.Context, fl importFlags, opt intake.Options, getenv func(string) string, stdout, stderr io.Writer) int {
	var problem string
	switch {
	case fl.inbox != "" && fl.erp:
		problem = "--inbox and --erp: one at a time"
	case len(fl.files) > 0:
		problem = "--inbox and --erp take no FILE arguments"
	case fl.strict:
		problem = "--strict cannot be used with --inbox or --erp"
	case fl.errorsOut != "":
		problem = "--errors-out cannot be used with --inbox or --erp (--inbox writes each file's errors beside it in DIR/failed/)"
	case fl.dryRun && fl.inbox != "":
		problem = "--dry-run cannot be used with --inbox (it moves files)"
	}
	if problem != "" {
		fmt.Fprintln(stderr, "enqueue:", problem)
		return exitFatal
	}
	var erpCfg erp.Config
	if fl.erp {
		cfg, configured, problems := erp.FromEnv(getenv)
		if !configured {
			problems = []string{"--erp needs ERP_DATABASE_URL and ERP_QUERY (or ERP_QUERY_FILE); see README.md"}
		}
		if len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintln(stderr, "enqueue:", p)
			}
			return exitFatal
		}
		erpCfg = cfg
	}
	pool, inserter, ok := openDB(ctx, getenv, stderr)
	if !ok {
		return exitFatal
	}
	defer pool.Close()

	if fl.erp {
		res, err := erp.Import(ctx, pool, inserter, erpCfg, erp.Options{Intake: opt, DryRun: fl.dryRun})
		if err != nil {
			fmt.Fprintln(stderr, "\renqueue:", err)
			fmt.Fprintln(stderr, "enqueue: nothing was enqueued; the watermark stays")
			return exitFatal
		}
		return printERP(stdout, res, fl.dryRun)
	}

	res, err := inbox.Import(ctx, pool, inserter, fl.inbox, inbox.Options{MinAge: fl.minAge, Intake: opt})
	code := exitOK
	if res != nil {
		code = printInbox(stdout, res, opt.Lang)
	}
	if err != nil {
		fmt.Fprintln(stderr, "\renqueue:", err)
		return exitFatal
	}
	return code
}

func printInbox(w io.Writer, res *inbox.Result, lang msg.Lang) int {
	code := exitOK
	for _, f := range res.Files {
		switch {
		case f.Err != nil:
			fmt.Fprintf(w, "\r%s: cannot be imported: %s\n", f.Name, intake.ErrorText(f.Name, f.Err, lang))
		case f.ImportedBefore != 0:
			fmt.Fprintf(w, "\r%s: these exact bytes were imported before (batch %d); skipped\n", f.Name, f.ImportedBefore)
		default:
			printFile(w, f.File)
			if f.Batch != nil {
				printBatch(w, *f.Batch, f.File.Lang())
			}
		}
		if f.MovedTo != "" {
			fmt.Fprintf(w, "  → %s", f.MovedTo)
			if f.ErrorFile != "" {
				fmt.Fprintf(w, " (errors: %s)", f.ErrorFile)
			}
			fmt.Fprintln(w)
		}
		if f.Outcome == inbox.Failed {
			code = exitRejected
		}
	}
	if len(res.Waiting) > 0 {
		fmt.Fprintf(w, "left for the next run (modified too recently): %s\n", strings.Join(res.Waiting, ", "))
	}
	if len(res.Ignored) > 0 {
		fmt.Fprintf(w, "ignored (not .csv or .xlsx): %s\n", strings.Join(res.Ignored, ", "))
	}
	fmt.Fprintf(w, "inbox %s: %d files imported, %d of them to %s\n", res.Dir, len(res.Files), res.Failed(), inbox.FailedDir+string(filepath.Separator))
	return code
}

func printERP(w io.Writer, res *erp.Result, dryRun bool) int {
	from := res.From
	if from == "" {
		from = "(first import)"
	}
	if res.File == nil {
		fmt.Fprintf(w, "%s: no rows changed since %s %s\n", res.Source, res.WatermarkColumn, from)
		return exitOK
	}
	printFile(w, res.File)
	code := exitOK
	if res.File.RejectedRowCount() > 0 {
		code = exitRejected
	}
	if res.Batch != nil {
		printBatch(w, *res.Batch, res.File.Lang())
		if len(res.Batch.Refused) > 0 {
			code = exitRejected
		}
	}
	if dryRun {
		fmt.Fprintf(w, "dry run: nothing was written; the watermark stays at %s %s (this run would move it to %s)\n", res.WatermarkColumn, from, res.To)
		return code
	}
	fmt.Fprintf(w, "  watermark %s: %s → %s\n", res.WatermarkColumn, from, res.To)
	return code
}
