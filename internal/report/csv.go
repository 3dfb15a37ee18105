package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/pii"
)

// csvTimeFormat is Oslo wall-clock time in a form Excel reads as a date in
// any locale.
const csvTimeFormat = "2006-01-02 15:04:05"

// CSV parts: a CSV file holds one table, so the report is written as one
// file per part. PartOrders is the main one.
const (
	PartOrders     = "orders"
	PartSummary    = "summary"
	PartVAT        = "vat"
	PartExceptions = "exceptions"
	PartBatches    = "batches"
)

// Parts are the CSV parts, the orders first.
var Parts = []string{PartOrders, PartSummary, PartVAT, PartExceptions, PartBatches}

// PartName is a part as people know it in lang: its XLSX sheet's name.
func PartName(lang, part string) string {
	sheet := map[string]string{PartOrders: SheetOrders, PartSummary: SheetSummary, PartVAT: SheetVAT,
		PartExceptions: SheetExceptions, PartBatches: SheetBatches}[part]
	return SheetName(lang, sheet)
}

// WriteCSV writes the Orders table (one row per order, the Orders sheet's
// columns): WriteCSVPart with PartOrders.
func WriteCSV(w io.Writer, r *Report, comma rune) error {
	return WriteCSVPart(w, r, PartOrders, comma)
}

// WriteCSVPart writes one part of the report (Parts) as a CSV table with
// the columns of the XLSX sheet of the same name (summary: one line per
// figure of the Summary sheet, its first column naming the table),
// UTF-8 with a byte order mark, fields separated by comma and lines ended
// by CRLF, which is what Excel expects. Headers and names are in the
// report's language.
//
// With comma ';', the field separator of Norwegian Excel, amounts use a
// decimal comma ("4500,00") so that Excel reads them as numbers; with any
// other separator they use a decimal point ("4500.00"). There is never a
// thousands separator. Times are Europe/Oslo wall-clock time. Personal
// numbers are masked (pii.MaskPersonalNumber).
//
// A text field that starts with '=', '+', '-', '@', tab or carriage return
// is prefixed with a single quote, so that a spreadsheet opening the file
// shows it as text instead of evaluating it as a formula.
func WriteCSVPart(w io.Writer, r *Report, part string, comma rune) error {
	loc, err := osloLocation()
	if err != nil {
		return err
	}
	var write func(*csvWriter) error
	switch part {
	case PartOrders:
		write = r.ordersCSV
	case PartSummary:
		write = r.summaryCSV
	case PartVAT:
		write = r.vatCSV
	case PartExceptions:
		write = r.exceptionsCSV
	case PartBatches:
		write = r.batchesCSV
	default:
		return fmt.Errorf("unknown report part %q (one of %s)", part, strings.Join(Parts, ", "))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	c := &csvWriter{w: csv.NewWriter(bw), loc: loc, lang: r.Lang, decimalSep: '.'}
	c.w.Comma = comma
	c.w.UseCRLF = true
	if comma == ';' {
		c.decimalSep = ','
	}
	if err := write(c); err != nil {
		return err
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}

type csvWriter struct {
	w          *csv.Writer
	loc        *time.Location
	lang       string
	decimalSep byte
}

func (c *csvWriter) write(record []string) error {
	if err := c.w.Write(record); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}

func (c *csvWriter) header(cols []column) error {
	record := make([]string, len(cols))
	for i, col := range cols {
		record[i] = label(c.lang, col.key)
	}
	return c.write(record)
}

// nok is an amount in the CSV's decimal form.
func (c *csvWriter) nok(ore int64) string {
	var b [24]byte
	return string(money.Amount(ore).AppendNOK(b[:0], c.decimalSep))
}

func (c *csvWriter) nokPtr(ore *int64) string {
	if ore == nil {
		return ""
	}
	return c.nok(*ore)
}

func (r *Report) ordersCSV(c *csvWriter) error {
	if err := c.header(orderColumns); err != nil {
		return err
	}
	record := make([]string, len(orderColumns))
	return r.eachOrder(func(o *Order) error {
		record[0] = strconv.FormatInt(o.BatchID, 10)
		record[1] = csvText(o.Source)
		record[2] = strconv.Itoa(o.SourceRow)
		record[3] = csvText(o.OrderRef)
		record[4] = csvText(Name(c.lang, o.Kind))
		record[5] = csvText(o.CustomerName)
		record[6] = pii.MaskPersonalNumber(o.PersonalNumber)
		record[7] = o.OrderDate
		record[8] = o.DueDate
		record[9] = c.nok(o.Net)
		record[10] = c.nok(o.VAT)
		record[11] = c.nok(o.Discount)
		record[12] = c.nok(o.GrandTotal)
		record[13] = c.nokPtr(o.PaidAmount)
		record[14] = csvTimePtr(o.PaidAt, c.loc)
		record[15] = c.nokPtr(o.RefundedAmount)
		record[16] = csvText(o.FPOrderUUID)
		record[17] = csvText(Name(c.lang, o.Status))
		record[18] = csvText(o.FPStatus)
		record[19] = csvTimePtr(o.StatusAt, c.loc)
		record[20] = csvTime(o.ImportedAt, c.loc)
		record[21] = csvTimePtr(o.SubmittedAt, c.loc)
		record[22] = strconv.Itoa(o.Attempts)
		record[23] = csvText(o.LastError)
		record[24] = csvText(exceptionNames(c.lang, o.Exception))
		record[25] = csvText(o.PaymentURL)
		return c.write(record)
	})
}

// summaryColumns are the summary CSV's: which table of the Summary sheet a
// line belongs to, what it counts, and the count and amount.
var summaryColumns = []column{
	{"col.section", 0}, {"col.name", 0}, {"col.group_or_status", 0}, {"col.count", 0}, {"col.total", 0},
}

func (r *Report) summaryCSV(c *csvWriter) error {
	var t tally
	if err := r.eachOrder(func(o *Order) error { t.add(o); return nil }); err != nil {
		return err
	}
	if err := c.header(summaryColumns); err != nil {
		return err
	}
	l := func(key string) string { return label(c.lang, key) }
	var lines [][]string
	add := func(section, name, third string, count int, total string) {
		lines = append(lines, []string{l(section), csvText(name), csvText(third), strconv.Itoa(count), total})
	}
	statuses, groups := t.byStatus()
	for _, s := range statuses {
		add("section.status", Name(c.lang, s.Status), GroupName(c.lang, s.Group), s.Orders, c.nok(s.Total))
	}
	var all GroupRow
	for _, g := range groups {
		add("section.group", GroupName(c.lang, g.Group), "", g.Orders, c.nok(g.Total))
		all.Orders += g.Orders
		all.Total += g.Total
	}
	add("section.total", l("total"), "", all.Orders, c.nok(all.Total))
	importedOrders, importedTotal := r.ImportTotal()
	add("section.imported", l("imported"), "", importedOrders, c.nok(importedTotal))
	add("section.difference", l("difference"), "", all.Orders-importedOrders, c.nok(all.Total-importedTotal))
	vat := r.vatTable(&t)
	for _, v := range vat {
		add("section.vat", vatRateName(c.lang, v.Rate), "", v.Lines, c.nok(v.Gross))
	}
	vt := VATTotal(vat)
	add("section.vat", l("total"), "", vt.Lines, c.nok(vt.Gross))
	for _, k := range t.summary() {
		add("section.kind", Name(c.lang, k.Kind), Name(c.lang, k.Status), k.Orders, c.nok(k.Total))
	}
	add("section.rejected", l("rejected_rows"), "", r.RejectedRows(), "")
	add("section.errors", l("rejected_errors"), "", len(r.Rejected), "")
	counts, n := r.exceptionCounts(&t)
	for _, e := range counts {
		add("section.exception", Name(c.lang, e.Type), "", e.Count, "")
	}
	add("section.exception", l("total"), "", n, "")
	for _, line := range lines {
		if err := c.write(line); err != nil {
			return err
		}
	}
	return nil
}

func (r *Report) vatCSV(c *csvWriter) error {
	if err := c.header(vatColumns); err != nil {
		return err
	}
	var t tally
	if err := r.eachOrder(func(o *Order) error { t.add(o); return nil }); err != nil {
		return err
	}
	rows := r.vatTable(&t)
	line := func(name string, v VATRow) error {
		return c.write([]string{name, strconv.Itoa(v.Lines), c.nok(v.Net), c.nok(v.VAT), c.nok(v.Discount), c.nok(v.Gross)})
	}
	for _, v := range rows {
		if err := line(vatRateName(c.lang, v.Rate), v); err != nil {
			return err
		}
	}
	s := VATTotal(rows)
	if err := line(label(c.lang, "total"), s); err != nil {
		return err
	}
	// The lines tie out to the orders: their gross is the orders' total.
	_, orders := t.total()
	if err := c.write([]string{label(c.lang, "vat.orders"), "", "", "", "", c.nok(orders)}); err != nil {
		return err
	}
	return c.write([]string{label(c.lang, "difference"), "", "", "", "", c.nok(s.Gross - orders)})
}

func (r *Report) exceptionsCSV(c *csvWriter) error {
	if err := c.header(exceptionColumns); err != nil {
		return err
	}
	return r.eachException(func(e Exception) error {
		return c.write([]string{csvText(Name(c.lang, e.Type)), idText(e.BatchID), csvText(e.Source), idText(int64(e.Row)),
			csvText(e.OrderRef), csvText(e.Detail)})
	})
}

func (r *Report) batchesCSV(c *csvWriter) error {
	if err := c.header(batchColumns); err != nil {
		return err
	}
	for _, b := range r.Batches {
		err := c.write([]string{strconv.FormatInt(b.ID, 10), csvText(b.Source), b.SHA256, csvTime(b.ImportedAt, c.loc),
			strconv.Itoa(b.Rows), strconv.Itoa(b.Orders), strconv.Itoa(b.Rejected), strconv.Itoa(b.Submitted),
			strconv.Itoa(b.Paid), c.nok(b.Total)})
		if err != nil {
			return err
		}
	}
	return nil
}

// idText is a batch id or row number; 0 (none) is empty, as in the XLSX.
func idText(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// csvText neutralises formula injection (OWASP "CSV Injection"): Excel and
// LibreOffice evaluate a field starting with one of these characters.
// Quoting the field does not help; a leading apostrophe does. Only text we
// did not produce goes through here: our own numbers and times never start
// with such a character except a negative amount's '-', which is a number,
// not a formula.
func csvText(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

func csvTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(csvTimeFormat)
}

func csvTimePtr(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return csvTime(*t, loc)
}
