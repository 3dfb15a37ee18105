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

// WriteCSV writes the Orders table (one row per order, the Orders sheet's
// columns) as UTF-8 with a byte order mark, fields separated by comma and
// lines ended by CRLF, which is what Excel expects.
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
func WriteCSV(w io.Writer, r *Report, comma rune) error {
	loc, err := osloLocation()
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	cw := csv.NewWriter(bw)
	cw.Comma = comma
	cw.UseCRLF = true

	decimalSep := byte('.')
	if comma == ';' {
		decimalSep = ','
	}
	record := make([]string, len(orderColumns))
	for i, c := range orderColumns {
		record[i] = c.header
	}
	if err := cw.Write(record); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	var nok []byte
	err = r.eachOrder(func(o *Order) error {
		nok = money.Amount(o.GrandTotal).AppendNOK(nok[:0], decimalSep)
		record[0] = strconv.FormatInt(o.BatchID, 10)
		record[1] = csvText(o.Source)
		record[2] = strconv.Itoa(o.SourceRow)
		record[3] = csvText(o.OrderRef)
		record[4] = csvText(o.Kind)
		record[5] = csvText(o.CustomerName)
		record[6] = pii.MaskPersonalNumber(o.PersonalNumber)
		record[7] = string(nok)
		record[8] = csvText(o.FPOrderUUID)
		record[9] = csvText(o.Status)
		record[10] = csvText(o.FPStatus)
		record[11] = csvTimePtr(o.StatusAt, loc)
		record[12] = csvTime(o.ImportedAt, loc)
		record[13] = csvTimePtr(o.SubmittedAt, loc)
		record[14] = strconv.Itoa(o.Attempts)
		record[15] = csvText(o.LastError)
		record[16] = csvText(o.Exception)
		record[17] = csvText(o.PaymentURL)
		if err := cw.Write(record); err != nil {
			return fmt.Errorf("report: write csv: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
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
