package fpfake

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

// Order is what the simulator holds for one order FP accepted.
type Order struct {
	UUID string // "ODR" + 10 digits
	// CustomerUUID is "CSRT" + 10 digits; empty for a checkout session
	// created withCustomer false (FP answers customerUuid null then).
	CustomerUUID string
	Kind         fpclient.Kind
	// Reference is the merchant's reference: referenceNo (checkout,
	// invoice), referencesNo (hosted checkout) or
	// internalReferences.referenceNo (payment link); "" when none was sent.
	Reference string
	// Body is the last request body accepted for the order (create or update).
	Body json.RawMessage
	// Status is the last status (InitialStatus, then the callbacks').
	Status  string
	History []StatusChange
	// CallbackURL is callback.callbackUrl of the last accepted body.
	CallbackURL string
	// PaymentURL is the paymentUrl (checkout, hosted) or bankIdUrl
	// (invoice) answered; empty for payment links.
	PaymentURL string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Updates counts accepted fpgoUuid updates.
	Updates int
	// Resends are the accepted resends of its link or notification.
	Resends []Resend
	// CancelRequested is set by an accepted cancel (CANCELLED follows);
	// CancellationNote is that request's note.
	CancelRequested  bool
	CancellationNote string
}

// StatusChange is one status an order went through, at the time FP set it
// (the callback's createdAt).
type StatusChange struct {
	Status string
	At     time.Time
}

func (o *Order) clone() Order {
	c := *o
	c.Body = bytes.Clone(o.Body)
	c.History = slices.Clone(o.History)
	c.Resends = slices.Clone(o.Resends)
	return c
}

// Request is one line of the request log.
type Request struct {
	At        time.Time
	Method    string
	Path      string
	Kind      fpclient.Kind // "" for the status endpoint and unknown routes
	Status    int           // HTTP status answered; 0 when dropped unanswered
	Fault     string        // the fault that answered ("500", "gateway", "drop", …)
	OrderUUID string
}

// Stats counts what the simulator did.
type Stats struct {
	Requests int
	// ByStatus counts answers by HTTP status; 0 counts dropped connections.
	ByStatus map[int]int
	Created  int
	Updated  int
	// Resent counts accepted resends; CancelRequests the orders an accepted
	// cancel was asked for (a repeated cancel of one order counts once).
	Resent         int
	CancelRequests int
	// CallbackAttempts counts every callback request sent; Delivered those
	// answered 2xx; Failed the callbacks given up after all retries.
	CallbackAttempts   int
	CallbacksDelivered int
	CallbacksFailed    int
	// PerSecond counts requests per clock second, in time order.
	PerSecond []SecondCount
}

// SecondCount is the number of requests that arrived within one second.
type SecondCount struct {
	Second   time.Time
	Requests int
}

// MaxPerSecond is the highest count in PerSecond.
func (st Stats) MaxPerSecond() int {
	m := 0
	for _, c := range st.PerSecond {
		m = max(m, c.Requests)
	}
	return m
}

type counters struct {
	byStatus                                     map[int]int
	created, updated, resent, cancelled          int
	callbackAttempts, callbacksOK, callbacksLost int
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	s.stats.byStatus[r.Status]++
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Requests:           len(s.requests),
		ByStatus:           make(map[int]int, len(s.stats.byStatus)),
		Created:            s.stats.created,
		Updated:            s.stats.updated,
		Resent:             s.stats.resent,
		CancelRequests:     s.stats.cancelled,
		CallbackAttempts:   s.stats.callbackAttempts,
		CallbacksDelivered: s.stats.callbacksOK,
		CallbacksFailed:    s.stats.callbacksLost,
	}
	for k, v := range s.stats.byStatus {
		st.ByStatus[k] = v
	}
	per := map[time.Time]int{}
	for _, r := range s.requests {
		per[r.At.Truncate(time.Second)]++
	}
	for sec, n := range per {
		st.PerSecond = append(st.PerSecond, SecondCount{Second: sec, Requests: n})
	}
	sort.Slice(st.PerSecond, func(i, j int) bool { return st.PerSecond[i].Second.Before(st.PerSecond[j].Second) })
	return st
}

// Requests returns the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Orders returns every order, in creation order.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.sequence))
	for _, id := range s.sequence {
		out = append(out, s.orders[id].clone())
	}
	return out
}

// Order returns one order by its uuid.
func (s *Server) Order(uuid string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[uuid]
	if !ok {
		return Order{}, false
	}
	return o.clone(), true
}

// Creations is how many orders were created with reference ref (of any
// kind). Updates through fpgoUuid do not count: a client that never submits
// twice keeps this at 1 per reference.
func (s *Server) Creations(ref string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creations[ref]
}

// paidStatuses are final states after money moved: FP refuses to update
// such an order (400 orderAlreadyPaid).
var paidStatuses = map[string]bool{
	"PAID": true, "CAPTURED": true, "CHARGED": true, "REFUNDED": true, "PARTIAL REFUNDED": true,
}

// referencePath is where each kind carries the merchant's reference.
func referencePath(k fpclient.Kind) string {
	switch k {
	case fpclient.KindHostedCheckout:
		return "referencesNo"
	case fpclient.KindPaymentLink:
		return "internalReferences.referenceNo"
	}
	return "referenceNo"
}

// submit is FP's controller for the four create endpoints: validate, then
// create a new order or update the one named by fpgoUuid.
func (s *Server) submit(r *http.Request, kind fpclient.Kind) *reply {
	body, doc, refused := readDoc(r)
	if refused != nil {
		return refused
	}
	now := s.now()
	if errs := validateKind(kind, doc, env{now: now, loc: s.loc}); len(errs) > 0 {
		s.mu.Lock()
		asObject := s.faults.ErrorsAsObject
		s.mu.Unlock()
		rep := validationReply(errs, asObject)
		return &rep
	}

	ref, _ := phpString(val(doc, referencePath(kind)))
	fpgo, _ := val(doc, "fpgoUuid").(string)
	callbackURL, _ := val(doc, "callback.callbackUrl").(string)

	s.mu.Lock()
	var o *Order
	created := false
	if fpgo != "" {
		o = s.orders[fpgo]
		if o == nil || o.Kind != kind {
			s.mu.Unlock()
			rep := errorReply(http.StatusNotFound, "Not Found", "orderNotFound", []string{})
			return &rep
		}
		if paidStatuses[o.Status] {
			s.mu.Unlock()
			rep := errorReply(http.StatusBadRequest, "Bad Request", "orderAlreadyPaid", []string{})
			rep.order = o.UUID
			return &rep
		}
		o.Body, o.Reference, o.CallbackURL, o.UpdatedAt = body, ref, callbackURL, now
		o.Updates++
		s.stats.updated++
	} else {
		o = &Order{
			UUID:        s.newID("ODR"),
			Kind:        kind,
			Reference:   ref,
			Body:        body,
			Status:      InitialStatus,
			History:     []StatusChange{{Status: InitialStatus, At: now}},
			CallbackURL: callbackURL,
			CreatedAt:   now,
			UpdatedAt:   now,
		}
		withCustomer, _ := asBool(val(doc, "withCustomer"))
		if kind != fpclient.KindCheckout || withCustomer {
			o.CustomerUUID = s.newID("CSRT")
		}
		o.PaymentURL = s.paymentURL(r, kind, o.UUID)
		s.orders[o.UUID] = o
		s.sequence = append(s.sequence, o.UUID)
		s.creations[ref]++
		s.stats.created++
		created = true
	}
	snapshot := o.clone()
	f, st := &s.faults, &s.fstate
	gatewayAfter := st.fire("gateway-after", &f.GatewayAfterFirst, f.GatewayAfterRate)
	drop := !gatewayAfter && st.fire("drop", &f.DropFirst, f.DropRate)
	gwStatus := gatewayStatus(f.GatewayStatus)
	nullData := f.PaymentLinkNullData
	s.mu.Unlock()

	if created {
		s.startPlan(snapshot)
	}
	var rep reply
	switch {
	case gatewayAfter:
		rep = gatewayReply(gwStatus)
		rep.fault = "gateway-after"
	case drop:
		rep = reply{drop: true, fault: "drop"}
	default:
		rep = successReply(snapshot, nullData)
	}
	rep.order = snapshot.UUID
	return &rep
}

func readBody(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, maxBody))
	return buf.Bytes(), err
}

// validationReply is FP's 417. FP answers a flat list of messages; the
// ErrorsAsObject variant answers field → messages, as Laravel's error bag.
func validationReply(errs []FieldError, asObject bool) reply {
	var out any
	if asObject {
		m := map[string][]string{}
		for _, e := range errs {
			m[e.Field] = append(m[e.Field], e.Message)
		}
		out = m
	} else {
		list := make([]string, len(errs))
		for i, e := range errs {
			list[i] = e.Message
		}
		out = list
	}
	return errorReply(http.StatusExpectationFailed, "Client Error", "payloadValidationErrors", out)
}

// successReply is the documented 201 of each endpoint.
func successReply(o Order, paymentLinkNullData bool) reply {
	var customer *string
	if o.CustomerUUID != "" {
		customer = &o.CustomerUUID
	}
	switch o.Kind {
	case fpclient.KindCheckout:
		return dataReply(http.StatusCreated, "Order Submitted Successfully", struct {
			OrderUUID    string  `json:"orderUuid"`
			CustomerUUID *string `json:"customerUuid"`
			PaymentURL   string  `json:"paymentUrl"`
		}{o.UUID, customer, o.PaymentURL})
	case fpclient.KindInvoice:
		return dataReply(http.StatusCreated, "orderCreatedSuccessfully", struct {
			OrderUUID    string  `json:"orderUuid"`
			CustomerUUID *string `json:"customerUuid"`
			BankIDURL    string  `json:"bankIdUrl"`
		}{o.UUID, customer, o.PaymentURL})
	case fpclient.KindHostedCheckout:
		return dataReply(http.StatusCreated, "Payment Link Created Successfully", struct {
			OrderUUID    string  `json:"orderUuid"`
			CustomerUUID *string `json:"customerUuid"`
			PaymentURL   string  `json:"paymentUrl"`
		}{o.UUID, customer, o.PaymentURL})
	default: // payment link: note "uuid", not "orderUuid"
		if paymentLinkNullData {
			return dataReply(http.StatusCreated, "orderAddedSuccessfully", nil)
		}
		return dataReply(http.StatusCreated, "orderAddedSuccessfully", struct {
			UUID         string  `json:"uuid"`
			CustomerUUID *string `json:"customerUuid"`
		}{o.UUID, customer})
	}
}

// paymentURL mimics the seeds' URLs on the simulator's own base URL (the
// pages are not served).
func (s *Server) paymentURL(r *http.Request, kind fpclient.Kind, uuid string) string {
	base := s.baseURL
	if base == "" {
		base = s.listenURL
	}
	if base == "" {
		base = "http://" + r.Host
	}
	switch kind {
	case fpclient.KindCheckout:
		var b [16]byte
		for i := range b {
			b[i] = byte(rand.Uint32())
		}
		return base + "/checkout/" + hex.EncodeToString(b[:])
	case fpclient.KindInvoice:
		// The seed's state decodes to {"orderUuid":"ODR…","connect":"yes"}.
		state, _ := json.Marshal(struct {
			OrderUUID string `json:"orderUuid"`
			Connect   string `json:"connect"`
		}{uuid, "yes"})
		return base + "/bankid/precheck/auth?state=" + base64.RawURLEncoding.EncodeToString(state)
	case fpclient.KindHostedCheckout:
		return base + "/order/hosted/" + uuid + "/checkout"
	}
	return ""
}

// newID returns prefix + 10 random digits, unique within this server. IDs are
// random rather than sequential so that two simulator runs against one
// database do not hand out the same order uuid. Callers hold s.mu.
func (s *Server) newID(prefix string) string {
	for {
		id := fmt.Sprintf("%s%010d", prefix, 1_000_000_000+rand.Int64N(9_000_000_000))
		if !s.ids[id] {
			s.ids[id] = true
			return id
		}
	}
}

// readDoc reads a request's body (returned as read) as FP's controllers do: a JSON object when
// the request says JSON (anything else reads as an empty object, which the
// validation then refuses field by field), or the answer to give instead
// (413 for a body over the limit, 400 when the client went away mid-body).
func readDoc(r *http.Request) ([]byte, map[string]any, *reply) {
	body, err := readBody(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			rep := gatewayReply(http.StatusRequestEntityTooLarge)
			return nil, nil, &rep
		}
		// The client went away mid-body; nobody reads this answer.
		rep := errorReply(http.StatusBadRequest, "Bad Request", "badRequest", []string{})
		return nil, nil, &rep
	}
	doc := map[string]any{}
	if isJSON(r.Header.Get("Content-Type")) {
		doc = decodeBody(body)
	}
	return body, doc, nil
}
