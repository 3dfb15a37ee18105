package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// healthTimeout bounds the database reads of a health check: a monitor must
// get its answer even when the database hangs.
const healthTimeout = 2 * time.Second

// healthz answers 200 while the process serves: it is the liveness check
// (restart the process when it fails). The body also shows the shared
// throttle's state when the database answers, for a human; a problem there
// is /readyz's business, not a reason to restart.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	body := map[string]any{"status": "ok"}
	if st, err := throttle.ReadState(ctx, s.Pool); err != nil {
		body["database"] = "unreachable"
	} else {
		addThrottleState(body, st)
	}
	writeHealth(w, http.StatusOK, body)
}

// readyz answers 200 only when the worker can do its job: the database
// answers, its schema is the one this binary expects, and FP has not
// refused our token. Otherwise 503 with the reason, for a monitor or a load
// balancer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	st, err := throttle.ReadState(ctx, s.Pool)
	if err != nil {
		writeHealth(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reason": "database unreachable"})
		return
	}
	pending, err := store.PendingMigrations(ctx, s.Pool)
	if err != nil {
		writeHealth(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reason": "database unreachable"})
		return
	}
	if len(pending) > 0 {
		writeHealth(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready",
			"reason": fmt.Sprintf("database schema is not current (pending %v): run `worker migrate`", pending)})
		return
	}
	body := map[string]any{"status": "ok"}
	addThrottleState(body, st)
	if st.PausedSince != nil {
		// The worker runs but cannot send: an operator must fix the token.
		body["status"] = "not ready"
		body["reason"] = "submitting paused: " + st.PauseReason
		writeHealth(w, http.StatusServiceUnavailable, body)
		return
	}
	writeHealth(w, http.StatusOK, body)
}

// addThrottleState adds what the shared limits show: live worker processes,
// FP's budget, and a pause with its reason.
func addThrottleState(body map[string]any, st throttle.State) {
	body["fp_senders"] = st.Senders
	if st.FPLimit != nil && st.FPRemaining != nil {
		body["fp_ratelimit"] = map[string]int{"limit": *st.FPLimit, "remaining": max(*st.FPRemaining, 0)}
	}
	if st.PausedSince != nil {
		body["submitting"] = "paused"
		body["pause_reason"] = st.PauseReason
		body["paused_since"] = st.PausedSince.UTC().Format(time.RFC3339)
	}
}

func writeHealth(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
