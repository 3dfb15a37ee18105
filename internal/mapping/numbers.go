package mapping

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

// Bounds that keep every product in the money math inside int64:
// MaxQuantity × MaxRate = 10^9 × 10^9 = 10^18 < 9.2 × 10^18, and an order's
// total is checked line by line against MaxGrandTotal, so sums never wrap.
const (
	// MaxRate is the largest unit price accepted: 10 000 000.00 NOK.
	MaxRate fpclient.Amount = 10_000_000_00
	// MaxQuantity is the largest quantity accepted: 1 000 000.
	MaxQuantity fpclient.Quantity = 1_000_000 * fpclient.QuantityUnit
	// MaxGrandTotal is the largest order total accepted: 1 000 000 000.00 NOK.
	MaxGrandTotal fpclient.Amount = 1_000_000_000_00
)

// noiseTolerance: a value written with more decimals than its scale is accepted
// when it lies within 1e-6 of a value of that scale. That is float noise from
// an XLSX cell's raw value (0.30000000000000004, 4499.999999999999), never a
// genuine price (12.345 is 0.005 away from an øre and stays an error).
const noiseTolerance = 6 // decimals: 1e-6

var (
	errNotNumber = errors.New("not a number")
	errGrouping  = errors.New("thousands separators in the wrong place")
	errDecimals  = errors.New("too many decimals")
	errTooLarge  = errors.New("too large")
)

// decimal is a number as written, split into its parts; no arithmetic yet.
type decimal struct {
	neg       bool
	whole     string // integer digits, possibly with leading zeros
	frac      string // digits after the decimal separator
	sep       rune   // the decimal separator, 0 when there is none
	ambiguous bool   // "1.234" / "1,234": one separator and three digits after it
}

// parseDecimalText reads a number the way accountants and Excel write it:
// "1234.50", "1234,50", "1 234,50", "1.234,50", "1,234.50", with ordinary,
// no-break or narrow no-break spaces as thousands separators. With both '.'
// and ',' the last one is the decimal separator. A separator that appears
// once is the decimal separator; one that appears more than once groups
// thousands. Thousands groups must have three digits.
func parseDecimalText(s string) (decimal, error) { return parseDecimalMode(s, false) }

// parseDecimalMode is parseDecimalText; with whole set the number has no
// decimals (it was written "1.234,-"), so every separator groups thousands.
func parseDecimalMode(s string, whole bool) (decimal, error) {
	var d decimal
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "-"):
		d.neg, s = true, s[1:]
	case strings.HasPrefix(s, "\u2212"): // minus sign, as some tools export it
		d.neg, s = true, s[len("\u2212"):]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	s = strings.TrimSpace(s)

	type sepAt struct {
		r   rune
		pos int // number of digits before the separator
	}
	var digits []byte
	var seps []sepAt
	prevSep := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
			prevSep = false
		case r == '.' || r == ',' || unicode.IsSpace(r):
			if unicode.IsSpace(r) {
				r = ' '
			}
			if prevSep {
				return d, errNotNumber
			}
			seps = append(seps, sepAt{r, len(digits)})
			prevSep = true
		default:
			return d, errNotNumber
		}
	}
	if len(digits) == 0 || prevSep {
		return d, errNotNumber
	}

	var dots, commas, spaces int
	lastPunct := -1
	for i, sp := range seps {
		switch sp.r {
		case '.':
			dots++
			lastPunct = i
		case ',':
			commas++
			lastPunct = i
		default:
			spaces++
		}
	}
	dec := -1 // index in seps of the decimal separator
	switch {
	case whole:
	case dots > 0 && commas > 0:
		dec = lastPunct
		r := seps[dec].r
		if (r == '.' && dots != 1) || (r == ',' && commas != 1) {
			return d, errNotNumber
		}
	case dots == 1 && commas == 0, commas == 1 && dots == 0:
		dec = lastPunct
	}
	intEnd := len(digits)
	thousands := seps
	if dec >= 0 {
		if dec != len(seps)-1 {
			return d, errNotNumber // something after the decimal separator
		}
		d.sep = seps[dec].r
		intEnd = seps[dec].pos
		thousands = seps[:dec]
		d.ambiguous = spaces == 0 && len(seps) == 1 && len(digits)-intEnd == 3 &&
			strings.TrimLeft(string(digits[:intEnd]), "0") != ""
	}
	if len(thousands) > 0 {
		r := thousands[0].r
		prev := 0
		for i, sp := range thousands {
			if sp.r != r {
				return d, errGrouping
			}
			n := sp.pos - prev
			if (i == 0 && (n < 1 || n > 3)) || (i > 0 && n != 3) {
				return d, errGrouping
			}
			prev = sp.pos
		}
		if intEnd-prev != 3 {
			return d, errGrouping
		}
	}
	d.whole = string(digits[:intEnd])
	d.frac = string(digits[intEnd:])
	return d, nil
}

// scaled returns the value in units of 10^-scale, with the sign. More
// decimals than the scale are accepted only as float noise (see
// noiseTolerance).
func (d decimal) scaled(scale int) (int64, error) {
	whole := strings.TrimLeft(d.whole, "0")
	frac := d.frac
	roundUp := false
	if len(frac) > scale {
		rest := frac[scale:]
		frac = frac[:scale]
		k := noiseTolerance - scale
		head := rest
		if len(head) > k {
			head = head[:k]
		}
		switch {
		case strings.Trim(head, "0") == "":
			// just above a value of the scale (or trailing zeros)
		case len(head) == k && strings.Trim(head, "9") == "":
			roundUp = true
		default:
			return 0, errDecimals
		}
	}
	frac += strings.Repeat("0", scale-len(frac))
	if len(whole)+scale > 18 {
		return 0, errTooLarge
	}
	var v int64
	for _, c := range whole + frac {
		v = v*10 + int64(c-'0')
	}
	if roundUp {
		v++
	}
	if d.neg {
		v = -v
	}
	return v, nil
}

// stripCurrency removes the ways a Norwegian spreadsheet marks kroner:
// "kr 1 234,50", "NOK 1234", "1 234,50 kr", "1 234,-". whole reports the
// ",-" mark of whole kroner.
func stripCurrency(s string) (_ string, whole bool) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	for _, p := range []string{"nok", "kr.", "kr"} {
		if strings.HasPrefix(lower, p) {
			s, lower = strings.TrimSpace(s[len(p):]), strings.TrimSpace(lower[len(p):])
			break
		}
	}
	for _, p := range []string{"nok", "kr.", "kr"} {
		if strings.HasSuffix(lower, p) {
			s = strings.TrimSpace(s[:len(s)-len(p)])
			break
		}
	}
	// "1 234,-" is how Norwegians write whole kroner.
	for _, p := range []string{",-", ".-"} {
		if strings.HasSuffix(s, p) {
			return strings.TrimSpace(s[:len(s)-len(p)]), true
		}
	}
	return s, false
}

// ParseAmount reads an amount in NOK (a rate or a discount) into øre. It
// accepts the forms listed at parseDecimalText, a "kr"/"NOK" mark and ",-"
// for whole kroner, at most two decimals (float noise aside). Negative amounts
// are returned as such; callers decide whether they are allowed.
func ParseAmount(raw string) (fpclient.Amount, error) {
	d, err := parseDecimalMode(stripCurrency(raw))
	if err != nil {
		return 0, amountReason(err)
	}
	v, err := d.scaled(2)
	if errors.Is(err, errDecimals) {
		reason := "more than 2 decimals"
		if d.ambiguous {
			reason += fmt.Sprintf("; if %q means %s%s, write it without the separator", ShortValue(raw), ShortValue(d.whole), ShortValue(d.frac))
		}
		return 0, errors.New(reason)
	}
	if err != nil {
		return 0, amountReason(err)
	}
	return fpclient.Amount(v), nil
}

func amountReason(err error) error {
	switch {
	case errors.Is(err, errGrouping):
		return errors.New("thousands separators in the wrong place (write e.g. 1 234,50 or 1234.50)")
	case errors.Is(err, errTooLarge):
		return errors.New("too large")
	}
	return errors.New("not an amount (write e.g. 1234,50 or kr 1 234,50)")
}

// ParseQuantity reads a quantity (more than 0, at most 3 decimals) into
// thousandths.
func ParseQuantity(raw string) (fpclient.Quantity, error) {
	d, err := parseDecimalText(raw)
	if err != nil {
		switch {
		case errors.Is(err, errGrouping):
			return 0, errors.New("thousands separators in the wrong place")
		}
		return 0, errors.New("not a number (write e.g. 2 or 1,5)")
	}
	v, err := d.scaled(3)
	switch {
	case errors.Is(err, errDecimals):
		return 0, errors.New("more than 3 decimals")
	case err != nil:
		return 0, fmt.Errorf("more than %s", MaxQuantity)
	case v <= 0:
		return 0, errors.New("must be more than 0")
	case v > int64(MaxQuantity):
		return 0, fmt.Errorf("more than %s", MaxQuantity)
	}
	return fpclient.Quantity(v), nil
}

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
	d, err := parseDecimalText(s)
	if err != nil || d.neg {
		return 0, errors.New("not a VAT rate (write e.g. 25 for 25 %)")
	}
	v, err := d.scaled(3)
	if err != nil {
		return 0, errors.New("not a whole percentage (write e.g. 25 for 25 %)")
	}
	if v%1000 != 0 {
		if v > 0 && v < 1000 {
			return 0, fmt.Errorf("looks like a fraction; write the rate in percent, e.g. %s for %s %%",
				fpclient.Quantity(v*100), fpclient.Quantity(v*100))
		}
		return 0, errors.New("not a whole percentage (write e.g. 25 for 25 %)")
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
	return 0, fmt.Errorf("not an allowed VAT rate (allowed: %s)", joinInts(allowed))
}

func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ", ")
}
