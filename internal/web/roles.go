package web

import (
	"strings"
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
