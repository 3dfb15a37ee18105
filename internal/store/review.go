package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
)

// ReviewItem is an order in needs_review with what an operator needs to
// decide it: the order, why it waits, and the last attempt's evidence.
type ReviewItem struct {
	ID                int64
	Kind              string
	Ref               string
	Source            string
	SourceRow         int
	CustomerName      string
	GrandTotalOre     int64
	StatusAt          time.Time
	ReviewReason      string
	Attempts          int
	FPOrderUUID       string
	PossibleDuplicate string
	LastAttempt       *AttemptEvidence // nil when the order has no attempt
}

// AttemptEvidence is what one submit attempt left behind.
type AttemptEvidence struct {
	Attempt    int
	StartedAt  time.Time
	FinishedAt *time.Time
	Outcome    string // "" when no outcome was recorded
	HTTPStatus int    // 0 when FP (or a gateway) never answered
	Message    string
	FpgoUUID   string // the fpgoUuid the request carried
}

// ListNeedsReview returns the orders in needs_review, oldest first.
func ListNeedsReview(ctx context.Context, db DB) ([]ReviewItem, error) {
	rows, err := db.Query(ctx, `SELECT o.id, o.kind, o.order_ref, o.source, o.source_row, o.customer_name,
			o.grand_total_ore, o.status_at, coalesce(o.review_reason, ''), o.attempts, coalesce(o.fp_order_uuid, ''),
			coalesce(o.possible_duplicate, ''),
			a.attempt, a.started_at, a.finished_at, coalesce(a.outcome, ''), coalesce(a.http_status, 0),
			coalesce(a.message, ''), coalesce(a.fpgo_uuid, '')
		FROM orders o
		LEFT JOIN LATERAL (SELECT * FROM submit_attempts s WHERE s.order_id = o.id ORDER BY s.attempt DESC LIMIT 1) a ON true
		WHERE o.status = 'needs_review'
		ORDER BY o.status_at, o.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReviewItem
	for rows.Next() {
		var it ReviewItem
		var a AttemptEvidence
		var attempt *int
		var started *time.Time
		if err := rows.Scan(&it.ID, &it.Kind, &it.Ref, &it.Source, &it.SourceRow, &it.CustomerName,
			&it.GrandTotalOre, &it.StatusAt, &it.ReviewReason, &it.Attempts, &it.FPOrderUUID, &it.PossibleDuplicate,
			&attempt, &started, &a.FinishedAt, &a.Outcome, &a.HTTPStatus, &a.Message, &a.FpgoUUID); err != nil {
			return nil, err
		}
		if attempt != nil {
			a.Attempt, a.StartedAt = *attempt, *started
			it.LastAttempt = &a
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// OrderRef names one order for an operator: its id, kind and reference.
type OrderRef struct {
	ID   int64
	Kind string
	Ref  string
}

func (r OrderRef) String() string { return fmt.Sprintf("%d (%s:%s)", r.ID, r.Kind, r.Ref) }

// ResolveOrder finds the order an operator named: its id, `kind:order_ref`,
// or an order_ref that only one order has. A spec that fits more than one
// order (an order_ref of two kinds, or a number that is one order's id and
// another's reference) is refused with the candidates, never guessed: the
// caller is about to decide something about it.
func ResolveOrder(ctx context.Context, db DB, spec string) (OrderRef, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return OrderRef{}, errors.New("no order named")
	}
	var id *int64
	if n, err := strconv.ParseInt(spec, 10, 64); err == nil {
		id = &n
	}
	kind, ref, _ := strings.Cut(spec, ":")
	rows, err := db.Query(ctx, `SELECT id, kind, order_ref FROM orders
		WHERE id = $1 OR (kind = $2 AND order_ref = $3) OR order_ref = $4
		ORDER BY id LIMIT 10`, id, kind, ref, spec)
	if err != nil {
		return OrderRef{}, err
	}
	matches, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OrderRef, error) {
		var r OrderRef
		err := row.Scan(&r.ID, &r.Kind, &r.Ref)
		return r, err
	})
	if err != nil {
		return OrderRef{}, err
	}
	switch len(matches) {
	case 0:
		return OrderRef{}, fmt.Errorf("no order %q (give the order id, kind:order_ref or order_ref): %w", spec, ErrNotFound)
	case 1:
		return matches[0], nil
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = m.String()
	}
	return OrderRef{}, fmt.Errorf("%q fits more than one order: %s; name it as kind:order_ref", spec, strings.Join(names, ", "))
}

// ReviewDecision is who decided and why; it goes into the decision's event.
type ReviewDecision struct {
	By   string
	Note string
}

// NotInReviewError: only an order in needs_review may be decided, and this
// one is not (or no longer: someone else decided it, or FP's callback came).
type NotInReviewError struct {
	Order  OrderRef
	Status orderstate.Status
}

func (e *NotInReviewError) Error() string {
	return fmt.Sprintf("order %s is %s, not needs_review; nothing changed", e.Order, e.Status)
}

// reviewed is an order locked for a review decision.
type reviewed struct {
	OrderRef
	Status            orderstate.Status
	FPOrderUUID       string
	PossibleDuplicate string
	ReviewReason      string
	Version           int
}

// lockForDecision locks the order and checks that the decision may move it
// to `to` (orderstate.CanDecide): a concurrent decision waits for the lock
// and then finds the order already decided.
func lockForDecision(ctx context.Context, tx pgx.Tx, id int64, to orderstate.Status) (*reviewed, error) {
	var o reviewed
	err := tx.QueryRow(ctx, `SELECT id, kind, order_ref, status, coalesce(fp_order_uuid, ''), coalesce(possible_duplicate, ''),
			coalesce(review_reason, ''), version
		FROM orders WHERE id = $1 FOR NO KEY UPDATE`, id).
		Scan(&o.ID, &o.Kind, &o.Ref, &o.Status, &o.FPOrderUUID, &o.PossibleDuplicate, &o.ReviewReason, &o.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("order %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !orderstate.CanDecide(o.Status, to) {
		return nil, &NotInReviewError{Order: o.OrderRef, Status: o.Status}
	}
	return &o, nil
}

// checkFPOrderFree refuses an FP order id that another of our orders holds:
// updating or claiming it would mix two orders up (most likely a typo).
func checkFPOrderFree(ctx context.Context, tx pgx.Tx, o *reviewed, uuid string) error {
	var other OrderRef
	err := tx.QueryRow(ctx, `SELECT id, kind, order_ref FROM orders WHERE fp_order_uuid = $1 AND id <> $2 LIMIT 1`, uuid, o.ID).
		Scan(&other.ID, &other.Kind, &other.Ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("FP order %s belongs to order %s, not to order %s; nothing changed", uuid, other, o.OrderRef)
}

// closeOpenAttempts settles an attempt still without outcome: the operator
// has looked at what it did, and the next submit job must not take it for a
// request sent but unanswered (that would put the order back in review).
func closeOpenAttempts(ctx context.Context, tx pgx.Tx, orderID int64) error {
	_, err := tx.Exec(ctx, `UPDATE submit_attempts SET outcome = 'abandoned', finished_at = now(),
			message = 'closed by an operator''s review decision'
		WHERE order_id = $1 AND outcome IS NULL`, orderID)
	return err
}

// Resubmit is an operator's decision to send a reviewed order again.
type Resubmit struct {
	ReviewDecision
	// FpgoUUID, when set, sends the order as an update of that FP order
	// (the request carries it as fpgoUuid); empty sends a new FP order.
	FpgoUUID string
	// KnownFpgo takes the FP order the order already names: fp_order_uuid,
	// else possible_duplicate. It is an error when it names none.
	KnownFpgo bool
}

// Resubmitted is what ResubmitReviewed did.
type Resubmitted struct {
	Order    OrderRef
	Version  int    // the order's new version: the submit job's unique key
	FpgoUUID string // the FP order updated; "" for a new FP order
}

// ResubmitReviewed moves an order from needs_review back to queued, to be
// sent again, and records the decision as a review_resubmit event. The
// caller inserts the submit job for (Order.ID, Version) in the same
// transaction.
//
// The version goes up by one: submit jobs are unique by (order, version)
// and the version that went to review already had its (completed) job, so
// without a new version River would take the new job for a duplicate.
//
// Without an fpgoUuid the order's fp_order_uuid is cleared (the next answer
// brings FP's new id); the previous one stays in the event.
func ResubmitReviewed(ctx context.Context, tx pgx.Tx, orderID int64, r Resubmit) (*Resubmitted, error) {
	o, err := lockForDecision(ctx, tx, orderID, orderstate.Queued)
	if err != nil {
		return nil, err
	}
	fpgo := r.FpgoUUID
	if r.KnownFpgo {
		fpgo = o.FPOrderUUID
		if fpgo == "" {
			fpgo = o.PossibleDuplicate
		}
		if fpgo == "" {
			return nil, fmt.Errorf("order %s has no known FP order (no fp_order_uuid, no possible_duplicate): give --fpgo-uuid UUID, or resubmit it as a new order; nothing changed", o.OrderRef)
		}
	}
	if fpgo != "" {
		if err := checkFPOrderFree(ctx, tx, o, fpgo); err != nil {
			return nil, err
		}
	}
	if err := closeOpenAttempts(ctx, tx, o.ID); err != nil {
		return nil, err
	}
	// The FP order now named is no longer a "possible duplicate"; the one
	// held before takes its place if it differs.
	var version int
	err = tx.QueryRow(ctx, `UPDATE orders SET status = 'queued', status_at = now(), version = version + 1,
			fp_order_uuid = nullif($2, ''),
			possible_duplicate = CASE WHEN possible_duplicate = $2 THEN nullif(fp_order_uuid, $2) ELSE possible_duplicate END,
			last_error = NULL, review_reason = NULL, updated_at = now()
		WHERE id = $1 RETURNING version`, o.ID, fpgo).Scan(&version)
	if err != nil {
		return nil, fmt.Errorf("resubmitting order %s: %w", o.OrderRef, err)
	}
	detail := reviewDetail(r.ReviewDecision, o)
	detail["fpgo_uuid"] = nullable(fpgo)
	detail["version"] = version
	if err := AddEvent(ctx, tx, o.ID, "review_resubmit", string(orderstate.Queued), 0, detail); err != nil {
		return nil, err
	}
	return &Resubmitted{Order: o.OrderRef, Version: version, FpgoUUID: fpgo}, nil
}

// ConfirmReviewed records an operator's finding that FP has the order as
// orderUUID: the order is submitted with that id (FP's callbacks take it on
// from there), and the decision is a review_confirmed event. Nothing is sent.
func ConfirmReviewed(ctx context.Context, tx pgx.Tx, orderID int64, orderUUID string, d ReviewDecision) (OrderRef, error) {
	o, err := lockForDecision(ctx, tx, orderID, orderstate.Submitted)
	if err != nil {
		return OrderRef{}, err
	}
	if err := checkFPOrderFree(ctx, tx, o, orderUUID); err != nil {
		return OrderRef{}, err
	}
	if err := closeOpenAttempts(ctx, tx, o.ID); err != nil {
		return OrderRef{}, err
	}
	_, err = tx.Exec(ctx, `UPDATE orders SET status = 'submitted', status_at = now(), fp_order_uuid = $2,
			possible_duplicate = CASE WHEN possible_duplicate = $2 THEN nullif(fp_order_uuid, $2) ELSE possible_duplicate END,
			submitted_at = coalesce(submitted_at, now()), last_error = NULL, review_reason = NULL, updated_at = now()
		WHERE id = $1`, o.ID, orderUUID)
	if err != nil {
		return OrderRef{}, fmt.Errorf("confirming order %s: %w", o.OrderRef, err)
	}
	detail := reviewDetail(d, o)
	detail["order_uuid"] = orderUUID
	if err := AddEvent(ctx, tx, o.ID, "review_confirmed", string(orderstate.Submitted), 0, detail); err != nil {
		return OrderRef{}, err
	}
	return o.OrderRef, nil
}

// reviewDetail is what every decision's event records besides its own
// choice: who, why, and what the order held before.
func reviewDetail(d ReviewDecision, o *reviewed) map[string]any {
	return map[string]any{
		"by":                          d.By,
		"note":                        d.Note,
		"previous_fp_order_uuid":      nullable(o.FPOrderUUID),
		"previous_possible_duplicate": nullable(o.PossibleDuplicate),
		"review_reason":               o.ReviewReason,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
