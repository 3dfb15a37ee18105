package jobs

import "testing"

// FP's answer bears out a keyless callback when it is the same status, or
// one FP may have moved on to from it; never one FP would have to move back
// from, nor one we cannot place.
func TestBornOut(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		claimed, fpNow string
		want           bool
	}{
		{"PAID", "PAID", true},
		{"partial  refunded", "PARTIAL REFUNDED", true},
		{"SENT", "PAID", true},     // the customer paid after FP sent it
		{"CAPTURED", "PAID", true}, // both paid
		{"INVOICED", "REMINDER SENT", true},
		{"PAID", "SENT", false},     // the leaked-URL forgery
		{"REFUNDED", "PAID", false}, // a refund FP never made
		{"PAID", "REFUNDED", true},  // paid, then refunded
		{"ON HOLD", "PAID", false},  // unknown claimed status
		{"PAID", "ON HOLD", false},  // unknown answer
		{"CANCELLED", "EXPIRED", false},
	} {
		if got := bornOut(c.claimed, c.fpNow); got != c.want {
			t.Errorf("bornOut(%q, %q) = %v, want %v", c.claimed, c.fpNow, got, c.want)
		}
	}
}
