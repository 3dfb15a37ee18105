package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/logging"
	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

const statusUsage = `usage:
  worker status [--days N] [--format text|json]   batches of the last N days (default 7) and River's queues
  worker status BATCH [--format text|json]        the batch's orders
`

// maxBatchOrders bounds `worker status BATCH`; a larger batch is better read
// in the report.
const maxBatchOrders = 100_000

// cmdStatus shows what the worker is doing: recent batches with their
// orders per status and the queues, or one batch's orders.
func cmdStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, statusUsage) }
	days := fs.Int("days", 7, "show the batches imported in the last N days")
	format := fs.String("format", "text", "text or json")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return errUsage
	}
	usageErr := func(msg string) error {
		fmt.Fprintf(stderr, "worker status: %s\n\n%s", msg, statusUsage)
		return errUsage
	}
	if *format != "text" && *format != "json" {
		return usageErr("--format must be text or json")
	}
	if *days < 1 {
		return usageErr("--days must be 1 or more")
	}
	if len(pos) > 1 {
		return usageErr("at most one BATCH")
	}
	var batchID int64
	if len(pos) == 1 {
		if batchID, err = strconv.ParseInt(pos[0], 10, 64); err != nil || batchID <= 0 {
			return usageErr(fmt.Sprintf("BATCH must be a batch number (as `worker status` lists them), not %q", pos[0]))
		}
	}

	cfg, pool, err := openCommandDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	if batchID != 0 {
		return showBatch(ctx, pool, batchID, *format, cfg.Location, stdout)
	}
	return showOverview(ctx, pool, *days, *format, cfg.Location, stdout)
}

// showOverview prints the batches of the last days and the queues.
func showOverview(ctx context.Context, pool *pgxpool.Pool, days int, format string, loc *time.Location, w io.Writer) error {
	batches, err := store.BatchesSince(ctx, pool, time.Now().AddDate(0, 0, -days))
	if err != nil {
		return err
	}
	queues, err := store.QueueStats(ctx, pool)
	if err != nil {
		return err
	}
	rows := queueRows(queues)
	if format == "json" {
		out := struct {
			Days    int              `json:"days"`
			Batches []batchJSON      `json:"batches"`
			Queues  []queueDepthJSON `json:"queues"`
		}{Days: days, Batches: []batchJSON{}, Queues: rows}
		for _, b := range batches {
			out.Batches = append(out.Batches, toBatchJSON(b, loc))
		}
		return writeIndentedJSON(w, out)
	}

	var b strings.Builder
	if len(batches) == 0 {
		fmt.Fprintf(&b, "no batches imported in the last %d days\n", days)
	} else {
		fmt.Fprintf(&b, "batches imported in the last %d days, newest first:\n", days)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BATCH\tIMPORTED\tSOURCE\tROWS\tREJECTED\tOPEN\tORDERS\tNOK\tBY STATUS")
		for _, bt := range batches {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", bt.ID, bt.ImportedAt.In(loc).Format("2006-01-02 15:04"),
				oneLine(bt.Source), bt.RowsTotal, bt.RowsRejected, bt.RowsRejectedOpen, bt.Orders, report.NOK(bt.TotalOre), byStatusLine(bt.ByStatus))
		}
		tw.Flush()
	}
	b.WriteString("\nqueues (River jobs not finished):\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE\tAVAILABLE\tSCHEDULED\tRETRYABLE\tRUNNING\tOLDEST")
	for _, q := range rows {
		oldest := "-"
		if q.Available+q.Scheduled+q.Retryable+q.Running > 0 {
			oldest = age(time.Duration(q.OldestAgeSeconds * float64(time.Second)))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", q.Queue, q.Available, q.Scheduled, q.Retryable, q.Running, oldest)
	}
	tw.Flush()
	_, err = io.WriteString(w, b.String())
	return err
}

// showBatch prints one batch and its orders.
func showBatch(ctx context.Context, pool *pgxpool.Pool, id int64, format string, loc *time.Location, w io.Writer) error {
	bt, err := store.BatchByID(ctx, pool, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no batch %d (`worker status` lists the recent ones)", id)
	}
	if err != nil {
		return err
	}
	orders, err := store.BatchOrders(ctx, pool, id, maxBatchOrders)
	if err != nil {
		return err
	}
	if format == "json" {
		out := struct {
			Batch  batchJSON        `json:"batch"`
			Orders []batchOrderJSON `json:"orders"`
		}{Batch: toBatchJSON(bt, loc), Orders: []batchOrderJSON{}}
		for _, o := range orders {
			out.Orders = append(out.Orders, batchOrderJSON{OrderID: o.ID, SourceRow: o.SourceRow, Kind: o.Kind, OrderRef: o.OrderRef,
				CustomerName: o.CustomerName, GrandTotal: json.Number(report.NOK(o.TotalOre)), GrandTotalOre: o.TotalOre,
				Status: o.Status, FPStatus: orNull(o.FPStatus), FPOrderUUID: orNull(o.FPOrderUUID), Attempts: o.Attempts,
				LastError: orNull(logging.MaskPersonalNumbers(o.LastError)), StatusAt: o.StatusAt.In(loc)})
		}
		return writeIndentedJSON(w, out)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "batch %d: %s, imported %s; %d rows, %d rejected, %d of them open (listed in the report); %d orders, NOK %s: %s\n\n",
		bt.ID, oneLine(bt.Source), bt.ImportedAt.In(loc).Format("2006-01-02 15:04"), bt.RowsTotal, bt.RowsRejected, bt.RowsRejectedOpen,
		bt.Orders, report.NOK(bt.TotalOre), byStatusLine(bt.ByStatus))
	if len(orders) == 0 {
		b.WriteString("no orders: none of its orders is valid, or later batches brought newer versions of them\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROW\tKIND\tORDER_REF\tCUSTOMER\tNOK\tSTATUS\tFP STATUS\tATTEMPTS\tSINCE\tLAST ERROR")
		for _, o := range orders {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", o.ID, o.SourceRow, o.Kind, oneLine(o.OrderRef),
				oneLine(o.CustomerName), report.NOK(o.TotalOre), o.Status, dash(o.FPStatus), o.Attempts,
				o.StatusAt.In(loc).Format("2006-01-02 15:04"), dash(shorten(logging.MaskPersonalNumbers(oneLine(o.LastError)), 100)))
		}
		tw.Flush()
		if len(orders) == maxBatchOrders {
			fmt.Fprintf(&b, "(the first %d orders; the report lists all)\n", maxBatchOrders)
		}
	}
	if n := bt.ByStatus[string(orderstate.Failed)]; n > 0 {
		fmt.Fprintf(&b, "\n%d failed order(s): `worker retry %d` sends them again\n", n, bt.ID)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

type batchJSON struct {
	BatchID       int64          `json:"batch_id"`
	Source        string         `json:"source"`
	ImportedAt    time.Time      `json:"imported_at"`
	Rows          int            `json:"rows"`
	RowsRejected  int            `json:"rows_rejected"`
	OpenRejected  int            `json:"rows_rejected_open"` // not yet fixed by a later import
	Orders        int            `json:"orders"`
	GrandTotal    json.Number    `json:"grand_total"` // NOK, two decimals, exact
	GrandTotalOre int64          `json:"grand_total_ore"`
	ByStatus      map[string]int `json:"by_status"`
}

func toBatchJSON(b store.BatchSummary, loc *time.Location) batchJSON {
	by := b.ByStatus
	if by == nil {
		by = map[string]int{}
	}
	return batchJSON{BatchID: b.ID, Source: b.Source, ImportedAt: b.ImportedAt.In(loc), Rows: b.RowsTotal, RowsRejected: b.RowsRejected, OpenRejected: b.RowsRejectedOpen,
		Orders: b.Orders, GrandTotal: json.Number(report.NOK(b.TotalOre)), GrandTotalOre: b.TotalOre, ByStatus: by}
}

type batchOrderJSON struct {
	OrderID       int64       `json:"order_id"`
	SourceRow     int         `json:"source_row"`
	Kind          string      `json:"kind"`
	OrderRef      string      `json:"order_ref"`
	CustomerName  string      `json:"customer_name"`
	GrandTotal    json.Number `json:"grand_total"`
	GrandTotalOre int64       `json:"grand_total_ore"`
	Status        string      `json:"status"`
	FPStatus      *string     `json:"fp_status"`
	FPOrderUUID   *string     `json:"fp_order_uuid"`
	Attempts      int         `json:"attempts"`
	LastError     *string     `json:"last_error"`
	StatusAt      time.Time   `json:"status_at"`
}

// queueDepthJSON is one River queue's unfinished jobs.
type queueDepthJSON struct {
	Queue            string  `json:"queue"`
	Available        int64   `json:"available"`
	Scheduled        int64   `json:"scheduled"`
	Retryable        int64   `json:"retryable"`
	Running          int64   `json:"running"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"` // 0 when empty
}

// queueRows folds the per-state counts into one row per queue; the
// worker's own queues are listed even when empty.
func queueRows(stats []store.QueueStat) []queueDepthJSON {
	byQueue := map[string]*queueDepthJSON{}
	for _, q := range []string{jobs.QueueSubmit, jobs.QueueCallbacks, river.QueueDefault} {
		byQueue[q] = &queueDepthJSON{Queue: q}
	}
	for _, s := range stats {
		r := byQueue[s.Queue]
		if r == nil {
			r = &queueDepthJSON{Queue: s.Queue}
			byQueue[s.Queue] = r
		}
		switch s.State {
		case "available":
			r.Available = s.Jobs
		case "scheduled":
			r.Scheduled = s.Jobs
		case "retryable":
			r.Retryable = s.Jobs
		case "running":
			r.Running = s.Jobs
		}
		r.OldestAgeSeconds = max(r.OldestAgeSeconds, s.OldestAge.Seconds())
	}
	var out []queueDepthJSON
	for _, q := range slices.Sorted(maps.Keys(byQueue)) {
		out = append(out, *byQueue[q])
	}
	return out
}

// byStatusLine is "paid 20, sent 15, failed 5" in the order of the
// statuses' life (orderstate.All), unknown ones last.
func byStatusLine(by map[string]int) string {
	var parts []string
	seen := map[string]bool{}
	for _, s := range orderstate.All {
		if n := by[string(s)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
		seen[string(s)] = true
	}
	for _, s := range slices.Sorted(maps.Keys(by)) {
		if !seen[s] && by[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, by[s]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

const retryUsage = `usage:
  worker retry BATCH [--note TEXT] [--by NAME]   send the batch's failed orders again
  worker retry ORDER [--note TEXT] [--by NAME]   send one failed order again

BATCH is a batch number (as worker status lists them). ORDER is kind:order_ref,
or an order_ref only one order has (not a bare number: that is a batch).
Only orders in failed are sent again; needs_review has worker review.
`

// cmdRetry sends failed orders again on purpose: every submit attempt
// failed (FP never created them), and the operator has fixed the cause.
// Each order goes back to queued with a new version, its event and its
// submit job in one transaction; a running `worker run` sends it.
func cmdRetry(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker retry", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, retryUsage) }
	note := fs.String("note", "", "why: kept in each order's event")
	by := fs.String("by", getenv("USER"), "who decided (default $USER)")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return errUsage
	}
	usageErr := func(msg string) error {
		fmt.Fprintf(stderr, "worker retry: %s\n\n%s", msg, retryUsage)
		return errUsage
	}
	if len(pos) != 1 {
		return usageErr(fmt.Sprintf("want one BATCH or ORDER, got %d", len(pos)))
	}
	d := store.RetryDecision{ReviewDecision: store.ReviewDecision{By: strings.TrimSpace(*by), Note: strings.TrimSpace(*note)}}
	if d.By == "" {
		return usageErr("--by is empty and $USER is not set: say who decides")
	}

	_, pool, err := openCommandDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // inserts only, never starts
	if err != nil {
		return err
	}

	var targets []store.OrderRef
	if batchID, perr := strconv.ParseInt(pos[0], 10, 64); perr == nil {
		if _, err := store.BatchByID(ctx, pool, batchID); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no batch %d (`worker status` lists the recent ones); nothing changed", batchID)
		} else if err != nil {
			return err
		}
		if targets, err = store.FailedOrdersOfBatch(ctx, pool, batchID); err != nil {
			return err
		}
		if len(targets) == 0 {
			return fmt.Errorf("batch %d has no failed orders; nothing changed", batchID)
		}
		d.BatchID = batchID
	} else {
		ref, err := store.ResolveOrder(ctx, pool, pos[0])
		if err != nil {
			return err
		}
		targets = []store.OrderRef{ref}
	}

	// One transaction per order: an order that stopped being failed
	// meanwhile (a callback came) is skipped, the others are still queued.
	var queued, skipped int
	var lastErr error
	for _, ref := range targets {
		r, jobID, err := retryOne(ctx, pool, inserter, ref.ID, d)
		if err != nil {
			fmt.Fprintf(stdout, "order %s: %v\n", ref, err)
			skipped++
			lastErr = err
			continue
		}
		fmt.Fprintf(stdout, "order %s: queued to be sent again (submit job %d); it had failed: %s\n", r.Order, jobID,
			shorten(logging.MaskPersonalNumbers(oneLine(r.LastError)), 200))
		queued++
	}
	if len(targets) > 1 {
		fmt.Fprintf(stdout, "%d order(s) queued again, %d skipped; `worker run` sends them\n", queued, skipped)
	}
	if queued == 0 {
		return fmt.Errorf("nothing changed: %w", lastErr)
	}
	return nil
}

// retryOne queues one failed order again: status, event and submit job in
// one transaction, so neither is ever recorded without the other.
func retryOne(ctx context.Context, pool *pgxpool.Pool, inserter *river.Client[pgx.Tx], orderID int64, d store.RetryDecision) (*store.Retried, int64, error) {
	var r *store.Retried
	var jobID int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
		r, jobID, err = orders.RetryFailed(ctx, tx, jobs.SubmitQueue{Client: inserter}, orderID, d)
		return err
	})
	return r, jobID, err
}
