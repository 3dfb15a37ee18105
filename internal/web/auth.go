package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/store"
)

// Cookie names.
const (
	sessionCookie = "fpx_session"
	loginCookie   = "fpx_login" // the login form's CSRF nonce, before there is a session
	langCookie    = "fpx_lang"
)

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

var userName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// ValidUserName says whether name can be a WEB_USERS name: letters,
// digits, . _ @ - (no ':' or ',', which separate the entries).
func ValidUserName(name string) bool { return userName.MatchString(name) }

// ParseUsers reads WEB_USERS: "name:bcrypt-hash,name2:hash:role" (role:
// viewer, accountant or admin; none is accountant, see ParseRoles). Each
// problem is one line; a hash is checked to be bcrypt, never printed.
func ParseUsers(s string) (map[string][]byte, []string) {
	users := map[string][]byte{}
	var problems []string
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, hash, ok := strings.Cut(entry, ":")
		hash, role, _ := strings.Cut(hash, ":") // a bcrypt hash holds no ':'
		switch {
		case !ok || !userName.MatchString(name):
			problems = append(problems, fmt.Sprintf("entry %d is not name:bcrypt-hash (names: letters, digits, . _ @ -)", i+1))
		case users[name] != nil:
			problems = append(problems, fmt.Sprintf("user %s appears twice", name))
		case !validRole(role):
			problems = append(problems, fmt.Sprintf("user %s: the role must be viewer, accountant or admin", name))
		default:
			if _, err := bcrypt.Cost([]byte(hash)); err != nil {
				problems = append(problems, fmt.Sprintf("user %s: the hash is not a bcrypt hash (make one with `worker web-passwd %s`)", name, name))
				continue
			}
			users[name] = []byte(hash)
		}
	}
	return users, problems
}

// HashPassword makes the bcrypt hash WEB_USERS holds.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// dummyHash is compared against when the user is unknown, so a wrong name
// takes as long as a wrong password and names cannot be probed by timing.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.DefaultCost)

// checkPassword reports whether name and password match WEB_USERS.
func (h *Handler) checkPassword(name, password string) bool {
	hash, ok := h.users[name]
	if !ok {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// session is a logged-in user. The cookie holds "v2|name|expiry|id" and an
// HMAC of it; id is 32 random bytes whose SHA-256 names the session's row
// in web_sessions. The row is checked on every request, so logout and a
// password change end the session in every process sharing the database,
// and a copied cookie dies with it.
type session struct {
	User    string
	payload string // what the cookie signs; the CSRF token is derived from it
	idHash  []byte // SHA-256 of the cookie's random id: the row's key
}

func (h *Handler) sign(s string) string {
	m := hmac.New(sha256.New, h.sessionKey)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

// passwordPrint is the fingerprint of a user's bcrypt hash kept with each
// session: when WEB_USERS holds another hash for the user, the password
// changed and the session is over. (A hash of the hash: without the
// bcrypt salt it helps no one guess the password.)
func passwordPrint(hash []byte) string {
	sum := sha256.Sum256(hash)
	return hex.EncodeToString(sum[:])
}

// newSession records a session for user and sets its cookie.
func (h *Handler) newSession(w http.ResponseWriter, r *http.Request, user string) error {
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	idHash := sha256.Sum256(id)
	now := h.now()
	exp := now.Add(SessionTTL)
	err := store.CreateWebSession(r.Context(), h.cfg.Pool, store.WebSession{IDHash: idHash[:], User: user,
		PasswordFP: passwordPrint(h.users[user]), CreatedAt: now, ExpiresAt: exp})
	if err != nil {
		return err
	}
	payload := "v2|" + user + "|" + strconv.FormatInt(exp.Unix(), 10) + "|" + base64.RawURLEncoding.EncodeToString(id)
	value := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + h.sign(payload)
	h.setCookie(w, r, sessionCookie, value, SessionTTL)
	return nil
}

// currentSession reads and verifies the session cookie; ok false when there
// is none, it is forged or expired, its user is no longer in WEB_USERS, or
// its row in web_sessions is gone, revoked (logout) or of another password.
//
// The browser may send two session cookies: one on / and one on /web/ left
// by an older version (the cookie was scoped to /web/ before the report
// accepted page sessions); either may be the valid one.
func (h *Handler) currentSession(r *http.Request) (session, bool) {
	h.revokeChangedPasswords(r.Context())
	for _, c := range r.Cookies() {
		if c.Name != sessionCookie {
			continue
		}
		if s, ok := h.sessionFromCookie(r, c.Value); ok {
			return s, true
		}
	}
	return session{}, false
}

// sessionFromCookie verifies one session cookie's value.
func (h *Handler) sessionFromCookie(r *http.Request, value string) (session, bool) {
	enc, mac, ok := strings.Cut(value, ".")
	if !ok {
		return session{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return session{}, false
	}
	payload := string(raw)
	if subtle.ConstantTimeCompare([]byte(mac), []byte(h.sign(payload))) != 1 {
		return session{}, false
	}
	parts := strings.Split(payload, "|")
	if len(parts) != 4 || parts[0] != "v2" {
		return session{}, false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || h.now().Unix() > exp {
		return session{}, false
	}
	if _, known := h.users[parts[1]]; !known {
		return session{}, false
	}
	id, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || len(id) != 32 {
		return session{}, false
	}
	idHash := sha256.Sum256(id)
	s := session{User: parts[1], payload: payload, idHash: idHash[:]}
	if !h.sessionLive(r.Context(), s) {
		return session{}, false
	}
	return s, true
}

// sessionTouchEvery is how stale last_seen may get before a request
// updates it: one write a minute per session, not one per request.
const sessionTouchEvery = time.Minute

// keepExpiredSessions is how long a session's row outlives its expiry, so
// the operator can still see why a cookie stopped working.
const keepExpiredSessions = 7 * 24 * time.Hour

// sessionLive checks the session's row. A database error refuses the
// session (logged): a login that cannot be checked is no login.
func (h *Handler) sessionLive(ctx context.Context, s session) bool {
	row, found, err := store.WebSessionByID(ctx, h.cfg.Pool, s.idHash)
	if err != nil {
		h.logger.ErrorContext(ctx, "web: checking a session failed", "user", s.User, "error", err)
		return false
	}
	now := h.now()
	if !found || row.RevokedAt != nil || row.User != s.User || !now.Before(row.ExpiresAt) {
		return false
	}
	if row.PasswordFP != passwordPrint(h.users[s.User]) {
		// The session was opened with another password than this process's
		// WEB_USERS holds. Refused here, not revoked: during a rolling
		// restart this process may be the one with the old password, and
		// the new processes end the old sessions (revokeChangedPasswords).
		return false
	}
	if now.Sub(row.LastSeen) > sessionTouchEvery {
		if err := store.TouchWebSession(ctx, h.cfg.Pool, s.idHash, now); err != nil {
			h.logger.WarnContext(ctx, "web: recording a session's use failed", "user", s.User, "error", err)
		}
	}
	return true
}

// revokeChangedPasswords ends, once per process, the sessions of every
// user whose password (in this process's WEB_USERS) is not the one they
// logged in with, so a worker restarted with a changed password ends the
// old sessions for the processes not yet restarted too. New tries it at
// start; the database may still be down then, so until it has succeeded
// every request that reads a session tries again.
func (h *Handler) revokeChangedPasswords(ctx context.Context) {
	if h.passwordsSynced.Load() {
		return
	}
	h.syncMu.Lock()
	defer h.syncMu.Unlock()
	if h.passwordsSynced.Load() {
		return
	}
	now := h.now()
	for user, hash := range h.users {
		n, err := store.RevokeUserWebSessions(ctx, h.cfg.Pool, user, passwordPrint(hash), now, "password changed")
		if err != nil {
			h.logger.WarnContext(ctx, "web: ending the sessions of changed passwords failed; tried again at the next request", "error", err)
			return
		}
		if n > 0 {
			h.logger.InfoContext(ctx, "web: sessions ended: the user's password changed", "user", user, "sessions", n)
		}
	}
	h.passwordsSynced.Store(true)
}

// csrfToken is the session's token for its forms: an HMAC of the session,
// so a page of another site can neither read nor guess it.
func (h *Handler) csrfToken(s session) string { return h.sign("csrf|" + s.payload) }

// loginToken is the login form's token, tied to a random cookie (the
// session does not exist yet): a forged login form fails.
func (h *Handler) loginToken(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if c, err := r.Cookie(loginCookie); err == nil && c.Value != "" {
		nonce = c.Value
	} else {
		nonce = randomToken()
		h.setCookie(w, r, loginCookie, nonce, time.Hour)
	}
	return h.sign("login|" + nonce)
}

var errCSRF = errors.New("the form is out of date or did not come from this page; reload the page and try again")

// checkCSRF compares the form's token with the expected one in constant time.
func checkCSRF(got, want string) error {
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// setCookie sets an HttpOnly, SameSite=Lax cookie on /web/, the session's
// on / so that the browser also sends it to /reports/reconciliation (which
// takes a page session as well as a report token). It is Secure when
// WEB_COOKIE_SECURE says so or the request came over HTTPS (directly or, as
// a proxy says, X-Forwarded-Proto: https).
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	h.setCookieOn(w, r, cookiePath(name), name, value, maxAge)
}

func cookiePath(name string) string {
	if name == sessionCookie {
		return "/"
	}
	return Prefix
}

func (h *Handler) setCookieOn(w http.ResponseWriter, r *http.Request, path, name, value string, maxAge time.Duration) {
	secure := h.secureCookie || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// clearCookie removes the cookie, and a session cookie an older version
// left on /web/.
func (h *Handler) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	if name == sessionCookie {
		h.setCookieOn(w, r, Prefix, name, "", -time.Second)
	}
	h.setCookie(w, r, name, "", -time.Second)
}
