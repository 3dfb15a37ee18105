// Package orderstate names the states an order passes through and decides,
// in one transition table (moves.go), which moves are allowed and who may
// make each: FP's word, the submit job, a person, an import. Status never moves backwards on FP's word: a late
// or replayed callback that would undo a later state is recorded and ignored.
package orderstate

import "strings"

// Status is fpexport's own state of an order.
type Status string

const (
	Queued           Status = "queued"            // imported, waiting for a submit job
	Submitting       Status = "submitting"        // an attempt is (or may be) in flight
	Submitted        Status = "submitted"         // FP answered 2xx
	ProviderRejected Status = "provider_rejected" // FP refused it (417/400): fix and re-import
	// InvalidPayload: our stored order could not be built into a request,
	// so nothing was sent (a bug, or a rule changed since the import). Our
	// fault, not FP's refusal: fix and re-import.
	InvalidPayload Status = "invalid_payload"
	NeedsReview    Status = "needs_review" // a request may have reached FP unanswered
	Failed         Status = "failed"       // every submit attempt failed transiently
	Sent           Status = "sent"         // FP sent it to the customer (SENT, INVOICED, …)
	Reserved       Status = "reserved"     // amount reserved, not yet captured
	Paid           Status = "paid"         // PAID, CAPTURED, CHARGED
	PartlyRefunded Status = "partially_refunded"
	Refunded       Status = "refunded"
	PaymentFailed  Status = "payment_failed" // FP's FAILED: the payer's payment failed
	Cancelled      Status = "cancelled"
	Expired        Status = "expired"
	// CancelRequested: FP accepted a person's cancel (202); the order is
	// cancelled only when FP says CANCELLED (callback or status poll).
	CancelRequested Status = "cancel_requested"
	// Withdrawn: a person stopped an order FP has not got; nothing is sent
	// for this version (a changed version re-imported queues it again).
	Withdrawn Status = "withdrawn"
)

// All lists every status in lifecycle order (reports use this order).
var All = []Status{
	Queued, Submitting, Submitted, ProviderRejected, InvalidPayload, NeedsReview, Failed,
	Sent, Reserved, PaymentFailed, CancelRequested, Paid, PartlyRefunded, Refunded, Cancelled, Expired, Withdrawn,
}

// FromFP maps FP's status (upper case, some with spaces) onto ours. ok is
// false for a status we do not know: the caller keeps FP's text (shown in the
// report) and leaves our status as it is.
func FromFP(fpStatus string) (s Status, ok bool) {
	switch strings.ToUpper(strings.Join(strings.Fields(fpStatus), " ")) {
	case "SENT", "INVOICED", "REMINDER SENT", "SENT TO DEBT COLLECTION", "DEBT COLLECTION":
		return Sent, true
	case "RESERVED":
		return Reserved, true
	case "PAID", "CAPTURED", "CHARGED":
		return Paid, true
	case "PARTIAL REFUNDED", "PARTIALLY REFUNDED":
		return PartlyRefunded, true
	case "REFUNDED":
		return Refunded, true
	case "FAILED":
		return PaymentFailed, true
	case "CANCELLED", "CANCELED":
		return Cancelled, true
	case "EXPIRED":
		return Expired, true
	}
	return "", false
}

// fpStates are the states only FP's word (a callback or a status poll) sets.
var fpStates = []Status{Sent, Reserved, PaymentFailed, Paid, PartlyRefunded, Refunded, Cancelled, Expired}

// CanMove reports whether FP's word may move an order from one state to
// another (the table's FP rows, moves.go).
func CanMove(from, to Status) bool { return Allowed(from, to, FP) }

// CanDecide reports whether an operator's review decision (`worker review`)
// may move an order from one state to another: a person's move out of
// needs_review. A person's other move, failed → queued (`worker retry`), is
// not a review decision.
func CanDecide(from, to Status) bool {
	return from == NeedsReview && Allowed(from, to, Person)
}

// Final reports whether nothing more is expected for the order.
func Final(s Status) bool {
	switch s {
	case Paid, Refunded, Cancelled, Expired, ProviderRejected, InvalidPayload, Failed, Withdrawn:
		return true
	}
	return false
}
