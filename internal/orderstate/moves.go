package orderstate

import "slices"

// Actor is who makes a move: the table allows each move to some of them.
type Actor string

const (
	// FP: FP's word on the order, a callback or the answer to a status poll.
	FP Actor = "fp"
	// FPLate: FP's word older (by FP's createdAt, then by arrival) than
	// one already applied. It has no rows of its own: it may make FP's
	// moves that only go forward, those whose reverse FP may not make. A
	// late SENT after an unknown status still says FP sent it; a late
	// RESERVED must not undo a newer FAILED (reserved and payment_failed
	// move both ways), nor a late PARTIAL REFUNDED repeat itself.
	FPLate Actor = "fp_late"
	// SubmitJob: the submit job starting an attempt and recording what
	// became of it.
	SubmitJob Actor = "submit_job"
	// Person: an operator's decision: `worker review`, `worker retry`,
	// `worker cancel`, `worker withdraw`.
	Person Actor = "person"
	// Import: a re-import that changed an order queues it to be sent again
	// (a new order is inserted queued: the column's default, not a move).
	Import Actor = "import"
)

// Actors lists every actor (the table test walks them all).
var Actors = []Actor{FP, FPLate, SubmitJob, Person, Import}

// beforeFP are the states FP has not spoken about yet. A withdrawn order
// is among them: FP's word on it proves FP has it after all, as for a
// failed one.
var beforeFP = []Status{Queued, Submitting, Submitted, ProviderRejected, InvalidPayload, NeedsReview, Failed, Withdrawn}

// move is one row of the table: by may move an order from any of from to
// any of to.
type move struct {
	by   Actor
	from []Status
	to   []Status
}

// table is the one transition table: every change of an order's status is
// one of its rows (internal/orders checks each against it).
var table = []move{
	// FP's word. Status never moves backwards on it: a late or replayed
	// callback that would undo a later state is recorded and ignored.
	// Before FP has spoken any FP state is accepted: FP's callback proves
	// FP has the order, whatever we believed (this is how a lost answer is
	// found).
	{FP, beforeFP, fpStates},
	{FP, []Status{Sent}, []Status{Reserved, PaymentFailed, Paid, PartlyRefunded, Refunded, Cancelled, Expired}},
	{FP, []Status{Reserved}, []Status{PaymentFailed, Paid, PartlyRefunded, Refunded, Cancelled, Expired}},
	{FP, []Status{PaymentFailed}, []Status{Reserved, Paid, Cancelled, Expired}},
	{FP, []Status{Paid}, []Status{PartlyRefunded, Refunded}},
	// After a cancel FP accepted: its CANCELLED settles it, or the payment
	// (or expiry) won the race with the cancel and FP's word stands.
	{FP, []Status{CancelRequested}, []Status{Cancelled, PaymentFailed, Paid, PartlyRefunded, Refunded, Expired}},
	{FP, []Status{PartlyRefunded}, []Status{PartlyRefunded, Refunded}},

	// The submit job, on an order still being submitted: an attempt starts
	// (submitting; again from submitting for a kind that may be resent),
	// FP accepts (submitted), refuses (provider_rejected), the outcome is
	// unknown (needs_review), attempts run out (failed), or the attempt
	// ends unsent or retryable and the order waits for the next run
	// (queued). Once FP's word or a person moved the order on, the job's
	// verdict is dropped: it has no row from any later state.
	{SubmitJob, []Status{Queued, Submitting}, []Status{Queued, Submitting, Submitted, ProviderRejected, InvalidPayload, NeedsReview, Failed}},

	// A person. Out of needs_review (`worker review`): no order found at
	// FP, or found and to be updated → queued (a step backwards, allowed
	// only because a human has looked); found at FP → submitted (FP's
	// callbacks take it on). Out of failed (`worker retry`): every attempt
	// ended before FP created anything, so it may be sent once more.
	{Person, []Status{NeedsReview}, []Status{Queued, Submitted}},
	{Person, []Status{Failed}, []Status{Queued}},
	// `worker cancel` once FP accepted the cancel (202): FP has the order
	// and has not settled it. Not from submitting (a request may be in
	// flight) nor needs_review (`worker review` decides first).
	{Person, []Status{Submitted, Sent, Reserved, PaymentFailed}, []Status{CancelRequested}},
	// `worker withdraw` (or cancel) on an order FP has not got: nothing is
	// sent; the submit job finds it withdrawn and ends.
	{Person, []Status{Queued, Failed, ProviderRejected, InvalidPayload}, []Status{Withdrawn}},

	// A re-import with changed data, while a change is still safe: before
	// it was sent, after FP refused it, it could not be built, it failed or
	// was withdrawn, or once FP has it (the
	// next request carries fpgoUuid and updates FP's order).
	{Import, []Status{Queued, ProviderRejected, InvalidPayload, Failed, Withdrawn, Submitted, Sent}, []Status{Queued}},
}

// Allowed reports whether by may move an order from one state to another.
func Allowed(from, to Status, by Actor) bool {
	if by == FPLate {
		return Allowed(from, to, FP) && !Allowed(to, from, FP)
	}
	for _, m := range table {
		if m.by == by && slices.Contains(m.from, from) && slices.Contains(m.to, to) {
			return true
		}
	}
	return false
}

// From lists the states by may move an order to to, in lifecycle order (a
// statement's WHERE status = ANY(...) takes it).
func From(to Status, by Actor) []Status {
	var out []Status
	for _, s := range All {
		if Allowed(s, to, by) {
			out = append(out, s)
		}
	}
	return out
}
