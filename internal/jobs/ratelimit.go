package jobs

import (
	"context"
	"sync"
	"time"
)

// RateLimiter spaces requests evenly at a fixed rate. It is per process; a
// limit shared by all worker processes is tracked in issue 4.
type RateLimiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

// NewRateLimiter allows perSecond requests a second; 0 or less means no limit.
func NewRateLimiter(perSecond float64) *RateLimiter {
	if perSecond <= 0 {
		return &RateLimiter{}
	}
	return &RateLimiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

// Wait blocks until the caller may send, or ctx ends.
func (l *RateLimiter) Wait(ctx context.Context) error {
	if l == nil || l.interval == 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.interval)
	l.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
