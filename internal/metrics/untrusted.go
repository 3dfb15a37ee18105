package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// untrustedNotStored holds each Metrics' counter of untrusted callbacks not
// stored. It lives beside the struct rather than in it, and is registered
// on first use, so that this metric stays in a file of its own.
var untrustedNotStored sync.Map // *Metrics → *prometheus.CounterVec

// untrustedReasons are store.NotStored…, listed so that every reason shows
// from the first one counted (metrics does not import store for three
// strings).
var untrustedReasons = []string{"rate_limited", "source_cap", "total_cap"}

// UntrustedNotStored counts one untrusted callback that was not stored:
// rate_limited (answered 429), source_cap or total_cap (over the hourly
// caps: answered, counted in the database, not stored).
func (m *Metrics) UntrustedNotStored(reason string) {
	if m == nil {
		return
	}
	v, ok := untrustedNotStored.Load(m)
	if !ok {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fpexport_untrusted_callbacks_not_stored_total",
			Help: "Untrusted callbacks (neither accepted nor orphan) not stored, by reason: rate_limited (answered 429), " +
				"source_cap (the source stored its hourly share), total_cap (the hourly total was stored). Per process.",
		}, []string{"reason"})
		var loaded bool
		if v, loaded = untrustedNotStored.LoadOrStore(m, c); !loaded {
			for _, r := range untrustedReasons {
				c.WithLabelValues(r)
			}
			m.reg.MustRegister(c)
		}
	}
	v.(*prometheus.CounterVec).WithLabelValues(reason).Inc()
}
