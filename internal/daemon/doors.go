package daemon

// The worker's listeners ("doors"). FP must reach the callback path; nothing
// else needs to face the internet. With ADMIN_LISTEN_ADDR set, LISTEN_ADDR
// serves only the callback path and /healthz, and a second listener (meant
// for an inside address such as 127.0.0.1:8081) serves the rest: the web
// page, the report, /metrics and /readyz. Unset, everything stays on
// LISTEN_ADDR as before. Either way the report needs a bearer token
// (REPORT_TOKENS) or a login of the web page, and every answer carries
// nosniff and no-store.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/httpapi"
)

// loadDoors reads REPORT_TOKENS and ADMIN_LISTEN_ADDR; no problem line
// shows a token.
func (c *Config) loadDoors(get func(name, def string) string) []string {
	var problems []string
	tokens, tokProblems := httpapi.ParseReportTokens(get("REPORT_TOKENS", ""))
	for _, p := range tokProblems {
		problems = append(problems, "REPORT_TOKENS: "+p)
	}
	c.ReportTokens = tokens
	c.AdminListenAddr = get("ADMIN_LISTEN_ADDR", "")
	if c.AdminListenAddr != "" {
		if _, port, err := net.SplitHostPort(c.AdminListenAddr); err != nil || port == "" {
			problems = append(problems, "ADMIN_LISTEN_ADDR: must be host:port, e.g. 127.0.0.1:8081 (unset: everything on LISTEN_ADDR)")
		} else if c.AdminListenAddr == c.ListenAddr {
			problems = append(problems, "ADMIN_LISTEN_ADDR: must differ from LISTEN_ADDR (it is the inside door; LISTEN_ADDR faces FP)")
		}
	}
	return problems
}

// door is one listener and its server.
type door struct {
	name string // "public" (LISTEN_ADDR) or "admin" (ADMIN_LISTEN_ADDR)
	srv  *http.Server
	ln   net.Listener
}

// doors are the worker's listeners, behind one start gate.
type doors struct {
	gate *httpapi.Starting
	all  []door // the public one first
}

// openDoors builds the handlers and listens. ln, when not nil, is the
// public listener (tests pass one on a free port); the admin listener is
// opened on cfg.AdminListenAddr when that is set.
func openDoors(cfg *Config, pool *pgxpool.Pool, rc *river.Client[pgx.Tx], fp *pacedFP, logger *slog.Logger, api *httpapi.Server, ln net.Listener) (*doors, error) {
	api.ReportTokens = cfg.ReportTokens
	page, err := newWebPage(cfg, pool, rc, fp, logger)
	if err != nil {
		return nil, err
	}
	var full http.Handler = api.Handler()
	if page != nil {
		api.Sessions = page
		full = mountWebPage(page, full)
	}
	if api.ReportTokens.Len() == 0 && page == nil {
		logger.Warn("GET /reports/reconciliation refuses everyone: set REPORT_TOKENS (or WEB_USERS for the web page) to fetch it over HTTP")
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.ListenAddr); err != nil {
			return nil, fmt.Errorf("LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
		}
	}
	ds := &doors{gate: httpapi.NewStarting()}
	if cfg.AdminListenAddr == "" {
		ds.all = []door{{name: "public", ln: ln, srv: httpapi.NewHTTPServer(cfg.ListenAddr, httpapi.CommonHeaders(ds.gate.Wrap(full)))}}
		return ds, nil
	}
	adminLn, err := net.Listen("tcp", cfg.AdminListenAddr)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("ADMIN_LISTEN_ADDR %s: %w", cfg.AdminListenAddr, err)
	}
	ds.all = []door{
		{name: "public", ln: ln, srv: httpapi.NewHTTPServer(cfg.ListenAddr, httpapi.CommonHeaders(httpapi.FPDoorOnly(ds.gate.Wrap(full))))},
		{name: "admin", ln: adminLn, srv: httpapi.NewHTTPServer(cfg.AdminListenAddr, httpapi.CommonHeaders(ds.gate.Wrap(full)))},
	}
	return ds, nil
}

// serve runs every door; the channel gets the first one's failure (a door
// closed by shutdown sends nothing).
func (ds *doors) serve() <-chan error {
	failed := make(chan error, len(ds.all))
	for _, d := range ds.all {
		go func() {
			if err := d.srv.Serve(d.ln); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("%s listener: %w", d.name, err)
			}
		}()
	}
	return failed
}

// shutdown stops taking requests on every door and waits for those in
// flight, all doors at once.
func (ds *doors) shutdown(ctx context.Context) {
	done := make(chan struct{}, len(ds.all))
	for _, d := range ds.all {
		go func() { _ = d.srv.Shutdown(ctx); done <- struct{}{} }()
	}
	for range ds.all {
		<-done
	}
}

// close stops every door at once (nothing in flight worth waiting for).
func (ds *doors) close() {
	for _, d := range ds.all {
		_ = d.srv.Close()
	}
}

// addr is the address of the door named name ("" when there is none).
func (ds *doors) addr(name string) string {
	for _, d := range ds.all {
		if d.name == name {
			return d.ln.Addr().String()
		}
	}
	return ""
}

// logAttrs name the doors for a log line: listen (FP's door) and, when
// set, admin.
func (ds *doors) logAttrs() []any {
	attrs := []any{"listen", ds.addr("public")}
	if a := ds.addr("admin"); a != "" {
		attrs = append(attrs, "admin", a)
	}
	return attrs
}
