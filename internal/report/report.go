package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Report is everything one reconciliation report shows. The caller loads it
// and decides the order of Orders, Rejected and Batches; the renderings keep
// that order.
type Report struct {
	From, To    string // period, YYYY-MM-DD inclusive, Europe/Oslo dates
	GeneratedAt time.Time
	Orders      []Order
	// Each, when set, replaces Orders: it calls fn with every order of the
	// report, in the report's order, and stops at fn's first error. It may
	// hand the same *Order each time (fn must not keep it) and is called
	// once per pass a rendering needs (XLSX: 2, JSON: 3, CSV: 1), so a
	// report of a million orders never holds them all in memory. The store
	// reads them from one database snapshot, so every pass sees the same.
	Each func(fn func(*Order) error) error
	// EachFlagged, when set with Each, calls fn with the orders whose
	// Exception is set, in the same order as Each, so that the Exceptions
	// sheet need not read every order again. Only the fields an Exception
	// shows need be filled (batch, source, row, ref, exception, last error,
	// FP status).
	EachFlagged func(fn func(*Order) error) error
	Rejected    []Rejected
	Batches     []Batch
	// Other are the exceptions that are neither a rejected row nor an
	// order's Exception: untrusted callbacks, overdue payment links, orders
	// FP has not called back about. They follow the others in Exceptions.
	Other []Exception
}

// Order is one order as imported, submitted and last heard of from FP.
type Order struct {
	BatchID      int64
	Source       string // file (or ERP source) the order came from
	SourceRow    int    // row in that file, as the accountant sees it
	OrderRef     string
	Kind         string // invoice, payment-link, hosted-checkout, checkout
	CustomerName string
	// PersonalNumber is the customer's personal number, masked: the
	// renderings pass it through pii.MaskPersonalNumber whatever they get.
	PersonalNumber string
	GrandTotal     int64  // øre
	FPOrderUUID    string // "" until FP has answered
	// Status is ours: queued, submitting, submitted, sent, paid, cancelled,
	// expired, refunded, failed, provider_rejected, invalid_payload,
	// needs_review.
	Status string
	// FPStatus is FP's last status as FP wrote it (e.g. "PARTIAL REFUNDED"),
	// possibly one we do not know; it is shown, never interpreted, here.
	FPStatus    string
	StatusAt    *time.Time
	ImportedAt  time.Time
	SubmittedAt *time.Time
	Attempts    int
	LastError   string
	// Exception is "" or the type of problem a human must look at, such as
	// needs_review, provider_rejected, invalid_payload, failed or
	// possible_duplicate.
	Exception  string
	PaymentURL string
}

// Rejected is a spreadsheet row the importer refused, with the reason.
type Rejected struct {
	BatchID int64
	Source  string
	Row     int
	Column  string
	Value   string
	Reason  string
}

// Batch is one imported file.
type Batch struct {
	ID         int64
	Source     string
	SHA256     string
	ImportedAt time.Time
	Rows       int
	Orders     int
	Rejected   int
	Submitted  int
	Paid       int
	Total      int64 // øre, sum of its orders' grand totals
}

// SummaryRow counts the orders of one kind in one status.
type SummaryRow struct {
	Kind   string
	Status string
	Orders int
	Total  int64 // øre
}

// Exception is one line of the exceptions list: something finance or
// support must look at.
type Exception struct {
	Type     string // "rejected_row" or an order's Exception
	BatchID  int64
	Source   string
	Row      int
	OrderRef string
	Detail   string
}

// Exception types besides an order's Exception (needs_review,
// provider_rejected, failed, payment_failed, possible_duplicate).
const (
	// ExceptionRejectedRow is a row the importer refused.
	ExceptionRejectedRow = "rejected_row"
	// ExceptionUntrustedCallback counts the callbacks of one source and
	// verdict that were neither accepted nor orphans (bad_token,
	// bad_checksum, malformed, …): forged or invalid. Source is the remote
	// address (an IPv6 one as its /64); Detail the verdict, how many were
	// stored and how many only counted, the first and last arrival; never a
	// token or checksum. One exception per source and verdict, at most
	// about fifty, the smallest summed into the last.
	ExceptionUntrustedCallback = "untrusted_callback"
	// ExceptionPaymentLinkOverdue is a payment link past its due date and
	// neither paid nor cancelled.
	ExceptionPaymentLinkOverdue = "payment_link_overdue"
	// ExceptionNoCallback is an order submitted to FP, not final, with no
	// trusted callback for longer than STALE_AFTER.
	ExceptionNoCallback = "no_callback"
	// ExceptionOrphanCallback is an authentic callback (token and checksum
	// check out) for an order we do not have. Shown like an untrusted one:
	// address, arrival time, FP's order id and status, never the secrets.
	ExceptionOrphanCallback = "orphan_callback"
)

// kindOrder mirrors fpclient.Kinds; report does not import fpclient so that
// it stays a leaf package. An unknown kind sorts after these, by name.
var kindOrder = []string{"invoice", "payment-link", "hosted-checkout", "checkout"}

// statusOrder is our order lifecycle: waiting, in flight, at FP, settled,
// then the ones that need a human. An unknown status sorts after these.
var statusOrder = []string{
	"queued", "submitting", "submitted", "sent", "paid",
	"cancelled", "expired", "refunded",
	"failed", "provider_rejected", "invalid_payload", "needs_review",
}

func rank(known []string, s string) int {
	if i := slices.Index(known, s); i >= 0 {
		return i
	}
	return len(known)
}

// eachOrder calls fn with every order: from Each when set, else Orders.
func (r *Report) eachOrder(fn func(*Order) error) error {
	if r.Each != nil {
		return r.Each(fn)
	}
	for i := range r.Orders {
		if err := fn(&r.Orders[i]); err != nil {
			return err
		}
	}
	return nil
}

// Summary counts orders and sums their grand totals per kind and status.
//
// Rows come kind by kind (invoice, payment-link, hosted-checkout, checkout,
// then unknown kinds by name), and within a kind in lifecycle order with
// unknown statuses last by name. Only combinations that occur are listed.
// There are no subtotal rows, so the rows of any selection add up without
// double counting: the sum of all Orders is the number of orders and the
// sum of all Totals is the sum of every order's GrandTotal, exactly.
func (r *Report) Summary() ([]SummaryRow, error) {
	var t tally
	if err := r.eachOrder(func(o *Order) error { t.add(o); return nil }); err != nil {
		return nil, err
	}
	return t.summary(), nil
}

// tally is what one pass over the orders learns for the Summary: orders
// and NOK per kind and status, and the orders' exceptions per type.
type tally struct {
	index      map[summaryKey]int
	rows       []SummaryRow
	exceptions map[string]int
}

type summaryKey struct{ kind, status string }

func (t *tally) add(o *Order) {
	if t.index == nil {
		t.index = make(map[summaryKey]int)
		t.exceptions = make(map[string]int)
	}
	k := summaryKey{o.Kind, o.Status}
	j, ok := t.index[k]
	if !ok {
		j = len(t.rows)
		t.index[k] = j
		t.rows = append(t.rows, SummaryRow{Kind: o.Kind, Status: o.Status})
	}
	t.rows[j].Orders++
	t.rows[j].Total += o.GrandTotal
	if o.Exception != "" {
		t.exceptions[o.Exception]++
	}
}

// summary returns the rows in the order Summary documents.
func (t *tally) summary() []SummaryRow {
	rows := slices.Clone(t.rows)
	slices.SortFunc(rows, func(a, b SummaryRow) int {
		return cmp.Or(
			cmp.Compare(rank(kindOrder, a.Kind), rank(kindOrder, b.Kind)),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(rank(statusOrder, a.Status), rank(statusOrder, b.Status)),
			cmp.Compare(a.Status, b.Status),
		)
	})
	return rows
}

// Exceptions lists one exception per rejected row (Type "rejected_row"),
// then one per order whose Exception is set (Type is that Exception, Detail
// its LastError or else its FP status), then Other, each in the report's
// order.
func (r *Report) Exceptions() ([]Exception, error) {
	var out []Exception
	err := r.eachException(func(e Exception) error { out = append(out, e); return nil })
	return out, err
}

// eachException calls fn with what Exceptions returns without holding it
// all, so the XLSX sheet stays bounded in memory however many orders are
// flagged.
func (r *Report) eachException(fn func(Exception) error) error {
	for i := range r.Rejected {
		if err := fn(rejectedException(&r.Rejected[i])); err != nil {
			return err
		}
	}
	each := r.eachOrder
	if r.Each != nil && r.EachFlagged != nil {
		each = r.EachFlagged
	}
	err := each(func(o *Order) error {
		if o.Exception == "" {
			return nil
		}
		return fn(Exception{
			Type:     o.Exception,
			BatchID:  o.BatchID,
			Source:   o.Source,
			Row:      o.SourceRow,
			OrderRef: o.OrderRef,
			Detail:   cmp.Or(o.LastError, o.FPStatus),
		})
	})
	if err != nil {
		return err
	}
	for _, e := range r.Other {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func rejectedException(rj *Rejected) Exception {
	detail := rj.Reason
	if rj.Column != "" {
		detail = fmt.Sprintf("column %q: %s (value %q)", rj.Column, rj.Reason, rj.Value)
	} else if rj.Value != "" {
		detail = fmt.Sprintf("%s (value %q)", rj.Reason, rj.Value)
	}
	return Exception{
		Type:    ExceptionRejectedRow,
		BatchID: rj.BatchID,
		Source:  rj.Source,
		Row:     rj.Row,
		Detail:  detail,
	}
}

// exceptionCount is how many exceptions of one type the report has.
type exceptionCount struct {
	Type  string
	Count int
}

// exceptionCounts counts exceptions per type, rejected rows first, then the
// other types by name. The orders' own come from a tally of them.
func (r *Report) exceptionCounts(t *tally) (counts []exceptionCount, total int) {
	byType := maps.Clone(t.exceptions)
	if byType == nil {
		byType = make(map[string]int)
	}
	if len(r.Rejected) > 0 {
		byType[ExceptionRejectedRow] += len(r.Rejected)
	}
	for _, e := range r.Other {
		byType[e.Type]++
	}
	for typ, n := range byType {
		counts = append(counts, exceptionCount{typ, n})
		total += n
	}
	slices.SortFunc(counts, func(a, b exceptionCount) int {
		return cmp.Or(
			cmp.Compare(rejectedFirst(a.Type), rejectedFirst(b.Type)),
			cmp.Compare(a.Type, b.Type),
		)
	})
	return counts, total
}

func rejectedFirst(t string) int {
	if t == ExceptionRejectedRow {
		return 0
	}
	return 1
}

// osloLocation is loaded once; renderings fail with a clear error rather
// than silently falling back to UTC if the tz database is missing.
var osloLocation = sync.OnceValues(func() (*time.Location, error) {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return nil, fmt.Errorf("report: load time zone (import time/tzdata in main): %w", err)
	}
	return loc, nil
})
