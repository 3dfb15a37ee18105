package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
)

// move is one change of an order's status, as the table names it (by, to),
// with its event and whatever else the move sets on the order.
type move struct {
	by      orderstate.Actor
	to      orderstate.Status
	event   string // order_events.type
	attempt int    // 0: none
	detail  map[string]any
	// set adds columns to the update: ", col = $7, …", its parameters
	// (numbered from $7) in args.
	set  string
	args []any
}

// door writes a move: the order's status, if the table lets m.by move it
// from the status it has (the order is locked by the statement itself), and
// the move's event, in one statement. It reports false, writing nothing,
// when the order is in a state the move does not start from: a newer word
// (FP's callback, a person) came first.
func door(ctx context.Context, tx pgx.Tx, orderID int64, m move) (bool, error) {
	from := orderstate.From(m.to, m.by)
	if len(from) == 0 {
		return false, fmt.Errorf("no move to %s by %s in the transition table", m.to, m.by)
	}
	if m.detail == nil {
		m.detail = map[string]any{}
	}
	args := append([]any{orderID, string(m.to), statuses(from), m.event, m.attempt, m.detail}, m.args...)
	var applied bool
	err := tx.QueryRow(ctx, `WITH o AS (
			UPDATE orders SET status = $2::text,
				status_at = CASE WHEN status = $2::text THEN status_at ELSE now() END,
				updated_at = now()`+m.set+`
			WHERE id = $1 AND status = ANY($3::text[]) RETURNING id
		), e AS (
			INSERT INTO order_events (order_id, type, status, attempt, detail)
			SELECT id, $4, $2::text, nullif($5::int, 0), $6::jsonb FROM o
		)
		SELECT EXISTS (SELECT 1 FROM o)`, args...).Scan(&applied)
	if err != nil {
		return false, fmt.Errorf("moving order %d to %s: %w", orderID, m.to, err)
	}
	return applied, nil
}

// mustAllow refuses a move the table does not allow from a state known in
// Go (the statements that fuse a move with other rows).
func mustAllow(from, to orderstate.Status, by orderstate.Actor) error {
	if !orderstate.Allowed(from, to, by) {
		return fmt.Errorf("%s may not move an order from %s to %s (transition table)", by, from, to)
	}
	return nil
}

// statuses turns states into the text[] a statement takes.
func statuses(ss []orderstate.Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
