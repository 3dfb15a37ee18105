package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reasons an item needs a person (AttentionRow.Reason). The first four are
// order statuses.
const (
	AttentionNeedsReview       = "needs_review"
	AttentionProviderRejected  = "provider_rejected"
	AttentionInvalidPayload    = "invalid_payload"
	AttentionFailed            = "failed"
	AttentionPossibleDuplicate = "possible_duplicate"
	AttentionPaymentLinkDue    = "payment_link_overdue"
	AttentionNoWordFromFP      = "no_word_from_fp"
	AttentionRejectedRows      = "rejected_rows"
	AttentionUntrusted         = "untrusted_callbacks"
	AttentionOrphan            = "orphan_callback"
	// AttentionActionUnanswered: a cancel or resend reached FP and its
	// answer was lost (Detail: "cancel" or "resend"); never repeated by
	// itself.
	AttentionActionUnanswered = "action_unanswered"
)

// OrderBrief is what a list shows of one order.
type OrderBrief struct {
	ID          int64
	Kind, Ref   string
	BatchID     int64
	Customer    string
	TotalOre    int64
	Status      string
	FPOrderUUID string
	PaymentURL  string
}

// AttentionRow is one open item. Order is set for the items about one
// order; rejected rows are one item per batch and untrusted callbacks one
// per source and verdict (Count of them), so that a flood of forgeries
// cannot bury the list.
type AttentionRow struct {
	Reason string
	Since  time.Time // when the item began: the status, the due date, the callback
	Detail string    // the last error, the review reason, FP's other id, a verdict
	Order  *OrderBrief
	// BatchID, Source: the batch of rejected rows (Source its file), or the
	// address untrusted and orphan callbacks came from.
	BatchID int64
	Source  string
	Count   int64
}

// AttentionList is every open item, each reason's at most Limit oldest,
// and how many each reason has in all: exactly up to AttentionCountCap, at
// least that many when Capped says so.
type AttentionList struct {
	Rows   []AttentionRow
	Totals map[string]int64
	Capped map[string]bool
}

// AttentionCountCap bounds each reason's count: beyond ten thousand open
// items of one reason the exact number tells a person nothing more, and
// counting them all would cost more than the list itself.
const AttentionCountCap = 10_000

const briefCols = `o.id, o.kind, o.order_ref, o.batch_id, o.customer_name, o.grand_total_ore, o.status,
	coalesce(o.fp_order_uuid, ''), coalesce(o.payment_url, '')`

// noOrder stands for the order's columns in the items that are not about
// one order.
const noOrder = `0::bigint, '', '', 0::bigint, '', 0::bigint, '', '', ''`

// attentionQuery reads one reason: cols are the reason, since, detail, the
// order (briefCols or noOrder), batch, source and count; from is the rest
// up to the ORDER BY, which is order. The named arguments are now,
// stale_seconds (STALE_AFTER), limit and cap.
//
// Each WHERE is the predicate of a partial index of migrations 0005 and
// 0014, written out so that the planner sees the index covers it; the list
// reads the index in its order and stops at the limit.
type attentionQuery struct {
	cols, from, order string
}

func (q attentionQuery) list() string {
	return "SELECT " + q.cols + " " + q.from + " ORDER BY " + q.order + " LIMIT @limit"
}

func (q attentionQuery) count() string {
	return "SELECT count(*) FROM (SELECT 1 " + q.from + " LIMIT @cap) s"
}

var attentionQueries = append(statusQueries(AttentionNeedsReview, AttentionPossibleDuplicate, AttentionFailed,
	AttentionProviderRejected, AttentionInvalidPayload),
	attentionQuery{
		cols: `'` + AttentionPaymentLinkDue + `', order_due_date(o.order_data)::timestamp AT TIME ZONE 'Europe/Oslo', '', ` + briefCols +
			`, 0::bigint, '', 1::bigint`,
		from: `FROM orders o
		WHERE o.kind = 'payment-link' AND o.status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled', 'withdrawn')
			AND order_due_date(o.order_data) < (@now::timestamptz AT TIME ZONE 'Europe/Oslo')::date`,
		order: `order_due_date(o.order_data), o.id`,
	},
	// Submitted to FP STALE_AFTER ago or more, neither final nor back with
	// its submit job, and FP has given no word on it at all: fp_status is
	// set by every callback applied and every status poll answered.
	attentionQuery{
		cols: `'` + AttentionNoWordFromFP + `', o.submitted_at, '', ` + briefCols + `, 0::bigint, '', 1::bigint`,
		from: `FROM orders o
		WHERE o.submitted_at IS NOT NULL AND o.fp_status IS NULL
			AND o.status NOT IN (` + awaitingFPExcluded + `)
			AND o.submitted_at < @now::timestamptz - @stale_seconds * interval '1 second'`,
		order: `o.submitted_at, o.id`,
	},
	// A cancel or resend whose answer was lost, until a person repeats it
	// (a later event of its type) or FP's word settles the order.
	attentionQuery{
		cols: `'` + AttentionActionUnanswered + `', e.at, e.type, ` + briefCols + `, 0::bigint, '', 1::bigint`,
		from: `FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE e.type IN ('cancel', 'resend') AND e.detail ->> 'outcome' = 'ambiguous'
			AND NOT EXISTS (SELECT 1 FROM order_events l WHERE l.order_id = e.order_id AND l.type = e.type AND l.id > e.id)
			AND o.status NOT IN ('cancel_requested', 'paid', 'partially_refunded', 'refunded', 'cancelled', 'expired', 'withdrawn')`,
		order: `e.at, e.id`,
	},
	// A batch's rejected rows (rows, not errors) count until a later import
	// brings their order (open_rejected_rows, migration 0013); one item per
	// batch.
	attentionQuery{
		cols:  `'` + AttentionRejectedRows + `', b.imported_at, '', ` + noOrder + `, b.id, b.source, r.n`,
		from:  `FROM (SELECT batch_id, count(DISTINCT row_no) AS n FROM open_rejected_rows GROUP BY batch_id) r JOIN batches b ON b.id = r.batch_id`,
		order: `b.imported_at, b.id`,
	},
	// raw_query is never read: it holds the callback's token and checksum.
	attentionQuery{
		cols: `'` + AttentionUntrusted + `', min(c.received_at), c.verdict, ` + noOrder + `, 0::bigint, callback_source(c.remote_addr),
			count(*)`,
		from: `FROM callbacks c
		WHERE c.verdict NOT IN ('accepted', 'orphan', 'awaiting_fp')
		GROUP BY c.verdict, callback_source(c.remote_addr)`,
		order: `2`,
	},
	attentionQuery{
		cols: `'` + AttentionOrphan + `', c.received_at, left(c.fp_order_uuid, 64) || ' ' || left(c.fp_status, 64), ` + noOrder +
			`, 0::bigint, c.remote_addr, 1::bigint`,
		from:  `FROM callbacks c WHERE c.verdict = 'orphan'`,
		order: `c.received_at, c.id`,
	},
)

// statusQueries read the orders in a status that waits for a person (and
// those FP may hold twice), one query each with the status written in, so
// that the planner sees orders_attention_idx covers it and reads the index
// from the status's first entry.
func statusQueries(reasons ...string) []attentionQuery {
	var out []attentionQuery
	for _, r := range reasons {
		q := attentionQuery{
			cols:  `'` + r + `', o.status_at, coalesce(o.review_reason, o.last_error, ''), ` + briefCols + `, 0::bigint, '', 1::bigint`,
			from:  `FROM orders o WHERE o.status = '` + r + `'`,
			order: `o.status_at, o.id`,
		}
		if r == AttentionPossibleDuplicate {
			q.cols = `'` + r + `', o.status_at, o.possible_duplicate, ` + briefCols + `, 0::bigint, '', 1::bigint`
			q.from = `FROM orders o WHERE o.possible_duplicate IS NOT NULL AND o.status <> 'cancelled'`
			q.order = `o.status_at, o.id`
		}
		out = append(out, q)
	}
	return out
}

// Attention reads every open item as of now, at most limit of each reason
// (the oldest), with each reason's count.
func Attention(ctx context.Context, db DB, now time.Time, staleAfter time.Duration, limit int) (*AttentionList, error) {
	out := &AttentionList{Totals: map[string]int64{}, Capped: map[string]bool{}}
	args := pgx.NamedArgs{"now": now, "stale_seconds": staleAfter.Seconds(), "limit": limit, "cap": AttentionCountCap + 1}
	for _, q := range attentionQueries {
		rows, err := db.Query(ctx, q.list(), args)
		if err != nil {
			return nil, err
		}
		var reason string
		n := 0
		for rows.Next() {
			var r AttentionRow
			var o OrderBrief
			if err := rows.Scan(&r.Reason, &r.Since, &r.Detail, &o.ID, &o.Kind, &o.Ref, &o.BatchID, &o.Customer, &o.TotalOre,
				&o.Status, &o.FPOrderUUID, &o.PaymentURL, &r.BatchID, &r.Source, &r.Count); err != nil {
				rows.Close()
				return nil, err
			}
			r.Detail = strings.TrimSpace(r.Detail)
			if o.ID != 0 {
				r.Order = &o
			}
			out.Rows = append(out.Rows, r)
			reason = r.Reason
			n++
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if n < limit {
			if n > 0 {
				out.Totals[reason] = int64(n)
			}
			continue
		}
		// A full list: count the rest, up to the cap.
		var total int64
		if err := db.QueryRow(ctx, q.count(), args).Scan(&total); err != nil {
			return nil, err
		}
		out.Totals[reason] = min(total, AttentionCountCap)
		out.Capped[reason] = total > AttentionCountCap
	}
	return out, nil
}
