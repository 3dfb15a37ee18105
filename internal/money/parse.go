package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/frontpayment/fpexport/internal/msg"
	"regexp"
	"strings"
	"unicode"
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

// Decimal is a number as written, split into its parts; no arithmetic yet.
// Callers that read other numbers the way amounts are written (a VAT rate, a
// number of days) parse with ParseDecimal, look at Neg and call Scaled.
type Decimal struct {
	Neg       bool
	whole     string // integer digits, possibly with leading zeros
	frac      string // digits after the decimal separator
	ambiguous bool   // "1.234" / "1,234": one separator and three digits after it
}

// ParseDecimal reads a number the way accountants and Excel write it:
// "1234.50", "1234,50", "1 234,50", "1.234,50", "1,234.50", with ordinary,
// no-break or narrow no-break spaces as thousands separators. With both '.'
// and ',' the last one is the decimal separator. A separator that appears
// once is the decimal separator; one that appears more than once groups
// thousands. Thousands groups must have three digits.
func ParseDecimal(s string) (Decimal, error) { return parseDecimalMode(s, false) }

// parseDecimalMode is ParseDecimal; with whole set the number has no
// decimals (it was written "1.234,-"), so every separator groups thousands.
func parseDecimalMode(s string, whole bool) (Decimal, error) {
	var d Decimal
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "-"):
		d.Neg, s = true, s[1:]
	case strings.HasPrefix(s, "\u2212"): // minus sign, as some tools export it
		d.Neg, s = true, s[len("\u2212"):]
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

// Scaled returns the value in units of 10^-scale, with the sign. More
// decimals than the scale are accepted only as float noise (see
// noiseTolerance), and the value must have at most 18 digits at that scale,
// which keeps products of bounded values inside int64.
func (d Decimal) Scaled(scale int) (int64, error) { return d.scaled(scale, false) }

// scaled is Scaled; strict (FP's JSON) refuses float noise, accepting only
// trailing zeros beyond the scale, and accepts any value that fits an int64.
func (d Decimal) scaled(scale int, strict bool) (int64, error) {
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
		case strict:
			if strings.TrimRight(rest, "0") != "" {
				return 0, errDecimals
			}
		case strings.Trim(head, "0") == "":
			// just above a value of the scale (or trailing zeros)
		case len(head) == k && strings.Trim(head, "9") == "":
			roundUp = true
		default:
			return 0, errDecimals
		}
	}
	frac += strings.Repeat("0", scale-len(frac))
	if !strict && len(whole)+scale > 18 {
		return 0, errTooLarge
	}
	const maxInt64 = 1<<63 - 1
	var v int64
	for _, c := range whole + frac {
		n := int64(c - '0')
		if v > (maxInt64-n)/10 {
			return 0, errTooLarge
		}
		v = v*10 + n
	}
	if roundUp {
		v++
	}
	if d.Neg {
		v = -v
	}
	return v, nil
}

// ParsePlain parses a plain decimal as FP's JSON writes it ("-12.5", ".5",
// "5.") into an integer scaled by 10^scale, refusing more decimals than the
// scale holds (trailing zeros aside), signs anywhere but the front, grouping,
// and values that do not fit an int64.
func ParsePlain(s string, scale int) (int64, error) {
	if !plainDecimal.MatchString(s) {
		return 0, errNotNumber
	}
	var d Decimal
	d.Neg = strings.HasPrefix(s, "-")
	d.whole, d.frac, _ = strings.Cut(strings.TrimPrefix(s, "-"), ".")
	v, err := d.scaled(scale, true)
	if errors.Is(err, errDecimals) {
		return 0, fmt.Errorf("more than %d decimals", scale)
	}
	return v, err
}

// plainDecimal is an optional minus, digits, an optional point and digits,
// with at least one digit somewhere.
var plainDecimal = regexp.MustCompile(`^-?(\d+\.?\d*|\.\d+)$`)

// numericText returns the text of a JSON number or numeric string.
func numericText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	}
	return string(b), nil
}

func fmtErr(what, s string, err error) error { return fmt.Errorf("%s %s: %w", what, s, err) }

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

// ParseAmount reads an amount in NOK (a rate or a discount) as written in a
// spreadsheet cell into øre. It accepts the forms listed at ParseDecimal, a
// "kr"/"NOK" mark and ",-" for whole kroner, at most two decimals (float
// noise aside). Negative amounts are returned as such; callers decide
// whether they are allowed. The reasons are written for the accountant who
// fixes the cell.
func ParseAmount(raw string) (Amount, error) {
	d, err := parseDecimalMode(stripCurrency(raw))
	if err != nil {
		return 0, amountReason(err)
	}
	v, err := d.Scaled(2)
	if errors.Is(err, errDecimals) {
		if d.ambiguous {
			return 0, msg.Err("amount.decimals_ambiguous", short(raw), short(d.whole)+short(d.frac))
		}
		return 0, msg.Err("amount.decimals")
	}
	if err != nil {
		return 0, amountReason(err)
	}
	return Amount(v), nil
}

func amountReason(err error) error {
	switch {
	case errors.Is(err, errGrouping):
		return msg.Err("amount.grouping")
	case errors.Is(err, errTooLarge):
		return msg.Err("amount.too_large")
	}
	return msg.Err("amount.invalid")
}

// ParseQuantity reads a quantity as written in a spreadsheet cell (more than
// 0, at most MaxQuantity, at most 3 decimals) into thousandths.
func ParseQuantity(raw string) (Quantity, error) {
	d, err := ParseDecimal(raw)
	if err != nil {
		switch {
		case errors.Is(err, errGrouping):
			return 0, msg.Err("quantity.grouping")
		}
		return 0, msg.Err("quantity.invalid")
	}
	v, err := d.Scaled(3)
	switch {
	case errors.Is(err, errDecimals):
		return 0, msg.Err("quantity.decimals")
	case err != nil:
		return 0, msg.Err("quantity.too_large", MaxQuantity)
	case v <= 0:
		return 0, msg.Err("quantity.not_positive")
	case v > int64(MaxQuantity):
		return 0, msg.Err("quantity.too_large", MaxQuantity)
	}
	return Quantity(v), nil
}

// shortRunes is how much of a cell an error quotes: the same cut as
// mapping.ShortValue (which this package cannot import), since a cell of a
// hostile file may be tens of kilobytes.
const shortRunes = 80

func short(v string) string {
	if len(v) <= shortRunes {
		return v
	}
	n := 0
	for i := range v {
		if n == shortRunes {
			return v[:i] + "…"
		}
		n++
	}
	return v
}
