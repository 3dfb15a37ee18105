package mapping

import (
	"fmt"
	"github.com/frontpayment/fpexport/internal/msg"
	"slices"
	"strings"
)

// CanonicalColumns are the input columns fpexport understands, in the order
// they appear in templates and error files. A Line's Fields are keyed by
// these names.
var CanonicalColumns = []string{
	colOrderRef, colKind, colCustomerType, colCustomerName, colEmail,
	colCountryCode, colMSISDN, colPersonalNumber, colOrganizationID,
	colStreet, colZip, colCity, colCountry, colPreferredLanguage,
	colProductID, colProductName, colQuantity, colRate, colDiscount, colTax,
	colLineTotal, colOrderTotal,
	colOrderDate, colDueDate, colDueDays, colPaymentMethod, colReferenceNo,
	colCustomerReference, colSendSMS, colSendEmail, colInvoiceFee,
}

const (
	colOrderRef          = "order_ref"
	colKind              = "kind"
	colCustomerType      = "customer_type"
	colCustomerName      = "customer_name"
	colEmail             = "email"
	colCountryCode       = "country_code"
	colMSISDN            = "msisdn"
	colPersonalNumber    = "personal_number"
	colOrganizationID    = "organization_id"
	colStreet            = "street"
	colZip               = "zip"
	colCity              = "city"
	colCountry           = "country"
	colPreferredLanguage = "preferred_language"
	colProductID         = "product_id"
	colProductName       = "product_name"
	colQuantity          = "quantity"
	colRate              = "rate"
	colDiscount          = "discount"
	colTax               = "tax"
	colLineTotal         = "line_total"  // the sheet's line amount, checked
	colOrderTotal        = "order_total" // the sheet's order total, checked
	colOrderDate         = "order_date"
	colDueDate           = "due_date"
	colDueDays           = "due_days" // due date = order date + N days
	colPaymentMethod     = "payment_method"
	colReferenceNo       = "reference_no"
	colCustomerReference = "customer_reference"
	colSendSMS           = "send_sms"
	colSendEmail         = "send_email"
	colInvoiceFee        = "invoice_fee"
)

// RequiredColumns are the columns without which no row can be valid, whatever
// its kind: FP requires them for all four kinds. country_code is not among
// them because a number written as "+47 465 67 468" in msisdn carries it;
// kind is not because Options.DefaultKind may supply it; the address columns
// are not because hosted-checkout orders may leave the address out.
var RequiredColumns = []string{
	colOrderRef, colCustomerType, colCustomerName, colEmail, colMSISDN,
	colProductName, colQuantity, colRate, colTax,
}

// lineColumns vary from line to line of one order; every other column is an
// order-level column, taken from the order's first row.
// order_total is neither: any row of the order may carry it (see
// checkOrderTotal).
var lineColumns = map[string]bool{
	colProductID: true, colProductName: true, colQuantity: true,
	colRate: true, colDiscount: true, colTax: true, colLineTotal: true,
}

// columnIndex orders errors of one row by column, as the columns appear in
// CanonicalColumns.
var columnIndex = func() map[string]int {
	m := make(map[string]int, len(CanonicalColumns))
	for i, c := range CanonicalColumns {
		m[c] = i
	}
	return m
}()

// IdentifierColumns hold identifiers written with digits that are not
// numbers: a spreadsheet must keep them as text (leading zeros, all digits).
var IdentifierColumns = []string{colOrderRef, colPersonalNumber, colOrganizationID, colZip, colCountryCode, colMSISDN,
	colProductID, colReferenceNo, colCustomerReference}

// Positions are the positions of cols in the file, for those it has.
func (h HeaderMap) Positions(cols []string) []int {
	var out []int
	for _, c := range cols {
		if pos, ok := h[c]; ok {
			out = append(out, pos)
		}
	}
	return out
}

// HeaderMap maps a canonical column name to the position (0-based) of the
// file's column that holds it.
type HeaderMap map[string]int

// Line builds the Line of one record of the file: row is the row number as
// Excel shows it (the header is row 1). Cells missing at the end of a short
// record read as empty.
func (h HeaderMap) Line(source string, row int, record []string) Line {
	fields := make(map[string]string, len(h))
	for col, pos := range h {
		if pos < len(record) {
			fields[col] = record[pos]
		} else {
			fields[col] = ""
		}
	}
	return Line{Source: source, Row: row, Fields: fields}
}

// Ref is the order reference of a record (its order_ref cell, trimmed): read
// straight from the cells, so a reader can group rows without building
// their Lines.
func (h HeaderMap) Ref(record []string) string {
	if pos, ok := h[colOrderRef]; ok && pos < len(record) {
		return strings.TrimSpace(record[pos])
	}
	return ""
}

// Blank reports a record whose mapped cells are all empty or white space: a
// blank row, which is skipped rather than reported.
func (h HeaderMap) Blank(record []string) bool {
	for _, pos := range h {
		if pos < len(record) && strings.TrimSpace(record[pos]) != "" {
			return false
		}
	}
	return true
}

// NameColumns sets the Header of each error to the file's own name for its
// column, as the accountant sees it in the file ("Beløp" rather than
// line_total). header is the header the map was made from; a column the
// file does not have (a profile's fixed value or default) keeps no Header.
// Columns a message names (msg.Col) get the file's own names too.
func (h HeaderMap) NameColumns(header []string, errs []RowError) {
	name := func(col string) string {
		if pos, ok := h[col]; ok && pos < len(header) {
			return cleanHeader(header[pos])
		}
		return ""
	}
	for i := range errs {
		errs[i].Header = name(errs[i].Column)
		errs[i].Msg = errs[i].Msg.WithColumns(name)
	}
}

// HeaderError says why a header cannot be used: required columns are missing
// or a column appears twice. Hints explain, in plain words, headers of the
// file that look like a missing column but are not read as one.
type HeaderError struct {
	Missing    []string // canonical names of required columns not found
	Duplicates []string // canonical names matched by more than one header cell
	Hints      []string // e.g. `"Pris eks. mva" is not read as rate: a price without VAT; …`

	hints []headerHint // Hints as messages, for Text
}

// headerHint is a hint as messages: outer names the cell and the column,
// inner says why (its text is outer's third argument).
type headerHint struct{ outer, inner msg.Msg }

// Text is the error in lang (Error is its English text).
func (e *HeaderError) Text(lang msg.Lang) string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, msg.New("header.missing", strings.Join(e.Missing, ", ")).Text(lang))
	}
	if len(e.Duplicates) > 0 {
		parts = append(parts, msg.New("header.duplicates", strings.Join(e.Duplicates, ", ")).Text(lang))
	}
	for _, h := range e.hints {
		m := h.outer
		if !h.inner.IsZero() {
			m.Args = append(slices.Clone(m.Args), h.inner.Text(lang))
		}
		parts = append(parts, m.Text(lang))
	}
	return msg.New("header.error", strings.Join(parts, "; ")).Text(lang)
}

func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required columns: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Duplicates) > 0 {
		parts = append(parts, "columns given more than once: "+strings.Join(e.Duplicates, ", ")+
			" (keep one, or name the one to use in a profile)")
	}
	parts = append(parts, e.Hints...)
	return "header: " + strings.Join(parts, "; ")
}

// MapHeader matches a file's header cells to canonical columns by their
// canonical names and the built-in Norwegian and English synonyms
// (synonyms.go). It returns the map, the header cells it does not use (as
// written, in file order; the caller reports them to the user, they are
// never silently dropped; HeaderHint explains some) and a *HeaderError
// naming missing required columns or duplicate columns. Empty header cells
// are skipped: spreadsheets often carry empty trailing columns.
func MapHeader(header []string) (HeaderMap, []string, error) {
	return MapHeaderProfile(header, nil)
}

// MapHeaderProfile is MapHeader with a profile (nil: none). The profile's
// columns come before the synonyms, and a required column that the profile
// supplies (a fixed value, or a default for every kind) may be missing from
// the file. An invalid profile is a *ProfileError.
func MapHeaderProfile(header []string, p *Profile) (HeaderMap, []string, error) {
	rules, err := p.compile()
	if err != nil {
		return nil, nil, err
	}
	type candidate struct {
		pos, rank int
	}
	cands := map[string][]candidate{}
	notUsed := map[int]bool{}
	for pos, cell := range header {
		k := headerKey(cell)
		if k == "" {
			continue
		}
		if col, ok := rules.columns[k]; ok {
			if col != "" {
				cands[col] = append(cands[col], candidate{pos, rankExact})
			}
			continue
		}
		col, rank, ok := lookupSynonym(cell)
		if !ok {
			notUsed[pos] = true
			continue
		}
		cands[col] = append(cands[col], candidate{pos, rank})
	}

	hm := HeaderMap{}
	herr := &HeaderError{}
	for _, col := range CanonicalColumns {
		cs := cands[col]
		if len(cs) == 0 {
			continue
		}
		best := slices.MinFunc(cs, func(a, b candidate) int { return a.rank - b.rank })
		n := 0
		for _, c := range cs {
			if c.rank == best.rank {
				n++
			} else {
				notUsed[c.pos] = true // a more specific header of the file names this column
			}
		}
		if n > 1 {
			herr.Duplicates = append(herr.Duplicates, col)
			continue
		}
		hm[col] = best.pos
	}
	var unrecognised []string
	for pos, cell := range header {
		if notUsed[pos] {
			unrecognised = append(unrecognised, cleanHeader(cell))
		}
	}

	for _, c := range RequiredColumns {
		if _, ok := hm[c]; ok || rules.supplies(c) || slices.Contains(herr.Duplicates, c) {
			continue
		}
		herr.Missing = append(herr.Missing, c)
		for pos, cell := range header {
			if !notUsed[pos] {
				continue
			}
			if hintColumn(cell) == c {
				herr.Hints = append(herr.Hints, fmt.Sprintf("%q is not read as %s: %s", ShortValue(cleanHeader(cell)), c, HeaderHint(cell)))
				herr.hints = append(herr.hints, headerHint{msg.New("hint.not_read", ShortValue(cleanHeader(cell)), c), headerHintMsg(cell)})
			}
		}
		if lt, ok := hm[colLineTotal]; ok && c == colRate {
			name := cleanHeader(header[lt])
			herr.Hints = append(herr.Hints, fmt.Sprintf("%q is read as line_total, the line's total including VAT (checked against quantity × rate − discount); if it holds the unit price, map it in a profile: \"columns\": {%q: \"rate\"}",
				name, name))
			herr.hints = append(herr.hints, headerHint{outer: msg.New("hint.line_total_as_rate", name)})
		}
	}
	if len(herr.Missing)+len(herr.Duplicates) > 0 {
		return hm, unrecognised, herr
	}
	return hm, unrecognised, nil
}

// cleanHeader is a header cell as shown to the user: trimmed, without a
// byte order mark.
func cleanHeader(s string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "\ufeff"))
}

// normaliseHeader lower-cases a header cell, drops a UTF-8 byte order mark
// and surrounding space, and lets runs of spaces, hyphens and underscores
// stand for one underscore: "Order Ref", "order-ref" and "ORDER_REF" are one.
func normaliseHeader(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "\ufeff")
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	sep := false
	for _, r := range s {
		if r == ' ' || r == '-' || r == '_' || r == '\u00a0' || r == '\t' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}
