package mapping

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

// testNow is the fixed "now" of every test: 09:00 in Oslo on 20 November 2026.
var testNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CET", 3600))

type bundle struct {
	opt Options
}

func setup(t *testing.T) bundle {
	t.Helper()
	return bundle{opt: Options{Now: testNow, Location: oslo()}}
}

// validFields is a row that is valid for the kind and customer type.
func validFields(kind fpclient.Kind, customerType string) map[string]string {
	f := map[string]string{
		"order_ref": "A-1001", "kind": string(kind), "customer_type": customerType,
		"customer_name": "Kari Nordmann", "email": "kari@nordmann.no", "country_code": "+47",
		"msisdn": "465 67 468", "street": "Luramyrveien 65", "zip": "4313", "city": "Sandnes",
		"country": "NO", "product_id": "1234", "product_name": "Test Product", "quantity": "1",
		"rate": "4500", "tax": "12",
	}
	if customerType == "corporate" {
		f["customer_name"] = "Nordmann AS"
		f["organization_id"] = "923 609 016"
	} else if kind == fpclient.KindInvoice || kind == fpclient.KindPaymentLink {
		f["personal_number"] = "28038712383"
	}
	if kind == fpclient.KindCheckout {
		f["payment_method"] = "visa"
	}
	return f
}

// line builds a Line from base with col, value pairs changed.
func line(row int, base map[string]string, kv ...string) Line {
	f := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return Line{Source: "orders.csv", Row: row, Fields: f}
}

func TestOrderBuilderValid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, kind := range fpclient.Kinds {
		for _, ct := range []string{"private", "corporate"} {
			res := buildOrders([]Line{line(2, validFields(kind, ct))}, b.opt)
			if len(res.Errors) != 0 || len(res.Orders) != 1 {
				t.Errorf("%s %s: got %d orders, errors %v; want 1 order, no errors", kind, ct, len(res.Orders), res.Errors)
				continue
			}
			o := res.Orders[0]
			if o.Kind != kind || o.Ref != "A-1001" || o.Customer.Type != ct || o.Customer.MSISDN != "46567468" ||
				o.Customer.CountryCode != "+47" || o.Customer.PreferredLanguage != "no" || o.FirstRow != 2 {
				t.Errorf("%s %s: got %+v", kind, ct, o)
			}
			if ct == "corporate" && o.Customer.OrganizationID != "923609016" {
				t.Errorf("%s %s: got organisation number %q, want 923609016", kind, ct, o.Customer.OrganizationID)
			}
			wantSMS := kind == fpclient.KindPaymentLink
			if o.SendSMS != wantSMS || o.SendEmail != wantSMS || o.InvoiceFee != (kind == fpclient.KindInvoice) {
				t.Errorf("%s %s: got sms %v, email %v, fee %v", kind, ct, o.SendSMS, o.SendEmail, o.InvoiceFee)
			}
			if o.OrderDate != "" || o.DueDate != "" {
				t.Errorf("%s %s: got dates %q, %q, want empty", kind, ct, o.OrderDate, o.DueDate)
			}
		}
	}
}

func TestOrderBuilderSingleRowRules(t *testing.T) {
	t.Parallel()
	inv := func() map[string]string { return validFields(fpclient.KindInvoice, "private") }
	pl := func() map[string]string { return validFields(fpclient.KindPaymentLink, "private") }
	co := func() map[string]string { return validFields(fpclient.KindCheckout, "private") }
	ho := func() map[string]string { return validFields(fpclient.KindHostedCheckout, "private") }
	corp := func(k fpclient.Kind) func() map[string]string {
		return func() map[string]string { return validFields(k, "corporate") }
	}
	tests := []struct {
		name   string
		base   func() map[string]string
		kv     []string
		col    string // "" with reason "" means: valid
		reason string
	}{
		// order_ref
		{"ref required", inv, []string{"order_ref", ""}, "order_ref", "required"},
		{"ref too long", inv, []string{"order_ref", strings.Repeat("A", 65)}, "order_ref", "too long (65 characters, at most 64)"},
		{"ref 64", inv, []string{"order_ref", strings.Repeat("A", 64)}, "", ""},
		{"ref control char", inv, []string{"order_ref", "A\t1"}, "order_ref", "control character"},
		// kind
		{"kind unknown", inv, []string{"kind", "sms"}, "kind", "not a kind"},
		{"kind faktura", inv, []string{"kind", "Faktura"}, "", ""},
		{"kind missing", inv, []string{"kind", ""}, "kind", "no default kind"},
		{"kind with spaces", pl, []string{"kind", "Payment Link"}, "", ""},
		// customer
		{"customer type", inv, []string{"customer_type", "person"}, "customer_type", "private or corporate"},
		{"customer type missing", inv, []string{"customer_type", ""}, "customer_type", "required"},
		{"name missing", inv, []string{"customer_name", ""}, "customer_name", "required"},
		{"email", inv, []string{"email", "kari@"}, "email", "not a valid e-mail address"},
		{"email missing", ho, []string{"email", ""}, "email", "required"},
		{"msisdn short", inv, []string{"msisdn", "4656746"}, "msisdn", "7 digits"},
		{"whole number in msisdn", inv, []string{"country_code", "", "msisdn", "+47 465 67 468"}, "", ""},
		{"country code missing outside Norway", inv, []string{"country_code", "", "country", "SE", "zip", "111 22"}, "country_code", "required"},
		{"personal number required invoice", inv, []string{"personal_number", ""}, "personal_number", "required for private customers of invoice orders"},
		{"personal number required payment-link", pl, []string{"personal_number", ""}, "personal_number", "required for private customers of payment-link orders"},
		{"personal number optional checkout", co, []string{"personal_number", ""}, "", ""},
		{"personal number optional hosted", ho, []string{"personal_number", ""}, "", ""},
		{"personal number optional corporate invoice", corp(fpclient.KindInvoice), nil, "", ""},
		{"personal number format", co, []string{"personal_number", "1234"}, "personal_number", "4 digits"},
		{"org id required", corp(fpclient.KindHostedCheckout), []string{"organization_id", ""}, "organization_id", "required for corporate customers"},
		{"org id format", corp(fpclient.KindCheckout), []string{"organization_id", "12345678"}, "organization_id", "9 digits"},
		// address
		{"street required invoice", inv, []string{"street", ""}, "street", "required for invoice orders"},
		{"zip required checkout", co, []string{"zip", ""}, "zip", "required for checkout orders"},
		{"city required payment-link", pl, []string{"city", ""}, "city", "required for payment-link orders"},
		{"country required invoice", inv, []string{"country", ""}, "country", "required for invoice orders"},
		{"hosted without address", ho, []string{"street", "", "zip", "", "city", "", "country", ""}, "", ""},
		{"hosted street without country", ho, []string{"zip", "", "city", "", "country", ""}, "country", "required when an address is given"},
		{"country code", inv, []string{"country", "Norge"}, "country", "write NO for Norway"},
		{"country lower case", inv, []string{"country", "no"}, "", ""},
		{"zip NO 3 digits repaired", inv, []string{"zip", "431"}, "", ""},
		{"zip SE", inv, []string{"zip", "111 22", "country", "SE"}, "", ""},
		{"language", inv, []string{"preferred_language", "fr"}, "preferred_language", "en, no, sv, da, de"},
		{"language nb", inv, []string{"preferred_language", "nb"}, "", ""},
		// dates
		{"checkout order date past", co, []string{"order_date", "19.11.2026"}, "order_date", "in the past (today is 2026-11-20)"},
		{"hosted order date past", ho, []string{"order_date", "2026-11-19"}, "order_date", "in the past"},
		{"checkout order date today", co, []string{"order_date", "20.11.2026"}, "", ""},
		{"invoice order date past", inv, []string{"order_date", "01.11.2026"}, "", ""},
		{"payment-link order date past", pl, []string{"order_date", "10.11.2026"}, "", ""},
		{"order date garbage", inv, []string{"order_date", "soon"}, "order_date", "not a date"},
		{"checkout due date (a warning)", co, []string{"due_date", "30.11.2026"}, "", ""},
		{"invoice due before order", inv, []string{"order_date", "25.11.2026", "due_date", "24.11.2026"}, "due_date", "before the order date (2026-11-25)"},
		{"invoice due", inv, []string{"order_date", "01.11.2026", "due_date", "15.11.2026"}, "", ""},
		{"payment-link due past", pl, []string{"order_date", "01.11.2026", "due_date", "19.11.2026"}, "due_date", "in the past (today is 2026-11-20)"},
		{"payment-link due before order", pl, []string{"order_date", "01.12.2026", "due_date", "30.11.2026"}, "due_date", "before the order date"},
		{"payment-link default due past", pl, []string{"order_date", "05.11.2026"}, "due_date", "order date + 14 days = 2026-11-19"},
		{"payment-link default due today", pl, []string{"order_date", "06.11.2026"}, "", ""},
		{"hosted due excel serial", ho, []string{"due_date", "46360"}, "", ""},
		// kind-specific columns
		{"payment method missing", co, []string{"payment_method", ""}, "payment_method", "required for checkout orders"},
		{"payment method unknown", co, []string{"payment_method", "klarna"}, "payment_method", "not a payment method"},
		{"payment method on invoice (a warning)", inv, []string{"payment_method", "visa"}, "", ""},
		{"reference_no on invoice (a warning)", inv, []string{"reference_no", "R1"}, "", ""},
		{"reference_no on payment-link", pl, []string{"reference_no", "R1"}, "", ""},
		{"customer_reference on hosted (a warning)", ho, []string{"customer_reference", "C1"}, "", ""},
		{"customer_reference on invoice", inv, []string{"customer_reference", "C1"}, "", ""},
		{"send_sms on invoice (a warning)", inv, []string{"send_sms", "ja"}, "", ""},
		{"send_email garbage", pl, []string{"send_email", "kanskje"}, "send_email", "not yes or no"},
		{"neither sms nor email", pl, []string{"send_sms", "nei", "send_email", "0"}, "send_sms", "both no"},
		{"email only", pl, []string{"send_sms", "nei", "send_email", "x"}, "", ""},
		{"invoice_fee on checkout (a warning)", co, []string{"invoice_fee", "no"}, "", ""},
		{"invoice_fee no", inv, []string{"invoice_fee", "nei"}, "", ""},
		// lines
		{"product name missing", inv, []string{"product_name", ""}, "product_name", "required"},
		{"quantity zero", inv, []string{"quantity", "0"}, "quantity", "more than 0"},
		{"quantity missing", inv, []string{"quantity", ""}, "quantity", "required"},
		{"rate missing", inv, []string{"rate", ""}, "rate", "required"},
		{"rate negative", inv, []string{"rate", "-100"}, "rate", "negative"},
		{"rate too large", inv, []string{"rate", "10 000 000,01"}, "rate", "more than 10000000.00"},
		{"rate largest", inv, []string{"rate", "10 000 000,00"}, "", ""},
		{"rate float noise", inv, []string{"rate", "4499.999999999999"}, "", ""},
		{"tax missing", inv, []string{"tax", ""}, "tax", "required"},
		{"tax not allowed", inv, []string{"tax", "24"}, "tax", "allowed: 0, 12, 15, 25"},
		{"discount above gross", inv, []string{"quantity", "2", "rate", "100", "discount", "200,01"}, "discount", "more than the line's total 200.00"},
		{"discount equal to gross, order total zero", inv, []string{"discount", "4500"}, "", "the total is 0.00"},
		{"discount negative", inv, []string{"discount", "-1"}, "discount", "negative"},
		{"rate zero", inv, []string{"rate", "0"}, "", "FP needs an order total above zero"},
		{"order total too large", inv, []string{"quantity", "1000", "rate", "10 000 000"}, "", "largest order total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			res := buildOrders([]Line{line(2, tt.base(), tt.kv...)}, b.opt)
			if tt.col == "" && tt.reason == "" {
				if len(res.Errors) != 0 || len(res.Orders) != 1 {
					t.Errorf("got errors %v, want a valid order", res.Errors)
				}
				return
			}
			if len(res.Orders) != 0 || !res.RejectedRows[2] {
				t.Errorf("got %d orders, rejected %v; want the order rejected", len(res.Orders), res.RejectedRows)
			}
			for _, e := range res.Errors {
				if e.Column == tt.col && strings.Contains(e.Reason, tt.reason) {
					return
				}
			}
			t.Errorf("got errors %v, want one in column %q containing %q", res.Errors, tt.col, tt.reason)
		})
	}
}

func TestOrderBuilderDefaultKind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := validFields(fpclient.KindPaymentLink, "private")
	f["kind"] = ""
	b.opt.DefaultKind = fpclient.KindPaymentLink
	res := buildOrders([]Line{line(2, f)}, b.opt)
	if len(res.Orders) != 1 || res.Orders[0].Kind != fpclient.KindPaymentLink {
		t.Fatalf("got %v, %v; want one payment-link order", res.Orders, res.Errors)
	}
	// A column value wins over the default.
	f["kind"] = "invoice"
	if res := buildOrders([]Line{line(2, f)}, b.opt); len(res.Orders) != 1 || res.Orders[0].Kind != fpclient.KindInvoice {
		t.Errorf("got %v, %v; want one invoice order", res.Orders, res.Errors)
	}
	f["kind"] = ""
	b.opt.DefaultKind = "sms"
	res = buildOrders([]Line{line(2, f)}, b.opt)
	if len(res.Errors) != 1 || res.Errors[0].Column != "kind" || !strings.Contains(res.Errors[0].Reason, `default kind "sms"`) {
		t.Errorf("got %v, want one kind error naming the default", res.Errors)
	}
}

func TestOrderBuilderOrderLevelColumns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := validFields(fpclient.KindPaymentLink, "private")
	a["send_sms"] = "ja"
	a["order_date"] = "2026-11-25"
	// Later rows may repeat the first row's values in another spelling, or
	// leave them empty.
	same := line(3, a, "kind", "Payment Link", "customer_name", " Kari  Nordmann ", "email", "Kari@Nordmann.no",
		"country_code", "0047", "msisdn", "46567468", "personal_number", "280387 12383", "country", "no",
		"send_sms", "yes", "order_date", "25.11.2026", "street", "", "zip", "", "city", "")
	res := buildOrders([]Line{line(2, a), same}, b.opt)
	if len(res.Errors) != 0 {
		t.Fatalf("got errors %v, want none", res.Errors)
	}
	// A value where the first row has none differs too.
	res = buildOrders([]Line{line(2, a), line(3, a, "customer_reference", "X")}, b.opt)
	if len(res.Errors) != 2 || res.Errors[1].Reason[:25] != "differs from row 2 (empty" {
		t.Errorf("got %v, want row 3 customer_reference differs from row 2 (empty)", res.Errors)
	}
	// Product columns may differ.
	res = buildOrders([]Line{line(2, a), line(3, a, "product_id", "9", "product_name", "Other", "quantity", "2", "rate", "1", "tax", "25", "discount", "1")}, b.opt)
	if len(res.Errors) != 0 {
		t.Errorf("got errors %v, want none", res.Errors)
	}
}

func TestOrderBuilderErrorsSortedAndComplete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := validFields(fpclient.KindInvoice, "private")
	res := buildOrders([]Line{line(2, f, "tax", "7", "email", "x", "rate", "abc", "zip", "12", "quantity", "-1")}, b.opt)
	var cols []string
	for _, e := range res.Errors {
		cols = append(cols, e.Column)
	}
	if want := []string{"email", "zip", "quantity", "rate", "tax"}; !slices.Equal(cols, want) {
		t.Errorf("columns: got %v, want %v", cols, want)
	}
}

func TestOrderBuilderTodayInOslo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// 23:30 UTC on 20 November is already 21 November in Oslo.
	b.opt.Now = time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	res := buildOrders([]Line{line(2, validFields(fpclient.KindCheckout, "private"), "order_date", "2026-11-20")}, b.opt)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Reason, "today is 2026-11-21") {
		t.Errorf("got %v, want order_date in the past (today is 2026-11-21)", res.Errors)
	}
}

func TestRowErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    RowError
		want string
	}{
		{RowError{Source: "orders.csv", Row: 7, Column: "email", Value: "kari@", Reason: "not a valid e-mail address"}, `orders.csv row 7, column email ("kari@"): not a valid e-mail address`},
		{RowError{Source: "orders.csv", Row: 7, Column: "email", Reason: "required"}, `orders.csv row 7, column email: required`},
		{RowError{Source: "o.xlsx", Row: 3, Reason: "order A: the total is 0.00"}, `o.xlsx row 3: order A: the total is 0.00`},
		{RowError{Source: "n.csv", Row: 17, Column: "line_total", Value: "3 705,00", Reason: "the sheet says 3705.00", Header: "Beløp"},
			`n.csv row 17, column Beløp (line_total) ("3 705,00"): the sheet says 3705.00`},
		{RowError{Source: "n.csv", Row: 2, Column: "email", Reason: "required", Header: "email"}, `n.csv row 2, column email: required`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := validFields(fpclient.KindInvoice, "private")
	one := buildOrders([]Line{line(2, f)}, b.opt).Orders[0]

	// Same content from another file, other rows and another day.
	b2 := b
	b2.opt.Now = testNow.AddDate(0, 0, 3)
	l := line(40, f, "rate", "4 500,00", "msisdn", "46567468", "tax", "12 %")
	l.Source = "other.xlsx"
	two := buildOrders([]Line{l}, b2.opt).Orders[0]
	if one.Fingerprint() != two.Fingerprint() {
		t.Errorf("same content: fingerprints differ:\n%+v\n%+v", one, two)
	}
	if len(one.Fingerprint()) != 64 {
		t.Errorf("fingerprint %q: want 64 hex digits", one.Fingerprint())
	}

	// A JSON round trip (the order is stored as jsonb) keeps it.
	js, err := json.Marshal(one)
	if err != nil {
		t.Fatal(err)
	}
	var back Order
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Fingerprint() != one.Fingerprint() || !slices.Equal(back.Rows, one.Rows) || back.Source != one.Source {
		t.Errorf("JSON round trip changed the order:\n%s\n%+v", js, back)
	}

	// Any change of content changes it.
	for _, kv := range [][]string{
		{"rate", "4500,01"}, {"email", "ola@nordmann.no"}, {"kind", "payment-link"}, {"order_ref", "A-1002"},
		{"due_date", "2026-12-31"}, {"invoice_fee", "nei"}, {"quantity", "2"}, {"tax", "25"},
	} {
		res := buildOrders([]Line{line(2, f, kv...)}, b.opt)
		if len(res.Orders) != 1 {
			t.Fatalf("%v: %v", kv, res.Errors)
		}
		if res.Orders[0].Fingerprint() == one.Fingerprint() {
			t.Errorf("%v: fingerprint unchanged", kv)
		}
	}
}
