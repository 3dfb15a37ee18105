package fpfake

import (
	"math"
	"math/rand/v2"
	"time"
)

// Faults are the misbehaviours and answer variants a test can switch on, at
// any time (SetFaults, UpdateFaults); the zero value is a healthy FP.
//
// Faults target the four create endpoints and the two actions (resend,
// cancel; gateway-after and drop there mean the action was taken on); set IncludeStatus to aim the
// before-answer faults (latency, gateway, 429, 500/510) at the status
// endpoint too. Selection is deterministic: a "…First" counter is spent by
// the next requests that reach that point, and a "…Rate" fires for that
// fraction of them, spread evenly (rate 0.25 fires on the 1st, 5th, 9th, …)
// unless Seed is set, in which case a PCG generator seeded with it decides.
// When several apply, the order is: latency, gateway (before FP), auth, 429,
// 500, 510, validation, create/update, then gateway-after, drop.
type Faults struct {
	// Latency delays each targeted request before anything else happens.
	Latency time.Duration

	// GatewayFirst / GatewayRate: a gateway in front of FP answers
	// GatewayStatus (502 by default; 503, 504 also make sense) with an HTML
	// page, before FP sees the request: no order is created.
	GatewayFirst int
	GatewayRate  float64
	// GatewayAfterFirst / GatewayAfterRate: FP creates (or updates) the
	// order, then the gateway answers GatewayStatus instead of FP's 201.
	GatewayAfterFirst int
	GatewayAfterRate  float64
	GatewayStatus     int

	// RateLimitNext answers the next N authenticated, targeted requests 429
	// with Retry-After (RetryAfter rounded up to whole seconds, default 1s).
	RateLimitNext int
	RetryAfter    time.Duration
	// LimitPerMinute enforces K requests per minute per token on every
	// authenticated request, as FP's throttle would (0: not enforced; the
	// headers still announce FP's 240). A refused request answers 429 with
	// Retry-After up to the next minute and does not count.
	LimitPerMinute int

	// Fail500First / Fail500Rate, Fail510First / Fail510Rate: FP answers
	// 500 "Internal Dependency Error" or 510 "Execution Exception Occurred"
	// in its envelope, without creating the order.
	Fail500First int
	Fail500Rate  float64
	Fail510First int
	Fail510Rate  float64

	// DropFirst / DropRate: "accept then drop". FP creates (or updates) the
	// order, then the connection is closed without a byte of answer.
	DropFirst int
	DropRate  float64

	// Seed, when not zero, makes the …Rate faults random (but repeatable).
	Seed uint64

	// IncludeStatus aims the faults at GET orders/status too.
	IncludeStatus bool

	// ErrorsAsObject answers 417 with errors as an object of field → list
	// of messages ({"customerDetails.email": ["The customer details.email
	// must be …"]}) instead of FP's flat list. Clients must read both.
	ErrorsAsObject bool
	// PaymentLinkNullData makes the payment-link endpoint answer its other
	// documented 201 form: "is_data": false, "data": null (no order id).
	PaymentLinkNullData bool
}

// faultState is what deciding faults remembers besides the remaining
// counters, which live in Faults itself so that Faults() shows them.
type faultState struct {
	seen map[string]int64
	rng  *rand.Rand
}

func newFaultState(f Faults) faultState {
	st := faultState{seen: map[string]int64{}}
	if f.Seed != 0 {
		st.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	}
	return st
}

// fire decides one fault for one eligible request, spending its counter.
func (st *faultState) fire(name string, first *int, rate float64) bool {
	if *first > 0 {
		*first--
		return true
	}
	if rate <= 0 {
		return false
	}
	n := st.seen[name]
	st.seen[name] = n + 1
	if rate >= 1 {
		return true
	}
	if st.rng != nil {
		return st.rng.Float64() < rate
	}
	// Even spread in integer arithmetic (parts per million), so that after
	// n requests exactly ceil(n × rate) have failed, with no float drift.
	ppm := int64(math.Round(rate * 1e6))
	return ceilDiv((n+1)*ppm, 1e6) > ceilDiv(n*ppm, 1e6)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// SetFaults replaces every fault and variant; counters restart from f.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.fstate = newFaultState(f)
}

// UpdateFaults changes the faults in place under the lock, e.g.
// s.UpdateFaults(func(f *Faults) { f.Fail500First = 3 }), keeping the
// state of the rates that did not change.
func (s *Server) UpdateFaults(change func(f *Faults)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seed := s.faults.Seed
	change(&s.faults)
	if s.faults.Seed != seed {
		s.fstate = newFaultState(s.faults)
	}
}

// Faults returns the current faults, with the counters that are left.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}
