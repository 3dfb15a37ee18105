package main

// Process-level fault test 5: three `worker run` processes on one database
// submit one batch together. Nothing is sent twice, everything is settled,
// and FP_RATE_LIMIT and FP_CONCURRENCY hold for the three together, measured
// where FP would see them: at the simulator. See proc_test.go for the
// harness.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpfake"
)

// inflightMeter sits in front of the simulator and counts the requests it
// is handling at each moment (from the request's arrival to the end of the
// simulator's answer, its Latency included).
type inflightMeter struct {
	next http.Handler

	mu   sync.Mutex
	cur  int
	peak int
	n    int
	busy time.Duration // sum of the requests' times in the simulator
}

func (m *inflightMeter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	m.mu.Lock()
	m.cur++
	m.peak = max(m.peak, m.cur)
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.cur--
		m.n++
		m.busy += time.Since(start)
		m.mu.Unlock()
	}()
	m.next.ServeHTTP(w, r)
}

// take returns the peak and the requests counted since the last take, and
// starts counting afresh.
func (m *inflightMeter) take() (peak, n int, busy time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	peak, n, busy = m.peak, m.n, m.busy
	m.peak, m.n, m.busy = m.cur, 0, 0
	return peak, n, busy
}

// rateWindow is the requests whose arrival falls in [from, from+width).
type rateWindow struct {
	from        time.Duration // since the first request
	n           int
	first, last time.Time
	full        bool // the run went on past the window's end
}

// spanRate is (n-1)/(last-first): the pace between the window's first and
// last request.
func (w rateWindow) spanRate() float64 {
	if w.n < 2 || !w.last.After(w.first) {
		return 0
	}
	return float64(w.n-1) / w.last.Sub(w.first).Seconds()
}

// fixedWindows cuts the arrivals (sorted) into consecutive windows of width
// from the first one.
func fixedWindows(at []time.Time, width time.Duration) []rateWindow {
	if len(at) == 0 {
		return nil
	}
	t0, end := at[0], at[len(at)-1]
	var out []rateWindow
	for i := 0; i < len(at); {
		k := at[i].Sub(t0) / width
		w := rateWindow{from: k * width, first: at[i]}
		stop := t0.Add((k + 1) * width)
		for ; i < len(at) && at[i].Before(stop); i++ {
			w.n++
			w.last = at[i]
		}
		w.full = !stop.After(end)
		out = append(out, w)
	}
	return out
}

// slidingMax is the busiest window of width that starts at a request and
// ends before the last one: the most requests in it, and the highest
// (n-1)/(last-first) in it.
func slidingMax(at []time.Time, width time.Duration) (maxN int, maxNAt time.Duration, maxSpan float64, maxSpanAt time.Duration) {
	if len(at) == 0 {
		return
	}
	end := at[len(at)-1]
	j := 0
	for i := range at {
		stop := at[i].Add(width)
		if stop.After(end) {
			break
		}
		for j < len(at) && at[j].Before(stop) {
			j++
		}
		w := rateWindow{n: j - i, first: at[i], last: at[j-1]}
		if w.n > maxN {
			maxN, maxNAt = w.n, at[i].Sub(at[0])
		}
		if r := w.spanRate(); r > maxSpan {
			maxSpan, maxSpanAt = r, at[i].Sub(at[0])
		}
	}
	return
}

// TestMultiProcessSharedLimits is fault test 5: three worker processes on
// one database submit a 5 000-order batch together. No order is created
// twice, every order is settled, at least two of the processes did send, and
// the rate at the simulator stays within FP_RATE_LIMIT for all three
// together. Then, with FP slow enough that FP_CONCURRENCY binds, the
// requests in flight at the simulator for the three together stay within it.
func TestMultiProcessSharedLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test: three workers, 5 000 orders (about 80 s)")
	}
	t.Parallel()
	const (
		orders      = 5000 // phase 1: the rate binds
		slowOrders  = 450  // phase 2: the concurrency binds
		rate        = 100.0
		concurrency = 10
		latency     = 20 * time.Millisecond
		slowLatency = 250 * time.Millisecond
		window      = 10 * time.Second
		procs       = 3
	)
	testStart := time.Now()
	env := map[string]string{
		"FP_RATE_LIMIT":  strconv.FormatFloat(rate, 'f', -1, 64),
		"FP_CONCURRENCY": strconv.Itoa(concurrency),
		"FP_TIMEOUT":     "5s",
	}
	// newProcEnv sets LimitPerMinute to 1 000 000: FP's advertised budget
	// does not bind, FP_RATE_LIMIT alone paces. No callbacks: this is about
	// submitting.
	pe := newProcEnv(t, fpfake.Config{Plan: fpfake.NoCallbacks, Faults: fpfake.Faults{Latency: latency}}, env)
	meter := &inflightMeter{next: pe.sim}
	front := httptest.NewServer(meter)
	t.Cleanup(front.Close)
	env["FP_BASE_URL"] = front.URL // the same simulator, through the meter

	var ps []*workerProc
	for range procs {
		ps = append(ps, pe.start())
	}
	anyExited := func() *workerProc {
		for _, p := range ps {
			if p.exited() {
				return p
			}
		}
		return nil
	}
	// Every process has its share of FP_CONCURRENCY before the batch comes:
	// three live senders, each past its two newcomer heartbeats.
	ctx := context.Background()
	var live, ready int
	waited := waitUntil(30*time.Second, func() bool {
		err := pe.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE started_at <= now() - interval '2 seconds')
			FROM fp_senders WHERE seen_at >= now() - interval '3 seconds'`).Scan(&live, &ready)
		return err == nil && ready == procs || anyExited() != nil
	})
	if p := anyExited(); p != nil {
		t.Fatalf("worker run #%d exited: %s", p.n, p.describeExit())
	}
	if ready != procs {
		t.Fatalf("after %s: %d live senders, %d of them with their share; want %d", waited.Round(time.Millisecond), live, ready, procs)
	}
	t.Logf("%d worker processes running, each with its share of FP_CONCURRENCY=%d, %s after the test's start",
		procs, concurrency, time.Since(testStart).Round(time.Millisecond))

	// Phase 1: the batch, with the rate binding.
	importStart := time.Now()
	pe.importOrders("multi.csv", crashBatchCSV("M", orders))
	batchStart := time.Now()
	t.Logf("imported %d orders in %s", orders, batchStart.Sub(importStart).Round(time.Millisecond))
	settledOrExit := func(pr progress) bool { return settled(pr) || anyExited() != nil }
	pr := pe.waitFor("the batch to settle", nil, 3*time.Minute, settledOrExit)
	if p := anyExited(); p != nil {
		t.Fatalf("worker run #%d exited during the batch: %s; progress %+v", p.n, p.describeExit(), pr)
	}
	phase1 := time.Since(batchStart)
	t.Logf("batch settled %s after the import: orders %s", phase1.Round(time.Millisecond), pr.byStatus)
	peak1, n1, busy1 := meter.take()
	submitted1 := make([]int, procs)
	for i, p := range ps {
		submitted1[i] = p.logs.count(`"msg":"order submitted"`)
	}
	reqs1 := pe.sim.Requests()

	// Phase 2: FP slow enough that FP_CONCURRENCY binds (at most
	// concurrency/latency = 40 requests a second, below the rate).
	pe.sim.UpdateFaults(func(f *fpfake.Faults) { f.Latency = slowLatency })
	pe.importOrders("multi-slow.csv", crashBatchCSV("S", slowOrders))
	slowStart := time.Now()
	pr = pe.waitFor("the slow batch to settle", nil, 2*time.Minute, settledOrExit)
	if p := anyExited(); p != nil {
		t.Fatalf("worker run #%d exited during the slow batch: %s; progress %+v", p.n, p.describeExit(), pr)
	}
	phase2 := time.Since(slowStart)
	peak2, n2, busy2 := meter.take()
	t.Logf("slow batch settled %s after its import: orders %s", phase2.Round(time.Millisecond), pr.byStatus)

	// The processes stop cleanly, together.
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			if took, ok := p.stop(30 * time.Second); !ok || p.waitErr != nil {
				t.Errorf("worker run #%d did not stop cleanly on SIGTERM: took %s, %s", p.n, took, p.describeExit())
			}
		})
	}
	wg.Wait()

	// Nothing lost, nothing sent twice: every order accepted by FP, each
	// created exactly once, with one request each.
	total := orders + slowOrders
	stopped := time.Now()
	t.Logf("the %d processes stopped in %s", procs, stopped.Sub(slowStart.Add(phase2)).Round(time.Millisecond))
	res := pe.verifyOrders(total)
	t.Logf("verifyOrders took %s", time.Since(stopped).Round(time.Millisecond))
	if res.accepted != total || res.review != 0 || res.openAttempts != 0 || res.extraSessions != 0 {
		t.Errorf("%s; want all %d accepted, none in review, no open attempt, no extra session", res, total)
	}
	// (verifyOrders allows a checkout kind a second session after an
	// unanswered request; with FP healthy there is none: exactly once.)
	dups := 0
	refRows, err := pe.pool.Query(ctx, `SELECT id, order_ref, kind, status FROM orders ORDER BY order_ref`)
	if err != nil {
		t.Fatal(err)
	}
	type orderRow struct {
		id                int64
		ref, kind, status string
	}
	var all []orderRow
	for refRows.Next() {
		var o orderRow
		if err := refRows.Scan(&o.id, &o.ref, &o.kind, &o.status); err != nil {
			t.Fatal(err)
		}
		all = append(all, o)
	}
	if err := refRows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		if n := pe.sim.Creations(o.ref); n != 1 {
			if dups++; dups <= 10 {
				t.Errorf("%s (%s, %s): created at FP %d times, want 1%s", o.ref, o.kind, o.status, n, pe.evidence(o.id))
			}
		}
	}
	if len(all) != total {
		t.Errorf("%d orders in the database, want %d", len(all), total)
	}
	if dups > 10 {
		t.Errorf("… %d orders in all not created exactly once", dups)
	}
	st := pe.sim.Stats()
	if st.Requests != total || st.Created != total {
		t.Errorf("FP got %d requests and created %d orders, want %d each", st.Requests, st.Created, total)
	}
	for code, n := range st.ByStatus {
		if code < 200 || code > 299 {
			t.Errorf("FP answered %d requests with HTTP %d", n, code)
		}
	}
	var leftJobs int
	if err := pe.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'submit_order'
		AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&leftJobs); err != nil {
		t.Fatal(err)
	}
	if leftJobs != 0 {
		t.Errorf("%d submit jobs left", leftJobs)
	}

	// Who sent: each process's "order submitted" lines, and River's record
	// of the client that ran each submit job.
	var shares []string
	senders := 0
	for i, p := range ps {
		all := p.logs.count(`"msg":"order submitted"`)
		shares = append(shares, fmt.Sprintf("run #%d %d (%d in the batch, %d in the slow one)", p.n, all, submitted1[i], all-submitted1[i]))
		if submitted1[i] > 0 {
			senders++
		}
	}
	t.Logf("orders submitted by each process, by its log: %s", strings.Join(shares, "; "))
	if senders < 2 {
		t.Errorf("only %d of the %d processes sent requests in the batch: the batch was not shared", senders, procs)
	}
	rows, err := pe.pool.Query(ctx, `SELECT attempted_by[array_length(attempted_by, 1)], count(*), count(*) FILTER (WHERE attempt > 1)
		FROM river_job WHERE kind = 'submit_order' GROUP BY 1 ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var byClient []string
	clients := 0
	for rows.Next() {
		var client *string
		var n, again int
		if err := rows.Scan(&client, &n, &again); err != nil {
			t.Fatal(err)
		}
		name := "(none)"
		if client != nil {
			name = *client
			clients++
		}
		byClient = append(byClient, fmt.Sprintf("%s %d jobs (%d run more than once)", name, n, again))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("submit jobs by the River client that last ran them: %s", strings.Join(byClient, "; "))
	if clients < 2 {
		t.Errorf("submit jobs were run by %d River clients, want at least 2 of %d", clients, procs)
	}

	// The rate, at the simulator, over the batch (phase 1).
	at := make([]time.Time, len(reqs1))
	for i, r := range reqs1 {
		at[i] = r.At
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	if len(at) != orders {
		t.Errorf("the simulator saw %d requests in the batch, want %d", len(at), orders)
	}
	if len(at) < 2 {
		t.Fatalf("only %d requests in the batch", len(at))
	}
	limit := rate * 1.02
	var lines []string
	worst := 0.0
	for _, w := range fixedWindows(at, window) {
		byCount := float64(w.n) / window.Seconds()
		note := ""
		if !w.full {
			note = fmt.Sprintf(" (partial: %s of requests, not judged)", w.last.Sub(w.first).Round(time.Millisecond))
		}
		lines = append(lines, fmt.Sprintf("  %5.1fs–%5.1fs: %4d requests, %6.2f/s by count, %6.2f/s first to last%s",
			w.from.Seconds(), (w.from+window).Seconds(), w.n, byCount, w.spanRate(), note))
		if !w.full {
			continue
		}
		worst = max(worst, byCount, w.spanRate())
		if byCount > limit || w.spanRate() > limit {
			t.Errorf("RATE EXCEEDED in the window from %s: %d requests (%.2f/s), %.2f/s first to last; limit %.0f/s (+2 %%)",
				w.from, w.n, byCount, w.spanRate(), rate)
		}
	}
	t.Logf("requests at the simulator in 10 s windows (FP_RATE_LIMIT=%.0f/s for all %d processes, paced at %.1f/s):\n%s",
		rate, procs, rate*0.995, strings.Join(lines, "\n"))
	maxN, maxNAt, maxSpan, maxSpanAt := slidingMax(at, window)
	t.Logf("busiest sliding 10 s window: %d requests (%.2f/s) from %s; highest first-to-last rate in one %.2f/s from %s",
		maxN, float64(maxN)/window.Seconds(), maxNAt.Round(time.Millisecond), maxSpan, maxSpanAt.Round(time.Millisecond))
	if float64(maxN)/window.Seconds() > limit || maxSpan > limit {
		t.Errorf("RATE EXCEEDED in a sliding 10 s window: %d requests from %s, %.2f/s first to last from %s; limit %.0f/s (+2 %%)",
			maxN, maxNAt, maxSpan, maxSpanAt, rate)
	}
	span := at[len(at)-1].Sub(at[0])
	overall := float64(len(at)) / span.Seconds()
	t.Logf("whole batch: %d requests in %s: %.2f/s (%.2f/s as (n-1)/span), %.1f %% of FP_RATE_LIMIT; worst full window %.2f/s",
		len(at), span.Round(time.Millisecond), overall, float64(len(at)-1)/span.Seconds(), 100*overall/rate, worst)
	if overall > rate*1.01 {
		t.Errorf("RATE EXCEEDED over the whole batch: %d requests in %s = %.2f/s, limit %.0f/s (+1 %%)", len(at), span, overall, rate)
	}

	// The concurrency, at the simulator, for the three together.
	// Mean in flight: the requests' time in the simulator over the phase's
	// length (the batch's from its first to its last request; the slow
	// batch's from its import to its settling seen, a little long).
	t.Logf("in flight at the simulator: batch (latency %s) peak %d, mean %.2f over %d requests; slow batch (latency %s) peak %d, mean about %.2f over %d requests, about %.1f requests/s; FP_CONCURRENCY=%d for all %d processes",
		latency, peak1, busy1.Seconds()/span.Seconds(), n1, slowLatency, peak2, busy2.Seconds()/phase2.Seconds(), n2,
		float64(n2)/phase2.Seconds(), concurrency, procs)
	if peak1 > concurrency || peak2 > concurrency {
		t.Errorf("CONCURRENCY EXCEEDED: up to %d requests in flight at the simulator (batch %d, slow batch %d), FP_CONCURRENCY=%d",
			max(peak1, peak2), peak1, peak2, concurrency)
	}
	t.Logf("total %s (batch %s, slow batch %s): %s; FP: %s", time.Since(testStart).Round(time.Second),
		phase1.Round(time.Millisecond), phase2.Round(time.Millisecond), res, simSummary(pe.sim))
}
