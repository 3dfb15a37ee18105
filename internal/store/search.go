package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MinSearchPart is the shortest text searched for as a part of a
// reference, name or e-mail address: the trigram index (order_search,
// migration 0017) needs three characters; a shorter text matches whole
// references and ids only.
const MinSearchPart = 3

// SearchTailRows bounds the orders a search reads one by one: those of the
// batches IndexSearch has not reached yet, newest first. Reading one costs
// some 3-8 µs (its e-mail address is in json), so 10 000 keep a search well
// inside its 200 ms. The periodic job keeps the tail to the last seconds'
// imports; an order beyond the bound (a large import just committed, or
// the backlog of the first runs after migration 0017) is found by a part
// once it is indexed, and by its whole reference, id, FP order id or batch
// at once.
const SearchTailRows = 10_000

// SearchOrders finds the orders whose reference, customer name or e-mail
// address contains text (case-insensitive; a number only in a reference),
// whose FP order id or reference is text, or whose id or batch is the
// number text is; newest first, at most limit.
func SearchOrders(ctx context.Context, db DB, text string, limit int) ([]OrderBrief, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	var number *int64
	if n, err := strconv.ParseInt(text, 10, 64); err == nil && n > 0 {
		number = &n
	}
	var part *string
	// The index holds one field a line: a text across lines matches none.
	if len([]rune(text)) >= MinSearchPart && !strings.ContainsAny(text, "\n\r") {
		p := "%" + likeEscaper.Replace(text) + "%"
		part = &p
	}
	// A number is a reference, an id or a batch, not a name or an e-mail
	// address (which may hold digits): a match is checked against the
	// order's current values, so a stale index row or another field's
	// digits never show.
	const match = `(o.order_ref ILIKE @part OR (@number::bigint IS NULL
		AND (o.customer_name ILIKE @part OR ((o.order_data -> 'customer') ->> 'email') ILIKE @part)))`
	// Each branch is its own index (trigram on order_search, fp_order_uuid,
	// primary key, batch_id) and keeps only its newest limit: for a text
	// many orders share ("hansen", "@firma.no") the planner walks
	// order_search's primary key backwards and stops early, for a rare one
	// it asks the trigram index. Orders of batches not indexed yet are read
	// from orders, at most SearchTailRows of them. A NULL parameter
	// switches its branch off.
	//
	// A whole reference is looked up under each kind (the unique index is
	// by kind, then reference): the few kinds there are come from that
	// index too, one probe each (a skip scan), rather than from a walk of
	// all of it. As an array, so that the planner knows they are few.
	rows, err := db.Query(ctx, `SELECT `+briefCols+` FROM orders o WHERE o.id IN (
			(SELECT o.id FROM order_search s JOIN orders o ON o.id = s.order_id
				WHERE s.text ILIKE @part AND `+match+` ORDER BY s.order_id DESC LIMIT @limit)
			UNION (SELECT o.id FROM (SELECT id, order_ref, customer_name, order_data FROM orders
					WHERE @part::text IS NOT NULL AND batch_id IN (`+pendingBatches+`) ORDER BY id DESC LIMIT @tail) o
				WHERE `+match+` ORDER BY o.id DESC LIMIT @limit)
			UNION (SELECT id FROM orders WHERE order_ref = @text AND kind = ANY(ARRAY(WITH RECURSIVE kinds AS (
					SELECT min(kind) AS kind FROM orders
					UNION ALL SELECT (SELECT min(kind) FROM orders WHERE kind > kinds.kind) FROM kinds WHERE kinds.kind IS NOT NULL
				) SELECT kind FROM kinds WHERE kind IS NOT NULL)))
			UNION (SELECT id FROM orders WHERE fp_order_uuid = upper(@text) ORDER BY id DESC LIMIT @limit)
			UNION (SELECT id FROM orders WHERE id = @number)
			UNION (SELECT id FROM orders WHERE batch_id = @number ORDER BY id DESC LIMIT @limit))
		ORDER BY o.id DESC LIMIT @limit`, pgx.NamedArgs{"part": part, "text": text, "number": number, "limit": limit,
		"tail": SearchTailRows})
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (OrderBrief, error) {
		var o OrderBrief
		err := row.Scan(&o.ID, &o.Kind, &o.Ref, &o.BatchID, &o.Customer, &o.TotalOre, &o.Status, &o.FPOrderUUID, &o.PaymentURL)
		return o, err
	})
}

// likeEscaper makes a text match itself in LIKE (backslash is the default
// escape character).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// OrderRecord is one order as stored, for its history page.
type OrderRecord struct {
	OrderBrief
	Source            string
	SourceRow         int
	Data              json.RawMessage // order_data: the validated order
	Version, Attempts int
	FPStatus          string
	BankIDURL         string
	LastError         string
	ReviewReason      string
	PossibleDuplicate string
	ImportedAt        time.Time
	StatusAt          time.Time
	SubmittedAt       *time.Time
}

// EventRecord is one row of order_events.
type EventRecord struct {
	At      time.Time
	Type    string
	Status  string
	Attempt int
	Detail  map[string]any
}

// AttemptRecord is one request to FP (submit_attempts) and its answer.
type AttemptRecord struct {
	Attempt, Version int
	FPGoUUID         string
	StartedAt        time.Time
	FinishedAt       *time.Time
	Outcome          string // "" while open
	HTTPStatus       int
	Message          string
}

// CallbackRecord is one callback about the order, trusted or not. Its raw
// query (token, checksum) is never read.
type CallbackRecord struct {
	ReceivedAt  time.Time
	RemoteAddr  string
	FPOrderUUID string
	FPStatus    string
	Verdict     string
	Result      string
}

// OrderHistory is an order with everything recorded about it.
type OrderHistory struct {
	Order     OrderRecord
	Events    []EventRecord
	Attempts  []AttemptRecord
	Callbacks []CallbackRecord
}

// LoadOrderHistory reads order id and its events, attempts and callbacks,
// each oldest first; ErrNotFound when there is no such order.
func LoadOrderHistory(ctx context.Context, db DB, id int64) (*OrderHistory, error) {
	h := &OrderHistory{}
	o := &h.Order
	err := db.QueryRow(ctx, `SELECT `+briefCols+`, o.source, o.source_row, o.order_data::text, o.version, o.attempts,
			coalesce(o.fp_status, ''), coalesce(o.bank_id_url, ''), coalesce(o.last_error, ''), coalesce(o.review_reason, ''),
			coalesce(o.possible_duplicate, ''), o.imported_at, o.status_at, o.submitted_at
		FROM orders o WHERE o.id = $1`, id).Scan(&o.ID, &o.Kind, &o.Ref, &o.BatchID, &o.Customer, &o.TotalOre, &o.Status,
		&o.FPOrderUUID, &o.PaymentURL, &o.Source, &o.SourceRow, &o.Data, &o.Version, &o.Attempts, &o.FPStatus, &o.BankIDURL,
		&o.LastError, &o.ReviewReason, &o.PossibleDuplicate, &o.ImportedAt, &o.StatusAt, &o.SubmittedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT at, type, coalesce(status, ''), coalesce(attempt, 0), detail FROM order_events
		WHERE order_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, err
	}
	if h.Events, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (EventRecord, error) {
		var e EventRecord
		err := row.Scan(&e.At, &e.Type, &e.Status, &e.Attempt, &e.Detail)
		return e, err
	}); err != nil {
		return nil, err
	}
	rows, err = db.Query(ctx, `SELECT attempt, version, coalesce(fpgo_uuid, ''), started_at, finished_at, coalesce(outcome, ''),
			coalesce(http_status, 0), coalesce(message, '')
		FROM submit_attempts WHERE order_id = $1 ORDER BY attempt`, id)
	if err != nil {
		return nil, err
	}
	if h.Attempts, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (AttemptRecord, error) {
		var a AttemptRecord
		err := row.Scan(&a.Attempt, &a.Version, &a.FPGoUUID, &a.StartedAt, &a.FinishedAt, &a.Outcome, &a.HTTPStatus, &a.Message)
		return a, err
	}); err != nil {
		return nil, err
	}
	rows, err = db.Query(ctx, `SELECT received_at, remote_addr, left(fp_order_uuid, 64), left(fp_status, 64), verdict,
			coalesce(result, '')
		FROM callbacks WHERE order_id = $1 ORDER BY received_at, id`, id)
	if err != nil {
		return nil, err
	}
	if h.Callbacks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (CallbackRecord, error) {
		var c CallbackRecord
		err := row.Scan(&c.ReceivedAt, &c.RemoteAddr, &c.FPOrderUUID, &c.FPStatus, &c.Verdict, &c.Result)
		return c, err
	}); err != nil {
		return nil, err
	}
	return h, nil
}
