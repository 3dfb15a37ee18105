package throttle

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Held answers (issue 10, point 6).
//
// FP has no idempotency key: an answer FP gave is the only record of what
// it did. When the database is away just as an answer arrives, the submit
// job keeps that answer in hand and tries to record it until the database
// is back, however long that takes. Meanwhile:
//
//   - this process sends nothing new (its share of the concurrency counts
//     as zero and Acquire tells callers to come back later), so no more
//     answers pile up in memory; so too while its heartbeat fails;
//   - the attempt carries this process's sender id, and another run of the
//     job (River's rescuer) that finds the attempt open leaves it alone while
//     the sender is alive (SenderAlive), instead of sending it again;
//   - a process that itself lost the database does not judge anyone dead
//     until HoldGrace after it got it back: everyone's heartbeat lapsed
//     during the outage, and the holders need a moment to renew theirs.

// Answer describes an FP answer held in hand, for the logs: ids and FP's
// order id, never personal data.
type Answer struct {
	OrderID     int64
	OrderRef    string
	Kind        string
	AttemptID   int64
	Attempt     int
	Outcome     string
	HTTPStatus  int
	FPOrderUUID string
}

// holdState is the process's answers in hand and what it saw of the
// database; guarded by Throttle.mu.
type holdState struct {
	held   map[*Answer]struct{}
	inHand map[int64]int // attempts of this process not yet recorded, by id
	away   bool          // the latest heartbeat or recording failed
	backAt time.Time     // when the database answered again after being away
	giveUp chan struct{}
	gaveUp bool
}

// HoldAnswer registers an answer that could not be recorded: until release
// is called this process sends nothing new. release is safe to call twice.
func (t *Throttle) HoldAnswer(a Answer) (release func()) {
	if t == nil {
		return func() {}
	}
	p := &a
	t.mu.Lock()
	t.hold.held[p] = struct{}{}
	t.hold.away = true
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			delete(t.hold.held, p)
			if len(t.hold.held) == 0 {
				t.grantLocked()
			}
			t.mu.Unlock()
		})
	}
}

// Track notes an attempt of this process from its commit until its job
// run ends: in flight, being recorded, or held. untrack is safe to call
// twice.
func (t *Throttle) Track(attemptID int64) (untrack func()) {
	if t == nil {
		return func() {}
	}
	t.mu.Lock()
	t.hold.inHand[attemptID]++
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			if t.hold.inHand[attemptID]--; t.hold.inHand[attemptID] <= 0 {
				delete(t.hold.inHand, attemptID)
			}
			t.mu.Unlock()
		})
	}
}

// Holding is the number of answers this process holds unrecorded.
func (t *Throttle) Holding() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.hold.held)
}

// Held lists the answers held, for the log of a stop that gives up on them.
func (t *Throttle) Held() []Answer {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Answer, 0, len(t.hold.held))
	for a := range t.hold.held {
		out = append(out, *a)
	}
	return out
}

// GiveUp is closed when the process stops and can wait no longer for the
// database: the holders log what they hold and return.
func (t *Throttle) GiveUp() <-chan struct{} {
	if t == nil {
		return nil
	}
	return t.hold.giveUp
}

// GiveUpHeld tells the holders to give up (a stop whose time is up).
func (t *Throttle) GiveUpHeld() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.hold.gaveUp {
		t.hold.gaveUp = true
		close(t.hold.giveUp)
	}
}

// DatabaseAway notes that the database could not be reached (a heartbeat
// or a recording failed).
func (t *Throttle) DatabaseAway() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.hold.away = true
	t.mu.Unlock()
}

// databaseBack notes that a statement went through; the first after an
// outage starts the grace.
func (t *Throttle) databaseBack() {
	t.mu.Lock()
	if t.hold.away {
		t.hold.away = false
		t.hold.backAt = time.Now()
		t.grantLocked()
	}
	t.mu.Unlock()
}

// inGrace: this process lost the database, now or less than HoldGrace ago.
func (t *Throttle) inGrace() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hold.away || !t.hold.backAt.IsZero() && time.Since(t.hold.backAt) < t.cfg.HoldGrace
}

// holdingLocked: answers are held, or the database was found away (the
// latest heartbeat failed), so nothing new goes out: its answer could not
// be recorded either. A request whose attempt is committed waits in Go.
func (t *Throttle) holdingLocked() bool { return len(t.hold.held) > 0 || t.hold.away }

// ID is this process's sender id, recorded on each attempt it starts.
func (t *Throttle) ID() string {
	if t == nil {
		return ""
	}
	return t.id
}

// SenderAlive tells whether the sender of an open attempt may still hold
// its answer, so the attempt must not be taken for abandoned. An attempt of
// an older version (no sender) is judged as before: abandoned.
//
// This process knows exactly: the attempt is in hand (Track) or not.
// Another sender may hold it: while this process is within HoldGrace of an
// outage of its own (every heartbeat lapsed during it); while the database
// itself restarted less than HoldGrace ago (fp_senders is unlogged: a crash
// empties it); or while the sender says it holds answers (holding > 0,
// written before each of its tries to record) and beat less than HoldGrace
// ago. A sender whose heartbeat is fresh but that holds nothing does not
// hold this attempt: a holder that reaches the database records within
// seconds, and its row says holding until then. (Without that, an attempt
// whose commit reply was lost to its live sender would wait forever.)
func (t *Throttle) SenderAlive(ctx context.Context, db Querier, sender string, attemptID int64) (bool, error) {
	if t == nil || sender == "" {
		return false, nil
	}
	if sender == t.id {
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.hold.inHand[attemptID] > 0, nil
	}
	if t.inGrace() {
		return true, nil
	}
	var alive bool
	err := db.QueryRow(ctx, `SELECT pg_postmaster_start_time() > now() - $2 * interval '1 second'
		OR EXISTS (SELECT 1 FROM fp_senders WHERE id = $1 AND holding > 0 AND seen_at > now() - $2 * interval '1 second')`,
		sender, t.cfg.HoldGrace.Seconds()).Scan(&alive)
	if err != nil {
		return false, fmt.Errorf("is sender %s alive: %w", sender, err)
	}
	return alive, nil
}

// Refresh renews this process's heartbeat (with the number of answers it
// holds) at once: a holder calls it before each try to record, so that it
// is seen alive as soon as the database is back.
func (t *Throttle) Refresh(ctx context.Context) error {
	if t == nil {
		return nil
	}
	_, err := t.pool.Exec(ctx, `INSERT INTO fp_senders (id, holding) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET seen_at = now(), holding = $2`, t.id, t.Holding())
	if err == nil {
		t.databaseBack()
	}
	return err
}
