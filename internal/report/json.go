package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/pii"
)

// WriteJSON writes the report as one JSON object:
//
//	{"from","to","generated_at","summary":[…],"status_summary":[…],"groups":[…],
//	 "totals":{…},"vat":[…],"orders":[…],"exceptions":[…],"batches":[…]}
//
// summary is per kind and status; status_summary per status across kinds,
// with its group (open, sent, paid, closed, attention); totals ties the
// orders out to what the period's batches imported. Codes (statuses,
// kinds, exception types) are not translated: JSON is for programs.
//
// Keys are snake_case and always present; arrays are never null. Amounts
// appear twice: in NOK as a JSON number with exactly two decimals, written
// from the integer øre without going through a float ("grand_total":100.10),
// and as integer øre ("grand_total_ore":10010) for programs that must not
// parse decimals into floats. Times are RFC 3339 in Europe/Oslo with their
// offset, or null when unknown.
//
// The orders are encoded one at a time, so memory does not grow with the
// size of the output. Personal numbers are masked (pii.MaskPersonalNumber).
func WriteJSON(w io.Writer, r *Report) error {
	loc, err := osloLocation()
	if err != nil {
		return err
	}
	j := &jsonWriter{w: bufio.NewWriterSize(w, 64<<10), loc: loc}
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false) // payment URLs stay readable: "&", not "\u0026"

	j.raw(`{"from":`)
	j.value(r.From)
	j.raw(`,"to":`)
	j.value(r.To)
	j.raw(`,"generated_at":`)
	j.value(j.time(r.GeneratedAt))

	// Three passes over the orders (summary, orders, exceptions), so that
	// the keys come in the order a reader expects without holding them.
	var t tally
	if err := r.eachOrder(func(o *Order) error { t.add(o); return nil }); err != nil {
		return err
	}
	summary := t.summary()
	j.raw(",\n" + `"summary":[`)
	for i, s := range summary {
		j.sep(i)
		j.value(jsonSummaryRow{
			Kind:     s.Kind,
			Status:   s.Status,
			Orders:   s.Orders,
			Total:    jsonNOK(s.Total),
			TotalOre: s.Total,
		})
	}
	j.raw("],\n" + `"status_summary":[`)
	statuses, groups := t.byStatus()
	for i, s := range statuses {
		j.sep(i)
		j.value(jsonStatusRow{Status: s.Status, Group: s.Group, Orders: s.Orders, Total: jsonNOK(s.Total), TotalOre: s.Total})
	}
	j.raw("],\n" + `"groups":[`)
	var all GroupRow
	for i, g := range groups {
		j.sep(i)
		j.value(jsonGroupRow{Group: g.Group, Orders: g.Orders, Total: jsonNOK(g.Total), TotalOre: g.Total})
		all.Orders += g.Orders
		all.Total += g.Total
	}
	importedOrders, importedTotal := r.ImportTotal()
	j.raw("],\n" + `"totals":`)
	j.value(jsonTotals{Orders: all.Orders, Total: jsonNOK(all.Total), TotalOre: all.Total,
		ImportedOrders: importedOrders, Imported: jsonNOK(importedTotal), ImportedOre: importedTotal,
		RejectedRows: r.RejectedRows(), RejectedErrors: len(r.Rejected)})
	j.raw(",\n" + `"vat":[`)
	for i, v := range r.vatTable(&t) {
		j.sep(i)
		j.value(jsonVATRow{Rate: v.Rate, Lines: v.Lines, Net: jsonNOK(v.Net), NetOre: v.Net, VAT: jsonNOK(v.VAT), VATOre: v.VAT,
			Discount: jsonNOK(v.Discount), DiscountOre: v.Discount, Gross: jsonNOK(v.Gross), GrossOre: v.Gross})
	}
	j.raw("],\n" + `"orders":[`)
	n := 0
	err = r.eachOrder(func(o *Order) error {
		j.sep(n)
		n++
		j.value(jsonOrder{
			BatchID:        o.BatchID,
			Source:         o.Source,
			SourceRow:      o.SourceRow,
			OrderRef:       o.OrderRef,
			Kind:           o.Kind,
			CustomerName:   o.CustomerName,
			PersonalNumber: pii.MaskPersonalNumber(o.PersonalNumber),
			GrandTotal:     jsonNOK(o.GrandTotal),
			GrandTotalOre:  o.GrandTotal,
			FPOrderUUID:    o.FPOrderUUID,
			Status:         o.Status,
			FPStatus:       o.FPStatus,
			StatusAt:       j.timePtr(o.StatusAt),
			ImportedAt:     j.time(o.ImportedAt),
			SubmittedAt:    j.timePtr(o.SubmittedAt),
			Attempts:       o.Attempts,
			LastError:      o.LastError,
			Exception:      o.Exception,
			Exceptions:     nonNil(o.Exceptions()),
			PaymentURL:     o.PaymentURL,
			OrderDate:      o.OrderDate,
			DueDate:        o.DueDate,
			Net:            jsonNOK(o.Net),
			NetOre:         o.Net,
			VAT:            jsonNOK(o.VAT),
			VATOre:         o.VAT,
			Discount:       jsonNOK(o.Discount),
			DiscountOre:    o.Discount,
			PaidAmount:     (*jsonNOK)(o.PaidAmount),
			PaidAmountOre:  o.PaidAmount,
			PaidAt:         j.timePtr(o.PaidAt),
			RefundedAmount: (*jsonNOK)(o.RefundedAmount),
			RefundedOre:    o.RefundedAmount,
			RefundedAt:     j.timePtr(o.RefundedAt),
		})
		return j.err
	})
	if err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	j.raw("],\n" + `"exceptions":[`)
	n = 0
	err = r.eachException(func(e Exception) error {
		j.sep(n)
		n++
		j.value(jsonException(e))
		return j.err
	})
	if err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	j.raw("],\n" + `"batches":[`)
	for i := range r.Batches {
		b := &r.Batches[i]
		j.sep(i)
		j.value(jsonBatch{
			ID:         b.ID,
			Source:     b.Source,
			SHA256:     b.SHA256,
			ImportedAt: j.time(b.ImportedAt),
			Rows:       b.Rows,
			Orders:     b.Orders,
			Rejected:   b.Rejected,
			Submitted:  b.Submitted,
			Paid:       b.Paid,
			Total:      jsonNOK(b.Total),
			TotalOre:   b.Total,
		})
	}
	j.raw("]}\n")
	if j.err == nil {
		j.err = j.w.Flush()
	}
	if j.err != nil {
		return fmt.Errorf("report: write json: %w", j.err)
	}
	return nil
}

// jsonWriter writes the envelope by hand and each element with
// encoding/json; its first error stops all further writes.
type jsonWriter struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	loc *time.Location
	err error
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

// sep separates array elements, one per line so that line tools and diffs
// work on the output.
func (j *jsonWriter) sep(i int) {
	if i == 0 {
		j.raw("\n")
	} else {
		j.raw(",\n")
	}
}

func (j *jsonWriter) value(v any) {
	if j.err != nil {
		return
	}
	j.buf.Reset()
	if j.err = j.enc.Encode(v); j.err != nil {
		return
	}
	// Encode ends every value with a newline; sep puts its own.
	_, j.err = j.w.Write(bytes.TrimSuffix(j.buf.Bytes(), []byte("\n")))
}

func (j *jsonWriter) time(t time.Time) jsonTime {
	if t.IsZero() {
		return jsonTime{}
	}
	return jsonTime{t.In(j.loc)}
}

func (j *jsonWriter) timePtr(t *time.Time) jsonTime {
	if t == nil {
		return jsonTime{}
	}
	return j.time(*t)
}

// jsonNOK is øre written as a JSON number of kroner with two decimals,
// exactly: 10010 → 100.10 (money.Amount's JSON, as FP's payloads). Decoders
// that want exactness can read the number's text (json.Number) or use the
// *_ore field next to it.
type jsonNOK = money.Amount

// jsonTime is an RFC 3339 time with its offset, or null when zero.
type jsonTime struct{ t time.Time }

func (t jsonTime) MarshalJSON() ([]byte, error) {
	if t.t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(time.RFC3339Nano)+2)
	b = append(b, '"')
	b = t.t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

type jsonSummaryRow struct {
	Kind     string  `json:"kind"`
	Status   string  `json:"status"`
	Orders   int     `json:"orders"`
	Total    jsonNOK `json:"total"`
	TotalOre int64   `json:"total_ore"`
}

type jsonOrder struct {
	BatchID      int64  `json:"batch_id"`
	Source       string `json:"source"`
	SourceRow    int    `json:"source_row"`
	OrderRef     string `json:"order_ref"`
	Kind         string `json:"kind"`
	CustomerName string `json:"customer_name"`
	// PersonalNumber is masked (pii.MaskPersonalNumber); "" when none.
	PersonalNumber string   `json:"personal_number"`
	GrandTotal     jsonNOK  `json:"grand_total"`
	GrandTotalOre  int64    `json:"grand_total_ore"`
	FPOrderUUID    string   `json:"fp_order_uuid"`
	Status         string   `json:"status"`
	FPStatus       string   `json:"fp_status"`
	StatusAt       jsonTime `json:"status_at"`
	ImportedAt     jsonTime `json:"imported_at"`
	SubmittedAt    jsonTime `json:"submitted_at"`
	Attempts       int      `json:"attempts"`
	LastError      string   `json:"last_error"`
	// Exception is the types, separated by commas (Exceptions: the same
	// as a list).
	Exception      string   `json:"exception"`
	Exceptions     []string `json:"exceptions"`
	PaymentURL     string   `json:"payment_url"`
	OrderDate      string   `json:"order_date"` // YYYY-MM-DD or ""
	DueDate        string   `json:"due_date"`
	Net            jsonNOK  `json:"net"`
	NetOre         int64    `json:"net_ore"`
	VAT            jsonNOK  `json:"vat"`
	VATOre         int64    `json:"vat_ore"`
	Discount       jsonNOK  `json:"discount"`
	DiscountOre    int64    `json:"discount_ore"`
	PaidAmount     *jsonNOK `json:"paid_amount"` // null: FP did not report one
	PaidAmountOre  *int64   `json:"paid_amount_ore"`
	PaidAt         jsonTime `json:"paid_at"`
	RefundedAmount *jsonNOK `json:"refunded_amount"`
	RefundedOre    *int64   `json:"refunded_amount_ore"`
	RefundedAt     jsonTime `json:"refunded_at"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type jsonStatusRow struct {
	Status   string  `json:"status"`
	Group    string  `json:"group"`
	Orders   int     `json:"orders"`
	Total    jsonNOK `json:"total"`
	TotalOre int64   `json:"total_ore"`
}

type jsonGroupRow struct {
	Group    string  `json:"group"`
	Orders   int     `json:"orders"`
	Total    jsonNOK `json:"total"`
	TotalOre int64   `json:"total_ore"`
}

// jsonTotals ties the period out: its orders against what its batches
// imported; rejected rows and the errors behind them.
type jsonTotals struct {
	Orders         int     `json:"orders"`
	Total          jsonNOK `json:"total"`
	TotalOre       int64   `json:"total_ore"`
	ImportedOrders int     `json:"imported_orders"`
	Imported       jsonNOK `json:"imported"`
	ImportedOre    int64   `json:"imported_ore"`
	RejectedRows   int     `json:"rejected_rows"`
	RejectedErrors int     `json:"rejected_errors"`
}

type jsonVATRow struct {
	Rate        int     `json:"rate"`
	Lines       int     `json:"lines"`
	Net         jsonNOK `json:"net"`
	NetOre      int64   `json:"net_ore"`
	VAT         jsonNOK `json:"vat"`
	VATOre      int64   `json:"vat_ore"`
	Discount    jsonNOK `json:"discount"`
	DiscountOre int64   `json:"discount_ore"`
	Gross       jsonNOK `json:"gross"`
	GrossOre    int64   `json:"gross_ore"`
}

// jsonException has Exception's fields; the conversion keeps them in step.
type jsonException struct {
	Type     string `json:"type"`
	BatchID  int64  `json:"batch_id"`
	Source   string `json:"source"`
	Row      int    `json:"row"`
	OrderRef string `json:"order_ref"`
	Detail   string `json:"detail"`
}

type jsonBatch struct {
	ID         int64    `json:"id"`
	Source     string   `json:"source"`
	SHA256     string   `json:"sha256"`
	ImportedAt jsonTime `json:"imported_at"`
	Rows       int      `json:"rows"`
	Orders     int      `json:"orders"`
	Rejected   int      `json:"rejected"`
	Submitted  int      `json:"submitted"`
	Paid       int      `json:"paid"`
	Total      jsonNOK  `json:"total"`
	TotalOre   int64    `json:"total_ore"`
}
