package daemon

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/web"
)

// WebConfig holds the settings of the accountants' web page (WEB_*).
// Users empty: the page is off.
type WebConfig struct {
	Users        map[string][]byte   // WEB_USERS: name → bcrypt hash
	Roles        map[string]web.Role // WEB_USERS: name → role (name:hash:role)
	SessionKey   string              // WEB_SESSION_KEY; "": random per process
	MaxUpload    int64               // WEB_MAX_UPLOAD, bytes
	SecureCookie bool                // WEB_COOKIE_SECURE
	UploadDir    string              // WEB_UPLOAD_DIR; "": a folder in the system's temp folder
	ProfileDir   string              // WEB_PROFILE_DIR; "": no profiles offered
	// TrustedProxies (WEB_TRUSTED_PROXIES): peers whose X-Forwarded-For is
	// believed when failed logins are counted per address.
	TrustedProxies []netip.Prefix
}

// minSessionKey is the shortest WEB_SESSION_KEY taken: it signs logins.
const minSessionKey = 32

// loadWeb reads the web page's settings; each problem is one line, and no
// line shows a hash or the session key.
func (c *Config) loadWeb(get func(name, def string) string) []string {
	var problems []string
	users, userProblems := web.ParseUsers(get("WEB_USERS", ""))
	for _, p := range userProblems {
		problems = append(problems, "WEB_USERS: "+p)
	}
	c.Web.Users = users
	c.Web.Roles = web.ParseRoles(get("WEB_USERS", ""))
	c.Web.SessionKey = get("WEB_SESSION_KEY", "")
	if c.Web.SessionKey != "" && len(c.Web.SessionKey) < minSessionKey {
		problems = append(problems, fmt.Sprintf("WEB_SESSION_KEY: must be at least %d characters (a long random string)", minSessionKey))
	}
	n, err := parseSize(get("WEB_MAX_UPLOAD", "32MB"))
	if err != nil || n < 1<<10 {
		problems = append(problems, "WEB_MAX_UPLOAD: must be a size of at least 1KB such as 32MB, 512KB or a number of bytes")
	}
	c.Web.MaxUpload = n
	switch v := strings.ToLower(get("WEB_COOKIE_SECURE", "false")); v {
	case "true", "1", "yes":
		c.Web.SecureCookie = true
	case "false", "0", "no":
	default:
		problems = append(problems, "WEB_COOKIE_SECURE: must be true or false")
	}
	c.Web.UploadDir = get("WEB_UPLOAD_DIR", "")
	c.Web.ProfileDir = get("WEB_PROFILE_DIR", "")
	if c.Web.ProfileDir != "" {
		if fi, err := os.Stat(c.Web.ProfileDir); err != nil || !fi.IsDir() {
			problems = append(problems, "WEB_PROFILE_DIR: "+c.Web.ProfileDir+" is not a folder")
		}
	}
	proxies, proxyProblems := web.ParseTrustedProxies(get("WEB_TRUSTED_PROXIES", ""))
	for _, p := range proxyProblems {
		problems = append(problems, "WEB_TRUSTED_PROXIES: "+p)
	}
	c.Web.TrustedProxies = proxies
	return problems
}

// parseSize reads "32MB", "512KB", "1GB" (binary: 1 MB = 1 048 576 bytes)
// or a number of bytes.
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, unit := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, unit.suffix) {
			u, mult = strings.TrimSpace(strings.TrimSuffix(u, unit.suffix)), unit.mult
			break
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	return n * mult, nil
}

// withWebPage mounts the accountants' page under /web/ beside the worker's
// own endpoints. Without WEB_USERS the page is off (never served without a
// login) and that is logged.
func withWebPage(cfg *Config, pool *pgxpool.Pool, rc *river.Client[pgx.Tx], logger *slog.Logger, api http.Handler) (http.Handler, error) {
	page, err := newWebPage(cfg, pool, rc, nil, logger)
	if err != nil || page == nil {
		return api, err
	}
	return mountWebPage(page, api), nil
}

// newWebPage builds the page; nil when it is off (no WEB_USERS). fp is the
// worker's FP client behind its throttle, for the page's cancel and resend
// actions.
func newWebPage(cfg *Config, pool *pgxpool.Pool, rc *river.Client[pgx.Tx], fp *pacedFP, logger *slog.Logger) (*web.Handler, error) {
	if len(cfg.Web.Users) == 0 {
		logger.Info("web page off: WEB_USERS is empty")
		return nil, nil
	}
	if cfg.Web.SessionKey == "" {
		logger.Warn("WEB_SESSION_KEY is not set: a random key is used, so logins end when the worker restarts and hold only on this process")
	}
	wc := web.Config{
		Pool: pool, River: rc, Users: cfg.Web.Users, Roles: cfg.Web.Roles, SessionKey: []byte(cfg.Web.SessionKey),
		SecureCookie: cfg.Web.SecureCookie, MaxUpload: cfg.Web.MaxUpload, UploadDir: cfg.Web.UploadDir,
		ProfileDir: cfg.Web.ProfileDir, AllowTestIDs: cfg.AllowTestIDs, Location: cfg.Location,
		StaleAfter: cfg.StaleAfter, Logger: logger, TrustedProxies: cfg.Web.TrustedProxies,
	}
	if fp != nil { // a nil client would be a non-nil interface
		wc.FP = fp
	}
	page, err := web.New(wc)
	if err != nil {
		return nil, err
	}
	logger.Info("web page on", "path", web.Prefix, "users", len(cfg.Web.Users))
	return page, nil
}

// mountWebPage serves page under /web/ and api at every other path.
func mountWebPage(page *web.Handler, api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle(web.Prefix, page)
	mux.Handle(web.RiverPrefix, page.RiverUI()) // River's own UI, admins only
	// The bare address leads to the page.
	mux.Handle("GET /{$}", http.RedirectHandler(web.Prefix, http.StatusSeeOther))
	mux.Handle("GET /web", http.RedirectHandler(web.Prefix, http.StatusSeeOther))
	return mux
}
