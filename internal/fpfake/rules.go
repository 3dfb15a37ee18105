package fpfake

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

// The rule tables below follow each seed's validation table line by line, in
// its order (FP answers messages in rule order). Where a seed disagrees with
// itself or with another seed, the stricter reading wins and the line says so.

var (
	// "Tax rate must be (e.g., 0, 12, 15, 25)": the Norwegian VAT rates. The
	// payment-link table gives no set; the same set applies there (strict).
	taxRates = in("0", "12", "15", "25")
	// "Available languages are en,no,sv,da,de". The payment-link table's
	// "(e.g., NO, EN)" contradicts the others; lower case only (strict).
	languages = in("en", "no", "sv", "da", "de")
	// submitPayment.via: "vipps, visa, mastercard, applepay, or googlepay".
	paymentMethods = in("vipps", "visa", "mastercard", "applepay", "googlepay")
	customerTypes  = in("private", "corporate")
)

// productRules hold for every kind. The seeds only list products.*.field;
// Laravel would then accept a missing or empty products list silently, so we
// add `products: required|list` (an order without lines cannot be paid).
var productRules = []rule{
	required("products", isList),
	required("products.*", isArray),
	required("products.*.name", isString),
	optional("products.*.productId", isString),
	required("products.*.quantity", isNumeric),
	required("products.*.rate", isNumeric),
	optional("products.*.discount", isNumeric),
	required("products.*.tax", isNumeric, taxRates),
	required("products.*.amount", isNumeric),
	required("orderSummary.subTotal", isNumeric),
	required("orderSummary.totalTax", isNumeric),
	required("orderSummary.totalDiscount", isNumeric),
	required("orderSummary.grandTotal", isNumeric),
}

// partnerRules: "orderFrom: Conditionally Required if fpgoUuid is present. If
// provided, the value must be PARTNER." The payment-link seed does not list
// these two fields; fpexport updates an order of every kind this way
// (docs/fp-contract.md), so they apply to all four endpoints.
var partnerRules = []rule{
	requiredIf("orderFrom", whenPresent("fpgoUuid"), isString, in(fpclient.OrderFromPartner)),
	optional("fpgoUuid", isString),
}

// callbackRules: all three URLs are "Required ... Must be a valid url" for
// checkout, invoice and hosted checkout.
var callbackRules = []rule{
	required("callback.callbackUrl", isURL),
	required("callback.success", isURL),
	required("callback.failure", isURL),
}

func concat(parts ...[]rule) []rule {
	var out []rule
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Checkout: "Create Checkout Session".
var checkoutRules = concat(productRules, []rule{
	optional("orderSummary.shippingCost", isNumeric),
	// "Unix timestamp ..., which must be current or future date."
	required("orderDate", isString, isUnixTimestamp, notBeforeToday),
	optional("referenceNo", isString),
	optional("customerReference", isString),
}, partnerRules, []rule{
	required("withCustomer", isBoolean),
}, customerRulesIf(whenTrue("withCustomer")), []rule{
	required("submitPayment.via", isString, paymentMethods),
}, callbackRules)

// customerRulesIf is the checkout table's customer block: every field is
// "Required if withCustomer is true". The table types email as plain string
// but calls it the "email address": it must be a valid address (strict).
// personalNumber is "Optional ... must be 11 characters": exactly 11 digits.
// organizationId is typed "numeric" yet "Must be alphanumeric": digits only.
func customerRulesIf(c *condition) []rule {
	return []rule{
		requiredIf("customerDetails.type", c, isString, customerTypes),
		requiredIf("customerDetails.countryCode", c, isString),
		requiredIf("customerDetails.msisdn", c, isString),
		requiredIf("customerDetails.email", c, isEmail),
		requiredIf("customerDetails.name", c, isString),
		optional("customerDetails.preferredLanguage", isString, languages),
		optional("customerDetails.personalNumber", isString, matches(elevenDigits)),
		requiredIf("customerDetails.organizationId", whenEquals("customerDetails.type", "corporate"), isDigits),
		requiredIf("customerDetails.address.street", c, isString),
		requiredIf("customerDetails.address.zip", c, isString),
		requiredIf("customerDetails.address.city", c, isString),
		requiredIf("customerDetails.address.country", c, isString, isCountry),
	}
}

// Invoice: "Create Session for Invoice Order". Its orderDate has no
// "current or future" clause, and the seed's example sends a past one.
var invoiceRules = concat(productRules, []rule{
	required("orderDate", isString, isUnixTimestamp),
	optional("referenceNo", isString),
	optional("customerReference", isString),
}, partnerRules, []rule{
	optional("invoiceInterval", isNumeric, in("0", "1", "2")),
	optional("separateInvoices", isBoolean),
	required("invoiceFeeApplicable", isBoolean),
	optional("invoiceMaturity", isNumeric),
	optional("settings.secureDetails", isBoolean),
	required("customerDetails.type", isString, customerTypes),
	required("customerDetails.countryCode", isString),
	required("customerDetails.msisdn", isString),
	required("customerDetails.email", isEmail),
	required("customerDetails.name", isString),
	requiredIf("customerDetails.personalNumber", whenEquals("customerDetails.type", "private"), isString, matches(elevenDigits)),
	requiredIf("customerDetails.organizationId", whenEquals("customerDetails.type", "corporate"), isDigits),
	optional("customerDetails.preferredLanguage", isString, languages),
	required("customerDetails.address.street", isString),
	required("customerDetails.address.zip", isString),
	required("customerDetails.address.city", isString),
	required("customerDetails.address.country", isString, isCountry),
}, callbackRules)

// Hosted checkout: address is optional, but validated when given.
// preferredLanguage is not in this table (checkoutLanguage is); since our
// client sends the shared customer block, it is checked when present (strict).
var hostedCheckoutRules = concat(productRules, []rule{
	required("orderDate", isString, isUnixTimestamp, notBeforeToday),
	required("dueDateForPaymentLink", isString, isUnixTimestamp),
}, partnerRules, []rule{
	required("customerDetails.type", isString, customerTypes),
	required("customerDetails.countryCode", isString),
	required("customerDetails.msisdn", isString),
	required("customerDetails.email", isEmail),
	required("customerDetails.name", isString),
	optional("customerDetails.personalNumber", isString, matches(elevenDigits)),
	requiredIf("customerDetails.organizationId", whenEquals("customerDetails.type", "corporate"), isDigits),
	optional("customerDetails.preferredLanguage", isString, languages),
	optional("customerDetails.address", isArray),
	optional("customerDetails.address.street", isString),
	optional("customerDetails.address.zip", isString),
	optional("customerDetails.address.city", isString),
	optional("customerDetails.address.country", isString, isCountry),
	optional("checkoutLanguage", isString, languages),
	optional("referencesNo", isString),
	optional("customerNotes", isString),
}, callbackRules)

// Send payment link: the seed's Laravel rule block, tightened where its own
// table is stricter:
//   - sendOrderBy.invoice is in the rules but not the table: required.
//   - preferredLanguage: rules say required, table nullable: required.
//   - personalNumber: rules say nullable, table "required when type is
//     private": required_if private, regex 11 digits.
//   - organizationId: rules regex /^\d{9}$/ on a string, table "max:9" and
//     "must be 9 characters": a string of exactly 9 digits.
//   - callback.callbackUrl: rules "nullable|string|url", table
//     "required | array" (a typo for url): required and a valid URL.
//   - customerDetails.address.country: "in:ISO Alpha 2" is a placeholder for
//     the IsoAlpha2Country rule the other seeds name.
//   - the table's top-level referenceNo/customerReference are kept as
//     nullable strings beside invoiceReferences.*; success/failure URLs are
//     not documented here but are checked as URLs when sent.
var paymentLinkRules = concat(productRules, []rule{
	required("orderDate", isString, isUnixTimestamp),
	required("dueDateForPaymentLink", isString, isUnixTimestamp),
	required("sendOrderBy.sms", isBoolean),
	required("sendOrderBy.email", isBoolean),
	required("sendOrderBy.invoice", isBoolean),
	required("isCreditCheckAvailable", isBoolean),
	required("invoiceAsPaymentOption", isBoolean),
	optional("customerDetails.customerUuid", isString),
	required("customerDetails.type", isString, customerTypes),
	required("customerDetails.countryCode", isString),
	required("customerDetails.msisdn", isString),
	required("customerDetails.email", isEmail),
	required("customerDetails.name", isString),
	required("customerDetails.preferredLanguage", isString, languages),
	requiredIf("customerDetails.personalNumber", whenEquals("customerDetails.type", "private"), isString, matches(elevenDigits)),
	requiredIf("customerDetails.organizationId", whenEquals("customerDetails.type", "corporate"), isString, matches(nineDigits)),
	required("customerDetails.address", isArray),
	required("customerDetails.address.street", isString),
	required("customerDetails.address.zip", isString),
	required("customerDetails.address.city", isString),
	required("customerDetails.address.country", isString, isCountry),
	optional("invoiceReferences", isArray),
	optional("invoiceReferences.referenceNo", isString),
	optional("invoiceReferences.customerReference", isString),
	optional("invoiceReferences.receiptNo", isString),
	optional("invoiceReferences.customerNotes", isString),
	optional("invoiceReferences.tnc", isString),
	optional("internalReferences", isArray),
	optional("internalReferences.referenceNo", isString),
	optional("internalReferences.notes", isString),
	optional("referenceNo", isString),
	optional("customerReference", isString),
	required("callback.callbackUrl", isURL),
	optional("callback.success", isURL),
	optional("callback.failure", isURL),
}, partnerRules)

func rulesFor(k fpclient.Kind) []rule {
	switch k {
	case fpclient.KindCheckout:
		return checkoutRules
	case fpclient.KindInvoice:
		return invoiceRules
	case fpclient.KindHostedCheckout:
		return hostedCheckoutRules
	case fpclient.KindPaymentLink:
		return paymentLinkRules
	}
	return nil
}

// validateKind runs the kind's table, then the money checks.
func validateKind(k fpclient.Kind, doc any, e env) []FieldError {
	errs := validateDoc(rulesFor(k), doc, e)
	return append(errs, checkMoney(doc, k == fpclient.KindCheckout)...)
}

// decodeBody decodes a request body as Laravel's $request->json() does: a body
// that is not a JSON object reads as no input at all, so every required field
// is reported missing. Numbers keep their exact text.
func decodeBody(body []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil || dec.More() {
		return map[string]any{}
	}
	return doc
}

// Validate checks a request body against the seed rules of kind, as the
// simulator does, with "today" decided in Europe/Oslo at now. It returns nil
// for a body FP would accept. Other packages' tests can use it to check their
// golden payloads without a server.
func Validate(kind fpclient.Kind, body []byte, now time.Time) []FieldError {
	return validateKind(kind, decodeBody(body), env{now: now, loc: oslo()})
}
