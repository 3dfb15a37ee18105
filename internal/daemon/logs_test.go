package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/logging"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// newLoggedStack is newStack with the worker logging JSON to w, straight
// to the simulator (no proxy), and callbacks a few milliseconds after each
// order. secrets are the FP token and the callback secret it uses.
func newLoggedStack(t *testing.T, w *daemontest.LockedBuffer, token, secret string) *stack {
	t.Helper()
	ctx := context.Background()
	pc, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	pc.MaxConns = 45
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sim := fpfake.New(fpfake.Config{Token: token, CallbackDelay: 20 * time.Millisecond, ChecksumKey: daemontest.ChecksumKey,
		Plan: func(fpfake.Order) []string { return []string{"SENT", "PAID"} }})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Oslo")
	cfg := &daemon.Config{
		FPBaseURL: simURL, FPToken: token, ListenAddr: ln.Addr().String(),
		CallbackBaseURL: "http://" + ln.Addr().String(), CallbackSecret: secret,
		SuccessURL: "https://shop.example.no/ok", FailureURL: "https://shop.example.no/fail",
		RateLimit: 0, Concurrency: 4, FPTimeout: 5 * time.Second, Location: loc, ChecksumKey: daemontest.ChecksumKey,
	}
	d, err := daemon.New(ctx, cfg, pool, logging.New("json", w), ln)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{&daemontest.Stack{Pool: pool, Sim: sim, Cfg: cfg, D: d}}
}

type logLine map[string]any

func (l logLine) str(k string) string {
	if v, ok := l[k]; ok && v != nil {
		b, _ := json.Marshal(v)
		return strings.Trim(string(b), `"`)
	}
	return ""
}

// A scheduled inbox import, the submissions and FP's callbacks, logged as
// JSON: one line for the batch, one per submit attempt and per callback,
// each with its fields; the FP token, the callback secret and the personal
// numbers of the file appear nowhere in the output.
func TestLogsOfARealFlow(t *testing.T) {
	t.Parallel()
	const token, secret = "fp-token-Zq8XbW2", "callback-secret-Kv93LmPq0aa"
	var out daemontest.LockedBuffer
	s := newLoggedStack(t, &out, token, secret)
	s.Run(t)

	// The four valid orders (personal number 01010012356) and one rejected
	// for its personal number (a wrong control digit).
	const badPN = "01010012357"
	file := daemontest.FourKinds + "F-BAD,invoice,private,Eva Dahl,eva@example.no,+47,46567472," + badPN +
		",,Storgata 1,0155,Oslo,NO,no,,Timer,1,100.00,0,25,,,,,,,,\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "orders.csv"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Cfg.InboxDir = dir
	start := time.Now()
	logger := logging.New("json", &out)
	imports := jobs.Imports{Pool: s.Pool, Logger: logger, InboxDir: dir, InboxMinAge: s.Cfg.InboxMinAge, Settings: s.Cfg.ImportSettings()}
	err := imports.RunInbox(context.Background(), s.D.River(), jobargs.ImportArgs{Source: "inbox", Slot: start})
	if err != nil {
		t.Fatal(err)
	}
	s.WaitSettled(t, start, true)
	// The last callbacks (PAID) are applied: every order is paid.
	deadline := time.Now().Add(time.Minute)
	for {
		var unpaid int
		if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders WHERE status <> 'paid'`).Scan(&unpaid); err != nil {
			t.Fatal(err)
		}
		if unpaid == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d orders not paid", unpaid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the last "callback applied" lines follow their commit

	logs := out.String()
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	}()
	for _, secretText := range []string{token, secret, "01010012356", badPN, "010100 12356"} {
		if strings.Contains(logs, secretText) {
			t.Errorf("the logs hold %q", secretText)
		}
	}

	var lines []logLine
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %s", sc.Text())
		}
		lines = append(lines, l)
	}
	count := func(msg string, want map[string]string) int {
		n := 0
	next:
		for _, l := range lines {
			if l.str("msg") != msg {
				continue
			}
			for k, v := range want {
				if got := l.str(k); got != v && !(v == "*" && got != "") {
					continue next
				}
			}
			n++
		}
		return n
	}

	// One line for the batch: its id and counts as fields.
	if n := count("inbox file failed", map[string]string{"file": "orders.csv", "batch": "*", "new": "4", "rejected_rows": "1", "submit_jobs": "4"}); n != 1 {
		t.Errorf("%d batch lines with their fields, want 1", n)
	}
	for _, ref := range []string{"F-INV", "F-PL", "F-CO", "F-HC"} {
		kind := map[string]string{"F-INV": "invoice", "F-PL": "payment-link", "F-CO": "checkout", "F-HC": "hosted-checkout"}[ref]
		// One line per submit attempt (each order took one).
		if n := count("order submitted", map[string]string{"order_ref": ref, "kind": kind, "attempt": "1", "outcome": "created",
			"http_status": "201", "fp_order_uuid": "*"}); n != 1 {
			t.Errorf("%s: %d submit lines with order_ref, kind, attempt, outcome, http_status, fp_order_uuid; want 1", ref, n)
		}
		if n := count("order submitted", map[string]string{"order_ref": ref}); n != 1 {
			t.Errorf("%s: %d submit lines, want 1", ref, n)
		}
		// Each callback (SENT, PAID): received and applied, with FP's status.
		for _, st := range []string{"SENT", "PAID"} {
			if n := count("callback applied", map[string]string{"order_ref": ref, "kind": kind, "fp_status": st, "fp_order_uuid": "*"}); n != 1 {
				t.Errorf("%s %s: %d callback applied lines, want 1", ref, st, n)
			}
		}
	}
	if n := count("callback received", map[string]string{"verdict": "accepted", "ref": "*", "fp_status": "*"}); n != 8 {
		t.Errorf("%d callback received lines, want 8 (two per order)", n)
	}
}
