package web

import "net/http"

// SessionUser reports the user of a valid page login on r, for the worker's
// other endpoints that a logged-in accountant may use (the report: see
// httpapi.SessionChecker). It is the page's own check, not a copy of it, so
// whatever makes a session invalid for the page (expiry, a forged cookie,
// a user removed, a logout) makes it invalid there too.
func (h *Handler) SessionUser(r *http.Request) (string, bool) {
	s, ok := h.currentSession(r)
	if !ok {
		return "", false
	}
	return s.User, true
}
