package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/store"
)

var t0 = time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)

func newTestGate(lim UntrustedLimits) *untrustedGate {
	return newUntrustedGate(lim, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
}

func (g *untrustedGate) pendingTotal(reason string) (n int64) {
	for k, c := range g.pending {
		if k.reason == reason {
			n += c
		}
	}
	return n
}

// A source may send Burst at once, then PerSecond; beyond, 429 with the
// time until its next token.
func TestUntrustedGateRateLimit(t *testing.T) {
	t.Parallel()
	g := newTestGate(UntrustedLimits{Burst: 20, PerSecond: 1, PerSourceHour: 1000, TotalHour: 1000})
	for i := range 20 {
		if d := g.admit("198.51.100.1", "bad_token", t0); !d.store {
			t.Fatalf("callback %d of the burst not stored: %+v", i+1, d)
		}
	}
	d := g.admit("198.51.100.1", "bad_token", t0)
	if d.store || d.reason != store.NotStoredRateLimited || d.retryAfter != time.Second {
		t.Fatalf("21st at once = %+v, want rate_limited, retry after 1s", d)
	}
	// Another source has its own bucket.
	if d := g.admit("198.51.100.2", "bad_token", t0); !d.store {
		t.Errorf("another source refused: %+v", d)
	}
	// A second later, one more token.
	if d := g.admit("198.51.100.1", "bad_token", t0.Add(time.Second)); !d.store {
		t.Errorf("a second later: %+v", d)
	}
	if d := g.admit("198.51.100.1", "bad_token", t0.Add(time.Second)); d.store {
		t.Errorf("two in that second stored")
	}
	if n := g.pendingTotal(store.NotStoredRateLimited); n != 2 {
		t.Errorf("%d rate-limited counted, want 2", n)
	}
}

// Within its rate, a source stores PerSourceHour an hour and all sources
// TotalHour; the rest is counted; a new hour starts afresh.
func TestUntrustedGateCaps(t *testing.T) {
	t.Parallel()
	g := newTestGate(UntrustedLimits{Burst: 1000, PerSecond: 1000, PerSourceHour: 60, TotalHour: 500})
	stored := 0
	for i := range 100 {
		if g.admit("198.51.100.1", "bad_token", t0.Add(time.Duration(i)*time.Second)).store {
			stored++
		}
	}
	if stored != 60 || g.pendingTotal(store.NotStoredSourceCap) != 40 {
		t.Errorf("one source stored %d and counted %d, want 60 and 40", stored, g.pendingTotal(store.NotStoredSourceCap))
	}
	for s := range 20 {
		for range 60 {
			if g.admit("203.0.113."+string(rune('a'+s)), "malformed", t0.Add(time.Minute)).store {
				stored++
			}
		}
	}
	if stored != 500 {
		t.Errorf("stored %d in the hour, want the total cap 500", stored)
	}
	if n := g.pendingTotal(store.NotStoredTotalCap); n != 20*60-440 {
		t.Errorf("total_cap counted %d, want %d", n, 20*60-440)
	}
	if !g.admit("198.51.100.1", "bad_token", t0.Add(time.Hour)).store {
		t.Error("the next hour does not start afresh")
	}
}

// A Server without a Pool hands the gate a nil *pgxpool.Pool inside
// store.DB: the gate counts in memory and starts no flusher, which would
// write through the nil pool.
func TestUntrustedGateNilPool(t *testing.T) {
	t.Parallel()
	g := newUntrustedGate(UntrustedLimits{Burst: 1, FlushEvery: time.Millisecond}, (*pgxpool.Pool)(nil),
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	g.admit("192.0.2.1", "bad_token", t0)
	if d := g.admit("192.0.2.1", "bad_token", t0); d.store || d.reason != store.NotStoredRateLimited {
		t.Fatalf("second callback at once: %+v, want counted as rate_limited", d)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.db != nil || g.flushing {
		t.Errorf("db %v, flushing %v: want no database and no flusher", g.db, g.flushing)
	}
}

// The sources remembered are bounded: the least recently seen go first.
func TestUntrustedGateSourcesBounded(t *testing.T) {
	t.Parallel()
	g := newTestGate(UntrustedLimits{MaxSources: 3})
	for _, s := range []string{"a", "b", "c", "a", "d"} {
		g.admit(s, "bad_token", t0)
	}
	if len(g.sources) != 3 || g.lru.Len() != 3 {
		t.Fatalf("%d sources remembered, want 3", len(g.sources))
	}
	if _, ok := g.sources["b"]; ok {
		t.Error("b, the least recently seen, is still remembered")
	}
	if _, ok := g.sources["a"]; !ok {
		t.Error("a, seen again, was forgotten")
	}
}

// Pending counts are bounded too: past maxPendingCounts keys, new ones are
// folded into one source.
func TestUntrustedGatePendingBounded(t *testing.T) {
	t.Parallel()
	g := newTestGate(UntrustedLimits{Burst: 1, PerSecond: 0.001, MaxSources: 100_000})
	for i := range maxPendingCounts + 500 {
		src := "192.0.2.1:" + strconv.Itoa(i)
		g.admit(src, "bad_token", t0) // stored: the first of its bucket
		g.admit(src, "bad_token", t0) // counted: rate_limited
	}
	// One folded key per verdict and reason at most (rate_limited, and
	// total_cap once 500 are stored).
	if len(g.pending) > maxPendingCounts+2 {
		t.Errorf("%d pending keys, want at most %d", len(g.pending), maxPendingCounts+2)
	}
	if n := g.pendingTotal(store.NotStoredRateLimited); n != maxPendingCounts+500 {
		t.Errorf("counted %d, want %d", n, maxPendingCounts+500)
	}
}

// Through the handler: a trusted verdict, or a keyless one awaiting FP's
// confirmation (FP's own callbacks without a key), always passes, however many; an
// untrusted one past the burst gets 429 with Retry-After, and past the caps
// the answer it would have had.
func TestGateUntrustedHandler(t *testing.T) {
	t.Parallel()
	// No database here: FlushEvery an hour keeps the gate's flush (which
	// would write to the nil Pool) from firing while the package's other
	// tests still run.
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), UntrustedLimits: UntrustedLimits{Burst: 2, PerSecond: 0.01, PerSourceHour: 1, FlushEvery: time.Hour}}
	for range 1000 {
		for _, v := range []string{store.VerdictAccepted, store.VerdictOrphan, store.VerdictAwaitingFP} {
			if s.gateUntrusted(httptest.NewRecorder(), &store.CallbackIn{RemoteAddr: "127.0.0.1", Verdict: v}, &callbackRequest{}) {
				t.Fatalf("a %s callback was gated", v)
			}
		}
	}
	in := &store.CallbackIn{RemoteAddr: "2001:db8::1", Verdict: store.VerdictBadToken}
	if s.gateUntrusted(httptest.NewRecorder(), in, &callbackRequest{}) {
		t.Fatal("the first untrusted callback was not let through to be stored")
	}
	// Same /64, other address: the source's share of one row is used.
	w := httptest.NewRecorder()
	if !s.gateUntrusted(w, &store.CallbackIn{RemoteAddr: "2001:db8::2", Verdict: store.VerdictBadToken}, &callbackRequest{}) || w.Code != http.StatusForbidden {
		t.Errorf("second of the /64: gated %v, HTTP %d; want gated, 403", w.Code != 200, w.Code)
	}
	w = httptest.NewRecorder()
	if !s.gateUntrusted(w, in, &callbackRequest{}) || w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("third: HTTP %d, Retry-After %q; want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
}
