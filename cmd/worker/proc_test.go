package main

// Helpers for the process-level fault tests (crash_test.go): the real
// `worker run` binary as a subprocess, on its own fresh database, against an
// FP simulator that runs in the test process.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// The worker binary is built once and shared by the tests that run at the
// same time; the last of them to finish removes it (a later test builds it
// again: an extra link, never a missing file).
var workerBin struct {
	mu   sync.Mutex
	dir  string
	path string
	refs int
}

// workerBinary builds `worker` (this package, without -race) and returns its path.
func workerBinary(t *testing.T) string {
	t.Helper()
	workerBin.mu.Lock()
	defer workerBin.mu.Unlock()
	if workerBin.path == "" {
		dir, err := os.MkdirTemp("", "fpexport-worker-bin-")
		if err != nil {
			t.Fatal(err)
		}
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		bin := filepath.Join(dir, "worker")
		// The test runs in the package's directory: "." is cmd/worker.
		cmd := exec.Command(goTool, "build", "-o", bin, ".")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			t.Fatalf("building the worker: %v\n%s", err, out)
		}
		t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
		workerBin.dir, workerBin.path = dir, bin
	}
	workerBin.refs++
	t.Cleanup(func() {
		workerBin.mu.Lock()
		defer workerBin.mu.Unlock()
		if workerBin.refs--; workerBin.refs == 0 {
			os.RemoveAll(workerBin.dir)
			workerBin.dir, workerBin.path = "", ""
		}
	})
	return workerBin.path
}

// testAppName is the application_name of the test's own database connections.
const testAppName = "fpexport-crash-test"

// procEnv is a worker process's environment and what the test needs around it.
type procEnv struct {
	t        *testing.T
	bin      string
	dbURL    string
	pool     *pgxpool.Pool // the test's own connections to the worker's database
	sim      *fpfake.Server
	simURL   string
	inserter *river.Client[pgx.Tx] // insert-only River client for intake
	loc      *time.Location
	extraEnv map[string]string
	current  atomic.Pointer[workerProc] // target of the callback proxy
	callback string                     // CALLBACK_BASE_URL: the proxy

	mu    sync.Mutex
	procs []*workerProc // every run, for the logs
}

// newProcEnv makes a fresh database, a simulator on loopback and a callback
// proxy that forwards FP's callbacks to whichever worker process is running
// (each run listens on a port of its own, LISTEN_ADDR=127.0.0.1:0).
func newProcEnv(t *testing.T, simCfg fpfake.Config, env map[string]string) *procEnv {
	t.Helper()
	pe := &procEnv{t: t, bin: workerBinary(t), dbURL: testdb.URL(t), extraEnv: env}
	pc, err := pgxpool.ParseConfig(pe.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	// The test's own connections are told apart from the worker's by name.
	pc.ConnConfig.RuntimeParams["application_name"] = testAppName
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // before the database is dropped (cleanups run last-in first-out)
	pe.pool = pool
	pe.inserter, err = river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pe.loc, _ = time.LoadLocation("Europe/Oslo")

	simCfg.Token = "test-token"
	simCfg.ChecksumKey = testChecksumKey
	if simCfg.Faults.LimitPerMinute == 0 {
		// The simulator announces FP's demo budget (240 a minute) in its
		// x-ratelimit headers and the worker's throttle keeps to it; these
		// tests want FP_RATE_LIMIT to be the only pace.
		simCfg.Faults.LimitPerMinute = 1_000_000
	}
	pe.sim = fpfake.New(simCfg)
	if pe.simURL, err = pe.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pe.sim.Close() })

	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			if p := pe.current.Load(); p != nil {
				if addr := p.listenAddr(); addr != "" {
					r.SetURL(&url.URL{Scheme: "http", Host: addr})
				}
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "worker down: "+err.Error(), http.StatusBadGateway)
		},
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := pe.current.Load(); p == nil || p.listenAddr() == "" || p.exited() {
			http.Error(w, "no worker running", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	pe.callback = front.URL

	t.Cleanup(func() {
		for _, p := range pe.allProcs() {
			p.kill()
		}
		if t.Failed() || os.Getenv("CRASH_KEEP_LOGS") != "" {
			pe.dumpLogs()
		}
	})
	return pe
}

func (pe *procEnv) allProcs() []*workerProc {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	return append([]*workerProc(nil), pe.procs...)
}

// environ is the worker's whole environment: nothing inherited but PATH,
// HOME and TMPDIR, so a developer's own settings do not leak in.
func (pe *procEnv) environ() []string {
	env := map[string]string{
		"DATABASE_URL":      pe.dbURL,
		"FP_BASE_URL":       pe.simURL,
		"FP_TOKEN":          "test-token",
		"LISTEN_ADDR":       "127.0.0.1:0",
		"CALLBACK_BASE_URL": pe.callback,
		"CALLBACK_SECRET":   "crash-test-callback-secret-0123456789",
		"FP_CHECKSUM_KEY":   testChecksumKey,
		"SUCCESS_URL":       "https://shop.example.no/ok",
		"FAILURE_URL":       "https://shop.example.no/fail",
		"FP_RATE_LIMIT":     "200",
		"LOG_FORMAT":        "json",
		"REPORT_SCHEDULE":   "off", // no nightly report written into the package folder
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	for k, v := range pe.extraEnv {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// start runs `worker run` and waits until it says it is running (its HTTP
// listener is up and River has started).
func (pe *procEnv) start() *workerProc {
	pe.t.Helper()
	p := pe.spawn()
	deadline := time.After(time.Minute)
	for p.listenAddr() == "" {
		select {
		case <-p.done:
			pe.t.Fatalf("worker run #%d exited before it was running: %v\n%s", p.n, p.waitErr, p.logs.String())
		case <-deadline:
			pe.t.Fatalf("worker run #%d not running after a minute:\n%s", p.n, p.logs.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return p
}

// spawn starts `worker run` without waiting for it.
func (pe *procEnv) spawn() *workerProc {
	pe.t.Helper()
	pe.mu.Lock()
	n := len(pe.procs) + 1
	pe.mu.Unlock()
	p := &workerProc{n: n, done: make(chan struct{})}
	p.logs.onLine = p.scanLine
	cmd := exec.Command(pe.bin, "run")
	cmd.Env = pe.environ()
	cmd.Stdout = &p.logs
	cmd.Stderr = &p.logs
	if err := cmd.Start(); err != nil {
		pe.t.Fatalf("starting worker: %v", err)
	}
	p.cmd, p.started = cmd, time.Now()
	go func() {
		p.waitErr = cmd.Wait()
		p.exitedAt = time.Now()
		close(p.done)
	}()
	pe.mu.Lock()
	pe.procs = append(pe.procs, p)
	pe.mu.Unlock()
	pe.current.Store(p)
	return p
}

// dumpLogs writes every run's log to a file that outlives the test and shows
// the end of each.
func (pe *procEnv) dumpLogs() {
	dir, err := os.MkdirTemp("", "fpexport-"+strings.ReplaceAll(pe.t.Name(), "/", "_")+"-")
	for _, p := range pe.allProcs() {
		text := p.logs.String()
		if err == nil {
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("worker-run-%02d.log", p.n)), []byte(text), 0o644)
		}
		lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
		pe.t.Logf("worker run #%d (%s; %d log lines), last lines:\n%s", p.n, p.describeExit(), len(lines),
			strings.Join(lines[max(0, len(lines)-25):], "\n"))
	}
	if err == nil {
		pe.t.Logf("full worker logs kept in %s", dir)
	}
}

// importOrders imports a CSV through intake, as `enqueue` does, into the
// worker's database (River jobs included).
func (pe *procEnv) importOrders(name, content string) {
	pe.t.Helper()
	path := filepath.Join(pe.t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		pe.t.Fatal(err)
	}
	f, err := intake.Read(path, intake.Options{Mapping: mapping.Options{Now: time.Now(), Location: pe.loc}})
	if err != nil {
		pe.t.Fatal(err)
	}
	if n := f.RejectedRowCount(); n > 0 {
		pe.t.Fatalf("%s: %d rows rejected: %+v", name, n, f.Stats.Errors[:min(5, len(f.Stats.Errors))])
	}
	res, err := intake.Commit(context.Background(), pe.pool, pe.inserter, []*intake.File{f}, intake.CommitOptions{})
	if err != nil {
		pe.t.Fatal(err)
	}
	if len(res.Skipped) > 0 || len(res.Batches) != 1 {
		pe.t.Fatalf("%s: import %+v", name, res)
	}
}

// workerProc is one run of `worker run`.
type workerProc struct {
	n        int
	cmd      *exec.Cmd
	started  time.Time
	logs     logBuffer
	addr     atomic.Value // string: LISTEN address from "worker running"
	done     chan struct{}
	waitErr  error     // after done
	exitedAt time.Time // after done
}

func (p *workerProc) listenAddr() string {
	s, _ := p.addr.Load().(string)
	return s
}

func (p *workerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// scanLine watches the JSON log for the line that tells the listen address.
func (p *workerProc) scanLine(line []byte) {
	if !bytes.Contains(line, []byte(`"worker running"`)) {
		return
	}
	var rec struct {
		Msg    string `json:"msg"`
		Listen string `json:"listen"`
	}
	if json.Unmarshal(line, &rec) == nil && rec.Msg == "worker running" && rec.Listen != "" {
		p.addr.Store(rec.Listen)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *workerProc) kill() {
	if p.cmd == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to timeout for the process to exit; it
// returns how long that took and whether it exited.
func (p *workerProc) stop(timeout time.Duration) (time.Duration, bool) {
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, false
	}
	select {
	case <-p.done:
		return p.exitedAt.Sub(start), true
	case <-time.After(timeout):
		return time.Since(start), false
	}
}

func (p *workerProc) describeExit() string {
	if !p.exited() {
		return "still running"
	}
	if p.waitErr == nil {
		return "exit code 0"
	}
	return p.waitErr.Error()
}

// logBuffer collects a process's output and calls onLine for every line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	onLine  func([]byte)
}

func (b *logBuffer) Write(data []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(data)
	b.partial = append(b.partial, data...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		if b.onLine != nil {
			b.onLine(b.partial[:i])
		}
		b.partial = b.partial[i+1:]
	}
	return len(data), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count counts the log lines holding s.
func (b *logBuffer) count(s string) int {
	return strings.Count(b.String(), s)
}
