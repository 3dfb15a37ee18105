package httpapi

import (
	"net/http"
	"sync"
	"sync/atomic"
)

// StartRetryAfter is what a request waits before it tries again while the
// worker waits for its database (seconds, the Retry-After header).
const StartRetryAfter = "10"

// Starting holds the worker's doors half open while it waits for its
// database: the listeners are up at once, so a supervisor sees a live
// process (/healthz 200) that is not ready yet (/readyz 503 with the
// reason), and every other request, FP's callbacks included, is asked to
// come back (503, Retry-After): FP resends a callback that did not get 2xx.
// Once Open, requests go to the handler unchanged.
type Starting struct {
	open   atomic.Bool
	mu     sync.Mutex
	reason string
}

// NewStarting returns a closed gate.
func NewStarting() *Starting {
	return &Starting{reason: "starting: the database has not been reached yet"}
}

// SetReason says why the worker is not ready yet (shown on /readyz and
// /healthz); it must hold no secret.
func (g *Starting) SetReason(reason string) {
	g.mu.Lock()
	g.reason = reason
	g.mu.Unlock()
}

// Open lets every request through from now on.
func (g *Starting) Open() { g.open.Store(true) }

// IsOpen reports whether Open was called.
func (g *Starting) IsOpen() bool { return g.open.Load() }

func (g *Starting) currentReason() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reason
}

// Wrap answers for next until the gate is open.
func (g *Starting) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.open.Load() {
			next.ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case "/healthz":
			writeHealth(w, http.StatusOK, map[string]any{"status": "ok", "state": "starting", "reason": g.currentReason()})
		case "/readyz":
			writeHealth(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "state": "starting", "reason": g.currentReason()})
		default:
			w.Header().Set("Retry-After", StartRetryAfter)
			http.Error(w, "starting: waiting for the database, try again later", http.StatusServiceUnavailable)
		}
	})
}
