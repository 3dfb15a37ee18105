package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/report"
)

// LoadReport reads the reconciliation report for the Europe/Oslo dates from
// and to (inclusive, YYYY-MM-DD) with every order in memory (Orders); for
// reports of any size use WithReport, which streams them. An order belongs
// to the period in which it was imported, with its latest status. Orders
// come from the reconciliation_orders view, so the report and the view
// always agree.
//
// Besides rejected rows and the orders' own exceptions, the report's
// exceptions list (Report.Other) the callbacks received in the period whose
// verdict was not accepted, and, as of now whatever the period, payment
// links past their due date (Europe/Oslo) and unpaid, and orders submitted
// to FP, not final, with no trusted callback for staleAfter (<= 0:
// DefaultStaleAfter).
func LoadReport(ctx context.Context, db DB, from, to string, now time.Time, staleAfter time.Duration) (*report.Report, error) {
	r, err := loadReportParts(ctx, db, from, to, now, staleAfter)
	if err != nil {
		return nil, err
	}
	if staleAfter <= 0 {
		staleAfter = DefaultStaleAfter
	}
	err = eachReportOrder(ctx, db, from, to, now, staleAfter, func(o *report.Order) error {
		c := *o
		c.StatusAt = clonePtr(o.StatusAt)
		c.SubmittedAt = clonePtr(o.SubmittedAt)
		c.PaidAt = clonePtr(o.PaidAt)
		c.PaidAmount = clonePtr(o.PaidAmount)
		c.RefundedAt = clonePtr(o.RefundedAt)
		c.RefundedAmount = clonePtr(o.RefundedAmount)
		c.VATLines = slices.Clone(o.VATLines)
		r.Orders = append(r.Orders, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// TxBeginner is what *pgxpool.Pool offers to start a transaction.
type TxBeginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// WithReport reads the report LoadReport reads, but hands fn a Report whose
// orders are read from the database each time a rendering goes through
// them (Report.Each) instead of being held in memory: a report of a million
// orders is written in bounded memory. Everything is read in one
// read-only REPEATABLE READ transaction, open while fn runs, so every pass
// over the orders, the batches and the exceptions see one snapshot and
// agree with each other.
func WithReport(ctx context.Context, db TxBeginner, from, to string, now time.Time, staleAfter time.Duration, fn func(*report.Report) error) error {
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only: nothing to keep
	// JIT compiling the view's expressions took longer than running them
	// (seconds per query at 100 000 orders, TestReportBench's plans), and a
	// Memoize node keyed on each order's json never hits (every order is
	// different): both off for this transaction only.
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off; SET LOCAL enable_memoize = off`); err != nil {
		return err
	}
	r, err := loadReportParts(ctx, tx, from, to, now, staleAfter)
	if err != nil {
		return err
	}
	if staleAfter <= 0 {
		staleAfter = DefaultStaleAfter
	}
	r.Each = func(fn func(*report.Order) error) error {
		return eachReportOrder(ctx, tx, from, to, now, staleAfter, fn)
	}
	r.EachFlagged = func(fn func(*report.Order) error) error { return eachFlaggedOrder(ctx, tx, from, to, fn) }
	return fn(r)
}

// eachFlaggedOrder calls fn with the orders of the period that have an
// exception, in report order, with only what an Exception shows: a scan of
// the period without reading every order's customer (order_data).
func eachFlaggedOrder(ctx context.Context, db DB, from, to string, fn func(*report.Order) error) error {
	rows, err := db.Query(ctx, `SELECT batch_id, source, source_row, order_ref, exception,
			coalesce(last_error, ''), coalesce(fp_status, '')
		FROM reconciliation_orders
		WHERE imported_on BETWEEN $1::date AND $2::date AND exception IS NOT NULL
		ORDER BY imported_on, batch_id, source_row, order_id`, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	var o report.Order
	for rows.Next() {
		if err := rows.Scan(&o.BatchID, &o.Source, &o.SourceRow, &o.OrderRef, &o.Exception, &o.LastError, &o.FPStatus); err != nil {
			return err
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// eachReportOrder calls fn with every order of the period from the view,
// in report order, reusing one Order. The view's imported_on matches the
// index orders_imported_on_idx, which returns the rows already in order.
func eachReportOrder(ctx context.Context, db DB, from, to string, now time.Time, staleAfter time.Duration, fn func(*report.Order) error) error {
	rows, err := db.Query(ctx, `SELECT batch_id, source, source_row, order_ref, kind, customer_name, personal_number,
			grand_total_ore, coalesce(fp_order_uuid, ''), status, coalesce(fp_status, ''), status_at, imported_at, submitted_at,
			attempts, coalesce(last_error, ''), `+orderExceptions+`, coalesce(payment_url, ''),
			coalesce(order_date::text, ''), coalesce(due_date::text, ''), net_ore, vat_ore, discount_ore,
			paid_at, paid_amount_ore, refunded_at, refunded_amount_ore, vat_lines
		FROM reconciliation_orders v
		WHERE imported_on BETWEEN $1::date AND $2::date
		ORDER BY imported_on, batch_id, source_row, order_id`, from, to, now, staleAfter.Seconds())
	if err != nil {
		return err
	}
	defer rows.Close()
	var o report.Order
	var statusAt time.Time
	var vatLines []byte
	for rows.Next() {
		o.SubmittedAt, o.PaidAt, o.PaidAmount, o.RefundedAt, o.RefundedAmount = nil, nil, nil, nil, nil
		if err := rows.Scan(&o.BatchID, &o.Source, &o.SourceRow, &o.OrderRef, &o.Kind, &o.CustomerName, &o.PersonalNumber,
			&o.GrandTotal, &o.FPOrderUUID, &o.Status, &o.FPStatus, &statusAt, &o.ImportedAt, &o.SubmittedAt,
			&o.Attempts, &o.LastError, &o.Exception, &o.PaymentURL,
			&o.OrderDate, &o.DueDate, &o.Net, &o.VAT, &o.Discount,
			&o.PaidAt, &o.PaidAmount, &o.RefundedAt, &o.RefundedAmount, &vatLines); err != nil {
			return err
		}
		o.StatusAt = &statusAt
		if o.VATLines, err = parseVATLines(o.VATLines[:0], vatLines); err != nil {
			return fmt.Errorf("order %s: vat_lines %q: %w", o.OrderRef, vatLines, err)
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// inPeriod is the SQL condition that the timestamptz column col falls in
// the period $1..$2 (Europe/Oslo dates, inclusive): from midnight of $1 up
// to midnight after $2. Bounding the column itself, rather than comparing
// its Oslo date, lets a plain index on it serve the query.
func inPeriod(col string) string {
	return col + ` >= ($1::date)::timestamp AT TIME ZONE 'Europe/Oslo' AND ` +
		col + ` < ($2::date + 1)::timestamp AT TIME ZONE 'Europe/Oslo'`
}

// loadReportParts reads all of the report but its orders.
func loadReportParts(ctx context.Context, db DB, from, to string, now time.Time, staleAfter time.Duration) (*report.Report, error) {
	r := &report.Report{From: from, To: to, GeneratedAt: now}
	// Open rejected rows only: rejected_row_open (migration 0012) is the one
	// place that decides which still need the accountant.
	rows, err := db.Query(ctx, `SELECT r.batch_id, r.source, r.row_no, r.column_name, r.value, r.reason
		FROM rejected_rows r JOIN batches b ON b.id = r.batch_id
		WHERE `+inPeriod("b.imported_at")+` AND rejected_row_open(r)
		ORDER BY r.batch_id, r.row_no, r.id`, from, to)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var x report.Rejected
		if err := rows.Scan(&x.BatchID, &x.Source, &x.Row, &x.Column, &x.Value, &x.Reason); err != nil {
			rows.Close()
			return nil, err
		}
		r.Rejected = append(r.Rejected, x)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	// Batch totals count the orders whose current version the batch brought,
	// and its open rejected rows: rows, not the errors behind them.
	rows, err = db.Query(ctx, `SELECT b.id, b.source, b.sha256, b.imported_at, b.rows_total,
			count(o.id),
			(SELECT count(DISTINCT r.row_no) FROM rejected_rows r WHERE r.batch_id = b.id AND rejected_row_open(r))::int,
			count(o.id) FILTER (WHERE o.submitted_at IS NOT NULL),
			count(o.id) FILTER (WHERE o.status IN ('paid', 'partially_refunded', 'refunded')),
			coalesce(sum(o.grand_total_ore), 0)::bigint
		FROM batches b LEFT JOIN orders o ON o.batch_id = b.id
		WHERE `+inPeriod("b.imported_at")+`
		GROUP BY b.id ORDER BY b.id`, from, to)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var b report.Batch
		if err := rows.Scan(&b.ID, &b.Source, &b.SHA256, &b.ImportedAt, &b.Rows, &b.Orders, &b.Rejected,
			&b.Submitted, &b.Paid, &b.Total); err != nil {
			rows.Close()
			return nil, err
		}
		r.Batches = append(r.Batches, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if staleAfter <= 0 {
		staleAfter = DefaultStaleAfter
	}
	if err := loadOtherExceptions(ctx, db, r, from, to, now, staleAfter); err != nil {
		return nil, err
	}
	return r, nil
}

// parseVATLines appends the view's vat_lines ("rate net vat discount
// amount" per line, separated by commas, øre) to dst, one VATRow a line.
func parseVATLines(dst []report.VATRow, text []byte) ([]report.VATRow, error) {
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, ','); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		var f [5]int64
		for k := range f {
			field := line
			if i := bytes.IndexByte(line, ' '); i >= 0 && k < 4 {
				field, line = line[:i], line[i+1:]
			} else if k < 4 {
				return dst, errors.New("too few fields")
			}
			n, err := strconv.ParseInt(string(field), 10, 64)
			if err != nil {
				return dst, err
			}
			f[k] = n
		}
		dst = append(dst, report.VATRow{Rate: int(f[0]), Lines: 1, Net: f[1], VAT: f[2], Discount: f[3], Gross: f[4]})
	}
	return dst, nil
}

// DefaultStaleAfter is how long an order submitted to FP may go without a
// trusted callback before the report lists it (STALE_AFTER).
const DefaultStaleAfter = 72 * time.Hour

// awaitingFPExcluded are the statuses in which no callback is awaited:
// settled at FP or never accepted by it, or still with the submit job. The
// predicate of the index orders_awaiting_fp_idx (migrations 0005, 0010) lists the
// same.
const awaitingFPExcluded = `'paid', 'partially_refunded', 'refunded', 'cancelled', 'expired', 'provider_rejected',
                           'failed', 'queued', 'submitting', 'invalid_payload'`

// orderExceptions is an order's exceptions, separated by commas, in a query
// of reconciliation_orders v with $3 now and $4 STALE_AFTER in seconds: the
// view's exception, then payment_link_overdue and no_callback as
// loadOtherExceptions finds them, so that the orders' Exception column
// names every exception tied to the order. The CASE tests the cheap
// conditions first: the NOT EXISTS runs only for an order at FP, submitted
// long enough ago and still unsettled.
var orderExceptions = `concat_ws(',', v.exception,
			CASE WHEN ` + paymentLinkOverdue("v", "$3") + ` THEN 'payment_link_overdue' END,
			CASE WHEN v.submitted_at < $3::timestamptz - $4 * interval '1 second'
				AND v.status NOT IN (` + awaitingFPExcluded + `)
				AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.order_id = v.order_id AND c.verdict = 'accepted')
				THEN 'no_callback' END)`

// paymentLinkOverdue is the SQL condition that the reconciliation_orders
// row v is a payment link past its due date (Europe/Oslo) at the time
// param, neither paid, refunded nor cancelled. The statuses are those of
// the index orders_open_payment_links_idx (migration 0005).
func paymentLinkOverdue(v, param string) string {
	return v + `.kind = 'payment-link' AND ` + v + `.status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled')
				AND ` + v + `.due_date < (` + param + `::timestamptz AT TIME ZONE 'Europe/Oslo')::date`
}

// loadOtherExceptions adds untrusted callbacks, overdue payment links and
// orders without a callback to r.Other. raw_query is never read: it holds
// the callback's token and checksum, and secrets never reach a report.
func loadOtherExceptions(ctx context.Context, db DB, r *report.Report, from, to string, now time.Time, staleAfter time.Duration) error {
	// Orphans are authentic callbacks for orders we do not have: one line
	// each, so that they are not taken for forgeries. Untrusted callbacks
	// are counted per source and verdict (untrustedExceptions): a flood of
	// forgeries must not bury the report.
	rows, err := db.Query(ctx, `SELECT coalesce(o.batch_id, 0), c.remote_addr, coalesce(o.source_row, 0), coalesce(o.order_ref, ''),
			c.verdict, to_char(c.received_at AT TIME ZONE 'Europe/Oslo', 'YYYY-MM-DD HH24:MI:SS'),
			left(c.fp_order_uuid, 64), left(c.fp_status, 64)
		FROM callbacks c LEFT JOIN orders o ON o.id = c.order_id
		WHERE c.verdict = 'orphan'
			AND `+inPeriod("c.received_at")+`
		ORDER BY c.received_at, c.id`, from, to)
	if err != nil {
		return err
	}
	for rows.Next() {
		var e report.Exception
		var verdict, at, uuid, status string
		if err := rows.Scan(&e.BatchID, &e.Source, &e.Row, &e.OrderRef, &verdict, &at, &uuid, &status); err != nil {
			rows.Close()
			return err
		}
		e.Type = report.ExceptionOrphanCallback
		e.Detail = fmt.Sprintf("%s: received %s (Europe/Oslo) from %s", verdict, at, cmp.Or(e.Source, "unknown address"))
		if uuid != "" || status != "" {
			e.Detail += fmt.Sprintf("; orderUuid %q, status %q", uuid, status)
		}
		r.Other = append(r.Other, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := untrustedExceptions(ctx, db, r, from, to); err != nil {
		return err
	}

	// The view's due date: the order's own, else its order date (or the
	// day it was sent) plus its payment term.
	rows, err = db.Query(ctx, `SELECT batch_id, source, source_row, order_ref, due_date, status
		FROM reconciliation_orders v
		WHERE `+paymentLinkOverdue("v", "$1")+`
		ORDER BY due_date, batch_id, source_row, order_id`, now)
	if err != nil {
		return err
	}
	for rows.Next() {
		var e report.Exception
		var due time.Time
		var status string
		if err := rows.Scan(&e.BatchID, &e.Source, &e.Row, &e.OrderRef, &due, &status); err != nil {
			rows.Close()
			return err
		}
		e.Type = report.ExceptionPaymentLinkOverdue
		e.Detail = fmt.Sprintf("due %s, status %s", due.Format(time.DateOnly), status)
		r.Other = append(r.Other, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	// Submitted to FP (queued and submitting orders belong to their submit
	// job) and not final, with no accepted callback since staleAfter. The
	// statuses are written out, as in the index orders_awaiting_fp_idx,
	// for the planner to see that the index covers the query.
	rows, err = db.Query(ctx, `SELECT o.batch_id, o.source, o.source_row, o.order_ref, o.status,
			to_char(o.submitted_at AT TIME ZONE 'Europe/Oslo', 'YYYY-MM-DD HH24:MI')
		FROM orders o
		WHERE o.submitted_at IS NOT NULL
			AND o.submitted_at < $1::timestamptz - $2 * interval '1 second'
			AND o.status NOT IN (`+awaitingFPExcluded+`)
			AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.order_id = o.id AND c.verdict = 'accepted')
		ORDER BY o.submitted_at, o.id`, now, staleAfter.Seconds())
	if err != nil {
		return err
	}
	for rows.Next() {
		var e report.Exception
		var status, at string
		if err := rows.Scan(&e.BatchID, &e.Source, &e.Row, &e.OrderRef, &status, &at); err != nil {
			rows.Close()
			return err
		}
		e.Type = report.ExceptionNoCallback
		e.Detail = fmt.Sprintf("submitted %s (Europe/Oslo), no callback from FP in %s; status %s", at, staleAfter, status)
		r.Other = append(r.Other, e)
	}
	return rows.Err()
}

// NewestImportDay is the Europe/Oslo day of the newest batch, "" when
// nothing has been imported.
func NewestImportDay(ctx context.Context, db DB) (string, error) {
	var day string
	err := db.QueryRow(ctx, `SELECT coalesce(((max(imported_at)) AT TIME ZONE 'Europe/Oslo')::date::text, '') FROM batches`).Scan(&day)
	return day, err
}

// ReportFile is a report the worker wrote on its schedule (table reports).
type ReportFile struct {
	PeriodFrom  string // YYYY-MM-DD, Europe/Oslo
	PeriodTo    string
	Format      string
	Path        string
	Bytes       int64
	SHA256      string
	Orders      int
	GeneratedAt time.Time
	JobID       int64 // the River job that wrote it; 0: none
}

// RecordReport records a written report file. A report of the same period
// and format replaces the earlier row: it was written to the same file.
func RecordReport(ctx context.Context, db DB, f ReportFile) error {
	_, err := db.Exec(ctx, `INSERT INTO reports (period_from, period_to, format, path, bytes, sha256, orders, generated_at, job_id)
		VALUES ($1::date, $2::date, $3, $4, $5, $6, $7, $8, nullif($9, 0))
		ON CONFLICT (period_from, period_to, format) DO UPDATE SET path = excluded.path, bytes = excluded.bytes,
			sha256 = excluded.sha256, orders = excluded.orders, generated_at = excluded.generated_at, job_id = excluded.job_id`,
		f.PeriodFrom, f.PeriodTo, f.Format, f.Path, f.Bytes, f.SHA256, f.Orders, f.GeneratedAt, f.JobID)
	return err
}

// ListReports returns the recorded reports, newest period first.
func ListReports(ctx context.Context, db DB) ([]ReportFile, error) {
	rows, err := db.Query(ctx, `SELECT period_from::text, period_to::text, format, path, bytes, sha256, orders, generated_at,
			coalesce(job_id, 0)
		FROM reports ORDER BY period_to DESC, period_from DESC, generated_at DESC, format`)
	if err != nil {
		return nil, err
	}
	var out []ReportFile
	for rows.Next() {
		var f ReportFile
		if err := rows.Scan(&f.PeriodFrom, &f.PeriodTo, &f.Format, &f.Path, &f.Bytes, &f.SHA256, &f.Orders, &f.GeneratedAt, &f.JobID); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
