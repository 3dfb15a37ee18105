// Package throttle paces requests to Front Payment for every worker process
// that shares the database, not per process.
//
// Three limits hold across processes, all kept in PostgreSQL (migrations
// 0003_throttle.sql):
//
//   - the rate (FP_RATE_LIMIT): every request takes the next free slot from
//     one row, in one UPDATE, so slots are spaced 1/rate apart whichever
//     process takes them, on the database's clock;
//   - FP's own budget (x-ratelimit-limit / x-ratelimit-remaining, per
//     minute and token): the remaining budget is spread over what is left
//     of FP's window, so when someone else spends it too, or FP lowers it,
//     the pace drops before FP answers 429;
//   - the concurrency (FP_CONCURRENCY): each live process gets a share of it
//     through a heartbeat table; a newcomer sends nothing until the others
//     have had a heartbeat to shrink, so the shares never add up to more.
//
// A refused token (401/403) pauses all sending: one request probes once per
// pause period, the rest wait, and /healthz reports it.
package throttle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

// PaceMargin: requests are paced at 99.5 % of the configured rate. FP
// counts requests per fixed minute; at exactly its 240 a minute, a few
// milliseconds of timer jitter at a minute's edge would make a 241st and a
// 429. The margin (1.2 s a minute at 4/s) absorbs that and stays well within
// 2 % of the rate.
const PaceMargin = 0.995

// Config is what a Throttle needs.
type Config struct {
	// RatePerSecond is the rate for all processes together; 0 means none.
	RatePerSecond float64
	// Concurrency is the number of requests in flight for all processes
	// together; at least 1.
	Concurrency int
	// Pause is how long sending waits after FP refused the token before
	// one request probes again (default 1 min).
	Pause time.Duration
	// MaxWait: a request that would wait longer for its slot does not take
	// one; the caller is told to come back later (default 10 s).
	MaxWait time.Duration
	// Heartbeat is how often the process renews its share (default 1 s).
	Heartbeat time.Duration
	// HoldGrace: after an outage of the database, how long a sender whose
	// heartbeat lapsed is still taken for alive, and a holder's heartbeat
	// for fresh (default 45 s; see hold.go).
	HoldGrace time.Duration
	Logger    *slog.Logger
	// Metrics counts the requests held back and for how long; nil: none.
	Metrics WaitMetrics
}

// WaitMetrics is what the throttle reports to the metrics
// (metrics.Metrics implements it). reason is pace (waited in place for the
// rate slot), budget (FP's budget spent or the slot too far off: the caller
// snoozes) or paused (the token was refused: the caller snoozes).
type WaitMetrics interface {
	RateLimitWait(reason string, d time.Duration)
}

// Throttle is one process's handle on the shared limits.
type Throttle struct {
	pool     *pgxpool.Pool
	cfg      Config
	id       string
	interval time.Duration
	stage    chan struct{} // requests between their rate slot and Go

	// seen is FP's budget from this process's latest answer, not yet
	// written: the next reserve writes it in the same statement.
	seenMu sync.Mutex
	seen   *fpclient.RateLimit

	mu       sync.Mutex
	waiters  []chan struct{} // first come, first served; closed when granted
	inFlight int
	share    int
	started  bool
	hold     holdState
}

// New returns a throttle; Run must run for it to hand out anything.
func New(pool *pgxpool.Pool, cfg Config) *Throttle {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	if cfg.Pause <= 0 {
		cfg.Pause = time.Minute
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 10 * time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	if cfg.HoldGrace <= 0 {
		cfg.HoldGrace = 45 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Throttle{pool: pool, cfg: cfg, id: senderID(), stage: make(chan struct{}, stageDepth)}
	t.hold = holdState{held: map[*Answer]struct{}{}, inHand: map[int64]int{}, giveUp: make(chan struct{})}
	if cfg.RatePerSecond > 0 {
		t.interval = time.Duration(float64(time.Second) / (cfg.RatePerSecond * PaceMargin))
	}
	return t
}

func senderID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Wait is returned by Acquire when the caller should not wait in place:
// sending is paused, or its slot is further off than MaxWait. The caller
// comes back after For (a River job snoozes), spending nothing.
type Wait struct {
	For    time.Duration
	Paused bool
	Reason string // why sending is paused
	// Holding: this process holds FP answers it could not record yet.
	Holding bool
}

func (w *Wait) Error() string {
	if w.Holding {
		return fmt.Sprintf("FP answers wait to be recorded (database away); retry in %s", w.For.Round(time.Second))
	}
	if w.Paused {
		return fmt.Sprintf("sending to FP is paused (%s); retry in %s", w.Reason, w.For.Round(time.Second))
	}
	return fmt.Sprintf("FP's request budget is spent; next slot in %s", w.For.Round(time.Second))
}

// stageDepth is how many requests of a process may hold a rate slot and
// record their attempt while waiting for a place in the concurrency. Three
// keep the places busy (the next request is ready when one frees) while
// few attempts are ever committed but not yet sent.
const stageDepth = 3

// holdWait is how long a request comes back later while answers are held.
const holdWait = 5 * time.Second

// Slot is a request's rate slot, and once Go returned, its place in the
// concurrency. A Slot is used by one goroutine.
type Slot struct {
	t *Throttle
	// Probe is set when sending was paused and this request checks whether
	// FP takes the token again.
	Probe     bool
	staged    bool
	permitted bool
}

// Go waits for a place in the concurrency: call it right before the
// request goes out, after its attempt is recorded.
func (s *Slot) Go(ctx context.Context) error {
	if s == nil || s.t == nil || s.permitted {
		return nil
	}
	if err := s.t.acquireLocal(ctx); err != nil {
		return err
	}
	s.permitted = true
	s.unstage()
	return nil
}

// Release gives back what the slot holds. Safe to call more than once.
func (s *Slot) Release() {
	if s == nil || s.t == nil {
		return
	}
	s.unstage()
	if s.permitted {
		s.permitted = false
		s.t.releaseLocal()
	}
}

func (s *Slot) unstage() {
	if s.staged {
		s.staged = false
		<-s.t.stage
	}
}

// Acquire blocks until the request's rate slot has come, and returns it;
// the caller then records its attempt and calls Go. It returns a *Wait
// error instead when the caller should come back later. A nil Throttle
// limits nothing.
//
// The concurrency place is taken last (Go), so it covers only the request
// itself; the rate slot first, so a request never waits for its slot with
// an attempt already recorded.
func (t *Throttle) Acquire(ctx context.Context) (*Slot, error) {
	if t == nil {
		return &Slot{}, nil
	}
	t.mu.Lock()
	holding := t.holdingLocked()
	t.mu.Unlock()
	if holding {
		// Nothing new while an answer waits to be recorded (hold.go).
		return nil, &Wait{For: holdWait, Holding: true}
	}
	select {
	case t.stage <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	slot := &Slot{t: t, staged: true}
	wait, err := t.reserve(ctx, slot)
	if err != nil {
		slot.Release()
		return nil, err
	}
	if wait > 0 {
		t.countWait("pace", wait)
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			slot.Release()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
	return slot, nil
}

// reserve takes the next rate slot in one statement, and returns how long
// to wait for it. Paused, or a slot beyond MaxWait, takes nothing and
// returns a *Wait.
func (t *Throttle) reserve(ctx context.Context, slot *Slot) (time.Duration, error) {
	var (
		paused, probe, tooFar bool
		waitSec, pauseLeft    float64
		reason                string
	)
	seenLimit, seenRemaining := -1, 0
	t.seenMu.Lock()
	if t.seen != nil {
		seenLimit, seenRemaining = t.seen.Limit, t.seen.Remaining
		t.seen = nil
	}
	t.seenMu.Unlock()
	args := []any{t.interval.Seconds(), t.cfg.MaxWait.Seconds(), t.cfg.Pause.Seconds(), seenLimit, seenRemaining, t.cfg.Concurrency + 2}
	err := t.pool.QueryRow(ctx, reserveSQL, args...).Scan(&paused, &probe, &tooFar, &waitSec, &pauseLeft, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		// The database crashed and emptied the unlogged table.
		if err = ensureRow(ctx, t.pool); err == nil {
			err = t.pool.QueryRow(ctx, reserveSQL, args...).Scan(&paused, &probe, &tooFar, &waitSec, &pauseLeft, &reason)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("taking a send slot: %w", err)
	}
	switch {
	case paused:
		w := &Wait{For: seconds(pauseLeft) + time.Second, Paused: true, Reason: reason}
		t.countWait("paused", w.For)
		return 0, w
	case tooFar:
		t.countWait("budget", seconds(waitSec))
		return 0, &Wait{For: seconds(waitSec)}
	}
	slot.Probe = probe
	return seconds(waitSec), nil
}

func (t *Throttle) countWait(reason string, d time.Duration) {
	if t.cfg.Metrics != nil {
		t.cfg.Metrics.RateLimitWait(reason, d)
	}
}

// ensureRow writes the throttle's row if it is missing.
func ensureRow(ctx context.Context, db *pgxpool.Pool) error {
	_, err := db.Exec(ctx, `INSERT INTO fp_throttle (id) VALUES (1) ON CONFLICT (id) DO NOTHING`)
	return err
}

// reserveSQL records FP's budget from this process's latest answer, then
// takes the next slot, in one statement. $1 the interval, $2 MaxWait, $3
// the pause, in seconds; $4, $5 FP's limit and remaining (-1: nothing new);
// $6 the most requests that can be in flight, plus two.
//
// FP's budget: within FP's window the recorded remaining only goes down
// (answers arrive out of order); a jump up by more than can be in flight
// is FP's next window, which is then taken to end a minute later. Each slot
// taken counts one off the recorded remaining.
const reserveSQL = `WITH cur AS (
			SELECT clock_timestamp() AS t, f.* FROM fp_throttle f WHERE f.id = 1 FOR UPDATE
		), seen AS (
			SELECT cur.*, $4::int >= 0 AND (fp_remaining IS NULL OR fp_window_ends IS NULL OR fp_window_ends <= t
				OR $5::int > fp_remaining + $6::int) AS new_window FROM cur
		), budget AS (
			SELECT seen.*,
				CASE WHEN $4::int < 0 THEN fp_window_ends WHEN new_window THEN t + interval '1 minute' ELSE fp_window_ends END AS w_ends,
				CASE WHEN $4::int < 0 THEN fp_remaining WHEN new_window THEN $5::int ELSE least(fp_remaining, $5::int) END AS w_rem
			FROM seen
		), plan AS (
			SELECT t, w_ends, w_rem, paused_since IS NOT NULL AND paused_until > t AS paused,
				paused_since IS NOT NULL AND paused_until <= t AS probe,
				paused_until, pause_reason,
				-- FP's budget spent: nothing before its window ends.
				greatest(next_send_at, t, CASE WHEN w_rem <= 0 AND w_ends > t THEN w_ends END) AS slot,
				-- What is left of FP's budget, spread over what is left of its window.
				CASE WHEN w_rem > 0 AND w_ends > t THEN (w_ends - t) / w_rem END AS budget_gap
			FROM budget
		), verdict AS (
			SELECT p.*, p.slot > p.t + $2 * interval '1 second' AS too_far FROM plan p
		)
		UPDATE fp_throttle f SET
			next_send_at = CASE WHEN v.paused OR v.too_far THEN f.next_send_at
				ELSE v.slot + greatest($1 * interval '1 second', coalesce(v.budget_gap, interval '0')) END,
			fp_limit = CASE WHEN $4::int < 0 THEN f.fp_limit ELSE $4::int END,
			fp_seen_at = CASE WHEN $4::int < 0 THEN f.fp_seen_at ELSE v.t END,
			fp_window_ends = v.w_ends,
			fp_remaining = CASE WHEN v.paused OR v.too_far THEN v.w_rem ELSE v.w_rem - 1 END,
			paused_until = CASE WHEN v.probe THEN v.t + $3 * interval '1 second' ELSE f.paused_until END
		FROM verdict v WHERE f.id = 1
		RETURNING v.paused, v.probe, v.too_far, extract(epoch FROM v.slot - v.t)::float8,
			CASE WHEN v.paused THEN extract(epoch FROM v.paused_until - v.t)::float8 ELSE 0 END, v.pause_reason`

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Observe keeps FP's own budget from an answer's x-ratelimit headers; the
// next slot this process takes writes it to the shared row (one statement
// per request, not two).
func (t *Throttle) Observe(rl fpclient.RateLimit) {
	if t == nil || rl.Limit <= 0 || rl.Remaining < 0 {
		return
	}
	t.seenMu.Lock()
	t.seen = &rl
	t.seenMu.Unlock()
}

// Defer keeps every process from sending for d (FP's Retry-After on a 429
// or 503).
func (t *Throttle) Defer(ctx context.Context, d time.Duration) error {
	if t == nil || d <= 0 {
		return nil
	}
	_, err := t.pool.Exec(ctx, `UPDATE fp_throttle SET next_send_at = greatest(next_send_at, clock_timestamp() + $1 * interval '1 second')
		WHERE id = 1`, d.Seconds())
	return err
}

// PausePeriod is how long sending waits after FP refused the token.
func (t *Throttle) PausePeriod() time.Duration {
	if t == nil {
		return time.Minute
	}
	return t.cfg.Pause
}

// Pause stops all sending because FP refused the token: reason says how
// (never the token itself). It reports whether sending was running until
// now, so the caller can log the change once.
func (t *Throttle) Pause(ctx context.Context, reason string) (started bool, err error) {
	if t == nil {
		return false, nil
	}
	err = t.pool.QueryRow(ctx, `UPDATE fp_throttle f SET paused_since = coalesce(f.paused_since, now()),
			paused_until = clock_timestamp() + $1 * interval '1 second', pause_reason = $2
		FROM (SELECT paused_since FROM fp_throttle WHERE id = 1 FOR UPDATE) old
		WHERE f.id = 1 RETURNING old.paused_since IS NULL`, t.cfg.Pause.Seconds(), reason).Scan(&started)
	return started, err
}

// Resume ends a pause: FP took the token again. It reports whether a pause
// was ended.
func (t *Throttle) Resume(ctx context.Context) (bool, error) {
	if t == nil {
		return false, nil
	}
	tag, err := t.pool.Exec(ctx, `UPDATE fp_throttle SET paused_since = NULL, paused_until = '-infinity', pause_reason = ''
		WHERE id = 1 AND paused_since IS NOT NULL`)
	return tag.RowsAffected() > 0, err
}

// State is what /healthz shows of the shared limits.
type State struct {
	PausedSince *time.Time
	PauseReason string
	FPLimit     *int
	FPRemaining *int
	Senders     int
}

// Querier is what ReadState needs: a pool, a connection or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ReadState reads the shared state.
func ReadState(ctx context.Context, db Querier) (State, error) {
	var s State
	err := db.QueryRow(ctx, `SELECT paused_since, pause_reason, fp_limit, fp_remaining,
			(SELECT count(*) FROM fp_senders WHERE seen_at > now() - interval '10 seconds')
		FROM fp_throttle WHERE id = 1`).Scan(&s.PausedSince, &s.PauseReason, &s.FPLimit, &s.FPRemaining, &s.Senders)
	return s, err
}

// acquireLocal waits for a free place in this process's share, first come
// first served.
func (t *Throttle) acquireLocal(ctx context.Context) error {
	t.mu.Lock()
	if t.inFlight < t.share && len(t.waiters) == 0 && !t.holdingLocked() {
		t.inFlight++
		t.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	t.waiters = append(t.waiters, ch)
	t.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		t.mu.Lock()
		defer t.mu.Unlock()
		for i, w := range t.waiters {
			if w == ch {
				t.waiters = append(t.waiters[:i], t.waiters[i+1:]...)
				return ctx.Err()
			}
		}
		// Granted just as ctx ended: give the place back.
		t.inFlight--
		t.grantLocked()
		return ctx.Err()
	}
}

func (t *Throttle) releaseLocal() {
	t.mu.Lock()
	t.inFlight--
	t.grantLocked()
	t.mu.Unlock()
}

// grantLocked hands free places to the waiters in order.
func (t *Throttle) grantLocked() {
	for t.inFlight < t.share && len(t.waiters) > 0 && !t.holdingLocked() {
		close(t.waiters[0])
		t.waiters = t.waiters[1:]
		t.inFlight++
	}
}

// Share is this process's current share of the concurrency.
func (t *Throttle) Share() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.share
}

// Run keeps this process's heartbeat and share until ctx ends, then leaves
// the table so the others grow at once. Nothing is handed out before the
// first heartbeat.
func (t *Throttle) Run(ctx context.Context) error {
	t.mu.Lock()
	if t.started {
		t.mu.Unlock()
		return errors.New("throttle already running")
	}
	t.started = true
	t.mu.Unlock()
	defer func() {
		leave, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = t.pool.Exec(leave, `DELETE FROM fp_senders WHERE id = $1`, t.id)
	}()
	ticker := time.NewTicker(t.cfg.Heartbeat)
	defer ticker.Stop()
	failing := false
	for {
		if err := t.beat(ctx); err != nil && ctx.Err() == nil {
			t.DatabaseAway()
			if !failing {
				t.cfg.Logger.Warn("throttle heartbeat failed; keeping the last share", "error", err)
			}
			failing = true
		} else if err == nil {
			failing = false
			t.databaseBack()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// beat renews the heartbeat and recomputes the share. Every live process
// counts every other live one at once, so old processes shrink as soon as
// they see a newcomer; the newcomer uses its share only after two
// heartbeats (by then every other process has seen it), unless it is alone.
func (t *Throttle) beat(ctx context.Context) error {
	hb := t.cfg.Heartbeat.Seconds()
	if err := ensureRow(ctx, t.pool); err != nil {
		return err
	}
	if err := t.Refresh(ctx); err != nil {
		return err
	}
	// After an outage of its own, the process deletes no one: every
	// heartbeat lapsed, and the holders renew theirs first (hold.go). A
	// sender holding answers is kept for HoldGrace.
	if !t.inGrace() {
		if _, err := t.pool.Exec(ctx, `DELETE FROM fp_senders WHERE seen_at < now() - $1 * interval '1 second'
			AND NOT (holding > 0 AND seen_at > now() - $2 * interval '1 second')`, 10*hb, t.cfg.HoldGrace.Seconds()); err != nil {
			return err
		}
	}
	rows, err := t.pool.Query(ctx, `SELECT id, started_at <= now() - $1 * interval '1 second'
		FROM fp_senders WHERE seen_at >= now() - $2 * interval '1 second' ORDER BY started_at, id`, 2*hb, 3*hb)
	if err != nil {
		return err
	}
	var ids []string
	var settled []bool
	for rows.Next() {
		var id string
		var ok bool
		if err := rows.Scan(&id, &ok); err != nil {
			return err
		}
		ids = append(ids, id)
		settled = append(settled, ok)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	share := 0
	for i, id := range ids {
		if id != t.id {
			continue
		}
		if settled[i] || len(ids) == 1 {
			share = t.cfg.Concurrency / len(ids)
			if i < t.cfg.Concurrency%len(ids) {
				share++
			}
		}
	}
	t.mu.Lock()
	if share != t.share {
		t.share = share
		t.grantLocked()
	}
	t.mu.Unlock()
	return nil
}
