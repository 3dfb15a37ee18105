package daemon_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

// UNTRUSTED_CALLBACK_RETENTION: 720h unless set; at least an hour.
func TestUntrustedRetentionConfig(t *testing.T) {
	t.Parallel()
	c, err := daemon.LoadConfig(daemontest.Env(nil), daemon.Need{})
	if err != nil || c.UntrustedRetention != 720*time.Hour {
		t.Fatalf("default: %v, %v; want 720h", c.UntrustedRetention, err)
	}
	c, err = daemon.LoadConfig(daemontest.Env(map[string]string{"UNTRUSTED_CALLBACK_RETENTION": "48h"}), daemon.Need{})
	if err != nil || c.UntrustedRetention != 48*time.Hour {
		t.Fatalf("48h: %v, %v", c.UntrustedRetention, err)
	}
	for _, bad := range []string{"30m", "720", "-1h", "forever"} {
		_, err = daemon.LoadConfig(daemontest.Env(map[string]string{"UNTRUSTED_CALLBACK_RETENTION": bad}), daemon.Need{})
		if err == nil || !strings.Contains(err.Error(), "UNTRUSTED_CALLBACK_RETENTION: must be a duration of at least 1h") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// The retention job, run by the worker's River client, deletes untrusted
// callbacks and counts older than UNTRUSTED_CALLBACK_RETENTION, and keeps
// the trusted ones and the recent.
func TestPruneUntrustedJob(t *testing.T) {
	t.Parallel()
	s := startStackWith(t, fpfake.Config{Plan: fpfake.NoCallbacks}, func(c *daemon.Config) { c.UntrustedRetention = 2 * time.Hour })
	ctx := context.Background()
	if _, err := s.Pool.Exec(ctx, `INSERT INTO callbacks (received_at, remote_addr, raw_query, verdict) VALUES
		(now() - interval '3 hours', '198.51.100.1', 'x', 'bad_token'),
		(now() - interval '3 hours', '198.51.100.1', 'x', 'not_confirmed'),
		(now() - interval '3 hours', '192.0.2.1', 'x', 'accepted'),
		(now() - interval '3 hours', '192.0.2.1', 'x', 'orphan'),
		(now() - interval '1 hour', '198.51.100.1', 'x', 'bad_checksum')`); err != nil {
		t.Fatal(err)
	}
	if err := store.AddUntrustedCounts(ctx, s.Pool, []store.UntrustedCount{
		{Hour: time.Now().Add(-3 * time.Hour).Truncate(time.Hour), Source: "a", Verdict: "bad_token", Reason: store.NotStoredTotalCap, Count: 9},
		{Hour: time.Now().Truncate(time.Hour), Source: "a", Verdict: "bad_token", Reason: store.NotStoredTotalCap, Count: 4},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := s.D.River().Insert(ctx, jobargs.PruneUntrustedArgs{Slot: time.Now().Truncate(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := s.D.River().JobGet(ctx, res.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == rivertype.JobStateCompleted {
			break
		}
		if j.State != rivertype.JobStateAvailable && j.State != rivertype.JobStateRunning || time.Now().After(deadline) {
			t.Fatalf("prune job %s, errors %v", j.State, j.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var left string
	var counts int64
	if err := s.Pool.QueryRow(ctx, `SELECT (SELECT string_agg(verdict, ',' ORDER BY id) FROM callbacks),
		(SELECT sum(count) FROM untrusted_callback_counts)`).Scan(&left, &counts); err != nil {
		t.Fatal(err)
	}
	if left != "accepted,orphan,bad_checksum" || counts != 4 {
		t.Errorf("after pruning: callbacks %s, counts %d; want accepted,orphan,bad_checksum and 4", left, counts)
	}
}

// floodSources × floodPerSource forged callbacks, each source an address of
// its own on loopback (127.0.1.x).
const (
	floodSources   = 100
	floodPerSource = 50
	floodInFlight  = 16
)

// A flood of 5 000 forged callbacks (bad token or bad checksum) from 100
// addresses against a running worker: it stores at most the hourly cap,
// counts the rest, lists them in the report as a few lines per source and
// verdict, and meanwhile every genuine callback is answered 200 and
// applied. The latency of the genuine callbacks is logged beside a floor
// measured in the same run without the flood, never asserted.
func TestUntrustedCallbackFlood(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	ctx := context.Background()
	id, uuid := s.submittedInvoice(t)
	createdAt := time.Now().Unix()

	// genuine sends SENT callbacks for the order, one after the other,
	// until stop is closed (and at least min), and returns their latencies.
	var genuineSent, genuineBad atomic.Int64
	genuine := func(min int, stop <-chan struct{}) []time.Duration {
		var lat []time.Duration
		for i := 0; ; i++ {
			if i >= min {
				select {
				case <-stop:
					return lat
				default:
				}
			}
			createdAt++
			start := time.Now()
			code := s.sendCallback(t, id, uuid, "SENT", createdAt)
			lat = append(lat, time.Since(start))
			genuineSent.Add(1)
			if code != http.StatusOK {
				genuineBad.Add(1)
			}
		}
	}
	closed := make(chan struct{})
	close(closed)
	floor := genuine(100, closed)

	// The flood: each source sends its share as fast as the in-flight
	// bound lets it; half bad token, half bad checksum, all saying PAID.
	secret := s.Cfg.CallbackSecret
	// Newer than any genuine one: a forgery that got through would show.
	created := strconv.FormatInt(createdAt+1_000_000, 10)
	forgedChecksum := []byte(fpclient.Checksum(uuid, "PAID", created, ""))
	forgedChecksum[0] ^= 1 // '0'↔'1', 'a'↔'`'…: never the right one
	codes := map[int]int{}
	var mu sync.Mutex
	var noRetryAfter, sendErrors atomic.Int64
	inFlight := make(chan struct{}, floodInFlight)
	var wg sync.WaitGroup
	floodStart := time.Now()
	for src := range floodSources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(src+1))}}
			client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 2}}
			defer client.CloseIdleConnections()
			for i := range floodPerSource {
				u := callbackurl.For(s.Cfg.CallbackBaseURL, secret, id)
				checksum := fpclient.Checksum(uuid, "PAID", created, "")
				if i%2 == 0 {
					u = strings.Replace(u, "token=", "token=00"+strconv.Itoa(i), 1)
				} else {
					checksum = string(forgedChecksum)
				}
				u += "&" + url.Values{"orderUuid": {uuid}, "status": {"PAID"}, "createdAt": {created}, "checksum": {checksum}}.Encode()
				inFlight <- struct{}{}
				resp, err := client.Get(u)
				<-inFlight
				if err != nil {
					sendErrors.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
					noRetryAfter.Add(1)
				}
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	var during []time.Duration
	genuineDone := make(chan struct{})
	go func() { defer close(genuineDone); during = genuine(20, done) }()
	wg.Wait()
	floodTime := time.Since(floodStart)
	close(done)
	<-genuineDone

	const total = floodSources * floodPerSource
	if n := sendErrors.Load(); n > 0 {
		t.Errorf("%d forged requests failed", n)
	}
	if codes[http.StatusForbidden]+codes[http.StatusTooManyRequests] != total {
		t.Errorf("answers to forgeries: %v, want only 403 and 429", codes)
	}
	if n := noRetryAfter.Load(); n > 0 {
		t.Errorf("%d answers 429 without Retry-After", n)
	}
	if n := genuineBad.Load(); n > 0 {
		t.Errorf("%d of %d genuine callbacks not answered 200", n, genuineSent.Load())
	}

	// Stored: at most the hourly total, at most a source's share each.
	lim := httpapi.DefaultUntrustedLimits
	var stored, maxPerSource int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*), coalesce(max(n), 0) FROM (SELECT count(*) OVER (PARTITION BY remote_addr) AS n
		FROM callbacks WHERE verdict NOT IN ('accepted', 'orphan')) c`).Scan(&stored, &maxPerSource); err != nil {
		t.Fatal(err)
	}
	if stored == 0 || stored > lim.TotalHour || maxPerSource > lim.PerSourceHour {
		t.Errorf("stored %d forged callbacks, at most %d from one source; want 1..%d and at most %d", stored, maxPerSource, lim.TotalHour, lim.PerSourceHour)
	}
	// The rest counted, within a few flushes.
	var counted int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := s.Pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM untrusted_callback_counts`).Scan(&counted); err != nil {
			t.Fatal(err)
		}
		if int(counted)+stored >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if int(counted)+stored != total {
		t.Errorf("stored %d + counted %d = %d, want %d", stored, counted, int(counted)+stored, total)
	}

	// Every genuine callback applied; no forgery moved the order.
	s.waitCallbacksApplied(t)
	var accepted int64
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM callbacks WHERE verdict = 'accepted' AND result IS NOT NULL`).Scan(&accepted); err != nil {
		t.Fatal(err)
	}
	if accepted != genuineSent.Load() {
		t.Errorf("%d genuine callbacks applied, %d sent", accepted, genuineSent.Load())
	}
	if st, fp, _ := s.orderState(t, id); st != "sent" || fp != "SENT" {
		t.Errorf("order %s/%s after the flood, want sent/SENT", st, fp)
	}

	// The report: a bounded number of lines whatever the flood.
	now := time.Now()
	today := now.In(s.Cfg.Location).Format(time.DateOnly)
	rep, err := store.LoadReport(ctx, s.Pool, today, today, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, e := range rep.Other {
		if e.Type == report.ExceptionUntrustedCallback {
			lines++
		}
	}
	if lines == 0 || lines > store.MaxUntrustedLines {
		t.Errorf("report lists %d untrusted callback lines, want 1..%d", lines, store.MaxUntrustedLines)
	}
	sizes := map[string]int{}
	for _, format := range report.Formats {
		var buf bytes.Buffer
		if err := report.Write(&buf, rep, format); err != nil {
			t.Fatal(err)
		}
		sizes[format] = buf.Len()
	}

	slices.Sort(floor)
	slices.Sort(during)
	p := func(l []time.Duration, q float64) time.Duration { return l[min(int(q*float64(len(l))), len(l)-1)] }
	t.Logf("SUMMARY flood of %d forged callbacks from %d sources in %s: answers %v; stored %d (cap %d/h), counted %d; "+
		"report %d untrusted lines, sizes %v bytes; genuine callbacks: %d without flood p50 %s p99 %s, %d during it p50 %s p99 %s "+
		"(ratio p50 %.1f, p99 %.1f), all answered 200 and applied",
		total, floodSources, floodTime.Round(time.Millisecond), codes, stored, lim.TotalHour, counted, lines, sizes,
		len(floor), ms(p(floor, .5)), ms(p(floor, .99)), len(during), ms(p(during, .5)), ms(p(during, .99)),
		ratio(p(during, .5), p(floor, .5)), ratio(p(during, .99), p(floor, .99)))
}
