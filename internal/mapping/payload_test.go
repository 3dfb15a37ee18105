package mapping

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// compareGolden compares got with testdata/name byte for byte, or rewrites
// the file with -update.
func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func payloadOptions() PayloadOptions {
	return PayloadOptions{
		CallbackURL: "https://fpexport.example.no/callbacks/fp?ref=A-1001&sig=abc",
		SuccessURL:  "https://shop.example.no/paid",
		FailureURL:  "https://shop.example.no/failed",
		Now:         testNow,
		Location:    oslo(),
	}
}

func TestBuildPayloadGolden(t *testing.T) {
	t.Parallel()
	inv := validFields(fpclient.KindInvoice, "private")
	invCorp := validFields(fpclient.KindInvoice, "corporate")
	tests := []struct {
		name  string
		lines []Line
		opts  func(*PayloadOptions)
	}{
		{"checkout_private", []Line{
			line(2, validFields(fpclient.KindCheckout, "private"), "payment_method", "Apple Pay", "preferred_language", "en"),
		}, nil},
		{"checkout_corporate", []Line{
			line(2, validFields(fpclient.KindCheckout, "corporate"), "order_date", "27.11.2026", "customer_reference", "PO 7781",
				"payment_method", "Vipps", "quantity", "3", "rate", "kr 1 249,90", "discount", "100", "tax", "25"),
			line(3, map[string]string{"order_ref": "A-1001", "product_name": "Frakt", "quantity": "1", "rate": "99,-", "tax": "25"}),
		}, nil},
		{"invoice_private", []Line{
			line(2, inv, "order_date", "01.11.2026", "due_date", "15.11.2026", "customer_reference", "3500", "msisdn", "+47 465 67 468", "country_code", ""),
		}, nil},
		{"invoice_corporate", []Line{
			line(2, invCorp, "invoice_fee", "nei", "product_id", "", "product_name", "Konsulenttimer", "quantity", "7,5", "rate", "1 250", "tax", "25"),
			line(3, invCorp, "product_id", "B-7", "product_name", "Bok", "quantity", "2", "rate", "349", "tax", "0"),
			line(4, invCorp, "product_id", "M-1", "product_name", "Lunsj", "quantity", "4", "rate", "100.10", "tax", "15", "discount", "0,40"),
			line(5, invCorp, "product_id", "F-1", "product_name", "Mat", "quantity", "1", "rate", "100.10", "tax", "12"),
		}, func(p *PayloadOptions) { p.FpgoUUID = "ODR4286244937" }},
		{"hosted-checkout_private", []Line{
			line(2, validFields(fpclient.KindHostedCheckout, "private"), "street", "", "zip", "", "city", "", "country", "",
				"preferred_language", "sv", "rate", "5"),
		}, nil},
		{"hosted-checkout_corporate", []Line{
			line(2, validFields(fpclient.KindHostedCheckout, "corporate"), "order_date", "2026-12-01", "due_date", "2026-12-24",
				"rate", "4499.999999999999"),
		}, nil},
		{"payment-link_private", []Line{
			line(2, validFields(fpclient.KindPaymentLink, "private"), "send_sms", "ja", "send_email", "nei",
				"reference_no", "Dhaka", "customer_reference", "3500", "product_name", "Hair Wash", "product_id", "VFDDF", "rate", "51", "tax", "0"),
		}, nil},
		{"payment-link_corporate", []Line{
			line(2, validFields(fpclient.KindPaymentLink, "corporate"), "due_date", "46387", "preferred_language", "de"),
		}, func(p *PayloadOptions) { p.SuccessURL, p.FailureURL = "", "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			res := buildOrders(tt.lines, b.opt)
			if len(res.Errors) != 0 || len(res.Orders) != 1 {
				t.Fatalf("build: got %d orders, errors %v", len(res.Orders), res.Errors)
			}
			p := payloadOptions()
			if tt.opts != nil {
				tt.opts(&p)
			}
			v, err := BuildPayload(res.Orders[0], p)
			if err != nil {
				t.Fatalf("BuildPayload: %v", err)
			}
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, tt.name+".json", append(got, '\n'))
		})
	}
}

func TestBuildPayloadTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, kind := range fpclient.Kinds {
		o := buildOrders([]Line{line(2, validFields(kind, "private"))}, b.opt).Orders[0]
		v, err := BuildPayload(o, payloadOptions())
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		var ok bool
		switch kind {
		case fpclient.KindCheckout:
			_, ok = v.(*fpclient.CheckoutRequest)
		case fpclient.KindInvoice:
			_, ok = v.(*fpclient.InvoiceRequest)
		case fpclient.KindHostedCheckout:
			_, ok = v.(*fpclient.HostedCheckoutRequest)
		case fpclient.KindPaymentLink:
			_, ok = v.(*fpclient.PaymentLinkRequest)
		}
		if !ok {
			t.Errorf("%s: got %T", kind, v)
		}
	}
}

func TestBuildPayloadSeedSummary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := buildOrders([]Line{line(2, validFields(fpclient.KindCheckout, "private"))}, b.opt).Orders[0]
	v, err := BuildPayload(o, payloadOptions())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v.(*fpclient.CheckoutRequest).OrderSummary)
	want := `{"subTotal":4017.86,"totalTax":482.14,"totalDiscount":0.00,"grandTotal":4500.00,"shippingCost":0.00}`
	if string(got) != want {
		t.Errorf("orderSummary: got %s, want %s", got, want)
	}
}

func unixOf(t *testing.T, s string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not unix seconds: %q", s)
	}
	return time.Unix(n, 0).In(oslo())
}

func TestBuildPayloadDates(t *testing.T) {
	t.Parallel()
	osl := oslo()
	tests := []struct {
		name      string
		kind      fpclient.Kind
		orderDate string // in the Order
		dueDate   string
		now       time.Time // submit time
		wantOrder time.Time
		wantDue   time.Time // zero: not checked
		wantErr   string
	}{
		{"empty → now", fpclient.KindInvoice, "", "", testNow, testNow, time.Time{}, ""},
		{"today → now", fpclient.KindInvoice, "2026-11-20", "", testNow, testNow, time.Time{}, ""},
		{"future → noon Oslo", fpclient.KindCheckout, "2026-11-27", "", testNow,
			time.Date(2026, 11, 27, 12, 0, 0, 0, osl), time.Time{}, ""},
		{"invoice past → noon Oslo of that day", fpclient.KindInvoice, "2026-11-01", "", testNow,
			time.Date(2026, 11, 1, 12, 0, 0, 0, osl), time.Time{}, ""},
		// Checkout kinds are dated a little ahead of "now" (orderDateLead):
		// FP checks "current or future" when the request arrives.
		{"checkout waited past midnight → now", fpclient.KindCheckout, "2026-11-20", "", testNow.Add(20 * time.Hour),
			testNow.Add(20*time.Hour + orderDateLead), time.Time{}, ""},
		{"hosted waited past midnight → now, due from today", fpclient.KindHostedCheckout, "2026-11-20", "", testNow.AddDate(0, 0, 2),
			testNow.AddDate(0, 0, 2).Add(orderDateLead), time.Date(2026, 12, 6, 23, 59, 59, 0, osl), ""},
		{"payment-link default due", fpclient.KindPaymentLink, "", "", testNow,
			testNow, time.Date(2026, 12, 4, 23, 59, 59, 0, osl), ""},
		{"payment-link due in summer time", fpclient.KindPaymentLink, "2027-06-01", "2027-06-30", testNow,
			time.Date(2027, 6, 1, 12, 0, 0, 0, osl), time.Date(2027, 6, 30, 23, 59, 59, 0, osl), ""},
		{"payment-link due passed while queued", fpclient.KindPaymentLink, "", "2026-11-21", testNow.AddDate(0, 0, 2),
			time.Time{}, time.Time{}, "due date 2026-11-21 has passed"},
		{"payment-link default due passed", fpclient.KindPaymentLink, "2026-11-01", "", testNow.AddDate(0, 0, 1),
			time.Time{}, time.Time{}, "due date 2026-11-15 has passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := Order{Ref: "A-1", Kind: tt.kind, OrderDate: tt.orderDate, DueDate: tt.dueDate,
				Customer: Customer{Type: "private", Name: "Kari", Email: "kari@nordmann.no", CountryCode: "+47", MSISDN: "46567468",
					Street: "Gate 1", Zip: "4313", City: "Sandnes", Country: "NO"},
				Lines:         []OrderLine{{Name: "X", Quantity: 1000, Rate: 10000, TaxPercent: 25}},
				PaymentMethod: "visa", SendSMS: true}
			p := payloadOptions()
			p.Now = tt.now
			v, err := BuildPayload(o, p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var orderTS, dueTS string
			switch r := v.(type) {
			case *fpclient.CheckoutRequest:
				orderTS = r.OrderDate
			case *fpclient.InvoiceRequest:
				orderTS = r.OrderDate
			case *fpclient.HostedCheckoutRequest:
				orderTS, dueTS = r.OrderDate, r.DueDateForPaymentLink
			case *fpclient.PaymentLinkRequest:
				orderTS, dueTS = r.OrderDate, r.DueDateForPaymentLink
			}
			if got := unixOf(t, orderTS); !got.Equal(tt.wantOrder) {
				t.Errorf("orderDate: got %s, want %s", got, tt.wantOrder.In(osl))
			}
			if !tt.wantDue.IsZero() {
				if got := unixOf(t, dueTS); !got.Equal(tt.wantDue) {
					t.Errorf("dueDateForPaymentLink: got %s, want %s", got, tt.wantDue)
				}
			}
		})
	}
}

func TestBuildPayloadInvoiceMaturity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := validFields(fpclient.KindInvoice, "private")
	o := buildOrders([]Line{line(2, f, "due_date", "04.12.2026")}, b.opt).Orders[0]
	for _, tt := range []struct {
		now  time.Time
		want int
		err  string
	}{
		{testNow, 14, ""},
		{testNow.AddDate(0, 0, 4), 10, ""}, // sent four days later: still due on 4 December
		{testNow.AddDate(0, 0, 15), 0, "before the order date"},
	} {
		p := payloadOptions()
		p.Now = tt.now
		v, err := BuildPayload(o, p)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("now %s: got %v, want an error containing %q", tt.now, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m := v.(*fpclient.InvoiceRequest).InvoiceMaturity; m == nil || *m != tt.want {
			t.Errorf("now %s: got invoiceMaturity %v, want %d", tt.now, m, tt.want)
		}
	}
	// Without a due date invoiceMaturity is left out.
	o = buildOrders([]Line{line(2, f)}, b.opt).Orders[0]
	v, _ := BuildPayload(o, payloadOptions())
	if m := v.(*fpclient.InvoiceRequest).InvoiceMaturity; m != nil {
		t.Errorf("got invoiceMaturity %d, want it omitted", *m)
	}
}

func TestBuildPayloadErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	valid := map[fpclient.Kind]Order{}
	for _, k := range fpclient.Kinds {
		valid[k] = buildOrders([]Line{line(2, validFields(k, "private"))}, b.opt).Orders[0]
	}
	tests := []struct {
		name string
		kind fpclient.Kind
		mod  func(*Order, *PayloadOptions)
		want string
	}{
		{"no callback", fpclient.KindInvoice, func(o *Order, p *PayloadOptions) { p.CallbackURL = "" }, "callback URL is required"},
		{"no success for hosted", fpclient.KindHostedCheckout, func(o *Order, p *PayloadOptions) { p.SuccessURL = "" }, "success URL is required"},
		{"relative URL", fpclient.KindCheckout, func(o *Order, p *PayloadOptions) { p.FailureURL = "/failed" }, "not an absolute http(s) URL"},
		{"unknown kind", fpclient.KindInvoice, func(o *Order, p *PayloadOptions) { o.Kind = "sms" }, `unknown kind "sms"`},
		{"no lines", fpclient.KindInvoice, func(o *Order, p *PayloadOptions) { o.Lines = nil }, "no order lines"},
		{"zero total", fpclient.KindInvoice, func(o *Order, p *PayloadOptions) { o.Lines[0].Rate = 0 }, "not above zero"},
		{"rate too large", fpclient.KindInvoice, func(o *Order, p *PayloadOptions) { o.Lines[0].Rate = MaxRate + 1 }, "out of range"},
		{"checkout without method", fpclient.KindCheckout, func(o *Order, p *PayloadOptions) { o.PaymentMethod = "" }, "payment method"},
		{"link without channel", fpclient.KindPaymentLink, func(o *Order, p *PayloadOptions) { o.SendSMS, o.SendEmail = false, false }, "neither"},
		{"no address", fpclient.KindInvoice, func(o *Order, p *PayloadOptions) { o.Customer.Country = "" }, "full address"},
		{"bad order date", fpclient.KindInvoice, func(o *Order, p *PayloadOptions) { o.OrderDate = "20.11.2026" }, "order date"},
	}
	for _, tt := range tests {
		o := valid[tt.kind]
		o.Lines = append([]OrderLine(nil), o.Lines...)
		p := payloadOptions()
		tt.mod(&o, &p)
		if _, err := BuildPayload(o, p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	// Payment-link needs only callbackUrl.
	p := payloadOptions()
	p.SuccessURL, p.FailureURL = "", ""
	if _, err := BuildPayload(valid[fpclient.KindPaymentLink], p); err != nil {
		t.Errorf("payment-link with callbackUrl only: got %v, want nil", err)
	}
}

func TestBuildPayloadUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, k := range fpclient.Kinds {
		o := buildOrders([]Line{line(2, validFields(k, "private"))}, b.opt).Orders[0]
		p := payloadOptions()
		p.FpgoUUID = "ODR123"
		v, err := BuildPayload(o, p)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(v)
		if !bytes.Contains(js, []byte(`"orderFrom":"PARTNER"`)) || !bytes.Contains(js, []byte(`"fpgoUuid":"ODR123"`)) {
			t.Errorf("%s: got %s, want orderFrom PARTNER and fpgoUuid", k, js)
		}
		v, _ = BuildPayload(o, payloadOptions())
		js, _ = json.Marshal(v)
		if bytes.Contains(js, []byte(`orderFrom`)) || bytes.Contains(js, []byte(`fpgoUuid`)) {
			t.Errorf("%s: got %s, want neither orderFrom nor fpgoUuid", k, js)
		}
	}
}
