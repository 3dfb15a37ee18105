package orders

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// move is one change of an order's status, as the table names it (by, to),
// with its event and whatever else the move writes. Every status write of
// the package is a move, and stmt is the one place that writes it.
//
// The statement's parameters are named (@name). The door's own: @id (the
// order), @to, @from (the states the table lets by move to to), @event,
// @attempt, @detail. A move's fragments may use them and add their own in
// args.
type move struct {
	by      orderstate.Actor
	to      orderstate.Status // "": FP's word names no state of ours (always only)
	event   string            // order_events.type; "": none (a test's bare move)
	attempt int               // 0: none
	detail  map[string]any
	// set adds columns to the update: ", col = @name, …". In it orders.*
	// is the row before the move, so `orders.status = ANY(@from)` says
	// whether the status moves.
	set  string
	args pgx.NamedArgs

	// always writes set and the event even when the status may not move
	// (it stays): the submit job recording FP's acceptance after FP's
	// callback moved the order on, and FP's word, which is stored whether or
	// not it moves anything.
	always bool
	// restamp sets status_at to now() even when the status stays (a new
	// attempt, a new version, FP's word again); otherwise it keeps the time
	// the order entered its status.
	restamp bool

	// For a move fused with other rows into one statement (the submit hot
	// path) or made on many orders at once (an import):
	//
	// with: CTEs written before the move, each followed by a comma. They
	// are written whether or not the update finds the order, so a row they
	// write must depend on the move being allowed (they read @from), unless
	// the move is always.
	with string
	// from: the update's FROM list; the move is made only with its rows.
	from string
	// target: which orders move; default the one order @id.
	target string
	// returning: more columns of the CTE moved (one row per order moved).
	returning string
	// evStatus, evAttempt, evDetail: SQL for the event's columns, reading
	// moved; default @to, @attempt, @detail.
	evStatus, evAttempt, evDetail string
	// result: the statement's final SELECT; default whether the order moved
	// (or, with always, was written).
	result string
}

// stmt is the move's one statement: the status update, guarded by the
// states the table lets m.by move from, and the move's event, with m's
// other parts. It refuses a move the table has no row for.
func (m move) stmt(orderID int64) (string, []any, error) {
	from := orderstate.From(m.to, m.by)
	if len(from) == 0 && !(m.always && m.to == "") {
		return "", nil, fmt.Errorf("no move to %q by %s in the transition table", m.to, m.by)
	}
	if m.detail == nil {
		m.detail = map[string]any{}
	}
	args := pgx.NamedArgs{"id": orderID, "to": string(m.to), "from": statuses(from),
		"event": m.event, "attempt": m.attempt, "detail": m.detail}
	for k, v := range m.args {
		args[k] = v
	}
	moves := `orders.status = ANY(@from::text[])`
	status, stamp, guard := `@to::text`, `CASE WHEN orders.status = @to::text THEN orders.status_at ELSE now() END`, ` AND `+moves
	if m.restamp {
		stamp = `now()`
	}
	if m.always {
		status = `CASE WHEN ` + moves + ` THEN @to::text ELSE orders.status END`
		stamp = `CASE WHEN ` + moves + ` THEN ` + stamp + ` ELSE orders.status_at END`
		guard = ``
	}
	target, join := or(m.target, `orders.id = @id`), ``
	if m.from != "" {
		join = `
			FROM ` + m.from
	}
	var b strings.Builder
	b.WriteString(`WITH ` + m.with + `
		moved AS (
			UPDATE orders SET status = ` + status + `, status_at = ` + stamp + `, updated_at = now()` + m.set + join + `
			WHERE ` + target + guard + `
			RETURNING orders.id` + m.returning + `
		)`)
	if m.event != "" {
		b.WriteString(`, event AS (
			INSERT INTO order_events (order_id, type, status, attempt, detail)
			SELECT moved.id, @event, ` + or(m.evStatus, `nullif(@to::text, '')`) + `, ` +
			or(m.evAttempt, `nullif(@attempt::int, 0)`) + `, ` + or(m.evDetail, `@detail::jsonb`) + ` FROM moved
		)`)
	}
	b.WriteString(`
		` + or(m.result, `SELECT EXISTS (SELECT 1 FROM moved)`))
	return positional(b.String(), args)
}

// door makes a move on one order and reports whether it moved (with
// always: whether the order was written). It reports false, writing
// nothing, when the order is in a state the move does not start from: a
// newer word (FP's callback, a person) came first.
func door(ctx context.Context, db store.DB, orderID int64, m move) (bool, error) {
	sql, args, err := m.stmt(orderID)
	if err != nil {
		return false, err
	}
	var applied bool
	if err := db.QueryRow(ctx, sql, args...).Scan(&applied); err != nil {
		return false, fmt.Errorf("moving order %d to %s: %w", orderID, m.to, err)
	}
	return applied, nil
}

var paramName = regexp.MustCompile(`@([A-Za-z_][A-Za-z0-9_]*)`)

// shape is a move's statement with its @names numbered ($1, $2, …) in
// the order of names.
type shape struct {
	sql   string
	names []string
}

// shapes holds each statement's shape, by its text with @names: a move
// builds the same text every time, and the hot path should not parse it
// again for each order.
var shapes sync.Map

// positional numbers the statement's @names and takes their arguments in
// that order (a move's SQL uses @ for nothing else). It fails on a name
// with no argument (a typo would otherwise bind NULL).
func positional(sql string, args pgx.NamedArgs) (string, []any, error) {
	v, ok := shapes.Load(sql)
	if !ok {
		var sh shape
		number := map[string]int{}
		sh.sql = paramName.ReplaceAllStringFunc(sql, func(p string) string {
			n, ok := number[p[1:]]
			if !ok {
				sh.names = append(sh.names, p[1:])
				n = len(sh.names)
				number[p[1:]] = n
			}
			return "$" + strconv.Itoa(n)
		})
		v, _ = shapes.LoadOrStore(sql, sh)
	}
	sh := v.(shape)
	out := make([]any, len(sh.names))
	for i, name := range sh.names {
		a, ok := args[name]
		if !ok {
			return "", nil, fmt.Errorf("move statement names @%s, which has no argument", name)
		}
		out[i] = a
	}
	return sh.sql, out, nil
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

// statuses turns states into the text[] a statement takes.
func statuses(ss []orderstate.Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
