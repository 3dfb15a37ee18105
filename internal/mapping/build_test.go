package mapping

import (
	"fmt"
	"strings"
)

// Grouping a file's lines into orders is intake's (engine.go), tested
// there. These tests validate orders whose lines they write down one order
// after another, each order's lines together, which is how intake hands
// them to OrderBuilder.Build.

// result is what validating a few orders gives.
type result struct {
	Orders       []Order
	Errors       []RowError // errors only
	Warnings     []RowError
	RejectedRows map[int]bool
}

// buildOrders validates lines that hold one or more orders, each order's
// lines next to each other (a new order_ref starts a new order; a line
// without one is an order of its own). Blank lines are skipped, as intake
// skips them. It panics if an order's lines are not together: that case is
// intake's to test.
func buildOrders(lines []Line, opt Options) result {
	ob := NewOrderBuilder(opt)
	res := result{RejectedRows: map[int]bool{}}
	done := map[string]bool{}
	var cur []Line
	flush := func() {
		if len(cur) == 0 {
			return
		}
		o, errs, rejected := ob.Build(cur)
		if len(rejected) == 0 {
			res.Orders = append(res.Orders, o)
		}
		for _, r := range rejected {
			res.RejectedRows[r] = true
		}
		for _, e := range errs {
			if e.Warning {
				res.Warnings = append(res.Warnings, e)
			} else {
				res.Errors = append(res.Errors, e)
			}
		}
		cur = nil
	}
	for _, l := range lines {
		if blank(l) {
			continue
		}
		ref := strings.TrimSpace(l.Fields[colOrderRef])
		if len(cur) > 0 && (ref == "" || ref != strings.TrimSpace(cur[0].Fields[colOrderRef])) {
			flush()
		}
		if ref != "" && done[ref] && len(cur) == 0 {
			panic(fmt.Sprintf("buildOrders: order %s's lines are not together; test that on intake", ref))
		}
		done[ref] = true
		cur = append(cur, l)
	}
	flush()
	return res
}

// blank reports a line with no value in any column.
func blank(l Line) bool {
	for _, v := range l.Fields {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}
