package orderstate

import "testing"

// TestAllowedEveryPair pins the whole table, every from × to × actor,
// against the moves written out once more by hand: a change to the table is
// a deliberate change to this test.
func TestAllowedEveryPair(t *testing.T) {
	t.Parallel()
	type key struct {
		from, to Status
		by       Actor
	}
	want := map[key]bool{}
	allow := func(by Actor, from []Status, to ...Status) {
		for _, f := range from {
			for _, s := range to {
				want[key{f, s, by}] = true
			}
		}
	}
	pre := []Status{Queued, Submitting, Submitted, ProviderRejected, InvalidPayload, NeedsReview, Failed, Withdrawn}
	allow(FP, pre, Sent, Reserved, PaymentFailed, Paid, PartlyRefunded, Refunded, Cancelled, Expired)
	allow(FP, []Status{Sent}, Reserved, PaymentFailed, Paid, PartlyRefunded, Refunded, Cancelled, Expired)
	allow(FP, []Status{Reserved}, PaymentFailed, Paid, PartlyRefunded, Refunded, Cancelled, Expired)
	allow(FP, []Status{PaymentFailed}, Reserved, Paid, Cancelled, Expired)
	allow(FP, []Status{Paid}, PartlyRefunded, Refunded)
	allow(FP, []Status{CancelRequested}, Cancelled, PaymentFailed, Paid, PartlyRefunded, Refunded, Expired)
	allow(FP, []Status{PartlyRefunded}, PartlyRefunded, Refunded)
	// FP's late word: FP's moves without those that go both ways
	// (reserved ↔ payment_failed, partially_refunded → itself).
	allow(FPLate, pre, Sent, Reserved, PaymentFailed, Paid, PartlyRefunded, Refunded, Cancelled, Expired)
	allow(FPLate, []Status{Sent}, Reserved, PaymentFailed, Paid, PartlyRefunded, Refunded, Cancelled, Expired)
	allow(FPLate, []Status{Reserved}, Paid, PartlyRefunded, Refunded, Cancelled, Expired)
	allow(FPLate, []Status{PaymentFailed}, Paid, Cancelled, Expired)
	allow(FPLate, []Status{Paid}, PartlyRefunded, Refunded)
	allow(FPLate, []Status{CancelRequested}, Cancelled, PaymentFailed, Paid, PartlyRefunded, Refunded, Expired)
	allow(FPLate, []Status{PartlyRefunded}, Refunded)
	allow(SubmitJob, []Status{Queued, Submitting}, Queued, Submitting, Submitted, ProviderRejected, InvalidPayload, NeedsReview, Failed)
	allow(Person, []Status{NeedsReview}, Queued, Submitted)
	allow(Person, []Status{Failed}, Queued)
	allow(Person, []Status{Submitted, Sent, Reserved, PaymentFailed}, CancelRequested)
	allow(Person, []Status{Queued, Failed, ProviderRejected, InvalidPayload}, Withdrawn)
	allow(Import, []Status{Queued, ProviderRejected, InvalidPayload, Failed, Withdrawn, Submitted, Sent}, Queued)

	// Every actor the table knows is walked, and no other.
	if len(Actors) != 5 {
		t.Errorf("Actors = %v: a new actor needs its moves written out here", Actors)
	}
	n := 0
	for _, by := range Actors {
		for _, from := range All {
			for _, to := range All {
				w := want[key{from, to, by}]
				if got := Allowed(from, to, by); got != w {
					t.Errorf("Allowed(%s → %s by %s) = %v, want %v", from, to, by, got, w)
				}
				if w {
					n++
				}
			}
		}
	}
	if n != len(want) {
		t.Errorf("the expected moves name a state or actor not in All/Actors: %d of %d checked", n, len(want))
	}
}

// TestOnlyOursMoveBeforeFP: queued, submitting and submitted are ours;
// FP's word never sets them, and nobody but FP sets FP's states.
func TestOnlyOursMoveBeforeFP(t *testing.T) {
	t.Parallel()
	for _, from := range All {
		for _, to := range []Status{Queued, Submitting, Submitted} {
			if Allowed(from, to, FP) || Allowed(from, to, FPLate) {
				t.Errorf("FP's word may move %s to %s", from, to)
			}
		}
		for _, to := range fpStates {
			for _, by := range Actors {
				if by != FP && by != FPLate && Allowed(from, to, by) {
					t.Errorf("%s may move %s to FP's state %s", by, from, to)
				}
			}
		}
	}
}

func TestFrom(t *testing.T) {
	t.Parallel()
	got := From(Submitted, SubmitJob)
	if len(got) != 2 || got[0] != Queued || got[1] != Submitting {
		t.Errorf("From(submitted, submit job) = %v, want [queued submitting]", got)
	}
}
