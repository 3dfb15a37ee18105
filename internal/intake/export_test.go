package intake

import (
	"cmp"
	"errors"
	"hash/maphash"
	"io"
	"slices"

	"github.com/frontpayment/fpexport/internal/mapping"
)

// CheckOrders is Check that also returns the valid orders, in the order of
// their first rows: what tests of "a file becomes these orders" read. It
// uses the engine an import uses, grouping included.
func (f *File) CheckOrders() ([]mapping.Order, error) {
	seed := maphash.MakeSeed()
	var lastRow map[uint64]int
	for {
		e, err := f.newEngine(lastRow, seed)
		if err != nil {
			return nil, err
		}
		if lastRow == nil {
			e.seen = map[uint64]struct{}{}
		}
		var orders []mapping.Order
		for {
			var o mapping.Order
			if o, err = e.next(); err != nil {
				break
			}
			orders = append(orders, o)
		}
		e.src.Close()
		if errors.Is(err, errNotGrouped) && lastRow == nil {
			if lastRow, err = f.lastRows(seed); err != nil {
				return nil, err
			}
			continue
		}
		if err != io.EOF {
			return nil, err
		}
		f.Stats.sort()
		slices.SortStableFunc(orders, func(a, b mapping.Order) int { return cmp.Compare(a.FirstRow, b.FirstRow) })
		return orders, nil
	}
}
