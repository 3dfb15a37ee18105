// Package money holds fpexport's one type for amounts (Amount, integer øre)
// and for quantities (Quantity, thousandths): how they are read from a
// spreadsheet cell or FP's JSON, and how they are written for FP's JSON, the
// CLI, the reports and the web page. Money never goes through a float here;
// the only float is the XLSX report's number cell, which Excel needs.
//
// The package is pure: no database, queue or HTTP.
package money

import (
	"strconv"
	"strings"
)

// Amount is money in øre (1/100 NOK). It marshals as a JSON number in NOK with
// exactly two decimals (4017.86), never through a float. It unmarshals from a
// JSON number or a numeric string, as Laravel's `numeric` rule accepts both
// (FP's own examples send "40" and "0.00").
type Amount int64

// Bounds that keep every product in the money math inside int64:
// MaxQuantity × MaxRate = 10^9 × 10^9 = 10^18 < 9.2 × 10^18, and an order's
// total is checked line by line against MaxGrandTotal, so sums never wrap.
const (
	// MaxRate is the largest unit price accepted: 10 000 000.00 NOK.
	MaxRate Amount = 10_000_000_00
	// MaxQuantity is the largest quantity accepted: 1 000 000.
	MaxQuantity Quantity = 1_000_000 * QuantityUnit
	// MaxGrandTotal is the largest order total accepted: 1 000 000 000.00 NOK.
	MaxGrandTotal Amount = 1_000_000_000_00
)

// NOK formats the amount as kroner with exactly two decimals and a point, for
// machines (FP's JSON, the CLI, JSON reports): 450000 → "4500.00",
// -5 → "-0.05". It is exact for every int64.
func (a Amount) NOK() string {
	var b [24]byte
	return string(a.AppendNOK(b[:0], '.'))
}

// AppendNOK appends NOK's text with decimalSep as the decimal separator
// (',' for a CSV report read by a Norwegian Excel) and no grouping. It
// allocates nothing beyond dst, for reports of a million orders.
func (a Amount) AppendNOK(dst []byte, decimalSep byte) []byte {
	u := uint64(a)
	if a < 0 {
		dst = append(dst, '-')
		u = -u // two's complement: right for math.MinInt64 too
	}
	dst = strconv.AppendUint(dst, u/100, 10)
	return append(dst, decimalSep, byte('0'+u%100/10), byte('0'+u%10))
}

// Display formats the amount for people reading a page: "1 234,50" in
// Norwegian (lang "no" or anything but "en"), "1,234.50" in English. The
// Norwegian thousands separator is a no-break space so that an amount never
// wraps across lines.
func (a Amount) Display(lang string) string {
	group, dec := "\u00a0", byte(',')
	if lang == "en" {
		group, dec = ",", '.'
	}
	var b [32]byte
	plain := a.AppendNOK(b[:0], dec) // "-1234,50"
	sign, digits := "", plain[:len(plain)-3]
	if len(digits) > 0 && digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	var s strings.Builder
	s.WriteString(sign)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			s.WriteString(group)
		}
		s.WriteByte(c)
	}
	s.Write(plain[len(plain)-3:])
	return s.String()
}

// MarshalJSON writes the amount as a JSON number in NOK (NOK's text).
func (a Amount) MarshalJSON() ([]byte, error) { return a.AppendNOK(nil, '.'), nil }

// UnmarshalJSON reads a JSON number or numeric string in NOK, strictly: a
// plain decimal with at most two decimals (trailing zeros aside).
func (a *Amount) UnmarshalJSON(b []byte) error {
	s, err := numericText(b)
	if err != nil {
		return err
	}
	v, err := ParsePlain(s, 2)
	if err != nil {
		return fmtErr("amount", s, err)
	}
	*a = Amount(v)
	return nil
}

// Quantity is a line's quantity in thousandths (1500 = 1.5), so hours and
// kilos can be sent without floats. It marshals as a JSON number ("1", "1.5").
type Quantity int64

// QuantityUnit is one whole unit.
const QuantityUnit Quantity = 1000

// String writes the quantity with as few decimals as it needs: "1", "1.5",
// "0.001".
func (q Quantity) String() string {
	var b [24]byte
	return string(q.appendText(b[:0]))
}

func (q Quantity) appendText(dst []byte) []byte {
	u := uint64(q)
	if q < 0 {
		dst = append(dst, '-')
		u = -u
	}
	dst = strconv.AppendUint(dst, u/1000, 10)
	if frac := u % 1000; frac != 0 {
		d := []byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		for d[len(d)-1] == '0' {
			d = d[:len(d)-1]
		}
		dst = append(dst, d...)
	}
	return dst
}

// MarshalJSON writes the quantity as a JSON number (String's text).
func (q Quantity) MarshalJSON() ([]byte, error) { return q.appendText(nil), nil }

// UnmarshalJSON reads a JSON number or numeric string, strictly: a plain
// decimal with at most three decimals (trailing zeros aside).
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s, err := numericText(b)
	if err != nil {
		return err
	}
	v, err := ParsePlain(s, 3)
	if err != nil {
		return fmtErr("quantity", s, err)
	}
	*q = Quantity(v)
	return nil
}
