// Package inbox imports every new order file dropped in a folder, the
// nightly way: accountants (or an export from another system) put CSV and
// XLSX files in DIR; each run imports each file as its own batch, in its own
// transaction, and only after that transaction committed moves the file:
//
//	DIR/                     new files (oldest first)
//	DIR/processed/           every row accepted, or bytes imported before
//	DIR/failed/              some rows rejected, or the file unreadable, with
//	                         <name>.errors.<ext> (the rejected rows with an
//	                         errors column, to fix and drop in DIR again) or
//	                         <name>.error.txt (why the file could not be read)
//
// A crash mid-file leaves the file where it was and nothing of it recorded
// (the transaction rolls back). A crash after the commit but before the move
// leaves a file whose exact bytes are already imported: the next run finds
// them (intake.Commit reports it Skipped, by SHA-256), imports nothing and
// moves the file on. Nothing in processed/ or failed/ is ever overwritten: a
// name already there gets a timestamp suffix.
package inbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/store"
)

// Folders inside DIR.
const (
	ProcessedDir = "processed"
	FailedDir    = "failed"
)

// DefaultMinAge is how long a file must have been left alone before it is
// imported: a file modified more recently may still be being written (a
// network copy, Excel saving).
const DefaultMinAge = 10 * time.Second

// Options steer a run.
type Options struct {
	// MinAge: files modified less than MinAge ago wait for the next run.
	// 0 takes every file (tests).
	MinAge time.Duration
	// Intake steers reading and validation (default kind, sheet, clock).
	Intake intake.Options
	// Now is the clock for MinAge and for renamed files; nil is time.Now.
	Now func() time.Time
}

// Outcome is where a file went.
type Outcome string

const (
	Processed Outcome = "processed"
	Failed    Outcome = "failed"
)

// FileResult is what happened to one file.
type FileResult struct {
	Name    string  // as it was in DIR
	Outcome Outcome // Processed or Failed
	// File is the file as read and validated; nil when it could not be read.
	File *intake.File
	// Batch is the batch recorded for it; nil when it was not recorded
	// (unreadable, or imported before).
	Batch *store.BatchOut
	// ImportedBefore is the batch that imported these exact bytes before
	// (0 if none): nothing of the file was imported again.
	ImportedBefore int64
	// Err is why the whole file could not be read (then Outcome is Failed).
	Err error
	// RejectedRows counts the rows not imported (mapping's and refused
	// changes), as written to ErrorFile.
	RejectedRows int
	MovedTo      string // the file's new path
	ErrorFile    string // the error file beside it, if any
}

// Message is one line for the operator's log.
func (r FileResult) Message() string {
	var b strings.Builder
	b.WriteString(r.Name)
	b.WriteString(": ")
	switch {
	case r.Err != nil:
		fmt.Fprintf(&b, "cannot be imported: %v", r.Err)
	case r.ImportedBefore != 0:
		fmt.Fprintf(&b, "these exact bytes were imported before (batch %d); skipped", r.ImportedBefore)
		if r.RejectedRows > 0 {
			fmt.Fprintf(&b, "; %d rows of it were rejected", r.RejectedRows)
		}
	case r.Batch != nil:
		c := r.Batch.Counts
		fmt.Fprintf(&b, "batch %d: %d new, %d changed, %d unchanged, %d refused orders; %d rejected rows",
			r.Batch.BatchID, c[store.OrderNew], c[store.OrderChanged], c[store.OrderUnchanged], c[store.OrderRefused], r.RejectedRows)
	}
	if r.MovedTo != "" {
		fmt.Fprintf(&b, "; moved to %s", r.MovedTo)
	}
	if r.ErrorFile != "" {
		fmt.Fprintf(&b, ", errors in %s", r.ErrorFile)
	}
	return b.String()
}

// Result is what a run did.
type Result struct {
	Dir   string
	Files []FileResult // in the order they were imported
	// Waiting are files modified less than MinAge ago, left for the next run.
	Waiting []string
	// Ignored are files that are not .csv or .xlsx (left where they are).
	Ignored []string
}

// Failed counts the files moved to failed/.
func (r *Result) Failed() int {
	n := 0
	for _, f := range r.Files {
		if f.Outcome == Failed {
			n++
		}
	}
	return n
}

// Import imports every new file in dir, oldest first, each its own batch in
// its own transaction, and moves it once committed. It is what both
// `enqueue --inbox` and the worker's scheduled import run; inserter queues
// the submit jobs inside each file's transaction.
//
// A file that cannot be read, or that has rejected rows, goes to failed/; that
// is reported in the result, not as an error. The error is for what stops
// the run (the folder or the database unavailable, a move that fails): the
// file being imported stays in dir, uncommitted; the files before it are
// imported and moved. Runs on one folder are serialised across processes
// (store.LockImport): cron's `enqueue --inbox` and the worker's schedule may
// meet.
func Import(ctx context.Context, pool *pgxpool.Pool, inserter *river.Client[pgx.Tx], dir string, opt Options) (*Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: abs}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("inbox: %s is not a folder", abs)
	}
	for _, sub := range []string{ProcessedDir, FailedDir} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
	}
	key := abs
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		key = real // one folder, however it is named
	}
	unlock, err := store.LockImport(ctx, pool, "inbox:"+key)
	if err != nil {
		return nil, err
	}
	defer unlock()

	now := opt.Now
	if now == nil {
		now = time.Now
	}
	files, err := list(abs, now(), opt.MinAge, res)
	if err != nil {
		return nil, err
	}
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		r, err := importFile(ctx, pool, inserter, abs, name, opt.Intake, now)
		if err != nil {
			return res, err
		}
		if r != nil {
			res.Files = append(res.Files, *r)
		}
	}
	// The run finished (some files may have gone to failed/: still a run).
	return res, store.RecordImportRun(ctx, pool, "inbox:"+key)
}

// list returns the files to import, oldest first (then by name), and notes
// in res the ones that wait or are ignored. Hidden files, Excel's lock files
// (~$name.xlsx) and anything that is not a regular file (processed/,
// failed/, links) are passed over in silence.
func list(dir string, now time.Time, minAge time.Duration, res *Result) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	type entry struct {
		name string
		mod  time.Time
	}
	var files []entry
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") || !e.Type().IsRegular() {
			continue
		}
		if ext := strings.ToLower(filepath.Ext(name)); ext != ".csv" && ext != ".xlsx" {
			res.Ignored = append(res.Ignored, name)
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		if minAge > 0 && now.Sub(info.ModTime()) < minAge {
			res.Waiting = append(res.Waiting, name)
			continue
		}
		files = append(files, entry{name, info.ModTime()})
	}
	slices.SortFunc(files, func(a, b entry) int { return cmp.Or(a.mod.Compare(b.mod), strings.Compare(a.name, b.name)) })
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	return names, nil
}

// importFile reads, commits and moves one file. A nil result with a nil
// error is a file that vanished before it was read.
func importFile(ctx context.Context, pool *pgxpool.Pool, inserter *river.Client[pgx.Tx], dir, name string, opt intake.Options, now func() time.Time) (*FileResult, error) {
	path := filepath.Join(dir, name)
	r := &FileResult{Name: name}
	unreadable := func(err error) (*FileResult, error) {
		// Nothing of the file can be imported; nothing of it was recorded.
		r.Outcome, r.Err = Failed, err
		return r, moveFailed(dir, name, r, now(), func(errPath string) error {
			// For the accountant who dropped it: in the error file's language ("" is bokmål).
			return writeNew(errPath, []byte(intake.ErrorText(name, err, opt.Lang)+"\n"))
		})
	}
	f, err := intake.Open(path, opt)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return unreadable(err)
	}
	r.File = f
	committed, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, intake.CommitOptions{})
	if err != nil {
		if fileFault(err) { // found while streaming the rows; the transaction rolled back
			return unreadable(err)
		}
		return nil, fmt.Errorf("%s: %w (nothing of it was imported; it stays in %s)", name, err, dir)
	}
	var rejected []importers.ErrorRow
	switch {
	case len(committed.Skipped) == 1:
		// The same bytes again: a crash between commit and move, or the
		// same file dropped twice. What was rejected then is rejected still
		// (same bytes, same validation), so the file goes where it would
		// have gone, with its error file.
		r.ImportedBefore = committed.Skipped[0].BatchID
		if err := f.Check(); err != nil {
			if fileFault(err) {
				return unreadable(err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rejected = f.ErrorRows()
	case len(committed.Batches) == 1:
		r.Batch = &committed.Batches[0]
		if rejected, err = errorRows(f, *r.Batch, opt); err != nil {
			return nil, fmt.Errorf("%s: %w (it is imported, batch %d, and stays in %s)", name, err, r.Batch.BatchID, dir)
		}
	default:
		return nil, fmt.Errorf("%s: committed %d batches and skipped %d, want one", name, len(committed.Batches), len(committed.Skipped))
	}
	r.RejectedRows = len(rejected)
	if len(rejected) == 0 {
		r.Outcome = Processed
		return r, moveTo(dir, ProcessedDir, name, "", r, now(), nil)
	}
	r.Outcome = Failed
	return r, moveFailed(dir, name, r, now(), func(errPath string) error {
		return f.ErrorFile().Write(errPath, rejected)
	})
}

// fileFault tells a problem of the file's content (it goes to failed/) from
// one of the run (the database: the file stays and the run stops).
func fileFault(err error) bool {
	var fe *importers.FileError
	var he *mapping.HeaderError
	return errors.As(err, &fe) || errors.As(err, &he)
}

// errorRows are the rows of the file that were not imported: the ones
// mapping rejected, and the rows of orders whose change store refused at
// commit time (an order being sent, or one FP reports paid); for those the
// file is read again, to copy their cells.
func errorRows(f *intake.File, b store.BatchOut, opt intake.Options) ([]importers.ErrorRow, error) {
	rows := f.ErrorRows()
	have := map[int]bool{}
	for _, r := range rows {
		have[r.Number] = true
	}
	extra := map[int][]string{}
	for _, rj := range b.Refused {
		if !have[rj.Row] {
			reason := rj.Reason
			if rj.MsgID != "" {
				reason = msg.Msg{ID: rj.MsgID, Args: rj.MsgArgs}.Text(f.Lang())
			}
			if rj.Column != "" {
				reason = rj.Column + ": " + reason
			}
			extra[rj.Row] = append(extra[rj.Row], reason)
		}
	}
	if len(extra) == 0 {
		return rows, nil
	}
	sheet, err := importers.ReadFile(f.Path, importers.Options{Sheet: opt.Sheet})
	if err != nil {
		return nil, err
	}
	for _, sr := range sheet.Rows {
		if reasons, ok := extra[sr.Number]; ok {
			rows = append(rows, importers.ErrorRow{Number: sr.Number, Cells: sr.Cells, Errors: strings.Join(reasons, "; ")})
		}
	}
	slices.SortFunc(rows, func(a, b importers.ErrorRow) int { return a.Number - b.Number })
	return rows, nil
}

// moveFailed writes the error file into failed/ and then moves the file
// beside it. In that order: a crash in between leaves the file in DIR (it is
// found again, imported before, and moved with a fresh error file), never a
// file in failed/ without its reason.
func moveFailed(dir, name string, r *FileResult, now time.Time, writeErr func(path string) error) error {
	ext := filepath.Ext(name)
	suffix := ".errors" + ext // the rejected rows, in the file's own format
	if r.Err != nil {
		suffix = ".error.txt"
	}
	return moveTo(dir, FailedDir, name, suffix, r, now, writeErr)
}

// moveTo moves DIR/name into DIR/sub under a name that is free there, and
// with it (written first) its error file, named stem+errSuffix. Both names
// must be free: "orders.csv" and "orders.errors.csv" stay a pair, as
// "orders-20261122-020000.csv" and "orders-20261122-020000.errors.csv".
func moveTo(dir, sub, name, errSuffix string, r *FileResult, now time.Time, writeErr func(path string) error) error {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	target := filepath.Join(dir, sub)
	for i := 0; ; i++ {
		if i == 100 {
			return fmt.Errorf("%s: no free name in %s (the file stays in %s)", name, target, dir)
		}
		candidate := stem
		if i > 0 {
			candidate += "-" + now.Format("20060102-150405")
		}
		if i > 1 {
			candidate += "-" + strconv.Itoa(i)
		}
		to := filepath.Join(target, candidate+ext)
		var errPath string
		if errSuffix != "" {
			errPath = filepath.Join(target, candidate+errSuffix)
		}
		if exists(to) || (errPath != "" && exists(errPath)) {
			continue
		}
		if writeErr != nil {
			if err := writeErr(errPath); err != nil {
				return fmt.Errorf("%s: writing %s: %w (the file stays in %s)", name, errPath, err, dir)
			}
			r.ErrorFile = filepath.Join(sub, filepath.Base(errPath))
		}
		// The name was free a moment ago; runs on one folder hold a lock, so
		// only someone else writing into sub/ could take it meanwhile.
		if err := os.Rename(filepath.Join(dir, name), to); err != nil {
			return fmt.Errorf("%s: moving to %s: %w", name, sub, err)
		}
		r.MovedTo = filepath.Join(sub, filepath.Base(to))
		return nil
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
