package report

import (
	"archive/zip"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/pii"
)

// The workbook's sheets, in order. Summary is first and active.
// These are their English names; SheetName gives a sheet's name in the
// report's language.
const (
	SheetSummary    = "Summary"
	SheetOrders     = "Orders"
	SheetVAT        = "VAT"
	SheetExceptions = "Exceptions"
	SheetBatches    = "Batches"
)

// Number formats are stored in Excel's locale-independent syntax ("," groups
// thousands, "." marks decimals) and displayed in the reader's locale, so
// Norwegian Excel shows 4500 kroner as "4 500,00 kr". Writing the Norwegian
// form "# ##0,00" into the file would be wrong: Excel would read the space
// and comma as literal characters.
const (
	moneyFormat    = `#,##0.00 "kr"`
	dateTimeFormat = "yyyy-mm-dd hh:mm:ss"
	dateFormat     = "yyyy-mm-dd"
)

type column struct {
	key   string  // label key of the header
	width float64 // in characters
}

// orderColumns are the columns of the Orders sheet and of the orders CSV,
// whose rows are built by xlsxWriter.orders and writeOrdersCSV in this
// same order.
var orderColumns = []column{
	{"col.batch", 8},
	{"col.file", 28},
	{"col.row", 7},
	{"col.order_ref", 16},
	{"col.kind", 16},
	{"col.customer", 28},
	{"col.personal_number", 16},
	{"col.order_date", 12},
	{"col.due_date", 12},
	{"col.net", 16},
	{"col.vat", 14},
	{"col.discount", 14},
	{"col.grand_total", 18},
	{"col.paid_amount", 18},
	{"col.paid_at", 19},
	{"col.refunded_amount", 18},
	{"col.fp_order", 38},
	{"col.status", 17},
	{"col.fp_status", 18},
	{"col.status_at", 19},
	{"col.imported_at", 19},
	{"col.submitted_at", 19},
	{"col.attempts", 9},
	{"col.last_error", 40},
	{"col.exception", 24},
	{"col.payment_url", 40},
}

var exceptionColumns = []column{
	{"col.type", 24},
	{"col.batch", 8},
	{"col.file", 28},
	{"col.row", 7},
	{"col.order_ref", 16},
	{"col.detail", 70},
}

var batchColumns = []column{
	{"col.batch", 8},
	{"col.file", 32},
	{"col.sha256", 70},
	{"col.imported_at", 19},
	{"col.rows", 8},
	{"col.orders", 8},
	{"col.rejected", 12},
	{"col.submitted", 12},
	{"col.paid", 8},
	{"col.total", 18},
}

var vatColumns = []column{
	{"col.rate", 14},
	{"col.lines", 12},
	{"col.net", 18},
	{"col.vat", 16},
	{"col.discount", 16},
	{"col.gross", 18},
}

// SheetName is sheet (one of the Sheet constants) as the workbook names it
// in lang.
func SheetName(lang, sheet string) string {
	switch sheet {
	case SheetSummary:
		return label(lang, "sheet.summary")
	case SheetOrders:
		return label(lang, "sheet.orders")
	case SheetVAT:
		return label(lang, "sheet.vat")
	case SheetExceptions:
		return label(lang, "sheet.exceptions")
	case SheetBatches:
		return label(lang, "sheet.batches")
	}
	return sheet
}

// WriteXLSX writes the report as a workbook with the sheets Summary, Orders,
// VAT, Exceptions and Batches (named in the report's language: SheetName).
//
// Every sheet goes through excelize's StreamWriter, which spills rows to a
// temporary file (os.TempDir) beyond 16 MB, and the zip archive is streamed
// to w rather than assembled in memory, so the writer's own memory does not
// grow with the number of orders. The price is temporary disk: about 800
// bytes per order (0.8 GB for a million), removed before WriteXLSX returns.
// Text is always written as inline string cells, never as formulas, so a
// customer named "=HYPERLINK(…)" stays text. A worksheet holds at most
// 1 048 575 data rows; a report with more orders (or exceptions) is refused.
func WriteXLSX(w io.Writer, r *Report) (err error) {
	loc, err := osloLocation()
	if err != nil {
		return err
	}
	if len(r.Batches) >= excelize.TotalRows {
		return fmt.Errorf("report: %d batches do not fit in the %s sheet (at most %d)", len(r.Batches), SheetBatches, excelize.TotalRows-1)
	}

	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("report: close workbook: %w", cerr)
		}
	}()
	// File.Write would build the whole archive in a bytes.Buffer before
	// copying it to w (hundreds of MB for a million orders). SetZipWriter is
	// excelize's hook for a custom archive writer; ours ignores the buffer it
	// is handed and writes straight to w, so File.Write below only writes
	// the (empty) buffer to io.Discard. excelize also uses that buffer to mark
	// zip64 entries (over 4 GB uncompressed) and to encrypt; neither applies:
	// no password is set, and a sheet within Excel's row limit stays far below
	// 4 GB unless its cells hold tens of kilobytes each.
	out := &stickyWriter{w: w}
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(out) })

	st, err := newStyles(f)
	if err != nil {
		return err
	}
	x := &xlsxWriter{f: f, st: st, loc: loc, lang: r.Lang}
	if err := f.SetSheetName(f.GetSheetName(0), x.sheet(SheetSummary)); err != nil {
		return fmt.Errorf("report: name sheet: %w", err)
	}
	for _, name := range []string{SheetOrders, SheetVAT, SheetExceptions, SheetBatches} {
		if _, err := f.NewSheet(x.sheet(name)); err != nil {
			return fmt.Errorf("report: add sheet %s: %w", name, err)
		}
	}
	for _, name := range []string{SheetSummary, SheetOrders, SheetVAT, SheetExceptions, SheetBatches} {
		if err := setPrintLayout(f, x.sheet(name), name); err != nil {
			return err
		}
	}
	// Before any stream writer starts: it writes each sheet's view (where
	// the selected tab is recorded) with the sheet's first row.
	f.SetActiveSheet(0)

	// Orders first: the pass that writes them also tallies the Summary,
	// which is written last although it is the first sheet. Each sheet has
	// a stream of its own, so the order they are written in does not
	// matter to the workbook.
	var t tally
	for _, write := range []func() error{
		func() error { return x.orders(r, &t) },
		func() error { return x.vat(r, &t) },
		func() error { return x.exceptions(r) },
		func() error { return x.batches(r) },
		func() error {
			counts, nExceptions := r.exceptionCounts(&t)
			return x.summary(r, &t, counts, nExceptions)
		},
	} {
		if err := write(); err != nil {
			return err
		}
	}
	if err := f.Write(io.Discard); err != nil {
		return fmt.Errorf("report: write xlsx: %w", err)
	}
	if out.err != nil {
		return fmt.Errorf("report: write xlsx: %w", out.err)
	}
	return nil
}

// setPrintLayout makes a sheet print readably: landscape A4, as wide as the
// page (the Orders sheet two pages wide) and as many pages down as it
// takes, the header row repeated on every page. It must run before the sheet's stream writer starts, which writes
// the sheet properties (fit to page) first.
func setPrintLayout(f *excelize.File, sheet, which string) error {
	fit, landscape, a4, wide, tall := true, "landscape", 9, 1, 0
	if which == SheetOrders {
		wide = 3 // its 26 columns on one page would be too small to read
	}
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return fmt.Errorf("report: %s print layout: %w", sheet, err)
	}
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{
		Size: &a4, Orientation: &landscape, FitToWidth: &wide, FitToHeight: &tall,
	}); err != nil {
		return fmt.Errorf("report: %s print layout: %w", sheet, err)
	}
	if which == SheetSummary {
		return nil
	}
	if err := f.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Titles", RefersTo: "'" + sheet + "'!$1:$1", Scope: sheet,
	}); err != nil {
		return fmt.Errorf("report: %s print titles: %w", sheet, err)
	}
	return nil
}

// stickyWriter keeps the first write error: excelize does not check every
// write to the archive, so WriteXLSX checks this one at the end.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}

type styles struct {
	header, title, bold, money, moneyBold, dateTime, dateTimeLeft, date, id int
}

func newStyles(f *excelize.File) (styles, error) {
	money, dateTime, date := moneyFormat, dateTimeFormat, dateFormat
	// The family is named: without it LibreOffice falls back to a serif
	// font for bold cells only.
	bold := &excelize.Font{Bold: true, Family: "Calibri"}
	padRight := &excelize.Alignment{Horizontal: "right", Indent: 1}
	var st styles
	for _, s := range []struct {
		id    *int
		style excelize.Style
	}{
		{&st.header, excelize.Style{
			Font:   bold,
			Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Border: []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}},
		}},
		{&st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14, Family: "Calibri"}}},
		{&st.bold, excelize.Style{Font: bold}},
		// Amounts keep a space on their right, before the next column's text.
		{&st.money, excelize.Style{CustomNumFmt: &money, Alignment: padRight}},
		{&st.moneyBold, excelize.Style{Font: bold, CustomNumFmt: &money, Alignment: padRight}},
		{&st.dateTime, excelize.Style{CustomNumFmt: &dateTime}},
		{&st.date, excelize.Style{CustomNumFmt: &date}},
		{&st.dateTimeLeft, excelize.Style{CustomNumFmt: &dateTime, Alignment: &excelize.Alignment{Horizontal: "left"}}},
		// Batch ids, row numbers and attempts: centred, so that a right-
		// aligned number does not run into the text of the next column.
		{&st.id, excelize.Style{Alignment: &excelize.Alignment{Horizontal: "center"}}},
	} {
		id, err := f.NewStyle(&s.style)
		if err != nil {
			return st, fmt.Errorf("report: add style: %w", err)
		}
		*s.id = id
	}
	return st, nil
}

type xlsxWriter struct {
	f    *excelize.File
	st   styles
	loc  *time.Location
	lang string
}

func (x *xlsxWriter) sheet(name string) string { return SheetName(x.lang, name) }

// moneyPtrCell is an amount cell, or an empty cell for an amount FP did not
// report.
func (x *xlsxWriter) moneyPtrCell(ore *int64) any {
	if ore == nil {
		return nil
	}
	return x.moneyCell(*ore, x.st.money)
}

// dateCell is a YYYY-MM-DD date as a date cell, or an empty cell.
func (x *xlsxWriter) dateCell(d string) any {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return text(d)
	}
	return excelize.Cell{StyleID: x.st.date, Value: t}
}

// moneyCell is an amount cell holding kroner as a number, so that Excel can sum
// and filter it. This is the one place øre become a float: float64(ore)/100
// is the double nearest the exact decimal, which is what Excel itself would
// store for that amount (Excel keeps every number as a double), and the
// file holds it as its shortest round-trip decimal ("100.1" for 10010 øre).
// It is exact to the øre for any amount below 2^53 øre (90 trillion NOK).
func (x *xlsxWriter) moneyCell(ore int64, style int) excelize.Cell {
	return excelize.Cell{StyleID: style, Value: float64(ore) / 100}
}

// timeCell is a date cell (a serial number with a date-time format) showing
// Oslo wall-clock time, or an empty cell for a time we do not have.
func (x *xlsxWriter) timeCell(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return excelize.Cell{StyleID: x.st.dateTime, Value: t.In(x.loc)}
}

// idCell is a centred whole number; 0 (none) is an empty cell.
func (x *xlsxWriter) idCell(n int64) any {
	if n == 0 {
		return nil
	}
	return excelize.Cell{StyleID: x.st.id, Value: n}
}

func (x *xlsxWriter) timePtrCell(t *time.Time) any {
	if t == nil {
		return nil
	}
	return x.timeCell(*t)
}

// text leaves an empty string as an empty cell rather than an empty text
// cell, so that "(Blanks)" works in Excel's filter. A non-empty string is
// written by excelize as an inline string: never a formula.
func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// sheetWriter appends rows to one streamed sheet.
type sheetWriter struct {
	sw  *excelize.StreamWriter
	row int // last row written (or skipped)
}

func (t *sheetWriter) add(vals ...any) error {
	t.row++
	if t.row > excelize.TotalRows {
		return fmt.Errorf("report: more rows than the %s sheet can hold (%d)", t.sw.Sheet, excelize.TotalRows-1)
	}
	cell, err := excelize.CoordinatesToCellName(1, t.row)
	if err != nil {
		return err
	}
	if err := t.sw.SetRow(cell, vals); err != nil {
		return fmt.Errorf("report: %s row %d: %w", t.sw.Sheet, t.row, err)
	}
	return nil
}

func (t *sheetWriter) skip() { t.row++ }

func (x *xlsxWriter) newSheet(sheet string, widths []float64) (*sheetWriter, error) {
	sw, err := x.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, fmt.Errorf("report: stream sheet %s: %w", sheet, err)
	}
	// Last column first: excelize puts each new <col> before the ones it
	// has, the stream writer writes them as they are, and Excel wants them
	// in ascending order.
	for i := len(widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, widths[i]); err != nil {
			return nil, fmt.Errorf("report: %s column width: %w", sheet, err)
		}
	}
	return &sheetWriter{sw: sw}, nil
}

// newTable starts a sheet that is one table: a bold header row that stays
// in view (frozen pane) and carries an autofilter (added by finishTable).
func (x *xlsxWriter) newTable(sheet string, cols []column) (*sheetWriter, error) {
	widths := make([]float64, len(cols))
	header := make([]any, len(cols))
	for i, c := range cols {
		widths[i] = c.width
		header[i] = excelize.Cell{StyleID: x.st.header, Value: label(x.lang, c.key)}
	}
	t, err := x.newSheet(x.sheet(sheet), widths)
	if err != nil {
		return nil, err
	}
	if err := t.sw.SetPanes(&excelize.Panes{
		Freeze:      true,
		YSplit:      1,
		TopLeftCell: "A2",
		ActivePane:  "bottomLeft",
		Selection:   []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return nil, fmt.Errorf("report: %s freeze header: %w", sheet, err)
	}
	return t, t.add(header...)
}

func (x *xlsxWriter) finishTable(t *sheetWriter, ncols int) error {
	// The stream writer emits the worksheet's autoFilter element on Flush,
	// so the filter can be set once the last row is known.
	last, err := excelize.CoordinatesToCellName(ncols, t.row)
	if err != nil {
		return err
	}
	if err := x.f.AutoFilter(t.sw.Sheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("report: %s autofilter: %w", t.sw.Sheet, err)
	}
	if err := t.sw.Flush(); err != nil {
		return fmt.Errorf("report: flush %s: %w", t.sw.Sheet, err)
	}
	return nil
}

// summary writes the sheet finance reads first: the period; orders and NOK
// per status and status group across kinds, tied out to what the period's
// batches imported; per VAT rate; per kind and status; per batch; rejected
// rows (and the errors behind them) and the exceptions per type.
//
// Columns line up across its tables: counts in C, amounts in D.
func (x *xlsxWriter) summary(r *Report, tl *tally, counts []exceptionCount, nExceptions int) error {
	t, err := x.newSheet(x.sheet(SheetSummary), []float64{26, 36, 12, 18, 19, 18, 18, 11, 11})
	if err != nil {
		return err
	}
	l := func(key string) string { return label(x.lang, key) }
	name := func(code string) any { return text(Name(x.lang, code)) }
	bold := func(v any) excelize.Cell { return excelize.Cell{StyleID: x.st.bold, Value: v} }
	money := func(ore int64) excelize.Cell { return x.moneyCell(ore, x.st.money) }
	moneyBold := func(ore int64) excelize.Cell { return x.moneyCell(ore, x.st.moneyBold) }
	header := func(keys ...string) error {
		vals := make([]any, len(keys))
		for i, k := range keys {
			if k != "" {
				vals[i] = excelize.Cell{StyleID: x.st.header, Value: l(k)}
			}
		}
		return t.add(vals...)
	}
	period := r.From + " – " + r.To
	if r.From == r.To {
		period = r.From
	}
	statuses, groups := tl.byStatus()
	kinds := tl.summary()
	importedOrders, importedTotal := r.ImportTotal()

	steps := []func() error{
		func() error { return t.add(excelize.Cell{StyleID: x.st.title, Value: l("title")}) },
		func() error { return t.add(bold(l("period")), period+" "+l("period.note")) },
		func() error {
			return t.add(bold(l("generated")), excelize.Cell{StyleID: x.st.dateTimeLeft, Value: r.GeneratedAt.In(x.loc)})
		},
		func() error { t.skip(); return header("col.status", "col.group", "col.orders", "col.total") },
		func() error {
			for _, s := range statuses {
				if err := t.add(name(s.Status), text(GroupName(x.lang, s.Group)), s.Orders, money(s.Total)); err != nil {
					return err
				}
			}
			t.skip()
			if err := header("col.group", "", "col.orders", "col.total"); err != nil {
				return err
			}
			var all GroupRow
			for _, g := range groups {
				if err := t.add(text(GroupName(x.lang, g.Group)), nil, g.Orders, money(g.Total)); err != nil {
					return err
				}
				all.Orders += g.Orders
				all.Total += g.Total
			}
			if err := t.add(bold(l("total")), nil, bold(all.Orders), moneyBold(all.Total)); err != nil {
				return err
			}
			if err := t.add(bold(l("imported")), nil, bold(importedOrders), moneyBold(importedTotal)); err != nil {
				return err
			}
			return t.add(bold(l("difference")), nil, bold(all.Orders-importedOrders), moneyBold(all.Total-importedTotal))
		},
		func() error {
			t.skip()
			if err := header("col.rate", "col.lines", "", "col.net", "col.vat", "col.discount", "col.gross"); err != nil {
				return err
			}
			rows := r.vatTable(tl)
			for _, v := range rows {
				if err := t.add(vatRateName(x.lang, v.Rate), v.Lines, nil, money(v.Net), money(v.VAT), money(v.Discount), money(v.Gross)); err != nil {
					return err
				}
			}
			s := VATTotal(rows)
			if err := t.add(bold(l("total")), bold(s.Lines), nil, moneyBold(s.Net), moneyBold(s.VAT), moneyBold(s.Discount), moneyBold(s.Gross)); err != nil {
				return err
			}
			// The lines tie out to the orders: their gross is the orders' total.
			_, orders := tl.total()
			if err := t.add(l("vat.orders"), nil, nil, nil, nil, nil, money(orders)); err != nil {
				return err
			}
			return t.add(l("difference"), nil, nil, nil, nil, nil, money(s.Gross-orders))
		},
		func() error { t.skip(); return header("col.kind", "col.status", "col.orders", "col.total") },
		func() error {
			var all, kind SummaryRow
			for i, row := range kinds {
				if err := t.add(name(row.Kind), name(row.Status), row.Orders, money(row.Total)); err != nil {
					return err
				}
				kind.Orders += row.Orders
				kind.Total += row.Total
				if i+1 == len(kinds) || kinds[i+1].Kind != row.Kind {
					if err := t.add(bold(Name(x.lang, row.Kind)), bold(l("subtotal")), bold(kind.Orders), moneyBold(kind.Total)); err != nil {
						return err
					}
					all.Orders += kind.Orders
					all.Total += kind.Total
					kind = SummaryRow{}
				}
			}
			return t.add(bold(l("total")), nil, bold(all.Orders), moneyBold(all.Total))
		},
		func() error {
			t.skip()
			if err := header("col.batch", "col.file", "col.orders", "col.total", "col.imported_at", "col.rows", "col.rejected", "col.submitted", "col.paid"); err != nil {
				return err
			}
			for i := range r.Batches {
				b := &r.Batches[i]
				if err := t.add(x.idCell(b.ID), text(b.Source), b.Orders, money(b.Total), x.timeCell(b.ImportedAt),
					b.Rows, b.Rejected, b.Submitted, b.Paid); err != nil {
					return err
				}
			}
			return nil
		},
		func() error {
			t.skip()
			if err := t.add(bold(l("rejected_rows")), nil, bold(r.RejectedRows())); err != nil {
				return err
			}
			return t.add(l("rejected_errors"), nil, len(r.Rejected))
		},
		func() error {
			t.skip()
			if err := header("exceptions", "", "col.count"); err != nil {
				return err
			}
			for _, c := range counts {
				if err := t.add(name(c.Type), nil, c.Count); err != nil {
					return err
				}
			}
			return t.add(bold(l("total")), nil, bold(nExceptions))
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	if err := t.sw.Flush(); err != nil {
		return fmt.Errorf("report: flush %s: %w", SheetSummary, err)
	}
	return nil
}

// orders writes the Orders sheet and tallies the orders for the Summary.
func (x *xlsxWriter) orders(r *Report, tl *tally) error {
	t, err := x.newTable(SheetOrders, orderColumns)
	if err != nil {
		return err
	}
	// One slice for every row: SetRow encodes it at once and keeps nothing.
	vals := make([]any, len(orderColumns))
	err = r.eachOrder(func(o *Order) error {
		tl.add(o)
		vals[0] = x.idCell(o.BatchID)
		vals[1] = text(o.Source)
		vals[2] = x.idCell(int64(o.SourceRow))
		vals[3] = text(o.OrderRef)
		vals[4] = text(Name(x.lang, o.Kind))
		vals[5] = text(o.CustomerName)
		vals[6] = text(pii.MaskPersonalNumber(o.PersonalNumber))
		vals[7] = x.dateCell(o.OrderDate)
		vals[8] = x.dateCell(o.DueDate)
		vals[9] = x.moneyCell(o.Net, x.st.money)
		vals[10] = x.moneyCell(o.VAT, x.st.money)
		vals[11] = x.moneyCell(o.Discount, x.st.money)
		vals[12] = x.moneyCell(o.GrandTotal, x.st.money)
		vals[13] = x.moneyPtrCell(o.PaidAmount)
		vals[14] = x.timePtrCell(o.PaidAt)
		vals[15] = x.moneyPtrCell(o.RefundedAmount)
		vals[16] = text(o.FPOrderUUID)
		vals[17] = text(Name(x.lang, o.Status))
		vals[18] = text(o.FPStatus)
		vals[19] = x.timePtrCell(o.StatusAt)
		vals[20] = x.timeCell(o.ImportedAt)
		vals[21] = x.timePtrCell(o.SubmittedAt)
		vals[22] = excelize.Cell{StyleID: x.st.id, Value: o.Attempts}
		vals[23] = text(o.LastError)
		vals[24] = text(exceptionNames(x.lang, o.Exception))
		vals[25] = text(o.PaymentURL)
		return t.add(vals...)
	})
	if err != nil {
		return err
	}
	return x.finishTable(t, len(orderColumns))
}

// vat writes the VAT sheet: the Summary's VAT table on its own, with a
// total row, the orders' grand totals and the difference (0 when the lines
// tie out). It follows the orders, whose pass tallied them into tl.
func (x *xlsxWriter) vat(r *Report, tl *tally) error {
	t, err := x.newTable(SheetVAT, vatColumns)
	if err != nil {
		return err
	}
	rows := r.vatTable(tl)
	for _, v := range rows {
		if err := t.add(vatRateName(x.lang, v.Rate), v.Lines, x.moneyCell(v.Net, x.st.money), x.moneyCell(v.VAT, x.st.money),
			x.moneyCell(v.Discount, x.st.money), x.moneyCell(v.Gross, x.st.money)); err != nil {
			return err
		}
	}
	s := VATTotal(rows)
	bold := func(v any) excelize.Cell { return excelize.Cell{StyleID: x.st.bold, Value: v} }
	if err := t.add(bold(label(x.lang, "total")), bold(s.Lines), x.moneyCell(s.Net, x.st.moneyBold), x.moneyCell(s.VAT, x.st.moneyBold),
		x.moneyCell(s.Discount, x.st.moneyBold), x.moneyCell(s.Gross, x.st.moneyBold)); err != nil {
		return err
	}
	_, orders := tl.total()
	if err := t.add(label(x.lang, "vat.orders"), nil, nil, nil, nil, x.moneyCell(orders, x.st.money)); err != nil {
		return err
	}
	if err := t.add(label(x.lang, "difference"), nil, nil, nil, nil, x.moneyCell(s.Gross-orders, x.st.money)); err != nil {
		return err
	}
	return x.finishTable(t, len(vatColumns))
}

func (x *xlsxWriter) exceptions(r *Report) error {
	t, err := x.newTable(SheetExceptions, exceptionColumns)
	if err != nil {
		return err
	}
	err = r.eachException(func(e Exception) error {
		return t.add(Name(x.lang, e.Type), x.idCell(e.BatchID), text(e.Source), x.idCell(int64(e.Row)), text(e.OrderRef), text(e.Detail))
	})
	if err != nil {
		return err
	}
	return x.finishTable(t, len(exceptionColumns))
}

func (x *xlsxWriter) batches(r *Report) error {
	t, err := x.newTable(SheetBatches, batchColumns)
	if err != nil {
		return err
	}
	for i := range r.Batches {
		b := &r.Batches[i]
		if err := t.add(x.idCell(b.ID), text(b.Source), text(b.SHA256), x.timeCell(b.ImportedAt),
			b.Rows, b.Orders, b.Rejected, b.Submitted, b.Paid, x.moneyCell(b.Total, x.st.money)); err != nil {
			return err
		}
	}
	return x.finishTable(t, len(batchColumns))
}
