// Package web is the accountants' web page that `worker run` serves under
// /web/: upload a CSV or XLSX, see the dry run (counts, totals, rejected
// rows with their reasons), confirm to enqueue, follow each batch's orders
// live, download error files and reconciliation reports.
//
// It is server-rendered HTML (html/template, embedded), usable without
// JavaScript: live counts come from a meta refresh. Every page needs a login
// (WEB_USERS, bcrypt); every form carries a CSRF token checked on POST.
// Imports and reports go through the same code as `enqueue` and
// `worker report` (intake, store.LoadReport, report).
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/operator"
)

// Prefix is where the page is mounted.
const Prefix = "/web/"

// DefaultMaxUpload is WEB_MAX_UPLOAD's default: 32 MiB.
const DefaultMaxUpload = 32 << 20

// refreshSeconds is how often the batch pages reload themselves while
// orders are on their way (a meta refresh: no JavaScript).
const refreshSeconds = 5

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the page needs from the worker.
type Config struct {
	Pool  *pgxpool.Pool
	River *river.Client[pgx.Tx] // inserts the submit jobs of a confirmed import
	// Users maps a user name to its bcrypt hash (WEB_USERS, see ParseUsers).
	Users map[string][]byte
	// Roles maps a user name to its role (WEB_USERS, see ParseRoles); a
	// user not in it is an accountant.
	Roles map[string]Role
	// SessionKey signs the session cookies (WEB_SESSION_KEY); empty: a random
	// key per process, so logins end when the worker restarts.
	SessionKey []byte
	// SecureCookie marks cookies Secure even on plain HTTP requests (behind
	// a TLS-terminating proxy that does not send X-Forwarded-Proto).
	SecureCookie bool
	MaxUpload    int64  // bytes; 0: DefaultMaxUpload
	UploadDir    string // where uploaded files are kept under their SHA-256; "": a folder in os.TempDir()
	ProfileDir   string // header mapping profiles (*.json) offered on the upload page; "": none
	AllowTestIDs bool   // ALLOW_TEST_IDS: accept synthetic test personal numbers
	Location     *time.Location
	StaleAfter   time.Duration // STALE_AFTER for the report
	Logger       *slog.Logger
	Now          func() time.Time // tests; nil: time.Now
	// TrustedProxies (WEB_TRUSTED_PROXIES): peers whose X-Forwarded-For
	// names the client a failed login is counted against (see throttle.go).
	TrustedProxies []netip.Prefix
	// FP is FP's client for the cancel and resend actions; nil: they are
	// refused with a reason (withdrawing needs no FP).
	FP operator.FP
	// BcryptWait is how long a login waits for this process's one password
	// check; 0: 5 s. Tests shorten it.
	BcryptWait time.Duration
}

// Handler serves the page. Make one with New.
type Handler struct {
	cfg          Config
	users        map[string][]byte
	sessionKey   []byte
	secureCookie bool
	pages        map[string]*template.Template
	mux          *http.ServeMux
	logger       *slog.Logger
	// confirmMu lets one confirm import at a time in this process, so a
	// double click on Confirm cannot race two imports of the same file.
	confirmMu sync.Mutex
	// bcryptSlot lets one password check run at a time in this process
	// (throttle.go); bcryptWait is how long a login waits for it.
	bcryptSlot chan struct{}
	bcryptWait time.Duration
	// passwordsSynced: the sessions of changed passwords have been ended
	// (auth.go, revokeChangedPasswords); syncMu lets one request do it.
	passwordsSynced atomic.Bool
	syncMu          sync.Mutex
	riverUI         http.Handler   // River's own UI, for admins (riverui.go)
	desk            *operator.Desk // the attention, search and order pages (orders.go)
}

// New checks the configuration and builds the handler. It refuses to make
// a page without users: the page is never served without a login.
func New(cfg Config) (*Handler, error) {
	if len(cfg.Users) == 0 {
		return nil, errors.New("web: no users (WEB_USERS)")
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.UploadDir == "" {
		cfg.UploadDir = filepath.Join(os.TempDir(), "fpexport-uploads")
	}
	if cfg.Location == nil {
		cfg.Location, _ = time.LoadLocation("Europe/Oslo")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key := cfg.SessionKey
	if len(key) == 0 {
		key = []byte(randomToken() + randomToken())
	}
	if err := os.MkdirAll(cfg.UploadDir, 0o700); err != nil {
		return nil, fmt.Errorf("web: upload folder: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, users: cfg.Users, sessionKey: key, secureCookie: cfg.SecureCookie, pages: pages, logger: cfg.Logger}
	h.bcryptSlot, h.bcryptWait = make(chan struct{}, 1), cfg.BcryptWait
	if h.bcryptWait <= 0 {
		h.bcryptWait = defaultBcryptWait
	}
	if h.desk, err = operator.New(cfg.Pool); err != nil {
		return nil, err
	}
	if cfg.FP != nil {
		h.desk.WithFP(cfg.FP)
	}
	h.routes()
	if err := h.buildRiverUI(); err != nil {
		return nil, err
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.revokeChangedPasswords(ctx)
	}()
	return h, nil
}

func (h *Handler) now() time.Time { return h.cfg.Now() }

func (h *Handler) routes() {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /web/static/", http.StripPrefix("/web/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /web/login", h.loginPage)
	mux.HandleFunc("POST /web/login", h.login)
	mux.HandleFunc("POST /web/logout", h.authed(h.logout))
	mux.HandleFunc("GET /web/{$}", h.authed(h.batchesPage))
	mux.HandleFunc("GET /web/batches/{id}", h.authed(h.batchPage))
	mux.HandleFunc("GET /web/batches/{id}/errors", h.authed(h.batchErrorFile))
	mux.HandleFunc("GET /web/upload", h.authed(h.uploadPage))
	mux.HandleFunc("POST /web/upload", h.authedUpload(h.upload))
	mux.HandleFunc("GET /web/uploads/{sha}/errors", h.authed(h.uploadErrorFile))
	mux.HandleFunc("POST /web/confirm", h.authed(h.acting(h.confirm)))
	mux.HandleFunc("GET /web/attention", h.authed(h.attentionPage))
	mux.HandleFunc("GET /web/orders", h.authed(h.ordersPage))
	mux.HandleFunc("GET /web/orders/{id}", h.authed(h.orderPage))
	mux.HandleFunc("POST /web/actions", h.authed(h.acting(h.action)))
	mux.HandleFunc("GET /web/reports", h.authed(h.reportsPage))
	mux.HandleFunc("GET /web/reports/reconciliation", h.authed(h.reportDownload))
	h.mux = mux
}

// ServeHTTP adds the headers every answer gets and routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Nothing but our own files; no framing (clickjacking); forms post
	// only here.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/web/static/") {
		hd.Set("Cache-Control", "no-store")
	}
	h.mux.ServeHTTP(w, r)
}

// request is what a handler behind a login gets.
type request struct {
	session session
	lang    string
}

// authed lets only a logged-in user through and checks the CSRF token of
// every POST. Without a session: to the login page.
func (h *Handler) authed(next func(http.ResponseWriter, *http.Request, request)) http.HandlerFunc {
	return h.loggedIn(true, next)
}

// authedUpload is authed for the upload, whose multipart body is streamed
// to disk: the handler checks the token itself once it has read the form
// (it cannot be read before the size limit is in place).
func (h *Handler) authedUpload(next func(http.ResponseWriter, *http.Request, request)) http.HandlerFunc {
	return h.loggedIn(false, next)
}

func (h *Handler) loggedIn(checkPost bool, next func(http.ResponseWriter, *http.Request, request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := h.language(w, r)
		s, ok := h.currentSession(r)
		if !ok {
			target := Prefix
			if r.Method == http.MethodGet {
				target = r.URL.RequestURI()
			}
			http.Redirect(w, r, "/web/login?next="+url.QueryEscape(target), http.StatusSeeOther)
			return
		}
		req := request{session: s, lang: lang}
		if checkPost && r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := checkCSRF(r.PostFormValue("csrf"), h.csrfToken(s)); err != nil {
				h.fail(w, req, http.StatusForbidden, label(lang, "error.csrf"))
				return
			}
		}
		next(w, r, req)
	}
}

// page is what every template gets.
type page struct {
	Lang    string
	User    string
	CSRF    string
	Title   string
	Refresh int // seconds; 0: no meta refresh
	// RefreshURL is where the refresh goes; "": this page as it is.
	RefreshURL string
	Self       string // this page's path with its query, for the language links
	Data       any
	loc        *time.Location
	// CanAct: the user may change things (not a viewer); Attention is the
	// open items' count for the navigation (-1: unknown).
	CanAct    bool
	Attention int64
}

// L is a label in the page's language (templates: {{$.L "key"}}).
func (p page) L(key string) string { return label(p.Lang, key) }

// Lf is a label with fmt verbs filled in.
func (p page) Lf(key string, args ...any) string { return fmt.Sprintf(label(p.Lang, key), args...) }

// Status is a status's label, or the status itself when it has none (FP's
// statuses we do not know are shown as FP wrote them).
func (p page) Status(s string) string {
	if l, ok := labels[p.Lang]["status."+s]; ok {
		return l
	}
	return s
}

// FPSays reports whether FP's own word for an order's status adds to ours
// (INVOICED beside sent does; PAID beside paid does not).
func (p page) FPSays(fpStatus, status string) bool {
	return fpStatus != "" && !strings.EqualFold(fpStatus, status)
}

// Kind is a kind's label.
func (p page) Kind(k string) string {
	if l, ok := labels[p.Lang]["kind."+k]; ok {
		return l
	}
	return k
}

// Time shows a moment in TZ_REPORTS (Europe/Oslo), to the minute.
func (p page) Time(t time.Time) string {
	if p.loc != nil {
		t = t.In(p.loc)
	}
	return t.Format("2006-01-02 15:04")
}

// NOK formats øre as kroner: "1 234,50" in Norwegian, "1,234.50" in English.
func (p page) NOK(ore int64) string { return money.Amount(ore).Display(p.Lang) }

// LangURL is this page in another language.
func (p page) LangURL(lang string) string {
	u, err := url.Parse(p.Self)
	if err != nil {
		return Prefix + "?lang=" + lang
	}
	q := u.Query()
	q.Set("lang", lang)
	u.RawQuery = q.Encode()
	return u.String()
}

// parsePages parses each page with the layout around it.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"short": func(s string) string { // a long id, shortened for a table cell
			if len(s) > 13 {
				return s[:8] + "…"
			}
			return s
		},
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := filepath.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages, nil
}

// render writes a page. It renders into a buffer first, so a template
// error becomes a clean 500 and not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Self = r.URL.RequestURI()
	p.Attention = -1
	if p.User != "" {
		p.Attention = h.attentionCount(r)
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.logger.Error("web: rendering page failed", "page", name, "error", err)
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// pageFor starts a page for a logged-in user.
func (h *Handler) pageFor(req request, titleKey string, data any) page {
	return page{Lang: req.lang, User: req.session.User, CSRF: h.csrfToken(req.session), Title: label(req.lang, titleKey), Data: data,
		loc: h.cfg.Location, CanAct: h.role(req.session.User) != RoleViewer}
}

// fail shows an error page with a message for the accountant.
func (h *Handler) fail(w http.ResponseWriter, req request, status int, msg string) {
	p := page{Lang: req.lang, User: req.session.User, Title: label(req.lang, "error.title"), Data: msg, Attention: -1}
	if req.session.User != "" {
		p.CSRF = h.csrfToken(req.session)
	}
	var buf bytes.Buffer
	if err := h.pages["error"].ExecuteTemplate(&buf, "layout", p); err != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// internalError logs err and shows a page that says only that something
// failed: errors can name paths or SQL, which are not for the page.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, req request, what string, err error) {
	h.logger.ErrorContext(r.Context(), "web: "+what, "error", err, "user", req.session.User)
	h.fail(w, req, http.StatusInternalServerError, label(req.lang, "error.internal"))
}
