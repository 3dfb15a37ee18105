package mapping

import (
	"fmt"
	"github.com/frontpayment/fpexport/internal/msg"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

// LineTotals are one line's amounts. Gross, Net and Tax are before the
// discount; Amount is what the customer pays for the line.
type LineTotals struct {
	Gross    fpclient.Amount // round(quantity × rate)
	Net      fpclient.Amount // gross without VAT, rounded half-up to the øre
	Tax      fpclient.Amount // gross − net
	Discount fpclient.Amount
	Amount   fpclient.Amount // gross − discount
}

// Totals are an order's amounts as FP's orderSummary wants them
// (subTotal "before tax and discount"). SubTotal + TotalTax − TotalDiscount =
// GrandTotal always holds, because each line's tax is gross − net rather
// than a rounded product of its own.
type Totals struct {
	Lines         []LineTotals
	SubTotal      fpclient.Amount // Σ net
	TotalTax      fpclient.Amount // Σ tax
	TotalDiscount fpclient.Amount // Σ discount
	GrandTotal    fpclient.Amount // Σ amount
}

// Totals computes the order's amounts. It assumes a validated order (rates,
// quantities and the order total within MaxRate, MaxQuantity and
// MaxGrandTotal, as OrderBuilder and BuildPayload ensure), so nothing
// overflows.
func (o Order) Totals() Totals {
	t := Totals{Lines: make([]LineTotals, len(o.Lines))}
	for i, l := range o.Lines {
		lt := l.Totals()
		t.Lines[i] = lt
		t.SubTotal += lt.Net
		t.TotalTax += lt.Tax
		t.TotalDiscount += lt.Discount
		t.GrandTotal += lt.Amount
	}
	return t
}

// Totals computes one line's amounts.
func (l OrderLine) Totals() LineTotals {
	gross := lineGross(l.Quantity, l.Rate)
	net := fpclient.Amount(roundHalfUp(int64(gross)*100, int64(100+l.TaxPercent)))
	return LineTotals{
		Gross:    gross,
		Net:      net,
		Tax:      gross - net,
		Discount: l.Discount,
		Amount:   gross - l.Discount,
	}
}

// lineGross is quantity × rate rounded half-up to the øre (quantity is in
// thousandths).
func lineGross(q fpclient.Quantity, r fpclient.Amount) fpclient.Amount {
	return fpclient.Amount(roundHalfUp(int64(q)*int64(r), int64(fpclient.QuantityUnit)))
}

// roundHalfUp is n/d rounded to the nearest integer, halves away from zero
// (d > 0). 2n does not overflow for the bounded values used here (|n| ≤ 10^18).
func roundHalfUp(n, d int64) int64 {
	if n < 0 {
		return -roundHalfUp(-n, d)
	}
	return (2*n + d) / (2 * d)
}

// checkedTotal checks every line against the bounds and returns the grand
// total, stopping before a sum could overflow.
func checkedTotal(lines []OrderLine) (fpclient.Amount, error) {
	var total fpclient.Amount
	for i, l := range lines {
		switch {
		case l.Quantity <= 0 || l.Quantity > MaxQuantity:
			return 0, msg.Err("order.line_out_of_range", i+1, "quantity "+l.Quantity.String())
		case l.Rate < 0 || l.Rate > MaxRate:
			return 0, msg.Err("order.line_out_of_range", i+1, "rate "+l.Rate.NOK())
		case l.TaxPercent < 0 || l.TaxPercent > 100:
			return 0, msg.Err("order.line_out_of_range", i+1, fmt.Sprintf("tax %d %%", l.TaxPercent))
		}
		gross := lineGross(l.Quantity, l.Rate)
		if l.Discount < 0 || l.Discount > gross {
			return 0, msg.Err("order.line_out_of_range", i+1, "discount "+l.Discount.NOK())
		}
		total += gross - l.Discount
		if total > MaxGrandTotal {
			return 0, msg.Err("order.total_too_large", MaxGrandTotal.NOK())
		}
	}
	return total, nil
}

// fingerprintVersion changes only if the meaning of an Order's fields
// changes; adding an omitempty field keeps every old fingerprint.
const fingerprintVersion = "fpexport/mapping.Order/v1\n"

// Fingerprint is the SHA-256 (hex) of the order's content: everything but
// where it came from (Source, FirstRow, Rows). The same order imported again,
// even from another file or other rows, has the same fingerprint; a changed
// order has another.
func (o Order) Fingerprint() string {
	_, fp := o.Content()
	return fp
}
