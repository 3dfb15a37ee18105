package httpapi

import (
	"container/list"
	"context"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/frontpayment/fpexport/internal/store"
)

// Untrusted callbacks (store.Untrusted: neither accepted nor orphan) are
// bounded, so that anyone who can reach the callback path cannot fill the
// database, the log or the report (issue 10, point 4). Each source (an
// address, an IPv6 one as its /64: store.CallbackSource) has a token
// bucket; past it a request is answered 429 with Retry-After and nothing is
// stored. Within it, a callback is stored while its source has stored fewer
// than PerSourceHour this hour and all sources fewer than TotalHour; past
// those it is answered as usual but only counted. Counts go to table
// untrusted_callback_counts every FlushEvery, in one statement, never one
// write per request. Authentic callbacks never pass through here: a flood
// of forgeries cannot delay or refuse FP's.
//
// The limits hold per worker process (each keeps its own buckets and
// hourly tallies); with N processes behind one address, N times as many
// may be stored.

// UntrustedLimits bounds untrusted callbacks; a zero field takes its
// default (DefaultUntrustedLimits).
type UntrustedLimits struct {
	Burst         int           // requests a source may send at once
	PerSecond     float64       // and then, sustained
	PerSourceHour int           // rows one source may store an hour
	TotalHour     int           // rows all sources may store an hour
	MaxSources    int           // sources remembered; the least recently seen go first
	FlushEvery    time.Duration // how often counts are written
}

// DefaultUntrustedLimits: FP's own callbacks are all trusted, so these only
// need to leave room for a few honest mistakes (a misconfigured proxy, an
// old callbackUrl) to be seen in full. 500 rows an hour is at most 360 000
// rows over the default 30-day retention (each at most ~8 KB of raw text,
// a forgery typically a few hundred bytes).
var DefaultUntrustedLimits = UntrustedLimits{
	Burst: 20, PerSecond: 1, PerSourceHour: 60, TotalHour: 500, MaxSources: 10_000, FlushEvery: 2 * time.Second,
}

func (l UntrustedLimits) withDefaults() UntrustedLimits {
	d := DefaultUntrustedLimits
	if l.Burst <= 0 {
		l.Burst = d.Burst
	}
	if l.PerSecond <= 0 {
		l.PerSecond = d.PerSecond
	}
	if l.PerSourceHour <= 0 {
		l.PerSourceHour = d.PerSourceHour
	}
	if l.TotalHour <= 0 {
		l.TotalHour = d.TotalHour
	}
	if l.MaxSources <= 0 {
		l.MaxSources = d.MaxSources
	}
	if l.FlushEvery <= 0 {
		l.FlushEvery = d.FlushEvery
	}
	return l
}

// maxPendingCounts bounds the counts held between two flushes: past it,
// new keys are folded into one source, so that a flood from many sources
// cannot grow memory either.
const maxPendingCounts = 10_000

// foldedSource is the source of counts folded because too many were
// pending.
const foldedSource = "(many sources)"

// UntrustedMetrics is what the gate reports to the metrics, when they
// implement it (metrics.Metrics does).
type UntrustedMetrics interface {
	UntrustedNotStored(reason string)
}

// untrustedGate holds the buckets, the hourly tallies and the pending
// counts of one process.
type untrustedGate struct {
	lim     UntrustedLimits
	db      store.DB
	logger  *slog.Logger
	metrics UntrustedMetrics

	mu       sync.Mutex
	sources  map[string]*list.Element // of *sourceState; lru's front is the most recent
	lru      *list.List
	hour     time.Time // the hour total counts
	total    int       // rows stored this hour, all sources
	pending  map[countKey]int64
	flushing bool // a flusher goroutine runs
}

type sourceState struct {
	key    string
	tokens float64
	last   time.Time // of the last refill
	hour   time.Time // the hour stored counts
	stored int
}

type countKey struct {
	hour                    time.Time
	source, verdict, reason string
}

func newUntrustedGate(lim UntrustedLimits, db store.DB, logger *slog.Logger, m UntrustedMetrics) *untrustedGate {
	if nilDB(db) {
		db = nil // a nil *pgxpool.Pool inside the interface is not nil: no flusher must start on it
	}
	return &untrustedGate{lim: lim.withDefaults(), db: db, logger: logger, metrics: m,
		sources: map[string]*list.Element{}, lru: list.New(), pending: map[countKey]int64{}}
}

// nilDB reports whether db is nil or holds a nil pointer (a Server
// without a Pool hands its nil *pgxpool.Pool over as a non-nil store.DB).
func nilDB(db store.DB) bool {
	if db == nil {
		return true
	}
	v := reflect.ValueOf(db)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// decision is what becomes of one untrusted callback.
type decision struct {
	store      bool          // store it
	reason     string        // else why not (store.NotStored…)
	retryAfter time.Duration // for NotStoredRateLimited: when a token is back
}

// admit decides for one untrusted callback of source with verdict arriving
// at now, and counts it when it is not to be stored.
func (g *untrustedGate) admit(source, verdict string, now time.Time) decision {
	hour := now.Truncate(time.Hour)
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.source(source, now)
	st.tokens = math.Min(float64(g.lim.Burst), st.tokens+now.Sub(st.last).Seconds()*g.lim.PerSecond)
	st.last = now
	if st.tokens < 1 {
		wait := time.Duration(math.Ceil((1 - st.tokens) / g.lim.PerSecond * float64(time.Second)))
		return g.notStored(hour, source, verdict, store.NotStoredRateLimited, wait)
	}
	st.tokens--
	if !st.hour.Equal(hour) {
		st.hour, st.stored = hour, 0
	}
	if !g.hour.Equal(hour) {
		g.hour, g.total = hour, 0
	}
	switch {
	case st.stored >= g.lim.PerSourceHour:
		return g.notStored(hour, source, verdict, store.NotStoredSourceCap, 0)
	case g.total >= g.lim.TotalHour:
		return g.notStored(hour, source, verdict, store.NotStoredTotalCap, 0)
	}
	st.stored++
	g.total++
	return decision{store: true}
}

// source returns the state of a source, created with a full bucket when
// new; the least recently seen is forgotten when there are too many. A
// forgotten source starts afresh, but the hour's total still bounds what
// all of them store.
func (g *untrustedGate) source(key string, now time.Time) *sourceState {
	if e, ok := g.sources[key]; ok {
		g.lru.MoveToFront(e)
		return e.Value.(*sourceState)
	}
	if g.lru.Len() >= g.lim.MaxSources {
		oldest := g.lru.Back()
		g.lru.Remove(oldest)
		delete(g.sources, oldest.Value.(*sourceState).key)
	}
	st := &sourceState{key: key, tokens: float64(g.lim.Burst), last: now}
	g.sources[key] = g.lru.PushFront(st)
	return st
}

// notStored counts a callback that is not stored, to be written at the next
// flush. Called with g.mu held.
func (g *untrustedGate) notStored(hour time.Time, source, verdict, reason string, wait time.Duration) decision {
	k := countKey{hour, source, verdict, reason}
	if _, ok := g.pending[k]; !ok && len(g.pending) >= maxPendingCounts {
		k.source = foldedSource
	}
	g.pending[k]++
	if g.metrics != nil {
		g.metrics.UntrustedNotStored(reason)
	}
	if !g.flushing && g.db != nil {
		g.flushing = true
		go g.flushLoop()
	}
	return decision{reason: reason, retryAfter: wait}
}

// flushLoop writes the pending counts every FlushEvery until there are
// none; a failed write keeps them for the next round (the database may be
// away for a while: the pending map stays bounded meanwhile).
func (g *untrustedGate) flushLoop() {
	t := time.NewTicker(g.lim.FlushEvery)
	defer t.Stop()
	for range t.C {
		if !g.flush() {
			return
		}
	}
}

// flush writes what is pending and reports whether the loop must go on.
func (g *untrustedGate) flush() bool {
	g.mu.Lock()
	batch := g.pending
	if len(batch) == 0 {
		g.flushing = false
		g.mu.Unlock()
		return false
	}
	g.pending = map[countKey]int64{}
	g.mu.Unlock()

	counts := make([]store.UntrustedCount, 0, len(batch))
	var n int64
	byReason := map[string]int64{}
	for k, c := range batch {
		counts = append(counts, store.UntrustedCount{Hour: k.hour, Source: k.source, Verdict: k.verdict, Reason: k.reason, Count: c})
		n += c
		byReason[k.reason] += c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.AddUntrustedCounts(ctx, g.db, counts); err != nil {
		g.logger.Warn("writing untrusted callback counts failed; kept for the next try", "error", err, "callbacks", n)
		g.mu.Lock()
		for k, c := range batch {
			if _, ok := g.pending[k]; !ok && len(g.pending) >= maxPendingCounts {
				k.source = foldedSource
			}
			g.pending[k] += c
		}
		g.mu.Unlock()
		return true
	}
	// One line per flush instead of one per request: the log is bounded too.
	g.logger.Warn("untrusted callbacks counted, not stored", "callbacks", n, "sources", len(batch),
		"rate_limited", byReason[store.NotStoredRateLimited], "source_cap", byReason[store.NotStoredSourceCap],
		"total_cap", byReason[store.NotStoredTotalCap])
	return true
}

// gateUntrusted applies the gate to an untrusted callback and, when it is
// not to be stored, answers it and returns true. One that is not untrusted
// (accepted, awaiting FP's word; an orphan is only known once stored, and is
// stored) always passes.
func (s *Server) gateUntrusted(w http.ResponseWriter, in *store.CallbackIn, req *callbackRequest) bool {
	if !store.Untrusted(in.Verdict) {
		return false
	}
	s.untrustedOnce.Do(func() {
		m, _ := s.Metrics.(UntrustedMetrics)
		s.untrusted = newUntrustedGate(s.UntrustedLimits, s.Pool, s.Logger, m)
	})
	d := s.untrusted.admit(store.CallbackSource(in.RemoteAddr), in.Verdict, time.Now())
	if d.store {
		return false
	}
	s.countCallback(in.Verdict)
	if d.reason == store.NotStoredRateLimited {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.retryAfter.Seconds()))))
		http.Error(w, "too many untrusted callbacks", http.StatusTooManyRequests)
		return true
	}
	// Answered as a stored one would be: a sender cannot tell.
	switch {
	case req.refuse != 0:
		http.Error(w, req.reason, req.refuse)
	case in.Verdict == store.VerdictMalformed:
		http.Error(w, "malformed callback", http.StatusBadRequest)
	default:
		http.Error(w, "callback not trusted", http.StatusForbidden)
	}
	return true
}
