package web

import (
	"net/http"
	"net/url"
	"strings"

	"riverqueue.com/riverui"
)

// RiverPrefix is where River's own UI is mounted, for admins.
const RiverPrefix = "/web/river/"

// riverAPI is the prefix of River UI's JSON API: its cancel, retry, delete
// and pause are POST, PUT or DELETE requests there.
const riverAPI = "/web/river/api/"

// buildRiverUI makes River's own UI (jobs, queues, states; cancel, retry,
// delete a job, pause a queue) behind the page's login, for admins only.
//
// Its API takes JSON, which a form's CSRF token does not fit; a browser
// sends JSON across origins only with CORS, which it does not answer, and
// http.CrossOriginProtection refuses any unsafe request another origin's
// page makes (Sec-Fetch-Site, Origin). Its background services are not
// started: they cache counts for tables of millions of jobs, and without
// them each request counts afresh (a bounded query).
func (h *Handler) buildRiverUI() error {
	if h.cfg.River == nil {
		h.riverUI = http.NotFoundHandler()
		return nil
	}
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(h.cfg.River, nil),
		Logger:    h.logger,
		Prefix:    strings.TrimSuffix(RiverPrefix, "/"),
	})
	if err != nil {
		return err
	}
	h.riverUI = http.NewCrossOriginProtection().Handler(h.adminOnly(ui))
	return nil
}

// RiverUI serves River's own UI under RiverPrefix: admins only (others get
// 403, logged), every change it makes logged with the user.
func (h *Handler) RiverUI() http.Handler { return h.riverUI }

// adminOnly lets only a logged-in admin through to next, and logs each
// request that changes something with the user who made it.
func (h *Handler) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		// River UI's own files: scripts and styles of its origin; its
		// components set inline styles.
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		s, ok := h.currentSession(r)
		if !ok {
			if strings.HasPrefix(r.URL.Path, riverAPI) {
				http.Error(w, "login required", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/web/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if role := h.role(s.User); role != RoleAdmin {
			h.logger.Warn("River UI refused: not an admin", "user", s.User, "role", string(role), "method", r.Method, "path", r.URL.Path)
			http.Error(w, "River UI is for admins only", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		h.logger.Info("River UI action", "user", s.User, "method", r.Method, "path", r.URL.Path, "status", rec.status)
	})
}

// statusRecorder keeps the status a handler answered with, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
