// Package httpapi is the worker's HTTP surface: FP's callbacks, health, and
// the reconciliation report.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

// maxQuery bounds a callback's query string, and a POSTed callback's body;
// FP's are a few hundred bytes.
const maxQuery = 4096

// Server serves the worker's endpoints.
type Server struct {
	Pool           *pgxpool.Pool
	River          *river.Client[pgx.Tx] // inserts callback jobs
	CallbackSecret string
	ChecksumKey    string // FP_CHECKSUM_KEY; "" = the seeds' keyless checksum
	Location       *time.Location
	StaleAfter     time.Duration // STALE_AFTER for the report; 0: store.DefaultStaleAfter
	ReportLang     string        // REPORT_LANG: the report's language when lang= is not given; "": nb
	Logger         *slog.Logger
	// Metrics counts callbacks by verdict; nil: none. MetricsHandler serves
	// GET /metrics; nil: no such endpoint.
	Metrics        CallbackMetrics
	MetricsHandler http.Handler
	// ReportTokens and Sessions admit a caller to the report (access.go);
	// with neither, the report answers 401 to everyone.
	ReportTokens *ReportTokens
	Sessions     SessionChecker

	// UntrustedLimits bounds untrusted callbacks (untrusted.go); zero
	// fields take DefaultUntrustedLimits.
	UntrustedLimits UntrustedLimits

	// Refused remembers when callbacks could not be stored, for the
	// catch-up poll (refusals.go); nil: not remembered.
	Refused *Refusals

	writerOnce sync.Once
	writer     *callbackWriter // stores callbacks in groups; see callbackwriter.go

	untrustedOnce sync.Once
	untrusted     *untrustedGate
}

// CallbackMetrics is what the callback handler reports to the metrics
// (metrics.Metrics implements it).
type CallbackMetrics interface {
	Callback(verdict string)
}

// Handler routes the endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackurl.Path, s.callback)
	// The seeds show callbacks as GET with query parameters; a POST carrying
	// the same parameters (query, form or JSON body) is read the same way.
	mux.HandleFunc("POST "+callbackurl.Path, s.callback)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.MetricsHandler != nil {
		mux.Handle("GET /metrics", s.MetricsHandler)
	}
	mux.HandleFunc("GET /reports/reconciliation", s.requireReportAccess(s.report))
	return mux
}

// NewHTTPServer wraps a handler with timeouts so slow clients cannot hold
// connections open.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      5 * time.Minute, // reports can be large
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// callback receives FP's GET. Every request to the callback path is stored
// with its source address, its raw text and a verdict; a trusted one also
// enqueues the job that applies it, in the same transaction (shared with
// the callbacks that arrived meanwhile: see callbackwriter.go); it is
// answered once that transaction committed. A callback is trusted only when
// our token (HMAC of our order id) and FP's checksum both check out.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	req := readCallback(w, r)
	in := store.CallbackIn{RemoteAddr: remoteHost(r.RemoteAddr), RawQuery: storable(req.raw), Verdict: store.VerdictMalformed}
	if req.refuse == 0 {
		s.judge(&in, req.params)
	}
	if s.gateUntrusted(w, &in, &req) { // over the limits: counted, not stored
		return
	}
	s.writerOnce.Do(func() { s.writer = newCallbackWriter(s.Pool, s.River) })
	in, err := s.writer.save(r.Context(), in)
	if err != nil {
		// FP retries a callback that did not get 2xx; a 503 asks for that.
		s.Logger.Error("storing callback failed", "error", err)
		s.Refused.Add(time.Now())
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	level := slog.LevelInfo
	if in.Verdict != store.VerdictAccepted && in.Verdict != store.VerdictAwaitingFP {
		level = slog.LevelWarn
	}
	s.countCallback(in.Verdict)
	s.Logger.Log(r.Context(), level, "callback received", "verdict", in.Verdict, "ref", req.params.Get("ref"),
		"fp_order_uuid", in.FPOrderUUID, "fp_status", in.FPStatus, "remote", in.RemoteAddr)
	switch {
	case req.refuse != 0:
		http.Error(w, req.reason, req.refuse)
	case in.Verdict == store.VerdictAccepted, in.Verdict == store.VerdictAwaitingFP:
		// Awaiting FP's confirmation (keyless): stored, so FP need not
		// send it again; the order moves only on FP's own answer.
		fmt.Fprintln(w, "OK")
	case in.Verdict == store.VerdictOrphan:
		// Authentic (token and checksum check out) and stored, but the order
		// is not in our database. 200 all the same: FP retries a callback
		// that did not get 2xx, and waiting will not bring the order back, so
		// an error answer would only have FP resend it for ever (and a
		// sender may give up on an endpoint that keeps failing, losing the
		// callbacks of every other order). The problem is signalled where
		// someone can act on it: a warning in the log and an orphan callback
		// in the report's exceptions.
		fmt.Fprintln(w, "OK")
	case in.Verdict == store.VerdictMalformed:
		http.Error(w, "malformed callback", http.StatusBadRequest)
	default:
		http.Error(w, "callback not trusted", http.StatusForbidden)
	}
}

// judge gives a readable callback its verdict and FP's fields. Both
// compares run in constant time (callbackurl.Valid, fpclient.VerifyChecksum),
// so a forger learns nothing from how long a refusal takes.
func (s *Server) judge(in *store.CallbackIn, q url.Values) {
	in.FPOrderUUID = storable(q.Get("orderUuid"))
	in.FPStatus = storable(q.Get("status"))
	in.CreatedAt = storable(q.Get("createdAt"))
	in.Amount = fpAmount(q.Get("amount"))
	ref, refErr := strconv.ParseInt(q.Get("ref"), 10, 64)
	switch {
	case refErr != nil || ref <= 0 || in.FPOrderUUID == "" || in.FPStatus == "" || in.CreatedAt == "" || q.Get("checksum") == "":
		in.Verdict = store.VerdictMalformed
	case !callbackurl.Valid(s.CallbackSecret, ref, q.Get("token")):
		in.Verdict = store.VerdictBadToken
	case !fpclient.VerifyChecksum(q.Get("checksum"), q.Get("orderUuid"), q.Get("status"), q.Get("createdAt"), s.ChecksumKey):
		in.Verdict = store.VerdictBadChecksum
		in.OrderID = ref
	case createdTooFarAhead(in.CreatedAt, time.Now()):
		in.Verdict = store.VerdictFutureCreatedAt
		in.OrderID = ref
	case s.ChecksumKey == "":
		// The seeds' checksum has no secret: a trigger, not a truth (see
		// jobs.ConfirmCallbacksWorker).
		in.Verdict = store.VerdictAwaitingFP
		in.OrderID = ref
	default:
		in.Verdict = store.VerdictAccepted
		in.OrderID = ref
	}
}

// fpAmount is FP's amount parameter when it is an amount as FP writes one:
// a plain decimal in NOK with at most two decimals (how money.Amount reads
// a JSON number), else "". FP's checksum does not cover the amount, so one
// that is not an amount is dropped and the callback judged as without it:
// its status is still FP's checksummed word.
func fpAmount(s string) string {
	if _, err := money.ParsePlain(s, 2); err != nil {
		return ""
	}
	return s
}

// createdTooFarAhead reports a createdAt (unix seconds) more than
// store.MaxCreatedAhead after now. Once applied, a far-future createdAt
// would outrank every later real callback, so a forged REFUNDED could never
// be undone. One that is not a number is left to the apply job as before.
func createdTooFarAhead(createdAt string, now time.Time) bool {
	c, err := strconv.ParseInt(createdAt, 10, 64)
	return err == nil && c > now.Add(store.MaxCreatedAhead).Unix()
}

// callbackRequest is what a request to the callback path carried.
type callbackRequest struct {
	params url.Values // FP's parameters and our ref and token
	raw    string     // as stored: the query, and a POST's body after "&"
	refuse int        // an HTTP status when the request itself is refused
	reason string     // and why
}

// readCallback reads a callback's parameters, at most maxQuery bytes of
// query and as much of a POST's body. FP appends its parameters to the
// callbackUrl, which already holds ?ref=…&token=…; a sender that appends
// with a second "?" instead of "&" would hide orderUuid inside the token, so
// every "?" after the first counts as "&". A POST may also carry them as a
// form or a JSON object. A request too large or unreadable is refused, but
// its first bytes are still stored (as malformed): every request is.
func readCallback(w http.ResponseWriter, r *http.Request) callbackRequest {
	if len(r.URL.RawQuery) > maxQuery {
		return callbackRequest{params: url.Values{}, raw: truncated(r.URL.RawQuery),
			refuse: http.StatusRequestURITooLong, reason: "query too long"}
	}
	raw := strings.ReplaceAll(r.URL.RawQuery, "?", "&")
	q, err := url.ParseQuery(raw)
	if err != nil {
		return callbackRequest{params: url.Values{}, raw: raw, refuse: http.StatusBadRequest, reason: "malformed query"}
	}
	if r.Method != http.MethodPost {
		return callbackRequest{params: q, raw: raw}
	}
	// MaxBytesReader, not a LimitReader: past the limit the server also
	// closes the connection instead of reading the rest of a huge body.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxQuery))
	raw += "&" + string(body)
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		return callbackRequest{params: q, raw: truncated(raw), refuse: http.StatusRequestEntityTooLarge, reason: "body too large"}
	}
	if err != nil { // a client too slow for ReadTimeout, or gone
		return callbackRequest{params: q, raw: raw, refuse: http.StatusRequestTimeout, reason: "body unreadable"}
	}
	extra, err := bodyParams(r.Header.Get("Content-Type"), body)
	if err != nil {
		return callbackRequest{params: q, raw: raw, refuse: http.StatusBadRequest, reason: err.Error()}
	}
	for k, vs := range extra {
		if k == "ref" || k == "token" {
			continue // ours, and only in the URL we gave FP: a body cannot add them
		}
		if q.Get(k) == "" {
			q[k] = vs
		}
	}
	return callbackRequest{params: q, raw: raw}
}

// bodyParams reads a POSTed callback's body: a JSON object or a form.
func bodyParams(contentType string, body []byte) (url.Values, error) {
	if !strings.HasPrefix(contentType, "application/json") {
		extra, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("malformed form body")
		}
		return extra, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errors.New("malformed JSON body")
	}
	extra := url.Values{}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			extra.Set(k, v)
		case float64:
			extra.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	return extra, nil
}

// truncated keeps the first maxQuery bytes of an oversized request and says
// so (of a body too large, only the first maxQuery bytes were ever read).
func truncated(raw string) string {
	if len(raw) <= maxQuery {
		return raw
	}
	return fmt.Sprintf("%s…[truncated: over %d bytes]", raw[:maxQuery], maxQuery)
}

// storable makes a string PostgreSQL text can hold: a forged callback may
// carry NUL bytes or invalid UTF-8, which would fail the insert and lose it.
func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// report answers GET /reports/reconciliation?from=&to=&format=json|csv|xlsx
// (&csv_comma=true: a CSV separated by ',' instead of ';'; &part=: one CSV
// part, report.Parts; &lang=en: English labels). The orders are
// streamed from the database as they are written, so a large period does
// not take the worker's memory.
func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, err := Period(q.Get("from"), q.Get("to"), time.Now(), s.Location)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" && format != "xlsx" {
		http.Error(w, "format must be json, csv or xlsx", http.StatusBadRequest)
		return
	}
	comma := report.DefaultCSVComma
	switch q.Get("csv_comma") {
	case "", "false", "0":
	case "true", "1":
		comma = ','
	default:
		http.Error(w, "csv_comma must be true or false", http.StatusBadRequest)
		return
	}
	// part= selects one CSV part (the orders by default); lang= the labels'
	// language (nb or en; by default REPORT_LANG's, nb without it).
	part := q.Get("part")
	if part != "" && (format != "csv" || !slices.Contains(report.Parts, part)) {
		http.Error(w, "part goes with format=csv and is one of "+strings.Join(report.Parts, ", "), http.StatusBadRequest)
		return
	}
	lang := q.Get("lang")
	if lang == "" {
		lang = s.ReportLang
	}
	if lang != "" && !slices.Contains(report.Langs, lang) {
		http.Error(w, "lang must be nb or en", http.StatusBadRequest)
		return
	}
	name := fmt.Sprintf("reconciliation-%s_%s.%s", from, to, format)
	if part != "" {
		name = report.PartPath(name, part)
	}
	out := &report.CountingWriter{W: w}
	err = store.WithReport(r.Context(), s.Pool, from, to, time.Now(), s.StaleAfter, func(rep *report.Report) error {
		rep.Lang = lang
		switch format {
		case "json":
			w.Header().Set("Content-Type", "application/json")
		case "csv":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		case "xlsx":
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		}
		return report.WritePart(out, rep, format, part, comma)
	})
	if err != nil {
		s.Logger.Error("report failed", "error", err, "from", from, "to", to, "format", format)
		if out.N == 0 { // nothing sent yet: the client can still be told
			w.Header().Del("Content-Disposition")
			http.Error(w, "report failed", http.StatusInternalServerError)
		}
	}
}

// Period resolves a report period: both dates YYYY-MM-DD in loc; empty
// from/to default to yesterday; to defaults to from.
func Period(from, to string, now time.Time, loc *time.Location) (string, string, error) {
	if from == "" && to == "" {
		y := now.In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
		return y, y, nil
	}
	if from == "" {
		from = to
	}
	if to == "" {
		to = from
	}
	f, err := time.ParseInLocation(time.DateOnly, from, loc)
	if err != nil {
		return "", "", errors.New("from must be a date YYYY-MM-DD")
	}
	t, err := time.ParseInLocation(time.DateOnly, to, loc)
	if err != nil {
		return "", "", errors.New("to must be a date YYYY-MM-DD")
	}
	if t.Before(f) {
		return "", "", errors.New("to is before from")
	}
	return from, to, nil
}
