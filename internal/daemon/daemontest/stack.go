// Package daemontest starts the worker daemon for tests: a fresh database
// (internal/testdb), the FP simulator (internal/fpfake) behind a proxy that
// can spoil the bearer token, and the daemon itself with real River and real
// HTTP on loopback. Tests of any package can start one; the package's
// TestMain must run testdb.Run.
package daemontest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// Stack is a worker, its database and the FP simulator, all real, on loopback.
type Stack struct {
	Pool     *pgxpool.Pool
	Sim      *fpfake.Server
	Cfg      *daemon.Config
	D        *daemon.Daemon
	BadToken atomic.Bool // the proxy in front of the simulator spoils the token
}

// ChecksumKey is FP_CHECKSUM_KEY of the test stacks, and the simulator's:
// with it a callback is applied as it comes. Tests of the keyless mode ask
// for a stack without it (WithOptions).
const ChecksumKey = "test-checksum-key-0123456789"

// ReportToken is the REPORT_TOKENS of the stacks' workers.
const ReportToken = "test-report-token-0123456789abcdef-0123456789"

// ReportTokens is ReportToken as a config holds it.
func ReportTokens() *httpapi.ReportTokens {
	rt, _ := httpapi.ParseReportTokens(ReportToken)
	return rt
}

// DirectToSimulator, as FPBaseURL set by New's adjust, sends requests
// straight to the simulator, not through the token-spoiling proxy (a
// benchmark measures the worker, not the proxy).
const DirectToSimulator = "direct-to-simulator"

// Options change what New builds, for one test.
type Options struct {
	Keyless bool   // no FP_CHECKSUM_KEY: callbacks are confirmed with FP
	DBURL   string // the database (e.g. through testdb.NewOutage); "": a fresh one
}

var options sync.Map // *testing.T → Options

// WithOptions sets the options of the stacks t builds.
func WithOptions(t *testing.T, o Options) {
	options.Store(t, o)
	t.Cleanup(func() { options.Delete(t) })
}

func optionsOf(t *testing.T) Options {
	o, _ := options.Load(t)
	so, _ := o.(Options)
	return so
}

// Logger logs to stderr with -v, nowhere otherwise.
func Logger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Start builds a stack and runs its worker until the test ends.
func Start(t *testing.T, simCfg fpfake.Config) *Stack {
	t.Helper()
	return StartWith(t, simCfg, nil)
}

// StartWith lets a test adjust the worker's config before it starts.
func StartWith(t *testing.T, simCfg fpfake.Config, adjust func(*daemon.Config)) *Stack {
	t.Helper()
	s := New(t, simCfg, adjust)
	s.Run(t)
	return s
}

// New builds everything but does not start the worker (see Run).
// Requests to FP pass through a proxy that can spoil the bearer token.
func New(t *testing.T, simCfg fpfake.Config, adjust func(*daemon.Config)) *Stack {
	t.Helper()
	ctx := context.Background()
	// As many connections as `worker run` opens (2 × FP_CONCURRENCY + 25):
	// a test pool of pgxpool's default four would starve the worker.
	opts := optionsOf(t)
	dbURL := opts.DBURL
	if dbURL == "" {
		dbURL = testdb.URL(t)
	}
	pc, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	pc.MaxConns = 45
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // before testdb drops the database
	logger := Logger(t)
	simCfg.Token = "test-token"
	simCfg.ChecksumKey = ChecksumKey
	if opts.Keyless {
		simCfg.ChecksumKey = ""
	}
	sim := fpfake.New(simCfg)
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	target, _ := url.Parse(simURL)
	s := &Stack{Pool: pool, Sim: sim}
	proxy := httputil.NewSingleHostReverseProxy(target)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256 // as fpclient's: no dial per request
	proxy.Transport = tr
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.BadToken.Load() {
			r.Header.Set("Authorization", "Bearer wrong-token")
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Oslo")
	cfg := &daemon.Config{
		FPBaseURL: front.URL, FPToken: "test-token", ListenAddr: ln.Addr().String(),
		CallbackBaseURL: "http://" + ln.Addr().String(), CallbackSecret: "test-callback-secret-0123456789",
		SuccessURL: "https://shop.example.no/ok", FailureURL: "https://shop.example.no/fail",
		RateLimit: 0, Concurrency: 4, FPTimeout: 5 * time.Second, Location: loc, ChecksumKey: simCfg.ChecksumKey,
		ReportTokens: ReportTokens(),
	}
	if adjust != nil {
		adjust(cfg)
	}
	if cfg.FPBaseURL == DirectToSimulator {
		cfg.FPBaseURL = simURL
	}
	d, err := daemon.New(ctx, cfg, pool, logger, ln)
	if err != nil {
		t.Fatal(err)
	}
	s.Cfg, s.D = cfg, d
	return s
}

// DBURL is the connection string of the stack's database.
func (s *Stack) DBURL() string { return s.Pool.Config().ConnString() }

// Run starts the worker; it stops when the test ends.
func (s *Stack) Run(t *testing.T) {
	runCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.D.Serve(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	s.WaitRunning(t, served)
}

// WaitRunning waits until the stack's worker has reached its database and
// opened its doors (Serve answers 503 to all but /healthz and /readyz
// before). served is Serve's result.
func (s *Stack) WaitRunning(t *testing.T, served chan error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !s.D.Running() {
		select {
		case err := <-served:
			served <- err // for the cleanup
			t.Fatalf("serve returned before the worker was running: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("worker not running after a minute")
		}
	}
}

// ImportCSV imports content as a file named name, as `enqueue` would.
func (s *Stack) ImportCSV(t *testing.T, name, content string) []store.BatchOut {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := intake.Read(path, intake.Options{Mapping: mapping.Options{Now: time.Now(), Location: s.Cfg.Location}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := intake.Commit(context.Background(), s.Pool, s.D.River(), []*intake.File{f}, intake.CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) > 0 {
		t.Fatalf("%s was skipped as already imported", name)
	}
	return res.Batches
}

// WaitSettled waits (up to a minute) until the orders touched since since
// are sent (with callbacks: have had their first callback); see
// daemon.WaitSettled.
func (s *Stack) WaitSettled(t *testing.T, since time.Time, callbacks bool) {
	t.Helper()
	if err := daemon.WaitSettled(context.Background(), s.Pool, since, callbacks, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// ViewRow is one order as the reconciliation view shows it.
type ViewRow struct {
	Ref, Kind, Status, FPStatus, FPUUID, Exception string
	GrandTotal                                     string
	Ore                                            int64
	Attempts                                       int
}

// View reads the reconciliation view, by order_ref.
func (s *Stack) View(t *testing.T) map[string]ViewRow {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT order_ref, kind, status, coalesce(fp_status, ''),
		coalesce(fp_order_uuid, ''), coalesce(exception, ''), grand_total::text, grand_total_ore, attempts FROM reconciliation_orders`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]ViewRow{}
	for rows.Next() {
		var r ViewRow
		if err := rows.Scan(&r.Ref, &r.Kind, &r.Status, &r.FPStatus, &r.FPUUID, &r.Exception, &r.GrandTotal, &r.Ore, &r.Attempts); err != nil {
			t.Fatal(err)
		}
		out[r.Ref] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// GetReport GETs a report URL with the stacks' bearer token.
func GetReport(t *testing.T, u string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ReportToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// NewFaults is New for a stack whose retries wait milliseconds, not seconds,
// and whose simulator sends no callbacks.
func NewFaults(t *testing.T, simCfg fpfake.Config) *Stack {
	t.Helper()
	simCfg.Plan = fpfake.NoCallbacks
	return New(t, simCfg, func(c *daemon.Config) {
		c.RetryBackoff = func(int) time.Duration { return 10 * time.Millisecond }
		c.AuthPause = 200 * time.Millisecond
	})
}

// StartFaults is NewFaults, running.
func StartFaults(t *testing.T, simCfg fpfake.Config) *Stack {
	t.Helper()
	s := NewFaults(t, simCfg)
	s.Run(t)
	return s
}

// Count runs a count(*) query; a failing query fails the test.
func (s *Stack) Count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
