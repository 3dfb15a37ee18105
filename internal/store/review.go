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

// Reviewed is an order locked for a person's decision.
type Reviewed struct {
	OrderRef
	Status            orderstate.Status
	FPOrderUUID       string
	PossibleDuplicate string
	ReviewReason      string
	LastError         string
	Version           int
}

// LockForDecision locks the order for a person's decision
// (internal/orders checks the move against the transition table): a
// concurrent decision waits for the lock and then finds the order already
// decided.
func LockForDecision(ctx context.Context, tx pgx.Tx, id int64) (*Reviewed, error) {
	var o Reviewed
	err := tx.QueryRow(ctx, `SELECT id, kind, order_ref, status, coalesce(fp_order_uuid, ''), coalesce(possible_duplicate, ''),
			coalesce(review_reason, ''), coalesce(last_error, ''), version
		FROM orders WHERE id = $1 FOR NO KEY UPDATE`, id).
		Scan(&o.ID, &o.Kind, &o.Ref, &o.Status, &o.FPOrderUUID, &o.PossibleDuplicate, &o.ReviewReason, &o.LastError, &o.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("order %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// CheckFPOrderFree refuses an FP order id that another of our orders holds:
// updating or claiming it would mix two orders up (most likely a typo).
func CheckFPOrderFree(ctx context.Context, tx pgx.Tx, o *Reviewed, uuid string) error {
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

// CloseOpenAttempts settles an attempt still without outcome: the operator
// has looked at what it did, and the next submit job must not take it for a
// request sent but unanswered (that would put the order back in review).
func CloseOpenAttempts(ctx context.Context, tx pgx.Tx, orderID int64) error {
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

// Resubmitted is what orders.ResubmitReviewed did.
type Resubmitted struct {
	Order    OrderRef
	Version  int    // the order's new version: the submit job's unique key
	FpgoUUID string // the FP order updated; "" for a new FP order
}
