// Package intake turns files into recorded batches: it streams a file's
// rows (importers), validates each order as soon as its lines are read
// (mapping), and copies the valid orders into the database, recording the
// batch, its orders, its rejected rows and the submit jobs in one
// transaction (store, River). Memory holds the order being read, not the
// file. It is shared by the enqueue command, the worker's demo, the
// scheduled imports (inbox, ERP) and the web page's upload, so all of them
// import alike; each states what it was told as one Settings (settings.go).
package intake

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/store"
)

// Options steer reading and validation.
type Options struct {
	Sheet   string          // XLSX sheet; "" = the first
	Mapping mapping.Options // default kind, clock, profile, checks
	// Lang is the language of the reasons and warnings in ErrorRows
	// ("" = bokmål).
	Lang msg.Lang
	// Progress, when set, is called every thousand rows with the rows read
	// so far in the current file.
	Progress func(file string, rows int)
}

// File is one input: a file on disk, streamed, or rows already in memory
// (one read of the ERP table). Open reads only its header; Check or Commit
// read the rows and fill Stats.
type File struct {
	Path   string // "" for rows that did not come from a file
	Name   string
	SHA256 string // of the file's bytes; "" for rows that did not come from a file
	Format string // "csv" or "xlsx"
	Comma  rune
	// Encoding is a CSV's text encoding (importers.Encoding…), kept by its
	// error file.
	Encoding string
	Header   []string
	Unknown  []string // header cells that are not canonical columns (ignored, and said so)
	Stats    Stats

	opt   Options
	hm    mapping.HeaderMap
	sheet *importers.Sheet // rows in memory, or nil: stream from Path
	// opened is the stream Open read the header from, kept for the first
	// read of the rows: opening an XLSX again would unpack its sheet again
	// (a third of a second at 100 000 rows). nil once taken or closed.
	opened *importers.Stream
}

// Open checks a file's header: an error here is about the whole file
// (unreadable, not CSV/XLSX, a required column missing), and nothing of it
// can be imported. The file stays open for its first read: Check and
// Commit close it; a File that is neither checked nor committed must be
// closed with Close.
func Open(path string, opt Options) (*File, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	st, err := importers.Open(path, importers.Options{Sheet: opt.Sheet})
	if err != nil {
		return nil, err
	}
	opt.Mapping.Date1904 = opt.Mapping.Date1904 || st.Date1904() // old Mac Excel counts dates from 1904
	hm, unknown, err := mapping.MapHeaderProfile(st.Header(), opt.Mapping.Profile)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("%s: %w", st.File(), err)
	}
	return &File{Path: path, Name: st.File(), SHA256: sum, Format: st.Format(), Comma: st.Comma(), Encoding: st.Encoding(), Header: st.Header(),
		Unknown: unknown, opt: opt, hm: hm, opened: st}, nil
}

// Close releases a file that was opened and not read (for an XLSX,
// excelize's unpacked copy of the sheet). It may be called more than once.
func (f *File) Close() error {
	if f.opened == nil {
		return nil
	}
	err := f.opened.Close()
	f.opened = nil
	return err
}

// Read opens a file and validates all of it without writing anything (what
// a dry run shows).
func Read(path string, opt Options) (*File, error) {
	f, err := Open(path, opt)
	if err != nil {
		return nil, err
	}
	return f, f.Check()
}

// FromSheet takes rows that were read elsewhere (the ERP table).
func FromSheet(sheet *importers.Sheet, opt Options) (*File, error) {
	// A workbook from old Mac Excel counts its serial dates from 1904.
	opt.Mapping.Date1904 = opt.Mapping.Date1904 || sheet.Date1904
	hm, unknown, err := mapping.MapHeaderProfile(sheet.Header, opt.Mapping.Profile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sheet.File, err)
	}
	return &File{Name: sheet.File, Format: sheet.Format, Comma: sheet.Comma, Header: sheet.Header,
		Unknown: unknown, opt: opt, hm: hm, sheet: sheet}, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (f *File) source() (rowSource, error) {
	if f.sheet != nil {
		return &sliceSource{rows: f.sheet.Rows}, nil
	}
	if st := f.opened; st != nil { // positioned after the header, as a new one would be
		f.opened = nil
		return st, nil
	}
	return importers.Open(f.Path, importers.Options{Sheet: f.opt.Sheet})
}

// newEngine starts a read of the file. lastRow nil: expect each order's
// lines to be grouped (the engine says errNotGrouped if not); otherwise
// finish each order at its last row.
func (f *File) newEngine(lastRow map[uint64]int, seed maphash.Seed) (*engine, error) {
	f.Stats = Stats{}
	src, err := f.source()
	if err != nil {
		return nil, err
	}
	e := newEngine(f.Name, f.Header, f.hm, mapping.NewOrderBuilder(f.opt.Mapping), src, lastRow, seed, &f.Stats, f.progress())
	e.lang = f.Lang()
	return e, nil
}

// lastRows indexes, per order reference, the row of its last line.
func (f *File) lastRows(seed maphash.Seed) (map[uint64]int, error) {
	src, err := f.source()
	if err != nil {
		return nil, err
	}
	return indexLastRows(f.Name, f.hm, src, seed)
}

func (f *File) progress() func(int) {
	if f.opt.Progress == nil {
		return nil
	}
	return func(n int) { f.opt.Progress(f.Name, n) }
}

// Check reads and validates the whole file, keeping only counts, totals and
// the rejected rows.
func (f *File) Check() error {
	seed := maphash.MakeSeed()
	var lastRow map[uint64]int
	for {
		e, err := f.newEngine(lastRow, seed)
		if err != nil {
			return err
		}
		if lastRow == nil {
			e.seen = map[uint64]struct{}{}
		}
		err = e.drain()
		if errors.Is(err, errNotGrouped) && lastRow == nil {
			if lastRow, err = f.lastRows(seed); err != nil {
				return err
			}
			continue
		}
		f.Stats.sort()
		return err
	}
}

// Lang is the language of the file's reasons (Options.Lang, bokmål by default).
func (f *File) Lang() msg.Lang { return cmp.Or(f.opt.Lang, msg.NB) }

// RejectedRowCount counts the file's rows that will not be imported.
func (f *File) RejectedRowCount() int { return len(f.Stats.Rejected) }

// ErrorRows are the rejected rows with their reasons, in row order, ready
// for importers.WriteErrorFile.
func (f *File) ErrorRows() []importers.ErrorRow { return f.Stats.Rejected }

// ErrorFile is how the file's error file is written: its header and
// delimiter, its identifier columns as text cells.
func (f *File) ErrorFile() importers.ErrorFile {
	return importers.ErrorFile{Header: f.Header, Comma: cmp.Or(f.Comma, ','), Encoding: f.Encoding, Text: f.hm.Positions(mapping.IdentifierColumns)}
}

// KindTotal is what a file holds for one kind.
type KindTotal struct {
	Kind   fpclient.Kind
	Orders int
	Total  fpclient.Amount
}

// Totals sums the file's valid orders per kind, in the usual kind order.
func (f *File) Totals() []KindTotal {
	var out []KindTotal
	for _, k := range fpclient.Kinds {
		if kt := f.Stats.ByKind[string(k)]; kt != nil {
			out = append(out, *kt)
		}
	}
	return out
}

func (s *Stats) sort() {
	slices.SortStableFunc(s.Errors, func(a, b mapping.RowError) int { return cmp.Compare(a.Row, b.Row) })
	slices.SortStableFunc(s.Rejected, func(a, b importers.ErrorRow) int { return cmp.Compare(a.Number, b.Number) })
}

// CommitOptions steer Commit.
type CommitOptions struct {
	// Strict: if any row of any file is rejected, nothing is recorded.
	Strict bool
	// InTx runs inside the import's transaction before it commits (the ERP
	// reader moves its watermark there, so rows and watermark move together).
	InTx func(ctx context.Context, tx pgx.Tx) error
}

// Committed is the result of Commit.
type Committed struct {
	Batches []store.BatchOut
	// Skipped are files whose exact bytes were imported before, with the
	// batch that imported them: nothing of them is imported again.
	Skipped []SkippedFile
	// RolledBack: Strict found rejected rows, and nothing was recorded.
	RolledBack bool
}

// SkippedFile is a file recognised as already imported.
type SkippedFile struct {
	File    *File
	BatchID int64
}

// Rejected counts the rejected rows of all committed files (refused changes included).
func (c *Committed) Rejected() int {
	n := 0
	for _, b := range c.Batches {
		n += len(b.Refused)
	}
	return n
}

// Commit records every file as a batch, with its orders, rejected rows and
// submit jobs, in ONE transaction: all of it or, on any error, none of it.
// Each file's rows are streamed: its valid orders are copied into a staging
// table as they are read, then merged into orders set-wise. inserter may be
// a River client that never starts (enqueue) or the worker's own.
func Commit(ctx context.Context, pool *pgxpool.Pool, inserter *river.Client[pgx.Tx], files []*File, opt CommitOptions) (*Committed, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	defer func() {                                // those skipped or not reached
		for _, f := range files {
			f.Close()
		}
	}()
	res := &Committed{}
	rejected := 0
	for _, f := range files {
		if f.SHA256 != "" {
			id, found, err := store.BatchBySHA256(ctx, tx, f.SHA256)
			if err != nil {
				return nil, err
			}
			if found {
				res.Skipped = append(res.Skipped, SkippedFile{File: f, BatchID: id})
				continue
			}
		}
		out, err := commitFile(ctx, tx, inserter, f)
		if err != nil {
			return nil, err
		}
		rejected += f.RejectedRowCount() + len(out.Refused)
		res.Batches = append(res.Batches, out)
	}
	if opt.Strict && rejected > 0 {
		res.RolledBack = true
		return res, nil // the deferred rollback undoes everything
	}
	if opt.InTx != nil {
		if err := opt.InTx(ctx, tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

func commitFile(ctx context.Context, tx pgx.Tx, inserter *river.Client[pgx.Tx], f *File) (store.BatchOut, error) {
	batchID, err := store.BeginBatch(ctx, tx, f.Name, f.SHA256, string(f.opt.Mapping.DefaultKind))
	if err != nil {
		return store.BatchOut{}, err
	}
	if err := store.SetBatchLayout(ctx, tx, batchID, f.Header, f.Comma, f.Format); err != nil {
		return store.BatchOut{}, err
	}
	// The rows go in under a savepoint: if the file must be read again (its
	// order lines are not grouped), what was written is undone, not the batch.
	seed := maphash.MakeSeed()
	var lastRow map[uint64]int
	var out store.BatchOut
	for {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return out, err
		}
		out, err = f.stream(ctx, sp, inserter, batchID, lastRow, seed)
		if err != nil {
			_ = sp.Rollback(ctx)
			if errors.Is(err, errNotGrouped) && lastRow == nil {
				if lastRow, err = f.lastRows(seed); err != nil {
					return out, err
				}
				continue
			}
			return out, fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := sp.Commit(ctx); err != nil {
			return out, err
		}
		break
	}
	cells := make(map[int][]string, len(f.Stats.Rejected))
	for _, r := range f.Stats.Rejected {
		cells[r.Number] = r.Cells
	}
	var rejected []store.RejectedRow
	for _, e := range f.Stats.Errors {
		if e.Warning {
			continue
		}
		key := f.Stats.orderOf[e.Row]
		rejected = append(rejected, store.RejectedRow{Source: f.Name, Row: e.Row, Column: e.Column, Value: e.Value, Reason: e.Reason,
			Header: e.Header, MsgID: e.Msg.ID, MsgArgs: e.Msg.Args, Note: e.Note, Cells: cells[e.Row], Kind: key.Kind, Ref: key.Ref})
	}
	if err := store.FinishBatch(ctx, tx, &out, f.Stats.Rows, rejected); err != nil {
		return out, fmt.Errorf("%s: %w", f.Name, err)
	}
	return out, nil
}

// chunkSize is how many orders go to the database at a time.
const chunkSize = 2500

// stream reads the file in one goroutine while this one writes what was
// read, a chunk at a time: the orders are copied into the staging table,
// merged into orders, and their submit jobs inserted. Reading (CPU in this
// process) and writing (mostly the database's) then overlap, and memory
// holds a few chunks, not the file.
func (f *File) stream(ctx context.Context, tx pgx.Tx, inserter *river.Client[pgx.Tx], batchID int64, lastRow map[uint64]int, seed maphash.Seed) (store.BatchOut, error) {
	out := store.BatchOut{BatchID: batchID, Counts: map[store.Outcome]int{}}
	// Only when earlier batches left rejections open can this one close
	// some; most imports then skip the per-chunk look.
	resolve, err := store.HasOpenRejections(ctx, tx, batchID)
	if err != nil {
		return out, err
	}
	e, err := f.newEngine(lastRow, seed)
	if err != nil {
		return out, err
	}
	groups := make(chan []group, 2)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		defer close(groups)
		defer e.src.Close()
		readErr <- readChunks(e, groups, stop)
	}()
	var writeErr error
	write := func(rows [][]any) {
		if writeErr != nil || len(rows) == 0 {
			return
		}
		if writeErr = writeChunk(ctx, tx, inserter, &out, rows, resolve); writeErr != nil {
			close(stop)
		}
	}
	// Where checking runs depends on what holds the import back on a
	// two-core machine. An XLSX is held back by excelize's reader, which
	// needs a core to itself: checking takes turns with the database's work
	// here, so at most one of them competes with the reader at a time (as
	// a third stage it cost the reader about a fifth of its core). A CSV
	// reads fast and the database is the slow part: checking gets a
	// goroutine of its own and overlaps the database's work.
	// Always let the reader finish before returning: it writes f.Stats.
	if f.Format == "xlsx" {
		for gs := range groups {
			if writeErr == nil {
				write(e.stagingRows(gs))
			}
		}
	} else {
		chunks := make(chan [][]any, 2)
		go func() {
			defer close(chunks)
			for gs := range groups {
				select {
				case chunks <- e.stagingRows(gs):
				case <-stop:
					for range groups { // let the reader see stop and end
					}
					return
				}
			}
		}()
		for rows := range chunks {
			write(rows)
		}
	}
	if err := <-readErr; writeErr == nil && err != nil {
		return out, err
	}
	if writeErr != nil {
		return out, writeErr
	}
	f.Stats.sort()
	return out, nil
}

// readChunks sends the engine's order groups in chunks until the input ends, an
// error, or stop.
func readChunks(e *engine, chunks chan<- []group, stop <-chan struct{}) error {
	chunk := make([]group, 0, chunkSize)
	send := func() bool {
		select {
		case chunks <- chunk:
			chunk = make([]group, 0, chunkSize)
			return true
		case <-stop:
			return false
		}
	}
	for {
		g, err := e.nextGroup()
		if err == io.EOF {
			if len(chunk) > 0 && !send() {
				return context.Canceled
			}
			return nil
		}
		if err != nil {
			return err
		}
		chunk = append(chunk, g)
		if len(chunk) == chunkSize && !send() {
			return context.Canceled
		}
	}
}

// writeChunk stages, merges and queues one chunk of orders (staging rows).
func writeChunk(ctx context.Context, tx pgx.Tx, inserter *river.Client[pgx.Tx], out *store.BatchOut, chunk [][]any, resolve bool) error {
	// Orders not yet known go straight into orders; only the others (a
	// re-import, a correction) take the staging table and the set-wise
	// merge. A key twice in the chunk (here), or one this batch already has
	// (orders.MergeStaged), means the file's order lines are not grouped.
	keys := make([]store.OrderKey, len(chunk))
	seen := make(map[store.OrderKey]bool, len(chunk))
	for i, r := range chunk {
		keys[i] = store.OrderKey{Kind: r[0].(string), Ref: r[1].(string)}
		if seen[keys[i]] {
			return errNotGrouped
		}
		seen[keys[i]] = true
	}
	existing, err := store.ExistingOrders(ctx, tx, keys)
	if err != nil {
		return err
	}
	var fresh, known [][]any
	for i, r := range chunk {
		if existing[keys[i]] {
			known = append(known, r)
		} else {
			fresh = append(fresh, r)
		}
	}
	var jobRefs []store.JobRef
	if len(fresh) > 0 {
		refs, err := store.InsertNewOrders(ctx, tx, out.BatchID, fresh)
		if err != nil {
			return err
		}
		out.Counts[store.OrderNew] += len(refs)
		jobRefs = refs
	}
	if len(known) > 0 {
		if err := store.ClearStaging(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{store.StagingTable}, store.StagingColumns, pgx.CopyFromRows(known)); err != nil {
			return err
		}
		part, err := orders.MergeStaged(ctx, tx, out.BatchID, len(known))
		if errors.Is(err, store.ErrSplitOrder) {
			return errNotGrouped
		}
		if err != nil {
			return err
		}
		for k, n := range part.Counts {
			out.Counts[k] += n
		}
		out.Refused = append(out.Refused, part.Refused...)
		jobRefs = append(jobRefs, part.Jobs...)
		if resolve && len(part.Refused) > 0 {
			// A change refused again resolves nothing: its rows stay open.
			refused := map[store.OrderKey]bool{}
			for _, r := range part.Refused {
				refused[store.OrderKey{Kind: r.Kind, Ref: r.Ref}] = true
			}
			keys = slices.DeleteFunc(keys, func(k store.OrderKey) bool { return refused[k] })
		}
	}
	// This chunk's orders, taken, close what earlier batches rejected of them.
	if resolve {
		if _, err := store.ResolveRejected(ctx, tx, out.BatchID, keys); err != nil {
			return err
		}
	}
	if len(jobRefs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(jobRefs))
	for i, j := range jobRefs {
		params[i] = river.InsertManyParams{Args: jobargs.SubmitOrderArgs{OrderID: j.OrderID, Version: j.Version}}
	}
	// Fast (COPY) insert: every (order, version) here is new, so no unique
	// conflict can abort it.
	if _, err := inserter.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queueing submit jobs: %w", err)
	}
	out.JobsQueued += len(jobRefs)
	return nil
}

// stagingRows checks a chunk of order groups and returns the valid orders
// as staging rows; rejected rows go to the engine's stats.
func (e *engine) stagingRows(gs []group) [][]any {
	rows := make([][]any, 0, len(gs))
	for _, g := range gs {
		if o, ok := e.validate(g); ok {
			rows = append(rows, stagingRow(o))
		}
	}
	return rows
}

// stagingRow is an order as a row of the staging table.
func stagingRow(o mapping.Order) []any {
	data, fingerprint := o.Content()
	rows := make([]int32, len(o.Rows))
	for i, r := range o.Rows {
		rows[i] = int32(r)
	}
	return []any{string(o.Kind), o.Ref, o.Source, rows, o.Customer.Name, int64(o.Totals().GrandTotal), data, fingerprint}
}
