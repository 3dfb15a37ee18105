package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/orderstate"
)

// Callback verdicts: only an accepted callback can move an order.
const (
	VerdictAccepted    = "accepted"
	VerdictBadToken    = "bad_token"
	VerdictBadChecksum = "bad_checksum"
	VerdictMalformed   = "malformed"
	// VerdictOrphan: token and checksum check out, but the order the token
	// names is not in our database (restored from an older backup, say).
	// Authentic, yet nothing to attach it to: a human must look.
	VerdictOrphan = "orphan"
	// Without FP_CHECKSUM_KEY FP's checksum has no secret: anyone holding a
	// callbackUrl can compute it. Such a callback is stored awaiting FP's
	// confirmation and moves nothing itself; the confirm job asks FP and
	// applies FP's answer. One FP confirms becomes accepted; one FP
	// contradicts becomes not_confirmed (untrusted).
	VerdictAwaitingFP   = "awaiting_fp"
	VerdictNotConfirmed = "not_confirmed"
	// VerdictFutureCreatedAt: createdAt more than MaxCreatedAhead ahead of
	// our clock. FP stamps a callback when it sends it; a far-future one
	// would, once applied, outrank every later real callback for ever.
	VerdictFutureCreatedAt = "future_created_at"
)

// MaxCreatedAhead is how far a callback's createdAt may be ahead of our
// clock (clock skew between FP and us) before it is refused.
const MaxCreatedAhead = 5 * time.Minute

// CallbackIn is a callback as it arrived.
type CallbackIn struct {
	RemoteAddr  string
	RawQuery    string
	OrderID     int64 // 0 when the ref could not be read or the token failed
	FPOrderUUID string
	FPStatus    string
	CreatedAt   string
	// Amount is FP's amount parameter as FP wrote it, "" when the callback
	// carried none or one that is not an amount (FP's checksum does not
	// cover it).
	Amount  string
	Verdict string
}

// SaveCallback stores a callback, trusted or not, and returns its id.
func SaveCallback(ctx context.Context, db DB, c CallbackIn) (int64, error) {
	var orderID *int64
	if c.OrderID != 0 {
		orderID = &c.OrderID
	}
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO callbacks (remote_addr, raw_query, order_id, fp_order_uuid, fp_status, created_at, amount, verdict)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		c.RemoteAddr, c.RawQuery, orderID, c.FPOrderUUID, c.FPStatus, c.CreatedAt, c.Amount, c.Verdict).Scan(&id)
	return id, err
}

// SaveCallbacks stores a group of callbacks, trusted or not, in two
// statements, and returns their ids in the group's order. The ids are
// taken from the sequence first and given out in ascending order, so that
// within a group a later arrival has a higher id (ties on createdAt go by
// id). A callback naming an order we do not have loses its order id, and an
// accepted one becomes an orphan: cs is updated in place.
func SaveCallbacks(ctx context.Context, tx pgx.Tx, cs []CallbackIn) ([]int64, error) {
	var refs []int64
	for _, c := range cs {
		if c.OrderID != 0 {
			refs = append(refs, c.OrderID)
		}
	}
	var ids, existing []int64
	err := tx.QueryRow(ctx, `SELECT
			(SELECT array_agg(nextval('callbacks_id_seq')) FROM generate_series(1, $1)),
			(SELECT coalesce(array_agg(id), '{}') FROM orders WHERE id = ANY($2))`, len(cs), refs).Scan(&ids, &existing)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	ours := make(map[int64]bool, len(existing))
	for _, id := range existing {
		ours[id] = true
	}
	cols := struct {
		remote, raw, uuid, status, created, amount, verdict []string
		orderID                                             []*int64
	}{}
	for i := range cs {
		c := &cs[i]
		if c.OrderID != 0 && !ours[c.OrderID] {
			c.OrderID = 0
			if c.Verdict == VerdictAccepted || c.Verdict == VerdictAwaitingFP {
				c.Verdict = VerdictOrphan
			}
		}
		var orderID *int64
		if c.OrderID != 0 {
			orderID = &c.OrderID
		}
		cols.remote = append(cols.remote, c.RemoteAddr)
		cols.raw = append(cols.raw, c.RawQuery)
		cols.orderID = append(cols.orderID, orderID)
		cols.uuid = append(cols.uuid, c.FPOrderUUID)
		cols.status = append(cols.status, c.FPStatus)
		cols.created = append(cols.created, c.CreatedAt)
		cols.amount = append(cols.amount, c.Amount)
		cols.verdict = append(cols.verdict, c.Verdict)
	}
	_, err = tx.Exec(ctx, `INSERT INTO callbacks (id, remote_addr, raw_query, order_id, fp_order_uuid, fp_status, created_at, amount, verdict)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
		ids, cols.remote, cols.raw, cols.orderID, cols.uuid, cols.status, cols.created, cols.amount, cols.verdict)
	return ids, err
}

// Callback is a stored accepted callback.
type Callback struct {
	ID          int64
	OrderID     int64
	FPOrderUUID string
	FPStatus    string
	CreatedAt   string
	Result      string
	// Amount is the amount parameter the callback carried, as FP wrote it
	// ("" none or not an amount): see CallbackIn.Amount.
	Amount string
}

// LockCallback reads a stored callback and locks it until the transaction
// ends: a second run of its job waits, then sees the result the first one
// recorded.
func LockCallback(ctx context.Context, tx pgx.Tx, id int64) (*Callback, error) {
	var c Callback
	var orderID *int64
	var result *string
	err := tx.QueryRow(ctx, `SELECT id, order_id, fp_order_uuid, fp_status, created_at, result, amount
		FROM callbacks WHERE id = $1 FOR NO KEY UPDATE`, id).
		Scan(&c.ID, &orderID, &c.FPOrderUUID, &c.FPStatus, &c.CreatedAt, &result, &c.Amount)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if orderID != nil {
		c.OrderID = *orderID
	}
	if result != nil {
		c.Result = *result
	}
	return &c, err
}

// SetCallbackResult records what applying a callback did.
func SetCallbackResult(ctx context.Context, db DB, id int64, result string) error {
	_, err := db.Exec(ctx, `UPDATE callbacks SET result = $2 WHERE id = $1`, id, result)
	return err
}

// MarkPossibleDuplicate notes a second FP order for one of ours.
func MarkPossibleDuplicate(ctx context.Context, tx pgx.Tx, orderID int64, otherUUID string) error {
	_, err := tx.Exec(ctx, `UPDATE orders SET possible_duplicate = $2, updated_at = now() WHERE id = $1`, orderID, otherUUID)
	return err
}

// RepollOrder is an order whose status FP is asked for again.
type RepollOrder struct {
	ID          int64
	FPOrderUUID string
}

// RepollCandidates returns up to limit orders FP has, in one of statuses,
// that FP has told nothing about for at least after: no status change, no
// callback or status poll applied (a `callback` event) and no unanswered poll
// (a `repoll_not_found` event) since. The longest silent come first.
func RepollCandidates(ctx context.Context, db DB, statuses []orderstate.Status, after time.Duration, limit int) ([]RepollOrder, error) {
	rows, err := db.Query(ctx, `SELECT o.id, o.fp_order_uuid
		FROM orders o
		CROSS JOIN LATERAL (SELECT greatest(o.status_at,
			(SELECT max(e.at) FROM order_events e WHERE e.order_id = o.id AND e.type IN ('callback', 'repoll_not_found'))) AS at) heard
		WHERE o.status = ANY($1) AND o.fp_order_uuid IS NOT NULL
			AND heard.at < now() - $2 * interval '1 second'
		ORDER BY heard.at, o.id
		LIMIT $3`, statuses, after.Seconds(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (RepollOrder, error) {
		var o RepollOrder
		err := row.Scan(&o.ID, &o.FPOrderUUID)
		return o, err
	})
}

// SetLastError notes why an order needs a human without moving its status.
func SetLastError(ctx context.Context, db DB, orderID int64, msg string) error {
	_, err := db.Exec(ctx, `UPDATE orders SET last_error = $2, updated_at = now() WHERE id = $1`, orderID, msg)
	return err
}
