package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/frontpayment/fpexport/internal/msg"
	"slices"
)

// OrderBuilder validates one order at a time. Grouping a file's lines into
// orders is not done here: intake (engine.go) streams a file and hands over
// each order's lines as soon as they are complete.
type OrderBuilder struct {
	b *builder
}

// NewOrderBuilder fixes the options (and "today") for a whole import.
func NewOrderBuilder(opt Options) *OrderBuilder { return &OrderBuilder{b: newBuilder(opt)} }

// Build validates the lines of one order (same trimmed order_ref, in row
// order; HeaderMap.Ref groups them). Columns other than product_id,
// product_name, quantity, rate, discount and tax belong to the order and
// are taken from its first row; later rows may leave them empty but must
// not contradict them. It returns the order and its warnings (rejected
// empty), or the errors and warnings of its rows; when any row has an
// error, every other row of the order gets one saying so, and rejected
// lists all of the order's rows (the order returned then holds only its
// kind, when known, and reference).
func (ob *OrderBuilder) Build(lines []Line) (o Order, errs []RowError, rejected []int) {
	o, errs = ob.b.order(lines)
	if !HasErrors(errs) {
		return o, errs, nil
	}
	bad := map[int]bool{}
	for _, e := range errs {
		if !e.Warning {
			bad[e.Row] = true
		}
	}
	badRows := make([]int, 0, len(bad))
	for r := range bad {
		badRows = append(badRows, r)
	}
	slices.Sort(badRows)
	for _, l := range lines {
		rejected = append(rejected, l.Row)
		if !bad[l.Row] {
			m := rejectedBecause(o.Ref, badRows)
			errs = append(errs, RowError{
				Source: l.Source, Row: l.Row, Column: colOrderRef, Value: l.Fields[colOrderRef],
				Msg: m, Reason: m.Text(msg.EN),
			})
		}
	}
	slices.SortStableFunc(errs, func(a, b RowError) int {
		if a.Row != b.Row {
			return a.Row - b.Row
		}
		return colRank(a.Column) - colRank(b.Column)
	})
	// A rejected order keeps only its kind and reference: a later import
	// that brings it valid closes these rejections.
	return Order{Ref: o.Ref, Kind: o.Kind}, errs, rejected
}

// Content is the order as stored (JSON, without its source position, which
// is kept beside it) and its Fingerprint, computed from the same bytes.
// The values of unused columns are stored but not fingerprinted: they are
// never sent, so changing one does not change the order.
func (o Order) Content() (data []byte, fingerprint string) {
	o.Source, o.FirstRow, o.Rows = "", 0, nil
	unused := o.Unused
	o.Unused = nil
	b := mustMarshal(o)
	h := sha256.New()
	h.Write([]byte(fingerprintVersion))
	h.Write(b)
	if len(unused) > 0 {
		o.Unused = unused
		b = mustMarshal(o)
	}
	return b, hex.EncodeToString(h.Sum(nil))
}

func mustMarshal(o Order) []byte {
	b, err := json.Marshal(o)
	if err != nil {
		// Order holds only strings, numbers, bools and a string map:
		// Marshal cannot fail.
		panic("mapping: content: " + err.Error())
	}
	return b
}
