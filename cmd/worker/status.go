package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/frontpayment/fpexport/internal/logging"
	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/operator"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

const statusUsage = `usage:
  worker status [--days N] [--format text|json]   batches of the last N days (default 7) and River's queues
  worker status BATCH [--format text|json]        the batch's orders
`

// cmdStatus shows what the worker is doing: recent batches with their
// orders per status and the queues, or one batch's orders.
func cmdStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newOpFlags("worker status", statusUsage, stderr)
	days := fs.Int("days", 7, "show the batches imported in the last N days")
	format := fs.String("format", "text", "text or json")
	pos, help, err := fs.parse(args)
	if help || err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fs.usageErr("--format must be text or json")
	}
	if *days < 1 {
		return fs.usageErr("--days must be 1 or more")
	}
	if len(pos) > 1 {
		return fs.usageErr("at most one BATCH")
	}
	var batchID int64
	if len(pos) == 1 {
		if batchID, err = strconv.ParseInt(pos[0], 10, 64); err != nil || batchID <= 0 {
			return fs.usageErr("BATCH must be a batch number (as `worker status` lists them), not %q", pos[0])
		}
	}

	desk, loc, closeDB, err := openDesk(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeDB()
	if batchID != 0 {
		return showBatch(ctx, desk, batchID, *format, loc, stdout)
	}
	return showOverview(ctx, desk, *days, *format, loc, stdout)
}

// showOverview prints the batches of the last days and the queues.
func showOverview(ctx context.Context, desk *operator.Desk, days int, format string, loc *time.Location, w io.Writer) error {
	ov, err := desk.Overview(ctx, days, time.Now())
	if err != nil {
		return err
	}
	batches, rows := ov.Batches, queueRows(ov.Queues)
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
				oneLine(bt.Source), bt.RowsTotal, bt.RowsRejected, bt.RowsRejectedOpen, bt.Orders, money.Amount(bt.TotalOre).NOK(), byStatusLine(bt.ByStatus))
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
func showBatch(ctx context.Context, desk *operator.Desk, id int64, format string, loc *time.Location, w io.Writer) error {
	view, err := desk.Batch(ctx, id)
	if err != nil {
		return err
	}
	bt, orders := view.Batch, view.Orders
	if format == "json" {
		out := struct {
			Batch  batchJSON        `json:"batch"`
			Orders []batchOrderJSON `json:"orders"`
		}{Batch: toBatchJSON(bt, loc), Orders: []batchOrderJSON{}}
		for _, o := range orders {
			out.Orders = append(out.Orders, batchOrderJSON{OrderID: o.ID, SourceRow: o.SourceRow, Kind: o.Kind, OrderRef: o.OrderRef,
				CustomerName: o.CustomerName, GrandTotal: json.Number(money.Amount(o.TotalOre).NOK()), GrandTotalOre: o.TotalOre,
				Status: o.Status, FPStatus: orNull(o.FPStatus), FPOrderUUID: orNull(o.FPOrderUUID), Attempts: o.Attempts,
				LastError: orNull(logging.MaskPersonalNumbers(o.LastError)), StatusAt: o.StatusAt.In(loc)})
		}
		return writeIndentedJSON(w, out)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "batch %d: %s, imported %s; %d rows, %d rejected, %d of them open (listed in the report); %d orders, NOK %s: %s\n\n",
		bt.ID, oneLine(bt.Source), bt.ImportedAt.In(loc).Format("2006-01-02 15:04"), bt.RowsTotal, bt.RowsRejected, bt.RowsRejectedOpen,
		bt.Orders, money.Amount(bt.TotalOre).NOK(), byStatusLine(bt.ByStatus))
	if len(orders) == 0 {
		b.WriteString("no orders: none of its orders is valid, or later batches brought newer versions of them\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROW\tKIND\tORDER_REF\tCUSTOMER\tNOK\tSTATUS\tFP STATUS\tATTEMPTS\tSINCE\tLAST ERROR")
		for _, o := range orders {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", o.ID, o.SourceRow, o.Kind, oneLine(o.OrderRef),
				oneLine(o.CustomerName), money.Amount(o.TotalOre).NOK(), o.Status, dash(o.FPStatus), o.Attempts,
				o.StatusAt.In(loc).Format("2006-01-02 15:04"), dash(shorten(logging.MaskPersonalNumbers(oneLine(o.LastError)), 100)))
		}
		tw.Flush()
		if view.Truncated {
			fmt.Fprintf(&b, "(the first %d orders; the report lists all)\n", len(orders))
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
		Orders: b.Orders, GrandTotal: json.Number(money.Amount(b.TotalOre).NOK()), GrandTotalOre: b.TotalOre, ByStatus: by}
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

func queueRows(qs []operator.QueueDepth) []queueDepthJSON {
	out := make([]queueDepthJSON, len(qs))
	for i, q := range qs {
		out[i] = queueDepthJSON{Queue: q.Queue, Available: q.Available, Scheduled: q.Scheduled, Retryable: q.Retryable,
			Running: q.Running, OldestAgeSeconds: q.OldestAge.Seconds()}
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
	fs := newOpFlags("worker retry", retryUsage, stderr)
	decision := fs.decisionFlags(getenv, "why: kept in each order's event")
	pos, help, err := fs.parse(args)
	if help || err != nil {
		return err
	}
	if len(pos) != 1 {
		return fs.usageErr("want one BATCH or ORDER, got %d", len(pos))
	}
	rd, err := decision()
	if err != nil {
		return err
	}
	d := store.RetryDecision{ReviewDecision: rd}

	desk, _, closeDB, err := openDesk(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeDB()
	results, err := desk.Retry(ctx, pos[0], d)
	if _, ok := errors.AsType[*operator.NoBatchError](err); ok {
		return fmt.Errorf("%w; nothing changed", err)
	}
	if err != nil {
		return err
	}
	var queued, skipped int
	var lastErr error
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(stdout, "order %s: %v\n", r.Order, r.Err)
			skipped++
			lastErr = r.Err
			continue
		}
		fmt.Fprintf(stdout, "order %s: queued to be sent again (submit job %d); it had failed: %s\n", r.Retried.Order, r.JobID,
			shorten(logging.MaskPersonalNumbers(oneLine(r.Retried.LastError)), 200))
		queued++
	}
	if len(results) > 1 {
		fmt.Fprintf(stdout, "%d order(s) queued again, %d skipped; `worker run` sends them\n", queued, skipped)
	}
	if queued == 0 {
		return fmt.Errorf("nothing changed: %w", lastErr)
	}
	return nil
}

// openDesk opens the database as the one-off commands do and the
// operator's desk on it; loc is TZ_REPORTS, closeDB closes the pool.
func openDesk(ctx context.Context, getenv func(string) string) (desk *operator.Desk, loc *time.Location, closeDB func(), err error) {
	cfg, pool, err := openCommandDB(ctx, getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	if desk, err = operator.New(pool); err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return desk, cfg.Location, pool.Close, nil
}
