package web

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/frontpayment/fpexport/internal/store"
)

// Role is what a WEB_USERS user may do: an entry is name:hash or
// name:hash:role.
type Role string

const (
	// RoleViewer sees.
	RoleViewer Role = "viewer"
	// RoleAccountant also acts on orders; an entry without a role is one,
	// so the entries written before roles keep what they could do.
	RoleAccountant Role = "accountant"
	// RoleAdmin also gets what operators need: River's own UI.
	RoleAdmin Role = "admin"
)

// parseRole reads an entry's role field; "" is an accountant.
func parseRole(s string) (Role, bool) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case "":
		return RoleAccountant, true
	case RoleViewer, RoleAccountant, RoleAdmin:
		return r, true
	}
	return "", false
}

// ParseRoles reads the role of each WEB_USERS entry (ParseUsers reports
// what is wrong with the entries; an entry it refuses has no role here).
func ParseRoles(s string) map[string]Role {
	roles := map[string]Role{}
	users, _ := ParseUsers(s)
	for _, entry := range strings.Split(s, ",") {
		name, rest, _ := strings.Cut(strings.TrimSpace(entry), ":")
		_, role, _ := strings.Cut(rest, ":")
		if r, ok := parseRole(role); ok && users[name] != nil {
			if _, seen := roles[name]; !seen {
				roles[name] = r
			}
		}
	}
	return roles
}

// role is the user's role; a user Config.Roles does not name is an
// accountant.
func (h *Handler) role(user string) Role {
	if r, ok := h.cfg.Roles[user]; ok {
		return r
	}
	return RoleAccountant
}

func validRole(s string) bool { _, ok := parseRole(s); return ok }

// acting lets through only users who may change things: a viewer's POST
// is refused with 403 and logged. Every POST route that acts goes through
// it (see routes).
func (h *Handler) acting(next func(http.ResponseWriter, *http.Request, request)) func(http.ResponseWriter, *http.Request, request) {
	return func(w http.ResponseWriter, r *http.Request, req request) {
		if role := h.role(req.session.User); role == RoleViewer {
			h.logger.WarnContext(r.Context(), "web: action refused: viewer", "user", req.session.User, "role", string(role),
				"method", r.Method, "path", r.URL.Path)
			h.fail(w, req, http.StatusForbidden, label(req.lang, "error.forbidden"))
			return
		}
		next(w, r, req)
	}
}

// attentionCount is the open items' count for the navigation; -1 when it
// cannot be read (the page is shown without it, and the error logged).
func (h *Handler) attentionCount(r *http.Request) int64 {
	n, err := store.AttentionCount(r.Context(), h.cfg.Pool, h.now(), cmp.Or(h.cfg.StaleAfter, store.DefaultStaleAfter))
	if err != nil {
		h.logger.ErrorContext(r.Context(), "web: counting open items", "error", err)
		return -1
	}
	return n
}
