// Package httpapi is the worker's HTTP surface: FP's callbacks, health, and
// the reconciliation report.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// maxQuery bounds a callback's query string; FP's are a few hundred bytes.
const maxQuery = 4096

// Server serves the worker's endpoints.
type Server struct {
	Pool           *pgxpool.Pool
	River          *river.Client[pgx.Tx] // inserts callback jobs
	CallbackSecret string
	ChecksumKey    string // FP_CHECKSUM_KEY; "" = the seeds' keyless checksum
	Location       *time.Location
	StaleAfter     time.Duration // STALE_AFTER for the report; 0: store.DefaultStaleAfter
	Logger         *slog.Logger
}

// Handler routes the endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackurl.Path, s.callback)
	// The seeds show callbacks as GET with query parameters; a POST carrying
	// the same parameters (query, form or JSON body) is read the same way.
	mux.HandleFunc("POST "+callbackurl.Path, s.callback)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /reports/reconciliation", s.report)
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

// callback receives FP's GET. It stores every callback with its verdict, and
// for a trusted one enqueues the job that applies it, in one transaction, then
// answers at once. A callback is trusted only when our token (HMAC of our
// order id) and FP's checksum both check out.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.RawQuery) > maxQuery {
		http.Error(w, "query too long", http.StatusRequestURITooLong)
		return
	}
	q, raw, err := callbackParams(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in := store.CallbackIn{
		RemoteAddr:  remoteHost(r.RemoteAddr),
		RawQuery:    raw,
		FPOrderUUID: q.Get("orderUuid"),
		FPStatus:    q.Get("status"),
		CreatedAt:   q.Get("createdAt"),
	}
	ref, refErr := strconv.ParseInt(q.Get("ref"), 10, 64)
	switch {
	case refErr != nil || ref <= 0 || in.FPOrderUUID == "" || in.FPStatus == "" || in.CreatedAt == "" || q.Get("checksum") == "":
		in.Verdict = store.VerdictMalformed
	case !callbackurl.Valid(s.CallbackSecret, ref, q.Get("token")):
		in.Verdict = store.VerdictBadToken
	case !fpclient.VerifyChecksum(q.Get("checksum"), in.FPOrderUUID, in.FPStatus, in.CreatedAt, s.ChecksumKey):
		in.Verdict = store.VerdictBadChecksum
		in.OrderID = ref
	default:
		in.Verdict = store.VerdictAccepted
		in.OrderID = ref
	}

	ctx := r.Context()
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if in.OrderID != 0 {
			ok, err := store.OrderExists(ctx, tx, in.OrderID)
			if err != nil {
				return err
			}
			if !ok { // a valid token for an order we do not have
				in.OrderID, in.Verdict = 0, store.VerdictMalformed
			}
		}
		id, err := store.SaveCallback(ctx, tx, in)
		if err != nil {
			return err
		}
		if in.Verdict == store.VerdictAccepted {
			_, err = s.River.InsertTx(ctx, tx, jobs.ApplyCallbackArgs{CallbackID: id}, nil)
		}
		return err
	})
	if err != nil {
		// FP retries a callback that did not get 2xx; a 503 asks for that.
		s.Logger.Error("storing callback failed", "error", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	s.Logger.Info("callback received", "verdict", in.Verdict, "ref", q.Get("ref"), "fp_order_uuid", in.FPOrderUUID,
		"fp_status", in.FPStatus, "remote", in.RemoteAddr)
	switch in.Verdict {
	case store.VerdictAccepted:
		fmt.Fprintln(w, "OK")
	case store.VerdictMalformed:
		http.Error(w, "malformed callback", http.StatusBadRequest)
	default:
		http.Error(w, "callback not trusted", http.StatusForbidden)
	}
}

// callbackParams reads a callback's parameters. FP appends its parameters
// to the callbackUrl, which already holds ?ref=…&token=…; a sender that
// appends with a second "?" instead of "&" would hide orderUuid inside the
// token, so every "?" after the first counts as "&". A POST may also carry
// them as a form or a JSON object (bounded by maxQuery).
func callbackParams(r *http.Request) (url.Values, string, error) {
	raw := strings.ReplaceAll(r.URL.RawQuery, "?", "&")
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, raw, errors.New("malformed query")
	}
	if r.Method != http.MethodPost {
		return q, raw, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxQuery+1))
	if err != nil || len(body) > maxQuery {
		return nil, raw, errors.New("body missing or too large")
	}
	var extra url.Values
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, raw, errors.New("malformed JSON body")
		}
		extra = url.Values{}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				extra.Set(k, v)
			case float64:
				extra.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
	} else if extra, err = url.ParseQuery(string(body)); err != nil {
		return nil, raw, errors.New("malformed form body")
	}
	for k, vs := range extra {
		if q.Get(k) == "" { // our own ref and token come from the URL we gave
			q[k] = vs
		}
	}
	return q, raw + "&" + string(body), nil
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	st, err := throttle.ReadState(ctx, s.Pool)
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"database unreachable"}`)
		return
	}
	body := map[string]any{"status": "ok", "fp_senders": st.Senders}
	if st.FPLimit != nil && st.FPRemaining != nil {
		body["fp_ratelimit"] = map[string]int{"limit": *st.FPLimit, "remaining": max(*st.FPRemaining, 0)}
	}
	if st.PausedSince != nil {
		// The worker runs but cannot do its job: an operator must fix the
		// token. 503 so that a monitor notices.
		body["status"] = "submitting paused"
		body["reason"] = st.PauseReason
		body["paused_since"] = st.PausedSince.UTC().Format(time.RFC3339)
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// report answers GET /reports/reconciliation?from=&to=&format=json|csv|xlsx.
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
	rep, err := store.LoadReport(r.Context(), s.Pool, from, to, time.Now(), s.StaleAfter)
	if err != nil {
		s.Logger.Error("loading report failed", "error", err)
		http.Error(w, "report failed", http.StatusInternalServerError)
		return
	}
	name := fmt.Sprintf("reconciliation-%s_%s.%s", from, to, format)
	switch format {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		err = report.WriteJSON(w, rep)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		err = report.WriteCSV(w, rep, ';')
	case "xlsx":
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		err = report.WriteXLSX(w, rep)
	}
	if err != nil {
		s.Logger.Error("writing report failed", "error", err)
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
