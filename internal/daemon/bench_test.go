package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// TestSubmitBench measures submission against its bound, in one run, as
// issue 4 asks. It runs only when SUBMIT_BENCH is set:
//
//	SUBMIT_BENCH=concurrency go test -run TestSubmitBench -v -timeout 30m ./internal/daemon/
//	SUBMIT_BENCH=rate go test -run TestSubmitBench -v -timeout 30m ./internal/daemon/
//
// concurrency: 10 000 orders, the simulator answering in 20 ms, no rate
// limit, FP_CONCURRENCY 10: the bound is 10 / 20 ms = 500 requests/s. (The
// simulator announces a budget of a million a minute here: with FP's 240 the
// throttle would rightly keep to 4/s.)
// rate: the default FP_RATE_LIMIT (4/s, FP's 240 a minute) binds, the
// simulator enforces FP's 240 a minute; for SUBMIT_BENCH_SECONDS (default
// 70, so a minute's edge falls inside) it prints the rate in every 10-second
// window and the 429s FP answered. The rate in a window is (requests - 1)
// over the time between its first and last request: a count of ~40 requests
// cannot show 2 %.
// The worker runs in this process, as `worker run` does; callbacks are off
// so that only submission is measured. Rates are taken from the
// simulator's arrival times.
func TestSubmitBench(t *testing.T) {
	mode := os.Getenv("SUBMIT_BENCH")
	switch mode {
	case "":
		t.Skip("set SUBMIT_BENCH=concurrency or SUBMIT_BENCH=rate to run")
	case "concurrency":
		benchConcurrency(t)
	case "rate":
		benchRate(t)
	default:
		t.Fatalf("SUBMIT_BENCH=%q: want concurrency or rate", mode)
	}
}

func benchOrders(n int) string {
	var b strings.Builder
	b.WriteString(daemontest.CSVHeader)
	for i := range n {
		fmt.Fprintf(&b, "B-%06d,invoice,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Storgata 1,0155,Oslo,NO,no,,Konsulenttime,1,1250.00,0,25,,,,,,,,\n", i)
	}
	return b.String()
}

func benchConcurrency(t *testing.T) {
	const n, latency, concurrency = 10_000, 20 * time.Millisecond, 10
	s := newStack(t, fpfake.Config{Plan: fpfake.NoCallbacks, Faults: fpfake.Faults{Latency: latency, LimitPerMinute: 1_000_000}}, func(c *daemon.Config) {
		c.RateLimit = 0
		c.Concurrency = concurrency
		c.FPBaseURL = daemontest.DirectToSimulator
	})
	s.ImportCSV(t, "bench.csv", benchOrders(n))
	start := time.Now()
	s.Run(t)
	if err := daemon.WaitSettled(context.Background(), s.Pool, start.Add(-time.Hour), false, 20*time.Minute); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	reqs := s.Sim.Requests()
	first, last := reqs[0].At, reqs[len(reqs)-1].At
	created := s.Sim.Stats().Created
	bound := float64(concurrency) / latency.Seconds()
	atSim := float64(len(reqs)-1) / last.Sub(first).Seconds()
	t.Logf("%d orders (%d created at FP, %d requests): %.0f requests/s at the simulator, %.0f orders/s start to all settled (%s); bound min(FP_RATE_LIMIT=none, %d / %s) = %.0f/s; ratio %.2f (bound ≥ 0.80)",
		n, created, len(reqs), atSim, float64(n)/elapsed.Seconds(), elapsed.Round(time.Millisecond), concurrency, latency, bound, atSim/bound)
	if created != n {
		t.Errorf("%d orders created at FP; want %d", created, n)
	}
}

func benchRate(t *testing.T) {
	seconds, _ := strconv.Atoi(os.Getenv("SUBMIT_BENCH_SECONDS"))
	if seconds <= 0 {
		seconds = 70
	}
	const rate = 4.0 // the default FP_RATE_LIMIT: FP's demo's 240 a minute
	s := newStack(t, fpfake.Config{Plan: fpfake.NoCallbacks, Faults: fpfake.Faults{Latency: 20 * time.Millisecond, LimitPerMinute: 240}}, func(c *daemon.Config) {
		c.RateLimit = rate
		c.Concurrency = 10
		c.FPBaseURL = daemontest.DirectToSimulator
	})
	s.ImportCSV(t, "bench.csv", benchOrders(int(rate*float64(seconds))+100))
	s.Run(t)
	time.Sleep(time.Duration(seconds) * time.Second)
	reqs := s.Sim.Requests()
	tooMany := s.Sim.Stats().ByStatus[http.StatusTooManyRequests]
	if len(reqs) < 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	t0 := reqs[0].At
	minRate, maxRate := 1e9, 0.0
	var windows []string
	for w := 0; ; w++ {
		from, to := t0.Add(time.Duration(w)*10*time.Second), t0.Add(time.Duration(w+1)*10*time.Second)
		if to.After(reqs[len(reqs)-1].At) {
			break
		}
		var in []time.Time
		for _, r := range reqs {
			if !r.At.Before(from) && r.At.Before(to) {
				in = append(in, r.At)
			}
		}
		r := float64(len(in)-1) / in[len(in)-1].Sub(in[0]).Seconds()
		minRate, maxRate = min(minRate, r), max(maxRate, r)
		windows = append(windows, fmt.Sprintf("%d: %d requests, %.3f/s", w, len(in), r))
	}
	t.Logf("FP_RATE_LIMIT %.0f/s, %d s: %d requests; per 10-s window: %s", rate, seconds, len(reqs), strings.Join(windows, "; "))
	t.Logf("rate in every window within [%.3f, %.3f]/s = [%+.1f %%, %+.1f %%] of the limit (bound ±2 %%); 429 answers from FP: %d (bound 0)",
		minRate, maxRate, 100*(minRate/rate-1), 100*(maxRate/rate-1), tooMany)
	if tooMany > 0 {
		t.Errorf("FP answered 429 %d times", tooMany)
	}
}
