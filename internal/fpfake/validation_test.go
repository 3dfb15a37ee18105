package fpfake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

type ruleCase struct {
	name   string
	mutate func(doc map[string]any)
	want   []string
}

func setTo(path string, v any) func(map[string]any) {
	return func(doc map[string]any) { set(doc, path, v) }
}

func deleted(path string) func(map[string]any) {
	return func(doc map[string]any) { del(doc, path) }
}

func both(fs ...func(map[string]any)) func(map[string]any) {
	return func(doc map[string]any) {
		for _, f := range fs {
			f(doc)
		}
	}
}

// grandØre is each seed example's grand total, in øre.
var grandØre = map[fpclient.Kind]int{
	fpclient.KindCheckout:       450000,
	fpclient.KindInvoice:        4000,
	fpclient.KindHostedCheckout: 500,
	fpclient.KindPaymentLink:    5100,
}

func nok(øre int) string { return fmt.Sprintf("%d.%02d", øre/100, øre%100) }

func osloMidnight() time.Time {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(err)
	}
	y, m, d := time.Now().In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// commonCases are the rules every endpoint shares: products, summary,
// money, order date format, partner update, customer block, callback URL.
func commonCases(k fpclient.Kind) []ruleCase {
	g := grandØre[k]
	identity := func(want, got int) string {
		return fmt.Sprintf("The order summary.sub total + total tax - total discount + shipping cost must equal the grand total (%s, not %s).", nok(want), nok(got))
	}
	// totalTax 10 NOK too high: only the summary identity breaks.
	taxPlus10 := map[fpclient.Kind]string{fpclient.KindCheckout: "492.14"}[k]
	if taxPlus10 == "" {
		taxPlus10 = "10"
	}
	return []ruleCase{
		{"products missing", deleted("products"), []string{"The products field is required."}},
		{"products empty", setTo("products", []any{}), []string{"The products field is required."}},
		{"products not a list", setTo("products", "Router"), []string{"The products must be an array."}},
		{"products object with a gap", setTo("products", map[string]any{"1": map[string]any{"name": "x"}}), []string{"The products must be a list."}},
		{"product not an object", setTo("products", []any{"Router"}), []string{
			"The products.0 must be an array.",
			"The products.0.name field is required.",
			"The products.0.quantity field is required.",
			"The products.0.rate field is required.",
			"The products.0.tax field is required.",
			"The products.0.amount field is required.",
		}},
		{"product name missing", deleted("products.0.name"), []string{"The products.0.name field is required."}},
		{"product name a number", setTo("products.0.name", json.Number("42")), []string{"The products.0.name must be a string."}},
		{"productId a number", setTo("products.0.productId", json.Number("1234")), []string{"The products.0.productId must be a string."}},
		{"quantity missing", deleted("products.0.quantity"), []string{"The products.0.quantity field is required."}},
		{"quantity not numeric", setTo("products.0.quantity", "one"), []string{"The products.0.quantity must be a number."}},
		{"rate missing", deleted("products.0.rate"), []string{"The products.0.rate field is required."}},
		{"rate with a decimal comma", setTo("products.0.rate", "4,5"), []string{"The products.0.rate must be a number."}},
		{"discount not numeric", setTo("products.0.discount", "ten"), []string{"The products.0.discount must be a number."}},
		{"tax missing", deleted("products.0.tax"), []string{"The products.0.tax field is required."}},
		{"tax not numeric", setTo("products.0.tax", "mva"), []string{"The products.0.tax must be a number."}},
		{"tax not a Norwegian rate", setTo("products.0.tax", json.Number("13")), []string{"The selected products.0.tax is invalid."}},
		{"tax as the string 12.0", setTo("products.0.tax", "12.0"), []string{"The selected products.0.tax is invalid."}},
		{"amount missing", deleted("products.0.amount"), []string{"The products.0.amount field is required."}},
		{"amount not numeric", setTo("products.0.amount", "all"), []string{"The products.0.amount must be a number."}},
		{"subTotal missing", deleted("orderSummary.subTotal"), []string{"The order summary.sub total field is required."}},
		{"subTotal not numeric", setTo("orderSummary.subTotal", "n/a"), []string{"The order summary.sub total must be a number."}},
		{"totalTax missing", deleted("orderSummary.totalTax"), []string{"The order summary.total tax field is required."}},
		{"totalDiscount missing", deleted("orderSummary.totalDiscount"), []string{"The order summary.total discount field is required."}},
		{"grandTotal missing", deleted("orderSummary.grandTotal"), []string{"The order summary.grand total field is required."}},
		{"grandTotal not numeric", setTo("orderSummary.grandTotal", "1 000"), []string{"The order summary.grand total must be a number."}},
		{"amount is not quantity × rate − discount", setTo("products.0.amount", json.Number(strconv.Itoa(g/100-1))), []string{
			fmt.Sprintf("The products.0.amount must be %s (quantity * rate - discount).", nok(g)),
			fmt.Sprintf("The order summary.grand total must be %s (the sum of the product amounts plus shipping cost).", nok(g-100)),
		}},
		{"amount off by one øre", setTo("products.0.amount", nok(g-1)), []string{
			fmt.Sprintf("The products.0.amount must be %s (quantity * rate - discount).", nok(g)),
			fmt.Sprintf("The order summary.grand total must be %s (the sum of the product amounts plus shipping cost).", nok(g-1)),
		}},
		{"grandTotal is not the sum of amounts", setTo("orderSummary.grandTotal", nok(g+1)), []string{
			fmt.Sprintf("The order summary.grand total must be %s (the sum of the product amounts plus shipping cost).", nok(g)),
			identity(g+1, g),
		}},
		{"subTotal + totalTax do not add up", setTo("orderSummary.totalTax", json.Number(taxPlus10)), []string{identity(g, g+1000)}},
		{"totalDiscount is not the sum of discounts", setTo("orderSummary.totalDiscount", "1.00"), []string{
			"The order summary.total discount must be 0.00 (the sum of the product discounts).",
			identity(g, g-100),
		}},
		{"orderDate missing", deleted("orderDate"), []string{"The order date field is required."}},
		{"orderDate a number", setTo("orderDate", json.Number(nowUnix())), []string{"The order date must be a string."}},
		{"orderDate a calendar date", setTo("orderDate", "2025-08-07"), []string{"The order date does not match the format U."}},
		{"orderDate in milliseconds", setTo("orderDate", nowUnix()+"000"), []string{"The order date does not match the format U."}},
		{"fpgoUuid without orderFrom", setTo("fpgoUuid", "ODR1234567890"), []string{"The order from field is required when fpgo uuid is present."}},
		{"orderFrom not PARTNER", setTo("orderFrom", "MERCHANT"), []string{"The selected order from is invalid."}},
		{"customer type unknown", setTo("customerDetails.type", "person"), []string{"The selected customer details.type is invalid."}},
		{"email with two @", setTo("customerDetails.email", "example@domain.test@yopmail.com"), []string{"The customer details.email must be a valid email address."}},
		{"email without domain", setTo("customerDetails.email", "kari@nordmann"), []string{"The customer details.email must be a valid email address."}},
		{"personal number of 10 digits", setTo("customerDetails.personalNumber", "1234567890"), []string{"The customer details.personal number format is invalid."}},
		{"personal number with a space", setTo("customerDetails.personalNumber", "280387 12383"), []string{"The customer details.personal number format is invalid."}},
		{"personal number as a JSON number", setTo("customerDetails.personalNumber", json.Number("28038712383")), []string{"The customer details.personal number must be a string."}},
		{"corporate without organization id", both(setTo("customerDetails.type", "corporate"), setTo("customerDetails.organizationId", nil)),
			[]string{"The customer details.organization id field is required when customer details.type is corporate."}},
		{"organization id with a letter", both(setTo("customerDetails.type", "corporate"), setTo("customerDetails.organizationId", "98765432A")),
			[]string{"The customer details.organization id format is invalid."}},
		{"preferred language unknown", setTo("customerDetails.preferredLanguage", "fr"), []string{"The selected customer details.preferred language is invalid."}},
		{"country unknown", setTo("customerDetails.address.country", "XX"), []string{"The selected customer details.address.country is invalid."}},
		{"country in lower case", setTo("customerDetails.address.country", "no"), []string{"The selected customer details.address.country is invalid."}},
		{"country alpha-3", setTo("customerDetails.address.country", "NOR"), []string{"The selected customer details.address.country is invalid."}},
		{"callbackUrl without scheme", setTo("callback.callbackUrl", "your-callback-url.com/callback"), []string{"The callback.callback url must be a valid URL."}},
		{"callbackUrl ftp", setTo("callback.callbackUrl", "ftp://your-callback-url.com/callback"), []string{"The callback.callback url must be a valid URL."}},
		{"callbackUrl with a space", setTo("callback.callbackUrl", "https://your-callback-url.com/call back"), []string{"The callback.callback url must be a valid URL."}},
	}
}

func kindCases(k fpclient.Kind) []ruleCase {
	switch k {
	case fpclient.KindCheckout:
		whenWith := func(f string) string {
			return "The customer details." + f + " field is required when with customer is true."
		}
		return []ruleCase{
			{"orderDate yesterday in Oslo", setTo("orderDate", unix(osloMidnight().Add(-time.Second))), []string{"The order date must be a date after or equal to today."}},
			{"shippingCost not numeric", setTo("orderSummary.shippingCost", "free"), []string{"The order summary.shipping cost must be a number."}},
			{"shippingCost not in grandTotal", setTo("orderSummary.shippingCost", json.Number("100")), []string{
				"The order summary.grand total must be 4600.00 (the sum of the product amounts plus shipping cost).",
				"The order summary.sub total + total tax - total discount + shipping cost must equal the grand total (4500.00, not 4600.00).",
			}},
			{"referenceNo a number", setTo("referenceNo", json.Number("5")), []string{"The reference no must be a string."}},
			{"customerReference a number", setTo("customerReference", json.Number("5")), []string{"The customer reference must be a string."}},
			{"withCustomer missing", deleted("withCustomer"), []string{"The with customer field is required."}},
			{"withCustomer yes", setTo("withCustomer", "yes"), []string{"The with customer field must be true or false."}},
			{"withCustomer but no customer", deleted("customerDetails"), []string{
				whenWith("type"), whenWith("country code"), whenWith("msisdn"), whenWith("email"), whenWith("name"),
				whenWith("address.street"), whenWith("address.zip"), whenWith("address.city"), whenWith("address.country"),
			}},
			{"withCustomer as 1 but no email", both(setTo("withCustomer", json.Number("1")), deleted("customerDetails.email")), []string{whenWith("email")}},
			{"msisdn a number", setTo("customerDetails.msisdn", json.Number("46567468")), []string{"The customer details.msisdn must be a string."}},
			{"payment method missing", deleted("submitPayment.via"), []string{"The submit payment.via field is required."}},
			{"payment method paypal", setTo("submitPayment.via", "paypal"), []string{"The selected submit payment.via is invalid."}},
			{"payment method in capitals", setTo("submitPayment.via", "VISA"), []string{"The selected submit payment.via is invalid."}},
			{"callbackUrl missing", deleted("callback.callbackUrl"), []string{"The callback.callback url field is required."}},
			{"success URL missing", deleted("callback.success"), []string{"The callback.success field is required."}},
			{"failure URL invalid", setTo("callback.failure", "https://"), []string{"The callback.failure must be a valid URL."}},
		}
	case fpclient.KindInvoice:
		return []ruleCase{
			{"invoiceFeeApplicable missing", deleted("invoiceFeeApplicable"), []string{"The invoice fee applicable field is required."}},
			{"invoiceFeeApplicable yes", setTo("invoiceFeeApplicable", "yes"), []string{"The invoice fee applicable field must be true or false."}},
			{"invoiceFeeApplicable the string true", setTo("invoiceFeeApplicable", "true"), []string{"The invoice fee applicable field must be true or false."}},
			{"invoiceInterval 3", setTo("invoiceInterval", json.Number("3")), []string{"The selected invoice interval is invalid."}},
			{"invoiceInterval not numeric", setTo("invoiceInterval", "monthly"), []string{"The invoice interval must be a number."}},
			{"separateInvoices not boolean", setTo("separateInvoices", "x"), []string{"The separate invoices field must be true or false."}},
			{"invoiceMaturity not numeric", setTo("invoiceMaturity", "ten days"), []string{"The invoice maturity must be a number."}},
			{"secureDetails not boolean", setTo("settings.secureDetails", json.Number("2")), []string{"The settings.secure details field must be true or false."}},
			{"referenceNo a number", setTo("referenceNo", json.Number("5")), []string{"The reference no must be a string."}},
			{"private customer without personal number", setTo("customerDetails.personalNumber", nil), []string{"The customer details.personal number field is required when customer details.type is private."}},
			{"customer type missing", deleted("customerDetails.type"), []string{"The customer details.type field is required."}},
			{"country code missing", deleted("customerDetails.countryCode"), []string{"The customer details.country code field is required."}},
			{"msisdn missing", deleted("customerDetails.msisdn"), []string{"The customer details.msisdn field is required."}},
			{"email missing", deleted("customerDetails.email"), []string{"The customer details.email field is required."}},
			{"name missing", deleted("customerDetails.name"), []string{"The customer details.name field is required."}},
			{"street missing", deleted("customerDetails.address.street"), []string{"The customer details.address.street field is required."}},
			{"zip missing", deleted("customerDetails.address.zip"), []string{"The customer details.address.zip field is required."}},
			{"city blank", setTo("customerDetails.address.city", "  "), []string{"The customer details.address.city field is required."}},
			{"country missing", deleted("customerDetails.address.country"), []string{"The customer details.address.country field is required."}},
			{"callbackUrl missing", deleted("callback.callbackUrl"), []string{"The callback.callback url field is required."}},
			{"success URL invalid", setTo("callback.success", "wp.frontpayment.no"), []string{"The callback.success must be a valid URL."}},
			{"failure URL missing", deleted("callback.failure"), []string{"The callback.failure field is required."}},
		}
	case fpclient.KindHostedCheckout:
		return []ruleCase{
			{"orderDate yesterday in Oslo", setTo("orderDate", unix(osloMidnight().Add(-time.Second))), []string{"The order date must be a date after or equal to today."}},
			{"due date missing", deleted("dueDateForPaymentLink"), []string{"The due date for payment link field is required."}},
			{"due date not a timestamp", setTo("dueDateForPaymentLink", "tomorrow"), []string{"The due date for payment link does not match the format U."}},
			{"checkout language unknown", setTo("checkoutLanguage", "nb"), []string{"The selected checkout language is invalid."}},
			{"referencesNo a number", setTo("referencesNo", json.Number("5")), []string{"The references no must be a string."}},
			{"customerNotes a list", setTo("customerNotes", []any{"a"}), []string{"The customer notes must be a string."}},
			{"customer type missing", deleted("customerDetails.type"), []string{"The customer details.type field is required."}},
			{"email missing", deleted("customerDetails.email"), []string{"The customer details.email field is required."}},
			{"name missing", deleted("customerDetails.name"), []string{"The customer details.name field is required."}},
			{"address not an object", setTo("customerDetails.address", "Klosterenget 144"), []string{"The customer details.address must be an array."}},
			{"street a number", setTo("customerDetails.address.street", json.Number("144")), []string{"The customer details.address.street must be a string."}},
			{"callbackUrl missing", deleted("callback.callbackUrl"), []string{"The callback.callback url field is required."}},
			{"success URL missing", deleted("callback.success"), []string{"The callback.success field is required."}},
			{"failure URL invalid", setTo("callback.failure", "not a url"), []string{"The callback.failure must be a valid URL."}},
		}
	}
	return []ruleCase{ // payment link
		{"due date missing", deleted("dueDateForPaymentLink"), []string{"The due date for payment link field is required."}},
		{"sendOrderBy.sms missing", deleted("sendOrderBy.sms"), []string{"The send order by.sms field is required."}},
		{"sendOrderBy.sms not boolean", setTo("sendOrderBy.sms", "x"), []string{"The send order by.sms field must be true or false."}},
		{"sendOrderBy.email missing", deleted("sendOrderBy.email"), []string{"The send order by.email field is required."}},
		{"sendOrderBy.invoice missing", deleted("sendOrderBy.invoice"), []string{"The send order by.invoice field is required."}},
		{"isCreditCheckAvailable missing", deleted("isCreditCheckAvailable"), []string{"The is credit check available field is required."}},
		{"invoiceAsPaymentOption the string true", setTo("invoiceAsPaymentOption", "true"), []string{"The invoice as payment option field must be true or false."}},
		{"customerUuid a number", setTo("customerDetails.customerUuid", json.Number("5")), []string{"The customer details.customer uuid must be a string."}},
		{"customer type missing", deleted("customerDetails.type"), []string{"The customer details.type field is required."}},
		{"country code missing", deleted("customerDetails.countryCode"), []string{"The customer details.country code field is required."}},
		{"msisdn missing", deleted("customerDetails.msisdn"), []string{"The customer details.msisdn field is required."}},
		{"email missing", deleted("customerDetails.email"), []string{"The customer details.email field is required."}},
		{"name missing", deleted("customerDetails.name"), []string{"The customer details.name field is required."}},
		{"preferred language missing", deleted("customerDetails.preferredLanguage"), []string{"The customer details.preferred language field is required."}},
		{"preferred language in capitals", setTo("customerDetails.preferredLanguage", "NO"), []string{"The selected customer details.preferred language is invalid."}},
		{"private customer without personal number", setTo("customerDetails.personalNumber", nil), []string{"The customer details.personal number field is required when customer details.type is private."}},
		{"organization id of 8 digits", both(setTo("customerDetails.type", "corporate"), setTo("customerDetails.organizationId", "98765432")),
			[]string{"The customer details.organization id format is invalid."}},
		{"organization id as a JSON number", both(setTo("customerDetails.type", "corporate"), setTo("customerDetails.organizationId", json.Number("987654321"))),
			[]string{"The customer details.organization id must be a string."}},
		{"address missing", deleted("customerDetails.address"), []string{
			"The customer details.address field is required.",
			"The customer details.address.street field is required.",
			"The customer details.address.zip field is required.",
			"The customer details.address.city field is required.",
			"The customer details.address.country field is required.",
		}},
		{"street missing", deleted("customerDetails.address.street"), []string{"The customer details.address.street field is required."}},
		{"zip missing", deleted("customerDetails.address.zip"), []string{"The customer details.address.zip field is required."}},
		{"city missing", deleted("customerDetails.address.city"), []string{"The customer details.address.city field is required."}},
		{"country missing", deleted("customerDetails.address.country"), []string{"The customer details.address.country field is required."}},
		{"invoiceReferences not an object", setTo("invoiceReferences", "Dhaka"), []string{"The invoice references must be an array."}},
		{"invoiceReferences.tnc a number", setTo("invoiceReferences.tnc", json.Number("1")), []string{"The invoice references.tnc must be a string."}},
		{"internalReferences.referenceNo a number", setTo("internalReferences.referenceNo", json.Number("5")), []string{"The internal references.reference no must be a string."}},
		{"callbackUrl missing", deleted("callback.callbackUrl"), []string{"The callback.callback url field is required."}},
		{"callback missing", deleted("callback"), []string{"The callback.callback url field is required."}},
		{"callbackUrl not a URL", setTo("callback.callbackUrl", "stg-api.frontpayment.no/api/v1/tests-callback"), []string{"The callback.callback url must be a valid URL."}},
	}
}

// TestValidationRules sends each seed example broken in one way and expects
// FP's 417 with exactly the messages that rule produces, and no order.
func TestValidationRules(t *testing.T) {
	t.Parallel()
	for _, kind := range fpclient.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, fpfake.Config{})
			t.Cleanup(func() {
				if n := b.srv.Stats().Created; n != 0 {
					t.Errorf("rejected payloads created %d orders", n)
				}
			})
			for _, c := range append(commonCases(kind), kindCases(kind)...) {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					doc := payload(t, kind)
					c.mutate(doc)
					a := b.submit(t, kind, doc)
					if a.status != http.StatusExpectationFailed {
						t.Fatalf("status %d, want 417; body %s", a.status, a.raw)
					}
					for k, want := range map[string]any{
						"status_code": json.Number("417"), "status_message": "Client Error",
						"message": "payloadValidationErrors", "is_error": true,
					} {
						if a.body[k] != want {
							t.Errorf("%s = %v, want %v", k, a.body[k], want)
						}
					}
					if got := a.errors(t); !slices.Equal(got, c.want) {
						t.Errorf("errors:\n got %q\nwant %q", got, c.want)
					}
				})
			}
		})
	}
}

// TestValidationAccepts: variants the seeds allow must pass.
func TestValidationAccepts(t *testing.T) {
	t.Parallel()
	cases := map[fpclient.Kind][]ruleCase{
		fpclient.KindCheckout: {
			{"orderDate at midnight today in Oslo", setTo("orderDate", unix(osloMidnight())), nil},
			{"orderDate next year", setTo("orderDate", unix(time.Now().AddDate(1, 0, 0))), nil},
			{"without customer", both(setTo("withCustomer", false), deleted("customerDetails")), nil},
			{"withCustomer as the string 0", both(setTo("withCustomer", "0"), setTo("customerDetails", nil)), nil},
			{"shipping in the grand total", both(setTo("orderSummary.shippingCost", "100"), setTo("orderSummary.grandTotal", "4600.00")), nil},
			{"numbers as strings", both(setTo("products.0.quantity", "1"), setTo("products.0.rate", "4500.00"), setTo("products.0.tax", "12"), setTo("orderSummary.subTotal", "4017.86")), nil},
			{"corporate with a 9-digit string", both(setTo("customerDetails.type", "corporate"), setTo("customerDetails.organizationId", "987654321")), nil},
			{"corporate with a JSON number", both(setTo("customerDetails.type", "corporate"), setTo("customerDetails.organizationId", json.Number("987654321"))), nil},
			{"personal number", setTo("customerDetails.personalNumber", "28038712383"), nil},
			{"callbackUrl on loopback with a port and query", setTo("callback.callbackUrl", "http://127.0.0.1:8080/fp/callback?ref=A-1&sig=abc%2F"), nil},
			{"every payment method", setTo("submitPayment.via", "googlepay"), nil},
			{"discounted line", both(
				setTo("products.0.quantity", "1.5"), setTo("products.0.rate", "33.33"), setTo("products.0.discount", "5"), setTo("products.0.amount", "45.00"),
				setTo("orderSummary.subTotal", "44.64"), setTo("orderSummary.totalTax", "5.36"), setTo("orderSummary.totalDiscount", "5"), setTo("orderSummary.grandTotal", "45")), nil},
		},
		fpclient.KindInvoice: {
			{"invoice fee false", setTo("invoiceFeeApplicable", false), nil},
			{"invoice fee as 0", setTo("invoiceFeeApplicable", json.Number("0")), nil},
			{"interval as a string", setTo("invoiceInterval", "2"), nil},
			{"corporate without personal number", both(setTo("customerDetails.type", "corporate"), setTo("customerDetails.organizationId", "987654321"), setTo("customerDetails.personalNumber", nil)), nil},
			{"secure details", setTo("settings.secureDetails", "1"), nil},
		},
		fpclient.KindHostedCheckout: {
			{"without address", deleted("customerDetails.address"), nil},
			{"partial address", deleted("customerDetails.address.street"), nil},
			{"preferred language", setTo("customerDetails.preferredLanguage", "no"), nil},
			{"references", both(setTo("referencesNo", "A-17"), setTo("customerNotes", "")), nil},
		},
		fpclient.KindPaymentLink: {
			{"products as a JSON list", func(doc map[string]any) {
				set(doc, "products", []any{doc["products"].(map[string]any)["0"]})
			}, nil},
			{"corporate", both(setTo("customerDetails.type", "corporate"), setTo("customerDetails.organizationId", "987654321"), setTo("customerDetails.personalNumber", nil)), nil},
			{"booleans as 0 and 1", both(setTo("sendOrderBy.sms", "1"), setTo("sendOrderBy.email", json.Number("0")), setTo("isCreditCheckAvailable", "0")), nil},
			{"no references", both(setTo("invoiceReferences", nil), deleted("internalReferences")), nil},
		},
	}
	for kind, cs := range cases {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, fpfake.Config{})
			for _, c := range cs {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					doc := payload(t, kind)
					c.mutate(doc)
					if a := b.submit(t, kind, doc); a.status != http.StatusCreated {
						t.Fatalf("status %d, want 201; body %s", a.status, a.raw)
					}
				})
			}
		})
	}
}

// TestUnreadableBody: a body Laravel cannot read as JSON is no input at all.
func TestUnreadableBody(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{})
	body, _ := json.Marshal(invoicePayload(t))
	for name, c := range map[string]struct {
		contentType string
		body        []byte
	}{
		"no content type":   {"", body},
		"form content type": {"application/x-www-form-urlencoded", body},
		"broken JSON":       {"application/json", body[:len(body)-1]},
		"a JSON list":       {"application/json", []byte(`[1,2]`)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := b.do(t, http.MethodPost, fpclient.KindInvoice.Path(), token, c.contentType, c.body)
			if a.status != http.StatusExpectationFailed {
				t.Fatalf("status %d, want 417: %s", a.status, a.raw)
			}
			if errs := a.errors(t); len(errs) < 10 || errs[0] != "The products field is required." {
				t.Errorf("errors = %q, want every required field", errs)
			}
		})
	}
}

func TestErrorsAsObject(t *testing.T) {
	t.Parallel()
	b := setup(t, fpfake.Config{Faults: fpfake.Faults{ErrorsAsObject: true}})
	doc := checkoutPayload(t)
	set(doc, "customerDetails.email", "kari@")
	set(doc, "products.0.tax", json.Number("13"))
	a := b.submit(t, fpclient.KindCheckout, doc)
	if a.status != http.StatusExpectationFailed {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	got, ok := a.body["errors"].(map[string]any)
	if !ok {
		t.Fatalf("errors is not an object: %s", a.raw)
	}
	want := map[string]string{
		"customerDetails.email": "The customer details.email must be a valid email address.",
		"products.0.tax":        "The selected products.0.tax is invalid.",
	}
	if len(got) != len(want) {
		t.Errorf("errors = %v, want %v", got, want)
	}
	for field, msg := range want {
		list, _ := got[field].([]any)
		if len(list) != 1 || list[0] != msg {
			t.Errorf("errors[%q] = %v, want [%q]", field, got[field], msg)
		}
	}
}

// TestValidateFunc checks the exported Validate against the seed examples.
func TestValidateFunc(t *testing.T) {
	t.Parallel()
	for _, kind := range fpclient.Kinds {
		body, _ := json.Marshal(payload(t, kind))
		if errs := fpfake.Validate(kind, body, time.Now()); errs != nil {
			t.Errorf("%s: %v", kind, errs)
		}
	}
	body, _ := json.Marshal(checkoutPayload(t))
	errs := fpfake.Validate(fpclient.KindCheckout, body, time.Now().AddDate(0, 0, 2))
	if len(errs) != 1 || errs[0].Field != "orderDate" {
		t.Errorf("two days later: %v, want the orderDate error", errs)
	}
}
