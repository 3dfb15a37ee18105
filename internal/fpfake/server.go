package fpfake

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // FP decides "today" in Europe/Oslo, also on hosts without zoneinfo

	"github.com/frontpayment/fpexport/internal/fpclient"
)

const (
	// DefaultToken is the bearer token accepted when Config.Token is empty.
	DefaultToken = "demo-token"
	// DefaultRateLimit is what FP's demo API announces in x-ratelimit-limit.
	DefaultRateLimit = 240
	// DefaultCallbackDelay is the wait before each planned status when
	// Config.CallbackDelay is zero.
	DefaultCallbackDelay = 100 * time.Millisecond
	// InitialStatus is the status of an order FP has just accepted, as the
	// status endpoint shows it before any callback.
	InitialStatus = "SENT"

	maxBody = 1 << 20
)

var (
	// ErrClosed is returned once Close has been called.
	ErrClosed = errors.New("fpfake: server closed")
	// ErrNotFound is returned for an unknown order uuid.
	ErrNotFound = errors.New("fpfake: order not found")
)

// Config sets up a Server. The zero value is usable: token "demo-token",
// keyless checksums, callbacks SENT then PAID 100ms apart, Europe/Oslo.
type Config struct {
	// Token is the bearer token FP accepts (DefaultToken when empty).
	Token string
	// ChecksumKey is FP's secret key appended to the callback checksum input;
	// empty gives the seeds' keyless formula orderUuid + status + createdAt.
	ChecksumKey string
	// CallbackDelay is the wait before each status of the plan
	// (DefaultCallbackDelay when zero; use time.Nanosecond for "at once").
	CallbackDelay time.Duration
	// CallbackRetries is how many times a failed callback is retried
	// (3 when zero, none when negative); CallbackBackoff is the first wait
	// between tries (100ms when zero), doubling each time.
	CallbackRetries int
	CallbackBackoff time.Duration
	// Plan lists the statuses FP reports for a new order, one callback each
	// (DefaultPlan when nil; NoCallbacks sends none).
	Plan func(o Order) []string
	// BaseURL prefixes the paymentUrl/bankIdUrl answered; by default the
	// address Start listens on, or the request's Host.
	BaseURL string
	// Location decides what "today" is for orderDate (Europe/Oslo when nil).
	Location *time.Location
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// HTTPClient sends callbacks (a client with a 5s timeout when nil).
	HTTPClient *http.Client
	// Logger gets one line per request and per callback (discarded when
	// nil). The bearer token and callback queries are never logged.
	Logger *slog.Logger
	// Faults are the faults in force from the start.
	Faults Faults
}

// DefaultPlan reports SENT, then PAID.
func DefaultPlan(Order) []string { return []string{"SENT", "PAID"} }

// NoCallbacks is a Plan that sends no callbacks.
func NoCallbacks(Order) []string { return nil }

// Server is the FP simulator. It is an http.Handler (mount it in
// httptest.NewServer) and can also listen by itself (Start). Close it.
type Server struct {
	token   string
	key     string
	delay   time.Duration
	retries int
	backoff time.Duration
	plan    func(Order) []string
	baseURL string
	loc     *time.Location
	now     func() time.Time
	client  *http.Client
	log     *slog.Logger
	ctx     context.Context // cancelled by Close: stops waits and callbacks
	cancel  context.CancelFunc
	wg      sync.WaitGroup // handlers, plans, SetStatus calls in flight
	once    sync.Once

	mu        sync.Mutex
	closed    bool
	httpSrv   *http.Server
	serveDone chan struct{}
	listenURL string
	faults    Faults
	fstate    faultState
	orders    map[string]*Order
	sequence  []string // order uuids in creation order
	ids       map[string]bool
	creations map[string]int
	windows   map[string]window
	stats     counters
	requests  []Request
}

// window counts one token's requests in one clock minute.
type window struct {
	minute time.Time
	count  int
}

// New returns a simulator; it serves nothing until mounted or Started.
func New(cfg Config) *Server {
	s := &Server{
		token:     cfg.Token,
		key:       cfg.ChecksumKey,
		delay:     cfg.CallbackDelay,
		retries:   cfg.CallbackRetries,
		backoff:   cfg.CallbackBackoff,
		plan:      cfg.Plan,
		baseURL:   strings.TrimSuffix(cfg.BaseURL, "/"),
		loc:       cfg.Location,
		now:       cfg.Now,
		client:    cfg.HTTPClient,
		log:       cfg.Logger,
		faults:    cfg.Faults,
		fstate:    newFaultState(cfg.Faults),
		orders:    map[string]*Order{},
		ids:       map[string]bool{},
		creations: map[string]int{},
		windows:   map[string]window{},
		stats:     counters{byStatus: map[int]int{}},
	}
	if s.token == "" {
		s.token = DefaultToken
	}
	if s.delay <= 0 {
		s.delay = DefaultCallbackDelay
	}
	if s.retries == 0 {
		s.retries = 3
	} else if s.retries < 0 {
		s.retries = 0
	}
	if s.backoff <= 0 {
		s.backoff = 100 * time.Millisecond
	}
	if s.plan == nil {
		s.plan = DefaultPlan
	}
	if s.loc == nil {
		s.loc = oslo()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 5 * time.Second}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

var oslo = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic("fpfake: Europe/Oslo: " + err.Error()) // cannot happen: time/tzdata is linked in
	}
	return loc
})

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in the
// background. It returns the base URL to give the FP client.
func (s *Server) Start(addr string) (baseURL string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	if s.httpSrv != nil {
		return "", errors.New("fpfake: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.httpSrv = srv
	s.serveDone = make(chan struct{})
	s.listenURL = "http://" + ln.Addr().String()
	go func() {
		defer close(s.serveDone)
		_ = srv.Serve(ln) // ErrServerClosed after Close
	}()
	return s.listenURL, nil
}

// Close stops serving, cancels pending callbacks and waits until every
// request handler and callback goroutine has returned. It is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		srv := s.httpSrv
		s.mu.Unlock()
		s.cancel()
		if srv != nil {
			// Shutdown waits for connections to go idle; one a client
			// opened but never used counts as busy for 5 s. A simulator
			// need not be that patient: after a moment, close the rest.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
			}
			<-s.serveDone
		}
		s.wg.Wait()
	})
	return nil
}

// enter registers one unit of work (a request, a plan, a SetStatus), unless
// the server is closed; the caller must call s.wg.Done when it returns.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// reply is an answer decided by handle, written (or withheld) by ServeHTTP.
type reply struct {
	status int
	header http.Header
	body   []byte
	drop   bool   // close the connection without answering
	fault  string // which fault produced it, for logs and the request log
	order  string // order uuid concerned, if any
	kind   fpclient.Kind
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "fpfake: simulator closed", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	start := s.now()
	began := time.Now()
	rep := s.handle(r)

	status := rep.status
	if rep.drop {
		status = 0
	}
	s.record(Request{At: start, Method: r.Method, Path: r.URL.Path, Kind: rep.kind, Status: status, Fault: rep.fault, OrderUUID: rep.order})
	attrs := []any{"method", r.Method, "path", r.URL.Path, "status", status, "duration", time.Since(began).Round(time.Microsecond)}
	if rep.kind != "" {
		attrs = append(attrs, "kind", string(rep.kind))
	}
	if rep.order != "" {
		attrs = append(attrs, "order_uuid", rep.order)
	}
	if rep.fault != "" {
		attrs = append(attrs, "fault", rep.fault)
	}
	s.log.InfoContext(r.Context(), "fp request", attrs...)

	if rep.drop {
		dropConnection(w)
		return
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// dropConnection closes the client's connection without a byte of answer:
// FP got the request (and acted on it), the client never hears back.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot be hijacked; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

const statusPrefix = "/api/v1/connect/orders/status/"

func (s *Server) handle(r *http.Request) reply {
	var kind fpclient.Kind
	for _, k := range fpclient.Kinds {
		if r.URL.Path == k.Path() {
			kind = k
		}
	}
	statusUUID, isStatus := strings.CutPrefix(r.URL.Path, statusPrefix)
	isStatus = isStatus && statusUUID != "" && !strings.Contains(statusUUID, "/")
	action, actionUUID := actionRoute(r.URL.Path)
	switch {
	case kind == "" && !isStatus && action == "":
		return errorReply(http.StatusNotFound, "Not Found", "routeNotFound", []string{})
	case (kind != "" || action != "") && r.Method != http.MethodPost:
		rep := errorReply(http.StatusMethodNotAllowed, "Method Not Allowed", "methodNotAllowed", []string{})
		rep.header.Set("Allow", http.MethodPost)
		return rep
	case isStatus && r.Method != http.MethodGet:
		rep := errorReply(http.StatusMethodNotAllowed, "Method Not Allowed", "methodNotAllowed", []string{})
		rep.header.Set("Allow", http.MethodGet)
		return rep
	}

	s.mu.Lock()
	targeted := kind != "" || action != "" || s.faults.IncludeStatus
	latency := s.faults.Latency
	s.mu.Unlock()

	rep, hdr := s.guard(r, kind, targeted, latency)
	if rep == nil {
		switch {
		case isStatus:
			rep = s.orderStatus(statusUUID)
		case action != "":
			rep = s.act(r, action, actionUUID)
		default:
			rep = s.submit(r, kind)
		}
		if rep.header == nil {
			rep.header = http.Header{}
		}
		mergeHeader(rep.header, hdr)
	}
	rep.kind = kind
	return *rep
}

// guard runs everything in front of FP's controller: latency, the gateway,
// authentication, the throttle and FP's own 500/510. It returns the answer
// if one of them answers, else the rate-limit headers for FP's answer.
func (s *Server) guard(r *http.Request, kind fpclient.Kind, targeted bool, latency time.Duration) (*reply, http.Header) {
	if targeted && latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		case <-s.ctx.Done():
			t.Stop()
			rep := gatewayReply(http.StatusServiceUnavailable)
			return &rep, nil
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	f, st := &s.faults, &s.fstate
	if targeted && st.fire("gateway", &f.GatewayFirst, f.GatewayRate) {
		rep := gatewayReply(gatewayStatus(f.GatewayStatus))
		rep.fault = "gateway"
		return &rep, nil
	}

	token, ok := bearer(r)
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
		rep := errorReply(http.StatusUnauthorized, "Unauthorized", "Unauthenticated", []string{})
		return &rep, nil
	}

	limit := DefaultRateLimit
	if f.LimitPerMinute > 0 {
		limit = f.LimitPerMinute
	}
	now := s.now()
	minute := now.Truncate(time.Minute)
	w := s.windows[token]
	if !w.minute.Equal(minute) {
		w = window{minute: minute}
	}
	if targeted && f.RateLimitNext > 0 {
		f.RateLimitNext--
		rep := tooManyRequests(limit, max(limit-w.count, 0), f.RetryAfter)
		rep.fault = "429"
		return &rep, nil
	}
	if f.LimitPerMinute > 0 && w.count >= limit {
		rep := tooManyRequests(limit, 0, minute.Add(time.Minute).Sub(now))
		rep.fault = "limit"
		return &rep, nil
	}
	w.count++
	s.windows[token] = w
	hdr := http.Header{}
	hdr["x-ratelimit-limit"] = []string{strconv.Itoa(limit)}
	hdr["x-ratelimit-remaining"] = []string{strconv.Itoa(max(limit-w.count, 0))}

	if targeted {
		for _, c := range []struct {
			name  string
			first *int
			rate  float64
			code  int
		}{
			{"500", &f.Fail500First, f.Fail500Rate, http.StatusInternalServerError},
			{"510", &f.Fail510First, f.Fail510Rate, http.StatusNotExtended},
		} {
			if st.fire(c.name, c.first, c.rate) {
				rep := serverError(c.code, kind, now.In(s.loc))
				rep.fault = c.name
				mergeHeader(rep.header, hdr)
				return &rep, nil
			}
		}
	}
	return nil, hdr
}

func mergeHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func gatewayStatus(code int) int {
	if code == 0 {
		return http.StatusBadGateway
	}
	return code
}

// bearer reads "Authorization: Bearer <token>". The scheme is matched as
// FP's documentation writes it.
func bearer(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	return token, ok && token != ""
}

// isJSON is Laravel's Request::isJson: only then is the body read as JSON.
func isJSON(contentType string) bool {
	return strings.Contains(contentType, "/json") || strings.Contains(contentType, "+json")
}

// --- envelopes ---

// dataEnvelope and errorEnvelope are FP's two answer shapes, fields in FP's order.
type dataEnvelope struct {
	StatusCode    int    `json:"status_code"`
	StatusMessage string `json:"status_message"`
	Message       string `json:"message"`
	IsData        bool   `json:"is_data"`
	Data          any    `json:"data"`
}

type errorEnvelope struct {
	StatusCode    int    `json:"status_code"`
	StatusMessage string `json:"status_message"`
	Message       string `json:"message"`
	IsError       bool   `json:"is_error"`
	Errors        any    `json:"errors"`
}

// jsonReply encodes v as Laravel's JsonResponse does, slashes escaped
// ("https:\/\/…"): valid JSON that only a real JSON decoder reads right.
func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own envelopes always marshal
	}
	b = bytes.ReplaceAll(b, []byte("/"), []byte(`\/`))
	return reply{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

func errorReply(status int, statusMessage, message string, errs any) reply {
	return jsonReply(status, errorEnvelope{StatusCode: status, StatusMessage: statusMessage, Message: message, IsError: true, Errors: errs})
}

func dataReply(status int, message string, data any) reply {
	return jsonReply(status, dataEnvelope{StatusCode: status, StatusMessage: "OK", Message: message, IsData: data != nil, Data: data})
}

// serverError is FP's 500 or 510 exactly as the seeds show them. The
// payment-link seed spells the messages as translation keys
// ("internalErrorOccurredPleaseTryAgainLater"), the others as sentences; each
// endpoint answers as its own seed says.
func serverError(code int, kind fpclient.Kind, now time.Time) reply {
	keys := kind == fpclient.KindPaymentLink
	if code == http.StatusInternalServerError {
		msg := "Internal Error Occurred Please Try Again Later"
		if keys {
			msg = "internalErrorOccurredPleaseTryAgainLater"
		}
		return errorReply(code, "Internal Dependency Error", msg, map[string]any{
			"happenedAt":           now.Format(time.DateTime),
			"internalErrorDetails": []string{},
		})
	}
	msg := "Something Went Wrong"
	if keys {
		msg = "somethingWentWrong"
	}
	return errorReply(code, "Execution Exception Occurred", msg, []string{})
}

func tooManyRequests(limit, remaining int, retryAfter time.Duration) reply {
	secs := int((retryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	rep := errorReply(http.StatusTooManyRequests, "Too Many Requests", "Too Many Attempts.", []string{})
	rep.header.Set("Retry-After", strconv.Itoa(secs))
	rep.header["x-ratelimit-limit"] = []string{strconv.Itoa(limit)}
	rep.header["x-ratelimit-remaining"] = []string{strconv.Itoa(remaining)}
	return rep
}

// gatewayReply is what nginx in front of FP answers: HTML, no envelope.
func gatewayReply(code int) reply {
	text := fmt.Sprintf("%d %s", code, http.StatusText(code))
	body := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	return reply{status: code, header: http.Header{"Content-Type": {"text/html"}}, body: []byte(body)}
}

// --- handlers ---

func (s *Server) orderStatus(uuid string) *reply {
	s.mu.Lock()
	o, ok := s.orders[uuid]
	var status string
	if ok {
		status = o.Status
	}
	s.mu.Unlock()
	var rep reply
	if !ok {
		rep = jsonReply(http.StatusNotFound, dataEnvelope{StatusCode: http.StatusNotFound, StatusMessage: "Not Found", Message: "orderNotFound"})
	} else {
		rep = dataReply(http.StatusOK, "Order Status Retrieved Successfully", struct {
			UUID   string `json:"uuid"`
			Status string `json:"status"`
		}{uuid, status})
		rep.order = uuid
	}
	return &rep
}
