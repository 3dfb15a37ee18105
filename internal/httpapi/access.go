package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/frontpayment/fpexport/internal/callbackurl"
)

// MinReportToken is the shortest REPORT_TOKENS entry taken: a token is a
// password that a script sends on every request, so it must be long and
// random, not something a person chose.
const MinReportToken = 32

// ReportTokens are the bearer tokens that may fetch the report. Only their
// SHA-256 digests are kept: the tokens themselves are never in memory after
// start, so no dump, log line or error can show them.
type ReportTokens struct {
	digests [][sha256.Size]byte
}

// ParseReportTokens reads REPORT_TOKENS: tokens separated by commas, each at
// least MinReportToken characters. The problems name an entry by its
// position, never by its text.
func ParseReportTokens(s string) (*ReportTokens, []string) {
	rt := &ReportTokens{}
	var problems []string
	for i, tok := range strings.Split(s, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		if len(tok) < MinReportToken {
			problems = append(problems, fmt.Sprintf("entry %d is shorter than %d characters (use a long random string, e.g. `openssl rand -hex 32`)", i+1, MinReportToken))
			continue
		}
		rt.digests = append(rt.digests, sha256.Sum256([]byte(tok)))
	}
	return rt, problems
}

// Len is how many tokens there are.
func (rt *ReportTokens) Len() int {
	if rt == nil {
		return 0
	}
	return len(rt.digests)
}

// valid reports whether tok is one of the tokens. Every digest is compared,
// in constant time, whatever matched: how long a refusal takes tells a
// guesser nothing (comparing digests also hides the tokens' lengths).
func (rt *ReportTokens) valid(tok string) bool {
	if rt == nil || tok == "" {
		return false
	}
	d := sha256.Sum256([]byte(tok))
	ok := 0
	for i := range rt.digests {
		ok |= subtle.ConstantTimeCompare(d[:], rt.digests[i][:])
	}
	return ok == 1
}

// SessionChecker tells whether a request carries a valid login of the web
// page (web.Handler implements it with the page's own session check, so the
// report honours a logout or a revoked session exactly as the page does).
type SessionChecker interface {
	SessionUser(r *http.Request) (user string, ok bool)
}

// requireReportAccess lets a request through with `Authorization: Bearer T`
// (T one of ReportTokens) or a web page session; anything else is 401. The
// report lists customers and amounts: it is never open, on any listener.
func (s *Server) requireReportAccess(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := s.reportCaller(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fpexport"`)
			http.Error(w, "credentials required: Authorization: Bearer <one of REPORT_TOKENS>, or a login on /web/", http.StatusUnauthorized)
			s.Logger.Warn("report refused: no valid credentials", "remote", remoteHost(r.RemoteAddr))
			return
		}
		s.Logger.Info("report requested", "by", who, "remote", remoteHost(r.RemoteAddr))
		next(w, r)
	}
}

// reportCaller names who is asking (never the token itself), or ok false.
func (s *Server) reportCaller(r *http.Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, _ := strings.Cut(auth, " ")
		if strings.EqualFold(scheme, "Bearer") && s.ReportTokens.valid(strings.TrimSpace(tok)) {
			return "report token", true
		}
		return "", false // a wrong token is not rescued by a cookie
	}
	if s.Sessions != nil {
		if user, ok := s.Sessions.SessionUser(r); ok {
			return "web user " + user, true
		}
	}
	return "", false
}

// FPDoorOnly is the public listener's filter when the rest has a door of
// its own (ADMIN_LISTEN_ADDR): it lets through what FP and a liveness probe
// need, the callback path and /healthz. Anything else is 404, as if it did
// not exist: FP's door does not even say that a report is behind another.
func FPDoorOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != callbackurl.Path && r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CommonHeaders is the middleware of every listener: no answer may be
// sniffed into another type (a CSV or JSON holding a customer's name shown
// as HTML) or kept in a cache (the report, the web page's personal data,
// even an error page). The headers are set before the handler runs and set
// again when it writes its header, because some handlers drop them (the
// file server clears Cache-Control on its errors).
func CommonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setCommonHeaders(w.Header())
		next.ServeHTTP(&commonHeaderWriter{ResponseWriter: w}, r)
	})
}

func setCommonHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// commonHeaderWriter puts the common headers back as the answer's header
// is written.
type commonHeaderWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *commonHeaderWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 { // 1xx answers come before the real one
		w.wrote = true
		setCommonHeaders(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *commonHeaderWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// flushing, hijacking).
func (w *commonHeaderWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
