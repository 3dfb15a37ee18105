package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/erp"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/inbox"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/logging"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

// defaultDatabaseURL is the local server of a development machine.
const defaultDatabaseURL = "postgres://root@127.0.0.1:5432/fpexport?sslmode=disable"

// Config is every setting, from the environment (the fields documented as
// set by tests only are not read from it). Secrets (FPToken,
// CallbackSecret, ChecksumKey) are never printed: String() redacts them.
type Config struct {
	DatabaseURL     string
	FPBaseURL       string
	FPToken         string
	ListenAddr      string
	CallbackBaseURL string
	CallbackSecret  string
	ChecksumKey     string
	SuccessURL      string
	FailureURL      string
	RateLimit       float64 // requests per second to FP
	Concurrency     int     // submit workers
	FPTimeout       time.Duration
	Location        *time.Location
	// RepollAfter: orders FP has said nothing about for this long are asked
	// for again (REPOLL_AFTER); RepollEvery is how often (REPOLL_EVERY, 0:
	// never). See jobs.RepollWorker.
	RepollAfter time.Duration
	RepollEvery time.Duration
	// StaleAfter: an order submitted to FP with no callback for this long
	// is a report exception (STALE_AFTER).
	StaleAfter time.Duration
	// UntrustedRetention: untrusted callbacks older are deleted
	// (UNTRUSTED_CALLBACK_RETENTION; see untrusted.go).
	UntrustedRetention time.Duration
	// UntrustedLimits replaces httpapi.DefaultUntrustedLimits; only tests
	// set it.
	UntrustedLimits httpapi.UntrustedLimits
	// HoldGrace (HOLD_ANSWERS_GRACE): after a database outage, how long a
	// worker whose heartbeat lapsed is still taken to hold FP's answers to
	// its open attempts (internal/throttle hold.go).
	HoldGrace time.Duration
	// RetryBackoff replaces the submit backoff; only tests set it.
	RetryBackoff func(attempt int) time.Duration
	// AuthPause is how long submitting waits after a 401/403 (default 1 min;
	// tests shorten it).
	AuthPause time.Duration
	// ThrottleHeartbeat is how often the shared concurrency is re-divided
	// (default 1 s; tests shorten it).
	ThrottleHeartbeat time.Duration
	// AliveEvery is how often workers_alive is renewed (default 15 s;
	// tests change it). See callbackgaps.go.
	AliveEvery time.Duration

	// Scheduled imports (see imports.go). ImportSchedule is IMPORT_SCHEDULE
	// as read, with its time zone; ImportCron is nil when it is unset.
	ImportSchedule string
	ImportCron     river.PeriodicSchedule
	InboxDir       string           // INBOX_DIR
	InboxMinAge    time.Duration    // INBOX_MIN_AGE
	ImportKind     fpclient.Kind    // IMPORT_KIND: kind of rows that name none
	ImportProfile  *mapping.Profile // IMPORT_PROFILE: header mapping profile for scheduled imports
	AllowTestIDs   bool             // ALLOW_TEST_IDS: accept synthetic test personal numbers
	ERP            *erp.Config      // ERP_DATABASE_URL, ERP_QUERY(_FILE), ERP_WATERMARK_COLUMN; nil: none
	// ImportTimeout overrides jobs.ImportTimeout; only tests set it.
	ImportTimeout time.Duration

	// The nightly report (see reports.go). ReportSchedule is REPORT_SCHEDULE
	// as read, with its time zone; ReportCron is nil when it is off.
	ReportSchedule string
	ReportCron     river.PeriodicSchedule
	ReportDir      string // REPORT_DIR
	ReportFormat   string // REPORT_FORMAT: xlsx, csv or json
	ReportLang     string // REPORT_LANG: nb (default) or en

	// The accountants' web page (see web.go): WEB_USERS, WEB_SESSION_KEY, …
	Web WebConfig

	// The listeners (see doors.go): REPORT_TOKENS admits scripts to the
	// report (only digests kept); ADMIN_LISTEN_ADDR, when set, is the inside
	// door, and LISTEN_ADDR then serves FP's callbacks only.
	ReportTokens    *httpapi.ReportTokens
	AdminListenAddr string
}

// LoadConfig reads the environment. need says which settings the command
// requires; every problem is reported, one line each.
func LoadConfig(getenv func(string) string, need Need) (*Config, error) {
	var problems []string
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &Config{
		DatabaseURL:     get("DATABASE_URL", defaultDatabaseURL),
		FPBaseURL:       get("FP_BASE_URL", "https://demo-api.frontpayment.no"),
		FPToken:         get("FP_TOKEN", ""),
		ListenAddr:      get("LISTEN_ADDR", ":8080"),
		CallbackBaseURL: get("CALLBACK_BASE_URL", ""),
		CallbackSecret:  get("CALLBACK_SECRET", ""),
		ChecksumKey:     get("FP_CHECKSUM_KEY", ""),
		SuccessURL:      get("SUCCESS_URL", ""),
		FailureURL:      get("FAILURE_URL", ""),
	}
	problems = append(problems, c.checkBasics(get)...)
	tz := get("TZ_REPORTS", "Europe/Oslo")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		problems = append(problems, fmt.Sprintf("TZ_REPORTS: unknown time zone %q", tz))
		loc = time.UTC
	}
	c.Location = loc

	// 240 a minute is what FP's demo advertises (x-ratelimit-limit: 240).
	c.RateLimit, err = strconv.ParseFloat(get("FP_RATE_LIMIT", "4"), 64)
	if err != nil || c.RateLimit < 0 {
		problems = append(problems, "FP_RATE_LIMIT: must be a number of requests per second (0 = no limit)")
	}
	c.Concurrency, err = strconv.Atoi(get("FP_CONCURRENCY", "10"))
	if err != nil || c.Concurrency < 1 || c.Concurrency > 1000 {
		problems = append(problems, "FP_CONCURRENCY: must be a whole number from 1 to 1000")
	}
	c.FPTimeout, err = time.ParseDuration(get("FP_TIMEOUT", "30s"))
	if err != nil || c.FPTimeout <= 0 {
		problems = append(problems, "FP_TIMEOUT: must be a duration such as 30s")
	}
	c.HoldGrace, err = time.ParseDuration(get("HOLD_ANSWERS_GRACE", "45s"))
	if err != nil || c.HoldGrace < 5*time.Second || c.HoldGrace > time.Hour {
		problems = append(problems, "HOLD_ANSWERS_GRACE: must be a duration from 5s to 1h such as 45s")
	}

	c.RepollAfter, err = time.ParseDuration(get("REPOLL_AFTER", jobs.DefaultRepollAfter.String()))
	if err != nil || c.RepollAfter <= 0 {
		problems = append(problems, "REPOLL_AFTER: must be a duration such as 24h")
	}
	c.StaleAfter, err = time.ParseDuration(get("STALE_AFTER", store.DefaultStaleAfter.String()))
	if err != nil || c.StaleAfter <= 0 {
		problems = append(problems, "STALE_AFTER: must be a duration such as 72h")
	}
	if every := get("REPOLL_EVERY", jobs.DefaultRepollEvery.String()); every != "off" && every != "0" {
		c.RepollEvery, err = time.ParseDuration(every)
		if err != nil || c.RepollEvery < time.Minute {
			problems = append(problems, "REPOLL_EVERY: must be a duration of at least 1m such as 1h, or off")
		}
	}

	problems = append(problems, c.loadUntrusted(get)...)

	if need.Submit {
		if c.FPToken == "" {
			problems = append(problems, "FP_TOKEN: required (the bearer token Front Payment issued)")
		}
		if _, port, err := net.SplitHostPort(c.ListenAddr); err != nil || port == "" {
			problems = append(problems, "LISTEN_ADDR: must be host:port or :port, e.g. :8080")
		}
		if !absoluteURL(c.FPBaseURL) {
			problems = append(problems, "FP_BASE_URL: must be an absolute http(s) URL")
		}
		if c.CallbackBaseURL == "" {
			problems = append(problems, "CALLBACK_BASE_URL: required (public base URL FP calls back, e.g. https://fpexport.example.no)")
		} else if !absoluteURL(c.CallbackBaseURL) {
			problems = append(problems, "CALLBACK_BASE_URL: must be an absolute http(s) URL")
		}
		if c.CallbackSecret == "" {
			problems = append(problems, "CALLBACK_SECRET: required (a long random string; signs each order's callbackUrl)")
		} else if len(c.CallbackSecret) < 16 {
			problems = append(problems, "CALLBACK_SECRET: must be at least 16 characters")
		}
		// success/failure redirect URLs are required by checkout, invoice and
		// hosted checkout; without them those orders would be refused by FP.
		for name, v := range map[string]string{"SUCCESS_URL": c.SuccessURL, "FAILURE_URL": c.FailureURL} {
			if v == "" {
				problems = append(problems, name+": required (where FP redirects the payer; checkout, invoice and hosted-checkout need it)")
			} else if !absoluteURL(v) {
				problems = append(problems, name+": must be an absolute http(s) URL")
			}
		}
	}
	if need.Imports {
		problems = append(problems, c.loadImports(get, getenv)...)
	}
	if need.Reports {
		problems = append(problems, c.loadReports(get)...)
	}
	if need.Web {
		problems = append(problems, c.loadWeb(get)...)
		problems = append(problems, c.loadDoors(get)...)
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return c, errors.New(strings.Join(problems, "\n"))
	}
	return c, nil
}

// Need says which settings a command requires (LoadConfig checks those).
type Need struct{ Submit, Imports, Reports, Web bool }

// NeedAll is what `worker run` requires.
var NeedAll = Need{Submit: true, Imports: true, Reports: true, Web: true}

// checkBasics checks the settings every command reads, without connecting
// anywhere: a malformed DATABASE_URL is named at start, not when the first
// connection fails.
func (c *Config) checkBasics(get func(name, def string) string) []string {
	var problems []string
	if f := get("LOG_FORMAT", ""); f != "" && !slices.Contains(logging.Formats, f) {
		problems = append(problems, "LOG_FORMAT: must be text or json (unset: text on a terminal, JSON otherwise)")
	}
	if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
		// pgx's message may quote the URL, password included: not shown.
		problems = append(problems, "DATABASE_URL: not a PostgreSQL connection string (postgres://user@host:5432/dbname?sslmode=…)")
	}
	return problems
}

// loadImports reads the settings of the scheduled imports. Without
// IMPORT_SCHEDULE nothing is scheduled; the inbox and ERP settings are still
// checked, so that a mistake shows at start and not at 02:00.
func (c *Config) loadImports(get func(name, def string) string, getenv func(string) string) []string {
	var problems []string
	c.InboxDir = get("INBOX_DIR", "")
	if c.InboxDir != "" {
		if fi, err := os.Stat(c.InboxDir); err != nil {
			problems = append(problems, "INBOX_DIR: "+err.Error())
		} else if !fi.IsDir() {
			problems = append(problems, "INBOX_DIR: "+c.InboxDir+" is not a folder")
		}
	}
	var err error
	c.InboxMinAge, err = time.ParseDuration(get("INBOX_MIN_AGE", inbox.DefaultMinAge.String()))
	if err != nil || c.InboxMinAge < 0 {
		problems = append(problems, "INBOX_MIN_AGE: must be a duration such as 10s")
	}
	if p := get("IMPORT_PROFILE", ""); p != "" {
		prof, err := intake.LoadProfile(p)
		if err != nil {
			problems = append(problems, "IMPORT_PROFILE: "+err.Error())
		}
		c.ImportProfile = prof
	}
	switch v := strings.ToLower(get("ALLOW_TEST_IDS", "false")); v {
	case "true", "1", "yes":
		c.AllowTestIDs = true
	case "false", "0", "no":
	default:
		problems = append(problems, "ALLOW_TEST_IDS: must be true or false")
	}
	if k := get("IMPORT_KIND", ""); k != "" {
		kind, ok := fpclient.ParseKind(k)
		if !ok {
			problems = append(problems, "IMPORT_KIND: must be invoice, payment-link, hosted-checkout or checkout")
		}
		c.ImportKind = kind
	}
	erpCfg, configured, erpProblems := erp.FromEnv(getenv)
	problems = append(problems, erpProblems...)
	if configured {
		c.ERP = &erpCfg
	}
	if spec := get("IMPORT_SCHEDULE", ""); spec != "" {
		sched, read, err := jobs.ParseSchedule(spec)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("IMPORT_SCHEDULE: %q is not a cron schedule (%v); five fields, minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"", spec, err))
		case c.InboxDir == "" && c.ERP == nil:
			problems = append(problems, "IMPORT_SCHEDULE: nothing to import; set INBOX_DIR, or ERP_DATABASE_URL and ERP_QUERY, or both")
		}
		c.ImportSchedule, c.ImportCron = read, sched
	}
	return problems
}

// loadReports reads the settings of the nightly report. A schedule without
// a zone is read in TZ_REPORTS (Europe/Oslo by default), like the day the
// report covers.
func (c *Config) loadReports(get func(name, def string) string) []string {
	var problems []string
	if spec := get("REPORT_SCHEDULE", jobs.DefaultReportSchedule); spec != "off" {
		if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
			spec = "CRON_TZ=" + c.Location.String() + " " + spec
		}
		sched, read, err := jobs.ParseSchedule(spec)
		if err != nil {
			problems = append(problems, fmt.Sprintf("REPORT_SCHEDULE: %q is not a cron schedule (%v); five fields, minute hour day-of-month month day-of-week, e.g. \"0 6 * * *\", or off", get("REPORT_SCHEDULE", ""), err))
		}
		c.ReportSchedule, c.ReportCron = read, sched
	}
	c.ReportDir = get("REPORT_DIR", jobs.DefaultReportDir)
	if fi, err := os.Stat(c.ReportDir); err == nil && !fi.IsDir() {
		problems = append(problems, "REPORT_DIR: "+c.ReportDir+" is not a folder")
	}
	c.ReportLang = strings.ToLower(get("REPORT_LANG", "nb"))
	if !slices.Contains(report.Langs, c.ReportLang) {
		problems = append(problems, "REPORT_LANG: must be nb or en")
	}
	c.ReportFormat = strings.ToLower(get("REPORT_FORMAT", jobs.DefaultReportFormat))
	if !slices.Contains(report.Formats, c.ReportFormat) {
		problems = append(problems, "REPORT_FORMAT: must be xlsx, csv or json")
	}
	return problems
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
