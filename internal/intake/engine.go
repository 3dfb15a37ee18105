package intake

import (
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"

	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/store"
)

// rowSource yields a table's rows one by one (io.EOF at the end).
type rowSource interface {
	Next() (importers.Row, error)
	Close() error
}

// sliceSource serves rows already in memory (the ERP table).
type sliceSource struct {
	rows []importers.Row
	i    int
}

func (s *sliceSource) Next() (importers.Row, error) {
	if s.i >= len(s.rows) {
		return importers.Row{}, io.EOF
	}
	s.i++
	return s.rows[s.i-1], nil
}

func (s *sliceSource) Close() error { return nil }

// errNotGrouped means an order's lines are not next to each other; the
// engine then reads the input again with an index of each order's last row.
var errNotGrouped = errors.New("order lines are not grouped")

// engine turns a stream of rows into validated orders, one order at a time,
// so memory holds only the order being read (and, for a file whose orders'
// lines are scattered, the orders still open).
//
// Most files list an order's lines together. The engine reads once,
// finishing an order when the next row has another reference. If a
// reference comes back later, it stops with errNotGrouped; the caller
// starts again with lastRow (built by indexLastRows), and orders are then
// finished at their last row wherever their lines are.
type engine struct {
	name    string
	hm      mapping.HeaderMap
	header  []string
	builder *mapping.OrderBuilder
	src     rowSource
	lastRow map[uint64]int // nil: grouped mode
	seed    maphash.Seed

	// grouped mode
	cur     string
	curRows []importers.Row
	// seen detects a reference coming back (lines not grouped) when no
	// database does: a dry run. An import lets the database find it
	// (store.ErrSplitOrder), so memory does not grow with the file.
	seen map[uint64]struct{}
	// indexed mode
	open map[string]*group

	lang    msg.Lang // of the reasons in stats.Rejected
	ready   []group  // orders whose lines are all read, not yet taken
	stats   *Stats
	done    bool
	onRow   func(n int)
	rowSeen int
}

// group is the rows of one order. Their Lines are built when the order is
// validated, not while reading: on an XLSX the reader is the import's
// bottleneck, and it does no more than it must.
type group struct {
	rows []importers.Row
}

func newEngine(name string, header []string, hm mapping.HeaderMap, b *mapping.OrderBuilder, src rowSource, lastRow map[uint64]int, seed maphash.Seed, stats *Stats, onRow func(int)) *engine {
	return &engine{name: name, header: header, hm: hm, builder: b, src: src, lastRow: lastRow, seed: seed,
		open: map[string]*group{}, stats: stats, onRow: onRow}
}

func (e *engine) hash(ref string) uint64 { return maphash.String(e.seed, ref) }

// next returns the next valid order; io.EOF when the input is done.
// Rejected rows are recorded in stats as they are found.
func (e *engine) next() (mapping.Order, error) {
	for {
		g, err := e.nextGroup()
		if err != nil {
			return mapping.Order{}, err
		}
		if o, ok := e.validate(g); ok {
			return o, nil
		}
	}
}

// nextGroup returns the lines of the next order whose lines are all read.
// It reads; validate checks. Split, they can run in two goroutines.
func (e *engine) nextGroup() (group, error) {
	for len(e.ready) == 0 {
		if e.done {
			return group{}, io.EOF
		}
		if err := e.step(); err != nil {
			return group{}, err
		}
	}
	g := e.ready[0]
	e.ready = e.ready[1:]
	return g, nil
}

// drain reads to the end, keeping only Stats.
func (e *engine) drain() error {
	defer e.src.Close()
	for {
		if _, err := e.next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// step reads one row (or finishes the input).
func (e *engine) step() error {
	row, err := e.src.Next()
	if err == io.EOF {
		e.done = true
		if e.lastRow == nil {
			e.finish(e.curRows)
			e.curRows = nil
		}
		for _, g := range e.open { // cannot happen with a correct index
			e.finish(g.rows)
		}
		return nil
	}
	if err != nil {
		return err
	}
	e.rowSeen++
	e.stats.Rows++
	if e.onRow != nil && e.rowSeen%1000 == 0 {
		e.onRow(e.rowSeen)
	}
	if e.hm.Blank(row.Cells) {
		return nil
	}
	ref := e.hm.Ref(row.Cells)
	if ref == "" { // an order of its own, and rejected
		e.finish([]importers.Row{row})
		return nil
	}
	if e.lastRow != nil {
		g := e.open[ref]
		if g == nil {
			g = &group{}
			e.open[ref] = g
		}
		g.rows = append(g.rows, row)
		if e.lastRow[e.hash(ref)] == row.Number {
			delete(e.open, ref)
			e.finish(g.rows)
		}
		return nil
	}
	if ref != e.cur {
		e.finish(e.curRows)
		if e.seen != nil {
			h := e.hash(ref)
			if _, dup := e.seen[h]; dup {
				return errNotGrouped
			}
			e.seen[h] = struct{}{}
		}
		e.cur, e.curRows = ref, nil
	}
	e.curRows = append(e.curRows, row)
	return nil
}

// finish hands over one order's rows.
func (e *engine) finish(rows []importers.Row) {
	if len(rows) > 0 {
		e.ready = append(e.ready, group{rows: rows})
	}
}

// validate checks one order's lines, recording a rejected order's rows in
// stats. Only one goroutine may call it (stats is not locked).
func (e *engine) validate(g group) (mapping.Order, bool) {
	lines := make([]mapping.Line, len(g.rows))
	for i, r := range g.rows {
		lines[i] = e.hm.Line(e.name, r.Number, r.Cells)
	}
	o, errs, rejected := e.builder.Build(lines)
	if len(errs) > 0 {
		e.hm.NameColumns(e.header, errs) // name the accountant's own header in each error
	}
	if len(rejected) == 0 {
		e.stats.addOrder(o)
		e.stats.Warnings = append(e.stats.Warnings, errs...)
		return o, true
	}
	e.stats.addRejected(o, errs, rejected, g.rows, e.lang, e.hm)
	return mapping.Order{}, false
}

// indexLastRows reads a source once and returns, per order reference, the
// row number of its last line.
func indexLastRows(name string, hm mapping.HeaderMap, src rowSource, seed maphash.Seed) (map[uint64]int, error) {
	defer src.Close()
	last := map[uint64]int{}
	for {
		row, err := src.Next()
		if err == io.EOF {
			return last, nil
		}
		if err != nil {
			return nil, err
		}
		if ref := hm.Ref(row.Cells); ref != "" {
			last[maphash.String(seed, ref)] = row.Number
		}
	}
}

// Stats is what reading a file found.
type Stats struct {
	Rows     int // non-blank data rows
	Orders   int // valid orders
	ByKind   map[string]*KindTotal
	Errors   []mapping.RowError   // every problem of the rejected orders (their warnings too), in row order within an order
	Warnings []mapping.RowError   // the warnings of the valid orders
	Rejected []importers.ErrorRow // rejected rows with their reasons, for the error file

	orderOf map[int]store.OrderKey // a rejected row's order (kind, reference)
}

func (s *Stats) addOrder(o mapping.Order) {
	s.Orders++
	if s.ByKind == nil {
		s.ByKind = map[string]*KindTotal{}
	}
	kt := s.ByKind[string(o.Kind)]
	if kt == nil {
		kt = &KindTotal{Kind: o.Kind}
		s.ByKind[string(o.Kind)] = kt
	}
	kt.Orders++
	kt.Total += o.Totals().GrandTotal
}

func (s *Stats) addRejected(o mapping.Order, errs []mapping.RowError, rejected []int, rows []importers.Row, lang msg.Lang, hm mapping.HeaderMap) {
	s.Errors = append(s.Errors, errs...)
	if s.orderOf == nil {
		s.orderOf = map[int]store.OrderKey{}
	}
	for _, r := range rejected {
		s.orderOf[r] = store.OrderKey{Kind: string(o.Kind), Ref: o.Ref}
	}
	reasons, warnings := map[int][]string{}, map[int][]string{}
	marked := map[int][]int{}
	repaired := map[int]map[int]string{} // row → position → the value that would be sent
	for _, e := range errs {
		if pos, ok := hm[e.Column]; ok && e.Column != "" && strings.HasPrefix(e.Msg.ID, "repair.") && len(e.Msg.Args) == 2 {
			if repaired[e.Row] == nil {
				repaired[e.Row] = map[int]string{}
			}
			repaired[e.Row][pos] = e.Msg.Args[1]
		}
		if e.Warning {
			warnings[e.Row] = append(warnings[e.Row], describe(e, lang))
		} else {
			reasons[e.Row] = append(reasons[e.Row], describe(e, lang))
		}
		if pos, ok := hm[e.Column]; ok && e.Column != "" {
			marked[e.Row] = append(marked[e.Row], pos)
		}
	}
	isRejected := map[int]bool{}
	for _, r := range rejected {
		isRejected[r] = true
	}
	for _, r := range rows {
		if isRejected[r.Number] {
			cells := r.Cells
			if fix := repaired[r.Number]; fix != nil {
				// The error file holds the repaired value: the accountant
				// fixes the other cells, and need not retype this one.
				cells = slices.Clone(cells)
				for pos, v := range fix {
					if pos < len(cells) {
						cells[pos] = v
					}
				}
			}
			s.Rejected = append(s.Rejected, importers.ErrorRow{Number: r.Number, Cells: cells,
				Errors: joinReasons(reasons[r.Number]), Warnings: joinReasons(warnings[r.Number]), Marked: marked[r.Number]})
		}
	}
}

func joinReasons(rs []string) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += "; "
		}
		out += r
	}
	return out
}

// describe is a reason as the error file gives it, naming the file's own
// header ("Postnummer: …") in the reader's language.
func describe(e mapping.RowError, lang msg.Lang) string {
	if e.Column == "" {
		return e.Text(lang)
	}
	return fmt.Sprintf("%s: %s", cmp.Or(e.Header, e.Column), e.Text(lang))
}
