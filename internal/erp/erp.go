// Package erp imports orders from an ERP's PostgreSQL database: a configured
// query returns one row per order line under the canonical column names (the
// same as a spreadsheet's, samples/README.md), and the rows are validated and
// recorded like a file's, through intake.
//
// Each run reads only what changed: the query takes a watermark as $1 (the
// highest updated_at, or id, imported so far) and returns every line of every
// order changed after it. The new watermark is the highest value of the
// watermark column in the result; it is stored in our database
// (import_watermarks) in the same transaction as the batch, so rows and
// watermark are recorded together, and an import that fails leaves the
// watermark where it was. A changed order is read again whole and recorded as
// a new version (store.MergeStaged); an order FP already has is sent again with
// fpgoUuid, updating FP's order.
//
// The ERP database is never written: the connection is opened with
// default_transaction_read_only and the query runs in a READ ONLY, REPEATABLE
// READ transaction (one consistent snapshot of all lines), so a query that
// tries to write fails with "cannot execute … in a read-only transaction".
package erp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
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
	"github.com/frontpayment/fpexport/internal/store"
)

// DefaultWatermarkColumn is the watermark column when none is configured.
const DefaultWatermarkColumn = "updated_at"

// Config says where and how to read.
type Config struct {
	// URL is the ERP's PostgreSQL (ERP_DATABASE_URL). A user with SELECT
	// rights only is best; fpexport does not rely on it.
	URL string
	// Query returns the order lines changed after $1, with canonical column
	// names and the watermark column (ERP_QUERY or ERP_QUERY_FILE).
	Query string
	// WatermarkColumn names the result column holding the watermark
	// (ERP_WATERMARK_COLUMN, default updated_at): a timestamp, date or
	// integer. Unless it is also a canonical column, it is not part of the
	// order.
	WatermarkColumn string
}

// Options steer one import.
type Options struct {
	// Intake steers validation (default kind, clock, profile). Its Sheet is
	// not used.
	Intake intake.Options
	// DryRun reads and validates, and records nothing: no batch, no jobs,
	// the watermark stays.
	DryRun bool
}

// Result says what one import did.
type Result struct {
	Source          string // "erp:<host>/<database>", the batch's source and the watermark's key
	WatermarkColumn string
	From            string // watermark the query was given; "" on the first import
	To              string // watermark after this import; == From when nothing moved it
	// File holds the rows read, validated; nil when the query returned none.
	File *intake.File
	// Batch is what was recorded; nil when nothing was (no rows, dry run).
	Batch *store.BatchOut
}

// SourceName is the name an ERP's rows are recorded under: "erp:" with the
// host (and port, unless 5432) and database of url; no user, no password.
// It keys the watermark, so every process importing the same ERP must use
// the same host name in ERP_DATABASE_URL.
func SourceName(url string) (string, error) {
	c, err := pgx.ParseConfig(url)
	if err != nil {
		return "", fmt.Errorf("ERP_DATABASE_URL: %w", err)
	}
	host := c.Host
	if c.Port != 0 && c.Port != 5432 {
		host += ":" + strconv.Itoa(int(c.Port))
	}
	return "erp:" + host + "/" + c.Database, nil
}

// maxRows bounds one read, as importers bounds a file.
const maxRows = importers.DefaultMaxRows

// Import reads the rows changed since the last import and records them as
// one batch with the new watermark, in one transaction. It is what both
// `enqueue --erp` and the worker's scheduled import run. inserter queues the
// submit jobs inside that transaction.
//
// Runs of one source are serialised across processes (store.LockImport), and
// the watermark is compare-and-set, so overlapping runs never import a row
// twice. Rows the query returns again (siblings of a changed line, or a
// deliberate overlap) are recognised order by order as unchanged.
func Import(ctx context.Context, pool *pgxpool.Pool, inserter *river.Client[pgx.Tx], cfg Config, opt Options) (*Result, error) {
	source, err := SourceName(cfg.URL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Query) == "" {
		return nil, errors.New("ERP_QUERY: empty")
	}
	res := &Result{Source: source, WatermarkColumn: strings.ToLower(cmp.Or(strings.TrimSpace(cfg.WatermarkColumn), DefaultWatermarkColumn))}
	if !opt.DryRun {
		unlock, err := store.LockImport(ctx, pool, source)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	prev, found, err := store.Watermark(ctx, pool, source)
	if err != nil {
		return nil, err
	}
	res.From, res.To = prev, prev

	loc := opt.Intake.Mapping.Location
	if loc == nil {
		if loc, err = time.LoadLocation("Europe/Oslo"); err != nil {
			return nil, err
		}
	}
	sheet, next, err := read(ctx, cfg.URL, cfg.Query, res.WatermarkColumn, source, prev, found, loc)
	if err != nil {
		return nil, err
	}
	if len(sheet.Rows) == 0 {
		return res, recordRun(ctx, pool, source, opt)
	}
	f, err := intake.FromSheet(sheet, opt.Intake)
	if err != nil {
		return nil, err // a header problem: nothing imported, the watermark stays
	}
	res.File = f
	if opt.DryRun {
		res.To = cmp.Or(next, prev)
		return res, f.Check()
	}
	var commitOpt intake.CommitOptions
	if next != "" {
		commitOpt.InTx = func(ctx context.Context, tx pgx.Tx) error {
			return store.AdvanceWatermark(ctx, tx, source, prev, found, next)
		}
	}
	committed, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, commitOpt)
	if err != nil {
		return nil, err
	}
	if len(committed.Batches) != 1 {
		return nil, fmt.Errorf("%s: recorded %d batches, want 1", source, len(committed.Batches))
	}
	res.Batch = &committed.Batches[0]
	res.To = cmp.Or(next, prev)
	return res, recordRun(ctx, pool, source, opt)
}

// recordRun notes a finished run, for the alert on an import that stopped
// running; a dry run imports nothing and is not one.
func recordRun(ctx context.Context, pool *pgxpool.Pool, source string, opt Options) error {
	if opt.DryRun {
		return nil
	}
	return store.RecordImportRun(ctx, pool, source)
}

// read runs the query in a read-only transaction on the ERP and returns its
// rows as a sheet (row N is the result's N-th row, so problems are named
// "erp:<host>/<db> row N"), and the highest watermark among them, never
// lower than prev ("" when there is none).
func read(ctx context.Context, url, query, wmColumn, source, prev string, found bool, loc *time.Location) (*importers.Sheet, string, error) {
	pc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, "", fmt.Errorf("ERP_DATABASE_URL: %w", err)
	}
	// Read-only twice over: the session default, and the transaction below.
	pc.RuntimeParams["default_transaction_read_only"] = "on"
	if pc.RuntimeParams["application_name"] == "" {
		pc.RuntimeParams["application_name"] = "fpexport"
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, "", fmt.Errorf("ERP: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, "", fmt.Errorf("ERP: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only: nothing to keep

	sd, err := tx.Prepare(ctx, "fpexport_erp_query", query)
	if err != nil {
		return nil, "", fmt.Errorf("ERP_QUERY: %w", err)
	}
	typeName := func(oid uint32) string {
		if t, ok := conn.TypeMap().TypeForOID(oid); ok {
			return t.Name
		}
		return "oid " + strconv.FormatUint(uint64(oid), 10)
	}
	if len(sd.ParamOIDs) != 1 {
		return nil, "", fmt.Errorf("ERP_QUERY takes %d parameters; it must take exactly one, $1, the watermark (read rows changed after $1)", len(sd.ParamOIDs))
	}
	arg := prev
	if !found {
		first, ok := firstWatermark[sd.ParamOIDs[0]]
		if !ok {
			return nil, "", fmt.Errorf("ERP_QUERY: $1 is of type %s; the watermark must be a timestamp, date or integer (cast it, e.g. $1::timestamptz)", typeName(sd.ParamOIDs[0]))
		}
		arg = first
	}
	wm := -1
	var names []string
	for i, fd := range sd.Fields {
		names = append(names, fd.Name)
		if strings.EqualFold(fd.Name, wmColumn) {
			wm = i
		}
	}
	if wm < 0 {
		return nil, "", fmt.Errorf("ERP_QUERY returns no column %s (ERP_WATERMARK_COLUMN); its columns: %s", wmColumn, strings.Join(names, ", "))
	}
	wmOID := sd.Fields[wm].DataTypeOID
	if !watermarkTypes[wmOID] {
		return nil, "", fmt.Errorf("ERP_QUERY: watermark column %s is of type %s; it must be a timestamp, date or integer", wmColumn, typeName(wmOID))
	}
	var high mark
	if found {
		if high, err = parseMark(prev, wmOID); err != nil {
			return nil, "", fmt.Errorf("the stored watermark %q of %s does not fit column %s (%s); if the query changed, delete it to read everything again: DELETE FROM import_watermarks WHERE source = '%s'",
				prev, source, wmColumn, typeName(wmOID), source)
		}
	}

	// The watermark column is bookkeeping, not part of the order (unless it
	// is a canonical column itself).
	keep := make([]bool, len(sd.Fields))
	sheet := &importers.Sheet{File: source, Format: "sql"}
	for i, fd := range sd.Fields {
		keep[i] = i != wm || slices.Contains(mapping.CanonicalColumns, strings.ToLower(fd.Name))
		if keep[i] {
			sheet.Header = append(sheet.Header, fd.Name)
		}
	}
	rows, err := tx.Query(ctx, sd.Name, arg)
	if err != nil {
		return nil, "", fmt.Errorf("ERP_QUERY: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		n := len(sheet.Rows) + 1
		if n > maxRows {
			return nil, "", fmt.Errorf("%s: more than %d rows in one read; narrow the query", source, maxRows)
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, "", fmt.Errorf("%s row %d: %w", source, n, err)
		}
		cells := make([]string, 0, len(sheet.Header))
		for i, v := range vals {
			if i == wm {
				m, ok, err := markOf(v, wmOID)
				if err != nil {
					return nil, "", fmt.Errorf("%s row %d, column %s: %w", source, n, sd.Fields[i].Name, err)
				}
				if ok && (high.text == "" || high.less(m)) {
					high = m
				}
			}
			if !keep[i] {
				continue
			}
			s, err := cellText(v, sd.Fields[i].DataTypeOID, loc)
			if err != nil {
				return nil, "", fmt.Errorf("%s row %d, column %s: %w", source, n, sd.Fields[i].Name, err)
			}
			cells = append(cells, s)
		}
		sheet.Rows = append(sheet.Rows, importers.Row{Number: n, Cells: cells})
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("ERP_QUERY: %w", err)
	}
	return sheet, high.text, nil
}

// FromEnv reads the ERP settings: ERP_DATABASE_URL, ERP_QUERY or
// ERP_QUERY_FILE (the file is read now), ERP_WATERMARK_COLUMN. configured is
// false when none is set. Each problem is one line naming its variable; no
// line repeats the URL (it may hold a password).
func FromEnv(getenv func(string) string) (cfg Config, configured bool, problems []string) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	cfg = Config{URL: get("ERP_DATABASE_URL"), Query: get("ERP_QUERY"), WatermarkColumn: get("ERP_WATERMARK_COLUMN")}
	file := get("ERP_QUERY_FILE")
	if cfg.URL == "" && cfg.Query == "" && file == "" && cfg.WatermarkColumn == "" {
		return cfg, false, nil
	}
	if cfg.URL == "" {
		problems = append(problems, "ERP_DATABASE_URL: required when ERP_QUERY, ERP_QUERY_FILE or ERP_WATERMARK_COLUMN is set")
	} else if _, err := pgx.ParseConfig(cfg.URL); err != nil {
		problems = append(problems, "ERP_DATABASE_URL: not a PostgreSQL connection string")
	}
	switch {
	case cfg.Query != "" && file != "":
		problems = append(problems, "ERP_QUERY, ERP_QUERY_FILE: set one, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			problems = append(problems, "ERP_QUERY_FILE: "+err.Error())
		}
		cfg.Query = strings.TrimSpace(string(b))
		if err == nil && cfg.Query == "" {
			problems = append(problems, "ERP_QUERY_FILE: the file is empty")
		}
	case cfg.Query == "":
		problems = append(problems, "ERP_QUERY: required (or ERP_QUERY_FILE): the SQL that returns the order lines changed after $1")
	}
	if cfg.Query != "" && !strings.Contains(cfg.Query, "$1") {
		problems = append(problems, "ERP_QUERY: must use $1, the watermark, to read only rows changed after it")
	}
	cfg.Query = strings.TrimSuffix(strings.TrimSpace(cfg.Query), ";")
	return cfg, true, problems
}
