package operator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/store"
)

// Actions a person may take on an item (Item.Actions). Retry and review
// exist as commands; resend, cancel and withdraw are named here so that
// every list offers the same ones.
const (
	ActionRetry    = "retry"    // send a failed order again
	ActionReview   = "review"   // decide whether FP has the order
	ActionResend   = "resend"   // FP sends the payment link or notification again
	ActionCancel   = "cancel"   // cancel the order at FP
	ActionWithdraw = "withdraw" // stop an order FP has not got, locally
)

// Reasons, in the order the list shows them (most urgent first).
var Reasons = []string{
	store.AttentionNeedsReview, store.AttentionPossibleDuplicate, store.AttentionFailed, store.AttentionProviderRejected,
	store.AttentionInvalidPayload, store.AttentionActionUnanswered, store.AttentionPaymentLinkDue, store.AttentionNoWordFromFP,
	store.AttentionRejectedRows,
	store.AttentionOrphan, store.AttentionUntrusted,
}

// DefaultAttentionLimit is how many items of each reason Attention lists.
const DefaultAttentionLimit = 500

// Order is what a list shows of one order.
type Order struct {
	ID          int64        `json:"id"`
	Kind        string       `json:"kind"`
	Ref         string       `json:"order_ref"`
	BatchID     int64        `json:"batch_id"`
	Customer    string       `json:"customer"`
	Total       money.Amount `json:"total"`
	Status      string       `json:"status"`
	FPOrderUUID string       `json:"fp_order_uuid,omitempty"`
	PaymentURL  string       `json:"payment_url,omitempty"`
}

func orderOf(b store.OrderBrief) Order {
	return Order{ID: b.ID, Kind: b.Kind, Ref: b.Ref, BatchID: b.BatchID, Customer: b.Customer, Total: money.Amount(b.TotalOre),
		Status: b.Status, FPOrderUUID: b.FPOrderUUID, PaymentURL: b.PaymentURL}
}

// Item is one open matter for a person: why, since when, about which order
// (or batch, or callback source) and what may settle it.
type Item struct {
	Reason string        `json:"reason"`
	Since  time.Time     `json:"since"`
	Age    time.Duration `json:"-"`
	Detail string        `json:"detail,omitempty"`
	Order  *Order        `json:"order,omitempty"`
	// BatchID and Source name the batch of rejected rows (Source its
	// file), or the address callbacks came from; Count how many rows or
	// callbacks the item stands for.
	BatchID int64    `json:"batch_id,omitempty"`
	Source  string   `json:"source,omitempty"`
	Count   int64    `json:"count"`
	Actions []string `json:"actions"`
}

// AttentionQuery says what Attention lists.
type AttentionQuery struct {
	Now        time.Time     // zero: time.Now()
	StaleAfter time.Duration // STALE_AFTER; zero: store.DefaultStaleAfter
	Limit      int           // per reason; zero: DefaultAttentionLimit
}

// AttentionList is every open item (at most Limit of each reason, the
// oldest), in the order of Reasons and oldest first within one, and how
// many items each reason has in all: exactly up to
// store.AttentionCountCap, at least that many where Capped says so.
type AttentionList struct {
	Items  []Item
	Totals map[string]int64
	Capped map[string]bool
}

// Total is the number of open items of every reason.
func (l *AttentionList) Total() int64 {
	var n int64
	for _, c := range l.Totals {
		n += c
	}
	return n
}

// Attention lists what needs a person now.
func (d *Desk) Attention(ctx context.Context, q AttentionQuery) (*AttentionList, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	q.StaleAfter = cmp.Or(q.StaleAfter, store.DefaultStaleAfter)
	q.Limit = cmp.Or(q.Limit, DefaultAttentionLimit)
	list, err := store.Attention(ctx, d.pool, q.Now, q.StaleAfter, q.Limit)
	if err != nil {
		return nil, err
	}
	out := &AttentionList{Totals: list.Totals, Capped: list.Capped, Items: make([]Item, 0, len(list.Rows))}
	for _, r := range list.Rows {
		it := Item{Reason: r.Reason, Since: r.Since, Age: max(q.Now.Sub(r.Since), 0), Detail: r.Detail, BatchID: r.BatchID,
			Source: r.Source, Count: r.Count}
		if r.Order != nil {
			o := orderOf(*r.Order)
			it.Order = &o
		}
		it.Actions = actionsFor(it)
		out.Items = append(out.Items, it)
	}
	rank := func(reason string) int { return slices.Index(Reasons, reason) }
	slices.SortStableFunc(out.Items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(rank(a.Reason), rank(b.Reason)), a.Since.Compare(b.Since))
	})
	return out, nil
}

// actionsFor is what may settle an item. Only an order FP has (an
// orderUuid) can be resent or cancelled at FP; one FP has not got is
// withdrawn locally instead.
func actionsFor(it Item) []string {
	if it.Order == nil {
		return []string{} // rejected rows are fixed in the file; callbacks are read, not settled
	}
	atFP := it.Order.FPOrderUUID != ""
	switch it.Reason {
	case store.AttentionNeedsReview:
		return []string{ActionReview}
	case store.AttentionFailed:
		return []string{ActionRetry, ActionWithdraw}
	case store.AttentionProviderRejected, store.AttentionInvalidPayload:
		return []string{ActionWithdraw}
	case store.AttentionPossibleDuplicate:
		return []string{ActionCancel}
	case store.AttentionActionUnanswered: // repeat it, or not
		if it.Detail == ActionResend {
			return []string{ActionResend}
		}
		return []string{ActionCancel}
	case store.AttentionPaymentLinkDue, store.AttentionNoWordFromFP:
		if atFP {
			return []string{ActionResend, ActionCancel}
		}
		return []string{ActionWithdraw}
	}
	return []string{}
}

// DefaultSearchLimit is how many orders Search returns by default.
const DefaultSearchLimit = 50

// Search finds orders by a part of their reference, customer name or
// e-mail address (at least store.MinSearchPart characters), by their FP
// order id, or by their id or batch number; newest first, at most limit.
func (d *Desk) Search(ctx context.Context, text string, limit int) ([]Order, error) {
	found, err := store.SearchOrders(ctx, d.pool, text, cmp.Or(limit, DefaultSearchLimit))
	if err != nil {
		return nil, err
	}
	out := make([]Order, len(found))
	for i, b := range found {
		out[i] = orderOf(b)
	}
	return out, nil
}

// Entry is one thing that happened to an order. Kind says which record it
// comes from: "import" (the import that brought the order in), "event"
// (changes by a later import, status moves, a person's decisions),
// "attempt" (a request to FP and its answer) or "callback" (FP's word,
// trusted or not).
type Entry struct {
	At     time.Time      `json:"at"`
	Kind   string         `json:"kind"`
	Type   string         `json:"type,omitempty"`   // the event's type, the attempt's outcome, the callback's verdict
	Status string         `json:"status,omitempty"` // the event's status, FP's status of a callback
	By     string         `json:"by,omitempty"`     // the person, for a person's action
	Note   string         `json:"note,omitempty"`
	Detail map[string]any `json:"detail,omitempty"`
}

// History is an order, its lines and totals, its payment link and
// everything that happened to it in time order.
type History struct {
	Order             Order               `json:"order"`
	Source            string              `json:"source"`
	SourceRow         int                 `json:"source_row"`
	Email             string              `json:"email,omitempty"`
	Lines             []mapping.OrderLine `json:"lines"`
	Totals            mapping.Totals      `json:"totals"`
	DueDate           string              `json:"due_date,omitempty"`
	BankIDURL         string              `json:"bank_id_url,omitempty"`
	FPStatus          string              `json:"fp_status,omitempty"`
	LastError         string              `json:"last_error,omitempty"`
	ReviewReason      string              `json:"review_reason,omitempty"`
	PossibleDuplicate string              `json:"possible_duplicate,omitempty"`
	Attempts          int                 `json:"attempts"`
	ImportedAt        time.Time           `json:"imported_at"`
	StatusAt          time.Time           `json:"status_at"`
	SubmittedAt       *time.Time          `json:"submitted_at,omitempty"`
	Entries           []Entry             `json:"history"`
}

// HistoryOf reads the order spec names (store.ResolveOrder: id,
// kind:order_ref, or an order_ref only one order has).
func (d *Desk) HistoryOf(ctx context.Context, spec string) (*History, error) {
	ref, err := store.ResolveOrder(ctx, d.pool, spec)
	if err != nil {
		return nil, err
	}
	return d.History(ctx, ref.ID)
}

// History reads order id with its whole history.
func (d *Desk) History(ctx context.Context, id int64) (*History, error) {
	h, err := store.LoadOrderHistory(ctx, d.pool, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no order %d: %w", id, err)
	}
	if err != nil {
		return nil, err
	}
	o := h.Order
	out := &History{Order: orderOf(o.OrderBrief), Source: o.Source, SourceRow: o.SourceRow, BankIDURL: o.BankIDURL,
		FPStatus: o.FPStatus, LastError: o.LastError, ReviewReason: o.ReviewReason, PossibleDuplicate: o.PossibleDuplicate,
		Attempts: o.Attempts, ImportedAt: o.ImportedAt, StatusAt: o.StatusAt, SubmittedAt: o.SubmittedAt}
	var data mapping.Order
	if err := json.Unmarshal(o.Data, &data); err != nil {
		return nil, fmt.Errorf("order %d: its stored data cannot be read: %w", id, err)
	}
	// The personal number stays out: nobody needs it to follow an order.
	out.Email, out.Lines, out.DueDate = data.Customer.Email, data.Lines, data.DueDate
	out.Totals = data.Totals()

	// The import writes no event per order; its entry comes from the
	// order row and its first batch.
	first, err := store.LoadFirstImport(ctx, d.pool, id)
	if err != nil {
		return nil, err
	}
	imp := Entry{At: first.At, Kind: "import", Type: "imported", Detail: map[string]any{}}
	if first.BatchID != 0 {
		imp.Detail["batch_id"], imp.Detail["file"] = first.BatchID, first.File
	}
	if first.Row != 0 {
		imp.Detail["row"] = first.Row
	}
	out.Entries = append(out.Entries, imp)
	for _, e := range h.Events {
		en := Entry{At: e.At, Kind: "event", Type: e.Type, Status: e.Status, Detail: e.Detail}
		en.By, _ = e.Detail["by"].(string)
		en.Note, _ = e.Detail["note"].(string)
		out.Entries = append(out.Entries, en)
	}
	for _, a := range h.Attempts {
		detail := map[string]any{"attempt": a.Attempt, "version": a.Version}
		if a.HTTPStatus != 0 {
			detail["http_status"] = a.HTTPStatus
		}
		if a.Message != "" {
			detail["message"] = a.Message
		}
		if a.FPGoUUID != "" {
			detail["fpgo_uuid"] = a.FPGoUUID
		}
		outcome := cmp.Or(a.Outcome, "open")
		out.Entries = append(out.Entries, Entry{At: a.StartedAt, Kind: "attempt", Type: outcome, Detail: detail})
	}
	for _, c := range h.Callbacks {
		detail := map[string]any{"fp_order_uuid": c.FPOrderUUID, "from": c.RemoteAddr}
		if c.Result != "" {
			detail["result"] = c.Result
		}
		out.Entries = append(out.Entries, Entry{At: c.ReceivedAt, Kind: "callback", Type: c.Verdict, Status: c.FPStatus, Detail: detail})
	}
	slices.SortStableFunc(out.Entries, func(a, b Entry) int { return a.At.Compare(b.At) })
	return out, nil
}
