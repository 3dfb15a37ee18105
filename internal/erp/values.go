package erp

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// cellText turns one value of the ERP's result into the text mapping reads,
// as if it had been typed in a spreadsheet: numbers as plain decimals with a
// point and their scale ("950.00", never an exponent), dates as YYYY-MM-DD
// (a timestamp with time zone is taken on its calendar day in loc, Europe/
// Oslo), booleans as true/false, NULL as "". Text is trimmed (char(n) pads).
// A type that has no such reading is an error naming it; the query can cast
// the column (::text).
func cellText(v any, oid uint32, loc *time.Location) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case pgtype.Numeric:
		return numericText(x), nil
	case time.Time:
		if oid == pgtype.TimestamptzOID {
			x = x.In(loc)
		}
		return x.Format(time.DateOnly), nil
	case pgtype.InfinityModifier: // an infinite date or timestamp: mapping rejects it as a date
		return x.String(), nil
	case [16]byte: // uuid
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16]), nil
	}
	return "", fmt.Errorf("values of type %T cannot be read as a cell; cast the column to text in the query", v)
}

// numericText writes a numeric as a plain decimal keeping its scale:
// {Int: 95000, Exp: -2} is "950.00", {Int: 5, Exp: -3} is "0.005".
func numericText(n pgtype.Numeric) string {
	switch {
	case !n.Valid:
		return ""
	case n.NaN:
		return "NaN"
	case n.InfinityModifier == pgtype.Infinity:
		return "Infinity"
	case n.InfinityModifier == pgtype.NegativeInfinity:
		return "-Infinity"
	case n.Int == nil:
		return "0"
	}
	digits := new(big.Int).Abs(n.Int).String()
	if n.Exp > 0 {
		digits += strings.Repeat("0", int(n.Exp))
	} else if n.Exp < 0 {
		frac := int(-n.Exp)
		if len(digits) <= frac {
			digits = strings.Repeat("0", frac-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-frac] + "." + digits[len(digits)-frac:]
	}
	if n.Int.Sign() < 0 {
		return "-" + digits
	}
	return digits
}

// A watermark is stored as text in PostgreSQL's input syntax, so it goes back
// to the query as $1 unchanged (pgx sends a string parameter as text, and the
// server parses it as the parameter's type). Timestamps keep their
// microseconds: rounding would read a row again or, worse, skip one.
const (
	layoutTimestamptz = "2006-01-02T15:04:05.999999Z07:00"
	layoutTimestamp   = "2006-01-02T15:04:05.999999"
)

// mark is a watermark value with what it is compared by.
type mark struct {
	text string
	t    time.Time // timestamps and dates
	n    *big.Rat  // integers and numerics
}

func (a mark) less(b mark) bool {
	if a.n != nil {
		return a.n.Cmp(b.n) < 0
	}
	return a.t.Before(b.t)
}

// watermarkTypes are the types a watermark column may have.
var watermarkTypes = map[uint32]bool{
	pgtype.TimestamptzOID: true, pgtype.TimestampOID: true, pgtype.DateOID: true,
	pgtype.Int2OID: true, pgtype.Int4OID: true, pgtype.Int8OID: true, pgtype.NumericOID: true,
}

// firstWatermark is $1 before a source's first import: below every value of
// the parameter's type, so the first run reads everything. A numeric gets a
// finite number (numeric infinities need PostgreSQL 14).
var firstWatermark = map[uint32]string{
	pgtype.TimestamptzOID: "-infinity", pgtype.TimestampOID: "-infinity", pgtype.DateOID: "-infinity",
	pgtype.Int2OID: "-32768", pgtype.Int4OID: "-2147483648", pgtype.Int8OID: "-9223372036854775808",
	pgtype.NumericOID: "-1e100",
}

// markOf reads the watermark column of one row; ok is false for NULL (such a
// row does not move the watermark).
func markOf(v any, oid uint32) (m mark, ok bool, err error) {
	var text string
	switch x := v.(type) {
	case nil:
		return mark{}, false, nil
	case time.Time:
		switch oid {
		case pgtype.TimestamptzOID:
			text = x.UTC().Format(layoutTimestamptz)
		case pgtype.TimestampOID:
			text = x.Format(layoutTimestamp)
		default:
			text = x.Format(time.DateOnly)
		}
	case int16:
		text = strconv.FormatInt(int64(x), 10)
	case int32:
		text = strconv.FormatInt(int64(x), 10)
	case int64:
		text = strconv.FormatInt(x, 10)
	case pgtype.Numeric:
		if x.NaN || x.InfinityModifier != pgtype.Finite {
			return mark{}, false, fmt.Errorf("%s is not a usable watermark", numericText(x))
		}
		text = numericText(x)
	case pgtype.InfinityModifier:
		return mark{}, false, fmt.Errorf("%s is not a usable watermark", x)
	default:
		return mark{}, false, fmt.Errorf("values of type %T cannot be a watermark", v)
	}
	m, err = parseMark(text, oid)
	return m, err == nil, err
}

// parseMark reads a stored watermark for comparison with a column of type oid.
func parseMark(text string, oid uint32) (mark, error) {
	m := mark{text: text}
	var err error
	switch oid {
	case pgtype.TimestamptzOID:
		m.t, err = time.Parse(layoutTimestamptz, text)
	case pgtype.TimestampOID:
		m.t, err = time.Parse(layoutTimestamp, text)
	case pgtype.DateOID:
		m.t, err = time.Parse(time.DateOnly, text)
	default:
		var ok bool
		if m.n, ok = new(big.Rat).SetString(text); !ok {
			err = fmt.Errorf("%q is not a number", text)
		}
	}
	return m, err
}
