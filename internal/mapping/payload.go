package mapping

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

// PayloadOptions are what BuildPayload needs besides the order.
type PayloadOptions struct {
	// CallbackURL is where FP reports status changes (all kinds).
	CallbackURL string
	// SuccessURL and FailureURL are where FP sends the payer after paying;
	// required for checkout, invoice and hosted-checkout, optional for
	// payment-link (whose seed documents only callbackUrl).
	SuccessURL, FailureURL string
	// FpgoUUID is the orderUuid FP returned for an earlier version of this
	// order; when set the request updates that order (orderFrom PARTNER).
	FpgoUUID string
	// Now is the submit time; zero means time.Now().
	Now time.Time
	// Location is Europe/Oslo; nil means Europe/Oslo.
	Location *time.Location
}

// BuildPayload builds the FP request body for the order's kind:
// *fpclient.CheckoutRequest, *fpclient.InvoiceRequest,
// *fpclient.HostedCheckoutRequest or *fpclient.PaymentLinkRequest.
//
// Dates become unix-second strings. The order date is p.Now when the order
// has none, when it is today, or (checkout and hosted-checkout, which FP
// wants "current or future") when it has passed while the order waited in
// the queue; otherwise it is 12:00 Europe/Oslo of that date, since noon is
// the same calendar date in every time zone FP may convert it to.
// dueDateForPaymentLink is 23:59:59 Europe/Oslo of the due date (order date
// + DueDays, or + DefaultDueDays, when the order has none). An invoice's
// invoiceMaturity is the days from the order date to its due date, or its
// DueDays. An order whose due date has
// passed by the time it is sent is an error: FP would create a link that is
// already expired.
func BuildPayload(o Order, p PayloadOptions) (any, error) {
	loc := p.Location
	if loc == nil {
		loc = oslo()
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := checkForPayload(o, p); err != nil {
		return nil, fmt.Errorf("order %s: %w", o.Ref, err)
	}

	tot := o.Totals()
	products := make([]fpclient.Product, len(o.Lines))
	for i, l := range o.Lines {
		products[i] = fpclient.Product{
			Name:      l.Name,
			ProductID: l.ProductID,
			Quantity:  l.Quantity,
			Rate:      l.Rate,
			Discount:  l.Discount,
			Tax:       l.TaxPercent,
			Amount:    tot.Lines[i].Amount,
		}
	}
	summary := fpclient.OrderSummary{
		SubTotal:      tot.SubTotal,
		TotalTax:      tot.TotalTax,
		TotalDiscount: tot.TotalDiscount,
		GrandTotal:    tot.GrandTotal,
	}

	today := dayOf(now, loc)
	orderDay, orderAt, err := orderDate(o, now, today, loc)
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", o.Ref, err)
	}
	orderTS := unix(orderAt)
	orderFrom := ""
	if p.FpgoUUID != "" {
		orderFrom = fpclient.OrderFromPartner
	}
	cd := customerDetails(o.Customer)
	callback := fpclient.Callback{CallbackURL: p.CallbackURL, Success: p.SuccessURL, Failure: p.FailureURL}

	switch o.Kind {
	case fpclient.KindCheckout:
		// shippingCost is documented for checkout only, and its example
		// sends 0.00; the other kinds leave it out.
		shipping := fpclient.Amount(0)
		summary.ShippingCost = &shipping
		return &fpclient.CheckoutRequest{
			Products:          products,
			OrderSummary:      summary,
			ReferenceNo:       o.Ref,
			CustomerReference: o.CustomerReference,
			OrderDate:         orderTS,
			OrderFrom:         orderFrom,
			FpgoUUID:          p.FpgoUUID,
			WithCustomer:      true, // every imported order has a customer
			CustomerDetails:   cd,
			SubmitPayment:     fpclient.SubmitPayment{Via: o.PaymentMethod},
			Callback:          callback,
		}, nil

	case fpclient.KindInvoice:
		req := &fpclient.InvoiceRequest{
			Products:             products,
			OrderSummary:         summary,
			OrderDate:            orderTS,
			ReferenceNo:          o.Ref,
			CustomerReference:    o.CustomerReference,
			OrderFrom:            orderFrom,
			FpgoUUID:             p.FpgoUUID,
			InvoiceFeeApplicable: o.InvoiceFee,
			CustomerDetails:      cd,
			Callback:             callback,
		}
		if o.DueDate != "" {
			due, err := time.Parse(dateLayout, o.DueDate)
			if err != nil {
				return nil, fmt.Errorf("order %s: due date %q: %w", o.Ref, o.DueDate, err)
			}
			// The seed says only "Invoice maturity period" (example: 10).
			// We read it as days from the order date, the Norwegian usage
			// ("forfall 14 dager"), counted from the date actually sent.
			n := daysBetween(orderDay, due)
			if n < 0 {
				return nil, fmt.Errorf("order %s: due date %s is before the order date %s", o.Ref, o.DueDate, formatDate(orderDay))
			}
			req.InvoiceMaturity = &n
		} else if o.DueDays != nil {
			// due_days with an empty order date: the term runs from the
			// day the invoice is sent.
			n := *o.DueDays
			req.InvoiceMaturity = &n
		}
		return req, nil

	case fpclient.KindHostedCheckout, fpclient.KindPaymentLink:
		dueAt, err := dueDate(o, orderDay, today, loc)
		if err != nil {
			return nil, fmt.Errorf("order %s: %w", o.Ref, err)
		}
		if o.Kind == fpclient.KindHostedCheckout {
			return &fpclient.HostedCheckoutRequest{
				Products:              products,
				OrderSummary:          summary,
				OrderDate:             orderTS,
				DueDateForPaymentLink: unix(dueAt),
				OrderFrom:             orderFrom,
				FpgoUUID:              p.FpgoUUID,
				CustomerDetails:       cd,
				CheckoutLanguage:      cd.PreferredLanguage,
				ReferencesNo:          o.Ref, // sic: the seed spells it referencesNo here
				Callback:              callback,
			}, nil
		}
		req := &fpclient.PaymentLinkRequest{
			Products:              products,
			OrderSummary:          summary,
			OrderDate:             orderTS,
			DueDateForPaymentLink: unix(dueAt),
			// The link goes by SMS and/or e-mail; invoices are their own kind,
			// so FP is never asked to send one here, nor to offer invoice or
			// credit check on the link's page.
			SendOrderBy:            fpclient.SendOrderBy{SMS: o.SendSMS, Email: o.SendEmail, Invoice: false},
			IsCreditCheckAvailable: false,
			InvoiceAsPaymentOption: false,
			OrderFrom:              orderFrom,
			FpgoUUID:               p.FpgoUUID,
			CustomerDetails:        cd,
			InternalReferences:     &fpclient.InternalReferences{ReferenceNo: o.Ref},
			Callback:               callback,
		}
		if o.ReferenceNo != "" || o.CustomerReference != "" {
			req.InvoiceReferences = &fpclient.InvoiceReferences{
				ReferenceNo:       o.ReferenceNo,
				CustomerReference: o.CustomerReference,
			}
		}
		return req, nil
	}
	return nil, fmt.Errorf("order %s: unknown kind %q", o.Ref, o.Kind)
}

// checkForPayload re-checks what an order read back from the database must
// hold before anything is sent: OrderBuilder checked it all at import, but a
// payment request is no place to trust a stored row blindly.
func checkForPayload(o Order, p PayloadOptions) error {
	if k, ok := fpclient.ParseKind(string(o.Kind)); !ok || k != o.Kind {
		return fmt.Errorf("unknown kind %q", o.Kind)
	}
	if o.Ref == "" {
		return errors.New("no order reference")
	}
	if len(o.Lines) == 0 {
		return errors.New("no order lines")
	}
	total, err := checkedTotal(o.Lines)
	if err != nil {
		return err
	}
	if total <= 0 {
		return fmt.Errorf("order total %s is not above zero", total.NOK())
	}
	if o.DueDays != nil && (*o.DueDays < 0 || *o.DueDays > MaxDueDays || o.Kind == fpclient.KindCheckout) {
		return fmt.Errorf("due days %d", *o.DueDays)
	}
	c := o.Customer
	if c.Type != "private" && c.Type != "corporate" {
		return fmt.Errorf("customer type %q", c.Type)
	}
	if c.Name == "" || c.Email == "" || c.CountryCode == "" || c.MSISDN == "" {
		return errors.New("customer name, e-mail or phone missing")
	}
	if c.Type == "corporate" && c.OrganizationID == "" {
		return errors.New("corporate customer without organisation number")
	}
	if o.Kind != fpclient.KindHostedCheckout && (c.Street == "" || c.Zip == "" || c.City == "" || c.Country == "") {
		return fmt.Errorf("%s order without a full address", o.Kind)
	}
	switch o.Kind {
	case fpclient.KindCheckout:
		if o.PaymentMethod == "" {
			return errors.New("checkout order without payment method")
		}
	case fpclient.KindPaymentLink:
		if !o.SendSMS && !o.SendEmail {
			return errors.New("payment link to be sent neither by SMS nor by e-mail")
		}
	}
	// callbackUrl: required by every seed except payment-link's Laravel
	// rules ("nullable"; its table says required). We always require it: the
	// callback is how we learn an order's outcome. success and failure are
	// required by all but payment-link, whose seed has only callbackUrl.
	needRedirects := o.Kind != fpclient.KindPaymentLink
	for _, u := range []struct {
		name, val string
		required  bool
	}{
		{"callback URL", p.CallbackURL, true},
		{"success URL", p.SuccessURL, needRedirects},
		{"failure URL", p.FailureURL, needRedirects},
	} {
		if u.val == "" {
			if u.required {
				return fmt.Errorf("%s is required for %s orders", u.name, o.Kind)
			}
			continue
		}
		if err := checkURL(u.val); err != nil {
			return fmt.Errorf("%s %q: %w", u.name, u.val, err)
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

// orderDate returns the calendar day and the instant to send as orderDate.
func orderDate(o Order, now, today time.Time, loc *time.Location) (time.Time, time.Time, error) {
	if o.Kind == fpclient.KindCheckout || o.Kind == fpclient.KindHostedCheckout {
		// "Current or future": FP may compare the timestamp with its own
		// clock when the request arrives, a moment after we build it (and
		// clocks drift). Two minutes ahead keeps "now" from being past there.
		now = now.Add(orderDateLead)
	}
	if o.OrderDate == "" {
		return today, now, nil
	}
	d, err := time.Parse(dateLayout, o.OrderDate)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("order date %q: %w", o.OrderDate, err)
	}
	switch {
	case d.After(today):
		return d, at(d, 12, 0, 0, loc), nil
	case d.Equal(today):
		return today, now, nil
	case o.Kind == fpclient.KindCheckout || o.Kind == fpclient.KindHostedCheckout:
		// FP wants "current or future"; the order was valid when imported
		// and has waited in the queue past midnight.
		return today, now, nil
	default:
		return d, at(d, 12, 0, 0, loc), nil
	}
}

// orderDateLead is how far ahead of the clock a checkout or hosted-checkout
// order is dated when it is dated "now".
const orderDateLead = 2 * time.Minute

// dueDate returns the instant to send as dueDateForPaymentLink.
func dueDate(o Order, orderDay, today time.Time, loc *time.Location) (time.Time, error) {
	days := DefaultDueDays
	if o.DueDays != nil {
		days = *o.DueDays
	}
	due := orderDay.AddDate(0, 0, days)
	if o.DueDate != "" {
		d, err := time.Parse(dateLayout, o.DueDate)
		if err != nil {
			return time.Time{}, fmt.Errorf("due date %q: %w", o.DueDate, err)
		}
		due = d
	}
	switch {
	case due.Before(today):
		return time.Time{}, fmt.Errorf("due date %s has passed", formatDate(due))
	case due.Before(orderDay):
		return time.Time{}, fmt.Errorf("due date %s is before the order date %s", formatDate(due), formatDate(orderDay))
	}
	return at(due, 23, 59, 59, loc), nil
}

func customerDetails(c Customer) fpclient.CustomerDetails {
	lang := c.PreferredLanguage
	if lang == "" {
		lang = DefaultLanguage
	}
	// preferredLanguage goes to every kind: payment-link requires it
	// ("required|string" in its rules, though its table says nullable), the
	// others default to "no" themselves; the hosted-checkout seed lists
	// checkoutLanguage instead, and an extra field there is harmless.
	cd := fpclient.CustomerDetails{
		Type:              c.Type,
		CountryCode:       c.CountryCode,
		MSISDN:            c.MSISDN,
		Email:             c.Email,
		Name:              c.Name,
		PreferredLanguage: lang,
	}
	// null when empty, as in the checkout, hosted-checkout and payment-link
	// examples (the invoice example sends "", which Laravel's nullable
	// treats the same). The organisation number is a string of 9 digits,
	// which satisfies "numeric", "alphanumeric" and regex:/^\d{9}$/ alike.
	if c.PersonalNumber != "" {
		v := c.PersonalNumber
		cd.PersonalNumber = &v
	}
	if c.OrganizationID != "" {
		v := c.OrganizationID
		cd.OrganizationID = &v
	}
	addr := fpclient.Address{Street: c.Street, Zip: c.Zip, City: c.City, Country: c.Country}
	if addr != (fpclient.Address{}) {
		cd.Address = &addr
	}
	return cd
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
