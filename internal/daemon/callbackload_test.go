package daemon_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// TestCallbackLoadBench loads the callback receiver as issue 5 asks: a fixed
// rate of callbacks for a fixed time, over loopback, while the worker
// submits a batch of orders. It runs only when CALLBACK_BENCH is set:
//
//	CALLBACK_BENCH=1 go test -run TestCallbackLoadBench -v -timeout 30m ./internal/daemon/
//
// CALLBACK_BENCH_RATE (callbacks a second, default 2000), CALLBACK_BENCH_SECONDS
// (default 30), CALLBACK_BENCH_SUBMIT_RATE (FP_RATE_LIMIT of the worker
// meanwhile, default 50/s, far above FP's 4/s), CALLBACK_BENCH_SEED.
//
// The worker is `worker run`'s stack in this process (River, the HTTP
// server, a pool of 2 × FP_CONCURRENCY + 25 connections, logs at info level
// formatted and discarded), the FP simulator answering in 20 ms. Orders
// that get the callbacks are submitted first, by a worker without a rate
// limit that then stops; the measured worker submits a second batch during
// the load.
//
// The generator is open loop: callback i is due at start + i/rate whatever
// became of the earlier ones, at most benchInFlight at once, and nothing is
// sent after a hard stop. Latency is measured from the due time, so a
// receiver that stalls (or a generator held back by the in-flight bound)
// shows in it. Callbacks: ~90 % valid, for orders that exist, in realistic
// status sequences, a quarter of them replayed later; the rest forged (bad
// token, bad checksum, malformed) or orphans. The same schedule is first
// sent to a trivial handler behind the same HTTP server settings: the floor.
//
// It fails when a request errs or gets an unexpected answer, when stored ≠
// sent, when an accepted callback is not applied, or when an order does not
// end in the state its sequence says.
func TestCallbackLoadBench(t *testing.T) {
	if os.Getenv("CALLBACK_BENCH") == "" {
		t.Skip("set CALLBACK_BENCH=1 to run")
	}
	rate := envFloat(t, "CALLBACK_BENCH_RATE", 2000)
	seconds := envFloat(t, "CALLBACK_BENCH_SECONDS", 30)
	submitRate := envFloat(t, "CALLBACK_BENCH_SUBMIT_RATE", 50)
	seed := uint64(envFloat(t, "CALLBACK_BENCH_SEED", 1))
	duration := time.Duration(seconds * float64(time.Second))
	total := int(rate * seconds)
	ctx := context.Background()

	pool := benchPool(t)
	sim := fpfake.New(fpfake.Config{Token: "test-token", Plan: fpfake.NoCallbacks,
		Faults: fpfake.Faults{Latency: 20 * time.Millisecond, LimitPerMinute: 1_000_000}})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })

	// The orders the callbacks are for, submitted before the load.
	targets := int(float64(total)*0.9/benchCallbacksPerOrder) + 1
	pre := startBenchWorker(t, pool, sim, simURL, 0)
	pre.ImportCSV(t, "targets.csv", loadOrders("T", targets))
	if err := daemon.WaitSettled(ctx, pool, time.Now().Add(-time.Hour), false, 20*time.Minute); err != nil {
		t.Fatal(err)
	}
	pre.stop()
	orders := submittedOrders(t, pool)
	secret := pre.Cfg.CallbackSecret

	plan := planCallbacks(orders, secret, total, seed)
	t.Logf("plan: %d callbacks (%d valid incl. %d replays, for %d orders; %d forged or orphan) at %.0f/s for %s",
		len(plan.shots), plan.valid, plan.replays, len(orders), len(plan.shots)-plan.valid, rate, duration)

	floorURL := startFloor(t)
	floor := runLoad(floorURL, plan, rate, duration, false)
	t.Logf("floor (trivial handler): %s", floor)

	w := startBenchWorker(t, pool, sim, simURL, submitRate)
	batch := int(submitRate * seconds)
	createdBefore := sim.Stats().Created
	w.ImportCSV(t, "meanwhile.csv", loadOrders("M", batch))
	waitSubmitting(t, sim, createdBefore)
	before := pool.Stat()
	got := runLoad(w.Cfg.CallbackBaseURL, plan, rate, duration, true)
	after := pool.Stat()
	t.Logf("receiver: %s", got)
	t.Logf("database pool during the load: %d acquires, %d had to wait for a connection (%s waited in all), max %d connections",
		after.AcquireCount()-before.AcquireCount(), after.EmptyAcquireCount()-before.EmptyAcquireCount(),
		(after.AcquireDuration() - before.AcquireDuration()).Round(time.Millisecond), after.MaxConns())

	drainStart := time.Now()
	applied, pending := waitApplied(t, pool, 10*time.Minute)
	drain := time.Since(drainStart)
	if err := daemon.WaitSettled(ctx, pool, time.Now().Add(-time.Hour), false, 10*time.Minute); err != nil {
		t.Error(err)
	}
	submitted := sim.Stats().Created - createdBefore

	var stored, accepted int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE verdict = 'accepted') FROM callbacks`).Scan(&stored, &accepted); err != nil {
		t.Fatal(err)
	}
	t.Logf("SUMMARY callbacks %.0f/s for %s with the worker submitting %d orders at %.0f/s: sent %d, answered %s, errors %d; "+
		"latency from schedule p50 %s p99 %s max %s (floor p50 %s p99 %s: ratio p50 %.1f, p99 %.1f); "+
		"stored %d of %d sent; applied %d of %d accepted, all %s after the last answer",
		rate, duration, submitted, submitRate, got.sent, got.codes(), got.errors,
		ms(got.p(0.50)), ms(got.p(0.99)), ms(got.max()), ms(floor.p(0.50)), ms(floor.p(0.99)),
		ratio(got.p(0.50), floor.p(0.50)), ratio(got.p(0.99), floor.p(0.99)),
		stored, got.sent, applied, accepted, drain.Round(100*time.Millisecond))

	if got.sent != len(plan.shots) {
		t.Errorf("sent %d of %d planned callbacks before the hard stop", got.sent, len(plan.shots))
	}
	if got.errors > 0 || got.unexpected > 0 {
		t.Errorf("%d requests failed, %d got an unexpected answer (first: %s)", got.errors, got.unexpected, got.firstProblem)
	}
	if stored != got.sent {
		t.Errorf("stored %d callbacks, sent %d", stored, got.sent)
	}
	if accepted != plan.valid || pending > 0 || applied != accepted {
		t.Errorf("accepted %d (want %d), applied %d, %d not applied", accepted, plan.valid, applied, pending)
	}
	if submitted != batch {
		t.Errorf("worker created %d of %d orders at FP during the load", submitted, batch)
	}
	checkFinalStates(t, pool, plan.expect)
}

// waitSubmitting waits until the worker has created its first order at FP
// since created: it has started and is submitting when the load begins.
func waitSubmitting(t *testing.T, sim *fpfake.Server, created int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for sim.Stats().Created == created {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not start submitting")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// benchCallbacksPerOrder is about how many callbacks planCallbacks sends an
// order: 2–4 statuses (3 on average), a quarter of them replayed.
const benchCallbacksPerOrder = 3.75

// benchInFlight bounds the generator's requests in flight.
const benchInFlight = 256

func envFloat(t *testing.T, name string, def float64) float64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return f
}

// benchPool opens the pool `worker run` would: 2 × FP_CONCURRENCY + 25.
func benchPool(t *testing.T) *pgxpool.Pool {
	pc, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	pc.MaxConns = 2*10 + 25
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// benchWorker is a running worker of the benchmark.
type benchWorker struct {
	*stack
	stop func()
}

// startBenchWorker runs a worker like `worker run` with FP_CONCURRENCY 10
// and the given FP_RATE_LIMIT (0: none), logging at info level into nothing
// (formatted, as in production, but not written: a test's stderr would be
// the bottleneck).
func startBenchWorker(t *testing.T, pool *pgxpool.Pool, sim *fpfake.Server, simURL string, rateLimit float64) benchWorker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Oslo")
	cfg := &daemon.Config{
		FPBaseURL: simURL, FPToken: "test-token", ListenAddr: ln.Addr().String(),
		CallbackBaseURL: "http://" + ln.Addr().String(), CallbackSecret: "test-callback-secret-0123456789",
		SuccessURL: "https://shop.example.no/ok", FailureURL: "https://shop.example.no/fail",
		RateLimit: rateLimit, Concurrency: 10, FPTimeout: 5 * time.Second, Location: loc, ChecksumKey: daemontest.ChecksumKey,
		// The forged tenth of the load all comes from loopback: lift the
		// untrusted limits, so that the receiver stores every callback, as
		// this benchmark measures (the flood test measures the limits).
		UntrustedLimits: httpapi.UntrustedLimits{Burst: 1 << 30, PerSecond: 1 << 30, PerSourceHour: 1 << 30, TotalHour: 1 << 30},
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d, err := daemon.New(context.Background(), cfg, pool, logger, ln)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(runCtx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	s := &stack{&daemontest.Stack{Pool: pool, Sim: sim, Cfg: cfg, D: d}}
	s.WaitRunning(t, served)
	return benchWorker{stack: s, stop: stop}
}

// loadOrders is a CSV of n one-line invoices with refs prefix-000000….
func loadOrders(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(daemontest.CSVHeader)
	for i := range n {
		fmt.Fprintf(&b, "%s-%06d,invoice,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Storgata 1,0155,Oslo,NO,no,,Konsulenttime,1,1250.00,0,25,,,,,,,,\n", prefix, i)
	}
	return b.String()
}

type benchOrder struct {
	id   int64
	uuid string
}

func submittedOrders(t *testing.T, pool *pgxpool.Pool) []benchOrder {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT id, fp_order_uuid FROM orders WHERE status = 'submitted' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []benchOrder
	for rows.Next() {
		var o benchOrder
		if err := rows.Scan(&o.id, &o.uuid); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// benchSequences are the status sequences FP reports for an order. Each
// moves strictly forward along the transition table, so the order's final
// state does not depend on the order in which the callbacks are applied: our
// status is the last known one, fp_status the last one.
var benchSequences = [][]string{
	{"SENT", "PAID"},
	{"INVOICED", "REMINDER SENT", "PAID"},
	{"RESERVED", "CAPTURED", "PARTIAL REFUNDED", "REFUNDED"},
	{"SENT", "EXPIRED"},
	{"SENT", "ON HOLD"}, // a status we do not know: kept, our status stays sent
	{"RESERVED", "CANCELLED"},
	{"SENT", "SENT TO DEBT COLLECTION", "PAID"},
}

// shot is one planned request: the path and query, and the answer it must get.
type shot struct {
	pathQuery string
	want      int
}

// loadPlan is the schedule of callbacks and each order's expected end state.
type loadPlan struct {
	shots          []shot
	valid, replays int
	expect         map[int64]expectedState
}

type expectedState struct{ status, fpStatus string }

// planCallbacks spreads the callbacks of the orders' sequences over the run
// (replays a few seconds after their original), fills the rest with forged
// ones and orphans, and orders them by intended time: the generator sends
// them at evenly spaced due times in that order.
func planCallbacks(orders []benchOrder, secret string, total int, seed uint64) loadPlan {
	rng := rand.New(rand.NewPCG(seed, 42))
	type timed struct {
		at float64 // fraction of the run
		s  shot
	}
	var all []timed
	plan := loadPlan{expect: map[int64]expectedState{}}
	base := time.Now().Unix() - 3600
	validBudget := total * 9 / 10
	for _, o := range orders {
		seq := benchSequences[rng.IntN(len(benchSequences))]
		var calls []timed
		at := rng.Float64() * 0.7
		for k, status := range seq {
			created := strconv.FormatInt(base+int64(k), 10)
			s := shot{pathQuery: callbackPath(o.id, secret, o.uuid, status, created, fpclient.Checksum(o.uuid, status, created, daemontest.ChecksumKey)), want: http.StatusOK}
			calls = append(calls, timed{at, s})
			if rng.IntN(4) == 0 { // FP sends it again later
				calls = append(calls, timed{min(at+0.01+rng.Float64()*0.2, 1), s})
			}
			at = min(at+0.005+rng.Float64()*0.05, 1)
		}
		if plan.valid+len(calls) > validBudget {
			break
		}
		plan.valid += len(calls)
		plan.replays += len(calls) - len(seq)
		all = append(all, calls...)
		plan.expect[o.id] = expectedFor(seq)
	}
	for i := 0; len(all) < total; i++ {
		all = append(all, timed{rng.Float64(), forgedShot(orders[rng.IntN(len(orders))], secret, i)})
	}
	slices.SortStableFunc(all, func(a, b timed) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	for _, c := range all {
		plan.shots = append(plan.shots, c.s)
	}
	return plan
}

func expectedFor(seq []string) expectedState {
	e := expectedState{status: string(orderstate.Submitted), fpStatus: seq[len(seq)-1]}
	for _, s := range seq {
		if st, ok := orderstate.FromFP(s); ok {
			e.status = string(st)
		}
	}
	return e
}

func callbackPath(id int64, secret, uuid, status, created, checksum string) string {
	return callbackurl.Path + "?" + url.Values{
		"ref": {strconv.FormatInt(id, 10)}, "token": {callbackurl.Token(secret, id)},
		"orderUuid": {uuid}, "status": {status}, "createdAt": {created}, "timestamp": {created}, "checksum": {checksum},
	}.Encode()
}

// forgedShot is the i-th callback that must not move anything: a wrong
// token, a wrong checksum, a malformed one, or an orphan (authentic, for an
// order we do not have: stored and answered 200).
func forgedShot(o benchOrder, secret string, i int) shot {
	created := "1764000000"
	good := fpclient.Checksum(o.uuid, "PAID", created, daemontest.ChecksumKey)
	switch i % 4 {
	case 0:
		return shot{strings.Replace(callbackPath(o.id, secret, o.uuid, "PAID", created, good), "token=", "token=00", 1), http.StatusForbidden}
	case 1:
		return shot{callbackPath(o.id, secret, o.uuid, "PAID", created, strings.Repeat("0", 64)), http.StatusForbidden}
	case 2:
		return shot{callbackurl.Path + "?ref=" + strconv.FormatInt(o.id, 10) + "&status=PAID", http.StatusBadRequest}
	}
	orphan := int64(1_000_000_000 + i)
	return shot{callbackPath(orphan, secret, "ODR-ORPHAN", "PAID", created, fpclient.Checksum("ODR-ORPHAN", "PAID", created, daemontest.ChecksumKey)), http.StatusOK}
}

// startFloor serves a trivial handler (parse the query, answer OK) behind
// the worker's HTTP server settings: what loopback HTTP costs on its own.
func startFloor(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewHTTPServer(ln.Addr().String(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = url.ParseQuery(r.URL.RawQuery)
		fmt.Fprintln(w, "OK")
	}))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// loadResult is what the generator saw.
type loadResult struct {
	sent, errors, unexpected int
	byCode                   map[int]int
	latencies                []time.Duration // of the answered requests, from their due time
	maxLag                   time.Duration   // the latest a request left after its due time
	firstProblem             string
}

// runLoad sends plan's shots to base, shot i due at start + i/rate, at most
// benchInFlight at once; nothing is sent after duration + a grace of a
// minute, and requests still open then are cut. With checkCodes, an answer
// other than the shot's is counted as unexpected (the floor answers all 200).
func runLoad(base string, plan loadPlan, rate float64, duration time.Duration, checkCodes bool) loadResult {
	ctx, cancel := context.WithTimeout(context.Background(), duration+time.Minute)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: benchInFlight, MaxConnsPerHost: benchInFlight, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()

	type outcome struct {
		code    int
		latency time.Duration
		err     error
	}
	outcomes := make([]outcome, len(plan.shots))
	inFlight := make(chan struct{}, benchInFlight)
	var wg sync.WaitGroup
	res := loadResult{byCode: map[int]int{}}
	interval := float64(time.Second) / rate
	start := time.Now().Add(50 * time.Millisecond)
dispatch:
	for i, sh := range plan.shots {
		due := start.Add(time.Duration(float64(i) * interval))
		if wait := time.Until(due); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				break dispatch
			}
		}
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			break dispatch
		}
		res.maxLag = max(res.maxLag, time.Since(due))
		res.sent++
		wg.Add(1)
		go func() {
			defer func() { <-inFlight; wg.Done() }()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+sh.pathQuery, nil)
			resp, err := client.Do(req)
			if err != nil {
				outcomes[i] = outcome{err: err}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			outcomes[i] = outcome{code: resp.StatusCode, latency: time.Since(due)}
		}()
	}
	wg.Wait()
	for i, o := range outcomes[:res.sent] {
		switch {
		case o.err != nil:
			res.errors++
			if res.firstProblem == "" {
				res.firstProblem = o.err.Error()
			}
		default:
			res.byCode[o.code]++
			res.latencies = append(res.latencies, o.latency)
			if checkCodes && o.code != plan.shots[i].want {
				res.unexpected++
				if res.firstProblem == "" {
					res.firstProblem = fmt.Sprintf("HTTP %d, want %d", o.code, plan.shots[i].want)
				}
			}
		}
	}
	slices.Sort(res.latencies)
	return res
}

func (r loadResult) p(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(int(q*float64(len(r.latencies))), len(r.latencies)-1)]
}

func (r loadResult) max() time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[len(r.latencies)-1]
}

func (r loadResult) codes() string {
	codes := make([]int, 0, len(r.byCode))
	for c := range r.byCode {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", r.byCode[c], c))
	}
	return strings.Join(parts, " ")
}

func (r loadResult) String() string {
	return fmt.Sprintf("sent %d, answered %s, errors %d, unexpected %d; latency from schedule p50 %s p99 %s max %s; generator lag max %s",
		r.sent, r.codes(), r.errors, r.unexpected, ms(r.p(0.50)), ms(r.p(0.99)), ms(r.max()), ms(r.maxLag))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// waitApplied waits until every accepted callback has been applied and its
// job completed; it returns how many were applied and how many were not.
func waitApplied(t *testing.T, pool *pgxpool.Pool, timeout time.Duration) (applied, pending int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := pool.QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM callbacks WHERE verdict = 'accepted' AND result IS NOT NULL),
			(SELECT count(*) FROM callbacks WHERE verdict = 'accepted' AND result IS NULL)
				+ (SELECT count(*) FROM river_job WHERE kind = 'apply_callback' AND state <> 'completed')`).Scan(&applied, &pending)
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 || time.Now().After(deadline) {
			return applied, pending
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkFinalStates compares every order that got callbacks with the end of
// its sequence, and checks that no forged callback touched an order.
func checkFinalStates(t *testing.T, pool *pgxpool.Pool, expect map[int64]expectedState) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT id, status, coalesce(fp_status, ''), coalesce(possible_duplicate, '') FROM orders WHERE order_ref LIKE 'T-%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	wrong := 0
	for rows.Next() {
		var id int64
		var status, fpStatus, dup string
		if err := rows.Scan(&id, &status, &fpStatus, &dup); err != nil {
			t.Fatal(err)
		}
		want, ok := expect[id]
		if !ok {
			want = expectedState{status: string(orderstate.Submitted)}
		}
		if status != want.status || fpStatus != want.fpStatus || dup != "" {
			if wrong++; wrong <= 5 {
				t.Errorf("order %d: %s/%q (duplicate %q), want %s/%q", id, status, fpStatus, dup, want.status, want.fpStatus)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if wrong > 5 {
		t.Errorf("%d orders in all not in their expected state", wrong)
	}
}
