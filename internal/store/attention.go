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
// and how many each reason has in all.
type AttentionList struct {
	Rows   []AttentionRow
	Totals map[string]int64
}

const briefCols = `o.id, o.kind, o.order_ref, o.batch_id, o.customer_name, o.grand_total_ore, o.status,
	coalesce(o.fp_order_uuid, ''), coalesce(o.payment_url, '')`

// attentionQueries read one reason each: the reason, then since, detail,
// the order (or zeros), batch, source, count, and the reason's total over
// the whole table (count(*) OVER (), taken before the LIMIT), with the
// named arguments now, stale_seconds (STALE_AFTER) and limit.
//
// Each WHERE is the predicate of a partial index of migrations 0005 and
// 0014, written out so the planner sees that the index covers it.
var attentionQueries = append(statusQueries(AttentionNeedsReview, AttentionProviderRejected, AttentionInvalidPayload, AttentionFailed),
	`SELECT '`+AttentionPossibleDuplicate+`', o.status_at, o.possible_duplicate, `+briefCols+`, 0::bigint, '', 1::bigint,
		count(*) OVER ()
	FROM orders o
	WHERE o.possible_duplicate IS NOT NULL AND o.status <> 'cancelled'
	ORDER BY o.status_at, o.id LIMIT @limit`,
	`SELECT '`+AttentionPaymentLinkDue+`', order_due_date(o.order_data)::timestamp AT TIME ZONE 'Europe/Oslo', '', `+briefCols+`,
		0::bigint, '', 1::bigint, count(*) OVER ()
	FROM orders o
	WHERE o.kind = 'payment-link' AND o.status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled')
		AND order_due_date(o.order_data) < (@now::timestamptz AT TIME ZONE 'Europe/Oslo')::date
	ORDER BY order_due_date(o.order_data), o.id LIMIT @limit`,
	// The report's no_callback: submitted, not final, no trusted callback.
	`SELECT '`+AttentionNoWordFromFP+`', o.submitted_at, '', `+briefCols+`, 0::bigint, '', 1::bigint, count(*) OVER ()
	FROM orders o
	WHERE o.submitted_at IS NOT NULL
		AND o.submitted_at < @now::timestamptz - @stale_seconds * interval '1 second'
		AND o.status NOT IN (`+awaitingFPExcluded+`)
		AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.order_id = o.id AND c.verdict = 'accepted')
	ORDER BY o.submitted_at, o.id LIMIT @limit`,
	// Every rejected row of a batch counts until a later import brings the
	// order; one item per batch.
	`SELECT '`+AttentionRejectedRows+`', b.imported_at, '', 0::bigint, '', '', b.id, '', 0::bigint, '', '', '',
		b.id, b.source, r.n, count(*) OVER ()
	FROM (SELECT batch_id, count(*) AS n FROM rejected_rows GROUP BY batch_id) r JOIN batches b ON b.id = r.batch_id
	ORDER BY b.imported_at, b.id LIMIT @limit`,
	// raw_query is never read: it holds the callback's token and checksum.
	`SELECT '`+AttentionUntrusted+`', min(c.received_at), c.verdict, 0::bigint, '', '', 0::bigint, '', 0::bigint, '', '', '',
		0::bigint, callback_source(c.remote_addr), count(*), count(*) OVER ()
	FROM callbacks c
	WHERE c.verdict NOT IN ('accepted', 'orphan', 'awaiting_fp')
	GROUP BY c.verdict, callback_source(c.remote_addr)
	ORDER BY 2 LIMIT @limit`,
	`SELECT '`+AttentionOrphan+`', c.received_at, left(c.fp_order_uuid, 64) || ' ' || left(c.fp_status, 64),
		0::bigint, '', '', 0::bigint, '', 0::bigint, '', '', '', 0::bigint, c.remote_addr, 1::bigint, count(*) OVER ()
	FROM callbacks c
	WHERE c.verdict = 'orphan'
	ORDER BY c.received_at, c.id LIMIT @limit`,
)

// statusQueries read the orders in each status, one query each with the
// status written in, so that the plan uses orders_attention_idx.
func statusQueries(statuses ...string) []string {
	var out []string
	for _, st := range statuses {
		out = append(out, `SELECT o.status, o.status_at, coalesce(o.review_reason, o.last_error, ''), `+briefCols+`,
			0::bigint, '', 1::bigint, count(*) OVER ()
		FROM orders o
		WHERE o.status IN ('needs_review', 'provider_rejected', 'invalid_payload', 'failed') AND o.status = '`+st+`'
		ORDER BY o.status_at, o.id LIMIT @limit`)
	}
	return out
}

// Attention reads every open item as of now, at most limit of each reason
// (the oldest), with each reason's total.
func Attention(ctx context.Context, db DB, now time.Time, staleAfter time.Duration, limit int) (*AttentionList, error) {
	out := &AttentionList{Totals: map[string]int64{}}
	for _, q := range attentionQueries {
		rows, err := db.Query(ctx, q, pgx.NamedArgs{"now": now, "stale_seconds": staleAfter.Seconds(), "limit": limit})
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r AttentionRow
			var o OrderBrief
			var total int64
			if err := rows.Scan(&r.Reason, &r.Since, &r.Detail, &o.ID, &o.Kind, &o.Ref, &o.BatchID, &o.Customer, &o.TotalOre,
				&o.Status, &o.FPOrderUUID, &o.PaymentURL, &r.BatchID, &r.Source, &r.Count, &total); err != nil {
				rows.Close()
				return nil, err
			}
			r.Detail = strings.TrimSpace(r.Detail)
			if o.ID != 0 {
				r.Order = &o
			}
			out.Totals[r.Reason] = total
			out.Rows = append(out.Rows, r)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
