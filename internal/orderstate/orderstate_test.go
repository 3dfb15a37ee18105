package orderstate

import "testing"

func TestFromFP(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Status{
		"SENT": Sent, "PAID": Paid, "paid": Paid, "PARTIAL  REFUNDED": PartlyRefunded, "CAPTURED": Paid,
		"CHARGED": Paid, "FAILED": PaymentFailed, "CANCELLED": Cancelled, "EXPIRED": Expired,
		"RESERVED": Reserved, "INVOICED": Sent, "REMINDER SENT": Sent, "REFUNDED": Refunded,
	} {
		got, ok := FromFP(in)
		if !ok || got != want {
			t.Errorf("FromFP(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := FromFP("ON HOLD"); ok {
		t.Error("FromFP accepted an unknown status")
	}
}

// TestCanMoveEveryPair pins the whole table: every pair of states, so a
// change to the table is a deliberate change to this test.
func TestCanMoveEveryPair(t *testing.T) {
	t.Parallel()
	allowed := map[[2]Status]bool{}
	for _, from := range []Status{Queued, Submitting, Submitted, ProviderRejected, InvalidPayload, NeedsReview, Failed, Withdrawn} {
		for _, to := range fpStates {
			allowed[[2]Status{from, to}] = true
		}
	}
	for _, p := range [][2]Status{
		{CancelRequested, Cancelled}, {CancelRequested, PaymentFailed}, {CancelRequested, Paid},
		{CancelRequested, PartlyRefunded}, {CancelRequested, Refunded}, {CancelRequested, Expired},
		{Sent, Reserved}, {Sent, PaymentFailed}, {Sent, Paid}, {Sent, PartlyRefunded}, {Sent, Refunded}, {Sent, Cancelled}, {Sent, Expired},
		{Reserved, PaymentFailed}, {Reserved, Paid}, {Reserved, PartlyRefunded}, {Reserved, Refunded}, {Reserved, Cancelled}, {Reserved, Expired},
		{PaymentFailed, Reserved}, {PaymentFailed, Paid}, {PaymentFailed, Cancelled}, {PaymentFailed, Expired},
		{Paid, PartlyRefunded}, {Paid, Refunded},
		{PartlyRefunded, PartlyRefunded}, {PartlyRefunded, Refunded},
	} {
		allowed[p] = true
	}
	for _, from := range All {
		for _, to := range All {
			want := allowed[[2]Status{from, to}]
			if got := CanMove(from, to); got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
	// Never backwards from a final payment state.
	for _, to := range All {
		if CanMove(Paid, to) && to != PartlyRefunded && to != Refunded {
			t.Errorf("paid may move to %s", to)
		}
	}
}

// TestCanMoveLateEveryPair pins what FP's word older than the one applied
// (actor FPLate) may do, every pair: FP's moves except those that go both
// ways (reserved ↔ payment_failed, partially_refunded → itself).
func TestCanMoveLateEveryPair(t *testing.T) {
	t.Parallel()
	twoWay := map[[2]Status]bool{
		{Reserved, PaymentFailed}: true, {PaymentFailed, Reserved}: true, {PartlyRefunded, PartlyRefunded}: true,
	}
	for _, from := range All {
		for _, to := range All {
			want := CanMove(from, to) && !twoWay[[2]Status{from, to}]
			if got := Allowed(from, to, FPLate); got != want {
				t.Errorf("Allowed(%s → %s by FP late) = %v, want %v", from, to, got, want)
			}
		}
	}
}

// TestCanDecideEveryPair pins the operator's review decisions, every pair:
// only an order in needs_review may be decided, and only to queued (send
// again) or submitted (FP has it).
func TestCanDecideEveryPair(t *testing.T) {
	t.Parallel()
	allowed := map[[2]Status]bool{
		{NeedsReview, Queued}:    true,
		{NeedsReview, Submitted}: true,
	}
	for _, from := range All {
		for _, to := range All {
			want := allowed[[2]Status{from, to}]
			if got := CanDecide(from, to); got != want {
				t.Errorf("CanDecide(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
	// FP's word never sends an order back to queued or marks it submitted:
	// those are ours alone.
	for _, from := range All {
		if CanMove(from, Queued) || CanMove(from, Submitted) {
			t.Errorf("FP's word may move %s to queued or submitted", from)
		}
	}
}
