package mapping

import (
	"fmt"
	"github.com/frontpayment/fpexport/internal/msg"
	"strings"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/money"
)

// The bounds on rates, quantities and order totals live with the money type;
// mapping checks lines and orders against them.
const (
	MaxRate       = money.MaxRate
	MaxQuantity   = money.MaxQuantity
	MaxGrandTotal = money.MaxGrandTotal
)

// DefaultTaxRates are the VAT rates FP accepts "unless otherwise configured".
var DefaultTaxRates = []int{0, 12, 15, 25}

// ParseTax reads a VAT rate in percent: "25", "25%", "25,0". A fraction such
// as 0.25 is refused rather than read as 25 %: a spreadsheet column
// formatted as percent gives 0.25, but 0.25 % is also a number someone could
// mean, and guessing with tax is worse than asking. The rate must be one of
// allowed (nil: DefaultTaxRates).
func ParseTax(raw string, allowed []int) (int, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	d, err := money.ParseDecimal(s)
	if err != nil || d.Neg {
		return 0, msg.Err("tax.invalid")
	}
	v, err := d.Scaled(3)
	if err != nil {
		return 0, msg.Err("tax.not_whole")
	}
	if v%1000 != 0 {
		if v > 0 && v < 1000 {
			return 0, msg.Err("tax.fraction", fpclient.Quantity(v*100), fpclient.Quantity(v*100))
		}
		return 0, msg.Err("tax.not_whole")
	}
	if allowed == nil {
		allowed = DefaultTaxRates
	}
	pct := v / 1000
	for _, a := range allowed {
		if int64(a) == pct {
			return a, nil
		}
	}
	return 0, msg.Err("tax.not_allowed", joinInts(allowed))
}

func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ", ")
}
