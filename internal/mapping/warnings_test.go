package mapping

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/msg"
)

// A value in a column the order's kind does not use is a warning: the
// order is valid, the value is kept with it (Unused) and never sent, and
// Strict turns the warning into an error.
func TestUnusedColumnsWarn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		kind fpclient.Kind
		col  string
		val  string
	}{
		{fpclient.KindHostedCheckout, "customer_reference", "KUNDE-7"},
		{fpclient.KindInvoice, "reference_no", "R1"},
		{fpclient.KindInvoice, "payment_method", "visa"},
		{fpclient.KindCheckout, "send_sms", "ja"},
		{fpclient.KindInvoice, "send_email", "nei"},
		{fpclient.KindCheckout, "due_date", "30.11.2026"},
		{fpclient.KindCheckout, "due_days", "14"},
		{fpclient.KindPaymentLink, "invoice_fee", "ja"},
	}
	for _, tt := range tests {
		l := line(2, validFields(tt.kind, "private"), tt.col, tt.val)
		res := buildOrders([]Line{l}, b.opt)
		if len(res.Orders) != 1 || len(res.Errors) != 0 {
			t.Errorf("%s on %s: got %d orders, errors %v; want the order valid", tt.col, tt.kind, len(res.Orders), res.Errors)
			continue
		}
		if len(res.Warnings) != 1 || res.Warnings[0].Column != tt.col || res.Warnings[0].Msg.ID != "warn.unused" {
			t.Errorf("%s on %s: got warnings %v, want one warn.unused in %s", tt.col, tt.kind, res.Warnings, tt.col)
		}
		o := res.Orders[0]
		if o.Unused[tt.col] != tt.val {
			t.Errorf("%s on %s: Unused = %v, want the value kept", tt.col, tt.kind, o.Unused)
		}
		data, fp := o.Content()
		if !strings.Contains(string(data), tt.val) {
			t.Errorf("%s on %s: stored order %s does not keep %q", tt.col, tt.kind, data, tt.val)
		}
		plain := res.Orders[0]
		plain.Unused = nil
		if _, want := plain.Content(); fp != want {
			t.Errorf("%s on %s: the unused value changed the fingerprint", tt.col, tt.kind)
		}
		if tt.col == "customer_reference" && o.CustomerReference != "" || tt.col == "reference_no" && o.ReferenceNo != "" ||
			tt.col == "payment_method" && o.PaymentMethod != "" || tt.col == "due_date" && o.DueDate != "" {
			t.Errorf("%s on %s: the order would send it: %+v", tt.col, tt.kind, o)
		}

		strict := b.opt
		strict.Strict = true
		res = buildOrders([]Line{l}, strict)
		if len(res.Orders) != 0 || len(res.Errors) != 1 || res.Errors[0].Column != tt.col {
			t.Errorf("%s on %s, strict: got %d orders, errors %v; want it rejected for %s", tt.col, tt.kind, len(res.Orders), res.Errors, tt.col)
		}
	}
}

// Repairs: only when one reading is possible, each a warning naming the
// value read and the value sent; a value valid as written is not touched.
func TestRepairs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.opt.AllowSyntheticPersonalNumbers = true // 02908823470 is a test number (month + 80)
	inv := validFields(fpclient.KindInvoice, "private")
	tests := []struct {
		name     string
		kv       []string
		col      string
		want     func(Order) string
		sent     string
		errorCol string // the repair is not possible: an error here
	}{
		{"personal number lost its 0", []string{"personal_number", "2908823470"}, "personal_number",
			func(o Order) string { return o.Customer.PersonalNumber }, "02908823470", ""},
		{"personal number 10 digits, no reading", []string{"personal_number", "2908823471"}, "", nil, "", "personal_number"},
		{"personal number valid as written", []string{"personal_number", "28038712383"}, "",
			func(o Order) string { return o.Customer.PersonalNumber }, "28038712383", ""},
		{"postcode lost its 0", []string{"zip", "358"}, "zip", func(o Order) string { return o.Customer.Zip }, "0358", ""},
		{"postcode outside Norway", []string{"zip", "358", "country", "DK"}, "", func(o Order) string { return o.Customer.Zip }, "358", ""},
		{"postcode of 2 digits", []string{"zip", "58"}, "", nil, "", "zip"},
		{"mobile without country code", []string{"country_code", "", "msisdn", "465 67 468"}, "msisdn",
			func(o Order) string { return o.Customer.CountryCode + " " + o.Customer.MSISDN }, "+47 46567468", ""},
		{"mobile of 7 digits without country code", []string{"country_code", "", "msisdn", "4656746"}, "", nil, "", "country_code"},
		{"mobile abroad without country code", []string{"country_code", "", "msisdn", "46567468", "country", "SE", "zip", "111 22"}, "", nil, "", "country_code"},
	}
	for _, tt := range tests {
		res := buildOrders([]Line{line(2, inv, tt.kv...)}, b.opt)
		if tt.errorCol != "" {
			found := false
			for _, e := range res.Errors {
				found = found || e.Column == tt.errorCol
			}
			if len(res.Orders) != 0 || !found {
				t.Errorf("%s: got %d orders, errors %v; want an error in %s", tt.name, len(res.Orders), res.Errors, tt.errorCol)
			}
			continue
		}
		if len(res.Orders) != 1 {
			t.Errorf("%s: got errors %v, want the order valid", tt.name, res.Errors)
			continue
		}
		if got := tt.want(res.Orders[0]); got != tt.sent {
			t.Errorf("%s: sends %q, want %q", tt.name, got, tt.sent)
		}
		if tt.col == "" {
			if len(res.Warnings) != 0 {
				t.Errorf("%s: got warnings %v, want none", tt.name, res.Warnings)
			}
			continue
		}
		if len(res.Warnings) != 1 || res.Warnings[0].Column != tt.col || !strings.Contains(res.Warnings[0].Reason, strings.TrimPrefix(tt.sent, "")) {
			t.Errorf("%s: got warnings %v, want one in %s naming %q", tt.name, res.Warnings, tt.col, tt.sent)
		}
		if nb := res.Warnings[0].Text(msg.NB); !strings.Contains(nb, "leste") || !strings.Contains(nb, tt.sent) {
			t.Errorf("%s: Norwegian text %q names neither the value read nor the one sent", tt.name, nb)
		}
	}
}

// Every message id the package uses is in the catalogue, so every reason
// has a Norwegian and an English text.
func TestMessagesInCatalogue(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	money, _ := filepath.Glob(filepath.Join("..", "money", "*.go"))
	files = append(files, money...)
	re := regexp.MustCompile(`msg\.(?:New|Err)\("([^"]+)"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			seen++
			if !msg.Known(m[1]) {
				t.Errorf("%s: message %q is not in the catalogue", f, m[1])
			}
		}
		if regexp.MustCompile(`errs\.add\([^,()]+, [^,()]+, (fmt\.Sprintf\()?"`).Match(src) {
			t.Errorf("%s: errs.add with a literal reason; give it a catalogue message", f)
		}
	}
	if seen < 50 {
		t.Errorf("found %d message ids; the pattern no longer finds them", seen)
	}
}

// A repaired personal number is not needed to fix a row: Describe and Error
// (the terminal, logs) mask it as pii does; Text, which the error file
// shows beside the row to fix, keeps it whole.
func TestRepairedPersonalNumberMasked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.opt.AllowSyntheticPersonalNumbers = true // 02908823470 is a test number (month + 80)
	res := buildOrders([]Line{line(2, validFields(fpclient.KindInvoice, "private"), "personal_number", "2908823470")}, b.opt)
	if len(res.Warnings) != 1 {
		t.Fatalf("got warnings %v, want the repair", res.Warnings)
	}
	w := res.Warnings[0]
	for _, shown := range []string{w.Describe(msg.NB), w.Describe(msg.EN), w.Error()} {
		if strings.Contains(shown, "2908823470") || !strings.Contains(shown, "29088*****") || !strings.Contains(shown, "029088*****") {
			t.Errorf("shown unmasked or without the masked numbers: %s", shown)
		}
	}
	if nb := w.Text(msg.NB); !strings.Contains(nb, "«2908823470»") || !strings.Contains(nb, "«02908823470»") {
		t.Errorf("the error file's text lost the numbers: %s", nb)
	}
	// A postcode repair is no personal data: shown as it is.
	res = buildOrders([]Line{line(2, validFields(fpclient.KindInvoice, "private"), "zip", "358")}, b.opt)
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Error(), `read "358", sending "0358"`) {
		t.Errorf("postcode repair: %v", res.Warnings)
	}
}
