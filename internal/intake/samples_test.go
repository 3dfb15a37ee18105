package intake_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
)

// result is what a file became: its valid orders, every error and the rows
// of its rejected orders.
type result struct {
	Orders       []mapping.Order
	Errors       []mapping.RowError
	RejectedRows map[int]bool
}

// checkFile reads f to the end the way an import does (intake's grouping
// and validation) and returns what it became.
func checkFile(t *testing.T, f *intake.File) result {
	t.Helper()
	orders, err := f.CheckOrders()
	if err != nil {
		t.Fatal(err)
	}
	res := result{Orders: orders, Errors: f.Stats.Errors, RejectedRows: map[int]bool{}}
	for _, r := range f.Stats.Rejected {
		res.RejectedRows[r.Number] = true
	}
	return res
}

// sampleRun is one sample file read the way `worker demo` reads it: the
// importer, then <name>.profile.json beside the file when there is one, and
// synthetic test numbers allowed.
type sampleRun struct {
	rows    int
	unknown []string
	res     result
}

func readSample(t *testing.T, name string, useProfile bool, opt mapping.Options) sampleRun {
	t.Helper()
	path := filepath.Join("..", "..", "samples", name)
	if useProfile {
		p, err := intake.ProfileBeside(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		opt.Profile = p
	}
	f, err := intake.Open(path, intake.Options{Mapping: opt})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	run := sampleRun{unknown: f.Unknown, res: checkFile(t, f)}
	run.rows = f.Stats.Rows
	return run
}

// samplesNow is the fixed "now" of these tests: 09:00 in Oslo on 20 November 2026.
var samplesNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CET", 3600))

func oslo() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(err)
	}
	return loc
}

// TestSamples imports every sample with its profile, as the demo does, on
// the day the test runs and on 2027-06-01: exactly the rows meant to be
// invalid are rejected, for the reasons meant, and every accepted order can
// be sent that day.
func TestSamples(t *testing.T) {
	t.Parallel()
	type wantErr struct {
		row         int
		col, reason string
	}
	tests := []struct {
		file     string
		accepted []string
		errors   []wantErr
		totals   map[string]string // order ref → grand total
		unknown  []string
		check    func(t *testing.T, orders map[string]mapping.Order)
	}{
		{
			file:     "orders.csv",
			accepted: []string{"SO-1001", "SO-1002", "SO-1003", "SO-1004", "SO-1005", "SO-1006", "SO-1007", "SO-1008", "SO-1009"},
			errors: []wantErr{
				{17, "email", "not a valid e-mail address"},
				{18, "tax", "not an allowed VAT rate"},
				{19, "organization_id", "required for corporate customers"},
			},
			totals: map[string]string{"SO-1001": "2649.60", "SO-1002": "10275.00", "SO-1004": "4878.00"},
		},
		{
			file:     "orders.xlsx",
			accepted: []string{"XO-2001", "XO-2002", "XO-2003", "XO-2004", "XO-2005", "XO-2006", "XO-2007"},
			errors: []wantErr{
				{12, "payment_method", "required for checkout orders"},
			},
			totals: map[string]string{"XO-2001": "21000.00", "XO-2006": "4600.00"},
			check: func(t *testing.T, o map[string]mapping.Order) {
				if got := o["XO-2001"].OrderDate; got != "2026-11-04" {
					t.Errorf("XO-2001: order date from a date cell: got %q", got)
				}
				// Row 4's personal number is a number cell that lost its
				// leading 0: repaired, with a warning.
				if got := o["XO-2002"].Customer.PersonalNumber; len(got) != 11 || got[0] != '0' {
					t.Errorf("XO-2002: personal number %q, want the 11 digits with the 0 back", got)
				}
			},
		},
		{
			file: "ordrer-norsk.csv",
			accepted: []string{"NO-3001", "NO-3002", "NO-3003", "NO-3004", "NO-3005", "NO-3006", "NO-3007", "NO-3008",
				"NO-3011"},
			errors: []wantErr{
				{16, "personal_number", "control digits do not match: the first control digit (the 10th digit) does not fit the nine digits before it; check for a typo"},
				{17, "line_total", "the sheet says 3705.00 but quantity × rate − discount is 3750.00"},
				{18, "order_ref", "order NO-3010 is rejected because row 17 has errors"},
			},
			totals: map[string]string{"NO-3001": "5964.00", "NO-3002": "13849.00", "NO-3003": "4500.00",
				"NO-3004": "2074.00", "NO-3006": "3190.00", "NO-3008": "5512.40", "NO-3011": "3900.00"},
			check: func(t *testing.T, o map[string]mapping.Order) {
				if c := o["NO-3001"].Customer; c.Name != "Ingrid Sørensen" || c.City != "Oslo" || c.Zip != "0358" || c.CountryCode != "+47" || c.MSISDN != "41234567" {
					t.Errorf("NO-3001 customer: %+v", c)
				}
				if o := o["NO-3001"]; o.OrderDate != "2026-11-02" || o.DueDate != "2026-11-16" || !o.InvoiceFee || o.Lines[0].Quantity != 3500 {
					t.Errorf("NO-3001: %+v", o)
				}
				// No due date in the file: the profile's 14 days; Fakturagebyr nei.
				if o := o["NO-3002"]; o.DueDate != "2026-11-11" || o.InvoiceFee || o.Customer.OrganizationID != "311450123" || o.Lines[1].Rate != 124950 {
					t.Errorf("NO-3002: %+v", o)
				}
				for ref, msisdn := range map[string]string{"NO-3003": "48255190", "NO-3004": "93445566", "NO-3005": "97856412", "NO-3006": "95512345"} {
					if c := o[ref].Customer; c.CountryCode != "+47" || c.MSISDN != msisdn {
						t.Errorf("%s phone: got %s %s, want +47 %s", ref, c.CountryCode, c.MSISDN, msisdn)
					}
				}
				if o := o["NO-3003"]; o.Kind != fpclient.KindPaymentLink || o.SendSMS || !o.SendEmail || o.ReferenceNo != "BL-2026-3003" {
					t.Errorf("NO-3003: %+v", o)
				}
				if o := o["NO-3005"]; o.Kind != fpclient.KindHostedCheckout || o.Customer.Street != "" || o.Customer.Country != "" {
					t.Errorf("NO-3005: %+v", o)
				}
				if o := o["NO-3007"]; o.Kind != fpclient.KindCheckout || o.PaymentMethod != "vipps" {
					t.Errorf("NO-3007: %+v", o)
				}
				if o := o["NO-3011"]; o.Customer.PersonalNumber != "45837523412" || o.Lines[0].Rate != 390000 || o.Lines[0].TaxPercent != 0 {
					t.Errorf("NO-3011 (D-number, 3 900,-): %+v", o)
				}
				for _, ord := range o {
					if ord.Customer.PreferredLanguage != "no" {
						t.Errorf("%s: language %q", ord.Ref, ord.Customer.PreferredLanguage)
					}
				}
			},
		},
		{
			file:     "faktura-norsk.xlsx",
			accepted: []string{"FA-5001", "FA-5002", "FA-5004", "FA-5005"},
			errors: []wantErr{
				{5, "organization_id", "control digit does not match: the last digit does not fit the eight digits before it; check for a typo"},
			},
			totals: map[string]string{"FA-5001": "9890.00", "FA-5002": "2080.00", "FA-5004": "2705.00", "FA-5005": "3361.00"},
			check: func(t *testing.T, o map[string]mapping.Order) {
				for _, ord := range o {
					if ord.Kind != fpclient.KindInvoice {
						t.Errorf("%s: kind %s, want invoice (fixed by the profile)", ord.Ref, ord.Kind)
					}
				}
				if o := o["FA-5001"]; o.OrderDate != "2026-11-02" || o.DueDate != "2026-11-30" || !o.InvoiceFee ||
					o.Customer.OrganizationID != "312400677" || o.Customer.MSISDN != "40011223" || o.Customer.CountryCode != "+47" {
					t.Errorf("FA-5001: %+v", o)
				}
				if o := o["FA-5002"]; o.InvoiceFee || o.Customer.PersonalNumber != "07819323431" || o.DueDate != "2026-11-19" {
					t.Errorf("FA-5002: %+v", o)
				}
				if o := o["FA-5004"]; o.DueDate != "2026-11-24" || o.Lines[1].Discount != 9500 {
					t.Errorf("FA-5004 (due = invoice date + the profile's 14 days): %+v", o)
				}
			},
		},
	}
	clocks := map[string]time.Time{
		"today":      time.Now(),
		"2027-06-01": time.Date(2027, 6, 1, 9, 0, 0, 0, oslo()),
	}
	for _, tt := range tests {
		for clockName, now := range clocks {
			t.Run(tt.file+"@"+clockName, func(t *testing.T) {
				t.Parallel()
				run := readSample(t, tt.file, true, mapping.Options{Now: now, Location: oslo(), AllowSyntheticPersonalNumbers: true})
				if !slices.Equal(run.unknown, tt.unknown) {
					t.Errorf("headers not used: got %q, want %q", run.unknown, tt.unknown)
				}
				orders := map[string]mapping.Order{}
				var refs []string
				for _, o := range run.res.Orders {
					orders[o.Ref] = o
					refs = append(refs, o.Ref)
				}
				if !slices.Equal(refs, tt.accepted) {
					t.Errorf("accepted %v, want %v", refs, tt.accepted)
				}
				if len(run.res.Errors) != len(tt.errors) {
					t.Errorf("got %d errors, want %d:", len(run.res.Errors), len(tt.errors))
					for _, e := range run.res.Errors {
						t.Log("  ", e.Error())
					}
				} else {
					for i, e := range run.res.Errors {
						w := tt.errors[i]
						if e.Source != tt.file || e.Row != w.row || e.Column != w.col || !strings.Contains(e.Reason, w.reason) {
							t.Errorf("error %d: got %s, want row %d, column %s: %s", i, e.Error(), w.row, w.col, w.reason)
						}
					}
				}
				wantRejected := map[int]bool{}
				for _, w := range tt.errors {
					wantRejected[w.row] = true
				}
				if !maps.Equal(run.res.RejectedRows, wantRejected) {
					t.Errorf("rejected rows %v, want %v", run.res.RejectedRows, wantRejected)
				}
				for ref, want := range tt.totals {
					if got := orders[ref].Totals().GrandTotal.NOK(); got != want {
						t.Errorf("%s: grand total %s, want %s", ref, got, want)
					}
				}
				if tt.check != nil {
					tt.check(t, orders)
				}
				// The demo sends every accepted order at once.
				for _, o := range run.res.Orders {
					if _, err := mapping.BuildPayload(o, mapping.PayloadOptions{CallbackURL: "https://x.example/cb", SuccessURL: "https://x.example/s",
						FailureURL: "https://x.example/f", Now: now, Location: oslo()}); err != nil {
						t.Errorf("BuildPayload(%s): %v", o.Ref, err)
					}
				}
			})
		}
	}
}

// TestSamplesWithoutProfileOrTestIDs: what an import without the profile or
// without --allow-test-ids makes of the samples.
func TestSamplesWithoutProfileOrTestIDs(t *testing.T) {
	t.Parallel()
	opt := mapping.Options{Now: samplesNow, Location: oslo()}

	// Errors name the file's own header.
	run := readSample(t, "ordrer-norsk.csv", true, mapping.Options{Now: samplesNow, Location: oslo(), AllowSyntheticPersonalNumbers: true})
	var got []string
	for _, e := range run.res.Errors {
		got = append(got, e.Error())
	}
	want := []string{
		`ordrer-norsk.csv row 16, column Fødselsnummer (personal_number) ("21886232584"): control digits do not match: the first control digit (the 10th digit) does not fit the nine digits before it; check for a typo`,
		`ordrer-norsk.csv row 17, column Beløp (line_total) ("3 705,00"): the sheet says 3705.00 but quantity × rate − discount is 3750.00`,
		`ordrer-norsk.csv row 18, column Ordrenummer (order_ref) ("NO-3010"): order NO-3010 is rejected because row 17 has errors`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}

	// Synthetic personal numbers are refused.
	run = readSample(t, "orders.csv", true, opt)
	found := false
	for _, e := range run.res.Errors {
		if e.Row == 2 && e.Column == "personal_number" && e.Msg.ID == "pnr.synthetic" {
			found = true
		}
	}
	if !found || !run.res.RejectedRows[2] {
		t.Errorf("orders.csv without test ids: got %v, want row 2's synthetic number refused", run.res.Errors)
	}

	// The Norwegian CSV reads by the built-in synonyms alone; Kundenr is
	// then listed as not used, and invoices have no due date of their own.
	opt.AllowSyntheticPersonalNumbers = true
	run = readSample(t, "ordrer-norsk.csv", false, opt)
	if !slices.Equal(run.unknown, []string{"Kundenr"}) {
		t.Errorf("ordrer-norsk.csv without profile: not used %v, want [Kundenr]", run.unknown)
	}
	if len(run.res.Orders) != 9 || len(run.res.RejectedRows) != 3 {
		t.Errorf("ordrer-norsk.csv without profile: %d orders, rejected %v", len(run.res.Orders), run.res.RejectedRows)
	}
	for _, o := range run.res.Orders {
		if o.Ref == "NO-3002" && (o.DueDate != "" || o.DueDays != nil) {
			t.Errorf("NO-3002 without profile: due %q %v", o.DueDate, o.DueDays)
		}
	}

	// The invoice workbook names no kind: without its profile every row
	// says so.
	run = readSample(t, "faktura-norsk.xlsx", false, opt)
	if len(run.res.Orders) != 0 || len(run.res.RejectedRows) != run.rows {
		t.Errorf("faktura-norsk.xlsx without profile: %d orders", len(run.res.Orders))
	}
	kindErrors := 0
	for _, e := range run.res.Errors {
		if e.Column == "kind" && strings.HasPrefix(e.Reason, "required: this row names no kind") {
			kindErrors++
		}
	}
	if kindErrors != 5 {
		t.Errorf("faktura-norsk.xlsx without profile: %d kind errors, want one per invoice (5): %v", kindErrors, run.res.Errors)
	}
}

// TestEnglishExport: an ERP export with English headers, UTF-8 with BOM,
// commas, quoted "1,234.50" amounts and ISO dates, made here.
func TestEnglishExport(t *testing.T) {
	t.Parallel()
	csv := "\ufeffOrder number,Order type,Customer type,Customer name,Email,Country code,Mobile,Personal number,Organization number," +
		"Street address,Postal code,City,Country,Language,SKU,Description,Qty,Unit price,Discount,VAT rate,Line total,Order date,Due date,Your reference\r\n" +
		`EN-1,invoice,private,Kari Nordmann,kari@example.com,47,465 67 468,28038712383,,Storgata 1,0155,Oslo,NO,en,A-1,Consulting,2,"1,234.50",,25,"2,469.00",2026-11-02,2026-11-30,PO 17` + "\r\n" +
		`EN-1,invoice,private,Kari Nordmann,kari@example.com,47,465 67 468,28038712383,,Storgata 1,0155,Oslo,NO,en,A-2,Travel,1,1234.50,34.50,25,1200.00,2026-11-02,2026-11-30,PO 17` + "\r\n" +
		`EN-2,payment link,corporate,Nordmann AS,post@example.com,+47,46567468,,923 609 016,Storgata 1,0155,Oslo,NO,en,B-1,Licence,1,999,,25,999.00,,,` + "\r\n"
	sheet, err := importers.ReadCSV("export.csv", strings.NewReader(csv), importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := intake.FromSheet(sheet, intake.Options{Mapping: mapping.Options{Now: samplesNow, Location: oslo()}})
	if err != nil || len(f.Unknown) != 0 {
		t.Fatalf("FromSheet: %v, not used %v", err, f.Unknown)
	}
	res := checkFile(t, f)
	if len(res.Errors) != 0 || len(res.Orders) != 2 {
		t.Fatalf("got %v", res.Errors)
	}
	if o := res.Orders[0]; o.Totals().GrandTotal != 366900 || o.DueDate != "2026-11-30" || o.Customer.PreferredLanguage != "en" || o.CustomerReference != "PO 17" {
		t.Errorf("EN-1: %+v", o)
	}
	if o := res.Orders[1]; o.Kind != fpclient.KindPaymentLink || o.Customer.OrganizationID != "923609016" {
		t.Errorf("EN-2: %+v", o)
	}
}
