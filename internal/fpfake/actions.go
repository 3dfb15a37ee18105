package fpfake

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// The two actions on an order FP already has. FP's documents given to the
// project do not describe them; their shapes follow what was asked of the
// project and FP's usual envelope (docs/fp-contract.md lists the readings):
// 202 when FP takes the action on, 400 "Conflict of Business Logic" when the
// order is already paid or cancelled, 404 orderNotFound, 417 for a body
// that breaks the rules below.
const (
	resendPrefix = "/api/v1/connect/orders/resend/"
	cancelPrefix = "/api/v1/connect/orders/cancel/"
	// CancelledStatus is the status FP reports once it has cancelled an order.
	CancelledStatus = "CANCELLED"
)

// Resend is one accepted resend of an order's link or notification.
type Resend struct {
	CountryCode, MSISDN, Email string
	At                         time.Time
}

// actionRoute tells which action a path names, and for which order.
func actionRoute(path string) (action, uuid string) {
	for _, a := range []struct{ name, prefix string }{{"resend", resendPrefix}, {"cancel", cancelPrefix}} {
		if id, ok := strings.CutPrefix(path, a.prefix); ok && id != "" && !strings.Contains(id, "/") {
			return a.name, id
		}
	}
	return "", ""
}

// final says whether FP refuses actions on an order in this status.
func final(status string) bool {
	return paidStatuses[status] || status == CancelledStatus
}

var (
	countryCodeRE = regexp.MustCompile(`^\+[0-9]{1,4}$`)
	msisdnRE      = regexp.MustCompile(`^[0-9]{4,15}$`)
)

// validateResend: countryCode, msisdn and email are each nullable; what is
// given must look like a country code ("+47"), a phone number (digits) and
// an e-mail address, and there must be somewhere to send to.
func validateResend(doc map[string]any) []FieldError {
	var errs []FieldError
	str := func(field string) string {
		v := val(doc, field)
		if isEmpty(v) {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			errs = append(errs, FieldError{Field: field, Message: "The " + displayName(field) + " must be a string."})
		}
		return s
	}
	cc, msisdn, email := str("countryCode"), str("msisdn"), str("email")
	if cc != "" && !countryCodeRE.MatchString(cc) {
		errs = append(errs, FieldError{Field: "countryCode", Message: "The country code format is invalid."})
	}
	if msisdn != "" && !msisdnRE.MatchString(msisdn) {
		errs = append(errs, FieldError{Field: "msisdn", Message: "The msisdn format is invalid."})
	}
	if msisdn != "" && cc == "" {
		errs = append(errs, FieldError{Field: "countryCode", Message: "The country code field is required when msisdn is present."})
	}
	if email != "" && !validEmail(email) {
		errs = append(errs, FieldError{Field: "email", Message: "The email must be a valid email address."})
	}
	if msisdn == "" && email == "" && len(errs) == 0 {
		errs = append(errs, FieldError{Field: "email", Message: "The email field is required when msisdn is not present."})
	}
	return errs
}

// validateCancel: cancellationNote is a nullable string of at most 255
// characters.
func validateCancel(doc map[string]any) []FieldError {
	v := val(doc, "cancellationNote")
	if isEmpty(v) {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return []FieldError{{Field: "cancellationNote", Message: "The cancellation note must be a string."}}
	}
	if len([]rune(s)) > 255 {
		return []FieldError{{Field: "cancellationNote", Message: "The cancellation note may not be greater than 255 characters."}}
	}
	return nil
}

// act is FP's controller for resend and cancel.
func (s *Server) act(r *http.Request, action, uuid string) *reply {
	_, doc, refused := readDoc(r)
	if refused != nil {
		return refused
	}
	var errs []FieldError
	if action == "resend" {
		errs = validateResend(doc)
	} else {
		errs = validateCancel(doc)
	}
	if len(errs) > 0 {
		s.mu.Lock()
		asObject := s.faults.ErrorsAsObject
		s.mu.Unlock()
		rep := validationReply(errs, asObject)
		return &rep
	}

	s.mu.Lock()
	o := s.orders[uuid]
	if o == nil {
		s.mu.Unlock()
		rep := errorReply(http.StatusNotFound, "Not Found", "orderNotFound", []string{})
		return &rep
	}
	if final(o.Status) {
		msg := "Order is already paid"
		if o.Status == CancelledStatus {
			msg = "Order is already cancelled"
		}
		s.mu.Unlock()
		rep := errorReply(http.StatusBadRequest, "Conflict of Business Logic", msg, []string{})
		rep.order = uuid
		return &rep
	}
	now := s.now()
	message := "orderResentSuccessfully"
	if action == "resend" {
		cc, _ := val(doc, "countryCode").(string)
		msisdn, _ := val(doc, "msisdn").(string)
		email, _ := val(doc, "email").(string)
		o.Resends = append(o.Resends, Resend{CountryCode: cc, MSISDN: msisdn, Email: email, At: now})
		s.stats.resent++
	} else {
		message = "orderCancellationRequested"
		note, _ := val(doc, "cancellationNote").(string)
		first := !o.CancelRequested
		o.CancelRequested, o.CancellationNote = true, note
		if first {
			s.stats.cancelled++
		}
	}
	f, st := &s.faults, &s.fstate
	gatewayAfter := st.fire("gateway-after", &f.GatewayAfterFirst, f.GatewayAfterRate)
	drop := !gatewayAfter && st.fire("drop", &f.DropFirst, f.DropRate)
	gwStatus := gatewayStatus(f.GatewayStatus)
	s.mu.Unlock()

	if action == "cancel" {
		s.startCancel(uuid)
	}
	var rep reply
	switch {
	case gatewayAfter:
		rep = gatewayReply(gwStatus)
		rep.fault = "gateway-after"
	case drop:
		rep = reply{drop: true, fault: "drop"}
	default:
		rep = jsonReply(http.StatusAccepted, dataEnvelope{StatusCode: http.StatusAccepted, StatusMessage: "Accepted", Message: message})
	}
	rep.order = uuid
	return &rep
}

// startCancel reports CANCELLED after the callback delay, as FP reports any
// status: one callback, retried as configured. An order that became paid in
// the meantime stays paid.
func (s *Server) startCancel(uuid string) {
	if !s.enter() {
		return
	}
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(s.delay)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s.mu.Lock()
		o := s.orders[uuid]
		skip := o == nil || final(o.Status)
		s.mu.Unlock()
		if skip {
			return
		}
		if err := s.changeStatus(s.ctx, uuid, CancelledStatus); err != nil && s.ctx.Err() == nil {
			s.log.Warn("fp callback given up", "order_uuid", uuid, "status", CancelledStatus, "error", err)
		}
	}()
}

// Resends returns the accepted resends of one order, oldest first.
func (s *Server) Resends(uuid string) []Resend {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.orders[uuid]; o != nil {
		return append([]Resend(nil), o.Resends...)
	}
	return nil
}
