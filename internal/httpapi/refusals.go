package httpapi

import (
	"sync"
	"time"
)

// Refusals remembers the window in which callbacks could not be stored (the
// database was away and the receiver answered 503). FP retries a refused
// callback a few times and then gives up, so once the database is back the
// orders that could have been called back in the window are asked for at FP
// (jobargs.CatchupPollArgs). Kept in memory: the database is what failed. A
// process that dies before it hands the window on leaves a gap in the
// heartbeats instead, which the next start finds.
type Refusals struct {
	mu          sync.Mutex
	first, last time.Time
}

// Add notes a callback refused at t. A nil Refusals notes nothing.
func (r *Refusals) Add(t time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first.IsZero() || t.Before(r.first) {
		r.first = t
	}
	if t.After(r.last) {
		r.last = t
	}
}

// Take returns the window and forgets it; ok is false when nothing was
// refused. A caller that cannot hand the window on gives it back with Add.
func (r *Refusals) Take() (first, last time.Time, ok bool) {
	if r == nil {
		return first, last, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	first, last, ok = r.first, r.last, !r.first.IsZero()
	r.first, r.last = time.Time{}, time.Time{}
	return first, last, ok
}
