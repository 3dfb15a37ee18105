package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// runningWorker is `worker run` (the run function main calls) in this
// process, with its own environment and its log in a buffer.
type runningWorker struct {
	public, admin string // host:port; admin "" when ADMIN_LISTEN_ADDR is unset
	logs          *lockedBuffer
	cancel        context.CancelFunc // what SIGTERM does
	done          chan error         // run's result
}

// workerEnv is the environment of a worker against sim on dbURL, with a
// web page user kari (password "riktig hest batteri") and REPORT_TOKENS.
func workerEnv(t *testing.T, dbURL, simURL string, admin bool) map[string]string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("riktig hest batteri"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	public := freeAddr(t)
	env := map[string]string{
		"DATABASE_URL": dbURL, "FP_BASE_URL": simURL, "FP_TOKEN": "test-token", "LISTEN_ADDR": public,
		"CALLBACK_BASE_URL": "http://" + public, "CALLBACK_SECRET": "doors-test-callback-secret-0123456789",
		"SUCCESS_URL": "https://shop.example.no/ok", "FAILURE_URL": "https://shop.example.no/fail",
		"FP_RATE_LIMIT": "0", "LOG_FORMAT": "json", "REPORT_SCHEDULE": "off",
		"REPORT_TOKENS": "another-token-that-is-long-enough-0123456789, " + testReportToken,
		"WEB_USERS":     "kari:" + string(hash), "WEB_SESSION_KEY": "doors-test-session-key-0123456789abcdef",
		"WEB_UPLOAD_DIR": t.TempDir(),
	}
	if admin {
		env["ADMIN_LISTEN_ADDR"] = freeAddr(t)
	}
	return env
}

// startRun starts `worker run`; it is stopped (as by SIGTERM) when the test
// ends, and must then return nil.
func startRun(t *testing.T, env map[string]string) *runningWorker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &runningWorker{public: env["LISTEN_ADDR"], admin: env["ADMIN_LISTEN_ADDR"], logs: &lockedBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { w.done <- run(ctx, []string{"run"}, envOf(env), io.Discard, w.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("worker run returned %v", err)
			}
			w.done <- err // for a test that still reads it
		case <-time.After(90 * time.Second):
			t.Errorf("worker run did not stop")
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("worker log:\n%s", w.logs.String())
		}
	})
	return w
}

// answer is what a request got: status, headers, body.
type answer struct {
	code   int
	header http.Header
	body   string
}

// get sends a GET with optional headers (name, value, name, value, …).
func get(t *testing.T, u string, headers ...string) answer {
	t.Helper()
	return do(t, http.MethodGet, u, headers...)
}

func do(t *testing.T, method, u string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// waitFor polls until cond holds, for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after a minute", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitUp waits until base answers /healthz at all.
func waitUp(t *testing.T, base string) {
	t.Helper()
	waitFor(t, base+" up", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitReady waits until base's /readyz answers 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	waitFor(t, base+" ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// webLogin logs kari in through the web page's own form and returns the
// session cookie it set, as the browser would send it to the report.
func webLogin(t *testing.T, base string) *http.Cookie {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/web/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("login page without a csrf field: %d %s", resp.StatusCode, b)
	}
	resp, err = client.PostForm(base+"/web/login", url.Values{"user": {"kari"}, "password": {"riktig hest batteri"},
		"csrf": {string(m[1])}, "next": {"/web/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: HTTP %d", resp.StatusCode)
	}
	// The cookie a browser sends to the report, not only to the page: a
	// logged-in accountant opens /reports/reconciliation in the same browser.
	u, _ := url.Parse(base + "/reports/reconciliation")
	for _, c := range jar.Cookies(u) {
		if c.Name == "fpx_session" {
			return c
		}
	}
	t.Fatal("login set no session cookie that a browser would send to /reports/reconciliation")
	return nil
}

const reportPath = "/reports/reconciliation?from=1900-01-01&to=2999-12-31"

// checkHeaders fails unless an answer carries nosniff and no-store.
func checkHeaders(t *testing.T, what string, a answer) {
	t.Helper()
	if a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s (HTTP %d): X-Content-Type-Options %q, Cache-Control %q; want nosniff, no-store", what, a.code,
			a.header.Get("X-Content-Type-Options"), a.header.Get("Cache-Control"))
	}
}

// The report needs a bearer token of REPORT_TOKENS or a web login, in both
// layouts; with ADMIN_LISTEN_ADDR, FP's door serves nothing but the
// callback path and /healthz; every answer carries nosniff and no-store;
// no token or session shows in the log.
func TestReportNeedsCredentials(t *testing.T) {
	t.Parallel()
	for _, layout := range []string{"one door", "two doors"} {
		t.Run(layout, func(t *testing.T) {
			t.Parallel()
			sim := fpfake.New(fpfake.Config{Token: "test-token", Plan: fpfake.NoCallbacks})
			simURL, err := sim.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sim.Close() })
			w := startRun(t, workerEnv(t, testdb.URL(t), simURL, layout == "two doors"))
			public := "http://" + w.public
			inside := public // where the report, the page, /metrics and /readyz are
			if w.admin != "" {
				inside = "http://" + w.admin
			}
			waitReady(t, inside)

			cookie := webLogin(t, inside)
			const wrongToken = "wrong-token-but-long-enough-0123456789abcdef"
			cases := []struct {
				name    string
				headers []string
				want    int
			}{
				{"no credentials", nil, http.StatusUnauthorized},
				{"a wrong token", []string{"Authorization", "Bearer " + wrongToken}, http.StatusUnauthorized},
				{"a short token", []string{"Authorization", "Bearer short"}, http.StatusUnauthorized},
				{"a token's prefix", []string{"Authorization", "Bearer " + testReportToken[:32]}, http.StatusUnauthorized},
				{"the token as Basic", []string{"Authorization", "Basic " + testReportToken}, http.StatusUnauthorized},
				{"a forged session", []string{"Cookie", "fpx_session=" + strings.ToUpper(cookie.Value)}, http.StatusUnauthorized},
				{"the token", []string{"Authorization", "Bearer " + testReportToken}, http.StatusOK},
				{"the token, scheme in lower case", []string{"Authorization", "bearer " + testReportToken}, http.StatusOK},
				{"a web session", []string{"Cookie", "fpx_session=" + cookie.Value}, http.StatusOK},
			}
			for _, c := range cases {
				a := get(t, inside+reportPath, c.headers...)
				if a.code != c.want {
					t.Errorf("report with %s: HTTP %d, want %d: %s", c.name, a.code, c.want, a.body)
				}
				if c.want == http.StatusUnauthorized && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("report with %s: WWW-Authenticate %q, want Bearer", c.name, a.header.Get("WWW-Authenticate"))
				}
				if c.want == http.StatusOK {
					var rep struct{ Orders []any }
					if err := json.Unmarshal([]byte(a.body), &rep); err != nil {
						t.Errorf("report with %s: not the JSON report: %v %.200s", c.name, err, a.body)
					}
				}
				checkHeaders(t, "report with "+c.name, a)
			}

			// Every answer carries the headers, errors included.
			for _, p := range []struct {
				method, base, path string
				want               int
			}{
				{"GET", public, "/healthz", 200},
				{"GET", public, "/no-such-path", 404},
				{"POST", public, "/healthz", 405},
				{"GET", public, callbackurl.Path, 400}, // reaches the receiver: a callback without parameters
				{"GET", inside, "/readyz", 200},
				{"GET", inside, "/metrics", 200},
				{"GET", inside, "/web/", 303},
				{"GET", inside, "/web/static/no-such-file.css", 404},
				{"GET", inside, reportPath, 401},
			} {
				a := do(t, p.method, p.base+p.path)
				if a.code != p.want {
					t.Errorf("%s %s%s: HTTP %d, want %d", p.method, p.base, p.path, a.code, p.want)
				}
				checkHeaders(t, p.method+" "+p.path, a)
			}

			if w.admin != "" {
				// FP's door: the rest does not exist there, credentials or not.
				for _, p := range []string{reportPath, "/web/", "/web/login", "/metrics", "/readyz", "/"} {
					a := get(t, public+p, "Authorization", "Bearer "+testReportToken, "Cookie", "fpx_session="+cookie.Value)
					if a.code != http.StatusNotFound {
						t.Errorf("GET %s on LISTEN_ADDR with ADMIN_LISTEN_ADDR set: HTTP %d, want 404", p, a.code)
					}
					checkHeaders(t, "GET "+p+" on LISTEN_ADDR", a)
				}
			}

			logs := w.logs.String()
			for _, secret := range []string{testReportToken, testReportToken[:32], wrongToken, cookie.Value} {
				if strings.Contains(logs, secret) {
					t.Errorf("the log shows %q", secret)
				}
			}
			if !strings.Contains(logs, "report refused") || !strings.Contains(logs, "report requested") {
				t.Errorf("the log does not record report requests:\n%s", logs)
			}
		})
	}
}

// Started while PostgreSQL is down, `worker run` waits for it: /healthz
// 200 at once, /readyz 503 saying why (without the password), the rest 503
// with Retry-After; once the database is up it becomes ready and sends a
// queued order.
func TestStartsBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	dbURL := testdb.URL(t)
	outage, proxied := testdb.NewOutage(t, dbURL)
	outage.Down()
	// The local server trusts loopback, so a password in the URL is
	// ignored by it: here it only has to stay out of every answer and log.
	const password = "pw-Xq81-never-shown"
	u, _ := url.Parse(proxied)
	u.User = url.UserPassword(u.User.Username(), password)

	sim := fpfake.New(fpfake.Config{Token: "test-token", Plan: fpfake.NoCallbacks})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	w := startRun(t, workerEnv(t, u.String(), simURL, false))
	base := "http://" + w.public
	waitUp(t, base)

	a := get(t, base+"/readyz")
	var ready struct{ Status, Reason string }
	_ = json.Unmarshal([]byte(a.body), &ready)
	if a.code != http.StatusServiceUnavailable || ready.Status != "not ready" {
		t.Errorf("readyz while the database is down: %d %s", a.code, a.body)
	}
	waitFor(t, "told why", func() bool {
		a = get(t, base+"/readyz")
		_ = json.Unmarshal([]byte(a.body), &ready)
		return a.code == http.StatusServiceUnavailable && strings.HasPrefix(ready.Reason, "database unreachable: ")
	})
	for _, p := range []string{callbackurl.Path + "?ref=1", reportPath, "/web/", "/metrics"} {
		a := get(t, base+p, "Authorization", "Bearer "+testReportToken)
		if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") != httpapi.StartRetryAfter {
			t.Errorf("GET %s while starting: HTTP %d, Retry-After %q; want 503 and %s", p, a.code, a.header.Get("Retry-After"), httpapi.StartRetryAfter)
		}
		checkHeaders(t, "GET "+p+" while starting", a)
	}

	// An order queued meanwhile (the test reaches the database directly).
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	importOne(t, pool, "WAIT-1")
	if w.exited() {
		t.Fatalf("worker run exited while waiting for the database: %v", <-w.done)
	}

	if err := outage.Up(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, base)
	waitFor(t, "sent to FP", func() bool {
		var status string
		if err := pool.QueryRow(context.Background(), `SELECT status FROM orders WHERE order_ref = 'WAIT-1'`).Scan(&status); err != nil {
			t.Fatal(err)
		}
		return status == "submitted" || status == "sent"
	})
	if n := len(sim.Orders()); n != 1 {
		t.Errorf("FP holds %d orders, want 1", n)
	}
	if code := get(t, base+"/healthz").code; code != http.StatusOK {
		t.Errorf("healthz once running: %d", code)
	}
	logs := w.logs.String()
	if !strings.Contains(logs, "database not reachable yet") || !strings.Contains(logs, "database reachable") {
		t.Errorf("the log does not tell the wait:\n%s", logs)
	}
	if strings.Contains(logs, password) || strings.Contains(a.body, password) {
		t.Errorf("the password shows in the log or /readyz")
	}
}

// exited reports whether run has returned.
func (w *runningWorker) exited() bool {
	select {
	case err := <-w.done:
		w.done <- err
		return true
	default:
		return false
	}
}

// importOne queues one order through intake, as `enqueue` does.
func importOne(t *testing.T, pool *pgxpool.Pool, ref string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), ref+".csv")
	if err := os.WriteFile(path, []byte(daemontest.CorporateCSV(ref)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := intake.Read(path, intake.Options{Mapping: mapping.Options{DefaultKind: fpclient.KindInvoice, Now: time.Now(), Location: time.UTC}})
	if err != nil {
		t.Fatal(err)
	}
	inserter, err := river.NewClient[pgx.Tx](riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := intake.Commit(context.Background(), pool, inserter, []*intake.File{f}, intake.CommitOptions{})
	if err != nil || len(res.Batches) != 1 {
		t.Fatalf("import %s: %+v %v", ref, res, err)
	}
}

// Told to stop (SIGTERM) while it waits for the database, the worker stops
// at once and cleanly: run returns nil, exit code 0.
func TestStopWhileWaitingForTheDatabase(t *testing.T) {
	t.Parallel()
	outage, proxied := testdb.NewOutage(t, testdb.URL(t))
	outage.Down()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := workerEnv(t, proxied, "http://127.0.0.1:9", false)
	done := make(chan error, 1)
	logs := &lockedBuffer{}
	go func() { done <- run(ctx, []string{"run"}, envOf(env), io.Discard, logs) }()
	waitUp(t, "http://"+env["LISTEN_ADDR"])
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stopped while waiting: %v (exit %d), want nil (exit 0)", err, exitCode(err))
		}
	case <-time.After(time.Minute):
		t.Fatal("worker run did not stop while waiting for the database")
	}
	if _, err := net.DialTimeout("tcp", env["LISTEN_ADDR"], time.Second); err == nil {
		t.Error("LISTEN_ADDR still accepts connections after the stop")
	}
}

// What waiting cannot fix ends `worker run` at once with exit code 1: a
// role the server refuses (SQLSTATE class 28), a database that does not
// exist (3D000), a schema older than the binary.
func TestStartRefusesWhatWaitingCannotFix(t *testing.T) {
	t.Parallel()
	good := testdb.URL(t)
	pool, err := pgxpool.New(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(good)
	noRole := *u
	noRole.User = url.UserPassword("no_such_role_fpx", "pw-Zr71-never-shown")
	noDB := *u
	noDB.Path = "/no_such_database_fpx"
	for _, c := range []struct{ name, url, want string }{
		{"unknown role", noRole.String(), "28000"},
		{"unknown database", noDB.String(), "3D000"},
		{"outdated schema", good, "worker migrate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := workerEnv(t, c.url, "http://127.0.0.1:9", false)
			done := make(chan error, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel() // a run that waits after all is stopped with the test
			go func() { done <- run(ctx, []string{"run"}, envOf(env), io.Discard, io.Discard) }()
			select {
			case err := <-done:
				if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), c.want) {
					t.Errorf("run: %v (exit %d), want exit 1 naming %s", err, exitCode(err), c.want)
				}
				if err != nil && strings.Contains(err.Error(), "pw-Zr71-never-shown") {
					t.Errorf("the error shows the password: %v", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("worker run waits for what waiting cannot fix")
			}
		})
	}
}

// The real binary: started with PostgreSQL down it serves /healthz and
// waits; SIGTERM then ends it with exit code 0. Started with a role the
// server refuses, it exits 1 at once.
func TestWorkerProcessWaitsForTheDatabase(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	pe := newProcEnv(t, fpfake.Config{Plan: fpfake.NoCallbacks}, nil)
	outage, proxied := testdb.NewOutage(t, pe.dbURL)
	outage.Down()
	pe.extraEnv = map[string]string{"DATABASE_URL": proxied, "LISTEN_ADDR": addr}
	p := pe.spawn()
	waitUp(t, "http://"+addr)
	if a := get(t, "http://"+addr+"/readyz"); a.code != http.StatusServiceUnavailable {
		t.Errorf("readyz while waiting: %d %s", a.code, a.body)
	}
	if took, ok := p.stop(time.Minute); !ok || p.waitErr != nil {
		t.Errorf("SIGTERM while waiting: %s after %s, want exit code 0", p.describeExit(), took)
	}

	u, _ := url.Parse(pe.dbURL)
	u.User = url.User("no_such_role_fpx")
	pe.extraEnv = map[string]string{"DATABASE_URL": u.String(), "LISTEN_ADDR": freeAddr(t)}
	p = pe.spawn()
	select {
	case <-p.done:
		var exit *exec.ExitError
		if !errors.As(p.waitErr, &exit) || exit.ExitCode() != 1 || !strings.Contains(p.logs.String(), "28000") {
			t.Errorf("unknown role: %s, want exit code 1 naming SQLSTATE 28000:\n%s", p.describeExit(), p.logs.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("worker run waits for a role the server refuses")
	}
}
