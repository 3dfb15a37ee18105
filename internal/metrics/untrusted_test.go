package metrics

import (
	"testing"

	"github.com/frontpayment/fpexport/internal/metrics/metricstest"
)

// Untrusted callbacks not stored are counted by reason; every reason shows
// once the first is counted; a nil *Metrics records nothing.
func TestUntrustedNotStored(t *testing.T) {
	t.Parallel()
	var none *Metrics
	none.UntrustedNotStored("rate_limited")
	m := New()
	m.UntrustedNotStored("rate_limited")
	m.UntrustedNotStored("rate_limited")
	m.UntrustedNotStored("total_cap")
	fams := scrape(t, m.Handler())
	for reason, want := range map[string]float64{"rate_limited": 2, "total_cap": 1, "source_cap": 0} {
		if got, ok := metricstest.Value(fams, "fpexport_untrusted_callbacks_not_stored_total", "reason", reason); !ok || got != want {
			t.Errorf("fpexport_untrusted_callbacks_not_stored_total{reason=%s} = %v (found %v), want %v", reason, got, ok, want)
		}
	}
	// A second Metrics has its own.
	if got, ok := metricstest.Value(scrape(t, New().Handler()), "fpexport_untrusted_callbacks_not_stored_total", "reason", "rate_limited"); ok {
		t.Errorf("a new Metrics already counts %v", got)
	}
}
