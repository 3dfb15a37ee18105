package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	// VAT sums the period's order lines per VAT rate. When nil, the
	// renderings sum the orders' VATLines as they go through them.
	VAT []VATRow
	// Lang is the language of labels, status, kind and exception names:
	// "en" English, anything else Norwegian bokmål.
	Lang string
}

// VATRow is the period's order lines at one VAT rate. Net and VAT are
// before the discount, as FP's order summary has them, so
// Net + VAT − Discount = Gross, and the Gross of all rates is the sum of
// the orders' grand totals.
type VATRow struct {
	Rate     int // percent
	Lines    int
	Net      int64 // øre
	VAT      int64
	Discount int64
	Gross    int64
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
	// Exception is "" or the types of problem a human must look at,
	// separated by commas: the order's own (needs_review,
	// provider_rejected, invalid_payload, failed, payment_failed or
	// possible_duplicate), then payment_link_overdue and no_callback when
	// they apply (those two are also among Other, as of now).
	Exception  string
	PaymentURL string

	OrderDate string // YYYY-MM-DD (Europe/Oslo) or "" when not yet known
	DueDate   string // YYYY-MM-DD or "" (FP's default invoice maturity)
	Net       int64  // øre, before discount, without VAT (from the lines)
	VAT       int64  // øre, before discount
	Discount  int64  // øre
	// What FP reported: the time of payment (its createdAt) and the amount
	// its callback carried; nil where FP said nothing.
	PaidAt         *time.Time
	PaidAmount     *int64 // øre
	RefundedAt     *time.Time
	RefundedAmount *int64 // øre
	// VATLines are the order's lines, one VATRow each (Lines 1), which the
	// VAT table sums when Report.VAT is not given.
	VATLines []VATRow
}

// Exceptions are the types in Exception, in order.
func (o *Order) Exceptions() []string {
	if o.Exception == "" {
		return nil
	}
	return strings.Split(o.Exception, ",")
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
	"queued", "submitting", "submitted", "sent", "reserved", "cancel_requested", "paid", "partially_refunded",
	"cancelled", "expired", "refunded", "withdrawn",
	"failed", "payment_failed", "provider_rejected", "invalid_payload", "needs_review",
}

// Status groups answer finance's first questions: how much is not yet
// with the customer (open), with the customer (sent), paid, closed
// without payment, and needing someone's attention. An unknown status
// needs attention.
const (
	GroupOpen      = "open"
	GroupSent      = "sent"
	GroupPaid      = "paid"
	GroupClosed    = "closed"
	GroupAttention = "attention"
)

var groupOrder = []string{GroupOpen, GroupSent, GroupPaid, GroupClosed, GroupAttention}

// StatusGroup is the group of one of our statuses.
func StatusGroup(status string) string {
	switch status {
	case "queued", "submitting", "submitted":
		return GroupOpen
	case "sent", "reserved", "cancel_requested": // with the customer until FP cancels it
		return GroupSent
	case "paid", "partially_refunded":
		return GroupPaid
	case "cancelled", "expired", "refunded", "withdrawn":
		return GroupClosed
	}
	return GroupAttention
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
	vat        map[int]*VATRow
}

type summaryKey struct{ kind, status string }

func (t *tally) add(o *Order) {
	if t.index == nil {
		t.index = make(map[summaryKey]int)
		t.exceptions = make(map[string]int)
		t.vat = make(map[int]*VATRow)
	}
	for _, l := range o.VATLines {
		v := t.vat[l.Rate]
		if v == nil {
			v = &VATRow{Rate: l.Rate}
			t.vat[l.Rate] = v
		}
		v.Lines += l.Lines
		v.Net += l.Net
		v.VAT += l.VAT
		v.Discount += l.Discount
		v.Gross += l.Gross
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
		for _, typ := range o.Exceptions() {
			if !listedInOther(typ) {
				t.exceptions[typ]++
			}
		}
	}
}

// listedInOther says whether exceptions of type typ come in Report.Other
// (as of now, whatever the period) rather than from the period's orders,
// so that the exceptions list and counts show each once.
func listedInOther(typ string) bool {
	return typ == ExceptionPaymentLinkOverdue || typ == ExceptionNoCallback
}

// StatusRow counts the orders in one status across kinds.
type StatusRow struct {
	Status string
	Group  string // StatusGroup(Status)
	Orders int
	Total  int64 // øre
}

// GroupRow counts the orders of one status group.
type GroupRow struct {
	Group  string
	Orders int
	Total  int64 // øre
}

// byStatus sums the summary rows across kinds, in lifecycle order, and per
// group in groupOrder; only what occurs is listed.
func (t *tally) byStatus() ([]StatusRow, []GroupRow) {
	var rows []StatusRow
	for _, k := range t.summary() {
		i := slices.IndexFunc(rows, func(r StatusRow) bool { return r.Status == k.Status })
		if i < 0 {
			rows = append(rows, StatusRow{Status: k.Status, Group: StatusGroup(k.Status)})
			i = len(rows) - 1
		}
		rows[i].Orders += k.Orders
		rows[i].Total += k.Total
	}
	slices.SortFunc(rows, func(a, b StatusRow) int {
		return cmp.Or(cmp.Compare(rank(statusOrder, a.Status), rank(statusOrder, b.Status)), cmp.Compare(a.Status, b.Status))
	})
	var groups []GroupRow
	for _, g := range groupOrder {
		gr := GroupRow{Group: g}
		for _, r := range rows {
			if r.Group == g {
				gr.Orders += r.Orders
				gr.Total += r.Total
			}
		}
		if gr.Orders > 0 {
			groups = append(groups, gr)
		}
	}
	return rows, groups
}

// total is the number and grand total of the orders t tallied.
func (t *tally) total() (orders int, total int64) {
	for _, r := range t.rows {
		orders += r.Orders
		total += r.Total
	}
	return orders, total
}

// ImportTotal is what the period's batches brought: orders and øre.
func (r *Report) ImportTotal() (orders int, total int64) {
	for _, b := range r.Batches {
		orders += b.Orders
		total += b.Total
	}
	return orders, total
}

// RejectedRows counts the distinct rows (batch and row) among Rejected:
// one row may have several errors.
func (r *Report) RejectedRows() int {
	type key struct {
		batch int64
		row   int
	}
	seen := make(map[key]bool, len(r.Rejected))
	for _, rj := range r.Rejected {
		seen[key{rj.BatchID, rj.Row}] = true
	}
	return len(seen)
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
	// One line per rejected row: a row's errors (consecutive in Rejected)
	// share it.
	for i := 0; i < len(r.Rejected); {
		e := rejectedException(&r.Rejected[i], r.Lang)
		j := i + 1
		for ; j < len(r.Rejected) && r.Rejected[j].BatchID == e.BatchID && r.Rejected[j].Row == e.Row; j++ {
			e.Detail += "; " + rejectedException(&r.Rejected[j], r.Lang).Detail
		}
		i = j
		if err := fn(e); err != nil {
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
		for _, typ := range o.Exceptions() {
			if listedInOther(typ) {
				continue
			}
			err := fn(Exception{
				Type:     typ,
				BatchID:  o.BatchID,
				Source:   o.Source,
				Row:      o.SourceRow,
				OrderRef: o.OrderRef,
				Detail:   cmp.Or(o.LastError, o.FPStatus),
			})
			if err != nil {
				return err
			}
		}
		return nil
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

func rejectedException(rj *Rejected, lang string) Exception {
	detail := rj.Reason
	if rj.Column != "" {
		detail = fmt.Sprintf(label(lang, "detail.column"), rj.Column, rj.Reason, rj.Value)
	} else if rj.Value != "" {
		detail = fmt.Sprintf(label(lang, "detail.value"), rj.Reason, rj.Value)
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
	if n := r.RejectedRows(); n > 0 {
		byType[ExceptionRejectedRow] += n
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

// StandardVATRates are the Norwegian VAT rates the VAT table always shows,
// with zeros when no line has them.
var StandardVATRates = []int{0, 12, 15, 25}

// vatTable is r.VAT, or else what t summed of the orders' VATLines, with
// a row for every standard rate, rates ascending: a rate that is not
// standard (an "other" rate) has a row of its own.
func (r *Report) vatTable(t *tally) []VATRow {
	rows := slices.Clone(r.VAT)
	if r.VAT == nil {
		for _, v := range t.vat {
			rows = append(rows, *v)
		}
	}
	for _, rate := range StandardVATRates {
		if !slices.ContainsFunc(rows, func(v VATRow) bool { return v.Rate == rate }) {
			rows = append(rows, VATRow{Rate: rate})
		}
	}
	slices.SortFunc(rows, func(a, b VATRow) int { return cmp.Compare(a.Rate, b.Rate) })
	return rows
}

// VATTotal sums rows.
func VATTotal(rows []VATRow) VATRow {
	var t VATRow
	for _, v := range rows {
		t.Lines += v.Lines
		t.Net += v.Net
		t.VAT += v.VAT
		t.Discount += v.Discount
		t.Gross += v.Gross
	}
	return t
}

// vatRateName is the VAT table's first column: "25", or "8 (annen sats)"
// for a rate that is not standard.
func vatRateName(lang string, rate int) string {
	if slices.Contains(StandardVATRates, rate) {
		return fmt.Sprint(rate)
	}
	return fmt.Sprintf("%d (%s)", rate, label(lang, "vat.other"))
}

// exceptionNames is an order's Exception with each type named in lang.
func exceptionNames(lang, exception string) string {
	if exception == "" {
		return ""
	}
	types := strings.Split(exception, ",")
	for i, t := range types {
		types[i] = Name(lang, t)
	}
	return strings.Join(types, ", ")
}
