package fpclient

import (
	"strings"

	"github.com/frontpayment/fpexport/internal/money"
)

// Kind is one of the four ways fpexport hands an order to Front Payment. Each
// kind has its own endpoint and payload shape (see the seed documents).
type Kind string

const (
	// KindCheckout: "Create Checkout Session" (card, Vipps, Apple & Google Pay).
	KindCheckout Kind = "checkout"
	// KindInvoice: "Create Session for Invoice Order" (FP sends the invoice).
	KindInvoice Kind = "invoice"
	// KindHostedCheckout: "Hosted Checkout" payment link to FP's own page.
	KindHostedCheckout Kind = "hosted-checkout"
	// KindPaymentLink: "Send Payment Link" (FP sends the link by SMS/e-mail).
	KindPaymentLink Kind = "payment-link"
)

// Kinds lists every kind, in a stable order for reports and help texts.
var Kinds = []Kind{KindInvoice, KindPaymentLink, KindHostedCheckout, KindCheckout}

// ParseKind accepts a kind's name as written in a spreadsheet or flag.
func ParseKind(s string) (Kind, bool) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Kinds {
		if k == known {
			return k, true
		}
	}
	return "", false
}

// Path is the endpoint that creates (or, with fpgoUuid, updates) an order of this kind.
func (k Kind) Path() string {
	switch k {
	case KindCheckout:
		return "/api/v1/connect/orders/regular/submit"
	case KindInvoice:
		return "/api/v1/connect/orders/invoice/submit"
	case KindHostedCheckout:
		return "/api/v1/connect/hosted/orders/payment-link/create"
	case KindPaymentLink:
		return "/api/v1/connect/orders/payment-link/create"
	}
	return ""
}

// NotifiesCustomer reports whether creating an order of this kind makes FP
// contact the customer (an invoice, an SMS or e-mail with a link). For such
// kinds a request whose outcome is unknown must never be resent blindly: a
// second request could reach the customer twice.
func (k Kind) NotifiesCustomer() bool {
	return k == KindInvoice || k == KindPaymentLink
}

// OrderFromPartner is the only value FP accepts for orderFrom, required when
// fpgoUuid is present ("Conditionally Required if fpgoUuid is present").
const OrderFromPartner = "PARTNER"

// Amount is money in øre (1/100 NOK), Quantity a quantity in thousandths:
// the one money type of fpexport, named here too because FP's payloads are
// made of them. See internal/money for how they are read and written.
type (
	Amount   = money.Amount
	Quantity = money.Quantity
)

// QuantityUnit is one whole unit.
const QuantityUnit = money.QuantityUnit

// Product is one order line as FP wants it. Rate and Amount are tax-inclusive.
type Product struct {
	Name      string   `json:"name"`
	ProductID string   `json:"productId,omitempty"`
	Quantity  Quantity `json:"quantity"`
	Rate      Amount   `json:"rate"`
	Discount  Amount   `json:"discount"`
	// Tax is the VAT rate in percent. FP documents the allowed set as
	// 0, 12, 15, 25 "unless otherwise configured".
	Tax    int    `json:"tax"`
	Amount Amount `json:"amount"`
}

// OrderSummary totals the lines. FP's definitions: subTotal is "before tax and
// discount", so subTotal + totalTax − totalDiscount + shippingCost = grandTotal.
type OrderSummary struct {
	SubTotal      Amount `json:"subTotal"`
	TotalTax      Amount `json:"totalTax"`
	TotalDiscount Amount `json:"totalDiscount"`
	GrandTotal    Amount `json:"grandTotal"`
	// ShippingCost is documented for checkout sessions only.
	ShippingCost *Amount `json:"shippingCost,omitempty"`
}

type Address struct {
	Street  string `json:"street,omitempty"`
	Zip     string `json:"zip,omitempty"`
	City    string `json:"city,omitempty"`
	Country string `json:"country,omitempty"`
}

// CustomerDetails is shared by all four kinds. PersonalNumber and
// OrganizationID are sent as null when absent, as in the seeds' examples; the
// organisation number is sent as a string of 9 digits, which satisfies every
// reading in the seeds ("numeric", "alphanumeric", "regex:/^\d{9}$/").
type CustomerDetails struct {
	CustomerUUID      string   `json:"customerUuid,omitempty"`
	Type              string   `json:"type"`
	CountryCode       string   `json:"countryCode"`
	MSISDN            string   `json:"msisdn"`
	Email             string   `json:"email"`
	Name              string   `json:"name"`
	PreferredLanguage string   `json:"preferredLanguage,omitempty"`
	PersonalNumber    *string  `json:"personalNumber"`
	OrganizationID    *string  `json:"organizationId"`
	Address           *Address `json:"address,omitempty"`
}

// Callback holds the URLs FP calls (callbackUrl) or redirects the payer to.
type Callback struct {
	CallbackURL string `json:"callbackUrl"`
	Success     string `json:"success,omitempty"`
	Failure     string `json:"failure,omitempty"`
}

// CheckoutRequest is the body of POST orders/regular/submit.
type CheckoutRequest struct {
	Products          []Product       `json:"products"`
	OrderSummary      OrderSummary    `json:"orderSummary"`
	ReferenceNo       string          `json:"referenceNo,omitempty"`
	CustomerReference string          `json:"customerReference,omitempty"`
	OrderDate         string          `json:"orderDate"`
	OrderFrom         string          `json:"orderFrom,omitempty"`
	FpgoUUID          string          `json:"fpgoUuid,omitempty"`
	WithCustomer      bool            `json:"withCustomer"`
	CustomerDetails   CustomerDetails `json:"customerDetails"`
	SubmitPayment     SubmitPayment   `json:"submitPayment"`
	Callback          Callback        `json:"callback"`
}

// SubmitPayment names the payment method of a checkout session.
type SubmitPayment struct {
	Via string `json:"via"`
}

// InvoiceRequest is the body of POST orders/invoice/submit.
type InvoiceRequest struct {
	Products             []Product       `json:"products"`
	OrderSummary         OrderSummary    `json:"orderSummary"`
	OrderDate            string          `json:"orderDate"`
	ReferenceNo          string          `json:"referenceNo,omitempty"`
	CustomerReference    string          `json:"customerReference,omitempty"`
	OrderFrom            string          `json:"orderFrom,omitempty"`
	FpgoUUID             string          `json:"fpgoUuid,omitempty"`
	InvoiceInterval      *int            `json:"invoiceInterval,omitempty"`
	SeparateInvoices     *bool           `json:"separateInvoices,omitempty"`
	InvoiceFeeApplicable bool            `json:"invoiceFeeApplicable"`
	InvoiceMaturity      *int            `json:"invoiceMaturity,omitempty"`
	CustomerDetails      CustomerDetails `json:"customerDetails"`
	Callback             Callback        `json:"callback"`
}

// HostedCheckoutRequest is the body of POST hosted/orders/payment-link/create.
// Note the field name referencesNo (with an s): that is how the seed spells it
// for this endpoint, in both its example and its rule table.
type HostedCheckoutRequest struct {
	Products              []Product       `json:"products"`
	OrderSummary          OrderSummary    `json:"orderSummary"`
	OrderDate             string          `json:"orderDate"`
	DueDateForPaymentLink string          `json:"dueDateForPaymentLink"`
	OrderFrom             string          `json:"orderFrom,omitempty"`
	FpgoUUID              string          `json:"fpgoUuid,omitempty"`
	CustomerDetails       CustomerDetails `json:"customerDetails"`
	CheckoutLanguage      string          `json:"checkoutLanguage,omitempty"`
	ReferencesNo          string          `json:"referencesNo,omitempty"`
	CustomerNotes         string          `json:"customerNotes,omitempty"`
	Callback              Callback        `json:"callback"`
}

// PaymentLinkRequest is the body of POST orders/payment-link/create ("Send
// Payment Link"). The seed's example sends products as an object keyed "0";
// that is PHP's rendering of a list, and a JSON array satisfies products.*.
type PaymentLinkRequest struct {
	Products               []Product           `json:"products"`
	OrderSummary           OrderSummary        `json:"orderSummary"`
	OrderDate              string              `json:"orderDate"`
	DueDateForPaymentLink  string              `json:"dueDateForPaymentLink"`
	SendOrderBy            SendOrderBy         `json:"sendOrderBy"`
	IsCreditCheckAvailable bool                `json:"isCreditCheckAvailable"`
	InvoiceAsPaymentOption bool                `json:"invoiceAsPaymentOption"`
	OrderFrom              string              `json:"orderFrom,omitempty"`
	FpgoUUID               string              `json:"fpgoUuid,omitempty"`
	CustomerDetails        CustomerDetails     `json:"customerDetails"`
	InvoiceReferences      *InvoiceReferences  `json:"invoiceReferences,omitempty"`
	InternalReferences     *InternalReferences `json:"internalReferences,omitempty"`
	Callback               Callback            `json:"callback"`
}

// SendOrderBy says how FP delivers a payment link. All three are required.
type SendOrderBy struct {
	SMS     bool `json:"sms"`
	Email   bool `json:"email"`
	Invoice bool `json:"invoice"`
}

// InvoiceReferences are shown to the customer on a payment link's invoice.
type InvoiceReferences struct {
	ReferenceNo       string `json:"referenceNo,omitempty"`
	CustomerReference string `json:"customerReference,omitempty"`
	ReceiptNo         string `json:"receiptNo,omitempty"`
	CustomerNotes     string `json:"customerNotes,omitempty"`
	TNC               string `json:"tnc,omitempty"`
}

// InternalReferences are the merchant's own; FP's portal shows them.
type InternalReferences struct {
	ReferenceNo string `json:"referenceNo,omitempty"`
	Notes       string `json:"notes,omitempty"`
}
