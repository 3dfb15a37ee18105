package mapping

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/pii"
)

// DefaultDueDays is how long a payment link (payment-link and
// hosted-checkout orders) stays payable when due_date is empty: the due date
// is the order date plus this many days. FP requires dueDateForPaymentLink
// and documents no default; 14 days is the usual Norwegian payment term.
const DefaultDueDays = 14

// Line is one row of a file, its cells keyed by canonical column name
// (a missing key reads as empty). Row is the row number as the user sees it
// in Excel: the header is row 1, the first data row is row 2.
type Line struct {
	Source string
	Row    int
	Fields map[string]string

	origin map[string]string // column → where a value not in the file came from
}

// Options steer OrderBuilder.
type Options struct {
	// Profile is the header mapping profile of the file, or nil.
	Profile *Profile
	// DefaultKind is the kind of a row whose kind column is empty or absent.
	// Empty: every row must name its kind.
	DefaultKind fpclient.Kind
	// Now is the import time; "today" is its calendar day in Location.
	// Zero means time.Now().
	Now time.Time
	// Location is Europe/Oslo; nil means Europe/Oslo.
	Location *time.Location
	// TaxRates are the VAT rates the merchant's FP account accepts; nil means
	// DefaultTaxRates (0, 12, 15, 25), FP's set "unless otherwise configured".
	TaxRates []int
	// AllowSyntheticPersonalNumbers accepts Skatteetaten's synthetic test
	// personal numbers (month + 80), as the samples and test files use; the
	// CLI's --allow-test-ids. Without it they are refused. Control digits
	// and dates of birth are checked either way (see ids.go).
	AllowSyntheticPersonalNumbers bool
	// Date1904 reads Excel serial dates in the 1904 date system
	// (importers.Sheet.Date1904).
	Date1904 bool
	// Strict turns every warning into an error: a value in a column the
	// order's kind does not use, and a repaired value, reject the order.
	Strict bool
}

// RowError is one problem in one cell, or (Column "") in an order as a
// whole. A Warning does not reject the order: a value the order's kind does
// not use (the order is sent without it) or a value repaired (Msg names the
// value read and the value sent).
type RowError struct {
	Source string `json:"source"`
	Row    int    `json:"row"`
	Column string `json:"column"` // canonical name
	Value  string `json:"value"`
	Reason string `json:"reason"` // Msg's English text (and Note's): for logs and stored rows
	// Header is the file's own name for Column ("Beløp" for line_total),
	// when the caller knows it (HeaderMap.NameColumns).
	Header string `json:"header,omitempty"`
	// Msg is the reason in the message catalogue, to be shown in the
	// reader's language (Text); Note, when set, is the id of a note added
	// to it (the value came from the profile).
	Msg     msg.Msg `json:"msg"`
	Note    string  `json:"note,omitempty"`
	Warning bool    `json:"warning,omitempty"`
}

// Text is the reason in lang, with its note; column arguments name the
// file's own headers once HeaderMap.NameColumns has run.
func (e RowError) Text(lang msg.Lang) string {
	t := e.Msg.Text(lang)
	if e.Msg.IsZero() {
		t = e.Reason
	}
	if e.Note != "" {
		t += " " + msg.New(e.Note).Text(lang)
	}
	return t
}

// Describe is Error in lang, naming the file's own header only:
// "ordrer.csv rad 7, kolonne E-post («kari@»): ikke en gyldig e-postadresse";
// a warning says so first.
func (e RowError) Describe(lang msg.Lang) string {
	e = e.Masked()
	var b strings.Builder
	if e.Warning {
		b.WriteString(msg.New("label.warning").Text(lang) + ": ")
	}
	b.WriteString(msg.New("label.where", e.Source, e.Row).Text(lang))
	if col := cmp.Or(e.Header, e.Column); col != "" {
		b.WriteString(", " + msg.New("label.column", col).Text(lang))
	}
	if e.Value != "" {
		b.WriteString(" " + msg.New("label.value", e.Value).Text(lang))
	}
	b.WriteString(": ")
	b.WriteString(e.Text(lang))
	return b.String()
}

// Error reads like: orders.csv row 7, column email ("kari@"): not a valid
// e-mail address; or, with the file's own header, ordrer.csv row 17,
// column Beløp (line_total) ("3 705,00"): the sheet says ….
func (e RowError) Error() string {
	e = e.Masked()
	var b strings.Builder
	fmt.Fprintf(&b, "%s row %d", e.Source, e.Row)
	switch {
	case e.Column != "" && e.Header != "" && e.Header != e.Column:
		fmt.Fprintf(&b, ", column %s (%s)", e.Header, e.Column)
	case e.Column != "":
		fmt.Fprintf(&b, ", column %s", e.Column)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " (%q)", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Masked is the message with a repaired personal number masked
// (pii.MaskPersonalNumber): the number read and the number sent are not
// needed to fix the row, so the terminal, logs and pages do not show them.
// Describe and Error mask; the error file, which holds the row to be fixed,
// and the stored rejected row keep the full value.
func (e RowError) Masked() RowError {
	if e.Column != colPersonalNumber || e.Msg.ID != "repair.leading_zero" || len(e.Msg.Args) != 2 {
		return e
	}
	e.Value = pii.MaskShortPersonalNumber(e.Value)
	e.Msg.Args = []string{pii.MaskShortPersonalNumber(e.Msg.Args[0]), pii.MaskPersonalNumber(e.Msg.Args[1])}
	e.Reason = e.Text(msg.EN)
	return e
}

// Customer is the order's customer, normalised.
type Customer struct {
	Type              string `json:"type"` // private | corporate
	Name              string `json:"name"`
	Email             string `json:"email"`
	CountryCode       string `json:"country_code"` // "+47"
	MSISDN            string `json:"msisdn"`       // digits
	PersonalNumber    string `json:"personal_number"`
	OrganizationID    string `json:"organization_id"`
	Street            string `json:"street"`
	Zip               string `json:"zip"`
	City              string `json:"city"`
	Country           string `json:"country"` // ISO 3166-1 alpha-2
	PreferredLanguage string `json:"preferred_language"`
}

// Order is one validated order. It is stored as json and the FP payload is
// built from it at submit time (BuildPayload). New fields must be tagged
// omitempty so that the Fingerprint of existing orders does not change.
type Order struct {
	Ref      string        `json:"ref"`
	Kind     fpclient.Kind `json:"kind"`
	Source   string        `json:"source,omitempty"`
	FirstRow int           `json:"first_row,omitempty"`
	Rows     []int         `json:"rows,omitempty"`
	Customer Customer      `json:"customer"`
	Lines    []OrderLine   `json:"lines"`
	// OrderDate is YYYY-MM-DD, or "" for "the day it is sent".
	OrderDate string `json:"order_date"`
	// DueDate is YYYY-MM-DD or "". For payment-link and hosted-checkout ""
	// means order date + DueDays (DefaultDueDays when DueDays is nil); for
	// invoice "" means order date + DueDays, or FP's default maturity when
	// DueDays is nil; checkout orders have none.
	DueDate string `json:"due_date"`
	// DueDays is the payment term in days, kept only when the order date is
	// empty (the day it is sent): with an order date, the due date is
	// computed at import and DueDate holds it.
	DueDays           *int   `json:"due_days,omitempty"`
	PaymentMethod     string `json:"payment_method"` // checkout only
	ReferenceNo       string `json:"reference_no"`   // payment-link only
	CustomerReference string `json:"customer_reference"`
	SendSMS           bool   `json:"send_sms"`    // payment-link only
	SendEmail         bool   `json:"send_email"`  // payment-link only
	InvoiceFee        bool   `json:"invoice_fee"` // invoice only
	// Unused holds the values of columns the order's kind does not use, as
	// written (canonical column → value): never sent, kept so that what the
	// file said stays with the order. Not part of the Fingerprint.
	Unused map[string]string `json:"unused,omitempty"`
}

// OrderLine is one product line. Rate is tax-inclusive; Discount is an
// amount off the line's total (not per unit).
type OrderLine struct {
	ProductID  string            `json:"product_id"`
	Name       string            `json:"name"`
	Quantity   fpclient.Quantity `json:"quantity"`
	Rate       fpclient.Amount   `json:"rate"`
	Discount   fpclient.Amount   `json:"discount"`
	TaxPercent int               `json:"tax_percent"`
}

func colRank(c string) int {
	if i, ok := columnIndex[c]; ok {
		return i
	}
	return len(CanonicalColumns)
}

// rejectedBecause says that order ref is rejected because of rows.
func rejectedBecause(ref string, rows []int) msg.Msg {
	if len(rows) == 1 {
		return msg.New("order.rejected_row", ref, rows[0])
	}
	s := make([]string, len(rows))
	for i, r := range rows {
		s[i] = fmt.Sprint(r)
	}
	return msg.New("order.rejected_rows", ref, strings.Join(s[:len(s)-1], ", "), s[len(s)-1])
}

type builder struct {
	opt        Options
	today      time.Time // the import day in Europe/Oslo
	rules      *profileRules
	profileErr error
}

func newBuilder(opt Options) *builder {
	loc := opt.Location
	if loc == nil {
		loc = oslo()
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	b := &builder{opt: opt, today: dayOf(now, loc)}
	b.rules, b.profileErr = opt.Profile.compile()
	return b
}

func (b *builder) parseDate(raw string) (time.Time, error) { return parseDate(raw, b.opt.Date1904) }

type errList []RowError

// add records a problem in a cell; a value the profile put there says so.
func (e *errList) add(l Line, col string, m msg.Msg) {
	re := RowError{Source: l.Source, Row: l.Row, Column: col, Value: ShortValue(l.Fields[col]), Msg: m}
	switch l.origin[col] {
	case originFixed:
		re.Note = "note.profile_fixed"
	case originDefault:
		re.Note = "note.profile_default"
	}
	re.Reason = re.Text(msg.EN)
	*e = append(*e, re)
}

func (e *errList) addErr(l Line, col string, err error) { e.add(l, col, msg.Of(err)) }

// warn records a warning, or an error when the import is strict.
func (b *builder) warn(e *errList, l Line, col string, m msg.Msg) {
	if !b.opt.Strict {
		e.add(l, col, m)
		(*e)[len(*e)-1].Warning = true
		return
	}
	if m.ID == "warn.unused" {
		m.ID = "strict.unused"
	}
	e.add(l, col, m)
	if last := &(*e)[len(*e)-1]; m.ID != "strict.unused" && last.Note == "" {
		last.Note = "note.strict"
		last.Reason = last.Text(msg.EN)
	}
}

// unused warns about a value in a column the order's kind does not use and
// keeps it with the order.
func (b *builder) unused(o *Order, e *errList, l Line, col string, kind fpclient.Kind) {
	b.warn(e, l, col, msg.New("warn.unused", kind))
	if o.Unused == nil {
		o.Unused = map[string]string{}
	}
	o.Unused[col] = get(l, col)
}

// HasErrors reports whether errs holds an error, not only warnings.
func HasErrors(errs []RowError) bool {
	for _, e := range errs {
		if !e.Warning {
			return true
		}
	}
	return false
}

func get(l Line, col string) string { return strings.TrimSpace(l.Fields[col]) }

// order validates one group of lines.
func (b *builder) order(in []Line) (Order, []RowError) {
	var errs errList
	if b.profileErr != nil {
		// Never reached through MapHeaderProfile, which refuses the profile
		// first; a caller that skips it gets every row refused, not a
		// profile half applied.
		for _, l := range in {
			errs.addErr(l, "", b.profileErr)
		}
		return Order{Ref: get(in[0], colOrderRef)}, errs
	}
	lines := b.withProfileFixed(in, &errs)
	f := lines[0]
	o := Order{Source: f.Source, FirstRow: f.Row}
	for _, l := range lines {
		o.Rows = append(o.Rows, l.Row)
	}

	o.Ref = get(f, colOrderRef)
	if o.Ref == "" {
		errs.add(f, colOrderRef, msg.New("required"))
	} else if err := checkText(o.Ref, maxRefLen); err != nil {
		errs.addErr(f, colOrderRef, err)
	}

	kind, kindOK := b.kind(f, &errs)
	o.Kind = kind
	b.withProfileDefaults(lines, kind, kindOK)
	is := func(ks ...fpclient.Kind) bool { return kindOK && slices.Contains(ks, kind) }

	b.customer(f, &o, &errs, kind, kindOK)
	b.dates(f, &o, &errs, kind, kindOK)

	if pm := get(f, colPaymentMethod); is(fpclient.KindCheckout) {
		if pm == "" {
			errs.add(f, colPaymentMethod, msg.New("payment_method.required"))
		} else if v, err := ParsePaymentMethod(pm); err != nil {
			errs.addErr(f, colPaymentMethod, err)
		} else {
			o.PaymentMethod = v
		}
	} else if pm != "" && kindOK {
		b.unused(&o, &errs, f, colPaymentMethod, kind)
	}

	// The order's own reference (order_ref) always travels to FP as the
	// order's reference field, so that FP's portal shows it; reference_no is
	// the separate invoiceReferences.referenceNo that only payment-link has.
	if rn := get(f, colReferenceNo); rn != "" {
		if kindOK && kind != fpclient.KindPaymentLink {
			b.unused(&o, &errs, f, colReferenceNo, kind)
		} else if err := checkText(rn, maxTextLen); err != nil {
			errs.addErr(f, colReferenceNo, err)
		} else {
			o.ReferenceNo = rn
		}
	}
	if cr := get(f, colCustomerReference); cr != "" {
		if is(fpclient.KindHostedCheckout) {
			b.unused(&o, &errs, f, colCustomerReference, kind)
		} else if err := checkText(cr, maxTextLen); err != nil {
			errs.addErr(f, colCustomerReference, err)
		} else {
			o.CustomerReference = cr
		}
	}

	b.flags(f, &o, &errs, kind, kindOK)
	b.sameOnEveryRow(lines, &errs)
	b.lines(lines, &o, &errs)

	if !HasErrors(errs) {
		if total, err := checkedTotal(o.Lines); err != nil {
			errs.addErr(f, "", err)
		} else if total <= 0 {
			errs.add(f, "", msg.New("order.total_not_positive", o.Ref, total.NOK()))
		} else {
			checkOrderTotal(lines, total, &errs)
		}
	} else {
		checkOrderTotal(lines, -1, &errs)
	}
	return o, errs
}

// checkOrderTotal checks the sheet's order_total: any row of the order may
// carry it (often only the first or the last), every row that does must say
// the same, and it must be the computed grand total to the øre (total < 0:
// not known, because the order has other errors; only the cells are read).
func checkOrderTotal(lines []Line, total fpclient.Amount, errs *errList) {
	var first *Line
	var firstVal fpclient.Amount
	for i := range lines {
		l := &lines[i]
		raw := get(*l, colOrderTotal)
		if raw == "" {
			continue
		}
		v, err := money.ParseAmount(raw)
		if err != nil {
			errs.addErr(*l, colOrderTotal, err)
			continue
		}
		if first == nil {
			first, firstVal = l, v
			continue
		}
		if v != firstVal {
			errs.add(*l, colOrderTotal, msg.New("order_total.differs", first.Row, firstVal.NOK()))
		}
	}
	if first != nil && total >= 0 && firstVal != total {
		errs.add(*first, colOrderTotal, msg.New("order_total.mismatch", firstVal.NOK(), total.NOK()))
	}
}

func (b *builder) kind(f Line, errs *errList) (fpclient.Kind, bool) {
	if raw := get(f, colKind); raw != "" {
		k, err := ParseKindCell(raw)
		if err != nil {
			errs.addErr(f, colKind, err)
			return "", false
		}
		return k, true
	}
	if b.opt.DefaultKind == "" {
		if v := b.profileDefaultKind(); v != "" {
			// The import's own default kind comes first; the profile's
			// "*" default is next.
			fillDefault(&f, colKind, v)
			k, err := ParseKindCell(v)
			if err != nil {
				errs.addErr(f, colKind, err)
				return "", false
			}
			return k, true
		}
		errs.add(f, colKind, msg.New("kind.required"))
		return "", false
	}
	k, ok := fpclient.ParseKind(string(b.opt.DefaultKind))
	if !ok {
		errs.add(f, colKind, msg.New("kind.bad_default", b.opt.DefaultKind))
		return "", false
	}
	return k, true
}

func (b *builder) customer(f Line, o *Order, errs *errList, kind fpclient.Kind, kindOK bool) {
	c := &o.Customer
	if raw := get(f, colCustomerType); raw == "" {
		errs.add(f, colCustomerType, msg.New("customer_type.required"))
	} else if v, err := ParseCustomerType(raw); err != nil {
		errs.addErr(f, colCustomerType, err)
	} else {
		c.Type = v
	}

	if raw := get(f, colCustomerName); raw == "" {
		errs.add(f, colCustomerName, msg.New("required"))
	} else if err := checkText(raw, maxTextLen); err != nil {
		errs.addErr(f, colCustomerName, err)
	} else {
		c.Name = raw
	}

	// FP requires an e-mail address for every kind (checkout: "Required if
	// withCustomer is true", and we always send a customer; payment-link's
	// rules say "required|nullable|email", its table "Required": required).
	if raw := get(f, colEmail); raw == "" {
		errs.add(f, colEmail, msg.New("required"))
	} else if v, err := ParseEmail(raw); err != nil {
		errs.addErr(f, colEmail, err)
	} else {
		c.Email = v
	}

	cc, num, ccErr, numErr := ParsePhone(f.Fields[colCountryCode], f.Fields[colMSISDN])
	if ccErr != nil && numErr == nil && len(num) == 8 && msg.Of(ccErr).ID == "country_code.required" &&
		strings.EqualFold(get(f, colCountry), "NO") {
		// A Norwegian customer's 8-digit number without a country code:
		// every Norwegian number has 8 digits, so +47 is the only reading.
		cc, ccErr = "+47", nil
		b.warn(errs, f, colMSISDN, msg.New("repair.country_code", get(f, colMSISDN), "+47 "+num))
	}
	if ccErr != nil {
		errs.addErr(f, colCountryCode, ccErr)
	}
	if numErr != nil {
		errs.addErr(f, colMSISDN, numErr)
	}
	c.CountryCode, c.MSISDN = cc, num

	// personalNumber: the checkout and hosted-checkout seeds make it
	// optional, the invoice seed requires it for private customers, and the
	// payment-link seed disagrees with itself (its table: "When Customer type
	// is private then this field is required"; its Laravel rules: nullable).
	// We take the stricter reading for payment-link: FP sends the invoice
	// flow and credit check by personal number.
	if raw := get(f, colPersonalNumber); raw != "" {
		if v, repaired, err := ReadPersonalNumber(raw, b.opt.AllowSyntheticPersonalNumbers); err != nil {
			errs.addErr(f, colPersonalNumber, err)
		} else {
			if repaired {
				b.warn(errs, f, colPersonalNumber, msg.New("repair.leading_zero", raw, v))
			}
			c.PersonalNumber = v
		}
	} else if c.Type == "private" && kindOK && (kind == fpclient.KindInvoice || kind == fpclient.KindPaymentLink) {
		errs.add(f, colPersonalNumber, msg.New("pnr.required", kind))
	}

	// organizationId: "Required if customer type is corporate" in every seed.
	if raw := get(f, colOrganizationID); raw != "" {
		if v, err := ParseOrganizationID(raw); err != nil {
			errs.addErr(f, colOrganizationID, err)
		} else {
			c.OrganizationID = v
		}
	} else if c.Type == "corporate" {
		errs.add(f, colOrganizationID, msg.New("org.required"))
	}

	// The address is required by checkout (withCustomer is true), invoice
	// and payment-link, and optional for hosted-checkout.
	needAddress := kindOK && kind != fpclient.KindHostedCheckout
	street, zip, city, country := get(f, colStreet), get(f, colZip), get(f, colCity), get(f, colCountry)
	required := func(col string) {
		errs.add(f, col, msg.New("required.for_kind", kind))
	}
	countryOK := false
	switch {
	case country != "":
		if v, err := ParseCountry(country); err != nil {
			errs.addErr(f, colCountry, err)
		} else {
			c.Country, countryOK = v, true
		}
	case needAddress:
		required(colCountry)
	case street != "" || zip != "" || city != "":
		errs.add(f, colCountry, msg.New("country.required_with_address"))
	}
	for _, p := range []struct {
		col string
		val string
		dst *string
	}{{colStreet, street, &c.Street}, {colCity, city, &c.City}} {
		if p.val == "" {
			if needAddress {
				required(p.col)
			}
		} else if err := checkText(p.val, maxTextLen); err != nil {
			errs.addErr(f, p.col, err)
		} else {
			*p.dst = p.val
		}
	}
	if zip == "" {
		if needAddress {
			required(colZip)
		}
	} else if countryOK || country == "" {
		if d := removeSpaces(zip); c.Country == "NO" && len(d) == 3 && allDigits(d) {
			// A Norwegian postal code is 4 digits; 3 digits is one with its
			// leading 0 lost (Excel reads 0358 as the number 358).
			zip = "0" + d
			b.warn(errs, f, colZip, msg.New("repair.leading_zero", get(f, colZip), zip))
		}
		if v, err := ParseZip(zip, c.Country); err != nil {
			errs.addErr(f, colZip, err)
		} else {
			c.Zip = v
		}
	}

	c.PreferredLanguage = DefaultLanguage
	if raw := get(f, colPreferredLanguage); raw != "" {
		if v, err := ParseLanguage(raw); err != nil {
			errs.addErr(f, colPreferredLanguage, err)
		} else {
			c.PreferredLanguage = v
		}
	}
}

func (b *builder) dates(f Line, o *Order, errs *errList, kind fpclient.Kind, kindOK bool) {
	today := b.today
	base, baseOK := today, true // the order date, or the import day when empty
	if raw := get(f, colOrderDate); raw != "" {
		d, err := b.parseDate(raw)
		switch {
		case err != nil:
			errs.addErr(f, colOrderDate, err)
			baseOK = false
		case kindOK && (kind == fpclient.KindCheckout || kind == fpclient.KindHostedCheckout) && d.Before(today):
			// The checkout and hosted-checkout seeds: "must be current or
			// future date". The invoice and payment-link seeds have no such
			// rule, so a backdated invoice keeps its date.
			errs.add(f, colOrderDate, msg.New("order_date.past", formatDate(today), kind))
			baseOK = false
		default:
			o.OrderDate = formatDate(d)
			base = d
		}
	}

	raw := get(f, colDueDate)
	var due time.Time
	if raw != "" {
		d, err := b.parseDate(raw)
		if err != nil {
			errs.addErr(f, colDueDate, err)
			return
		}
		due = d
	}

	// due_days: a payment term in days, used when due_date is empty (a
	// profile's default never overrides a due date in the file).
	days, daysSet := 0, false
	if rawDays := get(f, colDueDays); rawDays != "" {
		n, err := ParseDueDays(rawDays)
		switch {
		case err != nil:
			errs.addErr(f, colDueDays, err)
			return
		case raw != "" && f.origin[colDueDays] == "" && f.origin[colDueDate] == "":
			errs.add(f, colDueDays, msg.New("due.both", msg.Col(colDueDate), msg.Col(colDueDays)))
			return
		case raw == "":
			days, daysSet = n, true
		}
	}
	if !kindOK {
		return
	}
	switch kind {
	case fpclient.KindCheckout:
		if raw != "" {
			b.unused(o, errs, f, colDueDate, kind)
		}
		if get(f, colDueDays) != "" {
			b.unused(o, errs, f, colDueDays, kind)
		}
	case fpclient.KindInvoice:
		// invoiceMaturity = days from the order date to the due date.
		if daysSet {
			if o.OrderDate == "" {
				o.DueDays = &days
			} else if baseOK {
				o.DueDate = formatDate(base.AddDate(0, 0, days))
			}
			return
		}
		if raw == "" {
			return
		}
		if baseOK && due.Before(base) {
			errs.add(f, colDueDate, msg.New("due.before_order", formatDate(base)))
			return
		}
		o.DueDate = formatDate(due)
	case fpclient.KindPaymentLink, fpclient.KindHostedCheckout:
		if raw == "" {
			n := DefaultDueDays
			if daysSet {
				n = days
			}
			def := base.AddDate(0, 0, n)
			switch {
			case !baseOK:
			case def.Before(today) && daysSet:
				errs.add(f, colDueDays, msg.New("due.days_past", n, formatDate(def), formatDate(today)))
			case def.Before(today):
				errs.add(f, colDueDate, msg.New("due.default_past", n, formatDate(def)))
			case daysSet && o.OrderDate == "":
				o.DueDays = &days
			case daysSet:
				o.DueDate = formatDate(def)
			}
			return
		}
		switch {
		case baseOK && due.Before(base):
			errs.add(f, colDueDate, msg.New("due.before_order", formatDate(base)))
		case due.Before(today):
			errs.add(f, colDueDate, msg.New("due.past", formatDate(today)))
		default:
			o.DueDate = formatDate(due)
		}
	}
}

func (b *builder) flags(f Line, o *Order, errs *errList, kind fpclient.Kind, kindOK bool) {
	if !kindOK {
		return
	}
	parsed := 0
	for _, p := range []struct {
		col  string
		only fpclient.Kind
		dst  *bool
	}{
		{colSendSMS, fpclient.KindPaymentLink, &o.SendSMS},
		{colSendEmail, fpclient.KindPaymentLink, &o.SendEmail},
		{colInvoiceFee, fpclient.KindInvoice, &o.InvoiceFee},
	} {
		raw := get(f, p.col)
		if kind != p.only {
			if raw != "" {
				b.unused(o, errs, f, p.col, kind)
			}
			continue
		}
		v, set, err := ParseBool(raw)
		switch {
		case err != nil:
			errs.addErr(f, p.col, err)
			continue
		case !set:
			*p.dst = true // each of these defaults to yes
		default:
			*p.dst = v
		}
		parsed++
	}
	if kind == fpclient.KindPaymentLink && parsed == 2 && !o.SendSMS && !o.SendEmail {
		errs.add(f, colSendSMS, msg.New("send.both_no", msg.Col(colSendSMS), msg.Col(colSendEmail)))
	}
}

// sameOnEveryRow checks that later rows of an order do not contradict the
// first row's order-level columns. Values are compared as parsed where a
// parser exists ("+47" and "0047" are the same), else with spaces collapsed.
func (b *builder) sameOnEveryRow(lines []Line, errs *errList) {
	if len(lines) < 2 {
		return // nothing to compare (most orders have one line)
	}
	f := lines[0]
	for _, col := range CanonicalColumns {
		if lineColumns[col] || col == colOrderRef || col == colOrderTotal {
			continue
		}
		first := get(f, col)
		want := b.canonical(col, first)
		for _, l := range lines[1:] {
			v := get(l, col)
			if v == "" || b.canonical(col, v) == want {
				continue
			}
			m := msg.New("order.differs_empty", f.Row)
			if first != "" {
				m = msg.New("order.differs", f.Row, ShortValue(first))
			}
			errs.add(l, col, m)
		}
	}
}

// canonical is a cell's value as parsed, for comparing two spellings.
func (b *builder) canonical(col, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	var out string
	var err error
	switch col {
	case colKind:
		var k fpclient.Kind
		k, err = ParseKindCell(v)
		out = string(k)
	case colCustomerType:
		out, err = ParseCustomerType(v)
	case colEmail:
		out = strings.ToLower(v)
	case colCountryCode:
		out, err = ParseCountryCode(v)
	case colMSISDN, colPersonalNumber, colZip:
		out = strings.ToUpper(strings.ReplaceAll(removeSpaces(v), "-", ""))
	case colOrganizationID:
		out, err = ParseOrganizationID(v)
	case colCountry:
		out = strings.ToUpper(v)
	case colPreferredLanguage:
		out, err = ParseLanguage(v)
	case colOrderDate, colDueDate:
		var d time.Time
		d, err = b.parseDate(v)
		out = formatDate(d)
	case colRate, colDiscount, colLineTotal, colOrderTotal:
		var a fpclient.Amount
		a, err = money.ParseAmount(v)
		out = a.NOK()
	case colQuantity:
		var q fpclient.Quantity
		q, err = money.ParseQuantity(v)
		out = q.String()
	case colTax:
		var t int
		t, err = ParseTax(v, anyTaxRate)
		out = fmt.Sprint(t)
	case colDueDays:
		var n int
		n, err = ParseDueDays(v)
		out = fmt.Sprint(n)
	case colPaymentMethod:
		out, err = ParsePaymentMethod(v)
	case colSendSMS, colSendEmail, colInvoiceFee:
		var val bool
		val, _, err = ParseBool(v)
		out = fmt.Sprint(val)
	default:
		return strings.Join(strings.Fields(v), " ")
	}
	if err != nil {
		return strings.Join(strings.Fields(v), " ")
	}
	return out
}

func (b *builder) lines(lines []Line, o *Order, errs *errList) {
	for _, l := range lines {
		var ol OrderLine
		if raw := get(l, colProductID); raw != "" {
			if err := checkText(raw, maxTextLen); err != nil {
				errs.addErr(l, colProductID, err)
			}
			ol.ProductID = raw
		}
		if raw := get(l, colProductName); raw == "" {
			errs.add(l, colProductName, msg.New("required"))
		} else if err := checkText(raw, maxTextLen); err != nil {
			errs.addErr(l, colProductName, err)
		} else {
			ol.Name = raw
		}

		qOK, rOK := false, false
		if raw := get(l, colQuantity); raw == "" {
			errs.add(l, colQuantity, msg.New("required"))
		} else if q, err := money.ParseQuantity(raw); err != nil {
			errs.addErr(l, colQuantity, err)
		} else {
			ol.Quantity, qOK = q, true
		}

		if raw := get(l, colRate); raw == "" {
			errs.add(l, colRate, msg.New("rate.required"))
		} else if r, err := money.ParseAmount(raw); err != nil {
			errs.addErr(l, colRate, err)
		} else if r < 0 {
			errs.add(l, colRate, msg.New("rate.negative"))
		} else if r > MaxRate {
			errs.add(l, colRate, msg.New("rate.too_large", MaxRate.NOK()))
		} else {
			ol.Rate, rOK = r, true
		}

		if raw := get(l, colTax); raw == "" {
			errs.add(l, colTax, msg.New("tax.required"))
		} else if t, err := ParseTax(raw, b.opt.TaxRates); err != nil {
			errs.addErr(l, colTax, err)
		} else {
			ol.TaxPercent = t
		}

		dOK := true
		if raw := get(l, colDiscount); raw != "" {
			d, err := money.ParseAmount(raw)
			dOK = false
			switch {
			case err != nil:
				errs.addErr(l, colDiscount, err)
			case d < 0:
				errs.add(l, colDiscount, msg.New("discount.negative"))
			case qOK && rOK && d > lineGross(ol.Quantity, ol.Rate):
				errs.add(l, colDiscount, msg.New("discount.too_large", lineGross(ol.Quantity, ol.Rate).NOK()))
			default:
				ol.Discount, dOK = d, true
			}
		}

		// line_total is the sheet's own line amount (Norwegian "Beløp"),
		// VAT included: it must be what we send, to the øre.
		if raw := get(l, colLineTotal); raw != "" {
			v, err := money.ParseAmount(raw)
			switch {
			case err != nil:
				errs.addErr(l, colLineTotal, err)
			case qOK && rOK && dOK:
				if want := lineGross(ol.Quantity, ol.Rate) - ol.Discount; v != want {
					errs.add(l, colLineTotal, msg.New("line_total.mismatch", v.NOK(), want.NOK()))
				}
			}
		}
		o.Lines = append(o.Lines, ol)
	}
}
