package mapping

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

const exampleProfile = `{
  "description": "Regnskapskontoret: fakturaer fra Tripletex",
  "columns":  {"Kunde nr.": "", "Bestillingsref.": "customer_reference", "Beløp": "Rate"},
  "fixed":    {"kind": "invoice", "preferred_language": "no"},
  "defaults": {"invoice": {"invoice_fee": true, "due_days": 14},
               "*":       {"country": "NO", "tax": "25 %"}}
}`

func TestParseProfile(t *testing.T) {
	t.Parallel()
	p, err := ParseProfile([]byte(exampleProfile))
	if err != nil {
		t.Fatal(err)
	}
	if p.Description == "" || p.Columns["Kunde nr."] != "" || p.Columns["Beløp"] != "Rate" ||
		p.Fixed["kind"] != "invoice" || p.Defaults["invoice"]["invoice_fee"] != "true" ||
		p.Defaults["invoice"]["due_days"] != "14" || p.Defaults["*"]["tax"] != "25 %" {
		t.Errorf("got %+v", p)
	}
	// A profile round-trips through JSON.
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseProfile(js); err != nil {
		t.Errorf("round trip %s: %v", js, err)
	}
	// The samples' profiles are valid.
	for _, name := range []string{"ordrer-norsk.profile.json", "faktura-norsk.profile.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "samples", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseProfile(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if p, err := ParseProfile([]byte(`{}`)); err != nil || p == nil {
		t.Errorf("empty profile: got %v, %v", p, err)
	}
}

func TestParseProfileErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{`{"colums": {}}`, `unknown key "colums" (allowed: description, columns, fixed, defaults)`},
		{`{"columns": {"A": "x"}}`, `columns.A: "x" is not a canonical column`},
		{`{"columns": {"A": "order_ref", "A": "rate"}}`, `columns.A: given twice`},
		{`{"columns": {"Ordre nr": "order_ref", "ordre-nr": "rate"}}`, `"Ordre nr" and "ordre-nr" are the same header but map to different columns`},
		{`{"columns": {"A": 5}}`, `columns.A: must be a canonical column name in quotes`},
		{`{"columns": ["A"]}`, `columns: must be an object`},
		{`{"fixed": {"kind": "sms"}}`, `fixed.kind ("sms"): not a kind`},
		{`{"fixed": {"kindd": "invoice"}}`, `fixed: "kindd" is not a canonical column`},
		{`{"fixed": {"tax": "7,5"}}`, `fixed.tax ("7,5"): not a whole percentage`},
		{`{"fixed": {"order_ref": "X"}}`, `fixed.order_ref: cannot be given in a profile: it tells orders apart`},
		{`{"fixed": {"line_total": "1"}}`, `fixed.line_total: cannot be given in a profile`},
		{`{"fixed": {"preferred_language": ""}}`, `fixed.preferred_language: empty; leave the key out`},
		{`{"fixed": {"preferred_language": null}}`, `fixed.preferred_language: must be a string, a number or true/false`},
		{`{"fixed": {"preferred_language": "fr"}}`, `fixed.preferred_language ("fr"): not a language FP offers`},
		{`{"fixed": {"due_date": "2026-12-01", "due_days": "14"}}`, `fixed: give due_date or due_days, not both`},
		{`{"defaults": {"*": {"due_date": "2026-12-01", "due_days": "14"}}}`, `defaults.*: give due_date or due_days, not both`},
		{`{"fixed": {"due_days": "14"}, "defaults": {"invoice": {"due_date": "2026-12-01"}}}`, `defaults.invoice: due_date and due_days: one is fixed and the other a default`},
		{`{"fixed": {"due_days": 14.5}}`, `fixed.due_days ("14.5"): not a number of days`},
		{`{"fixed": {"personal_number": "12345678901"}}`, `fixed.personal_number ("12345678901"): control digits do not match`},
		{`{"fixed": {"zip": "123", "country": "NO"}}`, `fixed.zip ("123"): 3 digits`},
		{`{"fixed": {"kind": "invoice", "payment_method": "visa"}}`, `fixed.payment_method: invoice orders do not use payment_method`},
		{`{"fixed": {"invoice_fee": "kanskje"}}`, `fixed.invoice_fee ("kanskje"): not yes or no`},
		{`{"defaults": {"faktura": {"invoice_fee": "true"}}}`, `defaults: "faktura" is not a kind`},
		{`{"defaults": {"invoice": {"kind": "invoice"}}}`, `defaults.invoice.kind: a default kind goes under "*"`},
		{`{"defaults": {"invoice": {"send_sms": "true"}}}`, `defaults.invoice.send_sms: invoice orders do not use send_sms`},
		{`{"defaults": {"checkout": {"due_days": "14"}}}`, `defaults.checkout.due_days: checkout orders do not use due_days`},
		{`{"defaults": {"*": {"due_days": "400"}}}`, `defaults.*.due_days ("400"): not a number of days from 0 to 365`},
		{`{"defaults": {"*": {"rate": "-5"}}}`, `defaults.*.rate ("-5"): negative`},
		{`{"fixed": {"invoice_fee": "true"}, "defaults": {"invoice": {"invoice_fee": "false"}}}`, `defaults.invoice.invoice_fee: also fixed`},
		{`{"fixed": {"kind": "invoice"}, "defaults": {"checkout": {"payment_method": "visa"}}}`, `defaults.checkout: never applies, the profile fixes kind to invoice`},
		{`{"defaults": {"invoice": "true"}}`, `defaults.invoice: must be an object`},
		{`{"description": 5}`, `description: must be a string`},
		{`[]`, `not a JSON object`},
		{`null`, `not a JSON object`},
		{`{} {}`, `more after the object`},
		{`{"fixed": {`, `not valid JSON`},
		{``, `not valid JSON`},
	} {
		p, err := ParseProfile([]byte(tt.in))
		var perr *ProfileError
		if !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.want) || p != nil {
			t.Errorf("ParseProfile(%s): got %v, %v, want a ProfileError containing %q", tt.in, p, err, tt.want)
		}
	}
	// Every problem is named, not only the first.
	_, err := ParseProfile([]byte(`{"fixed": {"kind": "sms", "tax": "7,5"}, "extra": 1}`))
	if err == nil || strings.Count(err.Error(), ";") != 2 {
		t.Errorf("got %v, want three problems", err)
	}
}

// profileLines maps a header with a profile and builds the lines, as intake
// does.
func profileLines(t *testing.T, p *Profile, header []string, rows ...[]string) ([]Line, []string) {
	t.Helper()
	hm, unknown, err := MapHeaderProfile(header, p)
	if err != nil {
		t.Fatalf("MapHeaderProfile: %v", err)
	}
	var lines []Line
	for i, r := range rows {
		lines = append(lines, hm.Line("sheet.csv", i+2, r))
	}
	return lines, unknown
}

func mustProfile(t *testing.T, js string) *Profile {
	t.Helper()
	p, err := ParseProfile([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// norskHeader is an invoice sheet with Norwegian headers and no kind.
var norskHeader = []string{"Ordrenummer", "Kundetype", "Kundenavn", "E-post", "Mobil", "Fødselsnummer", "Organisasjonsnummer",
	"Adresse", "Postnummer", "Poststed", "Land", "Produkt", "Antall", "Pris", "MVA", "Ordredato", "Forfallsdato"}

func norskRow(ref string, kv ...string) []string {
	v := map[string]string{"Ordrenummer": ref, "Kundetype": "privat", "Kundenavn": "Kari Nordmann", "E-post": "kari@example.com",
		"Mobil": "+47 465 67 468", "Fødselsnummer": "28038712383", "Adresse": "Storgata 1", "Postnummer": "0155",
		"Poststed": "Oslo", "Land": "NO", "Produkt": "Timer", "Antall": "2", "Pris": "1 000,00", "MVA": "25"}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = kv[i+1]
	}
	row := make([]string, len(norskHeader))
	for i, h := range norskHeader {
		row[i] = v[h]
	}
	return row
}

func TestProfileFixed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.opt.Profile = mustProfile(t, `{"fixed": {"kind": "invoice", "preferred_language": "en"}}`)
	lines, _ := profileLines(t, b.opt.Profile, norskHeader, norskRow("F-1"), norskRow("F-2"))
	res := buildOrders(lines, b.opt)
	if len(res.Errors) != 0 || len(res.Orders) != 2 {
		t.Fatalf("got %v", res.Errors)
	}
	for _, o := range res.Orders {
		if o.Kind != fpclient.KindInvoice || o.Customer.PreferredLanguage != "en" {
			t.Errorf("%s: kind %s, language %s", o.Ref, o.Kind, o.Customer.PreferredLanguage)
		}
	}
	// The caller's lines are not changed.
	if _, ok := lines[0].Fields["kind"]; ok {
		t.Errorf("Build changed the caller's line: %v", lines[0].Fields)
	}

	// A file column of the same name may repeat the value, in any spelling;
	// a different value is an error on that row.
	header := append(slices.Clone(norskHeader), "Ordretype")
	res = buildOrders(func() []Line {
		l, _ := profileLines(t, b.opt.Profile, header,
			append(norskRow("F-1"), "Faktura"), append(norskRow("F-2"), ""), append(norskRow("F-3"), "payment-link"))
		return l
	}(), b.opt)
	if len(res.Orders) != 2 || len(res.Errors) != 1 {
		t.Fatalf("got %d orders, errors %v; want F-3 rejected", len(res.Orders), res.Errors)
	}
	e := res.Errors[0]
	if e.Row != 4 || e.Column != "kind" || e.Value != "payment-link" ||
		e.Reason != `the profile fixes kind to "invoice" for every row; clear this cell or change the profile` {
		t.Errorf("got %+v", e)
	}

	// A profile value that does not suit the row says where it came from.
	b.opt.Profile = mustProfile(t, `{"fixed": {"invoice_fee": "ja"}}`)
	l := line(2, validFields(fpclient.KindCheckout, "private"))
	res = buildOrders([]Line{l}, b.opt)
	if len(res.Warnings) != 1 || res.Warnings[0].Reason != "checkout orders do not use this column; the order is sent without it (the value is the profile's fixed value)" {
		t.Errorf("got %v", res.Warnings)
	}
}

func TestProfileRequiredColumns(t *testing.T) {
	t.Parallel()
	header := slices.DeleteFunc(slices.Clone(norskHeader), func(h string) bool { return h == "Kundetype" })
	missing := func(p *Profile) []string {
		_, _, err := MapHeaderProfile(header, p)
		var herr *HeaderError
		if errors.As(err, &herr) {
			return herr.Missing
		}
		if err != nil {
			t.Fatal(err)
		}
		return nil
	}
	for _, tt := range []struct {
		profile string
		missing bool
	}{
		{`{}`, true},
		{`{"fixed": {"customer_type": "bedrift"}}`, false},
		{`{"defaults": {"*": {"customer_type": "privat"}}}`, false},
		{`{"defaults": {"invoice": {"customer_type": "privat"}}}`, true},
		{`{"fixed": {"kind": "invoice"}, "defaults": {"invoice": {"customer_type": "privat"}}}`, false},
		{`{"defaults": {"invoice": {"customer_type": "privat"}, "payment-link": {"customer_type": "privat"},
		   "hosted-checkout": {"customer_type": "privat"}, "checkout": {"customer_type": "privat"}}}`, false},
	} {
		if got := missing(mustProfile(t, tt.profile)); (len(got) > 0) != tt.missing {
			t.Errorf("%s: missing %v, want missing %v", tt.profile, got, tt.missing)
		}
	}
	// A fixed value fills the rows.
	p := mustProfile(t, `{"fixed": {"customer_type": "bedrift", "kind": "invoice"}}`)
	hm, _, err := MapHeaderProfile(header, p)
	if err != nil {
		t.Fatal(err)
	}
	row := norskRow("F-1", "Fødselsnummer", "", "Organisasjonsnummer", "923 609 016")
	row = slices.Delete(row, 1, 2) // no Kundetype
	res := buildOrders([]Line{hm.Line("s.csv", 2, row)}, Options{Now: testNow, Profile: p})
	if len(res.Orders) != 1 || res.Orders[0].Customer.Type != "corporate" {
		t.Errorf("got %v, %v", res.Orders, res.Errors)
	}
}

func TestProfileDefaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.opt.Profile = mustProfile(t, `{"defaults": {
		"invoice": {"invoice_fee": "nei", "due_days": "10"},
		"payment-link": {"send_sms": "nei"},
		"*": {"preferred_language": "en", "invoice_fee": "ja", "tax": "15", "customer_reference": "Standard"}}}`)

	inv := validFields(fpclient.KindInvoice, "private")
	inv["order_date"] = "2026-11-02"
	pl := validFields(fpclient.KindPaymentLink, "private")
	pl["order_ref"] = "A-2"
	ho := validFields(fpclient.KindHostedCheckout, "private")
	ho["order_ref"] = "A-3"
	lines := []Line{
		line(2, inv, "tax", ""), line(3, inv, "tax", "25", "preferred_language", ""),
		line(4, pl, "tax", "", "send_email", "ja"),
		line(5, ho),
	}
	res := buildOrders(lines, b.opt)
	if len(res.Errors) != 0 || len(res.Orders) != 3 {
		t.Fatalf("got %v", res.Errors)
	}
	o := res.Orders[0]
	if o.InvoiceFee || o.DueDate != "2026-11-12" || o.Customer.PreferredLanguage != "en" || o.CustomerReference != "Standard" ||
		o.Lines[0].TaxPercent != 15 || o.Lines[1].TaxPercent != 25 {
		t.Errorf("invoice: the kind's default comes before \"*\", and tax fills line by line: got %+v", o)
	}
	if o := res.Orders[1]; o.SendSMS || !o.SendEmail || o.Customer.PreferredLanguage != "en" || o.Lines[0].TaxPercent != 15 {
		t.Errorf("payment-link: got %+v", o)
	}
	// "*" gives invoice_fee only to invoices and customer_reference not to
	// hosted-checkout, which has neither.
	if o := res.Orders[2]; o.InvoiceFee || o.CustomerReference != "" {
		t.Errorf("hosted-checkout: got %+v", o)
	}

	// Order-level defaults fill only an order whose rows all leave the
	// column empty: a value on a later row is still an error.
	res = buildOrders([]Line{line(2, inv, "preferred_language", ""), line(3, inv, "preferred_language", "sv")}, b.opt)
	if len(res.Errors) != 2 || !strings.HasPrefix(res.Errors[1].Reason, "differs from row 2 (empty)") {
		t.Errorf("got %v", res.Errors)
	}
}

func TestProfileDefaultKind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.opt.Profile = mustProfile(t, `{"defaults": {"*": {"kind": "payment-link"}}}`)
	f := validFields(fpclient.KindPaymentLink, "private")
	f["kind"] = ""
	res := buildOrders([]Line{line(2, f)}, b.opt)
	if len(res.Orders) != 1 || res.Orders[0].Kind != fpclient.KindPaymentLink {
		t.Fatalf("got %v", res.Errors)
	}
	// The import's own default kind comes first.
	b.opt.DefaultKind = fpclient.KindInvoice
	f["send_sms"], f["send_email"] = "", ""
	res = buildOrders([]Line{line(2, f)}, b.opt)
	if len(res.Orders) != 1 || res.Orders[0].Kind != fpclient.KindInvoice {
		t.Errorf("got %v", res.Errors)
	}
}

func TestProfileColumns(t *testing.T) {
	t.Parallel()
	p := mustProfile(t, `{"columns": {"Beløp": "rate", "Kundenr": "", "Navn": "customer_name"}}`)
	header := []string{"Ordrenummer", "Kundetype", "Navn", "Kunde", "Kundenr", "E-post", "Mobil", "Produkt", "Antall", "Beløp", "MVA", "Notat"}
	hm, unknown, err := MapHeaderProfile(header, p)
	if err != nil {
		t.Fatal(err)
	}
	if hm["rate"] != 9 || hm["customer_name"] != 2 {
		t.Errorf("got %v", hm)
	}
	if _, ok := hm["line_total"]; ok {
		t.Errorf("Beløp mapped twice: %v", hm)
	}
	// "Kunde" lost to the profile's "Navn"; "Kundenr" is silenced.
	if want := []string{"Kunde", "Notat"}; !slices.Equal(unknown, want) {
		t.Errorf("not used: got %v, want %v", unknown, want)
	}
}

func TestProfileInvalidInBuild(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.opt.Profile = &Profile{Fixed: map[string]string{"tax": "7,5"}}
	res := buildOrders([]Line{line(2, validFields(fpclient.KindInvoice, "private")), {Row: 3, Fields: map[string]string{}}}, b.opt)
	if len(res.Orders) != 0 || len(res.Errors) != 1 || !res.RejectedRows[2] || !strings.Contains(res.Errors[0].Reason, "profile: fixed.tax") {
		t.Errorf("got %v, %v", res.Orders, res.Errors)
	}
	if _, _, err := MapHeaderProfile(RequiredColumns, b.opt.Profile); err == nil {
		t.Error("MapHeaderProfile accepted an invalid profile")
	}
	if err := b.opt.Profile.Validate(); err == nil {
		t.Error("Validate accepted an invalid profile")
	}
}

func TestDueDays(t *testing.T) {
	t.Parallel()
	b := setup(t) // today is 2026-11-20
	inv := validFields(fpclient.KindInvoice, "private")
	pl := validFields(fpclient.KindPaymentLink, "private")
	co := validFields(fpclient.KindCheckout, "private")
	tests := []struct {
		name     string
		base     map[string]string
		kv       []string
		dueDate  string
		dueDays  int // -1: nil
		errCol   string
		errWords string
	}{
		{"invoice dated", inv, []string{"order_date", "02.11.2026", "due_days", "14 dager"}, "2026-11-16", -1, "", ""},
		{"invoice sent today", inv, []string{"due_days", "10"}, "", 10, "", ""},
		{"payment-link dated", pl, []string{"order_date", "2026-11-19", "due_days", "30"}, "2026-12-19", -1, "", ""},
		{"payment-link sent today", pl, []string{"due_days", "3 days"}, "", 3, "", ""},
		{"payment-link past", pl, []string{"order_date", "2026-11-01", "due_days", "5"}, "", -1, "due_days", "the due date (order date + 5 days = 2026-11-06) is in the past (today is 2026-11-20)"},
		{"both in the file", inv, []string{"due_date", "2026-12-01", "due_days", "14"}, "", -1, "due_days", "give due_date or due_days, not both"},
		{"checkout (a warning)", co, []string{"due_days", "14"}, "", -1, "", ""},
		{"garbage", inv, []string{"due_days", "snart"}, "", -1, "due_days", "not a number of days"},
		{"too long", inv, []string{"due_days", "366"}, "", -1, "due_days", "from 0 to 365"},
	}
	for _, tt := range tests {
		res := buildOrders([]Line{line(2, tt.base, tt.kv...)}, b.opt)
		if tt.errCol != "" {
			if len(res.Errors) != 1 || res.Errors[0].Column != tt.errCol || !strings.Contains(res.Errors[0].Reason, tt.errWords) {
				t.Errorf("%s: got %v, want %s: %s", tt.name, res.Errors, tt.errCol, tt.errWords)
			}
			continue
		}
		if len(res.Orders) != 1 {
			t.Errorf("%s: got %v", tt.name, res.Errors)
			continue
		}
		o := res.Orders[0]
		gotDays := -1
		if o.DueDays != nil {
			gotDays = *o.DueDays
		}
		if o.DueDate != tt.dueDate || gotDays != tt.dueDays {
			t.Errorf("%s: got due %q, days %d, want %q, %d", tt.name, o.DueDate, gotDays, tt.dueDate, tt.dueDays)
		}
	}

	// A profile's due_days never overrides a due date in the file.
	b.opt.Profile = mustProfile(t, `{"defaults": {"invoice": {"due_days": "14"}}}`)
	res := buildOrders([]Line{line(2, inv, "order_date", "2026-11-02", "due_date", "2026-12-24")}, b.opt)
	if len(res.Orders) != 1 || res.Orders[0].DueDate != "2026-12-24" {
		t.Errorf("got %v, %v", res.Orders, res.Errors)
	}

	// At submit time DueDays runs from the day the order is sent.
	sendDay := time.Date(2026, 11, 25, 10, 0, 0, 0, oslo())
	days := 10
	o := buildOrders([]Line{line(2, inv)}, setup(t).opt).Orders[0]
	o.DueDays = &days
	p, err := BuildPayload(o, PayloadOptions{CallbackURL: "https://x.example/cb", SuccessURL: "https://x.example/s", FailureURL: "https://x.example/f", Now: sendDay})
	if err != nil {
		t.Fatal(err)
	}
	if m := p.(*fpclient.InvoiceRequest).InvoiceMaturity; m == nil || *m != 10 {
		t.Errorf("invoiceMaturity: got %v, want 10", m)
	}
	o = buildOrders([]Line{line(2, pl, "due_days", "3")}, setup(t).opt).Orders[0]
	p, err = BuildPayload(o, PayloadOptions{CallbackURL: "https://x.example/cb", Now: sendDay})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 28, 23, 59, 59, 0, oslo()).Unix()
	if got := p.(*fpclient.PaymentLinkRequest).DueDateForPaymentLink; got != itoa(int(want)) {
		t.Errorf("dueDateForPaymentLink: got %s, want %d (2026-11-28 23:59:59)", got, want)
	}
}

func TestTotalsCrossCheck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := validFields(fpclient.KindInvoice, "private")
	tests := []struct {
		name  string
		lines []Line
		want  []string // RowError.Error() of each error
	}{
		{"line total matches", []Line{line(2, f, "quantity", "3", "rate", "1 250,00", "discount", "50", "line_total", "3 700,00")}, nil},
		{"line total off", []Line{line(2, f, "quantity", "1", "rate", "1 249,50", "line_total", "1 250,00")},
			[]string{`orders.csv row 2, column line_total ("1 250,00"): the sheet says 1250.00 but quantity × rate − discount is 1249.50`}},
		{"line total with float noise", []Line{line(2, f, "quantity", "3", "rate", "24.9", "line_total", "74.69999999999999")}, nil},
		{"line total garbage", []Line{line(2, f, "line_total", "mye")},
			[]string{`orders.csv row 2, column line_total ("mye"): not an amount (write e.g. 1234,50 or kr 1 234,50)`}},
		{"order total on the last row", []Line{line(2, f, "rate", "100"), line(3, f, "rate", "200", "order_total", "kr 300,00")}, nil},
		{"order total on every row", []Line{line(2, f, "rate", "100", "order_total", "300"), line(3, f, "rate", "200", "order_total", "300,00")}, nil},
		{"order total off", []Line{line(2, f, "rate", "100"), line(3, f, "rate", "200", "order_total", "310")},
			[]string{
				`orders.csv row 2, column order_ref ("A-1001"): order A-1001 is rejected because row 3 has errors`,
				`orders.csv row 3, column order_total ("310"): the sheet says 310.00 but the order's lines add up to 300.00 (Σ quantity × rate − discount)`,
			}},
		{"order totals differ", []Line{line(2, f, "rate", "100", "order_total", "300"), line(3, f, "rate", "200", "order_total", "310")},
			[]string{
				`orders.csv row 2, column order_ref ("A-1001"): order A-1001 is rejected because row 3 has errors`,
				`orders.csv row 3, column order_total ("310"): differs from row 2 (300.00); every row of an order that gives its total must give the same`,
			}},
	}
	for _, tt := range tests {
		res := buildOrders(tt.lines, b.opt)
		var got []string
		for _, e := range res.Errors {
			got = append(got, e.Error())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestDate1904(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in       string
		d1900    string
		d1904    string
		err1904  bool
		sameText bool
	}{
		{"44884", "2022-11-19", "2026-11-20", false, false},
		{"46346", "2026-11-20", "2030-11-21", false, false},
		{"44884.75", "2022-11-19", "2026-11-20", false, false},
		{"20.11.2026", "2026-11-20", "2026-11-20", false, true},
		{"0", "", "", true, false},
	} {
		got, err := ParseDate1904(tt.in)
		if tt.err1904 {
			if err == nil {
				t.Errorf("ParseDate1904(%q): got %s, want an error", tt.in, formatDate(got))
			}
			continue
		}
		if err != nil || formatDate(got) != tt.d1904 {
			t.Errorf("ParseDate1904(%q): got %s, %v, want %s", tt.in, formatDate(got), err, tt.d1904)
		}
		if got, err := ParseDate(tt.in); err != nil || formatDate(got) != tt.d1900 {
			t.Errorf("ParseDate(%q): got %s, %v, want %s", tt.in, formatDate(got), err, tt.d1900)
		}
	}
	b := setup(t)
	b.opt.Date1904 = true
	res := buildOrders([]Line{line(2, validFields(fpclient.KindInvoice, "private"), "order_date", "44884", "due_date", "44898")}, b.opt)
	if len(res.Orders) != 1 || res.Orders[0].OrderDate != "2026-11-20" || res.Orders[0].DueDate != "2026-12-04" {
		t.Errorf("got %v, %v", res.Orders, res.Errors)
	}
}

// FuzzParseProfile: whatever the bytes, nothing panics; an accepted profile
// validates, round-trips through JSON, maps the canonical header and can be
// applied.
func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(exampleProfile))
	for _, name := range []string{"ordrer-norsk.profile.json", "faktura-norsk.profile.json"} {
		if data, err := os.ReadFile(filepath.Join("..", "..", "samples", name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"fixed": {"kind": "faktura", "tax": 25}, "defaults": {"*": {"kind": "checkout", "payment_method": "Vipps"}}}`))
	f.Add([]byte(`{"columns": {"A": "", "B": "rate"}, "defaults": {"payment-link": {"send_sms": false}}}`))
	f.Add([]byte(`{"fixed": {"due_days": "14 dager", "zip": "0155", "country": "no"}}`))
	f.Add([]byte(`{"a": {"a": {"a": [1, {"b": 2}]}}}`))
	f.Add([]byte(`{"columns": {"x": "y", "x": "y"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data)
		if err != nil {
			var perr *ProfileError
			if !errors.As(err, &perr) || p != nil {
				t.Fatalf("ParseProfile: got %v, %v", p, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted profile does not validate: %v", err)
		}
		js, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseProfile(js); err != nil {
			t.Fatalf("round trip %s: %v", js, err)
		}
		header := slices.Collect(maps.Keys(p.Columns))
		header = append(header, CanonicalColumns...)
		if _, _, err := MapHeaderProfile(header, p); err != nil {
			var herr *HeaderError
			if !errors.As(err, &herr) {
				t.Fatalf("MapHeaderProfile: %v", err)
			}
		}
		fields := validFields(fpclient.KindInvoice, "private")
		fields["kind"] = ""
		res := buildOrders([]Line{line(2, fields), line(3, fields)}, Options{Now: testNow, Profile: p})
		for _, e := range res.Errors {
			if !res.RejectedRows[e.Row] {
				t.Fatalf("error %v on a row that is not rejected", e)
			}
		}
	})
}
